import { Buffer } from "node:buffer";
import { parseArgs } from "node:util";
import { parseSetCookie, type SetCookie } from "cookie";
import { MAX_COOKIE_BYTES, MAX_COOKIE_LIFETIME_SECONDS } from "../cookie/constants.js";
import { type CookieAttributes, serializeCookie } from "../cookie/serialize.js";
import { randomToken } from "../crypto/random.js";
import { CookieError } from "../errors.js";
import { createSessions } from "../session/sessions.js";
import { readCookieInput } from "./cookie-input.js";
import { type CliIO, EXIT, parseCommandLine, printJSON, single, table, UsageError } from "./io.js";

export const DOCTOR_USAGE = `Usage: flagon doctor [--size BYTES] [--json] [COOKIE]
       flagon doctor [--name NAME] [--secure] [--samesite lax|strict|none] [--domain D]
                     [--path P] [--max-age N] [--no-http-only] [--partitioned]
                     [--size BYTES] [--json] [COOKIE]
       flagon doctor [--json] "SET-COOKIE LINE"

Checks a session cookie against the rules of docs/security.md and prints each as pass, warn or
fail: name, __Host-/__Secure- prefix eligibility, Secure, HttpOnly, SameSite, Partitioned, Domain,
Path, lifetime and size headroom.

  (no option)      the cookie createSessions() writes by default on HTTPS:
                   __Host-sid; Path=/; HttpOnly; Secure; SameSite=Lax, no Max-Age
  --name ... --partitioned
                   describe the cookie instead: name sid, Path=/ and HttpOnly unless given,
                   Secure, SameSite, Domain, Max-Age and Partitioned only when given
  COOKIE           a value (measured for size), name=value (the name too), or a whole
                   Set-Cookie line ("sid=v1.…; Path=/; HttpOnly; SameSite=Lax", "Set-Cookie:"
                   optional), whose attributes are checked (no options describing the cookie then)
  --size BYTES     the value's size, instead of a COOKIE
  --json           print { cookie, source, checks, summary } as JSON

Exit codes: 0 no failure (warnings allowed), 1 at least one failure, 2 usage error.`;

export type CheckStatus = "pass" | "warn" | "fail";

export interface DoctorCheck {
  id: string;
  status: CheckStatus;
  message: string;
  /** The docs/security.md property (or RFC section) behind the rule. */
  rule: string;
}

export interface DoctorConfig {
  name: string;
  secure: boolean;
  httpOnly: boolean;
  sameSite?: "lax" | "strict" | "none";
  domain?: string;
  /** Undefined: no Path attribute (a Set-Cookie line without one). */
  path?: string;
  maxAge?: number;
  /** A Set-Cookie line's Expires (ISO), when it has no Max-Age (Max-Age wins). */
  expires?: string;
  partitioned: boolean;
  /** Bytes of the cookie value, when known. */
  size?: number;
}

/** Framework defaults that tell an attacker what runs behind the site (docs/security.md §18). */
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

export function checkCookie(config: DoctorConfig, now = Date.now()): DoctorCheck[] {
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
      "docs/security.md §21",
    );
  else add("name", "pass", "a valid cookie name", "RFC 6265bis §4.1.1");
  const bare = lower.replace(/^__(host|secure)-/, "");
  if (FINGERPRINTABLE.has(bare)) {
    add(
      "fingerprint",
      "warn",
      `"${bare}" is a well-known framework default: it tells attackers what runs behind the site`,
      "docs/security.md §18",
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
        "docs/security.md §18, §19",
      );
    else
      add(
        "prefix",
        "fail",
        "__Host- requires Secure, Path=/ and no Domain: browsers reject this cookie",
        "docs/security.md §19",
      );
  } else if (lower.startsWith("__secure-")) {
    if (!secure)
      add("prefix", "fail", "__Secure- requires Secure: browsers reject this cookie", "docs/security.md §19");
    else if (hostEligible)
      add(
        "prefix",
        "warn",
        "eligible for the stronger __Host- prefix (no Domain, Path=/)",
        "docs/security.md §18",
      );
    else add("prefix", "pass", "__Secure- with Secure", "docs/security.md §19");
  } else if (hostEligible) {
    add(
      "prefix",
      "warn",
      `no prefix: name it __Host-${name} so subdomains and http pages cannot overwrite it`,
      "docs/security.md §18",
    );
  } else if (secure) {
    add(
      "prefix",
      "warn",
      `no prefix: name it __Secure-${name} (a Domain or Path rules out __Host-)`,
      "docs/security.md §18",
    );
  } else {
    add("prefix", "warn", "no prefix: __Host-/__Secure- need Secure", "docs/security.md §18");
  }

  // Secure
  if (secure) add("secure", "pass", "Secure: sent over HTTPS only", "docs/security.md §18");
  else
    add(
      "secure",
      "warn",
      "no Secure: acceptable only for http://localhost development",
      "docs/security.md §18",
    );

  // HttpOnly
  if (config.httpOnly)
    add(
      "httponly",
      "pass",
      "HttpOnly: scripts cannot read it (XSS cannot steal the session)",
      "docs/security.md §18",
    );
  else
    add(
      "httponly",
      "fail",
      "no HttpOnly: any injected script can read and exfiltrate the session",
      "docs/security.md §18",
    );

  // SameSite
  if (config.sameSite === undefined) {
    add(
      "samesite",
      "warn",
      "no SameSite: browsers differ (Chrome defaults to Lax, others to None); set Lax",
      "docs/security.md §20",
    );
  } else if (config.sameSite === "none") {
    if (secure)
      add(
        "samesite",
        "warn",
        "SameSite=None: sent on cross-site requests, so CSRF protection is essential",
        "docs/security.md §20",
      );
    else
      add(
        "samesite",
        "fail",
        "SameSite=None requires Secure: browsers reject this cookie",
        "docs/security.md §20",
      );
  } else {
    add(
      "samesite",
      "pass",
      `SameSite=${config.sameSite === "lax" ? "Lax" : "Strict"}`,
      "docs/security.md §18, §20",
    );
  }

  if (config.partitioned && !secure)
    add("partitioned", "fail", "Partitioned requires Secure", "docs/security.md §20");

  // Domain
  if (domain !== undefined) {
    add(
      "domain",
      "warn",
      `Domain=${domain}: sent to every subdomain, and rules out __Host-`,
      "docs/security.md §18",
    );
  }

  // Path: without one, browsers scope the cookie to the directory of the URL that set it.
  if (path === undefined) {
    add(
      "path",
      "warn",
      "no Path: browsers scope it to the directory of the URL that set it; set Path=/",
      "docs/security.md §18",
    );
  }

  // Lifetime (Max-Age wins over Expires, RFC 6265bis §5.6.2)
  const maxAge = config.maxAge;
  const expires =
    maxAge === undefined && config.expires !== undefined ? Date.parse(config.expires) : undefined;
  if (expires !== undefined) {
    const left = Math.floor((expires - now) / 1000);
    if (left <= 0)
      add("lifetime", "warn", "Expires is in the past: this line deletes the cookie", "docs/security.md §23");
    else if (left > MAX_COOKIE_LIFETIME_SECONDS)
      add(
        "lifetime",
        "warn",
        `Expires over 400 days ahead: browsers cap it at ${MAX_COOKIE_LIFETIME_SECONDS} s`,
        "docs/security.md §23",
      );
    else
      add(
        "lifetime",
        "pass",
        `persistent until ${config.expires} (${Math.round(left / 86_400)} day(s))`,
        "docs/security.md §23",
      );
  } else if (maxAge === undefined) {
    add(
      "lifetime",
      "pass",
      "no Max-Age: a browser-session cookie (deleted when the browser closes)",
      "docs/security.md §18",
    );
  } else if (!Number.isSafeInteger(maxAge) || maxAge < 0) {
    add("lifetime", "fail", "Max-Age must be a whole number of seconds >= 0", "docs/security.md §23");
  } else if (maxAge > MAX_COOKIE_LIFETIME_SECONDS) {
    add(
      "lifetime",
      "warn",
      `Max-Age over 400 days: browsers cap it at ${MAX_COOKIE_LIFETIME_SECONDS}`,
      "docs/security.md §23",
    );
  } else {
    add("lifetime", "pass", `persistent for ${Math.round(maxAge / 86_400)} day(s)`, "docs/security.md §23");
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
        "docs/security.md §22",
      );
    else if (spare < MAX_COOKIE_BYTES * SIZE_HEADROOM_WARN) {
      add(
        "size",
        "warn",
        `name + value ${total} of ${MAX_COOKIE_BYTES} bytes: only ${spare} to spare`,
        "docs/security.md §22",
      );
    } else
      add(
        "size",
        "pass",
        `name + value ${total} of ${MAX_COOKIE_BYTES} bytes (${spare} to spare)`,
        "docs/security.md §22",
      );
  }

  // Anything else flagon's own serializer refuses (it is the authority for what flagon writes).
  const attributes: CookieAttributes = {
    secure,
    httpOnly: config.httpOnly,
    partitioned: config.partitioned,
  };
  if (path !== undefined) attributes.path = path;
  if (expires !== undefined && Number.isFinite(expires)) attributes.expires = new Date(expires);
  if (config.sameSite !== undefined) attributes.sameSite = config.sameSite;
  if (domain !== undefined) attributes.domain = domain;
  if (maxAge !== undefined && Number.isSafeInteger(maxAge) && maxAge >= 0) attributes.maxAge = maxAge;
  try {
    serializeCookie(name, "x", attributes);
  } catch (error) {
    if (!(error instanceof CookieError)) throw error;
    const covered = COVERED_BY[error.code];
    if (!checks.some((check) => check.id === covered && check.status === "fail")) {
      add("serialize", "fail", `flagon refuses to write it: ${error.code}`, "docs/security.md §19-21");
    }
  }
  return checks;
}

const SAMESITE = new Set(["lax", "strict", "none"]);

/** The options that describe a cookie (as opposed to --size and --json). */
const DESCRIBING = [
  "name",
  "secure",
  "samesite",
  "domain",
  "path",
  "max-age",
  "no-http-only",
  "partitioned",
] as const;

/** What the checks were run on. */
export type DoctorSource = "flagon-default" | "options" | "set-cookie";

/** A Set-Cookie line's attributes, as a browser reads them (RFC 6265bis §5.6). */
function fromSetCookie(setCookie: SetCookie): DoctorConfig {
  const config: DoctorConfig = {
    name: setCookie.name,
    secure: setCookie.secure === true,
    httpOnly: setCookie.httpOnly === true,
    partitioned: setCookie.partitioned === true,
  };
  // A Path that is empty or does not start with "/" is ignored (§5.6.4); so is an empty Domain, and
  // a leading dot is dropped (§5.6.3).
  if (setCookie.path?.startsWith("/")) config.path = setCookie.path;
  const domain = setCookie.domain?.replace(/^\./, "");
  if (domain) config.domain = domain;
  if (setCookie.sameSite !== undefined && setCookie.sameSite !== false)
    config.sameSite = setCookie.sameSite === true ? "strict" : setCookie.sameSite;
  // parseSetCookie keeps only a Max-Age of digits (a browser ignores any other) and a valid Expires.
  if (setCookie.maxAge !== undefined) config.maxAge = setCookie.maxAge;
  else if (setCookie.expires !== undefined) config.expires = setCookie.expires.toISOString();
  return config;
}

/**
 * The Set-Cookie line flagon's session layer writes with every option at its default, on an HTTPS
 * request: taken from a real createSessions() commit, so it cannot drift from the defaults.
 */
export async function flagonDefaultSetCookie(): Promise<string> {
  const sessions = createSessions({ secret: randomToken(32) });
  try {
    const session = await sessions.load({ headers: new Headers(), secure: true });
    session.set("doctor", true);
    const headers = new Headers();
    await sessions.commit(session, headers);
    const [line] = headers.getSetCookie();
    if (line === undefined) throw new Error("createSessions() wrote no Set-Cookie line");
    return line;
  } finally {
    await sessions.close();
  }
}

/** The attributes of a Set-Cookie line, as written ("Path=/; HttpOnly; ..."). */
const attributesOf = (line: string): string => line.slice(line.indexOf(";") + 1).trim();

export async function doctor(argv: readonly string[], io: CliIO): Promise<number> {
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
  const input = cookie === undefined ? undefined : readCookieInput(cookie);
  const describing = DESCRIBING.filter((option) => values[option] !== undefined);

  let config: DoctorConfig;
  let source: DoctorSource;
  let attributes = "";
  if (input?.setCookie !== undefined) {
    if (describing.length > 0) {
      const options = describing.map((option) => `--${option}`).join(", ");
      throw new UsageError(`the Set-Cookie line gives the cookie's name and attributes: drop ${options}`);
    }
    config = fromSetCookie(input.setCookie);
    source = "set-cookie";
  } else if (describing.length === 0) {
    const line = await flagonDefaultSetCookie();
    config = fromSetCookie(parseSetCookie(line));
    source = "flagon-default";
    attributes = attributesOf(line);
  } else {
    config = {
      name: values.name ?? "sid",
      secure: values.secure ?? false,
      httpOnly: !values["no-http-only"],
      path: values.path ?? "/",
      partitioned: values.partitioned ?? false,
    };
    if (sameSite !== undefined) config.sameSite = sameSite as DoctorConfig["sameSite"];
    if (values.domain !== undefined) config.domain = values.domain;
    if (maxAgeText !== undefined) config.maxAge = Number(maxAgeText);
    source = "options";
  }
  if (input?.name !== undefined && input.setCookie === undefined) {
    if (values.name !== undefined && values.name !== input.name)
      throw new UsageError(`COOKIE is named ${input.name}, but --name says ${values.name}`);
    config.name = input.name;
  }
  if (values.size !== undefined) config.size = Number(values.size);
  // The size browsers count: the value as sent, before any percent-decoding.
  if (input !== undefined) config.size = Buffer.byteLength(input.raw, "utf8");

  const checks = checkCookie(config);
  const summary = { pass: 0, warn: 0, fail: 0 };
  for (const check of checks) summary[check.status]++;
  if (values.json) {
    printJSON(io, { cookie: config, source, checks, summary });
  } else {
    const rows = checks.map(
      (check) => [check.status.toUpperCase(), `${check.id}: ${check.message} [${check.rule}]`] as const,
    );
    const about =
      source === "set-cookie"
        ? " (from the Set-Cookie line)"
        : source === "flagon-default"
          ? ` (createSessions() defaults on HTTPS: ${attributes})`
          : "";
    io.stdout(
      `flagon doctor: ${config.name}${about}\n${table(rows)}\n${summary.fail} fail, ${summary.warn} warn, ${summary.pass} pass\n`,
    );
  }
  return summary.fail > 0 ? EXIT.invalid : EXIT.ok;
}
