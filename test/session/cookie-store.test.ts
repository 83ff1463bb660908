/**
 * cookieStore: the whole session in the cookie, sealed (default) or signed-and-readable, format v1,
 * bound to the cookie name; decode is total (a bad value is an outcome, never an exception).
 */
import { describe, expect, it } from "vitest";
import { cookieStore, createSealer, createSessions, createSigner, Keyring } from "../../src/index.js";
import { Browser, SECRET, T0 } from "./harness.js";

const keyring = new Keyring(SECRET);
const context = { keyring, cookieName: "sid", now: T0 };
const record = {
  data: { user: "alice", cart: [1, 2] },
  flashes: [{ id: "x", category: "info", message: "saved" }],
  createdAt: T0,
  lastSeenAt: T0,
  expiresAt: T0 + 3_600_000,
  permanent: true,
};

describe("cookieStore", () => {
  it("sealed by default: the value reveals nothing, two seals of one record differ, both open", () => {
    const store = cookieStore();
    const a = store.encode(record, context);
    const b = store.encode(record, context);
    expect(a).not.toBe(b);
    const decodedText = a
      .split(".")
      .map((part) => Buffer.from(part, "base64url").toString("latin1"))
      .join(" ");
    expect(`${a} ${decodedText}`).not.toMatch(/alice|saved|cart|\{"/);
    for (const value of [a, b]) {
      const result = store.decode(value, context);
      expect(result).toEqual({
        ok: true,
        stale: false,
        keyIndex: 0,
        record: { ...record, flashes: [{ id: "c0", category: "info", message: "saved" }] },
      });
    }
  });

  it("encrypt: false is signed and readable (for data that is not secret), and still tamper-proof", () => {
    const store = cookieStore({ encrypt: false });
    const value = store.encode(record, context);
    expect(value.startsWith("v1.")).toBe(true);
    const payload = JSON.parse(Buffer.from(value.split(".")[3]!, "base64url").toString()) as Record<
      string,
      unknown
    >;
    expect(payload).toMatchObject({ v: 1, d: { user: "alice", cart: [1, 2] }, f: [["info", "saved"]], p: 1 });
    const edited = { ...payload, d: { user: "mallory" } };
    const parts = value.split(".");
    parts[3] = Buffer.from(JSON.stringify(edited)).toString("base64url");
    expect(store.decode(parts.join("."), context)).toEqual({ ok: false, reason: "bad-mac" });
  });

  it.each([
    ["sealed", cookieStore()],
    ["signed", cookieStore({ encrypt: false })],
  ])("%s: a value is bound to its cookie name", (_name, store) => {
    const value = store.encode(record, context);
    expect(store.decode(value, { ...context, cookieName: "other" })).toMatchObject({ ok: false });
  });

  it.each([
    ["not JSON", "{"],
    ["another format version", JSON.stringify({ v: 2, d: {}, c: T0, l: T0, e: T0 + 1 })],
    ["data is an array", JSON.stringify({ v: 1, d: [], c: T0, l: T0, e: T0 + 1 })],
    ["data is null", JSON.stringify({ v: 1, d: null, c: T0, l: T0, e: T0 + 1 })],
    ["times missing", JSON.stringify({ v: 1, d: {} })],
    ["a time that is not a number", JSON.stringify({ v: 1, d: {}, c: "0", l: T0, e: T0 + 1 })],
    [
      "flashes not pairs of strings",
      JSON.stringify({ v: 1, d: {}, f: [["info", 1]], c: T0, l: T0, e: T0 + 1 }),
    ],
    ["a bare string", JSON.stringify("hello")],
  ])("an authentic value with a malformed payload (%s) is refused, not thrown", (_name, json) => {
    for (const [store, write] of [
      [cookieStore(), createSealer(keyring, "session-cookie").seal],
      [cookieStore({ encrypt: false }), createSigner(keyring, "session-cookie").sign],
    ] as const) {
      const value = write("sid", json, { now: T0 });
      expect(store.decode(value, context)).toEqual({ ok: false, reason: "bad-payload" });
    }
  });

  it("a value sealed by an old secret decodes as stale (the core re-issues it)", () => {
    const store = cookieStore();
    const old = store.encode(record, {
      ...context,
      keyring: new Keyring("old-secret-0123456789-abcdefghijklmn"),
    });
    const rotated = new Keyring([SECRET, "old-secret-0123456789-abcdefghijklmn"]);
    expect(store.decode(old, { ...context, keyring: rotated })).toMatchObject({ ok: true, stale: true });
    expect(store.decode(old, context)).toMatchObject({ ok: false });
  });

  it("the sealed expiry is enforced by decode itself", () => {
    const store = cookieStore();
    const value = store.encode(record, context);
    expect(store.decode(value, { ...context, now: record.expiresAt - 1 })).toMatchObject({ ok: true });
    expect(store.decode(value, { ...context, now: record.expiresAt + 1 })).toMatchObject({ ok: false });
  });

  it("needs a secret", () => {
    expect(() => createSessions({ store: cookieStore() })).toThrow(
      expect.objectContaining({ code: "ERR_SECRET_MISSING" }),
    );
  });

  it("a change is a new cookie carrying the whole session (there is no server copy)", async () => {
    const browser = new Browser(createSessions({ secret: SECRET, store: cookieStore() }));
    await browser.request((s) => s.set("a", 1));
    const first = browser.sessionCookie;
    const { setCookie } = await browser.request((s) => s.set("b", 2));
    expect(setCookie).toHaveLength(1);
    expect(browser.sessionCookie).not.toBe(first);
    let data: unknown;
    await browser.request((s) => {
      data = s.toJSON();
    });
    expect(data).toEqual({ a: 1, b: 2 });
  });
});
