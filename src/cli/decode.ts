import { Buffer } from "node:buffer";
import { parseArgs } from "node:util";
import { MAX_COOKIE_BYTES } from "../cookie/constants.js";
import { CLOCK_SKEW_MS, type Verified } from "../crypto/claims.js";
import { Keyring } from "../crypto/keyring.js";
import { createSealer } from "../crypto/sealer.js";
import { createSigner } from "../crypto/signer.js";
import { FlagonError } from "../errors.js";
import {
  FLASK_COOKIE_NAME,
  FLASK_DEFAULT_MAX_AGE,
  type FlaskRejection,
  openFlaskCookie,
  peekFlaskCookie,
} from "../flask/cookie.js";
import { toTypedJSON } from "../flask/typed-json.js";
import { storeKey } from "../session/sessions.js";
import { readCookieInput } from "./cookie-input.js";
import {
  type CliIO,
  collectSecrets,
  EXIT,
  parseCommandLine,
  printJSON,
  relative,
  seconds,
  single,
  table,
  UsageError,
} from "./io.js";
import {
  DEFAULT_NAMES,
  isSealed,
  openIgnoringTime,
  readSigned,
  SESSION_COOKIE_PURPOSE,
  SESSION_ID_PURPOSE,
} from "./sessions.js";

export const DECODE_USAGE = `Usage: flagon decode [--secret S ...] [--secret-env VAR ...] [--flask] [--name NAME]
                     [--max-age SECONDS] [--json] COOKIE

Shows what a session cookie holds, whether it verifies and with which secret, when it was
issued, when it expires and how big it is. COOKIE is the cookie's value, a pasted name=value
("sid=v1.…", "session=eyJ…") or a whole Set-Cookie line ("sid=v1.…; Path=/; HttpOnly"); a name
it carries is the name verified against.

  --secret S       a secret to verify with; repeat for old secrets (the first is current)
  --secret-env VAR read a secret from an environment variable (keeps it out of ps and history)
  --flask          a Flask session cookie (detected automatically unless it starts with "v1.")
  --name NAME      the cookie's name: flagon binds it into the MAC (default: the name in
                   COOKIE, else tries sid, __Host-sid, __Secure-sid; "session" for Flask)
  --max-age N      Flask only: PERMANENT_SESSION_LIFETIME in seconds (default 2678400)
  --json           print the report as JSON

Signed and Flask cookies are readable without a secret (they are signed, not encrypted);
sealed ones need it. Exit codes: 0 valid (or readable, unverified), 1 invalid,
2 usage error, 3 expired or issued in the future.`;

export type DecodeStatus = "valid" | "unverified" | "invalid" | "expired" | "future";

export interface DecodeReport {
  format: "flask" | "flagon-signed" | "flagon-sealed" | "unknown";
  /** A whole session in the cookie, or the signed id of a server-side session. */
  kind?: "session" | "session-id";
  /** The cookie name it was checked against. */
  name: string;
  status: DecodeStatus;
  verified: boolean;
  reason?: string;
  /** The secret that verified it: index 0 is the current one. */
  secret?: { index: number; role: "current" | "fallback" };
  issuedAt: string | null;
  expiresAt: string | null;
  compressed?: boolean;
  size: { name: number; value: number; total: number; limit: number; headroom: number };
  /** Flask: typed JSON (docs/flask.md). flagon: the JSON inside. Session ids: only their store key. */
  payload?: unknown;
}

const iso = (ms: number | null | undefined): string | null =>
  ms === null || ms === undefined || !Number.isFinite(ms) ? null : new Date(ms).toISOString();

const secretRole = (index: number) => ({
  index,
  role: index === 0 ? ("current" as const) : ("fallback" as const),
});

function sizeOf(name: string, value: string): DecodeReport["size"] {
  const nameBytes = Buffer.byteLength(name, "utf8");
  const valueBytes = Buffer.byteLength(value, "utf8");
  // RFC 6265bis §5.6: browsers drop a cookie whose name + value exceed 4096 bytes.
  return {
    name: nameBytes,
    value: valueBytes,
    total: nameBytes + valueBytes,
    limit: MAX_COOKIE_BYTES,
    headroom: MAX_COOKIE_BYTES - nameBytes - valueBytes,
  };
}

/**
 * cookieStore's payload (format v1, src/stores/cookie.ts: d data, f flashes, c/l/e times, p permanent)
 * spelled out; anything else is shown as it is.
 */
function readableRecord(json: Record<string, unknown>): unknown {
  const { v, d, f, c, l, e, p } = json;
  if (v !== 1 || d === null || typeof d !== "object" || typeof c !== "number" || typeof e !== "number")
    return json;
  const flashes = Array.isArray(f)
    ? f.map((pair) => (Array.isArray(pair) ? { category: pair[0], message: pair[1] } : pair))
    : [];
  return {
    data: d,
    flashes,
    permanent: p === 1,
    createdAt: iso(c),
    lastSeenAt: iso(typeof l === "number" ? l : null),
    expiresAt: iso(e),
  };
}

/** The JSON inside a flagon cookie: a session record, or (not JSON) a server-side session id. */
function describeValue(text: string, purpose?: string): Pick<DecodeReport, "kind" | "payload"> {
  if (purpose !== SESSION_ID_PURPOSE) {
    try {
      const json: unknown = JSON.parse(text);
      if (json !== null && typeof json === "object" && !Array.isArray(json)) {
        return { kind: "session", payload: readableRecord(json as Record<string, unknown>) };
      }
    } catch {
      // not JSON: an id
    }
  }
  // Never print a live session id: its store key is what you look up in SQLite or Redis.
  return { kind: "session-id", payload: { storeKey: storeKey(text) } };
}

function timeStatus(issuedAt: number, expiresAt: number | null, now: number): DecodeStatus | undefined {
  if (issuedAt > now + CLOCK_SKEW_MS) return "future";
  if (expiresAt !== null && now >= expiresAt) return "expired";
  return undefined;
}

const FLASK_REASONS: Record<FlaskRejection, string> = {
  empty: "empty cookie",
  malformed: "not payload.timestamp.signature",
  signature: "the signature does not verify with the given secret(s)",
  expired: "older than max-age",
  future: "issued in the future",
  payload: "correctly signed, but the payload is not a session (Flask would answer 500)",
};

function decodeFlask(
  value: string,
  name: string,
  secrets: string[],
  maxAge: number,
  now: number,
): DecodeReport {
  const base = { format: "flask" as const, name, size: sizeOf(name, value) };
  const expiry = (issuedAt: Date | null | undefined) =>
    issuedAt ? iso(issuedAt.getTime() + maxAge * 1000) : null;
  const peeked = peekFlaskCookie(value);
  const unverifiedPayload = peeked?.session
    ? { kind: "session" as const, payload: toTypedJSON(peeked.session) }
    : {};
  if (secrets.length > 0) {
    const opened = openFlaskCookie(value, secrets, { maxAge, now });
    if (opened.ok) {
      return {
        ...base,
        kind: "session",
        status: "valid",
        verified: true,
        secret: secretRole(opened.keyIndex),
        issuedAt: iso(opened.issuedAt.getTime()),
        expiresAt: iso(opened.expiresAt.getTime()),
        compressed: opened.compressed,
        payload: toTypedJSON(opened.session),
      };
    }
    const status = opened.reason === "expired" || opened.reason === "future" ? opened.reason : "invalid";
    return {
      ...base,
      ...unverifiedPayload,
      status,
      verified: false,
      reason: FLASK_REASONS[opened.reason],
      issuedAt: iso(peeked?.issuedAt?.getTime()),
      expiresAt: expiry(peeked?.issuedAt),
    };
  }
  if (peeked === null || peeked.session === null) {
    return {
      ...base,
      status: "invalid",
      verified: false,
      reason: "not a readable Flask session cookie",
      issuedAt: null,
      expiresAt: null,
    };
  }
  const issuedAt = peeked.issuedAt?.getTime() ?? Number.NaN;
  const age = Math.floor(now / 1000) - Math.floor(issuedAt / 1000);
  const status: DecodeStatus = age > maxAge ? "expired" : age < 0 ? "future" : "unverified";
  return {
    ...base,
    ...unverifiedPayload,
    status,
    verified: false,
    reason: "no secret given: contents NOT verified",
    issuedAt: iso(issuedAt),
    expiresAt: expiry(peeked.issuedAt),
    compressed: peeked.compressed,
  };
}

function verifiedReport(
  format: DecodeReport["format"],
  name: string,
  value: string,
  verified: Verified,
  purpose: string,
): DecodeReport {
  return {
    format,
    ...describeValue(verified.value, purpose),
    name,
    status: "valid",
    verified: true,
    secret: secretRole(verified.keyIndex),
    issuedAt: iso(verified.issuedAt),
    expiresAt: iso(verified.expiresAt),
    size: sizeOf(name, value),
  };
}

function decodeSigned(value: string, names: readonly string[], secrets: string[], now: number): DecodeReport {
  const parts = readSigned(value)!;
  const base = {
    format: "flagon-signed" as const,
    issuedAt: iso(parts.issuedAt),
    expiresAt: iso(parts.expiresAt),
  };
  if (secrets.length === 0) {
    return {
      ...base,
      ...describeValue(parts.value),
      name: names[0]!,
      status: timeStatus(parts.issuedAt, parts.expiresAt, now) ?? "unverified",
      verified: false,
      reason: "no secret given: contents NOT verified",
      size: sizeOf(names[0]!, value),
    };
  }
  const keyring = keyringOf(secrets);
  const purposes = [SESSION_COOKIE_PURPOSE, SESSION_ID_PURPOSE];
  for (const name of names) {
    for (const purpose of purposes) {
      const verified = createSigner(keyring, purpose).verify(name, value, { now });
      if (verified) return verifiedReport("flagon-signed", name, value, verified, purpose);
    }
  }
  // Authentic at its own issue time? Then time is what failed, not the signature.
  for (const name of names) {
    for (const purpose of purposes) {
      const verified = createSigner(keyring, purpose).verify(name, value, { now: parts.issuedAt });
      if (verified) {
        return {
          ...verifiedReport("flagon-signed", name, value, verified, purpose),
          status: timeStatus(parts.issuedAt, parts.expiresAt, now) ?? "expired",
          verified: false,
          reason: "authentic, but not valid at this time",
        };
      }
    }
  }
  return {
    ...base,
    ...describeValue(parts.value),
    name: names.length === 1 ? names[0]! : names.join(" | "),
    status: "invalid",
    verified: false,
    reason: `the signature does not verify with the given secret(s) and cookie name${names.length > 1 ? "s" : ""}`,
    size: sizeOf(names[0]!, value),
  };
}

function decodeSealed(value: string, names: readonly string[], secrets: string[], now: number): DecodeReport {
  if (secrets.length === 0)
    throw new UsageError("a sealed cookie is encrypted: give --secret (or --secret-env)");
  const keyring = keyringOf(secrets);
  const sealer = createSealer(keyring, SESSION_COOKIE_PURPOSE);
  for (const name of names) {
    const opened = sealer.open(name, value, { now });
    if (opened) return verifiedReport("flagon-sealed", name, value, opened, SESSION_COOKIE_PURPOSE);
  }
  for (const name of names) {
    const authentic = openIgnoringTime(keyring, name, value);
    if (authentic) {
      return {
        format: "flagon-sealed",
        kind: "session",
        name,
        status: timeStatus(authentic.issuedAt, authentic.expiresAt, now) ?? "expired",
        verified: false,
        reason: "authentic, but not valid at this time",
        secret: secretRole(authentic.keyIndex),
        issuedAt: iso(authentic.issuedAt),
        expiresAt: iso(authentic.expiresAt),
        size: sizeOf(name, value),
      };
    }
  }
  return {
    format: "flagon-sealed",
    name: names.length === 1 ? names[0]! : names.join(" | "),
    status: "invalid",
    verified: false,
    reason:
      "does not open with the given secret(s) and cookie name(s): tampered, another key or another cookie",
    issuedAt: null,
    expiresAt: null,
    size: sizeOf(names[0]!, value),
  };
}

function keyringOf(secrets: string[]): Keyring {
  try {
    return new Keyring(secrets);
  } catch (error) {
    if (error instanceof FlagonError) throw new UsageError(error.message);
    throw error;
  }
}

export function inspectCookie(
  rawValue: string,
  options: { secrets: string[]; flask?: boolean; name?: string; maxAge?: number; now?: number },
): DecodeReport {
  const now = options.now ?? Date.now();
  // A bare value, a pasted "name=value" or a whole Set-Cookie line: the name it carries is the
  // name the MAC is checked against.
  const input = readCookieInput(rawValue);
  if (options.name !== undefined && input.name !== undefined && input.name !== options.name)
    throw new UsageError(`COOKIE is named ${input.name}, but --name says ${options.name}`);
  const name = options.name ?? input.name;
  const value = input.value;
  const maxAge = options.maxAge ?? FLASK_DEFAULT_MAX_AGE;
  const names = name === undefined ? DEFAULT_NAMES : [name];
  if (!options.flask) {
    if (readSigned(value)) return decodeSigned(value, names, options.secrets, now);
    if (isSealed(value)) return decodeSealed(value, names, options.secrets, now);
  }
  const report = decodeFlask(value, name ?? FLASK_COOKIE_NAME, options.secrets, maxAge, now);
  if (!options.flask && report.status === "invalid" && report.payload === undefined) {
    return { ...report, format: "unknown", reason: "neither a flagon (v1.) nor a Flask session cookie" };
  }
  return report;
}

const STATUS_EXIT: Record<DecodeStatus, number> = {
  valid: EXIT.ok,
  unverified: EXIT.ok,
  invalid: EXIT.invalid,
  expired: EXIT.expired,
  future: EXIT.expired,
};

const FORMAT_LABEL: Record<DecodeReport["format"], string> = {
  flask: "Flask session cookie (itsdangerous, HMAC-SHA1)",
  "flagon-signed": "flagon signed (v1, HMAC-SHA256)",
  "flagon-sealed": "flagon sealed (v1, AES-256-GCM)",
  unknown: "unknown",
};

function render(report: DecodeReport, now: number): string {
  const when = (text: string | null) =>
    text === null ? "—" : `${text} (${relative(Date.parse(text), now)})`;
  const status =
    report.status === "valid"
      ? `valid, verified with secret #${report.secret!.index + 1} (${report.secret!.role})`
      : `${report.status.toUpperCase()}${report.reason ? `: ${report.reason}` : ""}`;
  const rows: Array<[string, string]> = [
    ["format", FORMAT_LABEL[report.format] + (report.compressed ? ", zlib-compressed" : "")],
    ["cookie", report.name],
    ["status", status],
    ["issued", when(report.issuedAt)],
    [
      "expires",
      report.expiresAt === null && report.issuedAt !== null ? "no embedded expiry" : when(report.expiresAt),
    ],
    [
      "size",
      `${report.size.value} bytes; name + value ${report.size.total} of ${report.size.limit} (${report.size.headroom} to spare)`,
    ],
  ];
  if (report.kind)
    rows.push(["holds", report.kind === "session" ? "a whole session" : "a server-side session id"]);
  const payload =
    report.payload === undefined
      ? ""
      : `\n${report.format === "flask" ? "session (typed JSON)" : report.kind === "session-id" ? "store" : "payload"}${
          report.verified ? "" : " (NOT verified)"
        }:\n${JSON.stringify(report.payload, null, 2)}`;
  return `${table(rows)}${payload}\n`;
}

export function decode(argv: readonly string[], io: CliIO): number {
  const { values, positionals } = parseCommandLine(() =>
    parseArgs({
      args: [...argv],
      options: {
        secret: { type: "string", multiple: true },
        "secret-env": { type: "string", multiple: true },
        flask: { type: "boolean" },
        name: { type: "string" },
        "max-age": { type: "string" },
        json: { type: "boolean" },
      },
      allowPositionals: true,
      strict: true,
    }),
  );
  const cookie = single(positionals, "COOKIE")!;
  const now = Date.now();
  const report = inspectCookie(cookie, {
    secrets: collectSecrets(values, io),
    flask: values.flask,
    name: values.name,
    maxAge: seconds(values["max-age"], "--max-age"),
    now,
  });
  if (values.json) printJSON(io, report);
  else io.stdout(render(report, now));
  return STATUS_EXIT[report.status];
}
