/**
 * docs/security.md §38, adapter parity: one behavioural suite (properties 1, 12, 13, 18, 32,
 * 33, 36, store failure and CSRF) that every adapter harness runs, plus a transcript of one
 * browsing session whose normalised responses must be identical across adapters.
 */
import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type SessionsOptions, storeKey } from "../../../src/session/index.js";
import { createSessions } from "../../../src/session/sessions.js";
import { cookieStore } from "../../../src/stores/cookie.js";
import { memoryStore } from "../../../src/stores/memory.js";
import type { ServerStore } from "../../../src/stores/types.js";
import type { Client, Harness, HarnessResponse } from "./routes.js";

export const SECRET = "parity-suite-secret-0123456789abcdefghijkl";
const BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** Everything one test needs: the app, its store (to inspect) and the core's log. */
export async function setup(
  harness: Harness,
  options: Partial<SessionsOptions<Record<string, unknown>>> = {},
) {
  const store = memoryStore();
  const logs: string[] = [];
  const core = createSessions({
    secret: SECRET,
    store,
    logger: { debug: (message) => logs.push(message), warn: (message) => logs.push(message) },
    ...options,
  });
  const client = await harness.start(core);
  return { client, store, logs, core };
}

/** Set-Cookie lines for one cookie name. */
export function cookiesNamed(response: HarnessResponse, name = "sid"): string[] {
  return response.setCookies.filter((line) => line.startsWith(`${name}=`));
}

/** The `name=value` pair a browser would send back. */
export function cookiePair(response: HarnessResponse, name = "sid"): string {
  const [line] = cookiesNamed(response, name);
  if (line === undefined) throw new Error(`no Set-Cookie for ${name}`);
  return line.split(";", 1)[0]!;
}

function json(response: HarnessResponse): unknown {
  return JSON.parse(response.body);
}

async function idOf(client: Client, cookie: string): Promise<string> {
  return (json(await client.request("/id", { cookie })) as { id: string }).id;
}

/** One bit of the 6 a base64url character carries, flipped; other characters become "A". */
function flipBase64url(value: string, index: number, bit: number): string {
  const position = BASE64URL.indexOf(value[index]!);
  const replacement = position < 0 ? "A" : BASE64URL[position ^ (1 << bit)]!;
  return value.slice(0, index) + replacement + value.slice(index + 1);
}

export function paritySuite(harness: Harness): void {
  const clients: Client[] = [];
  async function start(options: Partial<SessionsOptions<Record<string, unknown>>> = {}) {
    const context = await setup(harness, options);
    clients.push(context.client);
    return context;
  }
  afterEach(async () => {
    vi.useRealTimers();
    await Promise.all(clients.splice(0).map((client) => client.close()));
  });

  describe("property 1: bit flips", () => {
    it("answers a flipped cookie with an empty session and never the old data (fast-check)", async () => {
      const { client, logs } = await start();
      const cookie = cookiePair(await client.request("/set?value=alice"));
      const value = cookie.slice("sid=".length);
      await fc.assert(
        fc.asyncProperty(fc.nat(), fc.integer({ min: 0, max: 5 }), async (position, bit) => {
          const tampered = flipBase64url(value, position % value.length, bit);
          fc.pre(tampered !== value);
          logs.length = 0;
          const response = await client.request("/read", { cookie: `sid=${tampered}` });
          expect(response.status).toBe(200);
          expect(json(response)).toEqual({});
          expect(response.body).not.toContain("alice");
          // The bad cookie is cleared (or nothing is sent), never re-issued with data.
          for (const line of cookiesNamed(response)) expect(line).toMatch(/^sid=;/);
          // The format's reason: a flipped bit breaks the MAC, or the encoding itself.
          expect(logs.some((entry) => entry === "bad-mac" || entry === "malformed")).toBe(true);
        }),
        { numRuns: 40 },
      );
    });
  });

  describe("property 12: regenerate on login", () => {
    it("moves the data to a new id, deletes the old record, and the old cookie replays as empty", async () => {
      const { client, store } = await start();
      const cookieA = cookiePair(await client.request("/set?value=anonymous"));
      const idA = await idOf(client, cookieA);
      expect(await store.get(storeKey(idA))).not.toBeNull();

      const login = await client.request("/login?user=leo", { cookie: cookieA });
      expect(json(login)).toEqual({ user: "leo" });
      const cookieB = cookiePair(login);
      const idB = await idOf(client, cookieB);
      expect(idB).not.toBe(idA);
      expect(await store.get(storeKey(idA))).toBeNull();
      expect(await store.get(storeKey(idB))).not.toBeNull();

      expect(json(await client.request("/read", { cookie: cookieB }))).toEqual({
        name: "anonymous",
        user: "leo",
      });
      const replay = await client.request("/read", { cookie: cookieA });
      expect(json(replay)).toEqual({});
    });
  });

  describe("property 13: logout", () => {
    it.each([false, true])(
      "deletes the record and clears the cookie exactly once (https: %s)",
      async (secure) => {
        const { client, store } = await start();
        const name = secure ? "__Host-sid" : "sid";
        const cookie = cookiePair(await client.request("/login?user=leo", { secure }), name);
        const id = (json(await client.request("/id", { cookie, secure })) as { id: string }).id;

        const logout = await client.request("/logout", { cookie, secure });
        const lines = cookiesNamed(logout, name);
        expect(lines).toHaveLength(1);
        expect(lines[0]).toBe(
          `${name}=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; HttpOnly${secure ? "; Secure" : ""}; SameSite=Lax`,
        );
        expect(await store.get(storeKey(id))).toBeNull();
        expect(json(await client.request("/read", { cookie, secure }))).toEqual({});
      },
    );
  });

  describe("property 18: secure defaults", () => {
    it("sends __Host-sid with HttpOnly, Secure, SameSite=Lax and no Domain or lifetime on https", async () => {
      const { client } = await start();
      const [line, ...rest] = (await client.request("/set", { secure: true })).setCookies;
      expect(rest).toEqual([]);
      expect(line).toMatch(/^__Host-sid=v1\.[A-Za-z0-9._-]+; Path=\/; HttpOnly; Secure; SameSite=Lax$/);
    });

    it("sends the documented development variant on http://", async () => {
      const { client } = await start();
      const [line] = (await client.request("/set")).setCookies;
      expect(line).toMatch(/^sid=v1\.[A-Za-z0-9._-]+; Path=\/; HttpOnly; SameSite=Lax$/);
    });
  });

  describe("property 32: cache safety", () => {
    it("adds Vary: Cookie where the session is used and Cache-Control where the cookie is set", async () => {
      const { client } = await start();
      const set = await client.request("/set");
      expect(set.headers.get("vary")).toBe("Cookie");
      expect(set.headers.get("cache-control")).toBe("private, no-store");
      const cookie = cookiePair(set);

      const read = await client.request("/read", { cookie });
      expect(read.headers.get("vary")).toBe("Cookie");
      expect(read.setCookies).toEqual([]);

      const untouched = await client.request("/static", { cookie });
      expect(untouched.headers.get("vary")).toBeNull();
      expect(untouched.headers.get("cache-control")).toBeNull();
      expect(untouched.setCookies).toEqual([]);

      const logout = await client.request("/logout", { cookie });
      expect(logout.headers.get("vary")).toBe("Cookie");
      expect(logout.headers.get("cache-control")).toBe("private, no-store");
    });

    it("marks a rolling refresh (cookie re-issued on a read) the same way", async () => {
      vi.useFakeTimers({ toFake: ["Date"] });
      vi.setSystemTime(new Date("2030-01-01T00:00:00Z"));
      const { client } = await start({ rolling: true, touchAfter: 60 });
      const cookie = cookiePair(await client.request("/set"));
      vi.setSystemTime(new Date("2030-01-01T00:01:01Z"));
      const read = await client.request("/read", { cookie });
      expect(cookiesNamed(read)).toHaveLength(1);
      expect(read.headers.get("vary")).toBe("Cookie");
      expect(read.headers.get("cache-control")).toBe("private, no-store");
    });
  });

  describe("property 33: one Set-Cookie per name", () => {
    // The cookie store re-issues the cookie on every change: the case where duplicates could appear.
    it.each(["/set-twice", "/regenerate-then-set", "/flash-then-destroy", "/login"])(
      "%s sends exactly one session cookie (cookie store)",
      async (path) => {
        const { client } = await start({ store: cookieStore() });
        const cookie = cookiePair(await client.request("/set"));
        const response = await client.request(path, { cookie });
        expect(cookiesNamed(response)).toHaveLength(1);
      },
    );

    it.each(["/set-twice", "/regenerate-then-set", "/flash-then-destroy", "/login"])(
      "%s sends at most one session cookie (memory store, new and existing session)",
      async (path) => {
        const { client } = await start();
        expect(cookiesNamed(await client.request(path)).length).toBeLessThanOrEqual(1);
        const cookie = cookiePair(await client.request("/set"));
        expect(cookiesNamed(await client.request(path, { cookie })).length).toBeLessThanOrEqual(1);
      },
    );
  });

  describe("chunked cookie sessions", () => {
    it("sends every chunk line once, reads the set back, and expires the chunks when it shrinks", async () => {
      const { client } = await start({ store: cookieStore() });
      let essay = "";
      for (let i = 0; essay.length < 8000; i++) essay += ((i * 2654435761) % 4294967296).toString(36);
      essay = essay.slice(0, 8000);
      const big = await client.request(`/set?key=essay&value=${essay}`);
      const names = big.setCookies.map((line) => line.slice(0, line.indexOf("=")));
      expect(names).toEqual(["sid.0", "sid.1", "sid.2"]);
      for (const line of big.setCookies) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(4096);
      expect(big.headers.get("cache-control")).toBe("private, no-store");
      const cookie = big.setCookies.map((line) => line.split(";", 1)[0]).join("; ");
      const read = await client.request("/read", { cookie });
      expect(json(read)).toEqual({ essay });
      expect(read.setCookies).toEqual([]);
      const small = await client.request("/set?key=essay&value=short", { cookie });
      const expired = small.setCookies
        .filter((line) => /Max-Age=0/.test(line))
        .map((l) => l.split("=", 1)[0]);
      expect(expired).toEqual(["sid.0", "sid.1", "sid.2"]);
      expect(cookiesNamed(small)).toHaveLength(1);
      expect(json(await client.request("/read", { cookie: cookiePair(small) }))).toEqual({ essay: "short" });
    });
  });

  describe("property 36: flash lifecycle", () => {
    it("shows a flash on the next request once, then never again (even if the cookie is replayed)", async () => {
      const { client } = await start();
      const flash = await client.request("/flash?message=saved");
      expect(flash.status).toBe(302);
      expect(flash.headers.get("location")).toBe("/messages");
      const cookie = cookiePair(flash);

      const shown = await client.request("/messages", { cookie });
      expect(json(shown)).toEqual([["info", "saved"]]);
      expect(json(await client.request("/messages"))).toEqual([]);
      expect(json(await client.request("/messages", { cookie }))).toEqual([]);
    });

    it("keeps a flash set before regenerate() on login", async () => {
      const { client } = await start();
      const cookie = cookiePair(await client.request("/set?value=anonymous"));
      const login = await client.request("/login", { cookie });
      const next = await client.request("/messages", { cookie: cookiePair(login) });
      expect(json(next)).toEqual([["info", "Login Successfully."]]);
    });

    it("keeps flashes in a reserved namespace user data cannot reach", async () => {
      const { client } = await start();
      const reserved = await client.request("/reserved");
      expect(json(reserved)).toEqual({
        reservedSet: "ERR_INVALID_OPTION",
        reservedRead: null,
        flaskKey: null,
      });
      expect(json(await client.request("/messages", { cookie: cookiePair(reserved) }))).toEqual([]);
    });
  });

  describe("property 34: store failure", () => {
    it("answers 503 with Retry-After and never runs the handler on an empty session", async () => {
      const inner = memoryStore();
      let failing = false;
      const store: ServerStore = {
        kind: "server",
        get: (key) => (failing ? Promise.reject(new Error("ECONNREFUSED")) : inner.get(key)),
        apply: (key, changes) => inner.apply(key, changes),
        destroy: (key) => inner.destroy(key),
      };
      const { client } = await start({ store });
      const cookie = cookiePair(await client.request("/set?value=alice"));
      failing = true;
      const response = await client.request("/read", { cookie });
      expect(response.status).toBe(503);
      expect(response.headers.get("retry-after")).toBe("5");
      expect(response.body).toBe("Service Unavailable");
      expect(response.setCookies).toEqual([]);
    });
  });

  describe('onStoreUnavailable: "degrade"', () => {
    async function degraded() {
      const inner = memoryStore();
      const failing = { now: false };
      const down = () => Promise.reject(new Error("ECONNREFUSED"));
      const store: ServerStore = {
        kind: "server",
        get: (key) => (failing.now ? down() : inner.get(key)),
        apply: (key, changes) => (failing.now ? down() : inner.apply(key, changes)),
        destroy: (key) => (failing.now ? down() : inner.destroy(key)),
      };
      const context = await start({ store, onStoreUnavailable: "degrade" });
      return { ...context, failing };
    }

    it("serves an empty session with status unavailable, sends no Set-Cookie, and the cookie survives", async () => {
      const { client, failing } = await degraded();
      const cookie = cookiePair(await client.request("/set?value=alice"));
      failing.now = true;
      const read = await client.request("/status", { cookie });
      expect(read.status).toBe(200);
      expect(json(read)).toEqual({ status: "unavailable", data: {} });
      expect(read.setCookies).toEqual([]);
      expect(read.headers.get("vary")).toMatch(/cookie/i);
      failing.now = false;
      expect(json(await client.request("/status", { cookie }))).toEqual({
        status: "active",
        data: { name: "alice" },
      });
    });

    it("answers a write to the unavailable session with the 503 of a store failure, and writes nothing", async () => {
      const { client, failing } = await degraded();
      const cookie = cookiePair(await client.request("/set?value=alice"));
      failing.now = true;
      const write = await client.request("/set?value=mallory", { cookie });
      expect(write.status).toBe(503);
      expect(write.headers.get("retry-after")).toBe("5");
      expect(write.body).toBe("Service Unavailable");
      expect(write.setCookies).toEqual([]);
      failing.now = false;
      // Never a half-session: the record holds what it held before the outage.
      expect(json(await client.request("/read", { cookie }))).toEqual({ name: "alice" });
    });
  });

  describe("CSRF", () => {
    async function form(client: Client, cookie?: string) {
      const response = await client.request("/csrf/form", { cookie });
      const { token } = json(response) as { token: string };
      return { token, cookie: cookie ?? cookiePair(response) };
    }

    it("accepts the form with the token from a same-origin page, by field or header", async () => {
      const { client } = await start();
      const { token, cookie } = await form(client);
      const byField = await client.request("/csrf/submit", {
        method: "POST",
        cookie,
        headers: { origin: client.origin, "sec-fetch-site": "same-origin" },
        form: { csrf_token: token },
      });
      expect(byField.status).toBe(200);
      expect(json(byField)).toEqual({ ok: true });
      const byHeader = await client.request("/csrf/submit", {
        method: "POST",
        cookie,
        headers: { "x-csrf-token": token },
      });
      expect(byHeader.status).toBe(200);
    });

    it.each([
      ["missing-token", {}, false],
      ["origin-mismatch", { origin: "https://evil.example" }, true],
      ["origin-mismatch", { origin: "null" }, true],
      ["cross-site", { "sec-fetch-site": "cross-site" }, true],
    ] as const)("refuses with 403 (%s)", async (reason, headers, withToken) => {
      const { client, store } = await start();
      const { token, cookie } = await form(client);
      const response = await client.request("/csrf/submit", {
        method: "POST",
        cookie,
        headers,
        form: withToken ? { csrf_token: token } : {},
      });
      expect(response.status).toBe(403);
      expect(response.headers.get("content-type")).toMatch(/^text\/html/);
      expect(response.body).toContain(`CSRF check failed: ${reason}`);
      expect(response.body).not.toContain(token);
      // The handler did not run.
      const id = await idOf(client, cookie);
      expect((await store.get(storeKey(id)))?.data.submitted).toBeUndefined();
    });

    it("rotates the token on login: the old one is refused, the new one accepted", async () => {
      const { client } = await start();
      const before = await form(client);
      const login = await client.request("/login", { cookie: before.cookie });
      const cookie = cookiePair(login);
      const stale = await client.request("/csrf/submit", {
        method: "POST",
        cookie,
        form: { csrf_token: before.token },
      });
      expect(stale.status).toBe(403);
      expect(stale.body).toContain("invalid-token");
      const after = await form(client, cookie);
      expect(after.token).not.toBe(before.token);
      const fresh = await client.request("/csrf/submit", {
        method: "POST",
        cookie,
        form: { csrf_token: after.token },
      });
      expect(fresh.status).toBe(200);
    });
  });
}

/** A normalised record of one response: what must be identical across adapters. */
export interface Step {
  step: string;
  status: number;
  location: string | null;
  /** Vary lists Cookie (Express adds `Accept` to redirects on its own: not the adapter's doing). */
  varyCookie: boolean;
  cacheControl: string | null;
  setCookie: string[];
  body: unknown;
}

function normalise(step: string, response: HarnessResponse): Step {
  const redirect = response.status >= 300 && response.status < 400;
  let body: unknown = null;
  if (!redirect) {
    try {
      body = JSON.parse(response.body);
    } catch {
      body = response.body;
    }
  }
  if (typeof body === "object" && body !== null && "token" in body) body = { token: "<token>" };
  return {
    step,
    status: response.status,
    location: response.headers.get("location"),
    varyCookie: (response.headers.get("vary") ?? "").split(",").some((field) => field.trim() === "Cookie"),
    cacheControl: response.headers.get("cache-control"),
    // Values are random; names and attributes are what must match.
    setCookie: response.setCookies.map((line) => line.replace(/^([^=]+)=[^;]+/, "$1=<value>")),
    body,
  };
}

/** One browsing session through an adapter, recorded step by step. */
export async function transcript(harness: Harness): Promise<Step[]> {
  const { client } = await setup(harness);
  const steps: Step[] = [];
  const run = async (step: string, path: string, init?: Parameters<Client["request"]>[1]) => {
    const response = await client.request(path, init);
    steps.push(normalise(step, response));
    return response;
  };
  try {
    await run("static, no cookie", "/static");
    const first = await run("set", "/set?value=alice");
    let cookie = cookiePair(first);
    await run("read", "/read", { cookie });
    await run("static with cookie", "/static", { cookie });
    await run("set twice", "/set-twice", { cookie });
    const page = await run("csrf form", "/csrf/form", { cookie });
    const { token } = JSON.parse(page.body) as { token: string };
    await run("csrf ok", "/csrf/submit", { method: "POST", cookie, form: { csrf_token: token } });
    await run("csrf missing", "/csrf/submit", { method: "POST", cookie, form: {} });
    await run("csrf foreign", "/csrf/submit", {
      method: "POST",
      cookie,
      headers: { origin: "https://evil.example" },
      form: { csrf_token: token },
    });
    const flash = await run("flash", "/flash?message=<b>saved</b>", { cookie });
    // A server store keeps the id: the cookie is only re-sent when it changes.
    if (cookiesNamed(flash).length > 0) cookie = cookiePair(flash);
    await run("messages", "/messages", { cookie });
    const login = await run("login", "/login?user=leo", { cookie });
    const loggedIn = cookiePair(login);
    await run("replay pre-login cookie", "/read", { cookie });
    await run("messages after login", "/messages", { cookie: loggedIn });
    await run("read logged in", "/read", { cookie: loggedIn });
    await run("logout", "/logout", { cookie: loggedIn });
    await run("replay pre-logout cookie", "/read", { cookie: loggedIn });
    await run("tampered", "/read", { cookie: flipBase64url(loggedIn, loggedIn.length - 5, 5) });
    await run("https set", "/set", { secure: true });
    return steps;
  } finally {
    await client.close();
  }
}
