import { describe, expect, it, vi } from "vitest";

// Counts AES-GCM opens: a cache hit performs none.
const opens = vi.hoisted(() => ({ count: 0 }));
vi.mock("node:crypto", async (importOriginal) => {
  const crypto = await importOriginal<typeof import("node:crypto")>();
  return {
    ...crypto,
    createDecipheriv: (...args: Parameters<typeof crypto.createDecipheriv>) => {
      opens.count++;
      return crypto.createDecipheriv(...args);
    },
  };
});

const { Keyring } = await import("../../src/crypto/keyring.js");
const { createSealer } = await import("../../src/crypto/sealer.js");
const keyring = new Keyring("sealer-admission-secret-0123456789abcdefg");
const t0 = 1_700_000_000_000;

describe("sealer cache admission: remembered from the second open on", () => {
  it("a cookie sent again and again is decrypted twice, then answered from the cache", () => {
    const sealer = createSealer(keyring, "admission");
    const sealed = sealer.seal("sid", "payload", { now: t0 });
    opens.count = 0;
    for (let i = 0; i < 10; i++) expect(sealer.open("sid", sealed, { now: t0 })?.value).toBe("payload");
    expect(opens.count).toBe(2);
  });

  it("values each seen once (many visitors) are not remembered: the cache does not churn", () => {
    const sealer = createSealer(keyring, "admission");
    const values = Array.from({ length: 2000 }, (_, i) => sealer.seal("sid", `v${i}`, { now: t0 }));
    const hot = sealer.seal("sid", "hot", { now: t0 });
    sealer.open("sid", hot, { now: t0 });
    sealer.open("sid", hot, { now: t0 }); // remembered now
    for (const sealed of values) sealer.open("sid", sealed, { now: t0 });
    // 2000 first sightings evicted nothing: the hot value is still a hit.
    opens.count = 0;
    expect(sealer.open("sid", hot, { now: t0 })?.value).toBe("hot");
    expect(opens.count).toBe(0);
  });
});
