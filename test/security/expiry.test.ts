/**
 * docs/security.md §9: expiry is inside the MAC / ciphertext, and timestamps from the future are
 * rejected. Clock: fake timers (Date.now is faked), no sleeps. Skew tolerance: CLOCK_SKEW_MS (60 s).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { CLOCK_SKEW_MS } from "../../src/crypto/claims.js";
import { createSealer } from "../../src/crypto/sealer.js";
import { createSigner } from "../../src/crypto/signer.js";
import { K1, keyring, T0 } from "../crypto/fixtures.js";

const MINUTE = 60_000;
const signer = createSigner(keyring(K1), "expiry");
const sealer = createSealer(keyring(K1), "expiry");

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(T0);
});
afterEach(() => {
  vi.useRealTimers();
});

describe.each([
  [
    "sealed",
    (options: { now?: number; expiresAt?: number }) => sealer.seal("sid", "alice", options),
    (token: string) => sealer.open("sid", token),
  ],
  [
    "signed",
    (options: { now?: number; expiresAt?: number }) => signer.sign("sid", "alice", options),
    (token: string) => signer.verify("sid", token),
  ],
])("expiry of %s values", (_kind, write, read) => {
  it("accepts a 15-minute value until its expiry and rejects it at t0 + 15 min + 1 s", () => {
    const token = write({ expiresAt: Date.now() + 15 * MINUTE });
    vi.advanceTimersByTime(15 * MINUTE - 1);
    expect(read(token)?.value).toBe("alice");
    vi.advanceTimersByTime(1);
    expect(read(token)).toBeNull(); // expired at exactly expiresAt
    vi.advanceTimersByTime(1000);
    expect(read(token)).toBeNull();
  });

  it("rejects a value issued 10 minutes in the future", () => {
    expect(read(write({ now: Date.now() + 10 * MINUTE }))).toBeNull();
  });

  it("tolerates issuers up to CLOCK_SKEW_MS (60 s) ahead, and no more", () => {
    expect(CLOCK_SKEW_MS).toBe(60_000);
    expect(read(write({ now: Date.now() + CLOCK_SKEW_MS }))?.issuedAt).toBe(T0 + CLOCK_SKEW_MS);
    expect(read(write({ now: Date.now() + CLOCK_SKEW_MS + 1 }))).toBeNull();
  });

  it("accepts a future-issued value once the clock catches up", () => {
    const token = write({ now: Date.now() + 10 * MINUTE });
    vi.advanceTimersByTime(10 * MINUTE - CLOCK_SKEW_MS);
    expect(read(token)?.value).toBe("alice");
  });

  it("keeps a value without expiresAt valid (the cookie and store lifetimes apply instead)", () => {
    const token = write({});
    vi.advanceTimersByTime(400 * 24 * 60 * MINUTE);
    expect(read(token)).toMatchObject({ value: "alice", expiresAt: null, issuedAt: T0 });
  });
});
