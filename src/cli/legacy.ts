/**
 * `flagon decode` for the session cookies of the libraries flagon/migrate reads: express-session,
 * cookie-session, iron-session, Django's signed_cookies and Rails' encrypted cookies. The formats
 * belong to src/migrate (each `open…` function says why it refused a value); this file only
 * recognises them and reports.
 */
import { CLOCK_SKEW_MS } from "../crypto/claims.js";
import {
  COOKIE_SESSION_COOKIE_NAME,
  openCookieSession,
  peekCookieSession,
} from "../migrate/cookie-session.js";
import {
  DJANGO_COOKIE_NAME,
  DJANGO_DEFAULT_MAX_AGE,
  DJANGO_SESSION_SALT,
  DjangoKeys,
  openDjangoSignedCookie,
  peekDjangoSignedCookie,
} from "../migrate/django.js";
import { EXPRESS_SESSION_COOKIE_NAME, unsignExpressSessionCookie } from "../migrate/express-session.js";
import { looksIronSealed, unsealIronSession } from "../migrate/iron-session.js";
import { looksRailsEncrypted, openRailsCookie, RailsKeys } from "../migrate/rails.js";
import { humanDuration, relative, UsageError } from "./io.js";
import { type DecodeReport, iso, type LegacyFormat, STATUS_OF, secretRole, sizeOf } from "./report.js";

/** The secrets given for the legacy formats (`--express-secret`, `--django-secret-key`, …). */
export interface LegacySecrets {
  express?: readonly string[];
  cookieSession?: readonly string[];
  /** The value of cookie-session's `.sig` cookie. */
  cookieSessionSig?: string;
  iron?: readonly string[];
  django?: readonly string[];
  djangoSalt?: string;
  rails?: readonly string[];
}

const OPTION_OF: Record<LegacyFormat, string> = {
  "express-session": "--express-secret",
  "cookie-session": "--cookie-session-key",
  "iron-session": "--iron-password",
  django: "--django-secret-key",
  rails: "--rails-secret-key-base",
};

/** The format the given secret options name, if any (naming two is a usage error). */
export function forcedLegacyFormat(secrets: LegacySecrets): LegacyFormat | undefined {
  const given: LegacyFormat[] = [];
  if (secrets.express?.length) given.push("express-session");
  if (secrets.cookieSession?.length || secrets.cookieSessionSig !== undefined) given.push("cookie-session");
  if (secrets.iron?.length) given.push("iron-session");
  if (secrets.django?.length || secrets.djangoSalt !== undefined) given.push("django");
  if (secrets.rails?.length) given.push("rails");
  if (given.length > 1)
    throw new UsageError(
      `${given.map((format) => OPTION_OF[format]).join(" and ")} name different formats: give one`,
    );
  return given[0];
}

/** The legacy format a value's grammar says it is, or undefined (flagon's and Flask's are told apart first). */
export function detectLegacyFormat(value: string): LegacyFormat | undefined {
  if (value.startsWith("s:")) return "express-session";
  if (looksIronSealed(value)) return "iron-session";
  if (looksRailsEncrypted(value)) return "rails";
  // payload:timestamp:signature, the signature 27 (SHA-1) or 43 (SHA-256) base64url characters.
  if (/^\.?[A-Za-z0-9_-]+:[0-9A-Za-z]{1,11}:[A-Za-z0-9_-]{27}(?:[A-Za-z0-9_-]{16})?$/.test(value))
    return "django";
  // cookie-session is base64 JSON without dots (Flask's base64 JSON has two).
  if (!value.includes(".") && peekCookieSession(value) !== undefined) return "cookie-session";
  return undefined;
}

interface Context {
  value: string;
  /** The name the input carried or --name gave. */
  name: string | undefined;
  /** The format's own secret option, else --secret / --secret-env. */
  secrets: readonly string[];
  legacy: LegacySecrets;
  maxAge: number | undefined;
  now: number;
}

function base(format: LegacyFormat, context: Context, fallbackName: string) {
  const name = context.name ?? fallbackName;
  return { format, name, issuedAt: null, expiresAt: null, size: sizeOf(context.name ?? "", context.value) };
}

const notVerified = (option: string) => `no secret given (${option}, or --secret): contents NOT verified`;

function expressReport(context: Context): DecodeReport {
  const report = {
    ...base("express-session", context, EXPRESS_SESSION_COOKIE_NAME),
    kind: "session-id" as const,
  };
  const where =
    "the session's data is in the app's express-session store (flagon/migrate reads it there); the id is not shown";
  if (context.secrets.length === 0) {
    if (!context.value.startsWith("s:")) {
      return {
        ...report,
        status: "invalid",
        verified: false,
        rejection: "malformed",
        reason: "not an s: signed id",
      };
    }
    return {
      ...report,
      status: "unverified",
      verified: false,
      reason: `${notVerified(OPTION_OF["express-session"])}; ${where}`,
    };
  }
  const unsigned = unsignExpressSessionCookie(context.value, context.secrets);
  if (unsigned.ok) {
    return {
      ...report,
      status: "valid",
      verified: true,
      secret: secretRole(unsigned.keyIndex),
      reason: where,
    };
  }
  return {
    ...report,
    status: "invalid",
    verified: false,
    rejection: unsigned.reason,
    reason:
      unsigned.reason === "malformed"
        ? "not an s: signed id (express-session ignores unsigned ids)"
        : "the signature does not verify with the given secret(s)",
  };
}

function cookieSessionReport(context: Context): DecodeReport {
  const report = { ...base("cookie-session", context, COOKIE_SESSION_COOKIE_NAME), kind: "session" as const };
  const peeked = peekCookieSession(context.value);
  const unverified = peeked === undefined ? {} : { payload: peeked };
  if (context.secrets.length === 0) {
    if (peeked === undefined)
      return {
        ...report,
        status: "invalid",
        verified: false,
        rejection: "malformed",
        reason: "not base64 JSON",
      };
    return {
      ...report,
      ...unverified,
      status: "unverified",
      verified: false,
      reason: notVerified(OPTION_OF["cookie-session"]),
    };
  }
  const signature = context.legacy.cookieSessionSig;
  if (signature === undefined) {
    throw new UsageError(
      `cookie-session signs in a second cookie, ${report.name}.sig: give its value with --cookie-session-sig`,
    );
  }
  const opened = openCookieSession(report.name, context.value, signature, context.secrets);
  if (opened.ok) {
    return {
      ...report,
      status: "valid",
      verified: true,
      secret: secretRole(opened.keyIndex),
      payload: opened.data,
    };
  }
  const reasons = {
    malformed: "empty",
    "bad-mac": `the .sig does not verify for the cookie named ${report.name} with the given key(s) (keygrip signs name=value)`,
    "bad-payload": "correctly signed, but not base64 JSON of an object",
  } as const;
  return {
    ...report,
    ...unverified,
    status: "invalid",
    verified: false,
    rejection: opened.reason,
    reason: reasons[opened.reason],
  };
}

function ironReport(context: Context): DecodeReport {
  const report = { ...base("iron-session", context, "(not given)"), kind: "session" as const };
  if (context.secrets.length === 0)
    throw new UsageError("an iron-session seal is encrypted: give --iron-password (or --secret)");
  // A diagnostic tool tries each password under the id the seal names (the app maps ids to passwords).
  const id = context.value.split("*")[1] || "default";
  let rejected: Extract<ReturnType<typeof unsealIronSession>, { ok: false }> | undefined;
  for (const [index, password] of context.secrets.entries()) {
    const opened = unsealIronSession(context.value, { [id]: password }, context.now);
    if (opened.ok) {
      return {
        ...report,
        status: "valid",
        verified: true,
        secret: secretRole(index),
        passwordId: opened.passwordId,
        expiresAt: iso(opened.expiresAt),
        payload: opened.data,
      };
    }
    if (opened.reason === "expired") {
      return {
        ...report,
        status: "expired",
        verified: false,
        rejection: "expired",
        secret: secretRole(index),
        passwordId: opened.passwordId,
        expiresAt: iso(opened.expiresAt),
        reason: `authentic, but it expired ${relative(opened.expiresAt, context.now)} (iron allows 60 s of clock skew)`,
      };
    }
    if (opened.reason === "malformed") {
      rejected = opened;
      break;
    }
    if (rejected === undefined || opened.reason === "bad-payload") rejected = opened;
  }
  const reason = rejected!.reason;
  return {
    ...report,
    status: STATUS_OF[reason],
    verified: false,
    rejection: reason,
    passwordId: id,
    reason:
      reason === "malformed"
        ? "not an iron seal: Fe26.2 and 8 fields separated by *, then ~2"
        : reason === "bad-mac"
          ? "the MAC does not verify with the given password(s): tampered, or another password"
          : "authentic, but the sealed data is not a JSON object",
  };
}

function djangoReport(context: Context): DecodeReport {
  const report = { ...base("django", context, DJANGO_COOKIE_NAME), kind: "session" as const };
  const maxAge = context.maxAge ?? DJANGO_DEFAULT_MAX_AGE;
  const peeked = peekDjangoSignedCookie(context.value);
  const times = (issuedAt: number | null | undefined) => ({
    issuedAt: iso(issuedAt),
    expiresAt: iso(issuedAt === null || issuedAt === undefined ? null : issuedAt + maxAge * 1000),
  });
  const unverified =
    peeked?.data === undefined ? {} : { payload: peeked.data, compressed: peeked.compressed };
  if (context.secrets.length === 0) {
    if (peeked === undefined || peeked.data === undefined) {
      return {
        ...report,
        status: "invalid",
        verified: false,
        rejection: "malformed",
        reason: "not a readable Django session cookie",
      };
    }
    const issuedAt = peeked.issuedAt ?? Number.NaN;
    const late =
      context.now / 1000 - issuedAt / 1000 > maxAge
        ? ("expired" as const)
        : issuedAt > context.now + CLOCK_SKEW_MS
          ? ("not-yet-valid" as const)
          : undefined;
    return {
      ...report,
      ...unverified,
      ...times(peeked.issuedAt),
      status: late === undefined ? "unverified" : STATUS_OF[late],
      verified: false,
      ...(late === undefined ? {} : { rejection: late }),
      reason: `${notVerified(OPTION_OF.django)}${late === undefined ? "" : `; by its own times, ${late === "expired" ? "older than SESSION_COOKIE_AGE" : "signed in the future"}`}`,
    };
  }
  const opened = openDjangoSignedCookie(
    context.value,
    new DjangoKeys(context.secrets, context.legacy.djangoSalt ?? DJANGO_SESSION_SALT),
    {
      maxAge,
      now: context.now,
    },
  );
  if (opened.ok) {
    return {
      ...report,
      ...times(opened.issuedAt),
      status: "valid",
      verified: true,
      secret: secretRole(opened.keyIndex),
      digest: opened.algorithm,
      compressed: opened.compressed,
      payload: opened.data,
    };
  }
  if (opened.reason === "malformed" || opened.reason === "bad-mac") {
    return {
      ...report,
      ...unverified,
      ...times(peeked?.issuedAt),
      status: "invalid",
      verified: false,
      rejection: opened.reason,
      reason:
        opened.reason === "malformed"
          ? "not payload:timestamp:signature"
          : "the signature does not verify with the given SECRET_KEY(s) and salt (SHA-256 and SHA-1 tried)",
    };
  }
  const why =
    opened.reason === "expired"
      ? `older than SESSION_COOKIE_AGE (${maxAge} s): it expired ${relative(opened.expiresAt, context.now)}`
      : opened.reason === "not-yet-valid"
        ? `signed ${humanDuration(opened.issuedAt - context.now)} in the future (flagon allows ${CLOCK_SKEW_MS / 1000} s of clock skew)`
        : "the payload is not base64 (zlib) JSON of an object";
  return {
    ...report,
    ...times(opened.issuedAt),
    status: STATUS_OF[opened.reason],
    verified: false,
    rejection: opened.reason,
    secret: secretRole(opened.keyIndex),
    digest: opened.algorithm,
    reason: `authentic, but ${why}`,
  };
}

function railsReport(context: Context): DecodeReport {
  if (context.secrets.length === 0)
    throw new UsageError("a Rails session cookie is encrypted: give --rails-secret-key-base (or --secret)");
  const keys = new RailsKeys(context.secrets);
  let name = context.name;
  let opened = openRailsCookie(context.value, keys, { cookieName: name ?? "", now: context.now });
  // Without a name, the purpose inside says which cookie it was written for.
  if (
    name === undefined &&
    !opened.ok &&
    opened.reason === "wrong-name" &&
    opened.purpose.startsWith("cookie.")
  ) {
    name = opened.purpose.slice("cookie.".length);
    opened = openRailsCookie(context.value, keys, { cookieName: name, now: context.now });
  }
  const report = { ...base("rails", { ...context, name }, "(not given)"), kind: "session" as const };
  if (opened.ok) {
    return {
      ...report,
      status: "valid",
      verified: true,
      secret: secretRole(opened.keyIndex),
      digest: opened.digest,
      metadata: opened.metadata,
      expiresAt: iso(opened.expiresAt),
      payload: opened.data,
    };
  }
  if (opened.reason === "malformed" || opened.reason === "bad-mac") {
    return {
      ...report,
      status: "invalid",
      verified: false,
      rejection: opened.reason,
      reason:
        opened.reason === "malformed"
          ? "not base64--base64--base64 (ciphertext, 12-byte IV, 16-byte tag)"
          : "does not decrypt with the given secret_key_base(s) (PBKDF2-SHA256 and -SHA1 tried): tampered, or another key",
    };
  }
  const authentic = { secret: secretRole(opened.keyIndex), digest: opened.digest };
  if (opened.reason === "wrong-name") {
    return {
      ...report,
      ...authentic,
      status: "invalid",
      verified: false,
      rejection: "wrong-name",
      authenticFor: opened.purpose.replace(/^cookie\./, ""),
      reason: `authentic, but its purpose is ${opened.purpose}, not cookie.${report.name} (Rails binds the cookie's name)`,
    };
  }
  if (opened.reason === "expired") {
    return {
      ...report,
      ...authentic,
      status: "expired",
      verified: false,
      rejection: "expired",
      expiresAt: iso(opened.expiresAt),
      reason: `authentic, but it expired ${relative(opened.expiresAt, context.now)}`,
    };
  }
  return {
    ...report,
    ...authentic,
    status: "invalid",
    verified: false,
    rejection: "bad-payload",
    reason: "authentic, but not a JSON session (a Marshal cookie, or not an object)",
  };
}

const REPORTS: Record<LegacyFormat, (context: Context) => DecodeReport> = {
  "express-session": expressReport,
  "cookie-session": cookieSessionReport,
  "iron-session": ironReport,
  django: djangoReport,
  rails: railsReport,
};

const SECRETS_OF: Record<LegacyFormat, (secrets: LegacySecrets) => readonly string[] | undefined> = {
  "express-session": (secrets) => secrets.express,
  "cookie-session": (secrets) => secrets.cookieSession,
  "iron-session": (secrets) => secrets.iron,
  django: (secrets) => secrets.django,
  rails: (secrets) => secrets.rails,
};

/** The report for a cookie of a legacy format: its own secret option, else `--secret`/`--secret-env`. */
export function decodeLegacy(
  format: LegacyFormat,
  options: {
    value: string;
    name: string | undefined;
    secrets: readonly string[];
    legacy: LegacySecrets;
    maxAge: number | undefined;
    now: number;
  },
): DecodeReport {
  const own = SECRETS_OF[format](options.legacy) ?? [];
  return REPORTS[format]({ ...options, secrets: own.length > 0 ? own : options.secrets });
}

export const LEGACY_LABEL: Record<LegacyFormat, string> = {
  "express-session": "express-session signed id (cookie-signature, HMAC-SHA256)",
  "cookie-session": "cookie-session (base64 JSON, keygrip HMAC-SHA1 in .sig)",
  "iron-session": "iron-session seal (Fe26.2, AES-256-CBC + HMAC-SHA256)",
  django: "Django signed_cookies session (TimestampSigner)",
  rails: "Rails encrypted cookie (AES-256-GCM)",
};
