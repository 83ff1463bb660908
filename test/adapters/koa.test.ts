import { once } from "node:events";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { bodyParser } from "@koa/bodyparser";
import Koa from "koa";
import nunjucks from "nunjucks";
import { afterEach, describe, expect, it } from "vitest";
import { csrfProtection, type KoaSessionsOptions, sessions } from "../../src/adapters/koa/index.js";
import { cookieStore, createSessions, SessionStoreError } from "../../src/index.js";
import { fetchBrowser, flakyStore, SECRET, slowStore, unhandledRejectionsDuring } from "./helpers.js";

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise((resolve) => {
          server.closeAllConnections();
          server.close(resolve);
        }),
    ),
  );
});

async function listen(app: Koa): Promise<string> {
  const server = app.listen(0, "127.0.0.1");
  servers.push(server);
  await once(server, "listening");
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A Koa app: `routes` maps a path to the handler that answers it, after `sessions(options)`. */
function appWith(
  options: KoaSessionsOptions,
  routes: Record<string, Koa.Middleware>,
  before: Koa.Middleware[] = [],
): Koa {
  const app = new Koa();
  app.silent = true;
  for (const middleware of before) app.use(middleware);
  app.use(async (ctx, next) => {
    if (ctx.path === "/health") ctx.body = "up";
    else await next();
  });
  app.use(sessions(options));
  app.use(async (ctx, next) => {
    const route = routes[ctx.path];
    if (route === undefined) return next();
    return route(ctx, next);
  });
  return app;
}

const basicRoutes: Record<string, Koa.Middleware> = {
  "/set": (ctx) => {
    ctx.session.set("name", ctx.query.name ?? "Leo");
    ctx.redirect("/get");
  },
  "/get": (ctx) => {
    ctx.body = String(ctx.session.get("name") ?? "none");
  },
  "/untouched": (ctx) => {
    ctx.body = "static";
  },
  "/logout": (ctx) => {
    ctx.session.destroy();
    ctx.redirect("/");
  },
};

describe("flagon/koa sessions()", () => {
  it("commits after await next(), before Koa writes: ctx.redirect never races the store write", async () => {
    const store = slowStore();
    const url = await listen(appWith({ secret: SECRET, store }, basicRoutes));
    for (let i = 0; i < 60; i += 1) {
      const client = fetchBrowser(url);
      const set = await client.request(`/set?name=n${i}`);
      expect(set.status).toBe(302);
      expect(set.headers.get("location")).toBe("/get");
      expect((await client.request("/get")).text).toBe(`n${i}`);
    }
    expect(store.writes).toBe(60);
  });

  it("ctx.body as a stream: the commit finishes first, the body arrives intact", async () => {
    const store = slowStore();
    const content = "0123456789".repeat(100_000);
    const url = await listen(
      appWith(
        { secret: SECRET, store },
        {
          "/stream": (ctx) => {
            ctx.session.set("downloaded", true);
            ctx.type = "text/plain";
            ctx.body = Readable.from([content.slice(0, 400_000), content.slice(400_000)]);
          },
          "/get": (ctx) => {
            ctx.body = String(ctx.session.get("downloaded") ?? "none");
          },
        },
      ),
    );
    const client = fetchBrowser(url);
    const response = await client.request("/stream");
    expect(response.headers.getSetCookie()).toHaveLength(1);
    expect(response.text).toBe(content);
    expect((await client.request("/get")).text).toBe("true");
  });

  it("an error thrown downstream still commits: Koa's error page carries the flash", async () => {
    const url = await listen(
      appWith(
        { secret: SECRET },
        {
          "/boom": (ctx) => {
            ctx.session.flash("Something broke.", "error");
            ctx.set("Vary", "Accept");
            ctx.throw(500, "boom");
          },
          "/messages": (ctx) => {
            ctx.body = ctx.session.getFlashedMessages();
          },
        },
      ),
    );
    const client = fetchBrowser(url);
    const boom = await client.request("/boom");
    expect(boom.status).toBe(500);
    expect(boom.text).toBe("Internal Server Error");
    expect(boom.headers.getSetCookie()).toHaveLength(1);
    expect(boom.headers.get("vary")).toBe("Cookie");
    expect(boom.headers.get("cache-control")).toBe("private, no-store");
    expect(JSON.parse((await client.request("/messages")).text)).toEqual(["Something broke."]);
  });

  it("an upstream error middleware that renders its own page keeps the session's headers", async () => {
    const seen: unknown[] = [];
    const catcher: Koa.Middleware = async (ctx, next) => {
      try {
        await next();
      } catch (error) {
        seen.push(error);
        ctx.status = 500;
        ctx.body = "<p>Oops</p>";
      }
    };
    const url = await listen(
      appWith(
        { secret: SECRET },
        {
          "/boom": (ctx) => {
            ctx.session.flash("Saved before the crash.");
            throw new Error("boom");
          },
          "/messages": (ctx) => {
            ctx.body = ctx.session.getFlashedMessages();
          },
        },
        [catcher],
      ),
    );
    const client = fetchBrowser(url);
    const boom = await client.request("/boom");
    expect(boom.text).toBe("<p>Oops</p>");
    expect(boom.headers.getSetCookie()).toHaveLength(1);
    expect((seen[0] as Error).message).toBe("boom");
    expect(JSON.parse((await client.request("/messages")).text)).toEqual(["Saved before the crash."]);
  });

  it("merges Vary, sets Cache-Control with the cookie, adds nothing to untouched routes", async () => {
    const url = await listen(
      appWith(
        { secret: SECRET },
        {
          ...basicRoutes,
          "/vary": (ctx) => {
            ctx.session.set("name", "v");
            ctx.set("Vary", "Accept-Encoding");
            ctx.cookies.set("theme", "dark", { httpOnly: false });
            ctx.body = "v";
          },
        },
      ),
    );
    const client = fetchBrowser(url);
    const response = await client.request("/vary");
    expect(response.headers.get("vary")).toBe("Accept-Encoding, Cookie");
    expect(response.headers.get("cache-control")).toBe("private, no-store");
    const lines = response.headers.getSetCookie();
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^theme=dark; path=\//);
    expect(lines[1]).toMatch(/^sid=[^;]+; Path=\/; HttpOnly; SameSite=Lax$/);
    const untouched = await client.request("/untouched");
    expect(untouched.headers.get("vary")).toBeNull();
    expect(untouched.headers.getSetCookie()).toEqual([]);
  });

  it("uses ctx.secure: __Host- and Secure behind a proxy only with app.proxy", async () => {
    const trusted = appWith({ secret: SECRET }, basicRoutes);
    trusted.proxy = true;
    const headers = { "x-forwarded-proto": "https" };
    const viaProxy = await fetchBrowser(await listen(trusted)).request("/set", { headers });
    expect(viaProxy.headers.getSetCookie()[0]).toMatch(
      /^__Host-sid=[^;]+; Path=\/; HttpOnly; Secure; SameSite=Lax$/,
    );
    const direct = await fetchBrowser(await listen(appWith({ secret: SECRET }, basicRoutes))).request(
      "/set",
      {
        headers,
      },
    );
    expect(direct.headers.getSetCookie()[0]).toMatch(/^sid=/);
  });

  it("regenerate() invalidates the old id; destroy() clears the cookie once", async () => {
    const url = await listen(
      appWith(
        { secret: SECRET },
        {
          ...basicRoutes,
          "/login": (ctx) => {
            ctx.session.regenerate();
            ctx.session.set("name", "leo");
            ctx.body = "in";
          },
        },
      ),
    );
    const client = fetchBrowser(url);
    await client.request("/set");
    const before = client.jar.get("sid");
    await client.request("/login");
    expect(client.jar.get("sid")).not.toBe(before);
    const replay = await fetch(`${url}/get`, { headers: { cookie: `sid=${before}` } });
    expect(await replay.text()).toBe("none");
    const cleared = (await client.request("/logout")).headers.getSetCookie();
    expect(cleared).toHaveLength(1);
    expect(cleared[0]).toMatch(/^sid=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=\//);
  });

  it("puts Flask's template globals in ctx.state", async () => {
    const env = new nunjucks.Environment(null, { autoescape: true });
    const url = await listen(
      appWith(
        { secret: SECRET },
        {
          "/flash": (ctx) => {
            ctx.session.flash("<b>Saved</b>");
            ctx.redirect("/show");
          },
          "/show": (ctx) => {
            ctx.body = env.renderString(
              "{% for c, m in get_flashed_messages(with_categories=true) %}[{{ c }}:{{ m }}]{% endfor %}|{{ csrf_token() | length > 20 }}",
              ctx.state,
            );
          },
        },
      ),
    );
    const client = fetchBrowser(url);
    await client.request("/flash");
    expect((await client.request("/show")).text).toBe("[message:&lt;b&gt;Saved&lt;/b&gt;]|true");
    expect((await client.request("/show")).text).toBe("|true");
  });

  it("accepts a ready-made core and exposes it on the middleware", () => {
    const core = createSessions({ secret: SECRET });
    expect(sessions(core).sessions).toBe(core);
    expect(sessions({ secret: SECRET }).sessions.load).toBeTypeOf("function");
  });

  it("a cookie too large goes to Koa's error handling (500) without a truncated cookie or the redirect", async () => {
    const url = await listen(
      appWith(
        { secret: SECRET, store: cookieStore() },
        {
          "/big": (ctx) => {
            ctx.session.set("blob", "x".repeat(20000));
            ctx.redirect("/");
          },
        },
      ),
    );
    const response = await fetchBrowser(url).request("/big");
    expect(response.status).toBe(500);
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(response.headers.get("location")).toBeNull();
  });

  it("reports a response written past Koa (ctx.respond = false) whose cookie came too late", async () => {
    const errors: unknown[] = [];
    const app = appWith(
      { secret: SECRET },
      {
        "/raw": (ctx) => {
          ctx.session.set("name", "raw");
          ctx.respond = false;
          ctx.res.end("raw");
        },
      },
    );
    app.on("error", (error) => errors.push(error));
    const response = await fetchBrowser(await listen(app)).request("/raw");
    expect(response.text).toBe("raw");
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(String(errors[0])).toMatch(/sent before the session was committed/);
  });
});

describe("flagon/koa store failures", () => {
  it("a failing read answers 503 with Retry-After through Koa's error handling; the handler never runs", async () => {
    const { store, fail } = flakyStore();
    let ran = 0;
    const url = await listen(
      appWith(
        { secret: SECRET, store },
        {
          ...basicRoutes,
          "/get": (ctx) => {
            ran += 1;
            ctx.body = String(ctx.session.get("name") ?? "none");
          },
        },
      ),
    );
    const client = fetchBrowser(url);
    await client.request("/set");
    fail.get = true;
    const rejections = await unhandledRejectionsDuring(async () => {
      const down = await client.request("/get");
      expect(down.status).toBe(503);
      expect(down.text).toBe("Service Unavailable");
      expect(down.headers.get("retry-after")).toBe("5");
      expect(down.headers.get("cache-control")).toBe("no-store");
      expect(down.text).not.toContain(client.jar.get("sid") ?? "unreachable");
    });
    expect(rejections).toEqual([]);
    expect(ran).toBe(0);
    expect((await client.request("/health")).text).toBe("up");
    fail.get = false;
    expect((await client.request("/get")).text).toBe("Leo");
  });

  it("a failing write answers 503 before anything is sent: no redirect, no cookie", async () => {
    const { store, fail } = flakyStore();
    const url = await listen(appWith({ secret: SECRET, store, retryAfter: 30 }, basicRoutes));
    fail.apply = true;
    const response = await fetchBrowser(url).request("/set");
    expect(response.status).toBe(503);
    expect(response.headers.get("location")).toBeNull();
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(response.headers.get("retry-after")).toBe("30");
    fail.apply = false;
    expect((await fetchBrowser(url).request("/set")).status).toBe(302);
  });

  it("an upstream middleware catches the SessionStoreError (status 503) to render its own page", async () => {
    const { store, fail } = flakyStore();
    const catcher: Koa.Middleware = async (ctx, next) => {
      try {
        await next();
      } catch (error) {
        if (!(error instanceof SessionStoreError)) throw error;
        ctx.status = (error as { status?: number }).status ?? 500;
        ctx.set("Retry-After", "60");
        ctx.body = "Back soon.";
      }
    };
    const url = await listen(appWith({ secret: SECRET, store }, basicRoutes, [catcher]));
    fail.apply = true;
    const response = await fetchBrowser(url).request("/set");
    expect(response.status).toBe(503);
    expect(response.text).toBe("Back soon.");
    expect(response.headers.get("location")).toBeNull();
    expect(response.headers.get("retry-after")).toBe("60");
  });

  it("a downstream error whose commit then fails answers 503 and reports the first error", async () => {
    const { store, fail } = flakyStore();
    const errors: unknown[] = [];
    const app = appWith(
      { secret: SECRET, store },
      {
        "/boom": (ctx) => {
          ctx.session.set("name", "x");
          throw new Error("first");
        },
      },
    );
    app.on("error", (error) => errors.push(error));
    fail.apply = true;
    const response = await fetchBrowser(await listen(app)).request("/boom");
    expect(response.status).toBe(503);
    expect(errors.map((error) => (error as Error).message)).toEqual(["first", "session store write failed"]);
  });
});

describe("flagon/koa csrfProtection", () => {
  it("checks unsafe requests after the body parser: token by field or header, 403 page otherwise", async () => {
    const app = new Koa();
    app.use(bodyParser());
    app.use(sessions({ secret: SECRET }));
    app.use(async (ctx, next) => {
      if (ctx.path !== "/form") return next();
      ctx.body = ctx.session.csrfToken();
    });
    app.use(csrfProtection());
    app.use((ctx) => {
      ctx.body = `ok:${String((ctx.request as { body?: { note?: string } }).body?.note)}`;
    });
    const url = await listen(app);
    const client = fetchBrowser(url);
    const token = (await client.request("/form")).text;
    const form = { "content-type": "application/x-www-form-urlencoded" };
    const ok = await client.request("/submit", {
      method: "POST",
      headers: { ...form, origin: url },
      body: new URLSearchParams({ csrf_token: token, note: "hi" }).toString(),
    });
    expect(ok.status).toBe(200);
    expect(ok.text).toBe("ok:hi");
    const byHeader = await client.request("/submit", { method: "POST", headers: { "x-csrf-token": token } });
    expect(byHeader.status).toBe(200);
    const refused = await client.request("/submit", {
      method: "POST",
      headers: { ...form, origin: "https://evil.example" },
      body: new URLSearchParams({ csrf_token: token }).toString(),
    });
    expect(refused.status).toBe(403);
    expect(refused.headers.get("content-type")).toMatch(/^text\/html/);
    expect(refused.text).toContain("CSRF check failed: origin-mismatch");
  });
});
