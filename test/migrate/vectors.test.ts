/**
 * The cookies in test/fixtures/migrate/*.json were minted by the real libraries (express-session,
 * cookie-session, iron-session, Django 3.2, ActiveSupport 6.1; make-vectors.ts), and each records
 * whether that library accepts it. flagon's readers must read every one the way the library does
 * (the one deliberate difference says why), and through createSessions({ migrateFrom }) a valid one
 * becomes a migrated flagon session, an invalid one an empty session.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { parseCookies } from "../../src/cookie/index.js";
import { createSessions, memoryStore } from "../../src/index.js";
import { LIBRARIES, loadVectors, readerFor } from "./load-vectors.js";

const SECRET = "flagon's own secret for the migrate vectors test";

afterEach(() => {
  vi.useRealTimers();
});

describe.each(LIBRARIES)("%s vectors", (library) => {
  const vectors = loadVectors(library);

  it("has valid and invalid vectors, each made and judged by the library", () => {
    expect(vectors.some((vector) => vector.expected !== null)).toBe(true);
    expect(vectors.some((vector) => vector.expected === null)).toBe(true);
  });

  it.each(vectors.map((vector) => [vector.id, vector] as const))(
    "%s: read as the library reads it",
    async (_id, vector) => {
      if (vector.difference === undefined) expect(vector.library_accepts).toBe(vector.expected !== null);
      else expect(vector.library_accepts).not.toBe(vector.expected !== null);
      const reader = readerFor(library, vector);
      const result = await reader.read(parseCookies(vector.cookie_header), { now: vector.now });
      if (vector.expected !== null) {
        expect(result).toMatchObject({ ok: true, data: vector.expected, permanent: vector.permanent });
      } else if (vector.reason === null) {
        expect(result).toBeUndefined();
      } else {
        expect(result).toEqual({ ok: false, reason: vector.reason });
      }
    },
  );

  it.each(vectors.map((vector) => [vector.id, vector] as const))(
    "%s: through createSessions({ migrateFrom })",
    async (_id, vector) => {
      vi.useFakeTimers({ toFake: ["Date"] });
      vi.setSystemTime(vector.now);
      const reader = readerFor(library, vector);
      const sessions = createSessions({ secret: SECRET, store: memoryStore(), migrateFrom: [reader] });
      const session = await sessions.load({ headers: { cookie: vector.cookie_header } });
      const headers = new Headers();
      await sessions.commit(session, headers);
      const names = headers.getSetCookie().map((line) => line.slice(0, line.indexOf("=")));
      if (vector.expected === null) {
        expect(session.migratedFrom).toBeUndefined();
        expect(session.toJSON()).toEqual({});
        expect(names).toEqual([]);
        return;
      }
      expect(session.migratedFrom).toBe(reader.name);
      expect(session.isNew).toBe(true);
      expect(session.toJSON()).toEqual(vector.expected);
      expect(session.permanent).toBe(vector.permanent);
      // The new flagon cookie, and every legacy cookie the request carried, expired.
      const legacy = reader.cookies
        .map((cookie) => cookie.name)
        .filter((name) => name in parseCookies(vector.cookie_header));
      expect(names).toEqual(["sid", ...legacy]);
      for (const line of headers.getSetCookie().slice(1)) {
        expect(line).toMatch(/^[^=]+=; /);
        expect(line).toContain("; Max-Age=0");
        expect(line).toContain("; Expires=Thu, 01 Jan 1970 00:00:00 GMT");
        expect(line).toContain("; Path=/");
      }
    },
  );
});
