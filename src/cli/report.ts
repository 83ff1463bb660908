/**
 * What `flagon decode` reports about a cookie, whatever its format, and the helpers every format's
 * reading shares (src/cli/decode.ts for flagon's and Flask's, src/cli/legacy.ts for the libraries
 * flagon/migrate reads).
 */
import { Buffer } from "node:buffer";
import { MAX_COOKIE_BYTES } from "../cookie/constants.js";
import type { RejectReason } from "../crypto/claims.js";
import type { LegacyRejectReason } from "../migrate/reader.js";

/** The formats of the libraries flagon/migrate reads. */
export type LegacyFormat = "express-session" | "cookie-session" | "iron-session" | "django" | "rails";

export type DecodeStatus = "valid" | "unverified" | "invalid" | "expired" | "future";

export interface DecodeReport {
  format: "flask" | "flagon-signed" | "flagon-sealed" | LegacyFormat | "unknown";
  /** A whole session in the cookie, or the signed id of a server-side session. */
  kind?: "session" | "session-id";
  /** The cookie name it was checked against. */
  name: string;
  status: DecodeStatus;
  verified: boolean;
  /** For people: why it is not valid (or that it is not verified). */
  reason?: string;
  /**
   * The format's own reason (`RejectReason`, src/crypto/claims.ts) when it refused the cookie; without a
   * secret, `expired`/`not-yet-valid` when the cookie's unverified times already fail the time rules.
   */
  rejection?: RejectReason;
  /** `wrong-name`: the default cookie name the value is authentic for. */
  authenticFor?: string;
  /** The secret that verified it: index 0 is the current one. */
  secret?: { index: number; role: "current" | "fallback" };
  issuedAt: string | null;
  expiresAt: string | null;
  compressed?: boolean;
  /** Django: the signature's hash; Rails: the PBKDF2 digest that derived the key (sha1 up to Rails 6.1, sha256 from 7). */
  digest?: "sha256" | "sha1";
  /** iron-session: the password id the seal names. */
  passwordId?: string;
  /** Rails: the plaintext was Rails 6's metadata envelope (purpose and expiry). */
  metadata?: boolean;
  /**
   * A session split over chunks `name.0 … name.<count-1>`: the count in `name.0` (0 when it has none),
   * one past the highest chunk present, and whether they joined. `size` is then the joined value's.
   */
  chunks?: { count: number; present: number; joined: boolean };
  size: { name: number; value: number; total: number; limit: number; headroom: number };
  /**
   * Flask: typed JSON (docs/flask.md). flagon: the JSON inside. Session ids: only their store key
   * (express-session's ids are not shown at all: its store keys are the ids).
   */
  payload?: unknown;
}

export const iso = (ms: number | null | undefined): string | null =>
  ms === null || ms === undefined || !Number.isFinite(ms) ? null : new Date(ms).toISOString();

export const secretRole = (index: number) => ({
  index,
  role: index === 0 ? ("current" as const) : ("fallback" as const),
});

export function sizeOf(name: string, value: string): DecodeReport["size"] {
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

/** The status (and exit code) each of the formats' reasons means. */
export const STATUS_OF: Record<LegacyRejectReason, DecodeStatus> = {
  malformed: "invalid",
  "bad-mac": "invalid",
  "wrong-name": "invalid",
  "bad-payload": "invalid",
  expired: "expired",
  "not-yet-valid": "future",
  "unknown-id": "invalid",
};
