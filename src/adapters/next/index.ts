/**
 * flagon for the Next.js App Router (Next 16): `route` wraps a Route Handler, `action` a Server
 * Action, `proxy` is the `proxy.ts` function that takes flash messages out for the page about to
 * render, and `getSession` reads the session in Server Components (read-only). Every write is
 * committed (store write finished, cookie set) before the response, or `redirect()`'s throw, leaves.
 *
 * Next is imported lazily (`import("next/headers.js")`, `import("next/server.js")`): Next's bundler keeps
 * those in the app's own module graph, and without Next installed the error names the package.
 */
import type { NextRequest, NextResponse } from "next/server.js";
import { parseCookies } from "../../cookie/index.js";
import { SessionStoreError } from "../../errors.js";
import { peerError } from "../../peer.js";
import type { SessionsOptions } from "../../session/options.js";
import { applyPlanToHeaders, type CommitPlan } from "../../session/plan.js";
import type { Session, SessionData, SessionShape } from "../../session/session.js";
import { createSessions, type Sessions } from "../../session/sessions.js";
import { applyPlanToFetchResponse } from "../kit/fetch-response.js";
import { asStoreUnavailable, storeUnavailableResponse } from "../kit/unavailable.js";
import { type DeliveredFlashes, FLASH_HEADER, flashCourier, handoffCookieName } from "./flash-header.js";
import { readOnlySession } from "./read-only.js";
import { parseSetCookie } from "./set-cookie.js";

/** Answers a Route Handler or proxy request whose session store failed. */
export type StoreErrorHandler = (error: SessionStoreError, request: Request) => Response | Promise<Response>;

export interface NextAdapterOptions {
  /**
   * The response for a store failure in `route` or `proxy` (on load or on commit): the handler
   * never runs with a silently empty session, and a response whose session was not written is
   * replaced. The proxy also reads a Server Action's session first, so a store that is down answers
   * here. (`action` and `getSession` rethrow the `SessionStoreError`: Next answers its own 500.)
   * @default a plain-text 503 with `Retry-After: 5` and `Cache-Control: no-store`
   */
  onStoreError?: StoreErrorHandler;
  /**
   * Whether the request arrived over HTTPS (decides `Secure` and the `__Host-` prefix when
   * `cookie.secure` is `"auto"`). Route Handlers, Server Actions, Server Components and the proxy
   * must agree, so it reads request headers only.
   * @default `X-Forwarded-Proto` is `https`: Next sets it on every request (from the socket, or
   * keeps a proxy's), and builds `request.url` from it
   */
  isSecure?: (headers: Headers) => boolean;
}

export type NextSessionsOptions<T extends SessionShape<T> = SessionData> = SessionsOptions<T> &
  NextAdapterOptions;

/** A Route Handler as Next calls it: `export const POST = route(...)`. */
export type RouteHandler<C> = (request: NextRequest, context: C) => Promise<Response>;

export interface NextSessions<T extends SessionShape<T> = SessionData> {
  /**
   * Wraps a Route Handler: `export const GET = route(async (request, session, context) => Response)`.
   * The session is committed into the returned Response (its `Set-Cookie`, `Vary: Cookie`,
   * `Cache-Control`), redirects included, whether returned (`NextResponse.redirect`) or thrown
   * (`redirect()` from `next/navigation`). Store failures answer 503.
   */
  route<C = unknown>(
    handler: (request: NextRequest, session: Session<T>, context: C) => Response | Promise<Response>,
  ): RouteHandler<C>;
  /**
   * Wraps a Server Action (`"use server"`): `export const login = action(async (session, form: FormData) => …)`.
   * The session is committed through `cookies()` after the action returns, and before a `redirect()`
   * or `notFound()` it throws propagates, so the page redirected to sees the new session.
   */
  action<A extends unknown[], R>(
    fn: (session: Session<T>, ...args: A) => R | Promise<R>,
  ): (...args: A) => Promise<Awaited<R>>;
  /**
   * The session in a Server Component (or `generateMetadata`), read-only: a write throws
   * `ERR_SESSION_READ_ONLY` (use `route` or `action`). `getFlashedMessages()` returns what the proxy
   * took out for this request.
   */
  getSession(): Promise<Session<T>>;
  /**
   * For `proxy.ts` (`export function proxy(request) { return sessions.proxy(request) }`): on page requests it takes the
   * pending flash messages out of the session and commits before the page renders, then hands them to
   * `getSession()` in a MAC'd request header. Prefetches and non-GET requests consume nothing.
   */
  proxy(request: NextRequest): Promise<Response>;
  /** The core (`close()` it on shutdown; `listUser`, `revoke`…). */
  readonly sessions: Sessions<T>;
}

interface NextHeadersModule {
  cookies(): Promise<{
    getAll(): Array<{ name: string; value: string }>;
    set(cookie: ReturnType<typeof parseSetCookie>): unknown;
  }>;
  headers(): Promise<Headers>;
}

/** Next's lazy modules, resolved once. */
let nextHeaders: Promise<NextHeadersModule> | undefined;
let nextServer: Promise<typeof import("next/server.js")> | undefined;

function loadNextHeaders(): Promise<NextHeadersModule> {
  nextHeaders ??= import("next/headers.js").then(
    (module) => module as unknown as NextHeadersModule,
    (error: unknown) => {
      nextHeaders = undefined;
      throw peerError(error, "flagon/next", "next", "16");
    },
  );
  return nextHeaders;
}

let nextCache: Promise<{ refresh(): void }> | undefined;

function loadNextCache(): Promise<{ refresh(): void }> {
  nextCache ??= import("next/cache.js").catch((error: unknown) => {
    nextCache = undefined;
    throw peerError(error, "flagon/next", "next", "16");
  });
  return nextCache;
}

function loadNextServer(): Promise<typeof import("next/server.js")> {
  nextServer ??= import("next/server.js").catch((error: unknown) => {
    nextServer = undefined;
    throw peerError(error, "flagon/next", "next", "16");
  });
  return nextServer;
}

/** The digest Next gives `redirect()`'s error: `NEXT_REDIRECT;replace;/path;307;`. */
function redirectOf(error: unknown): { url: string; status: number } | undefined {
  const digest = (error as { digest?: unknown } | null)?.digest;
  if (typeof digest !== "string" || !digest.startsWith("NEXT_REDIRECT;")) return undefined;
  const parts = digest.split(";");
  const status = Number(parts.at(-2));
  return { url: parts.slice(2, -2).join(";"), status: Number.isInteger(status) ? status : 307 };
}

/**
 * Next's control-flow errors (`redirect()`, `notFound()`, `forbidden()`, `unauthorized()`): the
 * action finished its work, so its session is committed before they propagate.
 */
function isNavigationError(error: unknown): boolean {
  const digest = (error as { digest?: unknown } | null)?.digest;
  return (
    typeof digest === "string" &&
    (digest.startsWith("NEXT_REDIRECT;") || digest.startsWith("NEXT_HTTP_ERROR_FALLBACK;"))
  );
}

/** Next's `Next-Action` request header: a Server Action called from JavaScript (a form without it posts a page). */
const ACTION_HEADER = "next-action";

/**
 * Whether Next renders the page `redirect(url)` names inside a JavaScript-called action's response
 * (`createRedirectRenderResult` in Next's action handler): a path (`/…`, `./…`) or a URL on the
 * request's own host (`X-Forwarded-Host`, else `Host`, as Next compares them). Anything else is
 * followed by the browser.
 */
function rendersInline(url: string, headers: Headers): boolean {
  if (url.startsWith("/") || url.startsWith(".")) return true;
  const host = headers.get("x-forwarded-host")?.split(",", 1)[0]?.trim() || headers.get("host");
  try {
    return host !== null && new URL(url).host === host;
  } catch {
    return false;
  }
}

/**
 * A Server Action's request, as Next tells them (`getServerActionRequestMetadata`): a POST with
 * `Next-Action` (called from JavaScript) or a multipart form (a form posted without JavaScript).
 */
function isServerAction(request: Request): boolean {
  if (request.method.toUpperCase() !== "POST") return false;
  return (
    request.headers.has(ACTION_HEADER) ||
    (request.headers.get("content-type") ?? "").toLowerCase().startsWith("multipart/form-data")
  );
}

function forwardedHttps(headers: Headers): boolean {
  return headers.get("x-forwarded-proto")?.split(",", 1)[0]?.trim().toLowerCase() === "https";
}

/** Next marks prefetches; a prefetched page is not shown, so its flashes must wait. */
function isPrefetch(headers: Headers): boolean {
  return (
    headers.has("next-router-prefetch") ||
    headers.get("purpose") === "prefetch" ||
    (headers.get("sec-purpose") ?? "").includes("prefetch")
  );
}

/**
 * Sessions for the App Router, created once in a module every route imports:
 *
 * ```ts
 * // lib/session.ts
 * export const { route, action, getSession, proxy } = nextSessions({ secret: process.env.SECRET_KEY, store });
 * ```
 */
export function nextSessions<T extends SessionShape<T> = SessionData>(
  options: NextSessionsOptions<T>,
): NextSessions<T>;
/** Over a core made by `createSessions` (shared with other code, e.g. a job that calls `revokeUser`). */
export function nextSessions<T extends SessionShape<T> = SessionData>(
  core: Sessions<T>,
  options?: NextAdapterOptions,
): NextSessions<T>;
export function nextSessions<T extends SessionShape<T> = SessionData>(
  optionsOrCore: NextSessionsOptions<T> | Sessions<T>,
  adapterOptions: NextAdapterOptions = {},
): NextSessions<T> {
  let core: Sessions<T>;
  let adapter: NextAdapterOptions;
  let secret: string | readonly string[] | undefined;
  if (typeof (optionsOrCore as Partial<Sessions<T>>).load === "function") {
    core = optionsOrCore as Sessions<T>;
    adapter = adapterOptions;
  } else {
    const { onStoreError, isSecure, ...sessionOptions } = optionsOrCore as NextSessionsOptions<T>;
    core = createSessions<T>(sessionOptions);
    adapter = { onStoreError, isSecure };
    secret = sessionOptions.secret;
  }
  const isSecureOption = adapter.isSecure;
  const onStoreError: StoreErrorHandler = adapter.onStoreError ?? (() => storeUnavailableResponse());
  const isSecure = isSecureOption ?? forwardedHttps;
  // Without the secret (a core was given), a per-process key: the proxy and the render share a process.
  const courier = flashCourier(secret);

  function routeIsSecure(request: Request): boolean {
    // Next builds request.url from X-Forwarded-Proto; a Request made by hand (tests) has only its URL.
    return isSecureOption === undefined
      ? request.url.startsWith("https:") || forwardedHttps(request.headers)
      : isSecureOption(request.headers);
  }

  /** The store write, then the plan; `undefined` plan means the store failed with `error`. */
  async function writePlan(
    session: Session<T>,
  ): Promise<{ plan: CommitPlan; error?: undefined } | { plan?: undefined; error: SessionStoreError }> {
    const plan = core.prepare(session);
    if (plan.write !== undefined) {
      try {
        await plan.write();
      } catch (error) {
        if (error instanceof SessionStoreError) return { error };
        throw error;
      }
    }
    return { plan };
  }

  function route<C>(
    handler: (request: NextRequest, session: Session<T>, context: C) => Response | Promise<Response>,
  ): RouteHandler<C> {
    return async (request, context) => {
      let session: Session<T>;
      try {
        session = await core.load({ headers: request.headers, secure: routeIsSecure(request) });
      } catch (error) {
        if (error instanceof SessionStoreError) return onStoreError(error, request);
        throw error;
      }
      let response: Response;
      try {
        response = await handler(request, session, context);
      } catch (error) {
        // redirect() in a Route Handler: answered here, so the redirect carries the session cookie.
        const redirect = redirectOf(error);
        if (redirect === undefined) throw error;
        response = new Response(null, {
          status: redirect.status,
          headers: { location: redirect.url },
        });
      }
      const { plan, error } = await writePlan(session);
      if (error !== undefined) {
        await response.body?.cancel();
        return onStoreError(error, request);
      }
      return applyPlanToFetchResponse(response, plan);
    };
  }

  /** The session of the current request, from Next's request scope (`headers()`, `cookies()`). */
  async function loadFromRequestScope(next: NextHeadersModule): Promise<Session<T>> {
    const requestHeaders = await next.headers();
    const secure = isSecure(requestHeaders);
    // The cookie jar, not the Cookie header: after an action in this request it holds the new cookie.
    const pairs = (await next.cookies())
      .getAll()
      .map((cookie) => `${cookie.name}=${encodeURIComponent(cookie.value)}`);
    const headers = new Headers();
    if (pairs.length > 0) headers.set("cookie", pairs.join("; "));
    try {
      return await core.load({ headers, secure });
    } catch (error) {
      throw asStoreUnavailable(error);
    }
  }

  function action<A extends unknown[], R>(
    fn: (session: Session<T>, ...args: A) => R | Promise<R>,
  ): (...args: A) => Promise<Awaited<R>> {
    return async (...args: A): Promise<Awaited<R>> => {
      const next = await loadNextHeaders();
      const session = await loadFromRequestScope(next);
      let result: Awaited<R> | undefined;
      let navigation: unknown;
      let navigated = false;
      try {
        result = (await fn(session, ...args)) as Awaited<R>;
      } catch (error) {
        // Any other error: the action failed, nothing it changed is committed.
        if (!isNavigationError(error)) throw error;
        navigation = error;
        navigated = true;
      }
      const handoff = navigated ? await handoffFor(next, session, navigation) : undefined;
      const { plan, error } = await writePlan(session);
      // The redirect must not be followed to a page that would not see the session: fail instead.
      if (error !== undefined) throw asStoreUnavailable(error);
      const jar = await next.cookies();
      if (plan.setCookie !== undefined) jar.set(parseSetCookie(plan.setCookie));
      for (const line of plan.moreCookies ?? []) jar.set(parseSetCookie(line));
      for (const line of plan.legacyCookies ?? []) jar.set(parseSetCookie(line));
      if (handoff !== undefined) {
        // Copied by Next into the render's request, discarded by the browser (expired on arrival).
        jar.set({ ...handoff, maxAge: 0, expires: new Date(0), path: "/", httpOnly: true, sameSite: "lax" });
      } else if (
        plan.setCookie === undefined &&
        plan.legacyCookies === undefined &&
        plan.write !== undefined
      ) {
        // A server store changed and the cookie did not: Next invalidates the client router's cache
        // when an action sets a cookie, and here none was set. Without this the browser may show its
        // cached render of the page redirected to (without the flash the proxy just consumed for it).
        (await loadNextCache()).refresh();
      }
      if (navigated) throw navigation;
      return result as Awaited<R>;
    };
  }

  /**
   * A JavaScript-called action that redirects to a page of this app: Next renders that page through
   * its own request, whose `Set-Cookie` it drops, so the proxy there could take the messages out of a
   * cookie store's session only for the browser to keep them. The action takes them out itself (its
   * commit reaches the browser) and returns the cookie that hands them to that render, bound to the
   * key the proxy gave this request. `undefined`: Next will not render inline, or nothing is pending.
   */
  async function handoffFor(
    next: NextHeadersModule,
    session: Session<T>,
    navigation: unknown,
  ): Promise<{ name: string; value: string; secure: boolean } | undefined> {
    const redirect = redirectOf(navigation);
    if (redirect === undefined) return undefined;
    const requestHeaders = await next.headers();
    if (!requestHeaders.has(ACTION_HEADER) || !rendersInline(redirect.url, requestHeaders)) return undefined;
    const key = courier.handoffKey(requestHeaders.get(FLASH_HEADER));
    // No key: the proxy does not cover this page; its next page request takes the messages out.
    if (key === undefined || session.destroyed) return undefined;
    const flashes = session.getFlashedMessages({ withCategories: true });
    if (flashes.length === 0) return undefined;
    const secure = isSecure(requestHeaders);
    return {
      name: handoffCookieName(core.cookieName(secure)),
      value: courier.sealHandoff(key, flashes),
      secure,
    };
  }

  async function getSession(): Promise<Session<T>> {
    const next = await loadNextHeaders();
    const session = await loadFromRequestScope(next);
    const delivered = courier.open((await next.headers()).get(FLASH_HEADER));
    return readOnlySession(session, delivered);
  }

  async function proxy(request: NextRequest): Promise<Response> {
    const { NextResponse } = await loadNextServer();
    const forwarded = new Headers(request.headers);
    // Only this proxy speaks this header: a client's own is dropped (read first: Next's internal render
    // of an action's redirect forwards the one this proxy gave the action's request).
    const incoming = request.headers.get(FLASH_HEADER);
    forwarded.delete(FLASH_HEADER);
    const method = request.method.toUpperCase();
    const secure = routeIsSecure(request);
    if ((method !== "GET" && method !== "HEAD") || isPrefetch(request.headers)) {
      if (isServerAction(request)) {
        // Next answers any error an action throws with its own 500 (no API sets an action's status), so
        // a store that cannot be read is answered here, with the 503 and Retry-After of every adapter.
        try {
          await core.load({ headers: request.headers, secure });
        } catch (error) {
          if (error instanceof SessionStoreError) return onStoreError(error, request);
          throw error;
        }
      }
      // A key a Server Action in this request may hand its flash messages over with (see handoffFor).
      const key = method === "POST" ? courier.newHandoffKey() : undefined;
      forwarded.set(FLASH_HEADER, courier.seal([], Date.now(), key));
      return NextResponse.next({ request: { headers: forwarded } });
    }
    // A handoff cookie is only ever meant for this proxy: never passed on to the page.
    const handoffName = handoffCookieName(core.cookieName(secure));
    const cookies = parseCookies(request.headers.get("cookie"));
    let handedOver: DeliveredFlashes = [];
    if (handoffName in cookies) {
      const key = courier.handoffKey(incoming);
      handedOver = (key === undefined ? undefined : courier.openHandoff(key, cookies[handoffName])) ?? [];
      forwarded.set("cookie", withoutCookie(request.headers.get("cookie"), handoffName));
    }
    let session: Session<T>;
    try {
      session = await core.load({ headers: forwarded, secure });
    } catch (error) {
      if (error instanceof SessionStoreError) return onStoreError(error, request);
      throw error;
    }
    const flashes = [...handedOver, ...session.getFlashedMessages({ withCategories: true })];
    const { plan, error } = await writePlan(session);
    if (error !== undefined) return onStoreError(error, request);
    forwarded.set(FLASH_HEADER, courier.seal(flashes));
    if (plan.setCookie !== undefined) {
      // The page renders with the cookie the browser will hold from now on (a cookie store's new value).
      forwarded.set("cookie", replaceCookie(forwarded.get("cookie"), plan.cookieName, plan.setCookie));
    }
    const response: NextResponse = NextResponse.next({ request: { headers: forwarded } });
    applyPlanToHeaders(response.headers, plan);
    return response;
  }

  return { route, action, getSession, proxy, sessions: core };
}

/** The pairs of a Cookie header other than `name`'s. */
function otherPairs(header: string | null, name: string): string[] {
  return (header ?? "")
    .split(";")
    .map((part) => part.trim())
    .filter((part) => part !== "" && !part.startsWith(`${name}=`));
}

function withoutCookie(header: string | null, name: string): string {
  return otherPairs(header, name).join("; ");
}

/** `header` with the pair for `name` replaced by the one `setCookie` sets (dropped when it expires it). */
function replaceCookie(header: string | null, name: string, setCookie: string): string {
  const pair = setCookie.split(";", 1)[0] ?? "";
  const expired = /;\s*max-age=0(;|$)/i.test(setCookie);
  const others = otherPairs(header, name);
  if (!expired) others.push(pair);
  return others.join("; ");
}

export {
  type CsrfOptions,
  type CsrfRejectedError,
  csrfErrorPage,
  csrfProtection,
  type NextCsrfOptions,
} from "./csrf.js";
export type { Session, SessionData, SessionShape, Sessions };
