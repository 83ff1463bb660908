/**
 * flagon/react-router through React Router's own request handler (createRequestHandler over a
 * server build with real route modules): the SessionStorage API (getSession / commitSession /
 * destroySession) and the route middleware, login → redirect → flash shown once on a rendered
 * page, no lost updates where React Router's own storage loses one, every store, store failure.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createElement } from "react";
import {
  createMemorySessionStorage,
  data,
  type RouterContextProvider,
  redirect,
  type SessionStorage,
  useLoaderData,
} from "react-router";
import { afterAll, describe, expect, it } from "vitest";
import { flagonSessionStorage } from "../../src/adapters/react-router/index.js";
import { storeKey } from "../../src/session/sessions.js";
import { cookieStore } from "../../src/stores/cookie.js";
import { memoryStore } from "../../src/stores/memory.js";
import { redisStore } from "../../src/stores/redis.js";
import { sqliteStore } from "../../src/stores/sqlite.js";
import type { ClientStore, ServerStore } from "../../src/stores/types.js";
import { redisForTests, redisServerAvailable } from "../helpers/redis-server.js";
import { handlerFor, serverBuild } from "./react-router/build.js";

const SECRET = "react-router-test-secret-0123456789abcdef";
const ORIGIN = "http://localhost";

interface Args {
  request: Request;
  context: Readonly<RouterContextProvider>;
}

/** Headers carrying a commitSession() value, none when it is "" (nothing to send). */
function cookieHeaders(setCookie: string): HeadersInit {
  return setCookie === "" ? {} : { "Set-Cookie": setCookie };
}

function Page() {
  const { message, user } = useLoaderData() as { message: string | null; user: string | null };
  return createElement(
    "main",
    null,
    message === null ? null : createElement("p", { className: "flash" }, message),
    createElement("p", { className: "user" }, `user: ${user ?? "anonymous"}`),
  );
}

/** The lesson's flow written against the SessionStorage API, as React Router's docs do it. */
function storageApp(storage: SessionStorage) {
  const session = (request: Request) => storage.getSession(request.headers.get("Cookie"));
  return handlerFor(
    serverBuild({}, [
      {
        id: "routes/home",
        index: true,
        module: {
          default: Page,
          async loader({ request }: Args) {
            const current = await session(request);
            const message = (current.get("success") as string | undefined) ?? null;
            const user = (current.get("user") as string | undefined) ?? null;
            return data({ message, user }, { headers: cookieHeaders(await storage.commitSession(current)) });
          },
          // Document responses take their headers from here (React Router's `headers` export).
          headers: ({ loaderHeaders }: { loaderHeaders: Headers }) => loaderHeaders,
        },
      },
      {
        id: "routes/login",
        path: "login",
        module: {
          async action({ request }: Args) {
            const current = await session(request);
            const form = await request.formData();
            const user = String(form.get("user"));
            if ("flagon" in current) (current as { flagon: { regenerate(): void } }).flagon.regenerate();
            current.set("user", user);
            current.flash("success", `Welcome, ${user}`);
            return redirect("/", { headers: cookieHeaders(await storage.commitSession(current)) });
          },
        },
      },
      {
        id: "routes/logout",
        path: "logout",
        module: {
          async action({ request }: Args) {
            const current = await session(request);
            return redirect("/", { headers: { "Set-Cookie": await storage.destroySession(current) } });
          },
        },
      },
      {
        id: "routes/start",
        path: "start",
        module: {
          async loader({ request }: Args) {
            const current = await session(request);
            current.set("started", true);
            return new Response("started", { headers: cookieHeaders(await storage.commitSession(current)) });
          },
        },
      },
      {
        id: "routes/mark",
        path: "mark",
        module: {
          // Loads, waits until the other request has loaded too, then changes its own key.
          async action({ request }: Args) {
            const current = await session(request);
            await arrive();
            current.set(new URL(request.url).searchParams.get("key")!, true);
            return new Response("marked", { headers: cookieHeaders(await storage.commitSession(current)) });
          },
        },
      },
      {
        id: "routes/read",
        path: "read",
        module: {
          async loader({ request }: Args) {
            return Response.json((await session(request)).data);
          },
        },
      },
    ]),
  );
}

/** A two-party barrier: each of two concurrent actions waits here until both arrived. */
let arrivals: Array<() => void> = [];
function arrive(): Promise<void> {
  return new Promise((resolve) => {
    arrivals.push(resolve);
    if (arrivals.length === 2) {
      for (const release of arrivals) release();
      arrivals = [];
    }
  });
}

function get(path: string, cookie?: string): Request {
  return new Request(ORIGIN + path, { headers: cookie === undefined ? {} : { cookie } });
}

function post(path: string, form: Record<string, string>, cookie?: string): Request {
  const headers: Record<string, string> = { origin: ORIGIN };
  if (cookie !== undefined) headers.cookie = cookie;
  return new Request(ORIGIN + path, { method: "POST", headers, body: new URLSearchParams(form) });
}

function pairOf(response: Response, name = "sid"): string {
  const line = response.headers.getSetCookie().find((entry) => entry.startsWith(`${name}=`));
  if (line === undefined) throw new Error(`no Set-Cookie for ${name}`);
  return line.split(";", 1)[0]!;
}

function flashesIn(html: string): string[] {
  return [...html.matchAll(/<p class="flash">([^<]*)<\/p>/g)].map((match) => match[1]!);
}

const redisAvailable = await redisServerAvailable(
  "flagon/react-router over Redis (test/adapters/react-router.test.ts)",
);
const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

const stores: Array<[string, () => Promise<ClientStore | ServerStore>]> = [
  ["memory", async () => memoryStore()],
  ["cookie", async () => cookieStore()],
  [
    "sqlite",
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "flagon-rr-"));
      const store = sqliteStore({ path: join(dir, "sessions.db") });
      cleanups.push(async () => {
        await store.close?.();
        rmSync(dir, { recursive: true, force: true });
      });
      return store;
    },
  ],
];
if (redisAvailable) {
  stores.push([
    "redis",
    async () => {
      const redis = await redisForTests();
      const store = redisStore({ url: redis.url, prefix: `flagon-rr-${randomBytes(6).toString("hex")}:` });
      cleanups.push(async () => {
        await store.close();
        await redis.stop();
      });
      return store;
    },
  ]);
}

describe("flagonSessionStorage: React Router's SessionStorage API", () => {
  it.each(stores)(
    "login → redirect → flash shown once on the rendered page (%s store)",
    async (_name, make) => {
      const handle = storageApp(flagonSessionStorage({ secret: SECRET, store: await make() }));
      const home = await handle(get("/"));
      expect(home.status).toBe(200);
      expect(home.headers.get("content-type")).toMatch(/^text\/html/);
      expect(await home.text()).toContain("user: anonymous");

      const login = await handle(post("/login", { user: "leo" }));
      expect(login.status).toBe(302);
      expect(login.headers.get("location")).toBe("/");
      const cookie = pairOf(login);

      const shown = await handle(get("/", cookie));
      const html = await shown.text();
      expect(flashesIn(html)).toEqual(["Welcome, leo"]);
      expect(html).toContain("user: leo");
      // A server store keeps the id (the cookie is only re-sent when it changes); the cookie store re-issues it.
      const next = shown.headers.getSetCookie().length > 0 ? pairOf(shown) : cookie;

      const again = await (await handle(get("/", next))).text();
      expect(flashesIn(again)).toEqual([]);
      expect(again).toContain("user: leo");
    },
  );

  it("regenerates on login: the pre-login cookie replays as an empty session (fixation)", async () => {
    const store = memoryStore();
    const handle = storageApp(flagonSessionStorage({ secret: SECRET, store }));
    const before = pairOf(await handle(get("/start")));
    const login = await handle(post("/login", { user: "leo" }, before));
    const after = pairOf(login);
    expect(after).not.toBe(before);
    expect(await (await handle(get("/read", before))).json()).toEqual({});
    expect(await (await handle(get("/read", after))).json()).toMatchObject({ started: true, user: "leo" });
  });

  it("destroySession deletes the record and clears the cookie", async () => {
    const store = memoryStore();
    const storage = flagonSessionStorage({ secret: SECRET, store });
    const handle = storageApp(storage);
    const cookie = pairOf(await handle(post("/login", { user: "leo" })));
    const id = (await storage.getSession(cookie)).id;
    expect(await store.get(storeKey(id))).not.toBeNull();
    const logout = await handle(post("/logout", {}, cookie));
    expect(logout.headers.getSetCookie()).toEqual([
      "sid=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; HttpOnly; SameSite=Lax",
    ]);
    expect(await store.get(storeKey(id))).toBeNull();
    expect(await (await handle(get("/read", cookie))).json()).toEqual({});
  });

  it("keeps both of two concurrent actions' changes, where React Router's memory storage loses one", async () => {
    async function race(storage: SessionStorage) {
      const handle = storageApp(storage);
      const cookie = pairOf(await handle(get("/start")), "__session");
      const [a, b] = await Promise.all([
        handle(post("/mark?key=a", {}, cookie)),
        handle(post("/mark?key=b", {}, cookie)),
      ]);
      expect([a.status, b.status]).toEqual([200, 200]);
      return (await (await handle(get("/read", cookie))).json()) as Record<string, unknown>;
    }
    const theirs = await race(createMemorySessionStorage({ cookie: { name: "__session" } }));
    // Each commit writes the whole object it loaded: the second overwrites the first's key.
    expect(theirs.started).toBe(true);
    expect([theirs.a, theirs.b].filter((value) => value === true)).toHaveLength(1);

    const ours = await race(
      flagonSessionStorage({ secret: SECRET, store: memoryStore(), cookie: { name: "__session" } }),
    );
    expect(ours).toEqual({ started: true, a: true, b: true });
  });

  it("maps flash(key, value) onto flagon's flash with the key as category, both ways", async () => {
    const storage = flagonSessionStorage({ secret: SECRET, store: memoryStore() });
    const first = await storage.getSession();
    first.flash("error", "Bad password");
    first.flagon.flash("Saved", "info");
    expect(first.has("error")).toBe(true);
    expect(first.data).toMatchObject({ __flash_error__: "Bad password", __flash_info__: "Saved" });
    const cookie = (await storage.commitSession(first)).split(";", 1)[0]!;

    // Flask's view of React Router's flash: categories included.
    const flask = await storage.getSession(cookie);
    expect(flask.flagon.getFlashedMessages({ withCategories: true })).toEqual([
      ["error", "Bad password"],
      ["info", "Saved"],
    ]);
    await storage.commitSession(flask);
    expect((await storage.getSession(cookie)).flagon.getFlashedMessages()).toEqual([]);
  });

  it("get(key) takes only that key's flash; the others wait for a later request", async () => {
    const storage = flagonSessionStorage({ secret: SECRET, store: memoryStore() });
    const first = await storage.getSession();
    first.flash("a", "first");
    first.flash("b", "second");
    const cookie = (await storage.commitSession(first)).split(";", 1)[0]!;

    const second = await storage.getSession(cookie);
    expect(second.get("a")).toBe("first");
    expect(second.get("a")).toBeUndefined();
    expect(second.has("b")).toBe(true);
    await storage.commitSession(second);

    const third = await storage.getSession(cookie);
    expect(third.get("a")).toBeUndefined();
    expect(third.get("b")).toBe("second");
    await storage.commitSession(third);
    expect((await storage.getSession(cookie)).has("b")).toBe(false);
  });

  it("writes nothing and returns an empty Set-Cookie value for an unchanged session", async () => {
    const inner = memoryStore();
    let writes = 0;
    const store: ServerStore = {
      ...inner,
      kind: "server",
      get: (key) => inner.get(key),
      apply: (key, changes, ...rest) => {
        writes++;
        return inner.apply(key, changes, ...rest);
      },
      destroy: (key) => inner.destroy(key),
    };
    const storage = flagonSessionStorage({ secret: SECRET, store });
    const session = await storage.getSession();
    session.set("user", "leo");
    const cookie = (await storage.commitSession(session)).split(";", 1)[0]!;
    expect(writes).toBe(1);
    const read = await storage.getSession(cookie);
    expect(read.get("user")).toBe("leo");
    expect(await storage.commitSession(read)).toBe("");
    expect(writes).toBe(1);
  });

  it("commitSession(session, { maxAge }) sets the cookie's and the record's lifetime", async () => {
    const storage = flagonSessionStorage({ secret: SECRET, store: memoryStore() });
    const session = await storage.getSession();
    session.set("remember", true);
    expect(await storage.commitSession(session, { maxAge: 3600 })).toMatch(/; Max-Age=3600;/);
    await expect(storage.commitSession(session)).rejects.toThrow(/already committed/);
    const other = await storage.getSession();
    await expect(storage.commitSession(other, { domain: "x" } as never)).rejects.toMatchObject({
      code: "ERR_NOT_SUPPORTED",
    });
  });

  it("a failing store answers 503 with Retry-After through the loader", async () => {
    const store: ServerStore = {
      kind: "server",
      get: () => Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:6379")),
      apply: () => Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:6379")),
      destroy: () => Promise.resolve(),
    };
    const storage = flagonSessionStorage({ secret: SECRET, store });
    const handle = storageApp(storage);
    // A new visitor needs no store read; the commit's write fails.
    const response = await handle(post("/login", { user: "leo" }));
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe("5");
    expect(response.headers.getSetCookie()).toEqual([]);
  });
});

describe("storage.middleware: loads into the router context, commits before the response", () => {
  function middlewareApp(storage: ReturnType<typeof flagonSessionStorage>) {
    return handlerFor(
      serverBuild({ middleware: [storage.middleware] }, [
        {
          id: "routes/home",
          index: true,
          module: {
            default: Page,
            loader({ context }: Args) {
              const session = storage.sessionOf(context);
              const [message = null] = session.getFlashedMessages();
              return { message, user: (session.get("user") as string | undefined) ?? null };
            },
          },
        },
        {
          id: "routes/login",
          path: "login",
          module: {
            async action({ request, context }: Args) {
              const session = storage.sessionOf(context);
              const user = String((await request.formData()).get("user"));
              session.flash(`Welcome, ${user}`, "success");
              session.regenerate();
              session.set("user", user);
              // Thrown, as React Router apps often do: the middleware still commits first.
              throw redirect("/");
            },
          },
        },
        { id: "routes/static", path: "static", module: { loader: () => new Response("static") } },
      ]),
    );
  }

  it("login → thrown redirect → flash shown once, with Vary and Cache-Control", async () => {
    const store = memoryStore();
    const handle = middlewareApp(flagonSessionStorage({ secret: SECRET, store }));
    const login = await handle(post("/login", { user: "leo" }));
    expect(login.status).toBe(302);
    expect(login.headers.get("location")).toBe("/");
    expect(login.headers.get("vary")).toBe("Cookie");
    expect(login.headers.get("cache-control")).toBe("private, no-store");
    const cookie = pairOf(login);

    const shown = await handle(get("/", cookie));
    expect(shown.headers.get("vary")).toBe("Cookie");
    const html = await shown.text();
    expect(flashesIn(html)).toEqual(["Welcome, leo"]);
    expect(html).toContain("user: leo");
    expect(flashesIn(await (await handle(get("/", cookie))).text())).toEqual([]);

    const untouched = await handle(get("/static", cookie));
    expect(untouched.headers.get("vary")).toBeNull();
    expect(untouched.headers.getSetCookie()).toEqual([]);
  });

  it("commits single-fetch data requests (POST /login.data) the same way", async () => {
    const handle = middlewareApp(flagonSessionStorage({ secret: SECRET, store: memoryStore() }));
    const login = await handle(post("/login.data", { user: "ada" }));
    // Single fetch answers a redirect as data, with the session's headers on that response.
    expect(login.status).toBeLessThan(400);
    const cookie = pairOf(login);
    const html = await (await handle(get("/", cookie))).text();
    expect(flashesIn(html)).toEqual(["Welcome, ada"]);
  });

  it("answers 503 when the store fails on load, without running the routes", async () => {
    const inner = memoryStore();
    let failing = false;
    let loaderRuns = 0;
    const store: ServerStore = {
      kind: "server",
      get: (key) => (failing ? Promise.reject(new Error("ECONNREFUSED")) : inner.get(key)),
      apply: (key, changes, ...rest) => inner.apply(key, changes, ...rest),
      destroy: (key) => inner.destroy(key),
    };
    const storage = flagonSessionStorage({ secret: SECRET, store });
    const handle = handlerFor(
      serverBuild({ middleware: [storage.middleware] }, [
        {
          id: "routes/count",
          path: "count",
          module: {
            loader({ context }: Args) {
              loaderRuns++;
              storage.sessionOf(context).set("n", loaderRuns);
              return new Response("ok");
            },
          },
        },
      ]),
    );
    const cookie = pairOf(await handle(get("/count")));
    failing = true;
    const response = await handle(get("/count", cookie));
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe("5");
    expect(loaderRuns).toBe(1);
  });
});
