/**
 * `createSessions`: what `load` accepts, what `commit` writes, expiry options, schema validation,
 * key rotation, rolling refresh and the cookie size limit.
 */
import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import {
  ConfigError,
  CookieError,
  cookieStore,
  createSessions,
  memoryStore,
  parseCookies,
  type SessionStore,
  type StandardSchemaLike,
} from "../../src/index.js";
import {
  Browser,
  captureLogger,
  DAY,
  OLD_SECRET,
  parseSetCookie,
  recordingStore,
  SECOND,
  SECRET,
  T0,
  useClock,
} from "./harness.js";

afterEach(() => {
  vi.useRealTimers();
});

const stores: Array<[string, () => SessionStore]> = [
  ["memoryStore", () => memoryStore()],
  ["cookieStore (sealed)", () => cookieStore()],
  ["cookieStore (signed)", () => cookieStore({ encrypt: false })],
];

/** A browser holding a session with `{ user: "alice" }`, and its Cookie header. */
async function loggedIn(store: SessionStore, options: Parameters<typeof createSessions>[0] = {}) {
  const sessions = createSessions({ secret: SECRET, store, ...options });
  const browser = new Browser(sessions);
  await browser.request((s) => s.set("user", "alice"));
  return { sessions, browser, cookie: browser.cookieHeader! };
}

describe("load: request shapes", () => {
  it.each(stores)(
    "%s: reads a Fetch Request, Headers, and an adapter's { headers, secure }",
    async (_n, make) => {
      const { sessions, cookie } = await loggedIn(make());
      const fromRequest = await sessions.load(new Request("http://localhost/", { headers: { cookie } }));
      const fromHeaders = await sessions.load(new Headers({ cookie }));
      const fromRecord = await sessions.load({ headers: { cookie } });
      const fromRecordHeaders = await sessions.load({ headers: new Headers({ cookie }) });
      for (const session of [fromRequest, fromHeaders, fromRecord, fromRecordHeaders]) {
        expect(session.isNew).toBe(false);
        expect(session.get("user")).toBe("alice");
      }
    },
  );

  it.each(stores)(
    "%s: finds the session across several Cookie header fields (RFC 6265bis §4.2.1)",
    async (_n, make) => {
      const { sessions, cookie } = await loggedIn(make());
      const asArray = await sessions.load({ headers: { cookie: ["theme=dark", cookie, "lang=en"] } });
      expect(asArray.get("user")).toBe("alice");
      const appended = new Headers();
      appended.append("cookie", "theme=dark");
      appended.append("cookie", cookie);
      expect((await sessions.load(appended)).get("user")).toBe("alice");
      const request = new Request("http://localhost/", {
        headers: [
          ["cookie", "a=1"],
          ["cookie", cookie],
        ],
      });
      expect((await sessions.load(request)).get("user")).toBe("alice");
    },
  );

  it("an https Request uses the __Host- name; an http one the plain name", async () => {
    const sessions = createSessions({ secret: SECRET });
    const https = new Browser(sessions, true);
    await https.request((s) => s.set("user", "alice"));
    const value = https.sessionCookie!;
    expect([...https.jar.keys()]).toEqual(["__Host-sid"]);
    const viaHttps = await sessions.load(
      new Request("https://example.com/", { headers: { cookie: `__Host-sid=${value}` } }),
    );
    expect(viaHttps.get("user")).toBe("alice");
    // The same value under the plain name is not looked at on https, nor the prefixed one on http.
    const wrongName = await sessions.load(
      new Request("https://example.com/", { headers: { cookie: `sid=${value}` } }),
    );
    expect(wrongName.isNew).toBe(true);
    const overHttp = await sessions.load(
      new Request("http://example.com/", { headers: { cookie: `__Host-sid=${value}` } }),
    );
    expect(overHttp.isNew).toBe(true);
  });

  it("finds the session cookie in any Cookie header: three 3000-byte analytics cookies beside it, 16 KiB, several fields", async () => {
    const capture = captureLogger();
    const { sessions, cookie } = await loggedIn(memoryStore(), { logger: capture.logger });
    const analytics = ["_ga", "_fbp", "_hjid"].map((name) => `${name}=${"a".repeat(3000)}`).join("; ");
    expect((await sessions.load({ headers: { cookie: `${analytics}; ${cookie}` } })).get("user")).toBe(
      "alice",
    );
    expect((await sessions.load({ headers: { cookie: `${cookie}; ${analytics}` } })).get("user")).toBe(
      "alice",
    );
    const padding = (bytes: number) => `pad=${"p".repeat(bytes - cookie.length - 6)}; `;
    const big = padding(16 * 1024) + cookie;
    expect(Buffer.byteLength(big)).toBe(16 * 1024);
    expect((await sessions.load({ headers: { cookie: big } })).get("user")).toBe("alice");
    // Thousands of tiny pairs, and names that only contain the session cookie's name.
    const noisy = `${"a;".repeat(5000)}xsid=1; sidx=2; ${cookie}`;
    expect((await sessions.load({ headers: { cookie: noisy } })).get("user")).toBe("alice");
    const split = await sessions.load({ headers: { cookie: [padding(5000), padding(5000), cookie] } });
    expect(split.get("user")).toBe("alice");
    expect(capture.entries).toEqual([]);
  });

  it("a larger maxCookieHeaderBytes is honoured end to end", async () => {
    const { sessions, cookie } = await loggedIn(memoryStore(), { maxCookieHeaderBytes: 16_384 });
    const big = `pad=${"p".repeat(10_000)}; ${cookie}`;
    expect((await sessions.load({ headers: { cookie: big } })).get("user")).toBe("alice");
  });
});

describe("load: bad cookies become an empty session, never an exception", () => {
  it.each(stores)(
    "%s: garbage values (fast-check) → empty new session; the bad cookie is cleared",
    async (_n, make) => {
      const sessions = createSessions({ secret: SECRET, store: make() });
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            fc.string({ maxLength: 300 }),
            // Any code points, lone surrogates and controls included.
            fc
              .array(fc.integer({ min: 0, max: 0x10ffff }), { maxLength: 300 })
              .map((points) => String.fromCodePoint(...points)),
            fc
              .array(fc.constantFrom(..."v1.0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ_-"), {
                maxLength: 400,
              })
              .map((chars) => chars.join("")),
          ),
          async (value) => {
            const header = `sid=${value}`;
            const session = await sessions.load({ headers: { cookie: header } });
            expect(session.isNew).toBe(true);
            expect(session.keys()).toEqual([]);
            const headers = new Headers();
            await sessions.commit(session, headers);
            const sent = parseCookies(header).sid;
            const setCookie = headers.getSetCookie();
            if (sent === undefined || sent === "") expect(setCookie).toEqual([]);
            else
              expect(setCookie).toEqual([
                expect.stringMatching(/^sid=; Max-Age=0; Expires=Thu, 01 Jan 1970/),
              ]);
          },
        ),
        { numRuns: 150 },
      );
    },
  );

  it.each(stores)(
    "%s: a tampered cookie → empty session, debug 'bad-mac' (the format's reason), cookie cleared",
    async (_n, make) => {
      const capture = captureLogger();
      const { browser } = await loggedIn(make(), { logger: capture.logger });
      const value = browser.sessionCookie!;
      const middle = Math.floor(value.length / 2);
      const flipped = value.slice(0, middle) + (value[middle] === "A" ? "B" : "A") + value.slice(middle + 1);
      browser.sessionCookie = flipped;
      const { session, setCookie } = await browser.request((s) => s.get("user"));
      expect(session.isNew).toBe(true);
      expect(session.get("user")).toBeUndefined();
      expect(setCookie).toHaveLength(1);
      expect(setCookie[0]).toMatch(/^sid=; Max-Age=0; /);
      expect(capture.entries.map((e) => e.message)).toEqual(["bad-mac"]);
    },
  );

  it.each(stores)(
    "%s: a handler that writes after a bad cookie gets one fresh cookie, not a clear plus a set",
    async (_n, make) => {
      const sessions = createSessions({ secret: SECRET, store: make() });
      const browser = new Browser(sessions);
      browser.sessionCookie = "v1.garbage";
      const { setCookie } = await browser.request((s) => s.set("a", 1));
      expect(setCookie).toHaveLength(1);
      expect(parseSetCookie(setCookie[0]!).value).not.toBe("");
      expect((await sessions.load({ headers: { cookie: browser.cookieHeader! } })).get("a")).toBe(1);
    },
  );

  it("a route that never touches the session leaves a bad cookie alone (no Set-Cookie, no Vary)", async () => {
    const sessions = createSessions({ secret: SECRET });
    const session = await sessions.load({ headers: { cookie: "sid=v1.garbage" } });
    const headers = new Headers();
    await sessions.commit(session, headers);
    expect([...headers]).toEqual([]);
  });
});

describe("schema (Standard Schema: zod 4)", () => {
  const Data = z.object({ user: z.string(), visits: z.number().int().nonnegative() }).partial();

  it("valid stored data loads; invalid stored data becomes an empty session with a debug reason", async () => {
    const store = memoryStore();
    const capture = captureLogger();
    const typed = createSessions({ secret: SECRET, store, schema: Data, logger: capture.logger });
    const untyped = createSessions({ secret: SECRET, store });
    // Written by an older deploy without the schema:
    const good = new Browser(untyped);
    await good.request((s) => s.set("user", "alice").set("visits", 3));
    const bad = new Browser(untyped);
    await bad.request((s) => s.set("user", "bob").set("visits", "many"));

    const ok = await typed.load({ headers: { cookie: good.cookieHeader! } });
    expect(ok.toJSON()).toEqual({ user: "alice", visits: 3 });

    const rejected = await typed.load({ headers: { cookie: bad.cookieHeader! } });
    expect(rejected.isNew).toBe(true);
    expect(rejected.toJSON()).toEqual({});
    expect(capture.entries.map((e) => [e.level, e.message])).toEqual([["debug", "schema invalid"]]);
    const headers = new Headers();
    await typed.commit(rejected, headers);
    expect(headers.getSetCookie()).toEqual([expect.stringMatching(/^sid=; Max-Age=0;/)]);
  });

  it("works for the cookie store too", async () => {
    const untyped = new Browser(createSessions({ secret: SECRET, store: cookieStore() }));
    await untyped.request((s) => s.set("visits", -1));
    const typed = createSessions({ secret: SECRET, store: cookieStore(), schema: Data });
    expect((await typed.load({ headers: { cookie: untyped.cookieHeader! } })).isNew).toBe(true);
  });

  it("the schema sees only user keys: the CSRF token survives a stripping and a strict schema", async () => {
    for (const schema of [Data, z.strictObject({ user: z.string().optional() })]) {
      const browser = new Browser(createSessions({ secret: SECRET, schema }));
      let token = "";
      await browser.request((s) => {
        s.set("user", "alice");
        token = s.csrfToken();
      });
      let valid = false;
      let user: unknown;
      await browser.request((s) => {
        valid = s.verifyCsrfToken(token);
        user = s.get("user");
      });
      expect(user).toBe("alice");
      expect(valid).toBe(true);
    }
  });

  it("accepts an async validator and uses the value it returns", async () => {
    const trimmed: StandardSchemaLike<{ name?: string }> = {
      "~standard": {
        version: 1,
        vendor: "test",
        validate: async (value) => {
          const name = (value as { name?: unknown }).name;
          if (name !== undefined && typeof name !== "string") return { issues: [{ message: "name" }] };
          return { value: name === undefined ? {} : { name: name.trim() } };
        },
      },
    };
    const browser = new Browser(createSessions({ secret: SECRET, schema: trimmed }));
    await browser.request((s) => s.set("name", "  Leo  "));
    let name: unknown;
    await browser.request((s) => {
      name = s.get("name");
    });
    expect(name).toBe("Leo");
  });
});

describe("commit: lifetime of the cookie", () => {
  it.each(stores)(
    "%s: a browser-session cookie by default; permanent gives Max-Age = 31 days",
    async (_n, make) => {
      const browser = new Browser(createSessions({ secret: SECRET, store: make() }));
      const first = await browser.request((s) => s.set("a", 1));
      expect(parseSetCookie(first.setCookie[0]!).attributes).not.toHaveProperty("max-age");
      expect(parseSetCookie(first.setCookie[0]!).attributes).not.toHaveProperty("expires");
      const permanent = await browser.request((s) => {
        s.permanent = true;
      });
      expect(permanent.setCookie).toHaveLength(1);
      expect(parseSetCookie(permanent.setCookie[0]!).attributes["max-age"]).toBe(String(31 * 86400));
      let seen: boolean | undefined;
      const back = await browser.request((s) => {
        seen = s.permanent;
        s.permanent = false;
      });
      expect(seen).toBe(true);
      expect(back.setCookie).toHaveLength(1);
      expect(parseSetCookie(back.setCookie[0]!).attributes).not.toHaveProperty("max-age");
    },
  );

  it("permanentLifetime sets Max-Age; more than 400 days is refused at construction", async () => {
    const browser = new Browser(createSessions({ secret: SECRET, permanentLifetime: 3600 }));
    const { setCookie } = await browser.request((s) => {
      s.set("a", 1);
      s.permanent = true;
    });
    expect(parseSetCookie(setCookie[0]!).attributes["max-age"]).toBe("3600");
    expect(() => createSessions({ secret: SECRET, permanentLifetime: 401 * 86400 })).toThrow(ConfigError);
  });

  it("fractional second options still give whole-millisecond expiries (the cookie store can seal them)", async () => {
    useClock();
    const browser = new Browser(createSessions({ secret: SECRET, store: cookieStore(), idleTimeout: 1 / 3 }));
    await browser.request((s) => s.set("a", 1));
    expect(browser.sessionCookie).toBeDefined();
  });
});

describe("rolling refresh is throttled", () => {
  it("server store: no write and no Set-Cookie within touchAfter; one of each after it", async () => {
    const clock = useClock();
    const store = recordingStore();
    const sessions = createSessions({ secret: SECRET, store, rolling: true, permanentLifetime: DAY / 1000 });
    const browser = new Browser(sessions);
    await browser.request((s) => {
      s.set("a", 1);
      s.permanent = true;
    });
    const writes = () => store.calls.filter((c) => c.op === "apply").length;
    expect(writes()).toBe(1);

    clock.advance(30 * SECOND);
    const quiet = await browser.request((s) => s.get("a"));
    expect(quiet.setCookie).toEqual([]);
    expect(writes()).toBe(1);

    clock.advance(31 * SECOND); // 61 s since the last refresh: over the default touchAfter (60 s)
    const refreshed = await browser.request((s) => s.get("a"));
    expect(refreshed.setCookie).toHaveLength(1);
    expect(parseSetCookie(refreshed.setCookie[0]!).attributes["max-age"]).toBe(String(DAY / 1000));
    expect(writes()).toBe(2);
    const touch = store.calls.at(-1)?.changes;
    expect(touch).toMatchObject({ set: [], delete: [], clear: false });
    expect(touch?.meta.lastSeenAt).toBe(T0 + 61 * SECOND);
    // Kept a day past its end (the grace that lets a late request read "expired").
    expect(touch?.meta.expiresAt).toBe(T0 + 61 * SECOND + 2 * DAY);

    clock.advance(10 * SECOND);
    expect((await browser.request((s) => s.get("a"))).setCookie).toEqual([]);
    expect(writes()).toBe(2);
  });

  it("cookie store: re-issued only after touchAfter (configurable)", async () => {
    const clock = useClock();
    const browser = new Browser(
      createSessions({ secret: SECRET, store: cookieStore(), rolling: true, touchAfter: 300 }),
    );
    await browser.request((s) => s.set("a", 1));
    const first = browser.sessionCookie;
    clock.advance(299 * SECOND);
    expect((await browser.request((s) => s.get("a"))).setCookie).toEqual([]);
    clock.advance(2 * SECOND);
    expect((await browser.request((s) => s.get("a"))).setCookie).toHaveLength(1);
    expect(browser.sessionCookie).not.toBe(first);
  });

  it("without rolling or idleTimeout, reads of a logged-in session never rewrite anything", async () => {
    const clock = useClock();
    const store = recordingStore();
    const browser = new Browser(createSessions({ secret: SECRET, store }));
    await browser.request((s) => {
      s.set("a", 1);
      s.login("alice");
    });
    clock.advance(DAY);
    expect((await browser.request((s) => s.get("a"))).setCookie).toEqual([]);
    expect(store.calls.filter((c) => c.op === "apply")).toHaveLength(1);
  });
});

describe("key rotation re-issues the cookie with the current secret", () => {
  it.each(stores)("%s", async (_n, make) => {
    const store = make();
    const before = new Browser(createSessions({ secret: OLD_SECRET, store }));
    await before.request((s) => s.set("user", "alice"));
    const oldCookie = before.cookieHeader!;

    const rotated = createSessions({ secret: [SECRET, OLD_SECRET], store });
    const browser = new Browser(rotated);
    browser.sessionCookie = before.sessionCookie;
    const { setCookie } = await browser.request((s) => {
      expect(s.get("user")).toBe("alice"); // read only: nothing changed, yet the cookie is re-issued
    });
    expect(setCookie).toHaveLength(1);
    expect(browser.cookieHeader).not.toBe(oldCookie);

    const newOnly = createSessions({ secret: SECRET, store });
    expect((await newOnly.load({ headers: { cookie: browser.cookieHeader! } })).get("user")).toBe("alice");
    expect((await newOnly.load({ headers: { cookie: oldCookie } })).isNew).toBe(true);
    // Once re-issued, later requests with the rotated keys write nothing more.
    expect((await browser.request((s) => s.get("user"))).setCookie).toEqual([]);
  });
});

describe("ERR_COOKIE_TOO_LARGE", () => {
  it.each([
    ["sealed", () => cookieStore()],
    ["signed", () => cookieStore({ encrypt: false })],
  ])("%s: commit rejects with the size in the message, and writes no Set-Cookie", async (_n, make) => {
    const sessions = createSessions({ secret: SECRET, store: make() });
    const session = await sessions.load({ headers: {} });
    session.set("essay", "x".repeat(20000));
    const headers = new Headers();
    const error = await sessions.commit(session, headers).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CookieError);
    expect((error as CookieError).code).toBe("ERR_COOKIE_TOO_LARGE");
    const size = Number(/(\d+) bytes/.exec((error as Error).message)?.[1]);
    expect(size).toBeGreaterThan(5000);
    expect((error as Error).message).toContain("4096");
    expect((error as Error).message).not.toContain("xxxx");
    expect(headers.getSetCookie()).toEqual([]);
  });

  it("a loaded session that grows over the limit fails too, and the browser keeps its old cookie", async () => {
    const browser = new Browser(createSessions({ secret: SECRET, store: cookieStore() }));
    await browser.request((s) => s.set("a", 1));
    const before = browser.sessionCookie;
    await expect(browser.request((s) => s.set("essay", "y".repeat(20000)))).rejects.toMatchObject({
      code: "ERR_COOKIE_TOO_LARGE",
    });
    expect(browser.sessionCookie).toBe(before);
  });

  it("name + value of exactly 4096 bytes is written; the next size up is refused (RFC 6265bis §5.6)", async () => {
    const sessions = createSessions({ secret: SECRET, store: cookieStore({ encrypt: false, maxChunks: 1 }) });
    const commitWith = async (length: number) => {
      const session = await sessions.load({ headers: {} });
      session.set("p", "a".repeat(length));
      const headers = new Headers();
      await sessions.commit(session, headers);
      const { name, value } = parseSetCookie(headers.getSetCookie()[0]!);
      return name.length + value.length;
    };
    // Find the payload length whose cookie is exactly 4096 bytes (base64 grows in steps).
    let exact: number | undefined;
    for (let length = 2900; length < 3100 && exact === undefined; length++) {
      const size = await commitWith(length).catch(() => Number.POSITIVE_INFINITY);
      if (size === 4096) exact = length;
    }
    expect(exact).toBeDefined();
    await expect(commitWith(exact! + 1)).rejects.toMatchObject({ code: "ERR_COOKIE_TOO_LARGE" });
  });
});

describe("configuration fails at construction", () => {
  it.each<[string, Parameters<typeof createSessions>[0], string]>([
    ["no secret", {}, "ERR_SECRET_MISSING"],
    ["short secret", { secret: "too-short" }, "ERR_SECRET_TOO_SHORT"],
    ["idleTimeout 0", { secret: SECRET, idleTimeout: 0 }, "ERR_INVALID_OPTION"],
    ["negative absoluteTimeout", { secret: SECRET, absoluteTimeout: -1 }, "ERR_INVALID_OPTION"],
    ["NaN permanentLifetime", { secret: SECRET, permanentLifetime: Number.NaN }, "ERR_INVALID_OPTION"],
    [
      "sameSite none without Secure",
      { secret: SECRET, cookie: { sameSite: "none", secure: false } },
      "ERR_INVALID_OPTION",
    ],
    ["bad sameSite", { secret: SECRET, cookie: { sameSite: "bogus" as "lax" } }, "ERR_INVALID_OPTION"],
    ["negative header cap", { secret: SECRET, maxCookieHeaderBytes: -1 }, "ERR_INVALID_OPTION"],
  ])("%s", (_name, options, code) => {
    expect(() => createSessions(options)).toThrow(expect.objectContaining({ code }));
  });

  it("commit refuses a session that this Sessions did not load", async () => {
    const a = createSessions({ secret: SECRET });
    const b = createSessions({ secret: SECRET });
    const session = await a.load({ headers: {} });
    await expect(b.commit(session, new Headers())).rejects.toThrow(TypeError);
  });
});

describe("toJSON() with reserved JavaScript names as keys", () => {
  it.each(["__proto__", "constructor", "prototype"])(
    "%s is data: an own key, never the prototype",
    async (name) => {
      const sessions = createSessions({ secret: SECRET });
      const browser = new Browser(sessions);
      await browser.request((s) => s.untyped().set(name, { polluted: true }));
      const { session } = await browser.request(() => undefined);
      const json = session.toJSON() as Record<string, unknown>;
      expect(Object.getPrototypeOf(json)).toBeNull();
      expect(Object.keys(json)).toEqual([name]);
      expect(Object.getOwnPropertyDescriptor(json, name)?.value).toEqual({ polluted: true });
      expect((json as { polluted?: unknown }).polluted).toBeUndefined();
      expect(JSON.parse(JSON.stringify(session))).toEqual(JSON.parse(`{"${name}":{"polluted":true}}`));
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    },
  );
});
