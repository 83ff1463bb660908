/**
 * cookieStore's decode passes on the format's own reason (src/crypto/claims.ts, RejectReason): the
 * core logs it, so an expired cookie says "expired", not "invalid signature".
 */
import { describe, expect, it } from "vitest";
import { Keyring } from "../../src/crypto/keyring.js";
import { createSealer } from "../../src/crypto/sealer.js";
import { createSigner } from "../../src/crypto/signer.js";
import { cookieStore } from "../../src/stores/cookie.js";
import type { SessionRecord } from "../../src/stores/types.js";

const SECRET = "cookie-store-reasons-secret-0123456789abcdef";
const keyring = new Keyring(SECRET);
const T0 = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;
const context = { keyring, cookieName: "sid", now: T0 };
const record: SessionRecord = {
  data: { user: "alice" },
  flashes: [],
  createdAt: T0,
  lastSeenAt: T0,
  expiresAt: T0 + HOUR,
  permanent: false,
};

describe.each([
  ["sealed", cookieStore(), createSealer(keyring, "session-cookie").seal],
  ["signed", cookieStore({ encrypt: false }), createSigner(keyring, "session-cookie").sign],
] as const)("cookieStore (%s) decode: the format's reason", (_format, store, write) => {
  const valid = store.encode(record, context);

  it("an expired cookie is 'expired'", () => {
    expect(store.decode(valid, { ...context, now: T0 + HOUR })).toEqual({ ok: false, reason: "expired" });
    expect(store.decode(valid, { ...context, now: T0 + HOUR - 1 }).ok).toBe(true);
  });

  it("a cookie issued in the future is 'not-yet-valid'", () => {
    const future = store.encode(record, { ...context, now: T0 + HOUR / 2 });
    expect(store.decode(future, context)).toEqual({ ok: false, reason: "not-yet-valid" });
  });

  it("a tampered cookie, another secret's or another name's is 'bad-mac'", () => {
    const at = valid.length - 10; // inside the MAC / the GCM tag, never a dot
    const tampered = valid.slice(0, at) + (valid[at] === "A" ? "B" : "A") + valid.slice(at + 1);
    expect(store.decode(tampered, context)).toEqual({ ok: false, reason: "bad-mac" });
    const other = { ...context, keyring: new Keyring("another-secret-for-cookie-store-0123456789") };
    expect(store.decode(store.encode(record, other), context)).toEqual({ ok: false, reason: "bad-mac" });
    expect(store.decode(valid, { ...context, cookieName: "other" })).toEqual({
      ok: false,
      reason: "bad-mac",
    });
  });

  it("garbage or a truncated cookie is 'malformed'", () => {
    for (const value of ["", "garbage", "v1.", valid.slice(0, 20)]) {
      expect(store.decode(value, context)).toEqual({ ok: false, reason: "malformed" });
    }
  });

  it("an authentic value that is not a session is 'bad-payload'", () => {
    for (const json of ["{", JSON.stringify({ v: 2, d: {}, c: T0, l: T0, e: T0 + 1 }), '"hello"']) {
      expect(store.decode(write("sid", json, { now: T0 }), context)).toEqual({
        ok: false,
        reason: "bad-payload",
      });
    }
  });
});
