import { describe, expect, it } from "vitest";
import { Keyring } from "../../src/crypto/keyring.js";
import { createSealer, OPENED_CACHE_LIMIT } from "../../src/crypto/sealer.js";

// The sealer remembers values it has authenticated (a browser sends the same cookie on every
// request), from the second open on (admission, see sealer-admission.test.ts). These tests pin down
// that a remembered value is held to exactly the same rules: each opens a value twice to get it
// remembered before the open under test.
const keyring = new Keyring("sealer-cache-secret-0123456789abcdefghij");
const t0 = 1_700_000_000_000;

describe("sealer: remembered values follow the same rules as fresh ones", () => {
  it("a second open of the same value gives the same result, and mutating one result changes nothing", () => {
    const sealer = createSealer(keyring, "cache-test");
    const sealed = sealer.seal("sid", "payload", { now: t0, expiresAt: t0 + 60_000 });
    sealer.open("sid", sealed, { now: t0 });
    const first = sealer.open("sid", sealed, { now: t0 });
    expect(first?.value).toBe("payload");
    if (first) first.value = "changed by a caller";
    expect(sealer.open("sid", sealed, { now: t0 + 1 })).toEqual({
      value: "payload",
      keyIndex: 0,
      issuedAt: t0,
      expiresAt: t0 + 60_000,
    });
  });

  it("a remembered value is still rejected once it has expired", () => {
    const sealer = createSealer(keyring, "cache-test");
    const sealed = sealer.seal("sid", "payload", { now: t0, expiresAt: t0 + 60_000 });
    sealer.open("sid", sealed, { now: t0 });
    expect(sealer.open("sid", sealed, { now: t0 + 59_999 })).not.toBeNull();
    expect(sealer.open("sid", sealed, { now: t0 + 60_000 })).toBeNull();
  });

  it("a remembered value is bound to its cookie name", () => {
    const sealer = createSealer(keyring, "cache-test");
    const sealed = sealer.seal("a", "payload", { now: t0 });
    sealer.open("a", sealed, { now: t0 });
    expect(sealer.open("a", sealed, { now: t0 })).not.toBeNull();
    expect(sealer.open("b", sealed, { now: t0 })).toBeNull();
  });

  it("a remembered value is not accepted by a sealer with other keys", () => {
    const sealer = createSealer(keyring, "cache-test");
    const other = createSealer(new Keyring("another-secret-0123456789abcdefghijklmn"), "cache-test");
    const sealed = sealer.seal("sid", "payload", { now: t0 });
    sealer.open("sid", sealed, { now: t0 });
    expect(sealer.open("sid", sealed, { now: t0 })).not.toBeNull();
    expect(other.open("sid", sealed, { now: t0 })).toBeNull();
  });

  it(`stays correct past its bound of ${OPENED_CACHE_LIMIT} values`, () => {
    const sealer = createSealer(keyring, "cache-test");
    const values = Array.from({ length: OPENED_CACHE_LIMIT + 50 }, (_, i) =>
      sealer.seal("sid", `v${i}`, { now: t0 }),
    );
    for (let pass = 0; pass < 2; pass++)
      for (const [i, sealed] of values.entries())
        expect(sealer.open("sid", sealed, { now: t0 })?.value).toBe(`v${i}`);
    // The first ones were evicted and must decrypt again, correctly.
    expect(sealer.open("sid", values[0] as string, { now: t0 })?.value).toBe("v0");
    const original = values[1] as string;
    const tampered = `${original.slice(0, 10)}${original[10] === "A" ? "B" : "A"}${original.slice(11)}`;
    expect(sealer.open("sid", tampered, { now: t0 })).toBeNull();
  });
});
