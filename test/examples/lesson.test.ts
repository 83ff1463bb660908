import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "redis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../examples/lesson/app.js";
import { checkLogin, DEMO_USER, verifyPassword } from "../../examples/lesson/password.js";
import { flaskCookieStore } from "../../src/flask/index.js";
import {
  cookieStore,
  createSessions,
  memoryStore,
  type ServerStore,
  type SessionStore,
  SessionStoreError,
} from "../../src/index.js";
import { redisStore } from "../../src/stores/redis.js";
import { sqliteStore } from "../../src/stores/sqlite.js";
import { browser, type Page } from "../helpers/lesson-browser.js";

const SECRET = "lesson-integration-test-secret-0123456789abcdef";
const REDIS_PREFIX = `flagon-lesson-test:${process.pid}:`;

let dataDir: string;
beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), "flagon-lesson-"));
});
afterAll(async () => {
  rmSync(dataDir, { recursive: true, force: true });
  // Leave nothing behind in the shared Redis.
  const client = createClient({ url: "redis://127.0.0.1:6379" });
  await client.connect();
  for await (const keys of client.scanIterator({ MATCH: `${REDIS_PREFIX}*`, COUNT: 100 })) {
    if (keys.length > 0) await client.del(keys);
  }
  await client.close();
});

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

async function start(store: SessionStore): Promise<string> {
  const server = createApp({ secret: SECRET, store, storeDescription: "in the test's store" }).listen(
    0,
    "127.0.0.1",
  );
  servers.push(server);
  await once(server, "listening");
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const stores: Array<[string, () => SessionStore]> = [
  ["memory", () => memoryStore()],
  [
    "sqlite",
    () => sqliteStore({ path: join(dataDir, `sessions-${Math.random().toString(36).slice(2)}.db`) }),
  ],
  ["redis", () => redisStore({ url: "redis://127.0.0.1:6379", prefix: REDIS_PREFIX })],
  ["cookie", () => cookieStore()],
  ["flask", () => flaskCookieStore({ secretKey: SECRET })],
];

describe.each(stores)("the lesson's routes with the %s store", (kind, makeStore) => {
  const sessionCookie = kind === "flask" ? "session" : "sid";
  let base: string;
  let store: SessionStore;
  beforeAll(() => {
    store = makeStore();
  });
  afterAll(async () => {
    if (store.kind === "server") await store.close?.();
  });

  async function app() {
    base = await start(store);
    return browser(base);
  }

  it("GET /session_set stores name and message; GET /session_get reads them back", async () => {
    const b = await app();
    expect((await b.get("/session_get")).h1).toBe("Session not valid.");
    const set = await b.get("/session_set");
    expect(set.status).toBe(200);
    expect(set.h1).toBe("Session data set successfully.");
    const cookie = await b.cookie(sessionCookie);
    expect(cookie?.httpOnly).toBe(true);
    expect(cookie?.sameSite).toBe("lax");
    expect(set.headers.get("vary")).toContain("Cookie");
    expect(set.headers.get("cache-control")).toBe("private, no-store");
    expect((await b.get("/session_get")).h1).toBe("Leo. Hello, World!.");
  });

  it("GET /session_delete removes name, then clears the session", async () => {
    const b = await app();
    await b.get("/session_set");
    const deleted = await b.get("/session_delete");
    expect(deleted.status).toBe(200);
    expect(deleted.h1).toBe("Session data deleted successfully.");
    expect(deleted.html).toContain("An empty session.");
    if (store.kind === "client") {
      // The whole session is the cookie: an empty one is deleted, as Flask does.
      expect(await b.cookie(sessionCookie)).toBeUndefined();
    }
    expect((await b.get("/session_get")).h1).toBe("Session not valid.");
  });

  it("GET /session_delete with no session at all answers 200 and sets no cookie (the lesson's KeyError)", async () => {
    const b = await app();
    const page = await b.get("/session_delete");
    expect(page.status).toBe(200);
    expect(page.h1).toBe("Session data deleted successfully.");
    expect(page.headers.getSetCookie()).toEqual([]);
  });

  it("cookies: set, read, delete", async () => {
    const b = await app();
    expect((await b.get("/cookies_get")).h1).toBe("No cookie with this name");
    const set = await b.get("/cookie_set");
    expect(set.h1).toBe("Cookies set successfully.");
    expect(await b.cookies()).toMatchObject({ cookie_name: "cookie_value" });
    expect((await b.get("/cookies_get")).h1).toBe("cookie_value");
    const deleted = await b.get("/cookies_delete");
    expect(deleted.h1).toBe("Cookies deleted successfully.");
    expect(deleted.headers.getSetCookie()[0]).toMatch(
      /^cookie_name=; .*Expires=Thu, 01 Jan 1970 00:00:00 GMT/,
    );
    expect(await b.cookies()).not.toHaveProperty("cookie_name");
    expect((await b.get("/cookies_get")).h1).toBe("No cookie with this name");
  });

  it("GET /login shows the form; POST /login leo/1234 flashes once, regenerates the id and remembers the user", async () => {
    const b = await app();
    const form = await b.get("/login");
    expect(form.h1).toBe("Login");
    expect(form.html).toMatch(/<form action="\/login" method="POST">/);
    expect(form.html).toMatch(/<input type="text" name="username"/);
    expect(form.html).toMatch(/<input type="password" name="password"/);
    expect(form.html).toMatch(/<input type="hidden" name="csrf_token" value="[A-Za-z0-9_-]{43}" \/>/);
    await b.get("/session_set");
    const before = (await b.cookie(sessionCookie))?.value;
    const loggedIn = await b.submit("/login", { username: "leo", password: "1234" });
    expect(loggedIn.status).toBe(200);
    expect(loggedIn.flashes).toEqual(["Login Successfully."]);
    expect(loggedIn.html).toContain("Logged in as <strong>leo</strong>");
    // One Set-Cookie for the session cookie, however many changes (regenerate, set, flash).
    const sessionSetCookies = loggedIn.headers
      .getSetCookie()
      .filter((line) => line.startsWith(`${sessionCookie}=`));
    expect(sessionSetCookies).toHaveLength(1);
    const after = (await b.cookie(sessionCookie))?.value;
    expect(after).toBeDefined();
    expect(after).not.toBe(before);
    // Shown once: the next page has no flashed messages.
    const home = await b.get("/");
    expect(home.flashes).toEqual([]);
    // No messages, no list (not an empty <ul>).
    expect(home.html).not.toContain('class="flashes"');
    expect(home.html).toContain("Logged in as <strong>leo</strong>");
    expect((await b.get("/session_get")).h1).toBe("Leo. Hello, World!.");
    if (store.kind === "server") {
      // Session fixation: the pre-login cookie no longer leads anywhere.
      const replay = await fetch(`${base}/`, { headers: { cookie: `${sessionCookie}=${before}` } });
      expect(await replay.text()).not.toContain("Logged in as");
    }
  });

  it("POST /login with anything else flashes Login Failed. and remembers no one", async () => {
    const b = await app();
    await b.get("/login");
    for (const form of [
      { username: "leo", password: "12345" },
      { username: "Leo", password: "1234" },
      { username: "", password: "" },
    ]) {
      const page = await b.submit("/login", form);
      expect(page.status).toBe(200);
      expect(page.flashes).toEqual(["Login Failed."]);
      expect(page.html).not.toContain("Logged in as");
    }
    expect((await b.get("/")).flashes).toEqual([]);
  });

  it("POST /logout destroys the session and goes back to /", async () => {
    const b = await app();
    await b.get("/login");
    const page = await b.submit("/login", { username: "leo", password: "1234" });
    // The logout button carries the token too.
    expect(page.html).toMatch(
      /<form action="\/logout" method="POST" class="inline">\s*<input type="hidden" name="csrf_token" value="[A-Za-z0-9_-]{43}" \/>/,
    );
    const loggedIn = (await b.cookie(sessionCookie))?.value;
    expect(loggedIn).toBeDefined();
    const out = await b.submit("/logout", {});
    expect(out.status).toBe(303);
    expect(out.headers.get("location")).toBe("/");
    expect(out.headers.getSetCookie()).toHaveLength(1);
    expect(await b.cookie(sessionCookie)).toBeUndefined();
    expect((await b.get("/")).html).not.toContain("Logged in as");
    if (store.kind === "server") {
      const replay = await fetch(`${base}/`, { headers: { cookie: `${sessionCookie}=${loggedIn}` } });
      expect(await replay.text()).not.toContain("Logged in as");
    }
  });

  it("CSRF: a login post without the page's token, or from another origin, gets the 403 page and logs no one in", async () => {
    const b = await app();
    await b.get("/login");
    const token = b.token!;
    const refused: Array<[Promise<Page>, string]> = [
      // A plain form post from anywhere (curl, an old browser): no token at all.
      [b.post("/login", { username: "leo", password: "1234" }), "missing-token"],
      // The right token, sent from another site.
      [
        b.post(
          "/login",
          { username: "leo", password: "1234", csrf_token: token },
          { origin: "https://evil.example" },
        ),
        "origin-mismatch",
      ],
      [
        b.post(
          "/login",
          { username: "leo", password: "1234", csrf_token: token },
          { "sec-fetch-site": "cross-site" },
        ),
        "cross-site",
      ],
      // A guessed token of the right shape.
      [b.post("/login", { username: "leo", password: "1234", csrf_token: "A".repeat(43) }), "invalid-token"],
    ];
    for (const [request, reason] of refused) {
      const page = await request;
      expect(page.status).toBe(403);
      expect(page.h1).toBe("This form could not be accepted");
      expect(page.html).toContain(`(CSRF check: ${reason})`);
      expect(page.html).toContain("Nothing was changed.");
      // The page echoes nothing from the request, and never says who is logged in.
      expect(page.html).not.toContain(token);
      expect(page.html).not.toContain("Logged in as");
      expect(page.flashes).toEqual([]);
      expect(page.headers.get("content-security-policy")).toContain("default-src 'none'");
    }
    expect((await b.get("/")).html).not.toContain("Logged in as");
    // The same form with the page's token, from this site, works.
    const loggedIn = await b.submit("/login", { username: "leo", password: "1234" });
    expect(loggedIn.status).toBe(200);
    expect(loggedIn.flashes).toEqual(["Login Successfully."]);
  });

  it("CSRF: the token rotates on login, so a logout with the token from before login is refused", async () => {
    const b = await app();
    await b.get("/login");
    const beforeLogin = b.token!;
    const loggedIn = await b.submit("/login", { username: "leo", password: "1234" });
    expect(loggedIn.html).toContain("Logged in as <strong>leo</strong>");
    expect(b.token).toBeDefined();
    expect(b.token).not.toBe(beforeLogin);
    const stale = await b.post("/logout", { csrf_token: beforeLogin }, { origin: base });
    expect(stale.status).toBe(403);
    expect(stale.html).toContain("(CSRF check: invalid-token)");
    expect((await b.get("/")).html).toContain("Logged in as <strong>leo</strong>");
    // The logout button of the current page works.
    const out = await b.submit("/logout", {});
    expect(out.status).toBe(303);
    expect((await b.get("/")).html).not.toContain("Logged in as");
  });

  it("CSRF: fetch-style clients may send the token in the x-csrf-token header", async () => {
    const b = await app();
    await b.get("/login");
    const page = await b.post("/login", { username: "leo", password: "1234" }, { "x-csrf-token": b.token! });
    expect(page.status).toBe(200);
    expect(page.flashes).toEqual(["Login Successfully."]);
  });

  it("GET / links to every route and shows what the browser and the server hold", async () => {
    const b = await app();
    const empty = await b.get("/");
    expect(empty.status).toBe(200);
    for (const href of [
      "/session_set",
      "/session_get",
      "/session_delete",
      "/cookie_set",
      "/cookies_get",
      "/cookies_delete",
      "/login",
    ]) {
      expect(empty.html).toContain(`href="${href}"`);
    }
    expect(empty.html).toContain("No cookies.");
    expect(empty.html).toContain("An empty session.");
    await b.get("/session_set");
    await b.get("/cookie_set");
    const full = await b.get("/");
    const sid = (await b.cookie(sessionCookie))?.value ?? "";
    expect(full.html).toContain("<code>cookie_name</code>");
    expect(full.html).toContain("<code>cookie_value</code>");
    expect(full.html).toContain(`<code>${sessionCookie}</code>`);
    expect(full.html).toContain("session id · HttpOnly · opaque");
    // Opaque: a glimpse of the session cookie, never the whole value.
    expect(full.html).not.toContain(sid);
    expect(full.html).toContain("<code>name</code></td><td><code>&quot;Leo&quot;</code>");
    expect(full.html).toContain("<code>message</code></td><td><code>&quot;Hello, World!&quot;</code>");
  });

  it("answers unknown paths with the friendly 404 page", async () => {
    const b = await app();
    const page = await b.get("/no-such-page");
    expect(page.status).toBe(404);
    expect(page.h1).toBe("Page not found");
  });
});

describe("the lesson app", () => {
  it("escapes flashed messages (SECURITY 37)", async () => {
    const store = memoryStore();
    // Plant a flash through the same core the app uses (same secret, same store).
    const core = createSessions({ secret: SECRET, store });
    const session = await core.load({ headers: {} });
    session.flash("<script>alert(1)</script>");
    const headers = new Headers();
    await core.commit(session, headers);
    const cookie = headers.getSetCookie()[0]?.split(";")[0] ?? "";
    const base = await start(store);
    const html = await (await fetch(`${base}/`, { headers: { cookie } })).text();
    expect(html).toContain("<li>&lt;script&gt;alert(1)&lt;/script&gt;</li>");
    expect(html).not.toContain("<script>alert(1)</script>");
  });

  it("answers 503 with the friendly page when the store is down, and keeps serving", async () => {
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
    const base = await start(store);
    const b = browser(base);
    await b.get("/session_set");
    down = true;
    const failed = await b.get("/session_get");
    expect(failed.status).toBe(503);
    expect(failed.h1).toBe("Sessions are unavailable right now");
    expect(failed.headers.get("retry-after")).toBe("5");
    // A store write failing after the handler ran: still a clean 503, no half response.
    const fresh = browser(base);
    const write = await fresh.get("/session_set");
    expect(write.status).toBe(503);
    expect(write.headers.getSetCookie()).toEqual([]);
    // Static files and visitors without a session cookie need no store.
    expect((await fetch(`${base}/static/lesson.css`)).status).toBe(200);
    expect((await fresh.get("/cookie_set")).status).toBe(200);
    down = false;
    expect((await b.get("/session_get")).h1).toBe("Leo. Hello, World!.");
  });

  it("a refused post leaves a pending flashed message for the next real page", async () => {
    const store = memoryStore();
    const core = createSessions({ secret: SECRET, store });
    const session = await core.load({ headers: {} });
    session.flash("Saved for later.");
    const headers = new Headers();
    await core.commit(session, headers);
    const cookie = headers.getSetCookie()[0]?.split(";")[0] ?? "";
    const base = await start(store);
    const refused = await fetch(`${base}/logout`, { method: "POST", headers: { cookie } });
    expect(refused.status).toBe(403);
    expect(await refused.text()).not.toContain("Saved for later.");
    const html = await (await fetch(`${base}/`, { headers: { cookie } })).text();
    expect(html).toContain("<li>Saved for later.</li>");
  });

  it("sends security headers and no X-Powered-By", async () => {
    const base = await start(memoryStore());
    const response = await fetch(`${base}/`);
    expect(response.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("x-powered-by")).toBeNull();
  });

  it("answers an oversized login form with an error page (413) before the CSRF check reads it", async () => {
    const base = await start(memoryStore());
    const response = await fetch(`${base}/login`, {
      method: "POST",
      body: new URLSearchParams({ username: "leo", password: "x".repeat(10_000) }),
    });
    expect(response.status).toBe(413);
    expect(await response.text()).toContain("Something went wrong");
  });

  it("refuses a short or missing secret at construction", () => {
    expect(() => createApp({ secret: "Secret Key", store: memoryStore() })).toThrow(
      expect.objectContaining({ code: "ERR_SECRET_TOO_SHORT" }),
    );
  });
});

describe("the demo password", () => {
  it("is stored as a scrypt hash and checked against it", async () => {
    expect(DEMO_USER.passwordHash).toMatch(/^scrypt\$16384\$8\$1\$[\w-]{22}\$[\w-]{43}$/);
    expect(DEMO_USER.passwordHash).not.toContain("1234");
    expect(await verifyPassword("1234", DEMO_USER.passwordHash)).toBe(true);
    expect(await verifyPassword("1235", DEMO_USER.passwordHash)).toBe(false);
    expect(await verifyPassword("1234", "md5$whatever")).toBe(false);
    expect(await checkLogin("leo", "1234")).toBe(true);
    expect(await checkLogin("leo ", "1234")).toBe(false);
    expect(await checkLogin("eve", "1234")).toBe(false);
  });
});
