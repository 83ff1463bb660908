/**
 * The `Session` API a handler uses: data access, change tracking, reserved keys, regenerate and
 * destroy, through `createSessions` (the only way users get a session).
 */
import { describe, expect, expectTypeOf, it } from "vitest";
import { cookieStore, createSessions, FlagonError, memoryStore, type Session } from "../../src/index.js";
import { Browser, SECRET } from "./harness.js";

const fresh = () => createSessions({ secret: SECRET, store: memoryStore() }).load({ headers: {} });

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return error instanceof FlagonError ? error.code : `not a FlagonError: ${String(error)}`;
  }
  return undefined;
}

describe("data access", () => {
  it("get/set/has/delete/keys/toJSON behave like a dictionary of JSON values", async () => {
    const session = await fresh();
    expect(session.get("name")).toBeUndefined();
    expect(session.has("name")).toBe(false);
    expect(
      session
        .set("name", "Leo")
        .set("n", 0)
        .set("nested", { list: [1, null] }),
    ).toBe(session);
    expect(session.get("name")).toBe("Leo");
    expect(session.has("n")).toBe(true);
    expect(session.keys()).toEqual(["name", "n", "nested"]);
    expect(session.toJSON()).toEqual({ name: "Leo", n: 0, nested: { list: [1, null] } });
    expect(JSON.stringify(session)).toBe('{"name":"Leo","n":0,"nested":{"list":[1,null]}}');
    // delete returns the removed value, like Flask's session.pop(key, None)
    expect(session.delete("name")).toBe("Leo");
    expect(session.delete("name")).toBeUndefined();
    expect(session.keys()).toEqual(["n", "nested"]);
    session.clear();
    expect(session.keys()).toEqual([]);
    expect(session.toJSON()).toEqual({});
  });

  it("refuses values that JSON cannot hold, naming the key and not the value", async () => {
    const session = await fresh();
    expect(codeOf(() => session.set("u", undefined))).toBe("ERR_VALUE_NOT_SERIALIZABLE");
    expect(codeOf(() => session.set("f", () => 1))).toBe("ERR_VALUE_NOT_SERIALIZABLE");
    expect(codeOf(() => session.set("s", Symbol("x")))).toBe("ERR_VALUE_NOT_SERIALIZABLE");
    expect(codeOf(() => session.set("b", 10n))).toBe("ERR_VALUE_NOT_SERIALIZABLE");
    expect(() => session.set("f", () => 1)).toThrow(/"f"/);
    expect(session.keys()).toEqual([]);
  });

  it("types data through the generic", async () => {
    const sessions = createSessions<{ user?: string; visits?: number }>({ secret: SECRET });
    const session = await sessions.load({ headers: {} });
    expectTypeOf(session.get("user")).toEqualTypeOf<string | undefined>();
    expectTypeOf(session.get("visits")).toEqualTypeOf<number | undefined>();
    session.set("visits", 1).set("user", "alice");
    expectTypeOf(session.toJSON()).toEqualTypeOf<Partial<{ user?: string; visits?: number }>>();
    expect(session.toJSON()).toEqual({ visits: 1, user: "alice" });
  });

  it("a key named __proto__ is data: it round-trips and pollutes nothing", async () => {
    for (const store of [memoryStore(), cookieStore()]) {
      const browser = new Browser(createSessions({ secret: SECRET, store }));
      await browser.request((s) => s.set("__proto__", { polluted: true }).set("constructor", "c"));
      let seen: unknown;
      let keys: string[] = [];
      await browser.request((s) => {
        seen = s.get("__proto__");
        keys = s.keys();
      });
      expect(seen).toEqual({ polluted: true });
      expect(keys.sort()).toEqual(["__proto__", "constructor"]);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    }
  });
});

describe("reserved namespace", () => {
  it("user code cannot read, write or delete keys under __flagon.", async () => {
    const session = await fresh();
    session.csrfToken(); // stores __flagon.csrf
    expect(codeOf(() => session.set("__flagon.x", 1))).toBe("ERR_INVALID_OPTION");
    expect(codeOf(() => session.set("__flagon.csrf", "forged"))).toBe("ERR_INVALID_OPTION");
    expect(codeOf(() => session.delete("__flagon.csrf"))).toBe("ERR_INVALID_OPTION");
    expect(session.get("__flagon.csrf")).toBeUndefined();
    expect(session.has("__flagon.csrf")).toBe(false);
    expect(session.keys()).toEqual([]);
    expect(session.toJSON()).toEqual({});
  });

  it("keys that merely look similar are ordinary data", async () => {
    const session = await fresh();
    session.set("__flagon", 1).set("_flashes", ["not a flash"]).set("__flash_x__", 2);
    expect(session.keys()).toEqual(["__flagon", "_flashes", "__flash_x__"]);
    expect(session.getFlashedMessages()).toEqual([]);
  });
});

describe("change tracking", () => {
  it("modified is false until something changes, and reads do not change it", async () => {
    const session = await fresh();
    expect(session.isNew).toBe(true);
    session.get("a");
    session.has("a");
    session.keys();
    session.toJSON();
    session.getFlashedMessages(); // nothing was pending
    expect(session.modified).toBe(false);
    session.set("a", 1);
    expect(session.modified).toBe(true);
  });

  it.each<[string, (s: Session) => void]>([
    ["set", (s) => s.set("a", 1)],
    ["delete of an existing key", (s) => s.delete("existing")],
    ["clear", (s) => s.clear()],
    [
      "permanent = true",
      (s) => {
        s.permanent = true;
      },
    ],
    ["flash", (s) => s.flash("m")],
    ["regenerate", (s) => s.regenerate()],
    ["destroy", (s) => s.destroy()],
  ])("%s marks a loaded session modified", async (_name, change) => {
    const browser = new Browser(createSessions({ secret: SECRET }));
    await browser.request((s) => s.set("existing", true));
    const { session } = await browser.request((s) => {
      expect(s.isNew).toBe(false);
      expect(s.modified).toBe(false);
      change(s);
    });
    expect(session.modified).toBe(true);
  });

  it("deleting a key that does not exist, or setting permanent to its value, changes nothing", async () => {
    const browser = new Browser(createSessions({ secret: SECRET }));
    await browser.request((s) => s.set("a", 1));
    const { session, setCookie } = await browser.request((s) => {
      s.delete("missing");
      s.permanent = false;
    });
    expect(session.modified).toBe(false);
    expect(setCookie).toEqual([]);
  });
});

describe("regenerate", () => {
  it("gives a new id and keeps data and flashes; the CSRF token rotates", async () => {
    const browser = new Browser(createSessions({ secret: SECRET }));
    let before = "";
    let token = "";
    await browser.request((s) => {
      s.set("cart", [1, 2]);
      s.flash("welcome");
      token = s.csrfToken();
      before = s.id;
    });
    let after = "";
    let newToken = "";
    await browser.request((s) => {
      s.regenerate();
      after = s.id;
      expect(s.get("cart")).toEqual([1, 2]);
      newToken = s.csrfToken();
    });
    expect(after).not.toBe(before);
    expect(after.length).toBeGreaterThanOrEqual(43);
    expect(newToken).not.toBe(token);
    let cart: unknown;
    let flashes: string[] = [];
    await browser.request((s) => {
      cart = s.get("cart");
      flashes = s.getFlashedMessages();
      expect(s.verifyCsrfToken(newToken)).toBe(true);
      expect(s.verifyCsrfToken(token)).toBe(false);
    });
    expect(cart).toEqual([1, 2]);
    expect(flashes).toEqual(["welcome"]);
  });
});

describe("destroy is terminal", () => {
  it.each<[string, (s: Session) => void]>([
    ["set", (s) => s.set("user", "mallory")],
    ["delete", (s) => s.delete("user")],
    ["clear", (s) => s.clear()],
    ["regenerate", (s) => s.regenerate()],
    [
      "permanent",
      (s) => {
        s.permanent = true;
      },
    ],
  ])("%s after destroy throws ERR_SESSION_DESTROYED", async (_name, write) => {
    const session = await fresh();
    session.set("user", "alice");
    session.destroy();
    expect(codeOf(() => write(session))).toBe("ERR_SESSION_DESTROYED");
    expect(session.get("user")).toBeUndefined();
    expect(session.keys()).toEqual([]);
  });

  it("destroy twice is harmless, and a later flash carries only that message into a fresh session", async () => {
    const browser = new Browser(createSessions({ secret: SECRET }));
    await browser.request((s) => {
      s.set("user", "alice");
      s.flash("before logout");
    });
    await browser.request((s) => {
      s.destroy();
      s.destroy();
      s.flash("You have been logged out.", "info");
    });
    let next: { data: unknown; flashes: unknown; isNew?: boolean } = { data: null, flashes: null };
    await browser.request((s) => {
      next = { data: s.toJSON(), flashes: s.getFlashedMessages({ withCategories: true }), isNew: s.isNew };
    });
    expect(next).toEqual({ data: {}, flashes: [["info", "You have been logged out."]], isNew: false });
  });
});
