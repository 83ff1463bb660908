/**
 * docs/security.md §35 — the store contract. The shared suite (test/conformance/store-suite.ts)
 * runs here against memoryStore with an at-rest dump, so the "keys are sha256(id), no live cookie
 * value at rest" check runs for the memory store too (SQLite and Redis run it in test/conformance).
 * On top: what the core hands any server store is only hashed keys and JSON data.
 */
import { describe, expect, it } from "vitest";
import { createSessions, memoryStore, storeKey } from "../../src/index.js";
import { describeStoreConformance } from "../conformance/store-suite.js";
import { Browser, recordingStore, SECRET } from "../session/harness.js";

const dumped = recordingStore(memoryStore());
describeStoreConformance("memoryStore (with at-rest dump)", async () => dumped, {
  dump: () => dumped.dump(),
});

describe("what a server store ever sees (property 35)", () => {
  it("only 64-hex sha256 keys, never a raw id or cookie value, across a whole session lifecycle", async () => {
    const store = recordingStore();
    const sessions = createSessions({ secret: SECRET, store });
    const browser = new Browser(sessions);
    const ids: string[] = [];
    const cookies: string[] = [];
    const step = async (handler: Parameters<typeof browser.request>[0]) => {
      await browser.request(handler);
      if (browser.sessionCookie) cookies.push(browser.sessionCookie);
    };
    await step((s) => {
      s.set("user", "alice");
      s.flash("hi");
      ids.push(s.id);
    });
    await step((s) => {
      s.regenerate();
      s.getFlashedMessages();
      ids.push(s.id);
    });
    await step((s) => s.set("n", 1));
    await step((s) => s.destroy());

    expect(cookies).toHaveLength(3);
    expect(store.calls.length).toBeGreaterThan(4);
    for (const call of store.calls) expect(call.key).toMatch(/^[0-9a-f]{64}$/);
    expect(new Set(store.calls.map((c) => c.key))).toEqual(new Set(ids.map(storeKey)));
    const everything = JSON.stringify(store.calls);
    for (const secret of [...ids, ...cookies]) expect(everything).not.toContain(secret);
  });
});
