/**
 * The part of the store that talks to node-redis: routing, a hard deadline per operation,
 * fail-fast while a connection is down or stalled, and error mapping to SessionStoreError.
 *
 * Why not the client's own timeouts: node-redis drops a command's `timeout`/`abortSignal` once
 * the command is written, so a stalled server (SIGSTOP, socket open) would hang a request
 * forever; MULTI ignores them entirely (measured with node-redis 6). The deadline here covers the
 * whole operation, whatever state the connection is in.
 */
import { SessionStoreError } from "../../errors.js";
import type { LuaScript } from "./scripts.js";
import { keySlot } from "./slot.js";

/** Options node-redis accepts per command; `typeMapping: {}` forces plain string replies. */
export interface RedisSendOptions {
  abortSignal?: AbortSignal;
  typeMapping?: Record<never, never>;
}

/** What the store needs of a node-redis client (`createClient`). */
export interface RedisClientLike {
  readonly isOpen: boolean;
  readonly isReady: boolean;
  readonly options?: { readonly disableOfflineQueue?: boolean } | undefined;
  sendCommand(args: string[], options?: RedisSendOptions): Promise<unknown>;
  on(event: "error", listener: (error: Error) => void): unknown;
  on(event: "ready", listener: () => void): unknown;
  off(event: "error", listener: (error: Error) => void): unknown;
  off(event: "ready", listener: () => void): unknown;
  close(): Promise<unknown>;
  destroy(): void;
}

/** What the store needs of a node-redis cluster (`createCluster`). */
export interface RedisClusterLike {
  readonly isOpen: boolean;
  sendCommand(
    firstKey: string | undefined,
    isReadonly: boolean | undefined,
    args: string[],
    options?: RedisSendOptions,
  ): Promise<unknown>;
  getSlotMaster(
    slot: number,
  ):
    | { readonly address: string; readonly client?: { readonly isOpen: boolean; readonly isReady: boolean } }
    | undefined;
  on(event: "error", listener: (error: Error) => void): unknown;
  off(event: "error", listener: (error: Error) => void): unknown;
  close(): Promise<unknown>;
  destroy(): void;
}

/** Where an operation goes, and whether it may be sent now. */
interface Route {
  /** Identity of the connection that will carry it: one circuit per connection. */
  readonly circuit: string;
  /** ready: send; connecting: wait (within the deadline) for the first connection; down: fail at once. */
  readonly state: "ready" | "connecting" | "down";
}

interface Target {
  /**
   * The client may keep a command queued across a disconnect (its offline queue): such a
   * command needs an abort signal, or it would run long after its deadline. Creating one per
   * command costs about 12 µs of CPU, so it is skipped where it cannot matter.
   */
  readonly queuesOffline: boolean;
  route(key: string): Route;
  send(key: string, args: string[], signal: AbortSignal | undefined): Promise<unknown>;
  /** Resolves when the (first) connection is ready, a connection attempt fails, or `signal` aborts. */
  whenReady(signal: AbortSignal): Promise<void>;
  /** The system error of the last failed connection attempt, until a connection is ready again. */
  connectFailure(): Error | undefined;
  attach(onError: (error: Error) => void): void;
  detach(): void;
  /** Closes gracefully, or destroys after `graceMs`. */
  shutdown(graceMs: number): Promise<void>;
}

const STRING_REPLIES = {} as const;

/** close() waits for pending replies, which a stalled server never sends: destroy after `graceMs`. */
async function closeWithin(
  connection: { close(): Promise<unknown>; destroy(): void },
  graceMs: number,
): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((resolve) => {
    timer = setTimeout(() => resolve("late"), graceMs);
  });
  try {
    if ((await Promise.race([connection.close(), late])) === "late") connection.destroy();
  } finally {
    clearTimeout(timer);
  }
}

function clientTarget(client: RedisClientLike, owned: boolean): Target {
  let everReady = client.isReady;
  let errorListener: ((error: Error) => void) | undefined;
  let connectFailure: Error | undefined;
  /** Requests waiting for the first connection: woken by a failed attempt too, to fail at once. */
  const waiting = new Set<() => void>();
  let markReady: () => void = () => undefined;
  // One shared promise, not one 'ready' listener per waiting request (no listener pile-up).
  const firstReady = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  const onReady = (): void => {
    everReady = true;
    connectFailure = undefined;
    markReady();
  };
  const onError = (error: Error): void => {
    if (!isConnectFailure(error) || client.isReady) return;
    connectFailure = error;
    for (const wake of waiting) wake();
  };
  // A client the store created returns plain strings; someone else's may map replies to Buffers.
  const replyOptions = owned ? undefined : { typeMapping: STRING_REPLIES };
  return {
    queuesOffline: client.options?.disableOfflineQueue !== true,
    route() {
      if (client.isReady) return { circuit: "client", state: "ready" };
      // Not open: never connected, closed, or reconnectStrategy gave up. Open but not ready:
      // either the first connect (worth waiting for) or a reconnect (fail at once: node-redis would queue it).
      if (!client.isOpen || everReady || connectFailure) return { circuit: "client", state: "down" };
      return { circuit: "client", state: "connecting" };
    },
    send(_key, args, signal) {
      return client.sendCommand(args, signal ? { ...replyOptions, abortSignal: signal } : replyOptions);
    },
    whenReady(signal) {
      if (client.isReady || signal.aborted) return Promise.resolve();
      return new Promise((resolve) => {
        const done = (): void => {
          signal.removeEventListener("abort", done);
          waiting.delete(done);
          resolve();
        };
        signal.addEventListener("abort", done, { once: true });
        waiting.add(done);
        void firstReady.then(done);
      });
    },
    connectFailure: () => connectFailure,
    attach(listener) {
      // One listener on the client for both: the store's own (lastError) and the refusal tracking.
      errorListener = (error) => {
        onError(error);
        listener(error);
      };
      client.on("error", errorListener);
      client.on("ready", onReady);
    },
    detach() {
      if (errorListener) client.off("error", errorListener);
      client.off("ready", onReady);
      errorListener = undefined;
    },
    async shutdown(graceMs) {
      if (!client.isOpen) return;
      if (!client.isReady) return client.destroy();
      await closeWithin(client, graceMs);
    },
  };
}

function clusterTarget(cluster: RedisClusterLike): Target {
  let errorListener: ((error: Error) => void) | undefined;
  return {
    queuesOffline: true,
    route(key) {
      if (!cluster.isOpen) return { circuit: "cluster", state: "down" };
      let master: ReturnType<RedisClusterLike["getSlotMaster"]>;
      try {
        master = cluster.getSlotMaster(keySlot(key));
      } catch {
        master = undefined; // slots not discovered yet
      }
      // Unknown master or no client yet: let node-redis route and connect, within the deadline.
      if (!master?.client) return { circuit: master?.address ?? "cluster", state: "ready" };
      if (master.client.isReady) return { circuit: master.address, state: "ready" };
      return { circuit: master.address, state: master.client.isOpen ? "down" : "ready" };
    },
    send(key, args, signal) {
      return cluster.sendCommand(key, false, args, { abortSignal: signal, typeMapping: STRING_REPLIES });
    },
    async whenReady() {},
    connectFailure: () => undefined,
    attach(onError) {
      errorListener = onError;
      cluster.on("error", onError);
    },
    detach() {
      if (errorListener) cluster.off("error", errorListener);
      errorListener = undefined;
    },
    async shutdown(graceMs) {
      if (cluster.isOpen) await closeWithin(cluster, graceMs);
    },
  };
}

/** Socket-level failures to connect: nothing to wait for, the next attempt is a reconnect. */
const CONNECT_FAILURES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
  "ECONNRESET",
]);

function isConnectFailure(error: Error): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && CONNECT_FAILURES.has(code);
}

/** "Redis 127.0.0.1:1 refused the connection (ECONNREFUSED)": where, and the system's word for why. */
function notConnected(failure: Error | undefined, fallback: string): SessionStoreError {
  if (failure === undefined) return new SessionStoreError(fallback);
  const { code, address, port, hostname } = failure as {
    code?: string;
    address?: string;
    port?: number;
    hostname?: string;
  };
  const where = address !== undefined && port !== undefined ? `${address}:${port}` : (hostname ?? "server");
  const why = code === "ECONNREFUSED" ? "refused the connection" : "cannot be reached";
  return new SessionStoreError(`Redis ${where} ${why} (${code ?? failure.message})`, { cause: failure });
}

function isCluster(target: RedisClientLike | RedisClusterLike): target is RedisClusterLike {
  return typeof (target as Partial<RedisClusterLike>).getSlotMaster === "function";
}

/** Redis error replies that mean "not now" (failover, loading, busy) rather than a bug. */
const TRANSIENT_REPLY = /^(CLUSTERDOWN|TRYAGAIN|LOADING|MASTERDOWN|READONLY|BUSY|MOVED|ASK|NOREPLICAS)\b/;

function isErrorReply(error: Error): boolean {
  // node-redis's ErrorReply subclasses; matched by name so a second copy of node-redis works too.
  const name = error.constructor?.name;
  return name === "SimpleError" || name === "BlobError" || name === "ErrorReply";
}

function toStoreError(error: unknown): SessionStoreError {
  if (error instanceof SessionStoreError) return error;
  if (error instanceof Error && isErrorReply(error)) {
    const code = /^\S+/.exec(error.message)?.[0] ?? "ERR";
    return new SessionStoreError(`Redis replied with an error (${code})`, {
      cause: error,
      code: TRANSIENT_REPLY.test(error.message) ? "ERR_STORE_UNAVAILABLE" : "ERR_STORE_FAILED",
    });
  }
  return new SessionStoreError("Redis is unavailable", { cause: error });
}

export interface ConnectionOptions {
  /** Deadline of one store operation, ms. */
  commandTimeout: number;
  /** The store created the client and closes it in close(). */
  owned: boolean;
}

export class RedisConnection {
  readonly #target: Target;
  readonly #timeout: number;
  readonly #owned: boolean;
  /** Operations that passed their deadline while their command was already on the wire. */
  readonly #stalled = new Map<string, number>();
  #closed = false;
  #closing: Promise<void> | undefined;
  /** Last error the client emitted (kept for debugging; never logged with session data). */
  lastError: Error | undefined;

  constructor(target: RedisClientLike | RedisClusterLike, options: ConnectionOptions) {
    this.#target = isCluster(target) ? clusterTarget(target) : clientTarget(target, options.owned);
    this.#timeout = options.commandTimeout;
    this.#owned = options.owned;
    // An 'error' event without a listener would crash the process (EventEmitter semantics).
    this.#target.attach((error) => {
      this.lastError = error;
    });
  }

  /** Runs one Lua script (EVALSHA, EVAL when the server lost its script cache) on `keys`. */
  evalScript(lua: LuaScript, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    const routeKey = keys[0]!;
    return this.#run(routeKey, async (send) => {
      const tail = [String(keys.length), ...keys, ...args];
      try {
        return await send(["EVALSHA", lua.sha1, ...tail]);
      } catch (error) {
        // A restarted or failed-over server has an empty script cache.
        if (error instanceof Error && isErrorReply(error) && error.message.startsWith("NOSCRIPT")) {
          return await send(["EVAL", lua.source, ...tail]);
        }
        throw error;
      }
    });
  }

  /** Runs one plain command whose first key routes it. */
  command(routeKey: string, args: string[]): Promise<unknown> {
    return this.#run(routeKey, async (send) => send(args));
  }

  async #run<T>(
    routeKey: string,
    operation: (send: (args: string[]) => Promise<unknown>) => Promise<T>,
  ): Promise<T> {
    if (this.#closed) throw new SessionStoreError("Redis store is closed");
    const route = this.#target.route(routeKey);
    if (route.state === "down") {
      throw notConnected(this.#target.connectFailure(), "Redis is not connected (reconnecting)");
    }
    if (this.#stalled.has(route.circuit)) {
      // Commands already sent have not been answered: the server is stalled. Adding more to the
      // same connection would only queue behind them; fail now, resume when they settle.
      throw new SessionStoreError("Redis is not answering");
    }

    const connecting = route.state === "connecting";
    const controller = connecting || this.#target.queuesOffline ? new AbortController() : undefined;
    const signal = controller?.signal;
    const send = (args: string[]): Promise<unknown> => this.#target.send(routeKey, args, signal);
    const work = connecting ? this.#afterFirstConnect(signal!, () => operation(send)) : operation(send);

    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        controller?.abort();
        // Queued commands are removed by the abort; a command already written stays pending
        // until the server answers or the socket closes. Until then this connection is stalled.
        this.#stalled.set(route.circuit, (this.#stalled.get(route.circuit) ?? 0) + 1);
        const release = (): void => {
          const left = (this.#stalled.get(route.circuit) ?? 1) - 1;
          if (left > 0) this.#stalled.set(route.circuit, left);
          else this.#stalled.delete(route.circuit);
        };
        work.then(release, release);
        reject(new SessionStoreError(`Redis did not answer within ${this.#timeout} ms`));
      }, this.#timeout);
    });
    try {
      return await Promise.race([work, deadline]);
    } catch (error) {
      throw toStoreError(error);
    } finally {
      // Promise.race has subscribed to both, so the loser's rejection is handled.
      clearTimeout(timer);
    }
  }

  async #afterFirstConnect<T>(signal: AbortSignal, operation: () => Promise<T>): Promise<T> {
    await this.#target.whenReady(signal);
    if (signal.aborted) throw new SessionStoreError("Redis is not connected");
    const failure = this.#target.connectFailure();
    if (failure !== undefined) throw notConnected(failure, "Redis is not connected");
    return operation();
  }

  /** Stops accepting operations; closes the client only if the store created it. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#closed = true;
      if (this.#owned) {
        try {
          await this.#target.shutdown(this.#timeout);
        } catch (error) {
          this.lastError = error instanceof Error ? error : new Error(String(error));
        }
      }
      this.#target.detach();
    })();
    return this.#closing;
  }
}
