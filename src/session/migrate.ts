/**
 * The session core's side of `migrateFrom` (flagon/migrate): for a request without a valid flagon
 * session, ask each legacy reader in turn; the first legacy session found becomes a new flagon session,
 * and the commit plan of that request expires the legacy cookies. Nothing here runs for a request that
 * carries a valid flagon session.
 */
import { parseCookies } from "../cookie/parse.js";
import { ConfigError, SessionStoreError } from "../errors.js";
import { expiryLine, type LegacyReader } from "../migrate/reader.js";
import type { SessionLogger } from "./options.js";
import type { CommitPlan } from "./plan.js";
import { RESERVED_PREFIX, type SessionData } from "./session.js";
import { reportStoreFailure } from "./store-failure.js";

/** A legacy session found for one request, and what its commit must do besides the flagon cookie. */
export interface LegacySession {
  /** The reader's name (`session.migratedFrom`). */
  readonly from: string;
  readonly data: SessionData;
  readonly permanent: boolean;
  /** `Set-Cookie` lines that expire the legacy cookies the request carried. */
  readonly expiryLines: readonly string[];
  /** The reader's clean-up once the new session is stored (express-session's `destroyLegacy`). */
  readonly afterCommit: (() => Promise<void>) | undefined;
}

/** Refuses at construction anything that is not a list of readers from flagon/migrate. */
export function checkLegacyReaders(value: unknown): readonly LegacyReader[] {
  if (value === undefined) return [];
  const hint =
    'migrateFrom must be a list of readers from "flagon/migrate", e.g. migrateFrom: [expressSession({ secret, store })]';
  if (!Array.isArray(value)) throw new ConfigError("ERR_INVALID_OPTION", hint);
  for (const reader of value as unknown[]) {
    const candidate = reader as Partial<LegacyReader> | null;
    if (
      typeof candidate !== "object" ||
      candidate === null ||
      typeof candidate.name !== "string" ||
      typeof candidate.read !== "function" ||
      !Array.isArray(candidate.cookies)
    ) {
      throw new ConfigError(
        "ERR_INVALID_OPTION",
        typeof reader === "function"
          ? `${hint}: ${reader.name || "a reader factory"} must be called with its options`
          : hint,
      );
    }
  }
  return Object.freeze([...(value as LegacyReader[])]);
}

/**
 * The first legacy session among `readers` in the request's cookies, or undefined. Bad legacy cookies
 * are skipped (logged at debug level with the reader's reason); a legacy store that fails rejects with
 * its `SessionStoreError` (the adapter answers 503), logged once.
 */
export async function readLegacySession(
  readers: readonly LegacyReader[],
  header: string | readonly string[],
  context: { now: number; secure: boolean; cookieName: string; logger: SessionLogger },
): Promise<LegacySession | undefined> {
  // The header's size was checked by load(); the parser must not apply a smaller cap of its own.
  const cookies = parseCookies(header, { maxBytes: Number.POSITIVE_INFINITY });
  for (const reader of readers) {
    let result: Awaited<ReturnType<LegacyReader["read"]>>;
    try {
      result = await reader.read(cookies, { now: context.now });
    } catch (error) {
      if (error instanceof SessionStoreError) reportStoreFailure(context.logger, error, "read");
      throw error;
    }
    if (result === undefined) continue;
    if (!result.ok) {
      context.logger.debug?.(result.reason, { cookie: reader.cookies[0]?.name, migrateFrom: reader.name });
      continue;
    }
    const data: SessionData = Object.create(null);
    for (const [key, value] of Object.entries(result.data)) {
      // flagon's reserved keys (the CSRF token) are never taken from outside.
      if (!key.startsWith(RESERVED_PREFIX) && value !== undefined) data[key] = value;
    }
    // A legacy cookie with the flagon cookie's own name is replaced by the flagon line itself.
    const expiryLines = reader.cookies
      .filter((cookie) => cookie.name !== context.cookieName && cookies[cookie.name] !== undefined)
      .map((cookie) => expiryLine(cookie, context.secure));
    return {
      from: reader.name,
      data,
      permanent: result.permanent === true,
      expiryLines,
      afterCommit: result.afterCommit,
    };
  }
  return undefined;
}

/**
 * The commit plan of a migrated session's request: the plan the session's own changes make, plus the
 * lines that expire the legacy cookies (whatever the handler did: a logout in that same request must
 * not leave the legacy cookie to log the user back in) and, after the flagon write, the reader's clean-up.
 */
export function withLegacyExpiry(
  plan: CommitPlan,
  legacy: LegacySession,
  cacheControl: string | false,
): CommitPlan {
  const { afterCommit } = legacy;
  const write = plan.write;
  const lines = legacy.expiryLines;
  return {
    ...plan,
    vary: true,
    legacyCookies: lines.length > 0 ? lines : undefined,
    cacheControl:
      plan.cacheControl ?? (lines.length > 0 && cacheControl !== false ? cacheControl : undefined),
    // Write first, clean up second: a failed write leaves the user their legacy session.
    write:
      afterCommit === undefined
        ? write
        : write === undefined
          ? afterCommit
          : async () => {
              await write();
              await afterCommit();
            },
  };
}
