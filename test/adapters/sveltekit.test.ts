/**
 * flagon/sveltekit in a real SvelteKit app (test/fixtures/sveltekit-app, built with Vite and
 * adapter-node): the parity suite over HTTP, the login form action → redirect → flash shown once,
 * redirects thrown from actions committed first, concurrent requests keeping both changes, 503 on
 * store failure, CSRF beyond SvelteKit's Origin check, and the built server run as its own process.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSessions, storeKey } from "../../src/session/sessions.js";
import { memoryStore } from "../../src/stores/memory.js";
import type { ServerStore } from "../../src/stores/types.js";
import { freePort } from "../helpers/redis-server.js";
import { svelteKitBuild } from "../helpers/sveltekit-build.js";
import { honoHarness } from "./parity/hono-harness.js";
import { paritySuite, SECRET, transcript } from "./parity/suite.js";
import {
  installCore,
  svelteKitHarness,
  svelteKitRequest,
  svelteKitServer,
} from "./parity/sveltekit-harness.js";

const BUILD_TIMEOUT_MS = 240_000;
let origin = "";

beforeAll(async () => {
  ({ origin } = await svelteKitServer());
}, BUILD_TIMEOUT_MS);

afterAll(async () => {
  const { server } = await svelteKitServer();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe("parity: sveltekit", () => paritySuite(svelteKitHarness));

describe("parity: sveltekit answers as flagon/hono does", () => {
  it("records the same statuses, session headers, cookie attributes and bodies", async () => {
    const reference = await transcript(honoHarness);
    expect(await transcript(svelteKitHarness)).toEqual(reference);
  });
});

function pairOf(response: { setCookies: string[] }, name = "sid"): string {
  const line = response.setCookies.find((entry) => entry.startsWith(`${name}=`));
  if (line === undefined) throw new Error(`no Set-Cookie for ${name}`);
  return line.split(";", 1)[0]!;
}

function flashesIn(html: string): string[] {
  return [...html.matchAll(/<p class="flash ([^"]*)">([^<]*)<\/p>/g)].map(
    (match) => `${match[1]}: ${match[2]}`,
  );
}

function tokenIn(html: string): string {
  const token = /name="csrf_token" value="([^"]+)"/.exec(html)?.[1];
  if (token === undefined) throw new Error("no csrf_token field");
  return token;
}

/** The login page, then its form posted as a browser does (no JavaScript: a 303 redirect). */
async function logIn(user: string, extra: Record<string, string> = {}) {
  const page = await svelteKitRequest(origin, "/login");
  const cookie = pairOf(page);
  const token = tokenIn(page.body);
  const login = await svelteKitRequest(origin, "/login", {
    method: "POST",
    cookie,
    headers: { origin, accept: "text/html", ...extra },
    form: { csrf_token: token, user },
  });
  return { page, cookie, token, login };
}

describe("the SvelteKit app", () => {
  function fresh() {
    const store = memoryStore();
    const core = createSessions({ secret: SECRET, store });
    installCore(core);
    return { store, core };
  }
  afterAll(() => installCore(undefined));

  it("login action → redirect() → flash shown once on the page, with the session committed first", async () => {
    const { store } = fresh();
    const { cookie, login } = await logIn("leo");
    expect(login.status).toBe(303);
    expect(login.headers.get("location")).toBe("/");
    expect(login.headers.get("vary")).toBe("Cookie");
    expect(login.headers.get("cache-control")).toBe("private, no-store");
    const loggedIn = pairOf(login);
    expect(loggedIn).not.toBe(cookie);

    // The store already holds the login when the redirect arrives.
    const id = JSON.parse((await svelteKitRequest(origin, "/parity/id", { cookie: loggedIn })).body).id;
    expect((await store.get(storeKey(id)))?.data.user).toBe("leo");

    const shown = await svelteKitRequest(origin, "/", { cookie: loggedIn });
    expect(shown.status).toBe(200);
    expect(shown.headers.get("vary")).toBe("Cookie");
    expect(flashesIn(shown.body)).toEqual(["success: Welcome, leo"]);
    expect(shown.body).toContain("user: leo");
    const again = await svelteKitRequest(origin, "/", { cookie: loggedIn });
    expect(flashesIn(again.body)).toEqual([]);
    expect(again.body).toContain("user: leo");
    // The pre-login cookie replays as an anonymous session (fixation).
    expect((await svelteKitRequest(origin, "/", { cookie })).body).toContain("user: anonymous");
  });

  it("commits the enhanced (fetch) form's redirect answer the same way", async () => {
    fresh();
    const page = await svelteKitRequest(origin, "/login");
    const login = await svelteKitRequest(origin, "/login", {
      method: "POST",
      cookie: pairOf(page),
      headers: { origin, "x-sveltekit-action": "true" },
      form: { csrf_token: tokenIn(page.body), user: "ada" },
    });
    expect(login.status).toBe(200);
    expect(JSON.parse(login.body)).toMatchObject({ type: "redirect", status: 303, location: "/" });
    const shown = await svelteKitRequest(origin, "/", { cookie: pairOf(login) });
    expect(flashesIn(shown.body)).toEqual(["success: Welcome, ada"]);
  });

  it("logout action deletes the record and clears the cookie once", async () => {
    const { store } = fresh();
    const loggedIn = pairOf((await logIn("leo")).login);
    const id = JSON.parse((await svelteKitRequest(origin, "/parity/id", { cookie: loggedIn })).body).id;
    const form = await svelteKitRequest(origin, "/parity/csrf/form", { cookie: loggedIn });
    const logout = await svelteKitRequest(origin, "/logout", {
      method: "POST",
      cookie: loggedIn,
      headers: { origin, accept: "text/html" },
      form: { csrf_token: JSON.parse(form.body).token },
    });
    expect(logout.status).toBe(303);
    expect(logout.setCookies).toEqual([
      "sid=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; HttpOnly; SameSite=Lax",
    ]);
    expect(await store.get(storeKey(id))).toBeNull();
    expect((await svelteKitRequest(origin, "/", { cookie: loggedIn })).body).toContain("user: anonymous");
  });

  it("keeps both changes of two concurrent requests on one session (change sets)", async () => {
    fresh();
    const cookie = pairOf(await svelteKitRequest(origin, "/parity/set?value=alice"));
    const token = JSON.parse((await svelteKitRequest(origin, "/parity/csrf/form", { cookie })).body).token;
    const post = (key: string, delay: number) =>
      svelteKitRequest(origin, `/counter?key=${key}&delay=${delay}`, {
        method: "POST",
        cookie,
        headers: { "x-csrf-token": token },
      });
    const [a, b] = await Promise.all([post("a", 200), post("b", 0)]);
    expect([a.status, b.status]).toEqual([200, 200]);
    const after = JSON.parse((await svelteKitRequest(origin, "/counter", { cookie })).body);
    expect(after).toMatchObject({ name: "alice", a: true, b: true });
  });

  it("writes nothing and sends no cookie when a request only reads the session", async () => {
    const inner = memoryStore();
    let writes = 0;
    const store: ServerStore = {
      kind: "server",
      get: (key) => inner.get(key),
      apply: (key, changes, ...rest) => {
        writes++;
        return inner.apply(key, changes, ...rest);
      },
      destroy: (key) => inner.destroy(key),
    };
    installCore(createSessions({ secret: SECRET, store }));
    const loggedIn = pairOf((await logIn("leo")).login);
    await svelteKitRequest(origin, "/", { cookie: loggedIn }); // takes the flash: one write
    const before = writes;
    const read = await svelteKitRequest(origin, "/", { cookie: loggedIn });
    expect(read.body).toContain("user: leo");
    expect(read.setCookies).toEqual([]);
    expect(read.headers.get("vary")).toBe("Cookie");
    expect(writes).toBe(before);
  });

  it("refuses a form action without the token, or from another site without an Origin header", async () => {
    fresh();
    const page = await svelteKitRequest(origin, "/login");
    const cookie = pairOf(page);
    const missing = await svelteKitRequest(origin, "/login", {
      method: "POST",
      cookie,
      headers: { origin, accept: "text/html" },
      form: { user: "mallory" },
    });
    expect(missing.status).toBe(403);
    expect(missing.body).toContain("CSRF check failed: missing-token");
    // SvelteKit's own check reads only Origin: a cross-site request that sends none passes it.
    const crossSite = await svelteKitRequest(origin, "/login", {
      method: "POST",
      cookie,
      headers: { "sec-fetch-site": "cross-site", accept: "text/html" },
      form: { csrf_token: tokenIn(page.body), user: "mallory" },
    });
    expect(crossSite.status).toBe(403);
    expect(crossSite.body).toContain("CSRF check failed: cross-site");
    expect((await svelteKitRequest(origin, "/", { cookie })).body).toContain("user: anonymous");
  });

  it("answers 503 with Retry-After when the store fails on load or on the action's commit", async () => {
    const inner = memoryStore();
    const state = { failGet: false, failApply: false };
    const store: ServerStore = {
      kind: "server",
      get: (key) => (state.failGet ? Promise.reject(new Error("ECONNREFUSED")) : inner.get(key)),
      apply: (key, changes, ...rest) =>
        state.failApply ? Promise.reject(new Error("ECONNREFUSED")) : inner.apply(key, changes, ...rest),
      destroy: (key) => inner.destroy(key),
    };
    installCore(createSessions({ secret: SECRET, store }));
    // A stored session (a visitor only shown a form has no record to read).
    const cookie = pairOf(await svelteKitRequest(origin, "/parity/set?value=alice"));
    const page = await svelteKitRequest(origin, "/login", { cookie });

    state.failGet = true;
    const read = await svelteKitRequest(origin, "/", { cookie });
    expect(read.status).toBe(503);
    expect(read.headers.get("retry-after")).toBe("5");
    expect(read.body).toBe("Service Unavailable");

    state.failGet = false;
    state.failApply = true;
    const login = await svelteKitRequest(origin, "/login", {
      method: "POST",
      cookie,
      headers: { origin, accept: "text/html" },
      form: { csrf_token: tokenIn(page.body), user: "leo" },
    });
    // The redirect is never sent: its target would read a store that never got the login.
    expect(login.status).toBe(503);
    expect(login.headers.get("location")).toBeNull();
    expect(login.setCookies).toEqual([]);
  });
});

describe("the built server as its own process (node build/index.js)", () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    child?.kill();
  });

  it("serves the login flow over HTTP with the app's own store", async () => {
    const build = await svelteKitBuild();
    const port = await freePort();
    child = spawn(process.execPath, [join(build, "index.js")], {
      env: { ...process.env, PORT: String(port), HOST: "127.0.0.1", ORIGIN: `http://127.0.0.1:${port}` },
      stdio: "ignore",
    });
    const base = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        await fetch(base + "/");
        break;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    const page = await fetch(base + "/login");
    const cookie = page.headers.getSetCookie()[0]!.split(";", 1)[0]!;
    const login = await fetch(base + "/login", {
      method: "POST",
      headers: { cookie, origin: base, accept: "text/html" },
      body: new URLSearchParams({ csrf_token: tokenIn(await page.text()), user: "grace" }),
      redirect: "manual",
    });
    expect(login.status).toBe(303);
    const loggedIn = login.headers.getSetCookie()[0]!.split(";", 1)[0]!;
    const home = await (await fetch(base + "/", { headers: { cookie: loggedIn } })).text();
    expect(flashesIn(home)).toEqual(["success: Welcome, grace"]);
  });
});
