/**
 * createSessions({ migrateFrom }): a request without a valid flagon session but with a valid legacy
 * one becomes a new flagon session, the legacy cookies are expired in the same response, and nothing
 * runs once the user has a flagon cookie. The legacy cookies here are cookie-session's, signed by
 * keygrip itself (cookie-session's signer).
 */
import { createRequire } from "node:module";
import Keygrip from "keygrip";
import { describe, expect, it, vi } from "vitest";
import { parseCookies } from "../../src/cookie/index.js";
import { ConfigError, cookieStore, createSessions, memoryStore, SessionStoreError } from "../../src/index.js";
import {
  cookieSession,
  djangoSignedCookies,
  expressSession,
  ironSession,
  type LegacyReader,
  railsEncryptedCookie,
} from "../../src/migrate/index.js";
import { applyPlanToHeaders } from "../../src/session/index.js";

const SECRET = "flagon secret for the migrateFrom tests, 32+ bytes";
/** express-session's own signer (cookie-signature, no type declarations). */
const { sign } = createRequire(import.meta.url)("cookie-signature") as {
  sign(value: string, secret: string): string;
};
const KEYS = ["the cookie-session key"];

/** A cookie-session cookie pair, as cookie-session writes it. */
function legacyCookie(data: unknown, name = "session", keys = KEYS): string {
  const value = Buffer.from(JSON.stringify(data)).toString("base64");
  return `${name}=${value}; ${name}.sig=${new Keygrip(keys).sign(`${name}=${value}`)}`;
}

async function roundTrip(
  sessions: ReturnType<typeof createSessions>,
  cookie: string | undefined,
  use = (_s: never) => {},
) {
  const session = await sessions.load({ headers: cookie === undefined ? {} : { cookie } });
  use(session as never);
  const headers = new Headers();
  await sessions.commit(session, headers);
  return { session, headers, lines: headers.getSetCookie() };
}

const nameOf = (line: string) => line.slice(0, line.indexOf("="));
const pairOf = (line: string) => line.split(";", 1)[0]!;

describe("migrateFrom", () => {
  it("turns a valid legacy session into a new flagon session and expires the legacy cookies in the same response", async () => {
    const sessions = createSessions({ secret: SECRET, migrateFrom: [cookieSession({ keys: KEYS })] });
    const { session, headers, lines } = await roundTrip(
      sessions,
      `${legacyCookie({ user: "leo" })}; other=1`,
    );
    expect(session.migratedFrom).toBe("cookie-session");
    expect(session.status).toBe("migrated");
    expect(session.isNew).toBe(true);
    expect(session.modified).toBe(true);
    expect(session.get("user")).toBe("leo");
    expect(lines.map(nameOf)).toEqual(["sid", "session", "session.sig"]);
    for (const line of lines.slice(1)) {
      expect(line).toMatch(
        /^session(\.sig)?=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=\/; HttpOnly; SameSite=Lax$/,
      );
    }
    expect(headers.get("cache-control")).toBe("private, no-store");
    expect(headers.get("vary")).toBe("Cookie");

    // The next request carries the flagon cookie (and, from an old tab, even the legacy one).
    const next = await roundTrip(sessions, `${pairOf(lines[0]!)}; ${legacyCookie({ user: "someone else" })}`);
    expect(next.session.isNew).toBe(false);
    expect(next.session.migratedFrom).toBeUndefined();
    expect(next.session.status).toBe("active");
    expect(next.session.get("user")).toBe("leo");
    expect(next.lines).toEqual([]);
  });

  it("runs no reader when the request has a valid flagon session (zero cost after migration)", async () => {
    const inner = cookieSession({ keys: KEYS });
    const read = vi.fn(inner.read);
    const spy: LegacyReader = { ...inner, read };
    const sessions = createSessions({ secret: SECRET, migrateFrom: [spy] });
    const first = await roundTrip(sessions, legacyCookie({ user: "leo" }));
    expect(read).toHaveBeenCalledTimes(1);
    const flagon = pairOf(first.lines[0]!);
    for (let i = 0; i < 5; i++) {
      const later = await roundTrip(
        sessions,
        `${flagon}; ${legacyCookie({ user: "leo" })}`,
        (s: { get(k: string): unknown }) => s.get("user"),
      );
      expect(later.session.get("user")).toBe("leo");
    }
    expect(read).toHaveBeenCalledTimes(1);
    // A request without any Cookie header never parses anything either.
    await roundTrip(sessions, undefined);
    expect(read).toHaveBeenCalledTimes(1);
  });

  it("also migrates when the flagon cookie is there but invalid (tampered, expired, unknown id)", async () => {
    const sessions = createSessions({ secret: SECRET, migrateFrom: [cookieSession({ keys: KEYS })] });
    const { session, lines } = await roundTrip(sessions, `sid=v1.garbage; ${legacyCookie({ user: "leo" })}`);
    expect(session.migratedFrom).toBe("cookie-session");
    expect(lines.map(nameOf)).toEqual(["sid", "session", "session.sig"]);
  });

  it("ignores a tampered, wrong-key or unknown legacy cookie: an empty session, nothing expired", async () => {
    const sessions = createSessions({ secret: SECRET, migrateFrom: [cookieSession({ keys: KEYS })] });
    const good = legacyCookie({ user: "leo" });
    const forged = `session=${Buffer.from('{"user":"root"}').toString("base64")}; ${good.split("; ")[1]}`;
    for (const cookie of [
      forged,
      legacyCookie({ user: "leo" }, "session", ["another key"]),
      "session=%%%",
      "unrelated=1",
    ]) {
      const { session, lines } = await roundTrip(sessions, cookie, (s: { get(k: string): unknown }) =>
        s.get("user"),
      );
      expect(session.migratedFrom).toBeUndefined();
      expect(session.toJSON()).toEqual({});
      expect(lines).toEqual([]);
    }
  });

  it("logs why a legacy cookie was refused, without its value", async () => {
    const debug = vi.fn();
    const sessions = createSessions({
      secret: SECRET,
      logger: { debug },
      migrateFrom: [cookieSession({ keys: KEYS })],
    });
    const cookie = legacyCookie({ user: "leo" }, "session", ["another key"]);
    await roundTrip(sessions, cookie);
    expect(debug).toHaveBeenCalledWith("bad-mac", { cookie: "session", migrateFrom: "cookie-session" });
    expect(JSON.stringify(debug.mock.calls)).not.toContain(parseCookies(cookie).session);
  });

  it("tries the readers in order; the first valid one wins and only its cookies are expired", async () => {
    const django = djangoSignedCookies({ secretKey: "unused django key" });
    const sessions = createSessions({
      secret: SECRET,
      migrateFrom: [
        django,
        cookieSession({ keys: KEYS, name: "a" }),
        cookieSession({ keys: KEYS, name: "b" }),
      ],
    });
    const { session, lines } = await roundTrip(
      sessions,
      `sessionid=bad:bad:bad; ${legacyCookie({ from: "a" }, "a")}; ${legacyCookie({ from: "b" }, "b")}`,
    );
    expect(session.get("from")).toBe("a");
    expect(lines.map(nameOf)).toEqual(["sid", "a", "a.sig"]);
  });

  it("passes the data through the reader's map (sync or async)", async () => {
    const sessions = createSessions({
      secret: SECRET,
      migrateFrom: [
        cookieSession({
          keys: KEYS,
          map: async (data) => ({ userId: String(data.user_id), migrated: true }),
        }),
      ],
    });
    const { session } = await roundTrip(sessions, legacyCookie({ user_id: 42, _csrf: "x" }));
    expect(session.toJSON()).toEqual({ userId: "42", migrated: true });
  });

  it("a map that returns no object is a programming error, reported as such", async () => {
    const sessions = createSessions({
      secret: SECRET,
      migrateFrom: [cookieSession({ keys: KEYS, map: () => null as never })],
    });
    await expect(sessions.load({ headers: { cookie: legacyCookie({ a: 1 }) } })).rejects.toMatchObject({
      code: "ERR_INVALID_OPTION",
    });
  });

  it("never takes flagon's reserved keys from a legacy session", async () => {
    const sessions = createSessions({ secret: SECRET, migrateFrom: [cookieSession({ keys: KEYS })] });
    const { session } = await roundTrip(
      sessions,
      legacyCookie({ user: "leo", "__flagon.csrf": "attacker's token" }),
    );
    expect(session.toJSON()).toEqual({ user: "leo" });
    expect(session.verifyCsrfToken("attacker's token")).toBe(false);
  });

  it("checks migrated data against the schema: data it refuses is ignored, not a 500 at commit", async () => {
    const schema = {
      "~standard": {
        version: 1 as const,
        vendor: "test",
        validate: (value: unknown) =>
          typeof (value as { user?: unknown }).user === "string"
            ? { value: value as { user: string } }
            : { issues: [{ message: "user must be a string" }] },
      },
    };
    const sessions = createSessions({ secret: SECRET, schema, migrateFrom: [cookieSession({ keys: KEYS })] });
    const bad = await roundTrip(sessions, legacyCookie({ user: 42 }));
    expect(bad.session.migratedFrom).toBeUndefined();
    expect(bad.lines).toEqual([]);
    const good = await roundTrip(sessions, legacyCookie({ user: "leo" }));
    expect(good.session.migratedFrom).toBe("cookie-session");
  });

  it("a logout in the migrating request still expires the legacy cookie (it would log the user back in)", async () => {
    const sessions = createSessions({ secret: SECRET, migrateFrom: [cookieSession({ keys: KEYS })] });
    const { lines } = await roundTrip(sessions, legacyCookie({ user: "leo" }), (s: { destroy(): void }) =>
      s.destroy(),
    );
    expect(lines.map(nameOf)).toEqual(["session", "session.sig"]);
    const cleared = await roundTrip(sessions, legacyCookie({ user: "leo" }), (s: { clear(): void }) =>
      s.clear(),
    );
    expect(cleared.lines.map(nameOf)).toEqual(["session", "session.sig"]);
  });

  it("an empty legacy session is migrated too: nothing stored, the legacy cookie expired", async () => {
    const sessions = createSessions({ secret: SECRET, migrateFrom: [cookieSession({ keys: KEYS })] });
    const { session, lines } = await roundTrip(sessions, legacyCookie({}));
    expect(session.migratedFrom).toBe("cookie-session");
    expect(lines.map(nameOf)).toEqual(["session", "session.sig"]);
  });

  it("expires the legacy cookie with its path and domain, and Secure on HTTPS", async () => {
    const sessions = createSessions({
      secret: SECRET,
      migrateFrom: [cookieSession({ keys: KEYS, path: "/app", domain: "example.com" })],
    });
    const session = await sessions.load({ headers: { cookie: legacyCookie({ a: 1 }) }, secure: true });
    const headers = new Headers();
    await sessions.commit(session, headers);
    const lines = headers.getSetCookie();
    expect(lines.map(nameOf)).toEqual(["__Host-sid", "session", "session.sig"]);
    expect(lines[1]).toBe(
      "session=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Domain=example.com; Path=/app; HttpOnly; Secure; SameSite=Lax",
    );
  });

  it("a legacy cookie with flagon's own cookie name is replaced by the flagon line, never sent twice", async () => {
    const sessions = createSessions({
      secret: SECRET,
      store: cookieStore(),
      cookie: { name: "session" },
      migrateFrom: [cookieSession({ keys: KEYS })],
    });
    const { session, lines } = await roundTrip(sessions, legacyCookie({ user: "leo" }));
    expect(session.migratedFrom).toBe("cookie-session");
    expect(lines.map(nameOf)).toEqual(["session", "session.sig"]);
    expect(lines[0]).not.toContain("Max-Age=0");
    const next = await roundTrip(sessions, pairOf(lines[0]!), (s: { get(k: string): unknown }) =>
      s.get("user"),
    );
    expect(next.session.get("user")).toBe("leo");
  });

  it("works with the cookie store too (the whole session moves into flagon's sealed cookie)", async () => {
    const sessions = createSessions({
      secret: SECRET,
      store: cookieStore(),
      migrateFrom: [cookieSession({ keys: KEYS })],
    });
    const { lines } = await roundTrip(sessions, legacyCookie({ user: "leo" }));
    const next = await roundTrip(sessions, pairOf(lines[0]!), (s: { get(k: string): unknown }) =>
      s.get("user"),
    );
    expect(next.session.get("user")).toBe("leo");
    expect(next.session.migratedFrom).toBeUndefined();
    expect(next.session.status).toBe("active");
  });

  it("a legacy store that fails is a SessionStoreError (503), logged once without the id", async () => {
    const warn = vi.fn();
    const sid = "the-legacy-session-id";
    const store = {
      get: (_sid: string, callback: (error: unknown) => void) =>
        callback(
          Object.assign(new Error(`connect ECONNREFUSED while reading sess:${sid}`), {
            code: "ECONNREFUSED",
          }),
        ),
    };
    const sessions = createSessions({
      secret: SECRET,
      logger: { warn },
      migrateFrom: [expressSession({ secret: "keyboard cat", store })],
    });
    const cookie = `connect.sid=${encodeURIComponent(`s:${sign(sid, "keyboard cat")}`)}`;
    const failure = sessions.load({ headers: { cookie } });
    await expect(failure).rejects.toBeInstanceOf(SessionStoreError);
    await expect(failure).rejects.toMatchObject({ code: "ERR_STORE_UNAVAILABLE" });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(JSON.stringify(warn.mock.calls)).not.toContain(sid);
  });

  it("a legacy store that never answers fails after its timeout", async () => {
    const sessions = createSessions({
      secret: SECRET,
      logger: { warn: () => {} },
      migrateFrom: [expressSession({ secret: "s", store: { get: () => undefined }, timeout: 50 })],
    });
    const cookie = `connect.sid=${encodeURIComponent(`s:${sign("abc", "s")}`)}`;
    await expect(sessions.load({ headers: { cookie } })).rejects.toBeInstanceOf(SessionStoreError);
  });

  it("express-session's ENOENT from a store means no such session, not an outage", async () => {
    const store = {
      get: (_sid: string, callback: (error: unknown) => void) =>
        callback(Object.assign(new Error("gone"), { code: "ENOENT" })),
    };
    const sessions = createSessions({
      secret: SECRET,
      migrateFrom: [expressSession({ secret: "s", store })],
    });
    const session = await sessions.load({
      headers: { cookie: `connect.sid=${encodeURIComponent(`s:${sign("abc", "s")}`)}` },
    });
    expect(session.migratedFrom).toBeUndefined();
  });

  it("destroyLegacy deletes the legacy record after the new session is stored, never before", async () => {
    const order: string[] = [];
    const inner = memoryStore();
    const flagonStore = {
      ...inner,
      apply: async (...args: Parameters<typeof inner.apply>) => {
        order.push("flagon write");
        return inner.apply(...args);
      },
    };
    const legacy = {
      get: (_sid: string, callback: (error: unknown, session?: unknown) => void) =>
        callback(null, { cookie: { expires: null }, user: "leo" }),
      destroy: (sid: string, callback?: (error?: unknown) => void) => {
        order.push(`legacy destroy ${sid}`);
        callback?.();
      },
    };
    const sessions = createSessions({
      secret: SECRET,
      store: flagonStore,
      migrateFrom: [expressSession({ secret: "s", store: legacy, destroyLegacy: true })],
    });
    const session = await sessions.load({
      headers: { cookie: `connect.sid=${encodeURIComponent(`s:${sign("abc", "s")}`)}` },
    });
    expect(order).toEqual([]);
    await sessions.commit(session, new Headers());
    expect(order).toEqual(["flagon write", "legacy destroy abc"]);
  });
});

describe("the commit plan's legacy lines", () => {
  it("a second commit of the same session replaces them instead of repeating them", async () => {
    const sessions = createSessions({ secret: SECRET, migrateFrom: [cookieSession({ keys: KEYS })] });
    const session = await sessions.load({ headers: { cookie: legacyCookie({ a: 1 }) } });
    const headers = new Headers();
    await sessions.commit(session, headers);
    applyPlanToHeaders(headers, sessions.prepare(session));
    expect(headers.getSetCookie().map(nameOf)).toEqual(["sid", "session", "session.sig"]);
  });
});

describe("session.migratedFrom", () => {
  it("is read-only", async () => {
    const sessions = createSessions({ secret: SECRET });
    const session = await sessions.load(new Headers());
    expect(session.migratedFrom).toBeUndefined();
    expect(() => {
      (session as unknown as { migratedFrom: string }).migratedFrom = "x";
    }).toThrow(TypeError);
  });
});

describe("reader options are checked at construction", () => {
  const DJANGO = { secretKey: "k" };
  it.each([
    [
      "expressSession",
      () => expressSession({ secret: "s", store: { get() {} }, resave: false } as never),
      /unknown option "resave"/,
    ],
    [
      "expressSession",
      () => expressSession({ secret: "s", store: { get() {} }, secrets: ["s"] } as never),
      /secrets.*called secret/,
    ],
    ["expressSession", () => expressSession({ secret: "s" } as never), /store/],
    ["expressSession", () => expressSession({ store: { get() {} } } as never), /secret/],
    [
      "expressSession",
      () => expressSession({ secret: "s", store: { get() {} }, destroyLegacy: true }),
      /destroy/,
    ],
    ["cookieSession", () => cookieSession({ keys: [] }), /keys/],
    ["cookieSession", () => cookieSession({ secret: "k" } as never), /keys: \[secret\]/],
    ["ironSession", () => ironSession({ password: "short", cookieName: "c" }), /at least 32/],
    ["ironSession", () => ironSession({ password: "x".repeat(32) } as never), /cookieName/],
    ["ironSession", () => ironSession({ password: "x".repeat(32), cookieName: "c", ttl: 5 } as never), /ttl/],
    ["djangoSignedCookies", () => djangoSignedCookies({ ...DJANGO, maxAge: -1 }), /maxAge/],
    ["djangoSignedCookies", () => djangoSignedCookies({ SECRET_KEY: "k" } as never), /secretKey/],
    ["djangoSignedCookies", () => djangoSignedCookies({ ...DJANGO, cookieName: "bad name" }), /cookieName/],
    ["railsEncryptedCookie", () => railsEncryptedCookie({ secretKeyBase: "k" } as never), /cookieName/],
    [
      "railsEncryptedCookie",
      () => railsEncryptedCookie({ secret_key_base: "k", cookieName: "c" } as never),
      /secretKeyBase/,
    ],
    ["cookieSession", () => cookieSession({ keys: KEYS, path: "app" }), /path/],
    [
      "cookieSession",
      () => cookieSession({ keys: KEYS, name: "__Host-s", domain: "example.com" }),
      /cannot be expired/,
    ],
    ["cookieSession", () => cookieSession({ keys: KEYS, map: "x" } as never), /map/],
  ])("%s refuses bad options (case %#)", (_name, make, message) => {
    expect(make).toThrow(ConfigError);
    expect(make).toThrow(message);
  });

  it("an unset environment variable as a secret fails at construction, saying so", () => {
    const make = () =>
      expressSession({ secret: process.env.FLAGON_TEST_UNSET_VARIABLE, store: { get() {} } });
    expect(make).toThrow(expect.objectContaining({ code: "ERR_SECRET_MISSING" }));
    expect(() => djangoSignedCookies({ secretKey: ["k", undefined] })).toThrow(/unset environment variable/);
    expect(() => ironSession({ password: { 1: undefined }, cookieName: "c" })).toThrow(
      expect.objectContaining({ code: "ERR_SECRET_MISSING" }),
    );
  });

  it("migrateFrom must be a list of readers", () => {
    expect(() =>
      createSessions({ secret: SECRET, migrateFrom: cookieSession({ keys: KEYS }) as never }),
    ).toThrow(/list of readers/);
    expect(() => createSessions({ secret: SECRET, migrateFrom: [cookieSession as never] })).toThrow(
      /must be called/,
    );
    expect(() => createSessions({ secret: SECRET, migrateFrom: [{}] as never })).toThrow(ConfigError);
  });

  it("secrets never appear in the messages", () => {
    try {
      ironSession({ password: "short secret value", cookieName: "c" });
    } catch (error) {
      expect(String(error)).not.toContain("short secret value");
    }
  });
});
