/**
 * docs/security.md §36 — flash lifecycle. Request 1 flashes ("info", "saved") and redirects;
 * request 2 reads ["saved"]; request 3 reads []. A flash set before regenerate() on login survives
 * into the next request. Flash storage cannot collide with user data (a reserved namespace).
 */
import { describe, expect, it } from "vitest";
import { cookieStore, createSessions, memoryStore, type SessionStore } from "../../src/index.js";
import { Browser, SECRET } from "../session/harness.js";

describe.each<[string, () => SessionStore]>([
  ["memoryStore", () => memoryStore()],
  ["cookieStore (sealed)", () => cookieStore()],
  ["cookieStore (signed)", () => cookieStore({ encrypt: false })],
])("flash lifecycle with %s (property 36)", (_name, makeStore) => {
  const browser = () => new Browser(createSessions({ secret: SECRET, store: makeStore() }));

  it("flash → redirect → shown once → gone", async () => {
    const b = browser();
    const post = await b.request((s) => s.flash("saved", "info"));
    expect(post.setCookie).toHaveLength(1); // the redirect response carries the message
    let second: unknown;
    await b.request((s) => {
      second = s.getFlashedMessages();
    });
    expect(second).toEqual(["saved"]);
    let third: unknown;
    await b.request((s) => {
      third = s.getFlashedMessages();
    });
    expect(third).toEqual([]);
  });

  it("reading the last flash empties the session: the cookie store drops its cookie, a server store keeps the id", async () => {
    const b = browser();
    await b.request((s) => s.flash("saved"));
    const read = await b.request((s) => s.getFlashedMessages());
    if (makeStore().kind === "client") {
      // Flask deletes the cookie of a session that became empty.
      expect(read.setCookie).toEqual([expect.stringMatching(/^sid=; Max-Age=0;/)]);
      expect(b.jar.size).toBe(0);
    } else {
      // The record is updated, not deleted, so a flash a concurrent request added is not lost.
      expect(read.setCookie).toEqual([]);
      expect((await b.request((s) => s.get("x"))).session.isNew).toBe(false);
    }
  });

  it("a flash set before regenerate() on login survives into the next request", async () => {
    const b = browser();
    await b.request((s) => s.set("cart", 1));
    await b.request((s) => {
      s.flash("Login Successfully.");
      s.regenerate();
      s.set("user", "alice");
    });
    let shown: unknown;
    await b.request((s) => {
      shown = [s.get("user"), s.getFlashedMessages()];
    });
    expect(shown).toEqual(["alice", ["Login Successfully."]]);
  });

  it("a flash set after regenerate() survives too", async () => {
    const b = browser();
    await b.request((s) => {
      s.regenerate();
      s.flash("welcome");
    });
    let shown: unknown;
    await b.request((s) => {
      shown = s.getFlashedMessages();
    });
    expect(shown).toEqual(["welcome"]);
  });

  it("flash storage is reserved: user keys cannot reach it, and flash-like user keys stay data", async () => {
    const b = browser();
    await b.request((s) => {
      expect(() => s.set("__flagon.flashes", [["message", "forged"]])).toThrow(
        expect.objectContaining({ code: "ERR_INVALID_OPTION" }),
      );
      s.set("_flashes", [["message", "forged"]]); // Flask's key is plain data here
      s.set("f", [["message", "forged"]]); // nor can the cookie format's short keys be hit
      s.flash("real");
    });
    let seen: unknown;
    await b.request((s) => {
      seen = { flashes: s.getFlashedMessages(), keys: s.keys() };
    });
    expect(seen).toEqual({ flashes: ["real"], keys: ["_flashes", "f"] });
  });

  it("logout then flash: the next request sees only that message, and no user data", async () => {
    const b = browser();
    await b.request((s) => {
      s.set("user", "alice");
      s.flash("unread before logout");
    });
    await b.request((s) => {
      s.destroy();
      s.flash("You have been logged out.");
    });
    let seen: unknown;
    await b.request((s) => {
      seen = { user: s.get("user"), flashes: s.getFlashedMessages() };
    });
    expect(seen).toEqual({ user: undefined, flashes: ["You have been logged out."] });
  });
});

describe("flash under concurrency (server store, docs/security.md store guarantee 2)", () => {
  it("a flash added by one request survives a concurrent request that reads the earlier ones", async () => {
    const sessions = createSessions({ secret: SECRET, store: memoryStore() });
    const b = new Browser(sessions);
    await b.request((s) => s.flash("first"));
    const cookie = b.cookieHeader!;
    const reader = await sessions.load({ headers: { cookie } });
    const writer = await sessions.load({ headers: { cookie } });
    expect(reader.getFlashedMessages()).toEqual(["first"]);
    writer.flash("second");
    await sessions.commit(writer, new Headers());
    await sessions.commit(reader, new Headers());
    const next = await sessions.load({ headers: { cookie } });
    expect(next.getFlashedMessages()).toEqual(["second"]);
  });
});
