import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Keyring } from "../../src/crypto/keyring.js";
import { ConfigError, CookieError } from "../../src/errors.js";
import {
  decodeFlaskCookie,
  encodeFlaskCookie,
  FlaskMarkup,
  FlaskTuple,
  flaskCookieStore,
  openFlaskCookie,
} from "../../src/flask/index.js";
import { createSessions } from "../../src/session/index.js";
import type { ClientStoreContext, SessionRecord } from "../../src/stores/types.js";

const KEY = "k".repeat(32);
const OLD = "o".repeat(32);
const T0 = 1_700_000_000_000;
const context = (now = T0): ClientStoreContext => ({
  cookieName: "session",
  now,
  keyring: new Keyring("an unrelated flagon secret of 32+ bytes"),
});

describe("flaskCookieStore: decode", () => {
  const store = flaskCookieStore({ secretKey: KEY, fallbacks: [OLD] });

  it("maps _flashes to flashes, _permanent to permanent, the rest to data, the timestamp to the meta", () => {
    const cookie = encodeFlaskCookie(
      {
        user: "leo",
        _permanent: true,
        _flashes: [
          FlaskTuple.of("message", "Login Successfully."),
          FlaskTuple.of("error", new FlaskMarkup("<b>x</b>")),
        ],
      },
      KEY,
      { now: T0 },
    );
    const decoded = store.decode(cookie, context(T0 + 5000));
    expect(decoded).toEqual({
      ok: true,
      stale: false,
      keyIndex: 0,
      record: {
        data: { user: "leo" },
        flashes: [
          { id: expect.any(String), category: "message", message: "Login Successfully." },
          { id: expect.any(String), category: "error", message: "<b>x</b>" },
        ],
        permanent: true,
        createdAt: T0,
        lastSeenAt: T0,
        expiresAt: T0 + 2_678_400_000,
      },
    });
    if (decoded.ok) expect(new Set(decoded.record.flashes.map((f) => f.id)).size).toBe(2);
  });

  it("follows Python truthiness for _permanent and accepts flashes stored as lists", () => {
    const cookie = encodeFlaskCookie({ _permanent: 0, _flashes: [["info", "hi"]] }, KEY, { now: T0 });
    const decoded = store.decode(cookie, context());
    expect(decoded.ok && decoded.record.permanent).toBe(false);
    expect(decoded.ok && decoded.record.flashes.map((f) => f.message)).toEqual(["hi"]);
  });

  it("a cookie verified by a fallback key is stale (the core re-issues it with the current key)", () => {
    const decoded = store.decode(encodeFlaskCookie({ a: 1 }, OLD, { now: T0 }), context());
    expect(decoded).toMatchObject({ ok: true, stale: true, record: { data: { a: 1 } } });
  });

  it.each([
    ["a tampered payload", encodeFlaskCookie({ a: 1 }, KEY, { now: T0 }).replace(/^e/, "f"), "bad-mac"],
    [
      "a character appended (a 21-byte signature)",
      `${encodeFlaskCookie({ a: 1 }, KEY, { now: T0 })}x`,
      "malformed",
    ],
    ["another key's cookie", encodeFlaskCookie({ a: 1 }, "x".repeat(32), { now: T0 }), "bad-mac"],
    ["an expired cookie", encodeFlaskCookie({ a: 1 }, KEY, { now: T0 - 2_678_401_000 }), "expired"],
    ["a cookie from the future", encodeFlaskCookie({ a: 1 }, KEY, { now: T0 + 1000 }), "not-yet-valid"],
    ["garbage", "not a cookie", "malformed"],
    ["_flashes that is not a list", encodeFlaskCookie({ _flashes: "oops" }, KEY, { now: T0 }), "bad-payload"],
    [
      "a flash that is not a pair",
      encodeFlaskCookie({ _flashes: [FlaskTuple.of("only")] }, KEY, { now: T0 }),
      "bad-payload",
    ],
    [
      "a flash whose message is a number",
      encodeFlaskCookie({ _flashes: [["message", 5]] }, KEY, { now: T0 }),
      "bad-payload",
    ],
  ])("returns ok: false (never throws) for %s, with the format's reason", (_name, value, reason) => {
    expect(store.decode(value, context())).toEqual({ ok: false, reason });
  });

  it("uses its own maxAge", () => {
    const short = flaskCookieStore({ secretKey: KEY, maxAge: 60 });
    const cookie = encodeFlaskCookie({ a: 1 }, KEY, { now: T0 });
    expect(short.decode(cookie, context(T0 + 60_000))).toMatchObject({
      ok: true,
      record: { expiresAt: T0 + 60_000 },
    });
    expect(short.decode(cookie, context(T0 + 61_000)).ok).toBe(false);
  });
});

describe("flaskCookieStore: encode", () => {
  const store = flaskCookieStore({ secretKey: [KEY, OLD] });
  const record = (overrides: Partial<SessionRecord> = {}): SessionRecord => ({
    data: { name: "Leo" },
    flashes: [],
    createdAt: T0,
    lastSeenAt: T0,
    expiresAt: T0 + 1000,
    permanent: false,
    ...overrides,
  });

  it("writes what Flask writes: no _permanent or _flashes unless needed, signed with the first key at `now`", () => {
    const cookie = store.encode(record(), context(T0 + 7000));
    expect(cookie).toBe(encodeFlaskCookie({ name: "Leo" }, KEY, { now: T0 + 7000 }));
  });

  it("writes flashes as (category, message) tuples and _permanent: true", () => {
    const cookie = store.encode(
      record({ permanent: true, flashes: [{ id: "a".repeat(16), category: "warning", message: "m" }] }),
      context(),
    );
    expect(decodeFlaskCookie(cookie, KEY, { now: T0 })).toEqual({
      name: "Leo",
      _permanent: true,
      _flashes: [FlaskTuple.of("warning", "m")],
    });
    expect(openFlaskCookie(cookie, OLD, { now: T0 }).ok).toBe(false);
  });

  it("the record's flashes and permanence override stray _flashes/_permanent keys in data", () => {
    const cookie = store.encode(record({ data: { _flashes: "x", _permanent: true, ok: 1 } }), context());
    expect(decodeFlaskCookie(cookie, KEY, { now: T0 })).toEqual({ ok: 1 });
  });

  it("throws ERR_COOKIE_TOO_LARGE instead of writing a cookie browsers drop", () => {
    const random = Array.from({ length: 4000 }, (_, i) => ((i * 7919) % 65_521).toString(36)).join("");
    expect(() => store.encode(record({ data: { random } }), context())).toThrow(CookieError);
  });

  it("refuses values Flask cannot store", () => {
    expect(() => store.encode(record({ data: { m: new Map() } }), context())).toThrow(
      expect.objectContaining({ code: "ERR_VALUE_NOT_SERIALIZABLE" }),
    );
  });
});

describe("flaskCookieStore: configuration", () => {
  it("defaults to Flask's cookie name and owns its keys", () => {
    const store = flaskCookieStore({ secretKey: KEY });
    expect(store.defaultCookieName).toBe("session");
    expect(store.ownsKeys).toBe(true);
  });

  it.each([
    ["no key", {}, "ERR_SECRET_MISSING"],
    ["an empty key", { secretKey: "" }, "ERR_SECRET_MISSING"],
    ["a short key", { secretKey: "Secret Key" }, "ERR_SECRET_TOO_SHORT"],
    ["a short fallback", { secretKey: KEY, fallbacks: ["short"] }, "ERR_SECRET_TOO_SHORT"],
    ["a zero maxAge", { secretKey: KEY, maxAge: 0 }, "ERR_INVALID_OPTION"],
    ["a fractional maxAge", { secretKey: KEY, maxAge: 1.5 }, "ERR_INVALID_OPTION"],
  ])("throws ConfigError at construction for %s", (_name, options, code) => {
    expect(() => flaskCookieStore(options as never)).toThrow(ConfigError);
    expect(() => flaskCookieStore(options as never)).toThrow(expect.objectContaining({ code }));
  });

  it("allowShortSecret shares a weak key with an existing Flask app (the lesson's 'Secret Key')", () => {
    const store = flaskCookieStore({ secretKey: "Secret Key", allowShortSecret: true });
    const cookie = encodeFlaskCookie({ name: "Leo" }, "Secret Key", { now: T0 });
    expect(store.decode(cookie, context()).ok).toBe(true);
  });
});

describe("createSessions with flaskCookieStore", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(T0);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const sessions = createSessions({
    store: flaskCookieStore({ secretKey: KEY, fallbacks: [OLD] }),
    cookie: { secure: false },
  });
  const cookieOf = (headers: Headers) => {
    const header = headers.getSetCookie().find((line) => line.startsWith("session="));
    return header?.slice("session=".length).split(";")[0];
  };

  it("reads a Flask cookie and writes one Flask reads, flashes included, without a flagon secret", async () => {
    const fromFlask = encodeFlaskCookie(
      { name: "Leo", _flashes: [FlaskTuple.of("message", "Login Successfully.")] },
      KEY,
      { now: T0 },
    );
    vi.setSystemTime(T0 + 10_000);
    const session = await sessions.load(new Headers({ cookie: `session=${fromFlask}` }));
    expect(session.isNew).toBe(false);
    expect(session.get("name")).toBe("Leo");
    expect(session.getFlashedMessages({ withCategories: true })).toEqual([
      ["message", "Login Successfully."],
    ]);
    session.set("message", "Hello, World!");
    session.flash("Saved.", "info");
    const headers = new Headers();
    await sessions.commit(session, headers);
    const written = cookieOf(headers)!;
    expect(decodeFlaskCookie(written, KEY)).toEqual({
      name: "Leo",
      message: "Hello, World!",
      _flashes: [FlaskTuple.of("info", "Saved.")],
    });
    expect(openFlaskCookie(written, KEY)).toMatchObject({ ok: true, issuedAt: new Date(T0 + 10_000) });
  });

  it("re-issues a cookie signed with a fallback key under the current key", async () => {
    const old = encodeFlaskCookie({ name: "Leo" }, OLD, { now: T0 });
    const session = await sessions.load(new Headers({ cookie: `session=${old}` }));
    expect(session.get("name")).toBe("Leo");
    const headers = new Headers();
    await sessions.commit(session, headers);
    expect(openFlaskCookie(cookieOf(headers)!, KEY)).toMatchObject({ ok: true, keyIndex: 0 });
  });

  it("a forged or expired Flask cookie is an empty new session", async () => {
    for (const value of [
      encodeFlaskCookie({ admin: true }, "f".repeat(32), { now: T0 }),
      encodeFlaskCookie({ admin: true }, KEY, { now: T0 - 2_678_401_000 }),
    ]) {
      const session = await sessions.load(new Headers({ cookie: `session=${value}` }));
      expect(session.isNew).toBe(true);
      expect(session.get("admin")).toBeUndefined();
    }
  });
});

describe("createSessions refuses options flaskCookieStore cannot honour", () => {
  it("absoluteTimeout: Flask's cookie keeps no creation time (ConfigError saying what to use)", () => {
    const store = flaskCookieStore({ secretKey: KEY });
    let error: unknown;
    try {
      createSessions({ store, absoluteTimeout: 8 * 3600 });
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe("ERR_NOT_SUPPORTED");
    expect((error as Error).message).toContain("absoluteTimeout");
    expect((error as Error).message).toContain("idleTimeout");
    expect((error as Error).message).toContain("cookieStore()");
  });

  it("a permanentLifetime other than the store's maxAge; the same value is accepted", () => {
    const store = flaskCookieStore({ secretKey: KEY, maxAge: 3600 });
    expect(() => createSessions({ store, permanentLifetime: 7200 })).toThrow(
      expect.objectContaining({
        code: "ERR_NOT_SUPPORTED",
        message: expect.stringContaining("maxAge: 7200"),
      }),
    );
    expect(() => createSessions({ store, permanentLifetime: 3600 })).not.toThrow();
    // The default store (31 days, Flask's default) refuses flagon's own default spelled out differently.
    expect(() =>
      createSessions({ store: flaskCookieStore({ secretKey: KEY }), permanentLifetime: 86_400 }),
    ).toThrow(ConfigError);
  });

  it("without permanentLifetime the cookie's Max-Age follows maxAge, which the store enforces", async () => {
    const sessions = createSessions({ store: flaskCookieStore({ secretKey: KEY, maxAge: 3600 }) });
    const session = await sessions.load({ headers: {} });
    session.permanent = true;
    session.set("user", "leo");
    const headers = new Headers();
    await sessions.commit(session, headers);
    expect(headers.getSetCookie()[0]).toMatch(/Max-Age=3600(;|$)/);
  });

  it("idleTimeout is accepted: flagon checks it against the cookie's timestamp, refreshed on activity", async () => {
    vi.useFakeTimers({ now: T0 });
    try {
      const sessions = createSessions({ store: flaskCookieStore({ secretKey: KEY }), idleTimeout: 600 });
      const session = await sessions.load({ headers: {} });
      session.set("user", "leo");
      const headers = new Headers();
      await sessions.commit(session, headers);
      const cookie = headers.getSetCookie()[0]!.split(";")[0]!;
      vi.setSystemTime(T0 + 601_000);
      const later = await sessions.load({ headers: { cookie } });
      expect(later.status).toBe("idle");
    } finally {
      vi.useRealTimers();
    }
  });
});
