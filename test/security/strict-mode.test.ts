/**
 * docs/security.md §11 — strict mode: a store-backed session never adopts an id it did not issue.
 * A well-formed, correctly signed id with no record → a new session with a different id, nothing
 * stored under the presented id, and a warning (OWASP Session Management: strict mode).
 */
import { describe, expect, it } from "vitest";
import { createSessions, createSigner, Keyring, randomToken, storeKey } from "../../src/index.js";
import { Browser, captureLogger, recordingStore, SECRET } from "../session/harness.js";

/** What an attacker who knows the secret format (but not a live id) can mint: a signed, never-issued id. */
function signedId(id: string, name = "sid"): string {
  return createSigner(new Keyring(SECRET), "session-id").sign(name, id);
}

describe("strict mode (property 11)", () => {
  it("a signed but never-issued id gets a new session with a different id; nothing is stored under it", async () => {
    const store = recordingStore();
    const capture = captureLogger();
    const sessions = createSessions({ secret: SECRET, store, logger: capture.logger });
    const planted = randomToken(32);
    const browser = new Browser(sessions);
    browser.sessionCookie = signedId(planted);

    const { session, setCookie } = await browser.request((s) => s.set("user", "victim"));
    expect(session.isNew).toBe(true);
    expect(session.id).not.toBe(planted);
    expect(await store.get(storeKey(planted))).toBeNull();
    expect(store.keys.has(storeKey(planted))).toBe(false);
    expect([...store.keys]).toEqual([storeKey(session.id)]);
    // The browser now holds the server-issued id, not the planted one.
    expect(setCookie).toHaveLength(1);
    expect(browser.sessionCookie).not.toBe(signedId(planted));
    const reloaded = await sessions.load({ headers: { cookie: browser.cookieHeader! } });
    expect(reloaded.id).toBe(session.id);

    const warnings = capture.entries.filter((e) => e.level === "warn");
    expect(warnings.map((e) => e.message)).toEqual(["unknown session id"]);
    expect(capture.text()).not.toContain(planted);
    expect(capture.text()).not.toContain(storeKey(planted));
  });

  it("a planted id is not adopted even by a handler that only reads (nothing is written at all)", async () => {
    const store = recordingStore();
    const browser = new Browser(createSessions({ secret: SECRET, store }));
    browser.sessionCookie = signedId(randomToken(32));
    const { setCookie } = await browser.request((s) => s.get("user"));
    expect(store.calls.filter((c) => c.op === "apply")).toEqual([]);
    expect(setCookie).toEqual([expect.stringMatching(/^sid=; Max-Age=0;/)]);
  });

  it("an id of a destroyed session is treated the same way (not revived)", async () => {
    const store = recordingStore();
    const sessions = createSessions({ secret: SECRET, store });
    const browser = new Browser(sessions);
    let oldId = "";
    await browser.request((s) => {
      s.set("user", "alice");
      oldId = s.id;
    });
    const oldCookie = browser.sessionCookie;
    await browser.request((s) => s.destroy());
    const replay = new Browser(sessions);
    replay.sessionCookie = oldCookie;
    const { session } = await replay.request((s) => s.set("x", 1));
    expect(session.id).not.toBe(oldId);
    expect(await store.get(storeKey(oldId))).toBeNull();
  });

  it("an unsigned or wrongly signed id is refused without a store round trip", async () => {
    const store = recordingStore();
    const capture = captureLogger();
    const sessions = createSessions({ secret: SECRET, store, logger: capture.logger });
    const other = createSigner(new Keyring("another-secret-0123456789-abcdefghijk"), "session-id");
    for (const value of [
      randomToken(32),
      other.sign("sid", randomToken(32)),
      signedId(randomToken(32), "other"),
    ]) {
      const session = await sessions.load({ headers: { cookie: `sid=${value}` } });
      expect(session.isNew).toBe(true);
    }
    expect(store.calls.filter((c) => c.op === "get")).toEqual([]);
    expect(capture.entries.map((e) => [e.level, e.message])).toEqual([
      ["debug", "malformed"], // a bare token is not the signed format
      ["debug", "bad-mac"], // signed with another secret
      ["debug", "bad-mac"], // signed for another cookie name
    ]);
  });
});
