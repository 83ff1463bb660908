/**
 * The lesson apps (Express and Hono) against what a hostile or unlucky client does: a cross-site
 * link to /session_delete, a TLS-terminating proxy in front (TRUST_PROXY), a reload after login,
 * error pages, password guessing and a flood of logins.
 */
import { once } from "node:events";
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { afterEach, describe, expect, it } from "vitest";
import { createApp as createExpressApp } from "../../examples/lesson/app.js";
import { SECURITY_HEADERS } from "../../examples/lesson/shared.js";
import { ConcurrencyGate, GateBusyError, LoginThrottle } from "../../examples/lesson/throttle.js";
import { compileTrust, parseTrustProxy, type TrustProxy } from "../../examples/lesson/trust-proxy.js";
import { createApp as createHonoApp } from "../../examples/lesson-hono/app.js";
import { memoryStore, type ServerStore, type SessionStore, SessionStoreError } from "../../src/index.js";
import { browser } from "../helpers/lesson-browser.js";

const SECRET = "lesson-hardening-test-secret-0123456789abcdef";

interface StartOptions {
  store?: SessionStore;
  sessionOptions?: { onStoreUnavailable?: "fail" | "degrade" };
  trustProxy?: TrustProxy;
  loginThrottle?: LoginThrottle;
}

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

function closing(server: Server): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
}

async function startExpress(options: StartOptions = {}): Promise<string> {
  const app = createExpressApp({ secret: SECRET, store: options.store ?? memoryStore(), ...options });
  const server = app.listen(0, "127.0.0.1");
  await once(server, "listening");
  closers.push(closing(server));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function startHono(options: StartOptions = {}): Promise<string> {
  const app = createHonoApp({ secret: SECRET, store: options.store ?? memoryStore(), ...options });
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const started = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(started));
  });
  closers.push(closing(server as Server));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/**
 * A TLS-terminating proxy as nginx runs one: it answers on its own port (as if on https) and
 * forwards to the app from 127.0.0.1 with X-Forwarded-For (the client) and X-Forwarded-Proto: https.
 */
async function startProxy(app: string, client = "203.0.113.7"): Promise<string> {
  const target = new URL(app);
  const server = createServer((req, res) => {
    const headers = { ...req.headers, "x-forwarded-for": client, "x-forwarded-proto": "https" };
    const forwarded = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
        answer.pipe(res);
      },
    );
    forwarded.on("error", () => res.writeHead(502).end());
    req.pipe(forwarded);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  closers.push(closing(server));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A store whose reads and writes fail while `down.value` is true. */
function flakyStore(down: { value: boolean }): ServerStore {
  const inner = memoryStore();
  return {
    kind: "server",
    get: async (key) => {
      if (down.value) throw new SessionStoreError("session store read failed");
      return inner.get(key);
    },
    apply: async (key, changes) => {
      if (down.value) throw new SessionStoreError("session store write failed");
      return inner.apply(key, changes);
    },
    destroy: (key) => inner.destroy(key),
  };
}

function expectSecurityHeaders(headers: Headers): void {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(headers.get(name)).toBe(value);
}

async function logIn(b: ReturnType<typeof browser>) {
  await b.get("/login");
  const page = await b.submitAndFollow("/login", { username: "leo", password: "1234" });
  expect(page.html).toContain("Logged in as <strong>leo</strong>");
  return page;
}

describe("TRUST_PROXY is read as Express's trust proxy", () => {
  it.each([
    [undefined, false],
    ["", false],
    ["false", false],
    ["FALSE", false],
    ["true", true],
    ["True", true],
    ["1", 1],
    ["2", 2],
    ["0", 0],
    ["loopback", ["loopback"]],
    ["loopback, 10.0.0.0/8", ["loopback", "10.0.0.0/8"]],
    ["127.0.0.1,::1, 192.168.0.0/16", ["127.0.0.1", "::1", "192.168.0.0/16"]],
  ] as const)("TRUST_PROXY=%j → %j", (value, parsed) => {
    expect(parseTrustProxy(value)).toEqual(parsed);
  });

  it.each([["0.0.0.1x"], ["10.0.0.0/99"], ["proxy.example"], ["yes"]])(
    "refuses TRUST_PROXY=%s at start-up",
    (value) => {
      expect(() => parseTrustProxy(value)).toThrow(expect.objectContaining({ code: "ERR_INVALID_OPTION" }));
    },
  );

  it("trusts hops the way Express does: a count, a subnet list, or everything", () => {
    expect(compileTrust(1)("203.0.113.7", 0)).toBe(true);
    expect(compileTrust(1)("203.0.113.7", 1)).toBe(false);
    expect(compileTrust(["loopback"])("127.0.0.1", 0)).toBe(true);
    expect(compileTrust(["loopback"])("10.1.2.3", 0)).toBe(false);
    expect(compileTrust(["10.0.0.0/8"])("10.1.2.3", 5)).toBe(true);
    expect(compileTrust(true)("198.51.100.1", 9)).toBe(true);
    expect(compileTrust(false)("127.0.0.1", 0)).toBe(false);
  });
});

describe.each([
  ["Express", startExpress],
  ["Hono", startHono],
] as const)("the %s lesson app", (_name, start) => {
  it("a cross-site link to /session_delete removes the lesson's keys only: the login and the CSRF token stay", async () => {
    const base = await start();
    const b = browser(base);
    await logIn(b);
    await b.get("/session_set");
    const tokenBefore = b.token;
    // What a link on another site sends: a top-level GET, the Lax cookie, Sec-Fetch-Site: cross-site.
    const cookie = await b.jar.getCookieString(base);
    const linked = await fetch(`${base}/session_delete`, {
      headers: {
        cookie,
        "sec-fetch-site": "cross-site",
        "sec-fetch-mode": "navigate",
        referer: "https://evil.example/",
      },
      redirect: "manual",
    });
    expect(linked.status).toBe(200);
    for (const line of linked.headers.getSetCookie()) await b.jar.setCookie(line, base);
    const home = await b.get("/");
    expect(home.html).toContain("Logged in as <strong>leo</strong>");
    expect(home.html).not.toContain("<code>name</code>");
    expect((await b.get("/session_get")).h1).toBe("Session not valid.");
    // The token of the page loaded before the link still logs out.
    expect(b.token).toBe(tokenBefore);
    const out = await b.post("/logout", { csrf_token: tokenBefore! }, { origin: base });
    expect(out.status).toBe(303);
    expect((await b.get("/")).html).not.toContain("Logged in as");
  });

  describe("behind a TLS-terminating proxy", () => {
    it.each([[1], [true], [["loopback"]], [["127.0.0.1", "10.0.0.0/8"]]] as const)(
      "trust proxy %j: the session cookie is Secure and __Host-",
      async (trustProxy) => {
        const proxy = await startProxy(await start({ trustProxy: trustProxy as TrustProxy }));
        const response = await fetch(`${proxy}/session_set`);
        expect(response.status).toBe(200);
        const [line] = response.headers.getSetCookie();
        expect(line).toMatch(/^__Host-sid=[^;]+; Path=\/; HttpOnly; Secure; SameSite=Lax$/);
        // The session is found again under its __Host- name.
        const cookie = line!.split(";", 1)[0]!;
        expect(await (await fetch(`${proxy}/session_get`, { headers: { cookie } })).text()).toContain(
          "<h1>Leo. Hello, World!.</h1>",
        );
      },
    );

    it.each([[false], [0], [["10.0.0.0/8"]], [undefined]] as const)(
      "trust proxy %j: the proxy is not trusted, so its X-Forwarded-Proto is ignored (no Secure)",
      async (trustProxy) => {
        const proxy = await startProxy(await start({ trustProxy: trustProxy as TrustProxy | undefined }));
        const [line] = (await fetch(`${proxy}/session_set`)).headers.getSetCookie();
        expect(line).toMatch(/^sid=[^;]+; Path=\/; HttpOnly; SameSite=Lax$/);
      },
    );

    it("the login throttle counts the client X-Forwarded-For names, through a trusted hop only", async () => {
      const app = await start({ trustProxy: 1 });
      const viaProxy = browser(await startProxy(app, "203.0.113.7"));
      await viaProxy.get("/login");
      for (let attempt = 0; attempt < 5; attempt++) {
        expect(
          (await viaProxy.submitAndFollow("/login", { username: `x${attempt}`, password: "no" })).status,
        ).toBe(200);
      }
      expect((await viaProxy.submitAndFollow("/login", { username: "leo", password: "1234" })).status).toBe(
        429,
      );
      // Another client behind the same proxy is another address: not throttled.
      const other = browser(await startProxy(app, "198.51.100.9"));
      await other.get("/login");
      expect(
        (await other.submitAndFollow("/login", { username: "leo", password: "1234" })).redirected.status,
      ).toBe(303);
    });
  });

  it("POST /login answers 303 to the home page, which shows the flash once; reloading it never posts again", async () => {
    const base = await start();
    const b = browser(base);
    await b.get("/login");
    const posted = await b.submit("/login", { username: "leo", password: "1234" });
    expect(posted.status).toBe(303);
    expect(posted.headers.get("location")).toBe("/");
    expect(posted.flashes).toEqual([]);
    const home = await b.get("/");
    expect(home.flashes).toEqual(["Login Successfully."]);
    // The reload of the page the redirect led to is a GET: the flash is gone, the login stays.
    const reloaded = await b.get("/");
    expect(reloaded.flashes).toEqual([]);
    expect(reloaded.html).toContain("Logged in as <strong>leo</strong>");
  });

  it("a failed login shows the form again, with the error and a token that works for the retry", async () => {
    const base = await start();
    const b = browser(base);
    await b.get("/login");
    const failed = await b.submit("/login", { username: "leo", password: "wrong" });
    expect(failed.status).toBe(200);
    expect(failed.h1).toBe("Login");
    expect(failed.flashes).toEqual(["Login Failed."]);
    expect(failed.html).toMatch(/<input type="hidden" name="csrf_token" value="[A-Za-z0-9_-]{43}" \/>/);
    // The username typed is kept (escaped); the password is not.
    const typed = await b.submit("/login", { username: '<b>"leo"</b>', password: "wrong" });
    expect(typed.html).toContain('name="username" value="&lt;b&gt;&quot;leo&quot;&lt;/b&gt;"');
    expect(typed.html).not.toContain('value="wrong"');
    // The retry uses the token of the page the failure rendered.
    const retry = await b.submitAndFollow("/login", { username: "leo", password: "1234" });
    expect(retry.redirected.status).toBe(303);
    expect(retry.flashes).toEqual(["Login Successfully."]);
  });

  it("error pages (403, 404, 413) carry the security headers and the navigation: who is logged in, a logout that works", async () => {
    const base = await start();
    const b = browser(base);
    await logIn(b);
    const pages = {
      403: await b.post("/session_set", {}, { origin: base }),
      404: await b.get("/no-such-page"),
      413: await b.post("/logout", { csrf_token: b.token!, padding: "x".repeat(10_000) }, { origin: base }),
    };
    for (const [status, page] of Object.entries(pages)) {
      expect(page.status, status).toBe(Number(status));
      expectSecurityHeaders(page.headers);
      expect(page.html, status).toContain("Logged in as <strong>leo</strong>");
      expect(page.html, status).toMatch(
        /<form action="\/logout" method="POST" class="inline">\s*<input type="hidden" name="csrf_token" value="[A-Za-z0-9_-]{43}" \/>/,
      );
    }
    // The 413 page's logout button works.
    const out = await b.submit("/logout", {});
    expect(out.status).toBe(303);
    expect((await b.get("/")).html).not.toContain("Logged in as");
  });

  function expect503Page(page: Awaited<ReturnType<ReturnType<typeof browser>["get"]>>): void {
    expect(page.status).toBe(503);
    expect(page.h1).toBe("Sessions are unavailable right now");
    expect(page.headers.get("retry-after")).toBe("5");
    expectSecurityHeaders(page.headers);
    // The same navigation, without a user: the session could not be read or saved.
    expect(page.html).toContain('<nav aria-label="Lesson routes">');
    expect(page.html).toContain('href="/login"');
  }

  it('with onStoreUnavailable "fail", the 503 page carries the security headers, on a failed read and on a failed write', async () => {
    const down = { value: false };
    const base = await start({ store: flakyStore(down), sessionOptions: { onStoreUnavailable: "fail" } });
    const b = browser(base);
    await b.get("/session_set");
    down.value = true;
    const read = await b.get("/");
    // A write that fails after the handler ran: its half response's headers were dropped.
    const write = await browser(base).get("/session_set");
    for (const page of [read, write]) expect503Page(page);
  });

  it("with the app's default (degrade), a failed read still serves the page with a notice; a failed write is the 503 page", async () => {
    const down = { value: false };
    const base = await start({ store: flakyStore(down) });
    const b = browser(base);
    await b.get("/session_set");
    down.value = true;
    const read = await b.get("/");
    expect(read.status).toBe(200);
    expectSecurityHeaders(read.headers);
    expect(read.html).toContain("The session store is unavailable");
    expect(read.headers.get("set-cookie")).toBeNull();
    expect503Page(await browser(base).get("/session_set"));
  });

  it("throttles failed logins: 5 per client a minute, then 429 with Retry-After (the password is not even checked)", async () => {
    const base = await start();
    const b = browser(base);
    await b.get("/login");
    for (let attempt = 0; attempt < 5; attempt++) {
      const failed = await b.submit("/login", { username: "leo", password: `guess${attempt}` });
      expect(failed.status).toBe(200);
      expect(failed.flashes).toEqual(["Login Failed."]);
    }
    const refused = await b.submit("/login", { username: "leo", password: "1234" });
    expect(refused.status).toBe(429);
    expect(refused.h1).toBe("Too many login attempts");
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expectSecurityHeaders(refused.headers);
    expect(refused.html).not.toContain("Logged in as");
    expect(await b.cookie("sid")).toBeDefined();
  });

  it("throttles per username too: guesses for leo from many addresses stop after 5", async () => {
    const throttle = new LoginThrottle();
    const base = await start({ trustProxy: true, loginThrottle: throttle });
    const b = browser(base);
    await b.get("/login");
    for (let attempt = 0; attempt < 5; attempt++) {
      const page = await b.submit(
        "/login",
        { username: "leo", password: "no" },
        { "x-forwarded-for": `192.0.2.${attempt}` },
      );
      expect(page.status).toBe(200);
    }
    const refused = await b.submit(
      "/login",
      { username: "leo", password: "1234" },
      { "x-forwarded-for": "192.0.2.99" },
    );
    expect(refused.status).toBe(429);
    // Another username from a fresh address is not affected.
    const other = await b.submit(
      "/login",
      { username: "eve", password: "no" },
      { "x-forwarded-for": "192.0.2.100" },
    );
    expect(other.status).toBe(200);
  });

  it("a successful login does not use up the allowance", async () => {
    const base = await start();
    const b = browser(base);
    for (let round = 0; round < 7; round++) {
      await b.get("/login");
      const page = await b.submitAndFollow("/login", { username: "leo", password: "1234" });
      expect(page.redirected.status).toBe(303);
    }
  });

  it("a flood of logins from many addresses: at most 2 password checks at once, the surplus answered 503 at once", async () => {
    const { passwordChecks } = await import("../../examples/lesson/password.js");
    const base = await start({ trustProxy: true });
    const b = browser(base);
    await b.get("/login");
    let most = 0;
    const watch = setInterval(() => {
      most = Math.max(most, passwordChecks.running);
    }, 1);
    const pages = await Promise.all(
      Array.from({ length: 30 }, (_, index) =>
        b.submit(
          "/login",
          { username: `u${index}`, password: "no" },
          { "x-forwarded-for": `198.51.100.${index}` },
        ),
      ),
    );
    clearInterval(watch);
    expect(most).toBeLessThanOrEqual(passwordChecks.concurrency);
    const statuses = pages.map((page) => page.status);
    // Two run and eight wait; the rest are turned away without a hash.
    expect(statuses.filter((status) => status === 200).length).toBeGreaterThanOrEqual(
      passwordChecks.concurrency + passwordChecks.maxQueued,
    );
    const busy = pages.filter((page) => page.status === 503);
    expect(busy.length).toBeGreaterThan(0);
    for (const page of busy) {
      expect(page.headers.get("retry-after")).toBe("1");
      expect(page.h1).toBe("Too many logins are being checked right now");
      expectSecurityHeaders(page.headers);
    }
    expect(statuses.every((status) => status === 200 || status === 503)).toBe(true);
  });
});

describe("LoginThrottle", () => {
  it("opens again when the window ends", () => {
    let now = 1_000_000;
    const throttle = new LoginThrottle({ maxAttempts: 2, windowMs: 60_000, now: () => now });
    expect(throttle.attempt("a", "leo")).toEqual({ allowed: true });
    expect(throttle.attempt("a", "leo")).toEqual({ allowed: true });
    expect(throttle.attempt("a", "leo")).toEqual({ allowed: false, retryAfterSeconds: 60 });
    now += 59_500;
    expect(throttle.attempt("a", "leo")).toEqual({ allowed: false, retryAfterSeconds: 1 });
    now += 500;
    expect(throttle.attempt("a", "leo")).toEqual({ allowed: true });
  });

  it("remembers at most maxEntries clients and usernames, whatever arrives", () => {
    const throttle = new LoginThrottle({ maxEntries: 100 });
    for (let index = 0; index < 10_000; index++)
      throttle.attempt(`10.0.${index >> 8}.${index & 255}`, `user${index}`);
    expect(throttle.size).toEqual({ clients: 100, usernames: 100 });
    // A long username is one short key.
    throttle.attempt("x", "y".repeat(100_000));
    expect(throttle.size.usernames).toBe(100);
  });

  it("a flood of usernames from one client cannot push that client's count out", () => {
    const throttle = new LoginThrottle({ maxAttempts: 5, maxEntries: 10 });
    for (let index = 0; index < 5; index++) throttle.attempt("attacker", `name${index}`);
    for (let index = 0; index < 100; index++) throttle.attempt("attacker", `other${index}`);
    expect(throttle.attempt("attacker", "leo").allowed).toBe(false);
  });
});

describe("ConcurrencyGate", () => {
  it("runs at most `concurrency` tasks, queues `maxQueued`, refuses the rest at once", async () => {
    const gate = new ConcurrencyGate(2, 3);
    let running = 0;
    let most = 0;
    const task = async () => {
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, 20));
      running--;
      return "done";
    };
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => gate.run(task)));
    expect(most).toBe(2);
    expect(results.filter((result) => result.status === "fulfilled")).toHaveLength(5);
    const refused = results.filter((result) => result.status === "rejected");
    expect(refused).toHaveLength(5);
    for (const result of refused)
      expect((result as PromiseRejectedResult).reason).toBeInstanceOf(GateBusyError);
    expect(gate.running).toBe(0);
    // A task that throws frees its slot too.
    await expect(gate.run(async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(gate.running).toBe(0);
  });
});
