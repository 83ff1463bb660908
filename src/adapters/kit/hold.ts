import { type OutgoingHttpHeader, type OutgoingHttpHeaders, ServerResponse } from "node:http";
import { applyPlanToResponse, type CommitPlan } from "../../session/plan.js";

/**
 * Commit-before-send for node:http responses: the one place flagon intercepts a response, shared
 * by every adapter on node:http (Express today).
 *
 * Session methods only record intent and the commit may be async (a store write), so nothing may
 * reach the socket before the commit has finished, or the browser could follow a redirect
 * before the store holds what the redirect target reads (express-session's most reported bug).
 * At the first `writeHead`/`write`/`end`/`flushHeaders` the commit plan is prepared. Without a
 * store write (a read, the cookie store) its headers are added and the call goes straight out.
 * With one, the call is held, the write runs, the session headers are added, and the held calls
 * are replayed in order; later calls pass straight through.
 *
 * Patched methods are own properties of `res` that call whatever was there before (another
 * middleware's patch included), and they are never restored: a middleware that patched after
 * us keeps its wrapper (express-session's "patched prior/after" cases). Headers given to
 * `writeHead` are applied here with `setHeader`/`appendHeader` semantics instead of being passed
 * on, so header arrays (`[k, v, k, v]` and `[[k, v]]`) keep their duplicates and a handler's own
 * `Set-Cookie` is merged with the session's rather than replacing it (CVE-2025-7339 in on-headers
 * lost headers given as arrays).
 */

export interface HoldOptions {
  /**
   * The session's commit plan (`Sessions.prepare`), asked for once, when the head is first
   * written. May throw (cookie too large): then `onError` runs and nothing is sent.
   */
  prepare: () => CommitPlan;
  /**
   * Called when the plan cannot be made or its write rejects. The held calls are dropped and every
   * header the handler set is removed, so the error response (a 503) starts clean. Also called if
   * replaying a held call throws.
   */
  onError: (error: unknown) => void;
}

type HeldCall =
  | { method: "writeHead"; statusCode: number; reason: string | undefined; headers: HeaderPairs }
  | { method: "write" | "end"; args: unknown[] }
  | { method: "flushHeaders" };

type HeaderPairs = Array<[name: string, value: OutgoingHttpHeader]>;
type Method = (...args: unknown[]) => unknown;

function isChunk(value: unknown): boolean {
  return typeof value === "string" || value instanceof Uint8Array;
}

/** `writeHead`'s headers in any of node's three shapes, as ordered pairs (duplicates kept). */
function headerPairs(headers: unknown): HeaderPairs {
  if (headers === undefined || headers === null) return [];
  if (Array.isArray(headers)) {
    if (headers.length > 0 && Array.isArray(headers[0])) {
      return headers.map((pair: unknown) => {
        if (!Array.isArray(pair) || pair.length !== 2)
          throw new TypeError("writeHead: header pairs must be [name, value]");
        return [String(pair[0]), pair[1] as OutgoingHttpHeader];
      });
    }
    if (headers.length % 2 !== 0) throw new TypeError("writeHead: a flat header array needs an even length");
    const pairs: HeaderPairs = [];
    for (let i = 0; i < headers.length; i += 2)
      pairs.push([String(headers[i]), headers[i + 1] as OutgoingHttpHeader]);
    return pairs;
  }
  if (typeof headers === "object") {
    return Object.entries(headers as OutgoingHttpHeaders).filter(
      (entry): entry is [string, OutgoingHttpHeader] => entry[0] !== "" && entry[1] !== undefined,
    );
  }
  throw new TypeError("writeHead: headers must be an object or an array");
}

/** Headers passed to `writeHead` replace same-named headers set earlier; duplicates among them all stay. */
function applyWriteHeadHeaders(res: ServerResponse, pairs: HeaderPairs): void {
  for (const name of new Set(pairs.map(([name]) => name.toLowerCase()))) res.removeHeader(name);
  for (const [name, value] of pairs)
    res.appendHeader(name, typeof value === "number" ? String(value) : value);
}

function removeAllHeaders(res: ServerResponse): void {
  for (const name of res.getHeaderNames()) res.removeHeader(name);
}

function headersSentError(): Error {
  return Object.assign(new Error("Cannot set headers after they are sent to the client"), {
    code: "ERR_HTTP_HEADERS_SENT",
  });
}

type State = "open" | "holding" | "passing" | "failed";

/** One response's hold: one object per response. */
class Hold {
  state: State = "open";
  readonly held: HeldCall[] = [];
  heldWrite = false;
  heldEnd = false;
  // The status line as it was when the head was (logically) sent; later assignments do not count.
  statusCode = 200;
  statusMessage = "";
  readonly originalWriteHead: Method;
  readonly originalWrite: Method;
  readonly originalEnd: Method;
  readonly originalFlushHeaders: Method;

  constructor(
    readonly res: ServerResponse,
    readonly options: HoldOptions,
    originals: Originals,
    readonly sharedGuards = false,
  ) {
    this.originalWriteHead = originals.writeHead;
    this.originalWrite = originals.write;
    this.originalEnd = originals.end;
    this.originalFlushHeaders = originals.flushHeaders;
  }

  passing(): boolean {
    return this.state === "passing" || this.state === "failed";
  }

  hold(call: HeldCall): void {
    const res = this.res;
    if (this.state === "open") {
      let plan: CommitPlan;
      try {
        plan = this.options.prepare();
      } catch (error) {
        this.state = "failed";
        removeAllHeaders(res);
        this.fail(error);
        return;
      }
      this.statusCode = res.statusCode;
      this.statusMessage = res.statusMessage;
      const write = plan.write;
      if (write === undefined) {
        // Nothing to wait for: add the headers and let this first call through at once.
        this.state = "passing";
        this.held.push(call);
        this.replay(plan, false);
        return;
      }
      this.state = "holding";
      this.held.push(call);
      if (call.method === "end") this.heldEnd = true;
      this.guardHeaders();
      void this.release(plan, write);
      return;
    }
    this.held.push(call);
    if (call.method === "end") this.heldEnd = true;
  }

  /**
   * While held, the response behaves as sent, as node's does once its head is out: `headersSent`
   * is true and changing a header throws ERR_HTTP_HEADERS_SENT (so a double `res.send()` fails in
   * the handler, as it would without flagon, instead of corrupting the held response).
   * Installed only when a response is actually held (a store write is pending): defining
   * accessors on the instance costs microseconds, which the fast path does not pay.
   */
  guardHeaders(): void {
    // Held through a patched prototype: its guards (see `patchPrototype`) already consult `holds`.
    if (this.sharedGuards) return;
    const res = this.res;
    const sentPrototype = Object.getPrototypeOf(res) as object;
    Object.defineProperty(res, "headersSent", {
      configurable: true,
      enumerable: false,
      get: () => this.state === "holding" || (Reflect.get(sentPrototype, "headersSent", res) as boolean),
    });
    for (const name of ["setHeader", "setHeaders", "appendHeader", "removeHeader"] as const) {
      const method = res[name] as unknown as Method | undefined;
      if (typeof method !== "function") continue;
      const hold = this;
      Object.defineProperty(res, name, {
        configurable: true,
        writable: true,
        enumerable: false,
        value(this: ServerResponse, ...args: unknown[]) {
          if (hold.state === "holding") throw headersSentError();
          return method.apply(this, args);
        },
      });
    }
  }

  /**
   * Calls the handler makes once its response is over are dropped: after a held `end`, or after
   * the error response that replaced a failed commit has ended (node would emit an unhandled
   * "write after end" error on `res` for them).
   */
  dropped(): boolean {
    return (this.state === "holding" && this.heldEnd) || (this.state === "failed" && this.res.writableEnded);
  }

  /** Reports an error; a throwing handler must not turn into an unhandled rejection. */
  fail(error: unknown): void {
    try {
      this.options.onError(error);
    } catch (handlerError) {
      this.res.destroy(handlerError instanceof Error ? handlerError : new Error(String(handlerError)));
    }
  }

  async release(plan: CommitPlan, write: () => Promise<void>): Promise<void> {
    try {
      await write();
    } catch (error) {
      this.state = "failed";
      this.held.length = 0;
      removeAllHeaders(this.res);
      this.fail(error);
      return;
    }
    this.state = "passing";
    this.replay(plan, true);
  }

  /**
   * Adds the session headers and replays the held calls, in order. After a hold, the status line
   * the handler had when the head was (logically) sent is restored first; written only when it
   * changed, since `statusCode`/`statusMessage` live on the prototype and an own property costs
   * microseconds on Express's responses.
   */
  replay(plan: CommitPlan, restoreStatus: boolean): void {
    const res = this.res;
    const calls = this.held.splice(0);
    try {
      if (restoreStatus) {
        if (res.statusCode !== this.statusCode) res.statusCode = this.statusCode;
        if (res.statusMessage !== this.statusMessage) res.statusMessage = this.statusMessage;
      }
      const first = calls[0];
      if (first?.method === "writeHead") applyWriteHeadHeaders(res, first.headers);
      applyPlanToResponse(res, plan);
      for (const call of calls) {
        if (call.method === "writeHead") {
          const args = call.reason === undefined ? [call.statusCode] : [call.statusCode, call.reason];
          this.originalWriteHead.apply(res, args);
        } else if (call.method === "flushHeaders") {
          this.originalFlushHeaders.apply(res, []);
        } else if (call.method === "write") {
          this.originalWrite.apply(res, call.args);
        } else {
          this.originalEnd.apply(res, call.args);
        }
      }
    } catch (error) {
      this.fail(error);
      return;
    }
    // Held writes answered `false` (backpressure): tell a waiting writer it may go on, unless
    // the socket itself is full now, in which case node emits "drain" when it empties.
    if (this.heldWrite && !res.writableEnded && !res.writableNeedDrain) res.emit("drain");
  }

  writeHead(target: ServerResponse, args: unknown[]): ServerResponse {
    if (this.passing()) return this.originalWriteHead.apply(target, args) as ServerResponse;
    const statusCode = Number(args[0]);
    if (!Number.isInteger(statusCode) || statusCode < 100 || statusCode > 999) {
      throw new RangeError(`writeHead: invalid status code ${String(args[0])}`);
    }
    // As in node: once the head is (logically) out, it cannot be written again.
    if (this.held.length > 0) throw headersSentError();
    const reason = typeof args[1] === "string" ? args[1] : undefined;
    const headers = headerPairs(reason === undefined ? args[1] : args[2]);
    // Like node, the status is visible on `res` at once (loggers, later middleware).
    this.res.statusCode = statusCode;
    if (reason !== undefined) this.res.statusMessage = reason;
    this.hold({ method: "writeHead", statusCode, reason, headers });
    return this.res;
  }

  write(target: ServerResponse, args: unknown[]): boolean {
    if (this.dropped()) return false;
    if (this.passing()) return this.originalWrite.apply(target, args) as boolean;
    // Validate now: a bad chunk must throw in the handler, not later during the replay.
    if (!isChunk(args[0])) throw new TypeError("write: chunk must be a string or Uint8Array");
    this.heldWrite = true;
    this.hold({ method: "write", args });
    return false;
  }

  end(target: ServerResponse, args: unknown[]): ServerResponse {
    if (this.dropped()) return this.res;
    if (this.passing()) return this.originalEnd.apply(target, args) as ServerResponse;
    const chunk = args[0];
    if (chunk !== undefined && chunk !== null && typeof chunk !== "function" && !isChunk(chunk)) {
      throw new TypeError("end: chunk must be a string or Uint8Array");
    }
    this.hold({ method: "end", args });
    return this.res;
  }

  flushHeaders(target: ServerResponse): void {
    if (this.dropped()) return;
    if (this.passing()) this.originalFlushHeaders.apply(target, []);
    else this.hold({ method: "flushHeaders" });
  }
}

type MethodName = "writeHead" | "write" | "end" | "flushHeaders";
const METHODS: readonly MethodName[] = ["writeHead", "write", "end", "flushHeaders"];
export type Originals = Record<MethodName, Method>;

/** The responses held through a shared prototype (see `sharedOriginals`). */
const holds = new WeakMap<object, Hold>();
/** Prototypes whose four methods consult `holds`: the wrappers installed there, and what they wrap. */
const patchedPrototypes = new WeakMap<object, { wrappers: Originals; originals: Originals }>();

/**
 * The prototype a framework puts between a response and `ServerResponse.prototype` (Express's
 * `express.response`, which every app's and sub-app's `res` inherits from), or `undefined` when
 * `res` is a plain node:http response.
 */
export function frameworkPrototype(target: object, nodePrototype: object): object | undefined {
  let prototype = Object.getPrototypeOf(target) as object | null;
  if (prototype === nodePrototype) return undefined;
  while (prototype !== null) {
    const parent = Object.getPrototypeOf(prototype) as object | null;
    if (parent === nodePrototype) return prototype;
    prototype = parent;
  }
  return undefined;
}

/**
 * Installs, once per framework prototype, wrappers of the four methods that look the response up
 * in `holds` (a response without a hold goes straight to the method it would have used), and
 * answers the functions the holds call. Why not own properties on each `res`: Express gives every
 * response a new prototype (`Object.setPrototypeOf`), after which V8 adds each own property at
 * about 2-3 µs (44 ns on a plain response; docs/performance.md), so four wrappers cost more than
 * the rest of a session read. `undefined` when there is no such prototype, it cannot be extended,
 * or this response's methods were replaced before us (own properties, which the prototype's would
 * never see): then the hold patches the response itself.
 */
function sharedOriginals(res: ServerResponse): Originals | undefined {
  // Express's chain is res → app.response → express.response: look there first (no walk).
  const direct = Object.getPrototypeOf(res) as object | null;
  const grand = direct === null ? null : (Object.getPrototypeOf(direct) as object | null);
  const known = grand === null ? undefined : patchedPrototypes.get(grand);
  if (known !== undefined) return known.originals;
  const prototype = frameworkPrototype(res, ServerResponse.prototype);
  if (prototype === undefined) return undefined;
  const patched = patchedPrototypes.get(prototype) ?? patchResponsePrototype(prototype);
  if (patched === undefined) return undefined;
  // Patched just now, on a response already in flight: methods replaced earlier on this response
  // (own properties) captured the unpatched ones and would bypass the wrappers.
  for (const name of METHODS) if ((res[name] as unknown) !== patched.wrappers[name]) return undefined;
  return patched.originals;
}

/**
 * Installs the hold's wrappers on a framework's response prototype (idempotent). Adapters call it
 * when they are created (Express: `express.response`), before any request, so a middleware that
 * wraps `res.end` on a response wraps the hold's wrapper. `undefined` when the prototype is frozen.
 */
export function patchResponsePrototype(
  prototype: object,
): { wrappers: Originals; originals: Originals } | undefined {
  const existing = patchedPrototypes.get(prototype);
  if (existing !== undefined) return existing;
  if (!Object.isExtensible(prototype)) return undefined;
  const patched = patchPrototype(prototype);
  patchedPrototypes.set(prototype, patched);
  return patched;
}

function patchPrototype(prototype: object): { wrappers: Originals; originals: Originals } {
  const parent = Object.getPrototypeOf(prototype) as Record<MethodName, Method>;
  const wrappers = {} as Originals;
  const originals = {} as Originals;
  for (const name of METHODS) {
    // The prototype's own method if it had one, else the parent's, looked up per call (so a later
    // patch of ServerResponse.prototype, e.g. by an APM agent, still runs).
    const own = Object.hasOwn(prototype, name) ? (Reflect.get(prototype, name) as Method) : undefined;
    const original: Method =
      own ??
      function (this: unknown, ...args: unknown[]) {
        return parent[name].apply(this, args);
      };
    const wrapper = function (this: ServerResponse, ...args: unknown[]): unknown {
      const hold = holds.get(this);
      if (hold === undefined) return original.apply(this, args);
      if (name === "writeHead") return hold.writeHead(this, args);
      if (name === "write") return hold.write(this, args);
      if (name === "end") return hold.end(this, args);
      return hold.flushHeaders(this);
    };
    Object.defineProperty(wrapper, "name", { value: name });
    Object.defineProperty(prototype, name, { value: wrapper, writable: true, configurable: true });
    wrappers[name] = wrapper;
    originals[name] = original;
  }
  // While a response is held it behaves as sent (see `Hold.guardHeaders`): the same guards, once
  // on the prototype, so a held response costs no own properties either.
  for (const name of ["setHeader", "setHeaders", "appendHeader", "removeHeader"] as const) {
    if (typeof (parent as unknown as Record<string, unknown>)[name] !== "function") continue;
    const own = Object.hasOwn(prototype, name) ? (Reflect.get(prototype, name) as Method) : undefined;
    const guarded = function (this: ServerResponse, ...args: unknown[]): unknown {
      if (holds.get(this)?.state === "holding") throw headersSentError();
      const method = own ?? ((parent as unknown as Record<string, Method>)[name] as Method);
      return method.apply(this, args);
    };
    Object.defineProperty(guarded, "name", { value: name });
    Object.defineProperty(prototype, name, { value: guarded, writable: true, configurable: true });
  }
  const sentDescriptor = Object.getOwnPropertyDescriptor(prototype, "headersSent");
  Object.defineProperty(prototype, "headersSent", {
    configurable: true,
    enumerable: false,
    get(this: ServerResponse): boolean {
      if (holds.get(this)?.state === "holding") return true;
      return sentDescriptor?.get !== undefined
        ? (sentDescriptor.get.call(this) as boolean)
        : (Reflect.get(parent, "headersSent", this) as boolean);
    },
  });
  return { wrappers, originals };
}

/** Holds `res` until the session's commit has finished. Call once per response, before the handler runs. */
export function holdResponse(res: ServerResponse, options: HoldOptions): void {
  const shared = sharedOriginals(res);
  if (shared !== undefined) {
    holds.set(res, new Hold(res, options, shared, true));
    return;
  }
  const hold = new Hold(res, options, {
    writeHead: res.writeHead as unknown as Method,
    write: res.write as unknown as Method,
    end: res.end as unknown as Method,
    flushHeaders: res.flushHeaders as unknown as Method,
  });
  res.writeHead = function writeHead(this: ServerResponse, ...args: unknown[]) {
    return hold.writeHead(this, args);
  } as unknown as ServerResponse["writeHead"];
  res.write = function write(this: ServerResponse, ...args: unknown[]) {
    return hold.write(this, args);
  } as unknown as ServerResponse["write"];
  res.end = function end(this: ServerResponse, ...args: unknown[]) {
    return hold.end(this, args);
  } as unknown as ServerResponse["end"];
  res.flushHeaders = function flushHeaders(this: ServerResponse) {
    hold.flushHeaders(this);
  };
}
