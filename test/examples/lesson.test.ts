import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "redis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createApp, type LessonSessionOptions } from "../../examples/lesson/app.js";
import { describeDevice, loginMeta, shownTime } from "../../examples/lesson/lifecycle.js";
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
import { postgresStore } from "../../src/stores/postgres.js";
import { redisStore } from "../../src/stores/redis.js";
import { sqliteStore } from "../../src/stores/sqlite.js";
import { browser, type Page } from "../helpers/lesson-browser.js";
import { adminPool, DATABASE_URL, dropSchema, testSchema } from "../helpers/postgres.js";

const SECRET = "lesson-integration-test-secret-0123456789abcdef";
const REDIS_PREFIX = `flagon-lesson-test:${process.pid}:`;
/** The PostgreSQL tables of this run live in a schema of their own, dropped afterwards. */
const PG_SCHEMA = testSchema("lesson");
const CHROME_ON_LINUX =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";
const SAFARI_ON_IOS =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
const FIREFOX_ON_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0";

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
  const admin = adminPool();
  await dropSchema(admin, PG_SCHEMA);
  await admin.end();
});

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

async function start(store: SessionStore, sessionOptions?: LessonSessionOptions): Promise<string> {
  const server = createApp({
    secret: SECRET,
    store,
    storeDescription: "in the test's store",
    sessionOptions,
  }).listen(0, "127.0.0.1");
  servers.push(server);
  await once(server, "listening");
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const unique = () => Math.random().toString(36).slice(2);
/** Each call a store of its own (tests of one user's sessions must not see the other tests' logins). */
const stores: Array<[string, () => SessionStore]> = [
  ["memory", () => memoryStore()],
  ["sqlite", () => sqliteStore({ path: join(dataDir, `sessions-${unique()}.db`) })],
  ["redis", () => redisStore({ url: "redis://127.0.0.1:6379", prefix: `${REDIS_PREFIX}${unique()}:` })],
  [
    "postgres",
    () =>
      postgresStore({
        connectionString: DATABASE_URL,
        schema: PG_SCHEMA,
        table: `s_${unique()}`,
        poolSize: 2,
      }),
  ],
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

  /** The app on a store of its own, for the tests of leo's sessions; `browser(userAgent)` opens a browser. */
  async function lifecycleApp() {
    const own = makeStore();
    storesToClose.push(own);
    const url = await start(own);
    base = url;
    return {
      store: own,
      core: createSessions({ secret: SECRET, store: own }),
      browser: (userAgent: string) => browser(url, { userAgent }),
    };
  }
  const storesToClose: SessionStore[] = [];
  afterEach(async () => {
    for (const own of storesToClose.splice(0)) if (own.kind === "server") await own.close?.();
  });

  /** Opens the login form and logs in as leo (remembered or not). */
  async function logIn(b: ReturnType<typeof browser>, remember = false) {
    await b.get("/login");
    return b.submitAndFollow("/login", {
      username: "leo",
      password: "1234",
      ...(remember ? { remember: "1" } : {}),
    });
  }
  const sessionLine = (page: Page) =>
    page.headers.getSetCookie().find((line) => line.startsWith(`${sessionCookie}=`));

  it("POST /login records the browser it came from; Remember me for 30 days makes the cookie last 30 days", async () => {
    const { core, browser: open } = await lifecycleApp();
    const laptop = open(CHROME_ON_LINUX);
    const form = await laptop.get("/login");
    expect(form.html).toContain(
      '<label class="remember"><input type="checkbox" name="remember" value="1" /> Remember me for 30 days</label>',
    );
    const forgotten = await logIn(laptop);
    expect(forgotten.flashes).toEqual(["Login Successfully."]);
    // Not remembered: a browser-session cookie, as before (set by the login's 303).
    expect(forgotten.redirected.status).toBe(303);
    expect(sessionLine(forgotten.redirected)).toBeDefined();
    expect(sessionLine(forgotten.redirected)).not.toMatch(/Max-Age|Expires/i);
    const phone = open(SAFARI_ON_IOS);
    const remembered = await logIn(phone, true);
    expect(remembered.flashes).toEqual(["Login Successfully."]);
    expect(sessionLine(remembered.redirected)).toMatch(/; Max-Age=2592000;/);
    const kept = (await phone.cookie(sessionCookie))?.expiryTime() ?? 0;
    expect(kept - Date.now()).toBeGreaterThan(30 * 86400_000 - 60_000);
    expect(kept - Date.now()).toBeLessThanOrEqual(30 * 86400_000);
    // The login survives the next request, and the user is kept in the data the lesson shows.
    const home = await phone.get("/");
    expect(home.html).toContain("Logged in as <strong>leo</strong>");
    expect(home.html).toContain("<code>user</code></td><td><code>&quot;leo&quot;</code>");
    if (store.kind === "server") {
      const listed = await core.listUser("leo");
      expect(listed.map((entry) => entry.meta.device)).toEqual(["Chrome on Linux", "Safari on iOS"]);
      // Remembered: the server keeps it 30 days too; the other one the default 31 days of inactivity.
      expect(listed[1]!.expiresAt - Date.now()).toBeGreaterThan(30 * 86400_000 - 60_000);
      expect(listed[1]!.expiresAt - Date.now()).toBeLessThanOrEqual(30 * 86400_000);
      expect(Number(listed[0]!.meta.signedInAt)).toBeLessThanOrEqual(Date.now());
    }
  });

  it("a visitor who is not logged in sees no session panel and no notice", async () => {
    const b = await app();
    for (const page of [await b.get("/"), await b.get("/login"), await b.get("/session_set")]) {
      expect(page.panel).toBeUndefined();
      expect(page.notice).toBeUndefined();
    }
    const failed = await b.submitAndFollow("/login", { username: "leo", password: "wrong" });
    expect(failed.panel).toBeUndefined();
  });

  if (kind === "memory" || kind === "sqlite" || kind === "redis" || kind === "postgres") {
    it("Your sessions lists every browser logged in as leo; Log out everywhere else ends the others, which are told once", async () => {
      const { core, browser: open } = await lifecycleApp();
      const laptop = open(CHROME_ON_LINUX);
      const phone = open(SAFARI_ON_IOS);
      const tablet = open(FIREFOX_ON_WINDOWS);
      // The login page itself lists the sessions, this one included (not stored until the response).
      const first = await logIn(laptop);
      expect(first.yourSessions).toEqual([
        { device: "Chrome on Linux", current: true, signedIn: "just now", lastSeen: "just now" },
      ]);
      // Alone: nothing else to log out of.
      expect(first.panel).not.toContain("Log out everywhere else");
      await logIn(phone, true);
      await logIn(tablet);

      const home = await laptop.get("/");
      expect(home.yourSessions).toEqual([
        { device: "Chrome on Linux", current: true, signedIn: "just now", lastSeen: "just now" },
        { device: "Safari on iOS", current: false, signedIn: "just now", lastSeen: "just now" },
        { device: "Firefox on Windows", current: false, signedIn: "just now", lastSeen: "just now" },
      ]);
      expect(home.panel).toMatch(
        /<form action="\/logout_others" method="POST" class="inline">\s*<input type="hidden" name="csrf_token" value="[A-Za-z0-9_-]{43}" \/>\s*<button type="submit">Log out everywhere else<\/button>/,
      );
      // Each browser sees itself as "this browser"; the panel is on every page, 404 included.
      expect((await phone.get("/no-such-page")).yourSessions.map((row) => row.current)).toEqual([
        false,
        true,
        false,
      ]);
      // No ref, id or token of another session in the page.
      for (const entry of await core.listUser("leo")) expect(home.html).not.toContain(entry.ref);

      // CSRF-protected like the other forms: without the page's token, nothing ends.
      const forged = await laptop.post("/logout_others", {});
      expect(forged.status).toBe(403);
      expect((await core.listUser("leo")).length).toBe(3);

      const out = await laptop.submit("/logout_others", {});
      expect(out.status).toBe(303);
      expect(out.headers.get("location")).toBe("/");
      const after = await laptop.get("/");
      expect(after.flashes).toEqual(["Logged out everywhere else: 2 other sessions ended."]);
      expect(after.html).toContain("Logged in as <strong>leo</strong>");
      expect(after.yourSessions).toEqual([
        { device: "Chrome on Linux", current: true, signedIn: "just now", lastSeen: "just now" },
      ]);
      expect((await core.listUser("leo")).map((entry) => entry.meta.device)).toEqual(["Chrome on Linux"]);

      // The phone's next page says why it is logged out, once.
      const told = await phone.get("/");
      expect(told.notice).toBe("You were logged out from another browser.");
      expect(told.html).not.toContain("Logged in as");
      expect(told.panel).toBeUndefined();
      expect((await phone.get("/")).notice).toBeUndefined();
      // The tablet's old page posts its logout form: refused (its token was the ended session's), and told why.
      const stale = await tablet.submit("/logout", {});
      expect(stale.status).toBe(403);
      expect(stale.notice).toBe("You were logged out from another browser.");
      expect((await tablet.get("/")).notice).toBeUndefined();

      // Once alone, there is no other session to end.
      const again = await laptop.submit("/logout_others", {});
      expect(again.status).toBe(303);
      expect((await laptop.get("/")).flashes).toEqual(["There was no other session to end."]);
    });

    it("logging in again in the same browser replaces its session in the list; logging out removes it", async () => {
      const { core, browser: open } = await lifecycleApp();
      const laptop = open(CHROME_ON_LINUX);
      const phone = open(SAFARI_ON_IOS);
      await logIn(phone);
      await logIn(laptop);
      const relogin = await logIn(laptop);
      expect(relogin.yourSessions.map((row) => [row.device, row.current])).toEqual([
        ["Safari on iOS", false],
        ["Chrome on Linux", true],
      ]);
      expect((await laptop.get("/")).yourSessions).toHaveLength(2);
      expect(await core.listUser("leo")).toHaveLength(2);
      await laptop.submit("/logout", {});
      expect((await phone.get("/")).yourSessions.map((row) => row.device)).toEqual(["Safari on iOS"]);
    });
  } else {
    it("a cookie store keeps no list: the panel says so in one line, and Log out everywhere else ends nothing", async () => {
      const { browser: open } = await lifecycleApp();
      const laptop = open(CHROME_ON_LINUX);
      const page = await logIn(laptop);
      expect(page.panel).toContain(
        "Your session lives in this browser&#39;s cookie: a cookie store keeps no list of sessions.",
      );
      expect(page.yourSessions).toEqual([]);
      expect(page.panel).not.toContain("Log out everywhere else");
      // Posted anyway (the form of a server-store page, say): answered, not a 500.
      const out = await laptop.submit("/logout_others", {});
      expect(out.status).toBe(303);
      const home = await laptop.get("/");
      expect(home.flashes).toEqual(["This session store keeps no list of sessions to end."]);
      expect(home.html).toContain("Logged in as <strong>leo</strong>");
    });
  }

  it("/session_delete clears the session's data, not its login (POST /logout does that)", async () => {
    const { browser: open } = await lifecycleApp();
    const laptop = open(CHROME_ON_LINUX);
    await logIn(laptop);
    await laptop.get("/session_set");
    const deleted = await laptop.get("/session_delete");
    // The lesson's keys are gone; the login (and its user key) stays.
    expect(deleted.html).not.toContain("<code>name</code>");
    expect(deleted.html).not.toContain("<code>message</code>");
    expect(deleted.html).toContain("<code>user</code></td><td><code>&quot;leo&quot;</code>");
    expect(deleted.html).toContain("Logged in as <strong>leo</strong>");
    expect((await laptop.get("/")).html).toContain("Logged in as <strong>leo</strong>");
    await laptop.submit("/logout", {});
    expect((await laptop.get("/")).html).not.toContain("Logged in as");
  });

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
    const loggedIn = await b.submitAndFollow("/login", { username: "leo", password: "1234" });
    // Post/Redirect/Get: a 303 to the home page, which shows the flash.
    expect(loggedIn.redirected.status).toBe(303);
    expect(loggedIn.redirected.headers.get("location")).toBe("/");
    expect(loggedIn.status).toBe(200);
    expect(loggedIn.flashes).toEqual(["Login Successfully."]);
    expect(loggedIn.html).toContain("Logged in as <strong>leo</strong>");
    // One Set-Cookie for the session cookie, however many changes (regenerate, set, flash).
    const sessionSetCookies = loggedIn.redirected.headers
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
      const page = await b.submitAndFollow("/login", form);
      expect(page.status).toBe(200);
      expect(page.flashes).toEqual(["Login Failed."]);
      expect(page.html).not.toContain("Logged in as");
    }
    expect((await b.get("/")).flashes).toEqual([]);
  });

  it("POST /logout destroys the session and goes back to /", async () => {
    const b = await app();
    await b.get("/login");
    const page = await b.submitAndFollow("/login", { username: "leo", password: "1234" });
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
    const loggedIn = await b.submitAndFollow("/login", { username: "leo", password: "1234" });
    expect(loggedIn.status).toBe(200);
    expect(loggedIn.flashes).toEqual(["Login Successfully."]);
  });

  it("CSRF: the token rotates on login, so a logout with the token from before login is refused", async () => {
    const b = await app();
    await b.get("/login");
    const beforeLogin = b.token!;
    const loggedIn = await b.submitAndFollow("/login", { username: "leo", password: "1234" });
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
    expect(page.status).toBe(303);
    expect((await b.get("/")).flashes).toEqual(["Login Successfully."]);
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
    const base = await start(store);
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
    // A write to the session it could not load: the 503 page, no half response, no cookie.
    const write = await b.get("/session_set");
    expect(write.status).toBe(503);
    expect(write.h1).toBe("Sessions are unavailable right now");
    expect(write.headers.get("retry-after")).toBe("5");
    expect(write.headers.getSetCookie()).toEqual([]);
    // A store write failing after the handler ran (a new visitor needs no read): still a clean 503.
    const fresh = browser(base);
    const freshWrite = await fresh.get("/session_set");
    expect(freshWrite.status).toBe(503);
    expect(freshWrite.headers.getSetCookie()).toEqual([]);
    // Static files and visitors without a session cookie need no store.
    expect((await fetch(`${base}/static/lesson.css`)).status).toBe(200);
    expect((await fresh.get("/cookie_set")).status).toBe(200);
    down = false;
    // The browser's cookie was never replaced: its session is back with the store.
    expect((await b.get("/session_get")).h1).toBe("Leo. Hello, World!.");
  });

  it('answers 503 with the friendly page when the store is down and the app chose "fail"', async () => {
    const inner = memoryStore();
    let down = false;
    const store: ServerStore = {
      kind: "server",
      get: async (key) => {
        if (down) throw new SessionStoreError("session store read failed");
        return inner.get(key);
      },
      apply: (key, changes) => inner.apply(key, changes),
      destroy: (key) => inner.destroy(key),
    };
    const base = await start(store, { onStoreUnavailable: "fail" });
    const b = browser(base);
    await b.get("/session_set");
    down = true;
    const failed = await b.get("/session_get");
    expect(failed.status).toBe(503);
    expect(failed.h1).toBe("Sessions are unavailable right now");
    expect(failed.headers.get("retry-after")).toBe("5");
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

describe("the lesson app's notice for a session that ended", () => {
  /** Waits until `ms` have passed since `since` (a lower bound: a slow machine only waits longer). */
  const waitPast = async (since: number, ms: number) => {
    while (Date.now() - since <= ms) await new Promise((resolve) => setTimeout(resolve, 50));
  };

  it.each([
    ["its lifetime (SESSION_LIFETIME)", { permanentLifetime: 1 }],
    ["the idle timeout (SESSION_IDLE_TIMEOUT)", { idleTimeout: 1 }],
    ["the absolute timeout", { absoluteTimeout: 1 }],
  ] as const)("says once that the session expired, after %s", async (_name, sessionOptions) => {
    const base = await start(memoryStore(), sessionOptions);
    const b = browser(base);
    await b.get("/login");
    // The login's own 303 (following it could take longer than the 1-second session on a busy machine).
    const page = await b.submit("/login", { username: "leo", password: "1234" });
    // After the login's response: its session was last seen (and created) no later than this.
    const loggedInAt = Date.now();
    expect(page.status).toBe(303);
    expect(page.headers.getSetCookie().some((line) => /^sid=[^;]+/.test(line))).toBe(true);
    await waitPast(loggedInAt, 1100);
    const expired = await b.get("/session_get");
    expect(expired.notice).toBe("Your session expired. Please log in again.");
    // Above the flashed messages, inside the page.
    expect(expired.html).toMatch(
      /<main>\s*<p class="notice" role="status">Your session expired\. Please log in again\.<\/p>/,
    );
    expect(expired.html).not.toContain("Logged in as");
    expect(expired.panel).toBeUndefined();
    // Once: that response replaced the cookie.
    expect((await b.get("/")).notice).toBeUndefined();
  });

  it("moves last seen with activity (rolling: at most once per touchAfter)", async () => {
    const store = memoryStore();
    const base = await start(store, { touchAfter: 1 });
    const core = createSessions({ secret: SECRET, store });
    const b = browser(base);
    await b.get("/login");
    await b.submitAndFollow("/login", { username: "leo", password: "1234" });
    const [before] = await core.listUser("leo");
    expect(before).toBeDefined();
    await waitPast(before!.lastSeenAt, 1100);
    await b.get("/");
    const [after] = await core.listUser("leo");
    expect(after?.ref).toBe(before?.ref);
    expect(after!.lastSeenAt).toBeGreaterThan(before!.lastSeenAt + 1000);
  });

  it("says nothing to a tampered cookie or a cookie of another app, and nothing on the next pages of a live session", async () => {
    const base = await start(memoryStore());
    for (const cookie of ["sid=garbage", "sid=v1.mx6gmsjs..QjZQY2pqZXBDVXV6d1RibWZpb1V6WkFaTUdfZUJO.x"]) {
      const html = await (await fetch(`${base}/`, { headers: { cookie } })).text();
      expect(html).not.toContain('class="notice"');
    }
    const b = browser(base);
    await b.get("/login");
    await b.submitAndFollow("/login", { username: "leo", password: "1234" });
    for (const path of ["/", "/session_set", "/session_get", "/login"])
      expect((await b.get(path)).notice).toBeUndefined();
  });
});

describe("the lesson app's session panel with a store that cannot list", () => {
  /** A server store with the 0.1 contract only: no listUser, no revoke. */
  function basicStore(inner = memoryStore(), failing = { listUser: false }): ServerStore {
    const store: ServerStore = {
      kind: "server",
      get: (key) => inner.get(key),
      apply: (key, changes) => inner.apply(key, changes),
      destroy: (key) => inner.destroy(key),
    };
    if (failing.listUser) {
      store.listUser = async () => {
        throw new SessionStoreError("session store read failed");
      };
      store.revoke = (key) => inner.revoke!(key);
    }
    return store;
  }

  it("says the store keeps no list, and Log out everywhere else ends nothing", async () => {
    const base = await start(basicStore());
    const b = browser(base);
    await b.get("/login");
    const page = await b.submitAndFollow("/login", { username: "leo", password: "1234" });
    expect(page.status).toBe(200);
    expect(page.panel).toContain("This session store keeps no list of sessions.");
    await b.submit("/logout_others", {});
    expect((await b.get("/")).flashes).toEqual(["This session store keeps no list of sessions to end."]);
  });

  it("answers the 503 page when listing the sessions fails", async () => {
    const base = await start(basicStore(memoryStore(), { listUser: true }));
    const b = browser(base);
    await b.get("/login");
    const page = await b.submitAndFollow("/login", { username: "leo", password: "1234" });
    expect(page.status).toBe(503);
    expect(page.h1).toBe("Sessions are unavailable right now");
    expect(page.headers.get("retry-after")).toBe("5");
  });
});

describe("the lesson's device descriptions", () => {
  it.each([
    [CHROME_ON_LINUX, "Chrome on Linux"],
    [SAFARI_ON_IOS, "Safari on iOS"],
    [FIREFOX_ON_WINDOWS, "Firefox on Windows"],
    [
      "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
      "Safari on macOS",
    ],
    [
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
      "Edge on Windows",
    ],
    [
      "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36",
      "Chrome on Android",
    ],
    [
      "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/126.0 Mobile/15E148 Safari/604.1",
      "Chrome on iPadOS",
    ],
    [
      "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/126.0.0.0 Safari/537.36",
      "Headless Chrome on Linux",
    ],
    ["curl/8.5.0", "curl"],
    ["node", "node"],
    ["python-requests/2.31", "python-requests"],
    ["", "Unknown browser"],
    [undefined, "Unknown browser"],
    ["   \u00e9\u00e9 ", "Unknown browser"],
  ])("%s → %s", (userAgent, device) => {
    expect(describeDevice(userAgent)).toBe(device);
  });

  it("is at most 60 printable characters, whatever the header holds", () => {
    const device = describeDevice(`${"x".repeat(500)}\u0000<script>`);
    expect(device.length).toBeLessThanOrEqual(60);
    expect(device).toMatch(/^[\x20-\x7e]*…?$/);
    // login() refuses meta over 1024 characters: a 60-character device and a timestamp always fit.
    expect(JSON.stringify(loginMeta("z".repeat(10_000))).length).toBeLessThan(200);
  });

  it("shows times relative to now, with the exact time beside them", () => {
    const now = Date.UTC(2026, 4, 1, 9, 30, 45);
    expect(shownTime(now - 59_000, now)).toEqual({
      iso: "2026-05-01T09:29:46.000Z",
      utc: "2026-05-01 09:29 UTC",
      text: "just now",
    });
    expect(shownTime(now - 60_000, now).text).toBe("1 minute ago");
    expect(shownTime(now - 59 * 60_000, now).text).toBe("59 minutes ago");
    expect(shownTime(now - 2 * 3600_000, now).text).toBe("2 hours ago");
    expect(shownTime(now - 86400_000, now).text).toBe("1 day ago");
    expect(shownTime(now - 30 * 86400_000, now).text).toBe("30 days ago");
    // A clock a little ahead elsewhere never says "in the future".
    expect(shownTime(now + 5000, now).text).toBe("just now");
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
