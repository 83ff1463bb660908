/**
 * Hostile legacy cookies: whatever a request carries under a legacy cookie's name, migrateFrom never
 * throws and never adopts it unless the old library's key made it. Property tests over garbage, over
 * one-bit changes of every valid vector (made by the real libraries), and over time.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseCookies } from "../../src/cookie/index.js";
import { createSessions, memoryStore } from "../../src/index.js";
import { LIBRARIES, type Library, loadVectors, readerFor } from "./load-vectors.js";

const SECRET = "flagon secret for the hostile legacy cookie tests";
const YEAR = 365 * 86_400_000;

async function loadWith(library: Library, vector: ReturnType<typeof loadVectors>[number], cookie: string) {
  const sessions = createSessions({
    secret: SECRET,
    store: memoryStore(),
    migrateFrom: [readerFor(library, vector)],
  });
  const session = await sessions.load({ headers: { cookie } });
  const headers = new Headers();
  await sessions.commit(session, headers);
  return { session, lines: headers.getSetCookie() };
}

/** The header with one bit of one cookie's (decoded) value flipped, re-encoded as a browser would send it. */
function flipBit(header: string, cookieIndex: number, position: number, bit: number): string {
  const pairs = header.split("; ");
  const index = cookieIndex % pairs.length;
  const pair = pairs[index]!;
  const eq = pair.indexOf("=");
  const value = decodeURIComponent(pair.slice(eq + 1));
  if (value.length === 0) return header;
  const at = position % value.length;
  // Bits 0-6 only: the value stays ASCII text, as a cookie value is.
  const flipped = String.fromCharCode(value.charCodeAt(at) ^ (1 << bit));
  pairs[index] =
    `${pair.slice(0, eq)}=${encodeURIComponent(value.slice(0, at) + flipped + value.slice(at + 1))}`;
  return pairs.join("; ");
}

describe.each(LIBRARIES)("%s: hostile cookies", (library) => {
  const vectors = loadVectors(library);
  const valid = vectors.filter((vector) => vector.expected !== null);
  const names = [...new Set(vectors.flatMap((vector) => Object.keys(parseCookies(vector.cookie_header))))];

  it("any value under the legacy cookie names: no throw, no migration, no Set-Cookie", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.subarray(names, { minLength: 1 }),
        fc.array(
          fc.oneof(fc.string({ maxLength: 300 }), fc.stringMatching(/^[A-Za-z0-9+/=_.:*~-]{0,400}$/)),
          {
            minLength: 1,
            maxLength: 3,
          },
        ),
        async (cookieNames, values) => {
          const header = cookieNames
            .map((name, i) => `${name}=${encodeURIComponent(values[i % values.length]!)}`)
            .join("; ");
          const { session, lines } = await loadWith(library, vectors[0]!, header);
          expect(session.migratedFrom).toBeUndefined();
          expect(session.toJSON()).toEqual({});
          expect(lines).toEqual([]);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("one bit changed anywhere in a valid legacy cookie: refused", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...valid),
        fc.nat(),
        fc.nat(),
        fc.integer({ min: 0, max: 6 }),
        async (vector, cookieIndex, position, bit) => {
          const header = flipBit(vector.cookie_header, cookieIndex, position, bit);
          fc.pre(header !== vector.cookie_header);
          const { session } = await loadWith(library, vector, header);
          expect(session.migratedFrom).toBeUndefined();
          expect(session.toJSON()).toEqual({});
        },
      ),
      { numRuns: 200 },
    );
  });

  it("a valid legacy cookie read years later: refused when its format carries a time", async () => {
    for (const vector of valid) {
      const late = { ...vector, now: vector.now + 5 * YEAR };
      const reader = readerFor(library, late);
      const result = await reader.read(parseCookies(vector.cookie_header), { now: late.now });
      // cookie-session holds no time (the browser enforced its maxAge), nor does a browser-session
      // express-session record, an iron seal without TTL, or a Rails cookie without exp.
      const timeless = library === "cookie-session" || (library !== "django" && vector.permanent === false);
      expect({ id: vector.id, ok: result?.ok }).toEqual({ id: vector.id, ok: timeless });
      if (!timeless) expect(result).toEqual({ ok: false, reason: "expired" });
    }
  });
});
