import { Buffer } from "node:buffer";
import { parseArgs } from "node:util";
import { MAX_COOKIE_BYTES, MAX_COOKIE_LIFETIME_SECONDS } from "../cookie/constants.js";
import { type CookieAttributes, serializeCookie } from "../cookie/serialize.js";
import { CookieError } from "../errors.js";
import { type CliIO, EXIT, parseCommandLine, printJSON, single, table, UsageError } from "./io.js";

export const DOCTOR_USAGE = `Usage: flagon doctor [--name NAME] [--secure] [--samesite lax|strict|none] [--domain D]
                     [--path P] [--max-age N] [--no-http-only] [--partitioned]
                     [--size BYTES] [--json] [COOKIE]

Checks a session cookie configuration against flagon's SECURITY.md rules and prints each as
pass, warn or fail: name, __Host-/__Secure- prefix eligibility, Secure, HttpOnly, SameSite,
Partitioned, Domain, lifetime and size headroom. Give the value's size with --size, or a real
cookie value as COOKIE. Defaults are flagon's: name sid, Path=/, HttpOnly, no Domain.
Exit codes: 0 no failure (warnings allowed), 1 at least one failure, 2 usage error.`;

export type CheckStatus = "pass" | "warn" | "fail";

export interface DoctorCheck {
  id: string;
  status: CheckStatus;
  message: string;
  /** The SECURITY.md property (or RFC section) behind the rule. */
  rule: string;
}

export interface DoctorConfig {
  name: string;
  secure: boolean;
  httpOnly: boolean;
  sameSite?: "lax" | "strict" | "none";
  domain?: string;
  path: string;
  maxAge?: number;
  partitioned: boolean;
  /** Bytes of the cookie value, when known. */
  size?: number;
}

/** Framework defaults that tell an attacker what runs behind the site (SECURITY.md 18). */
const FINGERPRINTABLE = new Set(
  [
    "connect.sid",
    "session",
    "sessionid",
    "phpsessid",
    "jsessionid",
    "asp.net_sessionid",
    "laravel_session",
    "_session_id",
    "rack.session",
    "express:sess",
    "koa.sess",
    "koa:sess",
    "ci_session",
    "cfid",
    "cftoken",
  ].map((name) => name.toLowerCase()),
);

/** Warn when less than this share of the 4096 bytes is left: sessions grow, and a cookie over the limit is dropped. */
const SIZE_HEADROOM_WARN = 0.1;

/** serializeCookie's error codes that a named check above already reports. */
const COVERED_BY: Partial<Record<string, string>> = {
  ERR_COOKIE_NAME: "name",
  ERR_PREFIX_HOST: "prefix",
  ERR_PREFIX_SECURE: "prefix",
  ERR_COOKIE_SAMESITE: "samesite",
  ERR_COOKIE_PARTITIONED: "partitioned",
  ERR_COOKIE_MAX_AGE: "lifetime",
};

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export function checkCookie(config: DoctorConfig): DoctorCheck[] {
  const checks: DoctorCheck[] = [];
  const add = (id: string, status: CheckStatus, message: string, rule: string) =>
    checks.push({ id, status, message, rule });
  const { name, secure, domain, path } = config;
  const lower = name.toLowerCase();

  // Name
  if (!TOKEN.test(name))
    add(
      "name",
      "fail",
      "not an RFC 6265 token (no spaces, ;, =, quotes or control characters)",
      "SECURITY.md 21",
    );
  else add("name", "pass", "a valid cookie name", "RFC 6265bis §4.1.1");
  const bare = lower.replace(/^__(host|secure)-/, "");
  if (FINGERPRINTABLE.has(bare)) {
    add(
      "fingerprint",
      "warn",
      `"${bare}" is a well-known framework default: it tells attackers what runs behind the site`,
      "SECURITY.md 18",
    );
  }

  // Prefixes: matched case-insensitively, as browsers do (RFC 6265bis §4.1.3).
  const hostEligible = secure && domain === undefined && path === "/";
  if (lower.startsWith("__host-")) {
    if (hostEligible)
      add(
        "prefix",
        "pass",
        "__Host- with Secure, Path=/ and no Domain: only this host can set it",
        "SECURITY.md 18, 19",
      );
    else
      add(
        "prefix",
        "fail",
        "__Host- requires Secure, Path=/ and no Domain: browsers reject this cookie",
        "SECURITY.md 19",
      );
  } else if (lower.startsWith("__secure-")) {
    if (!secure)
      add("prefix", "fail", "__Secure- requires Secure: browsers reject this cookie", "SECURITY.md 19");
    else if (hostEligible)
      add("prefix", "warn", "eligible for the stronger __Host- prefix (no Domain, Path=/)", "SECURITY.md 18");
    else add("prefix", "pass", "__Secure- with Secure", "SECURITY.md 19");
  } else if (hostEligible) {
    add(
      "prefix",
      "warn",
      `no prefix: name it __Host-${name} so subdomains and http pages cannot overwrite it`,
      "SECURITY.md 18",
    );
  } else if (secure) {
    add(
      "prefix",
      "warn",
      `no prefix: name it __Secure-${name} (a Domain or Path rules out __Host-)`,
      "SECURITY.md 18",
    );
  } else {
    add("prefix", "warn", "no prefix: __Host-/__Secure- need Secure", "SECURITY.md 18");
  }

  // Secure
  if (secure) add("secure", "pass", "Secure: sent over HTTPS only", "SECURITY.md 18");
  else add("secure", "warn", "no Secure: acceptable only for http://localhost development", "SECURITY.md 18");

  // HttpOnly
  if (config.httpOnly)
    add(
      "httponly",
      "pass",
      "HttpOnly: scripts cannot read it (XSS cannot steal the session)",
      "SECURITY.md 18",
    );
  else
    add(
      "httponly",
      "fail",
      "no HttpOnly: any injected script can read and exfiltrate the session",
      "SECURITY.md 18",
    );

  // SameSite
  if (config.sameSite === undefined) {
    add(
      "samesite",
      "warn",
      "no SameSite: browsers differ (Chrome defaults to Lax, others to None); set Lax",
      "SECURITY.md 20",
    );
  } else if (config.sameSite === "none") {
    if (secure)
      add(
        "samesite",
        "warn",
        "SameSite=None: sent on cross-site requests, so CSRF protection is essential",
        "SECURITY.md 20",
      );
    else
      add("samesite", "fail", "SameSite=None requires Secure: browsers reject this cookie", "SECURITY.md 20");
  } else {
    add("samesite", "pass", `SameSite=${config.sameSite === "lax" ? "Lax" : "Strict"}`, "SECURITY.md 18, 20");
  }

  if (config.partitioned && !secure)
    add("partitioned", "fail", "Partitioned requires Secure", "SECURITY.md 20");

  // Domain
  if (domain !== undefined) {
    add(
      "domain",
      "warn",
      `Domain=${domain}: sent to every subdomain, and rules out __Host-`,
      "SECURITY.md 18",
    );
  }

  // Lifetime
  const maxAge = config.maxAge;
  if (maxAge === undefined) {
    add(
      "lifetime",
      "pass",
      "no Max-Age: a browser-session cookie (deleted when the browser closes)",
      "SECURITY.md 18",
    );
  } else if (!Number.isSafeInteger(maxAge) || maxAge < 0) {
    add("lifetime", "fail", "Max-Age must be a whole number of seconds >= 0", "SECURITY.md 23");
  } else if (maxAge > MAX_COOKIE_LIFETIME_SECONDS) {
    add(
      "lifetime",
      "warn",
      `Max-Age over 400 days: browsers cap it at ${MAX_COOKIE_LIFETIME_SECONDS}`,
      "SECURITY.md 23",
    );
  } else {
    add("lifetime", "pass", `persistent for ${Math.round(maxAge / 86_400)} day(s)`, "SECURITY.md 23");
  }

  // Size: RFC 6265bis §5.6, name + value at most 4096 bytes.
  if (config.size !== undefined) {
    const total = Buffer.byteLength(name, "utf8") + config.size;
    const spare = MAX_COOKIE_BYTES - total;
    if (spare < 0)
      add(
        "size",
        "fail",
        `name + value ${total} bytes: over ${MAX_COOKIE_BYTES}, browsers drop it`,
        "SECURITY.md 22",
      );
    else if (spare < MAX_COOKIE_BYTES * SIZE_HEADROOM_WARN) {
      add(
        "size",
        "warn",
        `name + value ${total} of ${MAX_COOKIE_BYTES} bytes: only ${spare} to spare`,
        "SECURITY.md 22",
      );
    } else
      add(
        "size",
        "pass",
        `name + value ${total} of ${MAX_COOKIE_BYTES} bytes (${spare} to spare)`,
        "SECURITY.md 22",
      );
  }

  // Anything else flagon's own serializer refuses (it is the authority for what flagon writes).
  const attributes: CookieAttributes = {
    secure,
    httpOnly: config.httpOnly,
    path,
    partitioned: config.partitioned,
  };
  if (config.sameSite !== undefined) attributes.sameSite = config.sameSite;
  if (domain !== undefined) attributes.domain = domain;
  if (maxAge !== undefined && Number.isSafeInteger(maxAge) && maxAge >= 0) attributes.maxAge = maxAge;
  try {
    serializeCookie(name, "x", attributes);
  } catch (error) {
    if (!(error instanceof CookieError)) throw error;
    const covered = COVERED_BY[error.code];
    if (!checks.some((check) => check.id === covered && check.status === "fail")) {
      add("serialize", "fail", `flagon refuses to write it: ${error.code}`, "SECURITY.md 19-21");
    }
  }
  return checks;
}

const SAMESITE = new Set(["lax", "strict", "none"]);

export function doctor(argv: readonly string[], io: CliIO): number {
  const { values, positionals } = parseCommandLine(() =>
    parseArgs({
      args: [...argv],
      options: {
        name: { type: "string" },
        secure: { type: "boolean" },
        samesite: { type: "string" },
        domain: { type: "string" },
        path: { type: "string" },
        "max-age": { type: "string" },
        "no-http-only": { type: "boolean" },
        partitioned: { type: "boolean" },
        size: { type: "string" },
        json: { type: "boolean" },
      },
      allowPositionals: true,
      strict: true,
    }),
  );
  const cookie = single(positionals, "COOKIE", false);
  const sameSite = values.samesite?.toLowerCase();
  if (sameSite !== undefined && !SAMESITE.has(sameSite))
    throw new UsageError("--samesite must be lax, strict or none");
  if (values.size !== undefined && !/^\d+$/.test(values.size))
    throw new UsageError("--size must be a number of bytes");
  if (values.size !== undefined && cookie !== undefined)
    throw new UsageError("give --size or COOKIE, not both");
  const maxAgeText = values["max-age"];
  if (maxAgeText !== undefined && !/^-?\d+(\.\d+)?$/.test(maxAgeText))
    throw new UsageError("--max-age must be a number");

  const config: DoctorConfig = {
    name: values.name ?? "sid",
    secure: values.secure ?? false,
    httpOnly: !values["no-http-only"],
    path: values.path ?? "/",
    partitioned: values.partitioned ?? false,
  };
  if (sameSite !== undefined) config.sameSite = sameSite as DoctorConfig["sameSite"];
  if (values.domain !== undefined) config.domain = values.domain;
  if (maxAgeText !== undefined) config.maxAge = Number(maxAgeText);
  if (values.size !== undefined) config.size = Number(values.size);
  if (cookie !== undefined) config.size = Buffer.byteLength(cookie, "utf8");

  const checks = checkCookie(config);
  const summary = { pass: 0, warn: 0, fail: 0 };
  for (const check of checks) summary[check.status]++;
  if (values.json) {
    printJSON(io, { cookie: config, checks, summary });
  } else {
    const rows = checks.map(
      (check) => [check.status.toUpperCase(), `${check.id}: ${check.message} [${check.rule}]`] as const,
    );
    io.stdout(
      `flagon doctor: ${config.name}\n${table(rows)}\n${summary.fail} fail, ${summary.warn} warn, ${summary.pass} pass\n`,
    );
  }
  return summary.fail > 0 ? EXIT.invalid : EXIT.ok;
}
