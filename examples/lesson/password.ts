import { createHash, scrypt, timingSafeEqual } from "node:crypto";
import { ConcurrencyGate } from "./throttle.js";

/**
 * The lesson's demo user, `leo` / `1234`, with the password kept the way a real app keeps one:
 * a salted scrypt hash (never the password itself), checked in constant time.
 * Format: `scrypt$N$r$p$salt$hash` (salt and hash in base64url).
 */
export const DEMO_USER = {
  username: "leo",
  passwordHash: "scrypt$16384$8$1$QgGz4RPvFOWD4HY3hnfThA$_noLWkgOjtksJ44GTepIc9fvK8eMf3v_wWLfH4N9QDU",
} as const;

function scryptAsync(
  password: string,
  salt: Buffer,
  keylen: number,
  cost: { N: number; r: number; p: number },
) {
  return new Promise<Buffer>((resolve, reject) => {
    // maxmem: scrypt needs 128 * N * r bytes; leave headroom over node's 32 MiB default.
    scrypt(password, salt, keylen, { ...cost, maxmem: 256 * cost.N * cost.r }, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

/**
 * Password checks running at once: each is a 16 MiB scrypt on libuv's pool of 4 threads, which
 * file and DNS work share. Two run, eight wait; beyond that a check fails at once with
 * `GateBusyError` (the login answers 503), so a flood of logins cannot take the whole pool or
 * queue without bound.
 */
export const passwordChecks = new ConcurrencyGate(2, 8);

/**
 * True when `password` matches the encoded hash. Runs scrypt off the event loop (libuv pool), at
 * most `passwordChecks.concurrency` at once; throws `GateBusyError` when too many are waiting.
 */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = encoded.split("$");
  if (scheme !== "scrypt" || salt === undefined || hash === undefined) return false;
  const expected = Buffer.from(hash, "base64url");
  const actual = await passwordChecks.run(() =>
    scryptAsync(password, Buffer.from(salt, "base64url"), expected.length, {
      N: Number(n),
      r: Number(r),
      p: Number(p),
    }),
  );
  return timingSafeEqual(actual, expected);
}

/** Compares two strings in constant time (hashing first makes the lengths equal). */
function sameText(a: string, b: string): boolean {
  return timingSafeEqual(createHash("sha256").update(a).digest(), createHash("sha256").update(b).digest());
}

/**
 * Checks a login. The password hash is computed even for an unknown username, so the answer
 * takes as long for a wrong name as for a wrong password (no user enumeration by timing).
 */
export async function checkLogin(username: string, password: string): Promise<boolean> {
  const passwordOk = await verifyPassword(password, DEMO_USER.passwordHash);
  return sameText(username, DEMO_USER.username) && passwordOk;
}
