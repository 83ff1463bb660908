/**
 * flagon/hono through Hono's own `app.request()`: the session reaches the handler, is committed
 * after it, and the response carries exactly the session headers.
 */
import { Hono } from "hono";
import { describe, expect, it, vi } from "vitest";
import { type SessionVariables, sessions, templateGlobals } from "../../src/adapters/hono/index.js";
import { CookieError, SessionStoreError } from "../../src/errors.js";
import { createSessions } from "../../src/session/sessions.js";
import { memoryStore } from "../../src/stores/memory.js";
import type { ServerStore } from "../../src/stores/types.js";

const SECRET = "hono-adapter-test-secret-0123456789abcdef";

type Data = { name?: string; count?: number };

/** A memory store whose reads or writes can be made to fail, like Redis going down. */
function flakyStore() {
  const inner = memoryStore();
  const state = { failGet: false, failApply: false, gets: 0 };
  const store: ServerStore = {
    kind: "server",
    get: async (key) => {
      state.gets++;
      if (state.failGet) throw new Error("connect ECONNREFUSED 127.0.0.1:6379");
      return inner.get(key);
    },
    apply: async (key, changes) => {
      if (state.failApply) throw new Error("SQLITE_BUSY: database is locked");
      return inner.apply(key, changes);
    },
    destroy: (key) => inner.destroy(key),
  };
  return { store, state };
}

function cookiePair(response: Response): string {
  const [setCookie] = response.headers.getSetCookie();
  if (setCookie === undefined) throw new Error("no Set-Cookie");
  return setCookie.split(";", 1)[0]!;
}

function makeApp(store: ServerStore = memoryStore()) {
  const app = new Hono<{ Variables: SessionVariables<Data> }>();
  const middleware = sessions<Data>({ secret: SECRET, store });
  app.use(middleware);
  app.get("/set", (c) => {
    c.get("session").set("name", c.req.query("name") ?? "Leo");
    return c.text("set");
  });
  app.get("/get", (c) => c.json({ name: c.get("session").get("name") ?? null }));
  app.get("/static", (c) => c.text("no session here"));
  app.get("/flashes", (c) => c.json(c.get("session").getFlashedMessages({ withCategories: true })));
  app.get("/redirect", (c) => {
    c.get("session").set("name", "Redirected");
    // Response.redirect() has immutable headers: the adapter must still add the cookie.
    return Response.redirect("http://localhost/get", 302);
  });
  app.get("/vary", (c) => {
    c.header("Vary", "Accept-Encoding");
    c.get("session").set("name", "Vary");
    return c.text("vary");
  });
  return { app, middleware };
}

describe("flagon/hono sessions()", () => {
  it("gives the handler c.get('session') and commits its changes after the handler", async () => {
    const { app } = makeApp();
    const first = await app.request("/set?name=Ada");
    expect(first.status).toBe(200);
    const cookie = cookiePair(first);
    expect(cookie).toMatch(/^sid=v1\./);

    const second = await app.request("/get", { headers: { cookie } });
    expect(await second.json()).toEqual({ name: "Ada" });
    // Reading an unchanged session writes nothing.
    expect(second.headers.getSetCookie()).toEqual([]);
    expect(second.headers.get("vary")).toBe("Cookie");
  });

  it("adds nothing to a route that never touches the session", async () => {
    const { app } = makeApp();
    const first = await app.request("/set");
    const response = await app.request("/static", { headers: { cookie: cookiePair(first) } });
    expect(response.headers.get("vary")).toBeNull();
    expect(response.headers.get("cache-control")).toBeNull();
    expect(response.headers.getSetCookie()).toEqual([]);
  });

  it("uses __Host- and Secure on https:// requests, plain on http://", async () => {
    const { app } = makeApp();
    const secure = await app.request("https://example.com/set");
    expect(secure.headers.getSetCookie()[0]).toMatch(
      /^__Host-sid=v1\.[^;]+; Path=\/; HttpOnly; Secure; SameSite=Lax$/,
    );
    const plain = await app.request("http://localhost/set");
    expect(plain.headers.getSetCookie()[0]).toMatch(/^sid=v1\.[^;]+; Path=\/; HttpOnly; SameSite=Lax$/);
  });

  it("lets isSecure decide for requests behind a TLS-terminating proxy", async () => {
    const app = new Hono<{ Variables: SessionVariables<Data> }>();
    app.use(
      sessions<Data>({
        secret: SECRET,
        isSecure: (c) => c.req.header("x-forwarded-proto") === "https",
      }),
    );
    app.get("/", (c) => {
      c.get("session").set("name", "x");
      return c.text("ok");
    });
    const response = await app.request("http://internal/", { headers: { "x-forwarded-proto": "https" } });
    expect(response.headers.getSetCookie()[0]).toMatch(/^__Host-sid=.*; Secure;/);
  });

  it("adds the cookie to a response with immutable headers (Response.redirect)", async () => {
    const { app } = makeApp();
    const response = await app.request("/redirect");
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toBe("http://localhost/get");
    const followed = await app.request("/get", { headers: { cookie: cookiePair(response) } });
    expect(await followed.json()).toEqual({ name: "Redirected" });
  });

  it("merges Vary with the handler's own fields and sets Cache-Control on cookie responses", async () => {
    const { app } = makeApp();
    const response = await app.request("/vary");
    expect(response.headers.get("vary")).toBe("Accept-Encoding, Cookie");
    expect(response.headers.get("cache-control")).toBe("private, no-store");
  });

  it("finds the session when the cookie arrives in several Cookie fields (HTTP/2, property 30)", async () => {
    const { app } = makeApp();
    const cookie = cookiePair(await app.request("/set?name=Split"));
    const headers = new Headers();
    headers.append("cookie", "theme=dark");
    headers.append("cookie", cookie);
    headers.append("cookie", "lang=en");
    const response = await app.request("/get", { headers });
    expect(await response.json()).toEqual({ name: "Split" });
  });

  it("accepts an existing Sessions core and exposes it on the middleware", async () => {
    const core = createSessions<Data>({ secret: SECRET });
    const app = new Hono<{ Variables: SessionVariables<Data> }>();
    const middleware = sessions(core);
    expect(middleware.sessions).toBe(core);
    app.use(middleware);
    app.get("/", (c) => {
      c.get("session").set("count", 1);
      return c.text("ok");
    });
    const response = await app.request("/");
    const loaded = await core.load(new Headers({ cookie: cookiePair(response) }));
    expect(loaded.get("count")).toBe(1);
  });

  it("keeps the session of a handler that threw (the error page still commits, as Flask does)", async () => {
    const { app } = makeApp();
    app.get("/boom", (c) => {
      c.get("session").flash("Something went wrong.", "error");
      throw new Error("boom");
    });
    app.onError((_error, c) => c.text("error page", 500));
    const response = await app.request("/boom");
    expect(response.status).toBe(500);
    const next = await app.request("/flashes", { headers: { cookie: cookiePair(response) } });
    expect(await next.json()).toEqual([["error", "Something went wrong."]]);
  });
});

describe("flagon/hono store failures", () => {
  it("answers 503 when the store cannot be read, without running the handler", async () => {
    const { store, state } = flakyStore();
    const { app } = makeApp(store);
    const handler = vi.fn();
    app.get("/spy", (c) => {
      handler();
      return c.text("ran");
    });
    const cookie = cookiePair(await app.request("/set?name=Ada"));
    state.failGet = true;
    const response = await app.request("/spy", { headers: { cookie } });
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe("5");
    expect(response.headers.get("cache-control")).toBe("no-store");
    const body = await response.text();
    expect(body).toBe("Service Unavailable");
    expect(body).not.toContain(cookie.split("=")[1]);
    expect(handler).not.toHaveBeenCalled();
    expect(state.gets).toBeGreaterThan(0);
  });

  it("replaces the handler's response with the 503 when the commit fails, dropping its headers", async () => {
    const { store, state } = flakyStore();
    const { app } = makeApp(store);
    app.get("/login", (c) => {
      c.get("session").set("name", "Ada");
      c.header("x-handler", "1");
      return c.redirect("/get");
    });
    state.failApply = true;
    const response = await app.request("/login");
    expect(response.status).toBe(503);
    expect(response.headers.get("location")).toBeNull();
    expect(response.headers.get("x-handler")).toBeNull();
    expect(response.headers.getSetCookie()).toEqual([]);
  });

  it("builds onStoreError's page after a failed commit without the handler's headers", async () => {
    const { store, state } = flakyStore();
    const app = new Hono<{ Variables: SessionVariables<Data> }>();
    app.use(
      sessions<Data>({
        secret: SECRET,
        store,
        onStoreError: (_error, c) => {
          c.header("retry-after", "7");
          return c.html("<h1>Back soon</h1>", 503);
        },
      }),
    );
    app.get("/login", (c) => {
      c.get("session").set("name", "Ada");
      c.header("x-handler", "1");
      c.header("set-cookie", "theme=dark; Path=/", { append: true });
      return c.redirect("/home");
    });
    state.failApply = true;
    const response = await app.request("/login");
    expect(response.status).toBe(503);
    expect(await response.text()).toBe("<h1>Back soon</h1>");
    expect(response.headers.get("retry-after")).toBe("7");
    expect(response.headers.get("location")).toBeNull();
    expect(response.headers.get("x-handler")).toBeNull();
    expect(response.headers.getSetCookie()).toEqual([]);
  });

  it("uses onStoreError for a friendly page, with the typed error", async () => {
    const { store, state } = flakyStore();
    const seen: unknown[] = [];
    const app = new Hono<{ Variables: SessionVariables<Data> }>();
    app.use(
      sessions<Data>({
        secret: SECRET,
        store,
        onStoreError: (error, c) => {
          seen.push(error);
          return c.html("<h1>Back soon</h1>", 503);
        },
      }),
    );
    app.get("/set", (c) => {
      c.get("session").set("name", "Ada");
      return c.text("set");
    });
    app.get("/", (c) => c.text(String(c.get("session").get("name"))));
    const cookie = cookiePair(await app.request("/set"));
    expect(await (await app.request("/", { headers: { cookie } })).text()).toBe("Ada");
    state.failGet = true;
    const response = await app.request("/", { headers: { cookie } });
    expect(response.status).toBe(503);
    expect(await response.text()).toBe("<h1>Back soon</h1>");
    expect(seen).toHaveLength(1);
    expect(seen[0]).toBeInstanceOf(SessionStoreError);
    expect((seen[0] as SessionStoreError).code).toBe("ERR_STORE_FAILED");
  });

  it("sends a cookie that is too large to app.onError instead of a truncated cookie", async () => {
    const app = new Hono<{ Variables: SessionVariables<{ blob?: string }> }>();
    // The cookie store holds the whole session in the cookie: 5000 characters cannot fit.
    const { cookieStore } = await import("../../src/stores/cookie.js");
    app.use(sessions<{ blob?: string }>({ secret: SECRET, store: cookieStore() }));
    app.get("/", (c) => {
      c.get("session").set("blob", "x".repeat(20000));
      return c.text("ok");
    });
    const errors: unknown[] = [];
    app.onError((error, c) => {
      errors.push(error);
      return c.text("too large", 500);
    });
    const response = await app.request("/");
    expect(response.status).toBe(500);
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(errors[0]).toBeInstanceOf(CookieError);
    expect((errors[0] as CookieError).code).toBe("ERR_COOKIE_TOO_LARGE");
  });
});

describe("flagon/hono templateGlobals()", () => {
  it("reads Flask's get_flashed_messages arguments: positional, Nunjucks keywords, options", async () => {
    const core = createSessions({ secret: SECRET });
    const make = async () => {
      const session = await core.load(new Headers());
      session.flash("saved", "info");
      session.flash("oops", "error");
      return templateGlobals(session);
    };
    expect((await make()).get_flashed_messages()).toEqual(["saved", "oops"]);
    expect((await make()).get_flashed_messages(true)).toEqual([
      ["info", "saved"],
      ["error", "oops"],
    ]);
    expect((await make()).get_flashed_messages({ with_categories: true, __keywords: true })).toEqual([
      ["info", "saved"],
      ["error", "oops"],
    ]);
    expect((await make()).get_flashed_messages({ category_filter: ["error"], __keywords: true })).toEqual([
      "oops",
    ]);
    expect((await make()).get_flashed_messages({ withCategories: true, categoryFilter: ["info"] })).toEqual([
      ["info", "saved"],
    ]);
    const globals = await make();
    expect(globals.csrf_token()).toBe(globals.csrf_token());
    expect(globals.csrf_token()).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});

describe("flagon/hono on @hono/node-server", () => {
  it("reads the session from node's own request headers (c.env.incoming), with the same result", async () => {
    const { serve } = await import("@hono/node-server");
    const { cookieStore } = await import("../../src/stores/cookie.js");
    const app = new Hono<{ Variables: SessionVariables<Data> }>();
    app.use(sessions<Data>({ secret: SECRET, store: cookieStore() }));
    let builtFetchHeaders = false;
    app.get("/set", (c) => {
      c.get("session").set("name", "Leo");
      return c.text("set");
    });
    app.get("/get", (c) => {
      // @hono/node-server builds the Fetch Headers of its Request lazily, on first access.
      builtFetchHeaders = Object.getOwnPropertySymbols(c.req.raw).some(
        (symbol) => symbol.description === "headersKey" && Reflect.get(c.req.raw, symbol) !== undefined,
      );
      return c.text(String(c.get("session").get("name") ?? "none"));
    });
    const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const started = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(started));
    });
    try {
      const base = `http://127.0.0.1:${(server.address() as import("node:net").AddressInfo).port}`;
      const set = await fetch(`${base}/set`);
      const cookie = (set.headers.getSetCookie()[0] ?? "").split(";")[0] ?? "";
      expect(cookie).toMatch(/^sid=v1\./);
      const read = await fetch(`${base}/get`, { headers: { cookie: `theme=dark; ${cookie}` } });
      expect(await read.text()).toBe("Leo");
      expect(read.headers.get("vary")).toBe("Cookie");
      expect(builtFetchHeaders).toBe(false);
      const tampered = await fetch(`${base}/get`, { headers: { cookie: `${cookie.slice(0, -2)}AA` } });
      expect(await tampered.text()).toBe("none");
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
