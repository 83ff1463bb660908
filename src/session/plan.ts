/**
 * The commit plan: everything committing a session does, computed once by `Sessions.prepare`,
 * synchronously and without I/O, and the one function per target (node:http response, Fetch
 * `Headers`) that applies it. Every adapter goes through these, so there is one Vary merger and
 * one way session headers reach a response.
 */
import type { ServerResponse } from "node:http";

export interface CommitPlan {
  /**
   * The store write to finish before the response may be sent, or `undefined` when there is none
   * (a read, any change with the cookie store). Rejects with `SessionStoreError` (answer 503, send
   * none of the headers) or, with an asynchronous schema, `FlagonError` `ERR_SESSION_INVALID`.
   */
  readonly write: (() => Promise<void>) | undefined;
  /** The session cookie's `Set-Cookie` value, when one must be sent (the first, when there are several). */
  readonly setCookie: string | undefined;
  /**
   * The session's further `Set-Cookie` lines, sent with `setCookie`: a session split over several cookies
   * (`name.1`, … after `name.0` in `setCookie`) and the expiry of the session cookies this write leaves
   * behind (the one cookie when it moves to chunks, chunks no longer needed). Each name appears once.
   * `undefined` for a session that fits one cookie.
   */
  readonly moreCookies?: readonly string[] | undefined;
  /**
   * `Set-Cookie` lines that expire a migrated session's legacy cookies (`migrateFrom`), sent beside the
   * session cookie's line in the response that migrates it; absent on every other response.
   */
  readonly legacyCookies?: readonly string[] | undefined;
  /** The session cookie's name (so a second commit replaces, rather than repeats, its line). */
  readonly cookieName: string;
  /** The response depends on the session: add `Cookie` to `Vary`. */
  readonly vary: boolean;
  /** `Cache-Control` to set with the cookie (a response that sets a session cookie must not be cached). */
  readonly cacheControl: string | undefined;
}

/**
 * RFC 9110 §12.5.5: `Vary` is a list. The value after adding `field` to `current`, or `undefined`
 * when `current` already lists it (in any case) or is `*`.
 */
export function mergeVary(current: string | undefined, field: string): string | undefined {
  if (current === undefined || current === "") return field;
  const lower = current.toLowerCase();
  const wanted = field.toLowerCase();
  // Fast path: a short list without the field (the usual case is no Vary, or "Accept-Encoding").
  if (lower.indexOf(wanted) === -1 && lower.indexOf("*") === -1) return `${current}, ${field}`;
  for (const part of lower.split(",")) {
    const name = part.trim();
    if (name === "*" || name === wanted) return undefined;
  }
  return `${current}, ${field}`;
}

/** A node:http header value as one comma-joined string (`Vary` may have been set as an array). */
function headerText(value: number | string | readonly string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  return typeof value === "object" ? value.join(", ") : String(value);
}

/**
 * Applies a plan to a node:http response whose head is not sent yet: `Set-Cookie` appended beside
 * the handler's own cookies, `Vary: Cookie` merged, `Cache-Control` set with the cookie.
 */
export function applyPlanToResponse(res: ServerResponse, plan: CommitPlan): void {
  if (plan.vary) {
    const merged = mergeVary(headerText(res.getHeader("vary")), "Cookie");
    if (merged !== undefined) res.setHeader("Vary", merged);
  }
  const legacy = plan.legacyCookies;
  if (plan.setCookie === undefined && legacy === undefined) return;
  if (plan.setCookie !== undefined) res.appendHeader("Set-Cookie", plan.setCookie);
  if (plan.moreCookies !== undefined) res.appendHeader("Set-Cookie", plan.moreCookies as string[]);
  if (legacy !== undefined) res.appendHeader("Set-Cookie", legacy as string[]);
  if (plan.cacheControl !== undefined) res.setHeader("Cache-Control", plan.cacheControl);
}

/**
 * Applies a plan to Fetch `Headers`. RFC 6265bis §4.1.1: a response must not carry two
 * `Set-Cookie` lines for one name, so a line an earlier commit of the same session added is replaced.
 */
export function applyPlanToHeaders(headers: Headers, plan: CommitPlan): void {
  if (plan.vary) {
    const merged = mergeVary(headers.get("vary") ?? undefined, "Cookie");
    if (merged !== undefined) headers.set("vary", merged);
  }
  const legacy = plan.legacyCookies;
  if (plan.setCookie === undefined && legacy === undefined) return;
  const more = plan.moreCookies;
  if (headers.has("set-cookie")) dropEarlierLines(headers, plan);
  if (plan.setCookie !== undefined) headers.append("set-cookie", plan.setCookie);
  if (more !== undefined) for (const line of more) headers.append("set-cookie", line);
  if (legacy !== undefined) for (const line of legacy) headers.append("set-cookie", line);
  if (plan.cacheControl !== undefined) headers.set("cache-control", plan.cacheControl);
}

/**
 * Every `Set-Cookie` line of a plan, in order: the session's own (`setCookie`, `moreCookies`) and the
 * legacy expiries. For adapters whose response type takes a list (Fastify's reply, Koa's error headers).
 */
export function planCookieLines(plan: CommitPlan): string[] {
  const lines: string[] = [];
  if (plan.setCookie !== undefined) lines.push(plan.setCookie);
  if (plan.moreCookies !== undefined) lines.push(...plan.moreCookies);
  if (plan.legacyCookies !== undefined) lines.push(...plan.legacyCookies);
  return lines;
}

/** The cookie name a `Set-Cookie` line sets. */
const lineName = (line: string): string => line.slice(0, line.indexOf("="));

/**
 * Drops the lines an earlier commit of the same session added, so the response keeps one line per name:
 * the session cookie, its chunks (`name.<n>`, whatever that commit wrote) and the plan's legacy names.
 */
function dropEarlierLines(headers: Headers, plan: CommitPlan): void {
  const existing = headers.getSetCookie();
  const own = `${plan.cookieName}=`;
  const chunk = `${plan.cookieName}.`;
  const legacy = plan.legacyCookies;
  const others = existing.filter((current) => {
    if (current.startsWith(own)) return false;
    if (current.startsWith(chunk) && /^\d+=/.test(current.slice(chunk.length))) return false;
    return legacy === undefined || !legacy.some((line) => lineName(line) === lineName(current));
  });
  if (others.length !== existing.length) {
    headers.delete("set-cookie");
    for (const current of others) headers.append("set-cookie", current);
  }
}
