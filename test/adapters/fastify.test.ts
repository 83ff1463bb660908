import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import formbody from "@fastify/formbody";
import view from "@fastify/view";
import Fastify, { type FastifyInstance } from "fastify";
import nunjucks from "nunjucks";
import { afterEach, describe, expect, it } from "vitest";
import {
  csrfProtection,
  type FastifySessionsOptions,
  sessionErrorHandler,
  sessions,
} from "../../src/adapters/fastify/index.js";
import { createSessions, memoryStore, SessionStoreError } from "../../src/index.js";
import {
  type BrowserResponse,
  browser,
  fetchBrowser,
  flakyStore,
  SECRET,
  slowStore,
  unhandledRejectionsDuring,
} from "./helpers.js";

const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

function headersOf(raw: Record<string, string | string[] | number | undefined>): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) headers.append(name, String(item));
  }
  return headers;
}

/** A browser over fastify.inject(). */
function injectBrowser(app: FastifyInstance) {
  return browser(async (path, init): Promise<BrowserResponse> => {
    const response = await app.inject({
      method: init.method as "GET",
      url: path,
      headers: Object.fromEntries(init.headers),
      body: init.body,
    });
    return { status: response.statusCode, headers: headersOf(response.headers), text: response.body };
  });
}

async function listen(app: FastifyInstance): Promise<string> {
  return app.listen({ port: 0, host: "127.0.0.1" });
}

/**
 * The usual routes (set + redirect, get, a route that ignores the session, logout) in a plugin
 * scope that registers sessions, and `/health` outside it. `configure` runs in that scope before the
 * routes (Fastify gives a route the error handler set before it) and may add routes of its own.
 */
async function basicApp(
  options: FastifySessionsOptions,
  configure?: (scope: FastifyInstance) => void,
): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  apps.push(app);
  app.get("/health", async () => "up");
  await app.register(async (scope) => {
    await scope.register(sessions, options);
    configure?.(scope);
    scope.get<{ Querystring: { name?: string } }>("/set", async (request, reply) => {
      request.session.set("name", request.query.name ?? "Leo");
      return reply.redirect("/get");
    });
    scope.get("/get", async (request) => String(request.session.get("name") ?? "none"));
    scope.get("/untouched", async () => "static");
    scope.get("/logout", async (request, reply) => {
      request.session.destroy();
      return reply.redirect("/");
    });
  });
  return app;
}

describe("flagon/fastify sessions plugin", () => {
  it("commits before sending (inject and a real server): set + redirect + the next request sees the write", async () => {
    const store = slowStore();
    const app = await basicApp({ secret: SECRET, store });
    const url = await listen(app);
    for (let i = 0; i < 60; i += 1) {
      const client = i % 2 === 0 ? injectBrowser(app) : fetchBrowser(url);
      const set = await client.request(`/set?name=n${i}`);
      expect(set.status).toBe(302);
      expect((await client.request("/get")).text).toBe(`n${i}`);
    }
    expect(store.writes).toBe(60);
  });

  it("commits for async handlers and callback-style handlers (reply.send) alike", async () => {
    const store = slowStore();
    const app = Fastify();
    apps.push(app);
    await app.register(sessions, { secret: SECRET, store });
    app.get("/async", async (request) => {
      request.session.set("name", "async");
      return { ok: true };
    });
    app.get("/callback", (request, reply) => {
      request.session.set("name", "callback");
      setTimeout(() => reply.redirect("/get"), 1);
    });
    app.get("/get", async (request) => String(request.session.get("name") ?? "none"));
    for (const path of ["/async", "/callback"]) {
      const client = injectBrowser(app);
      const response = await client.request(path);
      expect(response.headers.getSetCookie()).toHaveLength(1);
      expect((await client.request("/get")).text).toBe(path.slice(1));
    }
    expect(store.writes).toBe(2);
  });

  it("reply.send(stream): the store write finishes before the head, the body arrives intact", async () => {
    const store = slowStore();
    const app = Fastify();
    apps.push(app);
    await app.register(sessions, { secret: SECRET, store });
    const content = "0123456789".repeat(100_000);
    app.get("/stream", (request, reply) => {
      request.session.set("downloaded", true);
      reply.type("text/plain").send(Readable.from([content.slice(0, 500_000), content.slice(500_000)]));
    });
    app.get("/get", async (request) => String(request.session.get("downloaded") ?? "none"));
    const url = await listen(app);
    const client = fetchBrowser(url);
    const response = await client.request("/stream");
    expect(response.headers.getSetCookie()).toHaveLength(1);
    expect(response.headers.get("vary")).toBe("Cookie");
    expect(response.text).toBe(content);
    expect((await client.request("/get")).text).toBe("true");
  });

  it("reply.hijack(): the session is committed on reply.raw before the handler's head goes out", async () => {
    const store = slowStore();
    const app = Fastify();
    apps.push(app);
    await app.register(sessions, { secret: SECRET, store });
    app.get("/hijack", (request, reply) => {
      request.session.set("name", "hijacked");
      reply.hijack();
      reply.raw.writeHead(302, { Location: "/get", Vary: "Accept" });
      reply.raw.end();
    });
    app.get("/get", async (request) => String(request.session.get("name") ?? "none"));
    app.get("/hijack-read", (request, reply) => {
      const name = String(request.session.get("name") ?? "none");
      reply.hijack();
      reply.raw.end(name);
    });
    const url = await listen(app);
    for (let i = 0; i < 20; i += 1) {
      const client = fetchBrowser(url);
      const response = await client.request("/hijack");
      expect(response.status).toBe(302);
      expect(response.headers.get("vary")).toBe("Accept, Cookie");
      expect(response.headers.getSetCookie()).toHaveLength(1);
      expect((await client.request("/get")).text).toBe("hijacked");
      const read = await client.request("/hijack-read");
      expect(read.text).toBe("hijacked");
      expect(read.headers.get("vary")).toBe("Cookie");
    }
    expect(store.writes).toBe(20);
  });

  it("a hijacked reply whose store write fails answers 503 itself, never an unhandled rejection", async () => {
    const { store, fail } = flakyStore();
    const app = Fastify({ logger: false });
    apps.push(app);
    await app.register(sessions, { secret: SECRET, store });
    app.get("/hijack", (request, reply) => {
      request.session.set("name", "lost");
      reply.hijack();
      reply.raw.writeHead(302, { Location: "/get" });
      reply.raw.end();
    });
    const url = await listen(app);
    fail.apply = true;
    const rejections = await unhandledRejectionsDuring(async () => {
      const response = await fetchBrowser(url).request("/hijack");
      expect(response.status).toBe(503);
      expect(response.headers.get("location")).toBeNull();
      expect(response.headers.get("retry-after")).toBe("5");
      expect(response.headers.getSetCookie()).toEqual([]);
      expect(response.text).toBe("Service Unavailable");
    });
    expect(rejections).toEqual([]);
  });

  it("encapsulation: registered in one plugin scope, only that scope's routes have sessions", async () => {
    const app = Fastify();
    apps.push(app);
    const seen: unknown[] = [];
    app.get("/outside", async (request) => {
      seen.push((request as { session?: unknown }).session);
      return "outside";
    });
    await app.register(async (scope) => {
      await scope.register(sessions, { secret: SECRET });
      scope.get("/inside/set", async (request) => {
        request.session.set("name", "scoped");
        return "set";
      });
      scope.get("/inside/get", async (request) => String(request.session.get("name") ?? "none"));
      await scope.register(async (child) => {
        child.get("/inside/child", async (request) => `child:${String(request.session.get("name"))}`);
      });
    });
    await app.register(async (sibling) => {
      sibling.get("/sibling", async (request) =>
        String((request as { session?: unknown }).session ?? "none"),
      );
    });
    const client = injectBrowser(app);
    expect((await client.request("/inside/set")).headers.getSetCookie()).toHaveLength(1);
    expect((await client.request("/inside/get")).text).toBe("scoped");
    expect((await client.request("/inside/child")).text).toBe("child:scoped");
    const outside = await client.request("/outside");
    expect(outside.headers.get("vary")).toBeNull();
    expect(outside.headers.getSetCookie()).toEqual([]);
    expect((await client.request("/sibling")).text).toBe("none");
    expect(seen).toEqual([undefined]);
    // The core is a decorator of that scope only.
    expect(app.hasDecorator("sessions")).toBe(false);
  });

  it("registering the plugin twice in one scope fails at registration, not per request", async () => {
    const app = Fastify();
    apps.push(app);
    app.register(sessions, { secret: SECRET });
    app.register(sessions, { secret: SECRET });
    await expect(app.ready()).rejects.toMatchObject({ code: "FST_ERR_DEC_ALREADY_PRESENT" });
  });

  it("a misconfiguration (a short secret) fails registration: ready() rejects with the ConfigError", async () => {
    const app = Fastify();
    apps.push(app);
    app.register(sessions, { secret: "short" });
    await expect(app.ready()).rejects.toMatchObject({ code: "ERR_SECRET_TOO_SHORT" });
  });

  it("merges Vary with the handler's own, sets Cache-Control with the cookie, adds nothing to untouched routes", async () => {
    const app = await basicApp({ secret: SECRET }, (scope) => {
      scope.get("/vary", async (request, reply) => {
        request.session.set("name", "v");
        reply.header("vary", "Accept-Encoding");
        return "v";
      });
    });
    const client = injectBrowser(app);
    const response = await client.request("/vary");
    expect(response.headers.get("vary")).toBe("Accept-Encoding, Cookie");
    expect(response.headers.get("cache-control")).toBe("private, no-store");
    expect(response.headers.getSetCookie()[0]).toMatch(/^sid=[^;]+; Path=\/; HttpOnly; SameSite=Lax$/);
    const untouched = await client.request("/untouched");
    expect(untouched.headers.get("vary")).toBeNull();
    expect(untouched.headers.getSetCookie()).toEqual([]);
  });

  it("keeps the handler's own Set-Cookie beside the session's", async () => {
    const app = await basicApp({ secret: SECRET }, (scope) => {
      scope.get("/both", async (request, reply) => {
        request.session.set("name", "both");
        reply.header("set-cookie", "theme=dark; Path=/");
        return "both";
      });
    });
    const response = await injectBrowser(app).request("/both");
    const lines = response.headers.getSetCookie();
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe("theme=dark; Path=/");
    expect(lines[1]).toMatch(/^sid=/);
  });

  it("uses request.protocol: __Host- and Secure behind a trusted proxy only", async () => {
    const trusted = Fastify({ trustProxy: true });
    const untrusted = Fastify();
    apps.push(trusted, untrusted);
    for (const app of [trusted, untrusted]) {
      await app.register(sessions, { secret: SECRET });
      app.get("/set", async (request) => {
        request.session.set("name", "x");
        return "ok";
      });
    }
    const headers = { "x-forwarded-proto": "https" };
    const viaProxy = await injectBrowser(trusted).request("/set", { headers });
    expect(viaProxy.headers.getSetCookie()[0]).toMatch(
      /^__Host-sid=[^;]+; Path=\/; HttpOnly; Secure; SameSite=Lax$/,
    );
    const direct = await injectBrowser(untrusted).request("/set", { headers });
    expect(direct.headers.getSetCookie()[0]).toMatch(/^sid=/);
  });

  it("regenerate() invalidates the old id; destroy() clears the cookie once", async () => {
    const app = await basicApp({ secret: SECRET }, (scope) => {
      scope.get("/login", async (request) => {
        request.session.regenerate();
        request.session.set("name", "leo");
        return "in";
      });
    });
    const client = injectBrowser(app);
    await client.request("/set");
    const before = client.jar.get("sid");
    await client.request("/login");
    expect(client.jar.get("sid")).not.toBe(before);
    const replay = await app.inject({ url: "/get", headers: { cookie: `sid=${before}` } });
    expect(replay.body).toBe("none");
    const logout = await client.request("/logout");
    const cleared = logout.headers.getSetCookie();
    expect(cleared).toHaveLength(1);
    expect(cleared[0]).toMatch(/^sid=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=\//);
  });

  it("a handler that throws still commits: the error reply carries the flash", async () => {
    const app = Fastify({ logger: false });
    apps.push(app);
    await app.register(sessions, { secret: SECRET });
    app.get("/boom", async (request) => {
      request.session.flash("Something broke.", "error");
      throw new Error("boom");
    });
    app.get("/messages", async (request) => request.session.getFlashedMessages());
    const client = injectBrowser(app);
    const boom = await client.request("/boom");
    expect(boom.status).toBe(500);
    expect(boom.headers.getSetCookie()).toHaveLength(1);
    expect(JSON.parse((await client.request("/messages")).text)).toEqual(["Something broke."]);
  });

  it("a cookie too large goes to Fastify's error handling (500) without a truncated cookie", async () => {
    const app = Fastify({ logger: false });
    apps.push(app);
    await app.register(sessions, {
      secret: SECRET,
      store: (await import("../../src/index.js")).cookieStore(),
    });
    app.get("/big", async (request, reply) => {
      request.session.set("blob", "x".repeat(20000));
      return reply.redirect("/");
    });
    const response = await injectBrowser(app).request("/big");
    expect(response.status).toBe(500);
    expect(JSON.parse(response.text)).toMatchObject({ code: "ERR_COOKIE_TOO_LARGE" });
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(response.headers.get("location")).toBeNull();
  });

  it("fastify.sessions is the core; a core passed in is used as is, one it made is closed with the app", async () => {
    const core = createSessions({ secret: SECRET });
    const shared = Fastify();
    apps.push(shared);
    await shared.register(sessions, core);
    expect(shared.sessions).toBe(core);

    let closed = 0;
    const inner = memoryStore();
    const app = Fastify();
    await app.register(sessions, {
      secret: SECRET,
      store: {
        ...inner,
        kind: "server",
        close: async () => {
          closed += 1;
        },
      },
    });
    await app.ready();
    await app.close();
    expect(closed).toBe(1);

    const withOptions = Fastify({ trustProxy: true });
    apps.push(withOptions);
    await withOptions.register(sessions, { sessions: core, isSecure: () => true });
    withOptions.get("/", async (request) => {
      request.session.set("name", "x");
      return "ok";
    });
    const response = await withOptions.inject("/");
    expect(String(response.headers["set-cookie"])).toMatch(/^__Host-sid=/);
  });

  it("gives @fastify/view templates Flask's globals, whichever plugin is registered first", async () => {
    const dir = mkdtempSync(join(tmpdir(), "flagon-fastify-view-"));
    try {
      writeFileSync(
        join(dir, "page.njk"),
        "{% for c, m in get_flashed_messages(with_categories=true) %}[{{ c }}:{{ m }}]{% endfor %}" +
          "|{{ csrf_token() | length > 20 }}|{{ session.get('name') }}",
      );
      for (const viewFirst of [true, false]) {
        const app = Fastify();
        apps.push(app);
        const registerView = () => app.register(view, { engine: { nunjucks }, root: dir });
        if (viewFirst) await registerView();
        await app.register(sessions, { secret: SECRET });
        if (!viewFirst) await registerView();
        app.get("/flash", async (request, reply) => {
          request.session.set("name", "Leo");
          request.session.flash("<b>Saved</b>");
          return reply.redirect("/page");
        });
        app.get("/page", (_request, reply) => reply.view("page.njk"));
        const client = injectBrowser(app);
        await client.request("/flash");
        expect((await client.request("/page")).text).toBe("[message:&lt;b&gt;Saved&lt;/b&gt;]|true|Leo");
        expect((await client.request("/page")).text).toBe("|true|Leo");
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("flagon/fastify store failures", () => {
  it("a failing read answers 503 with Retry-After through Fastify's default error handler; the handler never runs", async () => {
    const { store, fail } = flakyStore();
    const app = await basicApp({ secret: SECRET, store });
    const client = injectBrowser(app);
    await client.request("/set");
    fail.get = true;
    const rejections = await unhandledRejectionsDuring(async () => {
      const down = await client.request("/get");
      expect(down.status).toBe(503);
      expect(down.headers.get("retry-after")).toBe("5");
      expect(down.headers.get("cache-control")).toBe("no-store");
      expect(JSON.parse(down.text)).toEqual({
        statusCode: 503,
        code: "ERR_STORE_UNAVAILABLE",
        error: "Service Unavailable",
        message: "session store read failed",
      });
      expect(down.text).not.toContain(client.jar.get("sid") ?? "unreachable");
    });
    expect(rejections).toEqual([]);
    expect((await client.request("/health")).text).toBe("up");
    fail.get = false;
    expect((await client.request("/get")).text).toBe("Leo");
  });

  it("a failing write answers 503 before anything is sent: no redirect, no cookie (real server)", async () => {
    const { store, fail } = flakyStore();
    const app = await basicApp({ secret: SECRET, store }, (app) =>
      app.setErrorHandler(
        sessionErrorHandler({ render: (_error, _request, reply) => reply.send("Please retry.") }),
      ),
    );
    const url = await listen(app);
    fail.apply = true;
    const response = await fetchBrowser(url).request("/set");
    expect(response.status).toBe(503);
    expect(response.headers.get("location")).toBeNull();
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(response.headers.get("retry-after")).toBe("5");
    expect(response.text).toBe("Please retry.");
    fail.apply = false;
    expect((await fetchBrowser(url).request("/set")).status).toBe(302);
  });

  it("the app's own error handler sees the SessionStoreError (status 503) and may override the page", async () => {
    const { store, fail } = flakyStore();
    const seen: unknown[] = [];
    const app = await basicApp({ secret: SECRET, store }, (app) =>
      app.setErrorHandler((error, _request, reply) => {
        seen.push(error);
        return reply
          .code((error as { statusCode?: number }).statusCode ?? 500)
          .type("text/html")
          .send("<p>Down</p>");
      }),
    );
    fail.apply = true;
    const response = await injectBrowser(app).request("/set");
    expect(response.status).toBe(503);
    expect(response.text).toBe("<p>Down</p>");
    expect(seen).toHaveLength(1);
    expect(seen[0]).toBeInstanceOf(SessionStoreError);
  });

  it("sessionErrorHandler passes other errors on to the parent handler", async () => {
    const app = Fastify({ logger: false });
    apps.push(app);
    await app.register(sessions, { secret: SECRET });
    await app.register(async (scope) => {
      scope.setErrorHandler(sessionErrorHandler());
      scope.get("/boom", async () => {
        throw Object.assign(new Error("not a store error"), { statusCode: 418 });
      });
    });
    const response = await app.inject("/boom");
    expect(response.statusCode).toBe(418);
    expect(response.json()).toMatchObject({ message: "not a store error" });
  });
});

describe("flagon/fastify csrfProtection", () => {
  it("protects the routes of the scope it is registered in, after the body parser", async () => {
    const app = Fastify();
    apps.push(app);
    await app.register(formbody);
    await app.register(sessions, { secret: SECRET });
    app.get("/form", async (request) => request.session.csrfToken());
    app.post("/open", async () => "open");
    await app.register(async (scope) => {
      await scope.register(csrfProtection);
      scope.post("/guarded", async (request) => `ok:${String((request.body as { note?: string }).note)}`);
    });
    const client = injectBrowser(app);
    const token = (await client.request("/form")).text;
    const form = "content-type";
    const ok = await client.request("/guarded", {
      method: "POST",
      headers: { [form]: "application/x-www-form-urlencoded", host: "localhost", origin: "http://localhost" },
      body: new URLSearchParams({ csrf_token: token, note: "hi" }).toString(),
    });
    expect(ok.status).toBe(200);
    expect(ok.text).toBe("ok:hi");
    const refused = await client.request("/guarded", {
      method: "POST",
      headers: { [form]: "application/x-www-form-urlencoded" },
      body: "note=hi",
    });
    expect(refused.status).toBe(403);
    expect(refused.headers.get("content-type")).toMatch(/^text\/html/);
    expect(refused.text).toContain("CSRF check failed: missing-token");
    expect((await client.request("/open", { method: "POST" })).status).toBe(200);
  });
});
