import { parseArgs } from "node:util";
import { type Authentic, CLOCK_SKEW_MS, timeRejection, type Verified } from "../crypto/claims.js";
import { Keyring } from "../crypto/keyring.js";
import { createSealer, looksSealed } from "../crypto/sealer.js";
import { createSigner, type PeekedSigned, peekSigned } from "../crypto/signer.js";
import { FlagonError } from "../errors.js";
import {
  FLASK_COOKIE_NAME,
  FLASK_DEFAULT_MAX_AGE,
  type FlaskRejection,
  flaskTimeRejection,
  openFlaskCookie,
  peekFlaskCookie,
} from "../flask/cookie.js";
import { toTypedJSON } from "../flask/typed-json.js";
import type { ChunkRead } from "../session/chunks.js";
import { storeKey } from "../session/sessions.js";
import { MAX_MAX_CHUNKS } from "../stores/cookie.js";
import { readCookieInput, readHeaderSession } from "./cookie-input.js";
import {
  type CliIO,
  collectSecrets,
  EXIT,
  humanDuration,
  parseCommandLine,
  printJSON,
  relative,
  seconds,
  single,
  table,
  UsageError,
} from "./io.js";
import {
  decodeLegacy,
  detectLegacyFormat,
  forcedLegacyFormat,
  LEGACY_LABEL,
  type LegacySecrets,
} from "./legacy.js";
import { type DecodeReport, type DecodeStatus, iso, STATUS_OF, secretRole, sizeOf } from "./report.js";
import { DEFAULT_NAMES, SESSION_COOKIE_PURPOSE, SESSION_ID_PURPOSE } from "./sessions.js";

export type { DecodeReport, DecodeStatus } from "./report.js";

export const DECODE_USAGE = `Usage: flagon decode [--secret S ...] [--secret-env VAR ...] [--flask] [--name NAME]
                     [--max-age SECONDS] [--json] [FORMAT OPTIONS] COOKIE

Shows what a session cookie holds, whether it verifies and with which secret, when it was
issued, when it expires and how big it is. COOKIE is the cookie's value, a pasted name=value
("sid=v1.…", "session=eyJ…") or a whole Set-Cookie line ("sid=v1.…; Path=/; HttpOnly"); a name
it carries is the name verified against. A session split over chunks is read from the Cookie
header ("Cookie: sid.0=…; sid.1=…", or those pairs as the browser shows them) and joined.

  --secret S       a secret to verify with; repeat for old secrets (the first is current);
                   used for whichever format the cookie is
  --secret-env VAR read a secret from an environment variable (keeps it out of ps and history)
  --flask          a Flask session cookie (detected automatically unless it starts with "v1.")
  --name NAME      the cookie's name: flagon binds it into the MAC (default: the name in
                   COOKIE, else tries sid, __Host-sid, __Secure-sid; "session" for Flask)
  --max-age N      Flask: PERMANENT_SESSION_LIFETIME (default 2678400); Django:
                   SESSION_COOKIE_AGE (default 1209600), in seconds
  --json           print the report as JSON

The session cookies of the libraries flagon/migrate reads are recognised too; each format's
secret option (repeatable) verifies it and forces that format:
  --express-secret S         express-session's secret (connect.sid)
  --cookie-session-key K     cookie-session's keys, with
  --cookie-session-sig SIG   the value of its NAME.sig cookie
  --iron-password P          iron-session's password (tried under the seal's password id)
  --django-secret-key K      Django's SECRET_KEY (signed_cookies backend), and
  --django-salt SALT         its salt (default: the backend's own)
  --rails-secret-key-base K  Rails' secret_key_base (encrypted session cookie)

Signed cookies (flagon signed, Flask, cookie-session, Django) are readable without a secret;
encrypted ones (flagon sealed, iron-session, Rails) need it; an express-session cookie holds only
an id, never shown. Exit codes: 0 valid (or readable, unverified), 1 invalid, 2 usage error,
3 expired or issued in the future.`;

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

type Format = "flagon" | "flask";

/** Why a time rule refused it, for people: "it expired 3 d ago", "issued 2 h in the future (...)". */
function lateText(
  reason: "expired" | "not-yet-valid",
  format: Format,
  issuedAt: number,
  expiresAt: number | null,
  now: number,
): string {
  if (reason === "expired")
    return `${format === "flask" ? "older than max-age: " : ""}it expired ${relative(expiresAt ?? now, now)}`;
  const allowed =
    format === "flask"
      ? "Flask allows no clock skew"
      : `more than the ${CLOCK_SKEW_MS / 1000} s clock skew allowed`;
  return `issued ${humanDuration(issuedAt - now)} in the future (${allowed})`;
}

const FLASK_REASONS: Record<Exclude<FlaskRejection, "expired" | "not-yet-valid">, string> = {
  malformed: "not payload.timestamp.signature",
  "bad-mac": "the signature does not verify with the given secret(s)",
  "bad-payload": "correctly signed, but the payload is not a session (Flask would answer 500)",
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
    const rejected = { ...base, ...unverifiedPayload, status: STATUS_OF[opened.reason], verified: false };
    if (opened.reason === "malformed" || opened.reason === "bad-mac") {
      return {
        ...rejected,
        rejection: opened.reason,
        reason: FLASK_REASONS[opened.reason],
        issuedAt: iso(peeked?.issuedAt?.getTime()),
        expiresAt: expiry(peeked?.issuedAt),
      };
    }
    // Correctly signed: the times are authentic.
    const issuedAt = opened.issuedAt.getTime();
    const expiresAt = opened.expiresAt.getTime();
    return {
      ...rejected,
      rejection: opened.reason,
      reason:
        opened.reason === "bad-payload"
          ? FLASK_REASONS[opened.reason]
          : `authentic, but ${lateText(opened.reason, "flask", issuedAt, expiresAt, now)}`,
      secret: secretRole(opened.keyIndex),
      issuedAt: iso(issuedAt),
      expiresAt: iso(expiresAt),
    };
  }
  if (peeked === null || peeked.session === null) {
    return {
      ...base,
      status: "invalid",
      verified: false,
      rejection: peeked === null ? "malformed" : "bad-payload",
      reason: "not a readable Flask session cookie",
      issuedAt: null,
      expiresAt: null,
    };
  }
  const late = peeked.issuedAt ? flaskTimeRejection(peeked.issuedAt, { maxAge, now }) : undefined;
  const issuedAt = peeked.issuedAt?.getTime() ?? Number.NaN;
  return {
    ...base,
    ...unverifiedPayload,
    ...unverifiedTimes(late, "flask", issuedAt, issuedAt + maxAge * 1000, now),
    verified: false,
    issuedAt: iso(issuedAt),
    expiresAt: expiry(peeked.issuedAt),
    compressed: peeked.compressed,
  };
}

/** Without a secret: the status the cookie's own (unverified) times give it. */
function unverifiedTimes(
  late: "expired" | "not-yet-valid" | undefined,
  format: Format,
  issuedAt: number,
  expiresAt: number | null,
  now: number,
): Pick<DecodeReport, "status" | "reason" | "rejection"> {
  const unverified = "no secret given: contents NOT verified";
  if (late === undefined) return { status: "unverified", reason: unverified };
  return {
    status: STATUS_OF[late],
    rejection: late,
    reason: `${unverified}; by its own times, ${lateText(late, format, issuedAt, expiresAt, now)}`,
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

/** A flagon value the format authenticated but refused: expired, not yet valid, or for another name. */
function authenticReport(
  format: "flagon-signed" | "flagon-sealed",
  name: string,
  value: string,
  rejected: Authentic & ({ reason: "expired" | "not-yet-valid" } | { reason: "wrong-name"; name: string }),
  now: number,
): DecodeReport {
  const { reason, keyIndex, issuedAt, expiresAt } = rejected;
  const why =
    reason === "wrong-name"
      ? `authentic, but for the cookie named ${rejected.name}, not ${name} (flagon binds the name into the value: use --name ${rejected.name} or paste ${rejected.name}=VALUE)`
      : `authentic, but ${lateText(reason, "flagon", issuedAt, expiresAt, now)}`;
  return {
    format,
    name,
    status: STATUS_OF[reason],
    verified: false,
    rejection: reason,
    reason: why,
    ...(reason === "wrong-name" ? { authenticFor: rejected.name } : {}),
    secret: secretRole(keyIndex),
    issuedAt: iso(issuedAt),
    expiresAt: iso(expiresAt),
    size: sizeOf(name, value),
  };
}

/**
 * The names to check a flagon value against, each with the other names that would make a refusal
 * `wrong-name`: a given name is checked alone (the defaults as the other names); without one, each
 * default name in turn is a right one.
 */
function candidates(
  names: readonly string[],
  given: boolean,
): Array<[string, readonly string[] | undefined]> {
  return names.map((name) => [name, given ? DEFAULT_NAMES.filter((other) => other !== name) : undefined]);
}

function decodeSigned(
  value: string,
  peeked: PeekedSigned,
  names: readonly string[],
  given: boolean,
  secrets: string[],
  now: number,
): DecodeReport {
  const base = {
    format: "flagon-signed" as const,
    issuedAt: iso(peeked.issuedAt),
    expiresAt: iso(peeked.expiresAt),
  };
  if (secrets.length === 0) {
    const late = timeRejection(peeked.issuedAt, peeked.expiresAt, now);
    return {
      ...base,
      ...describeValue(peeked.value),
      name: names[0]!,
      ...unverifiedTimes(late, "flagon", peeked.issuedAt, peeked.expiresAt, now),
      verified: false,
      size: sizeOf(names[0]!, value),
    };
  }
  const keyring = keyringOf(secrets);
  // Each (purpose, name) pair is checked once; the first answer other than bad-mac is the answer.
  for (const purpose of [SESSION_COOKIE_PURPOSE, SESSION_ID_PURPOSE]) {
    const signer = createSigner(keyring, purpose);
    for (const [name, otherNames] of candidates(names, given)) {
      const checked = signer.check(name, value, { now, otherNames });
      if (checked.ok) return verifiedReport("flagon-signed", name, value, checked, purpose);
      if (checked.reason === "bad-mac" || checked.reason === "malformed") continue;
      return {
        ...authenticReport("flagon-signed", name, value, checked, now),
        ...describeValue(peeked.value, purpose),
      };
    }
  }
  return {
    ...base,
    ...describeValue(peeked.value),
    name: names.length === 1 ? names[0]! : names.join(" | "),
    status: "invalid",
    verified: false,
    rejection: "bad-mac",
    reason: `the signature does not verify with the given secret(s) and cookie name${names.length > 1 ? "s" : ""}`,
    size: sizeOf(names[0]!, value),
  };
}

function decodeSealed(
  value: string,
  names: readonly string[],
  given: boolean,
  secrets: string[],
  now: number,
): DecodeReport {
  if (secrets.length === 0)
    throw new UsageError("a sealed cookie is encrypted: give --secret (or --secret-env)");
  const sealer = createSealer(keyringOf(secrets), SESSION_COOKIE_PURPOSE);
  for (const [name, otherNames] of candidates(names, given)) {
    const checked = sealer.check(name, value, { now, otherNames });
    if (checked.ok) return verifiedReport("flagon-sealed", name, value, checked, SESSION_COOKIE_PURPOSE);
    if (checked.reason === "bad-mac" || checked.reason === "malformed") continue;
    return { ...authenticReport("flagon-sealed", name, value, checked, now), kind: "session" };
  }
  return {
    format: "flagon-sealed",
    name: names.length === 1 ? names[0]! : names.join(" | "),
    status: "invalid",
    verified: false,
    rejection: "bad-mac",
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
  options: {
    secrets: string[];
    flask?: boolean;
    name?: string;
    maxAge?: number;
    now?: number;
    /** The secrets of the formats flagon/migrate reads; giving one forces that format. */
    legacy?: LegacySecrets;
  },
): DecodeReport {
  const now = options.now ?? Date.now();
  // A Cookie header: the session cookie in it, or its chunks joined by the session layer's reader.
  const session = readHeaderSession(rawValue, options.name);
  if (session?.chunks === undefined) return inspectValue(session ?? readCookieInput(rawValue), options, now);
  const { chunks } = session;
  if (!chunks.ok) return unjoinedReport(session.name, chunks);
  return withChunks(inspectValue(session, options, now), session.name, chunks);
}

/** The session layer refuses chunks that do not join as "malformed" (an empty session, status invalid). */
function unjoinedReport(name: string, chunks: ChunkRead & { ok: false }): DecodeReport {
  const why =
    chunks.count === undefined
      ? `${name}.0 does not start with a chunk count (2 to ${MAX_MAX_CHUNKS}, then "."): cut short, or not a flagon chunk`
      : `${name}.0 says ${chunks.count} chunks, but ${name}.${chunks.missing} is missing or empty (not copied, or dropped by the browser)`;
  return {
    format: "unknown",
    name,
    status: "invalid",
    verified: false,
    rejection: "malformed",
    reason: `chunked session that does not join: ${why}; the app reads no session from it`,
    chunks: { count: chunks.count ?? 0, present: chunks.present, joined: false },
    issuedAt: null,
    expiresAt: null,
    size: sizeOf(name, ""),
  };
}

/** A joined value's report, saying it came in chunks and, when refused, what that means for chunks. */
function withChunks(report: DecodeReport, name: string, chunks: ChunkRead & { ok: true }): DecodeReport {
  const { count, present } = chunks;
  const extra = present > count ? `; ${name}.${present - 1} is past the count in ${name}.0 (${count})` : "";
  const refused = report.rejection === "bad-mac" || report.rejection === "malformed";
  return {
    ...report,
    chunks: { count, present, joined: true },
    ...(refused
      ? {
          reason: `${report.reason ?? "does not verify"}; it came as the ${count} chunks ${name}.0 … ${name}.${count - 1}, joined: one may be from another session or response, out of order or cut short${extra && `${extra}, so ${name}.0 may be from a set of another size`}`,
        }
      : {}),
  };
}

function inspectValue(
  input: { name?: string; value: string },
  options: Parameters<typeof inspectCookie>[1],
  now: number,
): DecodeReport {
  // A bare value, a pasted "name=value" or a whole Set-Cookie line: the name it carries is the
  // name the MAC is checked against.
  if (options.name !== undefined && input.name !== undefined && input.name !== options.name)
    throw new UsageError(`COOKIE is named ${input.name}, but --name says ${options.name}`);
  const name = options.name ?? input.name;
  const value = input.value;
  const maxAge = options.maxAge ?? FLASK_DEFAULT_MAX_AGE;
  const names = name === undefined ? DEFAULT_NAMES : [name];
  const given = name !== undefined;
  const legacy = options.legacy ?? {};
  const forced = forcedLegacyFormat(legacy);
  if (forced !== undefined && options.flask)
    throw new UsageError(`--flask and the ${forced} options name different formats`);
  const legacyOptions = { value, name, secrets: options.secrets, legacy, maxAge: options.maxAge, now };
  if (forced !== undefined) return decodeLegacy(forced, legacyOptions);
  if (!options.flask) {
    // Which format: the formats' own grammar decides (no flagon value is also a Flask cookie).
    const signed = peekSigned(value);
    if (signed !== null) return decodeSigned(value, signed, names, given, options.secrets, now);
    if (looksSealed(value)) return decodeSealed(value, names, given, options.secrets, now);
    if (value.startsWith("v1.")) {
      return {
        format: "unknown",
        name: name ?? names[0]!,
        status: "invalid",
        verified: false,
        rejection: "malformed",
        reason: "starts with v1. but is neither a flagon signed nor a sealed value (truncated or edited?)",
        issuedAt: null,
        expiresAt: null,
        size: sizeOf(name ?? names[0]!, value),
      };
    }
    const detected = detectLegacyFormat(value);
    if (detected !== undefined) return decodeLegacy(detected, legacyOptions);
  }
  const report = decodeFlask(value, name ?? FLASK_COOKIE_NAME, options.secrets, maxAge, now);
  if (!options.flask && report.status === "invalid" && report.payload === undefined) {
    return {
      ...report,
      format: "unknown",
      reason:
        "not a session cookie flagon knows: flagon (v1.), Flask, express-session, cookie-session, iron-session, Django or Rails",
    };
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
  ...LEGACY_LABEL,
  unknown: "unknown",
};

function render(report: DecodeReport, now: number): string {
  const when = (text: string | null) =>
    text === null ? "—" : `${text} (${relative(Date.parse(text), now)})`;
  const status =
    report.status === "valid"
      ? `valid, verified with secret #${report.secret!.index + 1} (${report.secret!.role})`
      : `${report.status.toUpperCase()}${
          report.rejection !== undefined && report.rejection !== report.status ? ` (${report.rejection})` : ""
        }${report.reason ? `: ${report.reason}` : ""}`;
  const rows: Array<[string, string]> = [
    [
      "format",
      FORMAT_LABEL[report.format] +
        (report.compressed ? ", zlib-compressed" : "") +
        (report.digest === undefined
          ? ""
          : `, ${report.format === "rails" ? "key PBKDF2-" : ""}${report.digest.toUpperCase()}`) +
        (report.metadata === true ? ", with Rails metadata" : "") +
        (report.passwordId === undefined ? "" : `, password id ${report.passwordId}`),
    ],
    ["cookie", report.name],
    ["status", status],
    ["issued", when(report.issuedAt)],
    [
      "expires",
      report.expiresAt === null && (report.issuedAt !== null || report.verified)
        ? "no embedded expiry"
        : when(report.expiresAt),
    ],
    [
      "size",
      report.chunks === undefined
        ? `${report.size.value} bytes; name + value ${report.size.total} of ${report.size.limit} (${report.size.headroom} to spare)`
        : report.chunks.joined
          ? `${report.size.value} bytes, over ${report.chunks.count} cookies of at most ${report.size.limit}`
          : "—",
    ],
  ];
  if (report.chunks) {
    const { count, present, joined } = report.chunks;
    const past =
      present > count
        ? `; ${report.name}.${count} … ${report.name}.${present - 1} past the count, ignored`
        : "";
    rows.push([
      "chunks",
      joined
        ? `${report.name}.0 … ${report.name}.${count - 1}, joined${past}`
        : `do not join (present: up to ${report.name}.${present - 1})`,
    ]);
  }
  if (report.kind)
    rows.push(["holds", report.kind === "session" ? "a whole session" : "a server-side session id"]);
  const payload =
    report.payload === undefined
      ? ""
      : `\n${report.format === "flask" ? "session (typed JSON)" : report.kind === "session-id" ? "store" : report.format in LEGACY_LABEL ? "session" : "payload"}${
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
        "express-secret": { type: "string", multiple: true },
        "cookie-session-key": { type: "string", multiple: true },
        "cookie-session-sig": { type: "string" },
        "iron-password": { type: "string", multiple: true },
        "django-secret-key": { type: "string", multiple: true },
        "django-salt": { type: "string" },
        "rails-secret-key-base": { type: "string", multiple: true },
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
    legacy: {
      express: values["express-secret"],
      cookieSession: values["cookie-session-key"],
      cookieSessionSig: values["cookie-session-sig"],
      iron: values["iron-password"],
      django: values["django-secret-key"],
      djangoSalt: values["django-salt"],
      rails: values["rails-secret-key-base"],
    },
  });
  if (values.json) printJSON(io, report);
  else io.stdout(render(report, now));
  return STATUS_EXIT[report.status];
}
