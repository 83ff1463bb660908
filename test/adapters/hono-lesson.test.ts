/**
 * The Hono lesson app (examples/lesson-hono): the lesson's routes with every store, CSRF on its
 * forms, and the same pages, byte for byte, as the Express lesson app for one browsing session.
 */
import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serve } from "@hono/node-server";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createApp as createExpressApp } from "../../examples/lesson/app.js";
import { createApp } from "../../examples/lesson-hono/app.js";
import { flaskCookieStore } from "../../src/flask/index.js";
import {
  cookieStore,
  createSessions,
  memoryStore,
  type ServerStore,
  type SessionStore,
  SessionStoreError,
} from "../../src/index.js";
import { sqliteStore } from "../../src/stores/sqlite.js";
import { browser, type Page } from "../helpers/lesson-browser.js";

const SECRET = "lesson-hono-test-secret-0123456789abcdefghij";
const FIREFOX_ON_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0";
const SAFARI_ON_IOS =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

let dataDir: string;
beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), "flagon-lesson-hono-"));
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

/** The Hono app on a real server on 127.0.0.1, as `server.ts` runs it. */
async function startHono(store: SessionStore): Promise<string> {
  const app = createApp({ secret: SECRET, store, storeDescription: "in the test's store" });
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const started = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(started));
  });
  closers.push(() => new Promise((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function startExpress(store: SessionStore): Promise<string> {
  const server = createExpressApp({ secret: SECRET, store, storeDescription: "in the test's store" }).listen(
    0,
    "127.0.0.1",
  );
  await new Promise((resolve) => server.once("listening", resolve));
  closers.push(() => new Promise((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const stores: Array<[string, () => SessionStore]> = [
  ["memory", () => memoryStore()],
  [
    "sqlite",
    () => sqliteStore({ path: join(dataDir, `sessions-${Math.random().toString(36).slice(2)}.db`) }),
  ],
  ["cookie", () => cookieStore()],
  ["flask", () => flaskCookieStore({ secretKey: SECRET })],
];

describe.each(stores)("the Hono lesson app with the %s store", (kind, makeStore) => {
  const sessionCookie = kind === "flask" ? "session" : "sid";
  let store: SessionStore;
  let base: string;
  beforeAll(() => {
    store = makeStore();
  });
  afterAll(async () => {
    if (store.kind === "server") await store.close?.();
  });
  async function app() {
    base = await startHono(store);
    return browser(base);
  }

  it("sets, reads and deletes session data", async () => {
    const b = await app();
    expect((await b.get("/session_get")).h1).toBe("Session not valid.");
    const set = await b.get("/session_set");
    expect(set.h1).toBe("Session data set successfully.");
    expect((await b.cookie(sessionCookie))?.httpOnly).toBe(true);
    expect(set.headers.get("vary")).toContain("Cookie");
    expect(set.headers.get("cache-control")).toBe("private, no-store");
    expect((await b.get("/session_get")).h1).toBe("Leo. Hello, World!.");
    expect((await b.get("/session_delete")).h1).toBe("Session data deleted successfully.");
    expect((await b.get("/session_get")).h1).toBe("Session not valid.");
  });

  it("sets, reads and deletes a plain cookie", async () => {
    const b = await app();
    expect((await b.get("/cookie_set")).h1).toBe("Cookies set successfully.");
    expect(await b.cookies()).toMatchObject({ cookie_name: "cookie_value" });
    expect((await b.get("/cookies_get")).h1).toBe("cookie_value");
    const deleted = await b.get("/cookies_delete");
    expect(deleted.headers.getSetCookie()[0]).toMatch(
      /^cookie_name=; .*Expires=Thu, 01 Jan 1970 00:00:00 GMT/,
    );
    expect((await b.get("/cookies_get")).h1).toBe("No cookie with this name");
  });

  it("logs in through the form (token included), flashes once, rotates id and token, logs out", async () => {
    const b = await app();
    await b.get("/session_set");
    const form = await b.get("/login");
    expect(form.html).toMatch(/<input type="hidden" name="csrf_token" value="[A-Za-z0-9_-]{43}" \/>/);
    const before = (await b.cookie(sessionCookie))?.value;
    const tokenBefore = b.token;

    const failed = await b.submitAndFollow("/login", { username: "leo", password: "nope" });
    expect(failed.flashes).toEqual(["Login Failed."]);
    const loggedIn = await b.submitAndFollow("/login", { username: "leo", password: "1234" });
    expect(loggedIn.status).toBe(200);
    expect(loggedIn.flashes).toEqual(["Login Successfully."]);
    expect(loggedIn.html).toContain("Logged in as <strong>leo</strong>");
    expect((await b.cookie(sessionCookie))?.value).not.toBe(before);
    expect(b.token).not.toBe(tokenBefore);
    expect((await b.get("/")).flashes).toEqual([]);
    expect((await b.get("/session_get")).h1).toBe("Leo. Hello, World!.");

    const out = await b.submit("/logout", {});
    expect(out.status).toBe(303);
    expect(out.headers.get("location")).toBe("/");
    expect(out.headers.getSetCookie()).toHaveLength(1);
    expect(await b.cookie(sessionCookie)).toBeUndefined();
    expect((await b.get("/")).html).not.toContain("Logged in as");
  });

  it("refuses forged posts with the 403 page and changes nothing", async () => {
    const b = await app();
    await b.get("/login");
    await b.submitAndFollow("/login", { username: "leo", password: "1234" });
    const token = b.token!;
    const forged = [
      // No token at all (a plain cross-site form on an old browser).
      b.post("/logout", {}),
      // The right token, but sent from another origin.
      b.post("/logout", { csrf_token: token }, { origin: "https://evil.example" }),
      b.post("/logout", { csrf_token: token }, { "sec-fetch-site": "cross-site" }),
      // A guessed token.
      b.post("/login", { username: "mallory", password: "1234", csrf_token: "x".repeat(43) }),
    ];
    for (const page of await Promise.all(forged)) {
      expect(page.status).toBe(403);
      expect(page.h1).toBe("This form could not be accepted");
      // The navigation of every page: who is logged in, and a logout button that works.
      expect(page.html).toContain("Logged in as <strong>leo</strong>");
      expect(page.html).not.toContain("mallory");
      expect(page.headers.get("content-security-policy")).toContain("default-src 'none'");
    }
    expect((await b.get("/")).html).toContain("Logged in as <strong>leo</strong>");
    // The 403 page's logout form carries the session's current token.
    expect(b.token).toBe(token);
  });

  it("answers unknown paths with the friendly 404 page", async () => {
    const b = await app();
    const page = await b.get("/no-such-page");
    expect(page.status).toBe(404);
    expect(page.h1).toBe("Page not found");
  });
});

describe("the Hono lesson app", () => {
  it("escapes flashed messages (SECURITY 37)", async () => {
    const store = memoryStore();
    const core = createSessions({ secret: SECRET, store });
    const session = await core.load({ headers: {} });
    session.flash("<script>alert(1)</script>");
    const headers = new Headers();
    await core.commit(session, headers);
    const base = await startHono(store);
    const cookie = headers.getSetCookie()[0]?.split(";")[0] ?? "";
    const html = await (await fetch(`${base}/`, { headers: { cookie } })).text();
    expect(html).toContain("<li>&lt;script&gt;alert(1)&lt;/script&gt;</li>");
    expect(html).not.toContain("<script>alert(1)</script>");
  });

  it("keeps serving pages while the store is down, says so, and answers a write with the 503 page", async () => {
    const inner = memoryStore();
    let down = false;
    const store: ServerStore = {
      kind: "server",
      get: async (key) => {
        if (down) throw new SessionStoreError("session store read failed");
        return inner.get(key);
      },
      apply: async (key, changes) => {
        if (down) throw new SessionStoreError("session store write failed");
        return inner.apply(key, changes);
      },
      destroy: (key) => inner.destroy(key),
    };
    const base = await startHono(store);
    const b = browser(base);
    await b.get("/session_set");
    down = true;
    // onStoreUnavailable "degrade": the page is served without the session, and the home page says why.
    const home = await b.get("/");
    expect(home.status).toBe(200);
    expect(home.notice).toMatch(/^The session store is unavailable/);
    expect(home.headers.getSetCookie()).toEqual([]);
    const read = await b.get("/session_get");
    expect(read.status).toBe(200);
    expect(read.h1).toBe("Session not valid.");
    const write = await b.get("/session_set");
    expect(write.status).toBe(503);
    expect(write.h1).toBe("Sessions are unavailable right now");
    expect(write.headers.get("retry-after")).toBe("5");
    expect(write.headers.getSetCookie()).toEqual([]);
    expect((await fetch(`${base}/static/lesson.css`)).status).toBe(200);
    expect((await browser(base).get("/cookie_set")).status).toBe(200);
    down = false;
    // The browser's cookie was never replaced: its session is back with the store.
    expect((await b.get("/session_get")).h1).toBe("Leo. Hello, World!.");
  });

  it("answers the 503 page when listing the user's sessions fails, as the Express app does", async () => {
    const inner = memoryStore();
    const store: ServerStore = {
      kind: "server",
      get: (key) => inner.get(key),
      apply: (key, changes) => inner.apply(key, changes),
      destroy: (key) => inner.destroy(key),
      listUser: async () => {
        throw new SessionStoreError("session store read failed");
      },
      revoke: (key) => inner.revoke!(key),
    };
    for (const base of [await startHono(store), await startExpress(store)]) {
      const b = browser(base);
      await b.get("/login");
      const page = await b.submitAndFollow("/login", { username: "leo", password: "1234" });
      expect(page.status).toBe(503);
      expect(page.h1).toBe("Sessions are unavailable right now");
      expect(page.headers.get("retry-after")).toBe("5");
    }
  });

  it("answers an oversized form with the error page (413), before the CSRF check reads it", async () => {
    const base = await startHono(memoryStore());
    const response = await fetch(`${base}/login`, {
      method: "POST",
      body: new URLSearchParams({ username: "leo", password: "x".repeat(10_000) }),
    });
    expect(response.status).toBe(413);
    expect(await response.text()).toContain("Something went wrong");
  });

  it("sends the security headers on pages, errors and static files", async () => {
    const base = await startHono(memoryStore());
    for (const path of ["/", "/no-such-page", "/static/lesson.css"]) {
      const response = await fetch(`${base}${path}`);
      expect(response.headers.get("content-security-policy")).toContain("default-src 'none'");
      expect(response.headers.get("x-content-type-options")).toBe("nosniff");
      expect(response.headers.get("referrer-policy")).toBe("same-origin");
    }
  });
});

describe("the Hono and Express lesson apps", () => {
  /** Random values (tokens, cookie glimpses) replaced; everything else must match byte for byte. */
  function normalise(page: Page) {
    return {
      status: page.status,
      location: page.headers.get("location"),
      varyCookie: /\bCookie\b/.test(page.headers.get("vary") ?? ""),
      cacheControl: page.headers.get("cache-control")?.replace(/^public, max-age=0$/, "static") ?? null,
      setCookie: page.headers.getSetCookie().map((line) => line.replace(/^([^=]+)=[^;]+/, "$1=<value>")),
      // Express writes a "See Other. Redirecting to /" body for redirects; browsers never show it.
      html: (page.status >= 300 && page.status < 400 ? "" : page.html)
        .replace(/name="csrf_token" value="[^"]+"/g, 'name="csrf_token" value="<token>"')
        .replace(/<code>[^<]*…[^<]*<\/code>/g, "<code><glimpse></code>")
        // The "Your sessions" panel's exact times (their text, "just now", is compared).
        .replace(/<time datetime="[^"]+" title="[^"]+">/g, "<time>"),
    };
  }

  async function walk(base: string) {
    const b = browser(base);
    const pages: Array<[string, Page]> = [];
    const step = async (name: string, page: Promise<Page>) => pages.push([name, await page]);
    await step("home", b.get("/"));
    await step("session_set", b.get("/session_set"));
    await step("session_get", b.get("/session_get"));
    await step("cookie_set", b.get("/cookie_set"));
    await step("cookies_get", b.get("/cookies_get"));
    await step("login form", b.get("/login"));
    await step("login failed", b.submitAndFollow("/login", { username: "leo", password: "12345" }));
    await step("login", b.submitAndFollow("/login", { username: "leo", password: "1234" }));
    await step("home logged in", b.get("/"));
    await step("logout", b.submit("/logout", {}));
    await step("home after logout", b.get("/"));
    await step("session_set again", b.get("/session_set"));
    await step("session_delete", b.get("/session_delete"));
    await step("session_get after delete", b.get("/session_get"));
    await step("cookies_delete", b.get("/cookies_delete"));
    await step("404", b.get("/no-such-page"));
    await step("413", b.post("/login", { password: "x".repeat(10_000) }));
    return pages.map(([name, page]) => ({ name, ...normalise(page) }));
  }

  it("render the same pages with the same headers for the lesson's walk-through", async () => {
    const hono = await walk(await startHono(memoryStore()));
    const express = await walk(await startExpress(memoryStore()));
    expect(hono.map((page) => page.name)).toEqual(express.map((page) => page.name));
    for (let index = 0; index < hono.length; index++) expect(hono[index]).toEqual(express[index]);
  });

  /** Two browsers logged in as leo: the "Your sessions" panel, "Log out everywhere else", the notices. */
  async function walkTwoBrowsers(base: string, store: "server" | "client") {
    const laptop = browser(base, { userAgent: FIREFOX_ON_WINDOWS });
    const phone = browser(base, { userAgent: SAFARI_ON_IOS });
    const pages: Array<[string, Page]> = [];
    const step = async (name: string, page: Promise<Page>) => pages.push([name, await page]);
    await step("laptop login form", laptop.get("/login"));
    await step(
      "laptop login, remembered",
      laptop.submitAndFollow("/login", { username: "leo", password: "1234", remember: "1" }),
    );
    await step("phone login form", phone.get("/login"));
    await step("phone login", phone.submitAndFollow("/login", { username: "leo", password: "1234" }));
    await step("laptop home, two sessions", laptop.get("/"));
    await step("laptop 404 with the panel", laptop.get("/no-such-page"));
    await step("laptop logs out everywhere else", laptop.submit("/logout_others", {}));
    await step("laptop home after", laptop.get("/"));
    if (store === "server") {
      // The phone's page still has its form: the post is refused, and says why.
      await step("phone's stale logout", phone.submit("/logout", {}));
      await step("phone home once logged out", phone.get("/login"));
      await step("phone home, notice gone", phone.get("/"));
    }
    return pages.map(([name, page]) => ({ name, ...normalise(page) }));
  }

  it.each([
    ["server", () => memoryStore()],
    ["client", () => cookieStore()],
  ] as const)("render the same session panel and notices (%s store)", async (kind, makeStore) => {
    const hono = await walkTwoBrowsers(await startHono(makeStore()), kind);
    const express = await walkTwoBrowsers(await startExpress(makeStore()), kind);
    expect(hono.map((page) => page.name)).toEqual(express.map((page) => page.name));
    for (let index = 0; index < hono.length; index++) expect(hono[index]).toEqual(express[index]);
    const page = (name: string) => hono.find((entry) => entry.name === name)?.html ?? "";
    // What the walk compared is the panel and the notices, not two empty pages.
    if (kind === "server") {
      expect(page("laptop home, two sessions")).toContain(
        'Firefox on Windows <span class="tag">this browser</span>',
      );
      expect(page("laptop home, two sessions")).toContain("<td>Safari on iOS</td>");
      expect(page("laptop 404 with the panel")).toContain("Log out everywhere else");
      expect(page("phone's stale logout")).toContain("You were logged out from another browser.");
    } else {
      expect(page("laptop home, two sessions")).toContain("a cookie store keeps no list of sessions");
    }
  });
});
