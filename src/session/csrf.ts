import { checkOptionNames } from "../config-check.js";
import { ConfigError, CsrfError } from "../errors.js";
import type { Session, SessionShape } from "./session.js";

/**
 * CSRF protection, framework-agnostic: a per-session synchronizer token (OWASP CSRF Prevention
 * Cheat Sheet, "Synchronizer Token Pattern") checked on every unsafe request, plus an
 * `Origin`/`Sec-Fetch-Site` check as defence in depth (the Fetch Metadata and Origin checks of
 * the same cheat sheet; Go 1.25's `http.CrossOriginProtection` works the same way).
 */

/** Why a request was refused. Stable: branch on it, show it, log it. */
export type CsrfReason =
  /** `Sec-Fetch-Site: cross-site` or `same-site` from an origin that is not trusted. */
  | "cross-site"
  /** `Origin` names another host (or is `null`) and is not trusted. */
  | "origin-mismatch"
  /** Neither the form field nor the header carried a token. */
  | "missing-token"
  /** A token was sent but is not this session's (expired session, other session, forged). */
  | "invalid-token";

const REASON_MESSAGES: Readonly<Record<CsrfReason, string>> = {
  "cross-site": "the request came from another site (Sec-Fetch-Site)",
  "origin-mismatch": "the request's Origin is not this site",
  "missing-token": "the request carried no CSRF token (form field or header)",
  "invalid-token": "the CSRF token does not match this session",
};

/** A failed CSRF check. `code` is `ERR_CSRF` (as every `CsrfError`); `reason` says which check. */
export class CsrfRejectedError extends CsrfError {
  readonly reason: CsrfReason;
  constructor(reason: CsrfReason) {
    super(`CSRF check failed: ${REASON_MESSAGES[reason]}`);
    this.reason = reason;
  }
}

export interface CsrfOptions {
  /**
   * Other origins allowed to send unsafe requests (`"https://app.example.com"`): scheme, host and
   * port, no path. The request's own host is always allowed.
   * @default []
   */
  trustedOrigins?: readonly string[];
  /** Request header that may carry the token (for `fetch` and XHR). @default "x-csrf-token" */
  headerName?: string;
  /** Form field that carries the token. @default "csrf_token" (Flask-WTF's name) */
  fieldName?: string;
  /** Methods that are never checked: they must not change state. @default GET, HEAD, OPTIONS, TRACE (RFC 9110 §9.2.1) */
  safeMethods?: readonly string[];
}

/** What the check reads from a request; adapters fill it in. */
export interface CsrfInput {
  method: string;
  /** Request headers: `Origin`, `Sec-Fetch-Site` and the token header are read. */
  headers: Headers | Readonly<Record<string, string | readonly string[] | undefined>>;
  /** `host[:port]` the request was sent to, as the server sees it (Host header / request URL). */
  host: string | undefined;
  /** The submitted form field, if the body was a form. Only a string counts. */
  formToken?: unknown;
}

export type CsrfResult = { ok: true } | { ok: false; reason: CsrfReason; error: CsrfRejectedError };

export interface CsrfProtection {
  readonly headerName: string;
  readonly fieldName: string;
  /** True for methods that are not checked. */
  isSafe(method: string): boolean;
  /** Runs every check on an unsafe request; safe methods pass. */
  check<T extends SessionShape<T>>(session: Session<T>, input: CsrfInput): CsrfResult;
  /**
   * The Origin / `Sec-Fetch-Site` layer alone, for an adapter to run before it reads a body: a request
   * from another site is refused without its body being parsed. `{ ok: true }` when it passes.
   */
  checkOrigin(input: Omit<CsrfInput, "formToken">): CsrfResult;
}

/** RFC 9110 §9.2.1 safe methods. */
export const DEFAULT_SAFE_METHODS: readonly string[] = Object.freeze(["GET", "HEAD", "OPTIONS", "TRACE"]);
export const DEFAULT_CSRF_HEADER = "x-csrf-token";
export const DEFAULT_CSRF_FIELD = "csrf_token";

/** RFC 9110 §5.6.2 token: what a header or method name may contain. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function normalizeOrigin(value: string): string | undefined {
  try {
    const url = new URL(value);
    return url.origin === "null" ? undefined : url.origin;
  } catch {
    return undefined;
  }
}

function trustedOrigin(value: unknown): string {
  let url: URL | undefined;
  try {
    url = typeof value === "string" ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  // Only a bare origin: a path, query or credentials hint at a misunderstanding of what is compared.
  if (
    url === undefined ||
    url.origin === "null" ||
    url.pathname !== "/" ||
    url.search ||
    url.hash ||
    url.username
  ) {
    throw new ConfigError(
      "ERR_INVALID_OPTION",
      `csrf trustedOrigins entries must be origins such as "https://app.example.com", got ${JSON.stringify(value)}`,
    );
  }
  return url.origin;
}

function readHeader(headers: CsrfInput["headers"], name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  const value = headers[name];
  if (value === undefined) return undefined;
  return typeof value === "string" ? value : value.join(", ");
}

function fail(reason: CsrfReason): CsrfResult {
  return { ok: false, reason, error: new CsrfRejectedError(reason) };
}

/** Every `CsrfOptions` name (adapters take their own options, e.g. `onError`, out first). */
const CSRF_OPTION_NAMES = [
  "trustedOrigins",
  "headerName",
  "fieldName",
  "safeMethods",
] as const satisfies ReadonlyArray<keyof CsrfOptions>;

/** csurf's option names, with flagon's way. */
const CSURF_HINTS = Object.freeze({
  ignoreMethods: "spelled safeMethods",
  value: "flagon reads the headerName header or the fieldName form field; set those",
  cookie: "the token lives in the session, not in a cookie of its own; remove it",
  sessionKey: "the token lives in the session under a reserved key; remove it",
});

/** Builds the checker once (options validated and frozen); use it for every request. */
export function createCsrfProtection(options: CsrfOptions = {}): CsrfProtection {
  checkOptionNames("csrfProtection", options, [...CSRF_OPTION_NAMES, "onError"], CSURF_HINTS);
  const own = <K extends keyof CsrfOptions>(key: K): CsrfOptions[K] =>
    Object.hasOwn(options, key) ? options[key] : undefined;
  const headerName = (own("headerName") ?? DEFAULT_CSRF_HEADER).toLowerCase();
  const fieldName = own("fieldName") ?? DEFAULT_CSRF_FIELD;
  if (!TOKEN.test(headerName)) {
    throw new ConfigError("ERR_INVALID_OPTION", `csrf headerName must be a header name, got "${headerName}"`);
  }
  if (typeof fieldName !== "string" || fieldName === "") {
    throw new ConfigError("ERR_INVALID_OPTION", "csrf fieldName must be a non-empty string");
  }
  const safeMethods = new Set((own("safeMethods") ?? DEFAULT_SAFE_METHODS).map((m) => m.toUpperCase()));
  const trusted = new Set((own("trustedOrigins") ?? []).map(trustedOrigin));

  /** The Origin / Fetch Metadata layer. No header at all (old browsers, curl) leaves it to the token. */
  function originReason(input: CsrfInput): CsrfReason | undefined {
    const origin = readHeader(input.headers, "origin");
    const site = readHeader(input.headers, "sec-fetch-site")?.trim().toLowerCase();
    const isTrusted = origin !== undefined && trusted.has(normalizeOrigin(origin) ?? "");
    // Fetch Metadata: the browser itself says where the request came from. "none" is a
    // user-initiated navigation (bookmark, address bar).
    if (site === "same-origin" || site === "none") return undefined;
    if (site === "cross-site" || site === "same-site") return isTrusted ? undefined : "cross-site";
    if (origin === undefined) return undefined;
    if (isTrusted) return undefined;
    // Host only, not scheme: behind a TLS-terminating proxy the server sees http while the
    // browser sends https; a scheme-only difference needs a network attacker anyway.
    let originHost: string;
    try {
      originHost = new URL(origin).host;
    } catch {
      return "origin-mismatch"; // "null" (sandboxed frames, some redirects) or garbage
    }
    if (input.host === undefined || originHost === "" || originHost !== input.host.toLowerCase()) {
      return "origin-mismatch";
    }
    return undefined;
  }

  function check<T extends SessionShape<T>>(session: Session<T>, input: CsrfInput): CsrfResult {
    if (safeMethods.has(input.method.toUpperCase())) return { ok: true };
    const reason = originReason(input);
    if (reason !== undefined) return fail(reason);
    const fromHeader = readHeader(input.headers, headerName);
    const token = fromHeader ?? (typeof input.formToken === "string" ? input.formToken : undefined);
    if (token === undefined || token === "") return fail("missing-token");
    // Constant-time comparison (timingSafeEqual after a length check) inside the session.
    if (!session.verifyCsrfToken(token)) return fail("invalid-token");
    return { ok: true };
  }

  return Object.freeze({
    headerName,
    fieldName,
    isSafe: (method: string) => safeMethods.has(method.toUpperCase()),
    check,
    checkOrigin(input: Omit<CsrfInput, "formToken">): CsrfResult {
      if (safeMethods.has(input.method.toUpperCase())) return { ok: true };
      const reason = originReason(input);
      return reason === undefined ? { ok: true } : fail(reason);
    },
  });
}

/**
 * The default 403 page of both adapters: says what failed and what to do, and never echoes
 * request data (no token, no form values).
 */
export function csrfErrorHtml(reason: CsrfReason): string {
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="UTF-8"><title>403 Forbidden</title></head>
<body>
<h1>403 Forbidden</h1>
<p>This request was refused because it did not come from a form on this site (CSRF check failed: ${reason}).</p>
<p>Go back, reload the page and submit the form again.</p>
</body>
</html>
`;
}
