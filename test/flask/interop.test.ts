/**
 * Interoperability with real Flask 2.2 (Debian python3-flask under /usr/bin/python3): Flask
 * reads the cookies flagon writes and flagon reads the cookies Flask writes, through Flask's own
 * SecureCookieSessionInterface and through real requests (flash, permanent, get_flashed_messages).
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { Keyring } from "../../src/crypto/keyring.js";
import {
  decodeFlaskCookie,
  encodeFlaskCookie,
  FlaskMarkup,
  FlaskTuple,
  FlaskUUID,
  flaskCookieStore,
  openFlaskCookie,
  toTypedJSON,
} from "../../src/flask/index.js";
import type { SessionRecord } from "../../src/stores/types.js";
import { flaskSession } from "./arbitraries.js";
import { flask, toOracleJSON } from "./oracle.js";

const KEY = "a Flask SECRET_KEY that is long enough to pass";
const OLD_KEY = "the previous SECRET_KEY, kept as a fallback ok";
const NOW = 1_700_000_000;
const at = (seconds: number) => new Date(seconds * 1000);
/** flagon's own keys: flaskCookieStore must not use them. */
const keyring = new Keyring("flagon secret, unrelated to Flask's key!!");

/** Sessions that exercise every tag, escaping rule and the compression switch. */
const SESSIONS: Record<string, Record<string, unknown>> = {
  lesson: { name: "Leo", message: "Hello, World!" },
  unicode: { ключ: "café", emoji: "😀👩‍💻", lone: "\ud800x", ctl: "\u0000\u001f\u007f\n", html: "<b>&amp;" },
  numbers: {
    int: 42,
    neg: -7,
    big: 2n ** 64n,
    float: 0.1,
    tiny: 1e-7,
    huge: 1e16,
    negZero: -0,
    nan: Number.NaN,
    inf: Number.POSITIVE_INFINITY,
  },
  tuples: {
    pair: FlaskTuple.of(1, "two"),
    empty: new FlaskTuple(),
    nested: FlaskTuple.of(FlaskTuple.of(1), [2, FlaskTuple.of(3)]),
  },
  tagged: {
    bytes: Uint8Array.from([0, 255, 254, 128, 127]),
    markup: new FlaskMarkup("<em>safe</em>"),
    uuid: new FlaskUUID("12345678-1234-5678-1234-567812345678"),
    when: new Date("2024-01-02T03:04:05Z"),
  },
  tagLikeKeys: { x: { " t": "not a tuple" }, y: { " di": 5 }, z: { $bytes: "AA==" }, w: { " x": 1 } },
  onlyKeyIsTag: { " t": [1, 2] },
  compressed: { big: "x".repeat(3000), list: Array.from({ length: 50 }, (_, i) => i) },
  keyOrder: { b: 1, a: 2, A: 3, _: 4, aa: 5, é: 6, "\uffff": 7, "😀": 8, "\ue000": 9 },
};

describe("Flask reads the cookies flagon writes", () => {
  const names = Object.keys(SESSIONS);
  let dumped: string[] = [];
  let loaded: Array<{ session?: unknown; error?: string }> = [];

  beforeAll(() => {
    const ops = names.flatMap((name) => [
      { op: "dumps", secret: KEY, now: NOW, session: toOracleJSON(SESSIONS[name]) },
      {
        op: "loads",
        secret: KEY,
        now: NOW + 60,
        cookie: encodeFlaskCookie(SESSIONS[name]!, KEY, { now: at(NOW) }),
      },
    ]);
    const results = flask(ops);
    dumped = results.filter((_, i) => i % 2 === 0) as string[];
    loaded = results.filter((_, i) => i % 2 === 1) as typeof loaded;
  });

  it.each(names.map((name, i) => [name, i] as const))("%s: Flask loads it to the same session", (name, i) => {
    expect(loaded[i]).toEqual({ session: toTypedJSON(SESSIONS[name]) });
  });

  it.each(names.map((name, i) => [name, i] as const))(
    "%s: the bytes equal Flask's own dumps()",
    (name, i) => {
      expect(encodeFlaskCookie(SESSIONS[name]!, KEY, { now: at(NOW) })).toBe(dumped[i]);
    },
  );

  it("the compressed case really is compressed (leading '.')", () => {
    expect(dumped[names.indexOf("compressed")]!.startsWith(".")).toBe(true);
    expect(dumped[names.indexOf("lesson")]!.startsWith(".")).toBe(false);
  });

  it("Flask rejects flagon's cookie after max_age and before its timestamp, like its own", () => {
    const cookie = encodeFlaskCookie(SESSIONS.lesson!, KEY, { now: at(NOW) });
    const [expired, edge, future] = flask<{ error?: string; session?: unknown }>([
      { op: "loads", secret: KEY, cookie, now: NOW + 2_678_401 },
      { op: "loads", secret: KEY, cookie, now: NOW + 2_678_400 },
      { op: "loads", secret: KEY, cookie, now: NOW - 1 },
    ]);
    expect(expired).toEqual({ error: "SignatureExpired" });
    expect(edge).toEqual({ session: toTypedJSON(SESSIONS.lesson) });
    expect(future).toEqual({ error: "SignatureExpired" });
    expect(decodeFlaskCookie(cookie, KEY, { now: at(NOW + 2_678_401) })).toBeNull();
    expect(decodeFlaskCookie(cookie, KEY, { now: at(NOW + 2_678_400) })).toEqual(SESSIONS.lesson);
    expect(decodeFlaskCookie(cookie, KEY, { now: at(NOW - 1) })).toBeNull();
  });

  it("fast-check: for random sessions, flagon's bytes equal Flask's and Flask loads them back", () => {
    const samples = fc.sample(flaskSession, { numRuns: 200 });
    const ops = samples.flatMap((session) => [
      { op: "dumps", secret: KEY, now: NOW, session: toOracleJSON(session) },
      { op: "loads", secret: KEY, now: NOW, cookie: encodeFlaskCookie(session, KEY, { now: at(NOW) }) },
    ]);
    const results = flask(ops);
    samples.forEach((session, i) => {
      const ours = encodeFlaskCookie(session, KEY, { now: at(NOW) });
      expect(ours, `sample ${i}`).toBe(results[2 * i]);
      expect(results[2 * i + 1], `sample ${i}`).toEqual({ session: toTypedJSON(session) });
      // …and flagon reads Flask's cookie back to the same value.
      expect(toTypedJSON(decodeFlaskCookie(results[2 * i] as string, KEY, { now: at(NOW) }))).toEqual(
        toTypedJSON(session),
      );
    });
  });
});

describe("flagon reads the cookies Flask writes", () => {
  it("a session, flashes and permanent written by Flask's request cycle arrive in flaskCookieStore", () => {
    const data = {
      user: "leo",
      roles: ["admin"],
      since: new Date("2023-05-06T07:08:09Z"),
      tok: FlaskTuple.of(1, 2),
    };
    const [minted] = flask<{ status: number; cookie: string; set_cookie: string }>([
      {
        op: "mint",
        secret: KEY,
        data: toOracleJSON(data),
        flashes: [
          ["message", "Login Successfully."],
          ["error", "Ünïcode <b>"],
        ],
        permanent: true,
      },
    ]);
    expect(minted!.status).toBe(200);
    expect(minted!.set_cookie).toMatch(/; Expires=/); // permanent: Flask sends Expires

    const store = flaskCookieStore({ secretKey: KEY });
    const decoded = store.decode(minted!.cookie, { cookieName: "session", now: Date.now(), keyring });
    expect(decoded.ok).toBe(true);
    if (!decoded.ok) return;
    expect(decoded.stale).toBe(false);
    expect(toTypedJSON(decoded.record.data)).toEqual(toTypedJSON(data));
    expect(decoded.record.permanent).toBe(true);
    expect(decoded.record.flashes.map(({ category, message }) => [category, message])).toEqual([
      ["message", "Login Successfully."],
      ["error", "Ünïcode <b>"],
    ]);
    expect(new Set(decoded.record.flashes.map((f) => f.id)).size).toBe(2);
  });

  it("a session Flask writes after key rotation (secret_key = [old, new]) verifies with the current key", () => {
    const [minted] = flask<{ cookie: string }>([{ op: "mint", secret: [OLD_KEY, KEY], data: { a: 1 } }]);
    const result = openFlaskCookie(minted!.cookie, [KEY, OLD_KEY]);
    expect(result.ok && result.keyIndex).toBe(0);
    expect(decodeFlaskCookie(minted!.cookie, OLD_KEY)).toBeNull();
  });
});

describe("Flask reads flaskCookieStore's cookies in a real request", () => {
  const store = flaskCookieStore({ secretKey: KEY, fallbacks: [OLD_KEY] });
  const now = Date.now();
  const record: SessionRecord = {
    data: { name: "Leo", cart: FlaskTuple.of("apple", 3), raw: Uint8Array.from([1, 2, 3]) },
    flashes: [
      { id: "f1-aaaaaaaaaaaaaaaa", category: "message", message: "Login Successfully." },
      { id: "f2-aaaaaaaaaaaaaaaa", category: "warning", message: "日本語 😀" },
    ],
    createdAt: now,
    lastSeenAt: now,
    expiresAt: now + 31 * 86_400_000,
    permanent: true,
  };

  it("sees the data, session.permanent and get_flashed_messages(with_categories=True)", () => {
    const cookie = store.encode(record, { cookieName: "session", now, keyring });
    const [read] = flask<{
      status: number;
      session: unknown;
      permanent: boolean;
      flashes: unknown;
      cookie: string;
    }>([{ op: "read", secret: KEY, cookie }]);
    expect(read!.status).toBe(200);
    expect(read!.permanent).toBe(true);
    expect(read!.flashes).toEqual([
      ["message", "Login Successfully."],
      ["warning", "日本語 😀"],
    ]);
    expect(read!.session).toEqual(
      toTypedJSON({
        ...record.data,
        _permanent: true,
        _flashes: [FlaskTuple.of("message", "Login Successfully."), FlaskTuple.of("warning", "日本語 😀")],
      }),
    );
    // Flask consumed the flashes and re-issued the cookie: flagon reads that one without them.
    const after = store.decode(read!.cookie, { cookieName: "session", now: Date.now(), keyring });
    expect(after.ok && after.record.flashes).toEqual([]);
    expect(after.ok && toTypedJSON(after.record.data)).toEqual(toTypedJSON(record.data));
  });

  it("a cookie flagon signed with a fallback key is accepted by a Flask app that lists both keys", () => {
    const oldStore = flaskCookieStore({ secretKey: OLD_KEY });
    const cookie = oldStore.encode(record, { cookieName: "session", now, keyring });
    const [rotated, onlyNew] = flask<{ status: number; session: Record<string, unknown> }>([
      { op: "read", secret: [OLD_KEY, KEY], cookie },
      { op: "read", secret: KEY, cookie },
    ]);
    expect(rotated!.session.name).toBe("Leo");
    expect(onlyNew!.session).toEqual({}); // plain Flask after a key change: logged out
    const decoded = store.decode(cookie, { cookieName: "session", now, keyring });
    expect(decoded.ok && decoded.stale).toBe(true);
  });
});
