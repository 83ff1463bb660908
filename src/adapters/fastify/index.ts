import type { ServerResponse } from "node:http";
import type {
  FastifyError,
  FastifyInstance,
  FastifyPluginCallback,
  FastifyReply,
  FastifyRequest,
  onRequestHookHandler,
  onSendHookHandler,
} from "fastify";
import { SessionStoreError } from "../../errors.js";
import type { SessionsOptions } from "../../session/options.js";
import { type CommitPlan, mergeVary, planCookieLines } from "../../session/plan.js";
import type { Session } from "../../session/session.js";
import { createSessions, loadSessionNow, type Sessions } from "../../session/sessions.js";
import { holdResponse } from "../kit/hold.js";
import { flashedMessagesOf, flashOptions, type TemplateGlobals, templateGlobals } from "../kit/templates.js";
import {
  asStoreUnavailable,
  RETRY_AFTER_SECONDS,
  STORE_UNAVAILABLE_BODY,
  sendStoreUnavailable,
  storeUnavailableHeaders,
} from "../kit/unavailable.js";
import type { FastifySessionData } from "./types.js";

export interface FastifyAdapterOptions {
  /**
   * Whether the request arrived over HTTPS (decides `Secure` and the `__Host-` prefix when
   * `cookie.secure` is `"auto"`).
   * @default `request.protocol === "https"`: the socket is TLS, or, with Fastify's `trustProxy`,
   *   a trusted proxy said so in `X-Forwarded-Proto`
   */
  isSecure?: (request: FastifyRequest) => boolean;
  /** `Retry-After` seconds sent with a store failure's 503; `false` sends none. @default 5 */
  retryAfter?: number | false;
}

/**
 * What `fastify.register(sessions, options)` takes: the options of `createSessions` (secret,
 * store, cookie, lifetimes…) plus the adapter's own; or an existing core, bare
 * (`register(sessions, core)`) or with adapter options (`register(sessions, { sessions: core, isSecure })`).
 */
export type FastifySessionsOptions =
  | (SessionsOptions<FastifySessionData> & FastifyAdapterOptions)
  | (FastifyAdapterOptions & { sessions: Sessions<FastifySessionData> })
  | Sessions<FastifySessionData>;

/** One registration of the plugin: its core and settings, shared by its hooks (no per-request allocation). */
interface Registration {
  readonly core: Sessions<FastifySessionData>;
  readonly retryAfter: number | false;
}

/**
 * Per-request slot, declared with `decorateRequest` so every request object has the same shape:
 * the registration whose session is loaded and not yet committed, else `null`. Cleared by the
 * first commit, so an error reply's second pass through `onSend` commits nothing twice.
 */
const kPending = Symbol("flagon.pending");
type Internal = FastifyRequest & { [kPending]: Registration | null };

function isSessions(value: object): value is Sessions<FastifySessionData> {
  return typeof (value as Partial<Sessions<FastifySessionData>>).load === "function";
}

function resolveOptions(options: FastifySessionsOptions): {
  core: Sessions<FastifySessionData>;
  owned: boolean;
  adapter: FastifyAdapterOptions;
} {
  if (isSessions(options)) return { core: options, owned: false, adapter: {} };
  if ("sessions" in options) {
    const { sessions: core, ...adapter } = options;
    return { core, owned: false, adapter };
  }
  const { isSecure, retryAfter, ...sessionOptions } = options;
  return {
    core: createSessions<FastifySessionData>(sessionOptions),
    owned: true,
    adapter: { isSecure, retryAfter },
  };
}

function requestIsSecure(request: FastifyRequest): boolean {
  return request.protocol === "https";
}

/** A node:http header value as one comma-joined string. */
function headerText(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  return Array.isArray(value) ? value.join(", ") : String(value);
}

/**
 * Applies a commit plan to a Fastify reply. Fastify keeps its own headers and passes them to
 * `writeHead`, where they replace same-named headers set on `reply.raw`, so the plan goes through
 * `reply.header` (which appends `Set-Cookie` lines) rather than `applyPlanToResponse`.
 */
function applyPlanToReply(reply: FastifyReply, plan: CommitPlan): void {
  if (plan.vary) {
    const merged = mergeVary(headerText(reply.getHeader("vary")), "Cookie");
    if (merged !== undefined) reply.header("vary", merged);
  }
  if (plan.setCookie === undefined && plan.legacyCookies === undefined) return;
  // `reply.header` appends Set-Cookie lines: a chunked session and legacy expiries go as a list.
  reply.header(
    "set-cookie",
    plan.moreCookies === undefined && plan.legacyCookies === undefined
      ? plan.setCookie
      : planCookieLines(plan),
  );
  if (plan.cacheControl !== undefined) reply.header("cache-control", plan.cacheControl);
}

/** Removes every header of a reply whose session could not be committed: the error reply starts clean. */
function clearHeaders(reply: FastifyReply): void {
  for (const name of Object.keys(reply.getHeaders())) reply.removeHeader(name);
}

/** Flask's template globals for `@fastify/view`, which merges `reply.locals` into every render. */
function setTemplateGlobals(reply: FastifyReply, session: Session<FastifySessionData>): void {
  const holder = reply as unknown as { locals?: Record<string, unknown> | null };
  let locals = holder.locals;
  if (locals === undefined || locals === null) {
    locals = {};
    holder.locals = locals;
  }
  locals.session = session;
  locals.get_flashed_messages = flashedMessagesOf(session);
  locals.csrf_token = () => session.csrfToken();
}

/** Reply prototypes already checked for the hijack wrapper (one per encapsulation context). */
const seenReplyPrototypes = new WeakSet<object>();
const patchedHijacks = new WeakSet<object>();

/**
 * `reply.hijack()` hands `reply.raw` to the handler and Fastify runs no `onSend`: the session is
 * then committed the node:http way, by the hold (src/adapters/kit/hold.ts) installed on `reply.raw`
 * when `hijack()` is called. Wraps `hijack` once on the prototype that defines it (Fastify's
 * `Reply.prototype`); replies that never hijack pay nothing.
 */
function watchHijack(reply: FastifyReply): void {
  const first = Object.getPrototypeOf(reply) as object | null;
  if (first === null || seenReplyPrototypes.has(first)) return;
  seenReplyPrototypes.add(first);
  let owner: object | null = first;
  while (owner !== null && !Object.hasOwn(owner, "hijack"))
    owner = Object.getPrototypeOf(owner) as object | null;
  if (owner === null || patchedHijacks.has(owner) || !Object.isExtensible(owner)) return;
  patchedHijacks.add(owner);
  const original = Reflect.get(owner, "hijack") as (this: FastifyReply) => FastifyReply;
  Object.defineProperty(owner, "hijack", {
    configurable: true,
    writable: true,
    value: function hijack(this: FastifyReply): FastifyReply {
      const result = original.call(this);
      holdHijacked(this);
      return result;
    },
  });
}

function holdHijacked(reply: FastifyReply): void {
  const request = reply.request as Internal;
  const registration = request[kPending];
  if (registration === null || registration === undefined) return;
  request[kPending] = null;
  const session = request.session;
  const res = reply.raw as ServerResponse;
  holdResponse(res, {
    prepare: () => registration.core.prepare(session),
    // The hold has removed the handler's headers; Fastify's error handling is out of the loop.
    onError: (error) => {
      reply.log.error({ err: error }, "flagon: the session of a hijacked reply could not be committed");
      if (res.headersSent) {
        res.destroy();
      } else if (error instanceof SessionStoreError) {
        sendStoreUnavailable(res, registration.retryAfter);
      } else {
        res.statusCode = 500;
        res.setHeader("Content-Type", "text/plain; charset=UTF-8");
        res.end("Internal Server Error");
      }
    },
  });
}

function pluginBody(
  fastify: FastifyInstance,
  options: FastifySessionsOptions,
  done: (error?: Error) => void,
): void {
  // A misconfiguration (short secret, a decorator taken) fails registration: `ready()` rejects.
  try {
    install(fastify, options);
  } catch (error) {
    done(error as Error);
    return;
  }
  done();
}

function install(fastify: FastifyInstance, options: FastifySessionsOptions): void {
  const { core, owned, adapter } = resolveOptions(options);
  const isSecure = adapter.isSecure ?? requestIsSecure;
  const registration: Registration = { core, retryAfter: adapter.retryAfter ?? RETRY_AFTER_SECONDS };

  fastify.decorate("sessions", core);
  fastify.decorateRequest("session", null as unknown as Session<FastifySessionData>);
  fastify.decorateRequest(kPending as unknown as string, null);
  // `@fastify/view` declares `reply.locals` only when nobody has; either order of registration works.
  if (!fastify.hasReplyDecorator("locals")) fastify.decorateReply("locals", null);
  if (owned) fastify.addHook("onClose", () => core.close());

  const start = (request: FastifyRequest, reply: FastifyReply, session: Session<FastifySessionData>) => {
    request.session = session;
    (request as Internal)[kPending] = registration;
    setTemplateGlobals(reply, session);
  };
  // The handler never runs with a silently empty session: Fastify's error handling answers 503.
  const refuse = (error: unknown, next: (error?: Error) => void) =>
    next(asStoreUnavailable(error, registration.retryAfter) as Error);

  const onRequest: onRequestHookHandler = (request, reply, next) => {
    watchHijack(reply);
    let loaded: Session<FastifySessionData> | Promise<Session<FastifySessionData>>;
    try {
      loaded = loadSessionNow(core, { headers: request.headers, secure: isSecure(request) });
    } catch (error) {
      refuse(error, next);
      return;
    }
    // A cookie store's session is there at once: the hook finishes without a promise or a microtask.
    if (!(loaded instanceof Promise)) {
      start(request, reply, loaded);
      next();
      return;
    }
    loaded.then(
      (session) => {
        start(request, reply, session);
        next();
      },
      (error: unknown) => refuse(error, next),
    );
  };

  /** A commit that failed: the handler's reply is dropped and the error goes to Fastify's error handling. */
  const failed = (reply: FastifyReply, error: unknown, next: (error: Error) => void) => {
    clearHeaders(reply);
    // The handler's status (a redirect's 302) must not survive into the error reply.
    reply.code(error instanceof SessionStoreError ? 503 : 500);
    next(asStoreUnavailable(error, registration.retryAfter) as Error);
  };

  // onSend runs for every payload (objects, strings, buffers, streams) before the head is written:
  // the store write is finished and the session headers are in the reply before anything is sent.
  const onSend: onSendHookHandler = (request, reply, payload, next) => {
    const internal = request as Internal;
    if (internal[kPending] !== registration) {
      next(null, payload);
      return;
    }
    internal[kPending] = null;
    let plan: CommitPlan;
    try {
      plan = core.prepare(request.session);
    } catch (error) {
      failed(reply, error, next);
      return;
    }
    const write = plan.write;
    if (write === undefined) {
      applyPlanToReply(reply, plan);
      next(null, payload);
      return;
    }
    write().then(
      () => {
        applyPlanToReply(reply, plan);
        next(null, payload);
      },
      (error: unknown) => failed(reply, error, next),
    );
  };

  fastify.addHook("onRequest", onRequest);
  fastify.addHook("onSend", onSend);
}

/**
 * The Fastify 5 plugin: `fastify.register(sessions, options)` gives every request of this scope
 * (and its children) `request.session`, and `fastify.sessions` the core. The session is loaded in
 * `onRequest` and committed in `onSend` (store write finished, `Set-Cookie`/`Vary`/`Cache-Control`
 * in the reply) before the head is written, so a redirect can never race the store. A store
 * failure goes to Fastify's error handling with `statusCode` 503 and `Retry-After`
 * (see `sessionErrorHandler`). `reply.locals` gets Flask's template globals for `@fastify/view`.
 *
 * ```ts
 * const app = Fastify();
 * await app.register(formbody);
 * await app.register(sessions, { secret: process.env.SECRET_KEY, store: sqliteStore({ path: "sessions.db" }) });
 * ```
 */
export const sessions: FastifyPluginCallback<FastifySessionsOptions> = Object.assign(pluginBody, {
  // What fastify-plugin sets: the hooks and decorators apply to the scope that registers the plugin.
  [Symbol.for("skip-override")]: true,
  [Symbol.for("fastify.display-name")]: "flagon",
  [Symbol.for("plugin-meta")]: { name: "flagon", fastify: "5.x" },
}) as unknown as FastifyPluginCallback<FastifySessionsOptions>;

export interface SessionErrorHandlerOptions {
  /** Renders the 503 page (status and headers already set). @default a plain-text "Service Unavailable" */
  render?: (error: SessionStoreError, request: FastifyRequest, reply: FastifyReply) => unknown;
  /** `Retry-After` seconds sent with the 503; `false` sends none. @default 5 */
  retryAfter?: number | false;
}

/**
 * A Fastify error handler for store failures: 503, `Retry-After`, `Cache-Control: no-store` and a
 * plain-text page (or `render`'s). Every other error is thrown on, to the parent scope's handler
 * (Fastify's default at the root). `app.setErrorHandler(sessionErrorHandler())`. Without it,
 * Fastify's default handler still answers 503 with `Retry-After`, as JSON.
 */
export function sessionErrorHandler(
  options: SessionErrorHandlerOptions = {},
): (error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) => unknown {
  const headers = storeUnavailableHeaders(options.retryAfter);
  return (error, request, reply) => {
    if (!(error instanceof SessionStoreError)) throw error;
    reply.code(503).headers(headers);
    if (options.render) return options.render(error, request, reply);
    return reply.type("text/plain; charset=UTF-8").send(STORE_UNAVAILABLE_BODY);
  };
}

export {
  type CsrfOptions,
  type CsrfReason,
  CsrfRejectedError,
  csrfPreHandler,
  csrfProtection,
  type FastifyCsrfErrorHandler,
  type FastifyCsrfOptions,
} from "./csrf.js";
export type { FastifySessionData, GetFlashedMessages, SessionData } from "./types.js";
export type { Session, Sessions, TemplateGlobals };
export { flashOptions, templateGlobals };
