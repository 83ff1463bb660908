/**
 * Flash messages with Flask's `get_flashed_messages` semantics, plus Rails' `flash.now` and
 * `flash.keep`. Every case runs against a server store and the cookie store.
 */
import { describe, expect, it } from "vitest";
import { cookieStore, createSessions, memoryStore, type SessionStore } from "../../src/index.js";
import { Browser, SECRET } from "./harness.js";

const stores: Array<[string, () => SessionStore]> = [
  ["memoryStore", () => memoryStore()],
  ["cookieStore", () => cookieStore()],
];

describe.each(stores)("flash with %s", (_name, makeStore) => {
  const browser = () => new Browser(createSessions({ secret: SECRET, store: makeStore() }));

  it("the first call takes the messages; later calls in the request see the same list; the next request none", async () => {
    const b = browser();
    await b.request((s) => {
      s.flash("one");
      s.flash("two", "error");
    });
    const calls: unknown[] = [];
    await b.request((s) => {
      calls.push(s.getFlashedMessages());
      calls.push(s.getFlashedMessages());
      calls.push(s.getFlashedMessages({ withCategories: true }));
    });
    expect(calls).toEqual([
      ["one", "two"],
      ["one", "two"],
      [
        ["message", "one"],
        ["error", "two"],
      ],
    ]);
    let next: unknown;
    await b.request((s) => {
      next = s.getFlashedMessages();
    });
    expect(next).toEqual([]);
  });

  it("unread messages wait in the session until a request reads them", async () => {
    const b = browser();
    await b.request((s) => s.flash("saved"));
    await b.request((s) => s.set("other", 1)); // a request that does not render flashes
    let read: unknown;
    await b.request((s) => {
      read = s.getFlashedMessages();
    });
    expect(read).toEqual(["saved"]);
  });

  it("categoryFilter returns the matching messages and discards all of them, as Flask does", async () => {
    const b = browser();
    await b.request((s) => {
      s.flash("a", "info");
      s.flash("b", "error");
      s.flash("c", "info");
    });
    let filtered: unknown;
    let all: unknown;
    await b.request((s) => {
      filtered = s.getFlashedMessages({ categoryFilter: ["info"], withCategories: true });
      all = s.getFlashedMessages();
    });
    expect(filtered).toEqual([
      ["info", "a"],
      ["info", "c"],
    ]);
    expect(all).toEqual(["a", "b", "c"]);
    let next: unknown;
    await b.request((s) => {
      next = s.getFlashedMessages({ categoryFilter: ["error"] });
    });
    expect(next).toEqual([]);
  });

  it("a message flashed and read in the same request is shown once and not stored", async () => {
    const b = browser();
    await b.request((s) => s.set("user", "alice"));
    let now: unknown;
    await b.request((s) => {
      s.flash("inline");
      now = s.getFlashedMessages();
    });
    expect(now).toEqual(["inline"]);
    let next: unknown;
    await b.request((s) => {
      next = s.getFlashedMessages();
    });
    expect(next).toEqual([]);
  });

  it("a message flashed after the first read goes to the next request", async () => {
    const b = browser();
    let first: unknown;
    let second: unknown;
    await b.request((s) => {
      first = s.getFlashedMessages();
      s.flash("later");
      second = s.getFlashedMessages();
    });
    expect([first, second]).toEqual([[], []]);
    let next: unknown;
    await b.request((s) => {
      next = s.getFlashedMessages();
    });
    expect(next).toEqual(["later"]);
  });

  it("flashNow is shown in this response only, even after the first read", async () => {
    const b = browser();
    let seen: unknown[] = [];
    const { setCookie } = await b.request((s) => {
      s.flashNow("validation failed", "error");
      seen.push(s.getFlashedMessages({ withCategories: true }));
      s.flashNow("also now");
      seen.push(s.getFlashedMessages());
    });
    expect(seen).toEqual([[["error", "validation failed"]], ["validation failed", "also now"]]);
    expect(setCookie).toEqual([]); // nothing to store
    await b.request((s) => {
      seen = s.getFlashedMessages();
    });
    expect(seen).toEqual([]);
  });

  it("keepFlashes carries the messages read in this request to the next one, once", async () => {
    const b = browser();
    await b.request((s) => s.flash("from before"));
    await b.request((s) => {
      s.flash("from now");
      s.flashNow("not kept");
      expect(s.getFlashedMessages()).toEqual(["from before", "from now", "not kept"]);
      s.keepFlashes();
      s.keepFlashes();
    });
    let kept: unknown;
    await b.request((s) => {
      kept = s.getFlashedMessages();
    });
    expect(kept).toEqual(["from before", "from now"]);
    let gone: unknown;
    await b.request((s) => {
      gone = s.getFlashedMessages();
    });
    expect(gone).toEqual([]);
  });

  it("clear() drops pending messages with the data, like Flask's session.clear()", async () => {
    const b = browser();
    await b.request((s) => {
      s.set("a", 1);
      s.flash("pending");
    });
    await b.request((s) => s.clear());
    let read: unknown;
    await b.request((s) => {
      read = s.getFlashedMessages();
    });
    expect(read).toEqual([]);
  });

  it("messages are not data: they never show in keys() or toJSON(), and keys named like them are data", async () => {
    const b = browser();
    await b.request((s) => {
      s.flash("hidden");
      s.set("_flashes", "user data"); // Flask's own key is an ordinary key here
      s.set("f", "user data");
      s.set("flashes", ["user data"]);
    });
    let view: unknown;
    await b.request((s) => {
      view = { keys: s.keys(), json: s.toJSON(), flashes: s.getFlashedMessages() };
    });
    expect(view).toEqual({
      keys: ["_flashes", "f", "flashes"],
      json: { _flashes: "user data", f: "user data", flashes: ["user data"] },
      flashes: ["hidden"],
    });
  });

  it("keeps unicode and markup verbatim (escaping is the template's job)", async () => {
    const b = browser();
    const text = "<script>alert(1)</script> é ✓ 😀";
    await b.request((s) => s.flash(text, "wärning"));
    let read: unknown;
    await b.request((s) => {
      read = s.getFlashedMessages({ withCategories: true });
    });
    expect(read).toEqual([["wärning", text]]);
  });

  it("refuses non-string messages and categories", async () => {
    const session = await createSessions({ secret: SECRET, store: makeStore() }).load({ headers: {} });
    expect(() => session.flash(42 as unknown as string)).toThrow(
      expect.objectContaining({ code: "ERR_VALUE_NOT_SERIALIZABLE" }),
    );
    expect(() => session.flash("m", null as unknown as string)).toThrow(
      expect.objectContaining({ code: "ERR_VALUE_NOT_SERIALIZABLE" }),
    );
  });
});
