import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import { type AddressInfo, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import express from "express";
import nunjucks from "nunjucks";
import { afterEach, describe, expect, it } from "vitest";
import { sessionErrorHandler, sessions } from "../../src/adapters/express/index.js";
import { createSessions, memoryStore, type ServerStore, SessionStoreError } from "../../src/index.js";

const SECRET = "express-adapter-test-secret-0123456789abcdef";

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

async function listen(app: express.Express): Promise<string> {
  const server = app.listen(0, "127.0.0.1");
  servers.push(server);
  await once(server, "listening");
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A browser-like client: keeps the cookies it is given (name → value), never follows redirects. */
function client(base: string) {
  const jar = new Map<string, string>();
  return {
    jar,
    async get(path: string, init: RequestInit = {}) {
      const headers = new Headers(init.headers);
      if (jar.size > 0) headers.set("cookie", [...jar].map(([name, value]) => `${name}=${value}`).join("; "));
      const response = await fetch(base + path, { ...init, headers, redirect: "manual" });
      for (const line of response.headers.getSetCookie()) {
        const [pair = ""] = line.split(";");
        const eq = pair.indexOf("=");
        const name = pair.slice(0, eq);
        const value = pair.slice(eq + 1);
        if (value === "" || /max-age=0/i.test(line)) jar.delete(name);
        else jar.set(name, value);
      }
      return { response, text: await response.text() };
    },
  };
}

/** A memory store whose writes take a few milliseconds, like a store over the network. */
function slowStore(): ServerStore & { writes: number } {
  const inner = memoryStore();
  const store = {
    kind: "server" as const,
    writes: 0,
    get: (key: string) => inner.get(key),
    async apply(key: string, changes: Parameters<ServerStore["apply"]>[1]) {
      await new Promise((resolve) => setTimeout(resolve, 1 + Math.random() * 3));
      await inner.apply(key, changes);
      store.writes += 1;
    },
    destroy: (key: string) => inner.destroy(key),
  };
  return store;
}

/** A store that fails on demand. */
function flakyStore() {
  const inner = memoryStore();
  const fail = { get: false, apply: false };
  const store: ServerStore = {
    kind: "server",
    async get(key) {
      if (fail.get) throw new SessionStoreError("session store read failed");
      return inner.get(key);
    },
    async apply(key, changes) {
      if (fail.apply) throw new SessionStoreError("session store write failed");
      return inner.apply(key, changes);
    },
    destroy: (key) => inner.destroy(key),
  };
  return { store, fail };
}

function basicApp(options: Parameters<typeof sessions>[0]): express.Express {
  const app = express();
  app.get("/health", (_req, res) => {
    res.send("up");
  });
  app.use(sessions(options));
  app.get("/set", (req, res) => {
    req.session.set("name", String(req.query.name ?? "Leo"));
    res.redirect("/get");
  });
  app.get("/get", (req, res) => {
    res.send(String(req.session.get("name") ?? "none"));
  });
  app.get("/untouched", (_req, res) => {
    res.send("static");
  });
  app.get("/login", (req, res) => {
    req.session.regenerate();
    req.session.set("user", "leo");
    res.send("in");
  });
  app.get("/logout", (req, res) => {
    req.session.destroy();
    res.redirect("/");
  });
  return app;
}

describe("flagon/express sessions()", () => {
  it("commits before sending: set + redirect + immediate next request, 200 times, never loses the write", async () => {
    const store = slowStore();
    const url = await listen(basicApp({ secret: SECRET, store }));
    const started = performance.now();
    for (let i = 0; i < 200; i += 1) {
      const browser = client(url);
      const set = await browser.get(`/set?name=n${i}`);
      expect(set.response.status).toBe(302);
      // The very next request, sent the moment the redirect arrives, sees the write.
      const get = await browser.get("/get");
      expect(get.text).toBe(`n${i}`);
    }
    expect(store.writes).toBe(200);
    const perRoundTrip = (performance.now() - started) / 200;
    expect(perRoundTrip).toBeLessThan(100);
  });

  it("holds responses of a mounted sub-app and a Router like the app's own (redirect never races the write)", async () => {
    const store = slowStore();
    const app = express();
    app.use(sessions({ secret: SECRET, store }));
    const sub = express();
    sub.get("/set", (req, res) => {
      req.session.set("name", String(req.query.name));
      res.redirect("/sub/get");
    });
    sub.get("/get", (req, res) => {
      res.send(String(req.session.get("name") ?? "none"));
    });
    const router = express.Router();
    router.get("/set", (req, res) => {
      req.session.set("name", String(req.query.name));
      res.redirect("/router/get");
    });
    router.get("/get", (req, res) => {
      res.send(String(req.session.get("name") ?? "none"));
    });
    app.use("/sub", sub);
    app.use("/router", router);
    const url = await listen(app);
    for (let i = 0; i < 40; i += 1) {
      const browser = client(url);
      const mount = i % 2 === 0 ? "/sub" : "/router";
      expect((await browser.get(`${mount}/set?name=n${i}`)).response.status).toBe(302);
      expect((await browser.get(`${mount}/get`)).text).toBe(`n${i}`);
    }
    expect(store.writes).toBe(40);
  });

  it("middleware that patched res.end before sessions() and after it both keep working, and the write is held", async () => {
    const store = slowStore();
    const seen: string[] = [];
    const app = express();
    app.use((_req, res, next) => {
      const end = res.end;
      res.end = function (this: typeof res, ...args: unknown[]) {
        seen.push("before");
        return (end as (...a: unknown[]) => typeof res).apply(this, args);
      } as typeof res.end;
      next();
    });
    app.use(sessions({ secret: SECRET, store }));
    app.use((_req, res, next) => {
      const end = res.end;
      res.end = function (this: typeof res, ...args: unknown[]) {
        seen.push("after");
        return (end as (...a: unknown[]) => typeof res).apply(this, args);
      } as typeof res.end;
      next();
    });
    app.get("/set", (req, res) => {
      req.session.set("name", "Ada");
      res.redirect("/get");
    });
    app.get("/get", (req, res) => {
      res.send(String(req.session.get("name") ?? "none"));
    });
    const url = await listen(app);
    for (let i = 0; i < 20; i += 1) {
      const browser = client(url);
      await browser.get("/set");
      expect((await browser.get("/get")).text).toBe("Ada");
    }
    expect(store.writes).toBe(20);
    expect(seen.slice(0, 2)).toEqual(["after", "before"]);
  });

  it("while a store write holds the response it behaves as sent: headersSent, setHeader throws; then all is normal", async () => {
    const store = slowStore();
    const app = express();
    app.use(sessions({ secret: SECRET, store }));
    const seen: Record<string, unknown> = {};
    app.get("/", (req, res) => {
      req.session.set("name", "Ada");
      seen.before = res.headersSent;
      res.send("first");
      seen.held = res.headersSent;
      try {
        res.setHeader("x-late", "1");
      } catch (error) {
        seen.late = (error as { code?: string }).code;
      }
    });
    app.get("/other", (_req, res) => {
      // A response that is not held: the prototype's guards let everything through.
      res.setHeader("x-free", "1");
      res.send(String(res.headersSent));
    });
    const url = await listen(app);
    const response = await fetch(`${url}/`);
    expect(await response.text()).toBe("first");
    expect(response.headers.get("x-late")).toBeNull();
    expect(response.headers.getSetCookie()).toHaveLength(1);
    expect(seen).toEqual({ before: false, held: true, late: "ERR_HTTP_HEADERS_SENT" });
    const other = await fetch(`${url}/other`);
    expect(other.headers.get("x-free")).toBe("1");
    expect(await other.text()).toBe("false");
  });

  it("req.session belongs to its request: two apps with their own cores, other middleware may assign it", async () => {
    const first = express();
    first.use(sessions({ secret: SECRET, store: memoryStore() }));
    first.get("/", (req, res) => {
      req.session.set("name", "first");
      res.send(String(req.session.get("name")));
    });
    const second = express();
    second.get("/plain", (req, res) => {
      // No sessions() on this app: nothing leaks in from the other app's requests.
      res.send(String((req as { session?: unknown }).session));
    });
    second.use((req, _res, next) => {
      (req as { session: unknown }).session = { assigned: true };
      next();
    });
    second.get("/assigned", (req, res) => {
      res.json(req.session);
    });
    const [a, b] = [await listen(first), await listen(second)];
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        i % 3 === 0
          ? fetch(`${a}/`).then((r) => r.text())
          : fetch(`${b}/${i % 3 === 1 ? "plain" : "assigned"}`).then((r) => r.text()),
      ),
    );
    results.forEach((text, i) => {
      expect(text).toBe(i % 3 === 0 ? "first" : i % 3 === 1 ? "undefined" : '{"assigned":true}');
    });
  });

  it("adds Vary: Cookie and Cache-Control to session responses, nothing to routes that ignore the session", async () => {
    const url = await listen(basicApp({ secret: SECRET }));
    const browser = client(url);
    const set = await browser.get("/set");
    // res.redirect adds `Vary: Accept` itself; the session's field is merged in, not replacing it.
    expect(set.response.headers.get("vary")).toBe("Accept, Cookie");
    expect(set.response.headers.get("cache-control")).toBe("private, no-store");
    const setCookie = set.response.headers.getSetCookie();
    expect(setCookie).toHaveLength(1);
    expect(setCookie[0]).toMatch(/^sid=[^;]+; Path=\/; HttpOnly; SameSite=Lax$/);
    const untouched = await browser.get("/untouched");
    expect(untouched.response.headers.get("vary")).toBeNull();
    expect(untouched.response.headers.getSetCookie()).toEqual([]);
  });

  it("uses req.secure (trust proxy): __Host- prefix and Secure behind an HTTPS proxy", async () => {
    const app = basicApp({ secret: SECRET });
    app.set("trust proxy", "loopback");
    const url = await listen(app);
    const { response } = await client(url).get("/set", { headers: { "x-forwarded-proto": "https" } });
    expect(response.headers.getSetCookie()[0]).toMatch(
      /^__Host-sid=[^;]+; Path=\/; HttpOnly; Secure; SameSite=Lax$/,
    );
    // Without trust proxy the header is ignored: no Secure cookie on plain http.
    const plain = await listen(basicApp({ secret: SECRET }));
    const untrusted = await client(plain).get("/set", { headers: { "x-forwarded-proto": "https" } });
    expect(untrusted.response.headers.getSetCookie()[0]).toMatch(/^sid=/);
  });

  it("regenerate() on login invalidates the old id; destroy() clears the cookie once", async () => {
    const url = await listen(basicApp({ secret: SECRET }));
    const browser = client(url);
    await browser.get("/set");
    const before = browser.jar.get("sid");
    await browser.get("/login");
    const after = browser.jar.get("sid");
    expect(after).toBeDefined();
    expect(after).not.toBe(before);
    const replay = await fetch(`${url}/get`, { headers: { cookie: `sid=${before}` } });
    expect(await replay.text()).toBe("none");
    expect(await browser.get("/get").then((r) => r.text)).toBe("Leo");
    const logout = await browser.get("/logout");
    const cleared = logout.response.headers.getSetCookie();
    expect(cleared).toHaveLength(1);
    expect(cleared[0]).toMatch(/^sid=; /);
    expect(cleared[0]).toContain("; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT");
    expect(cleared[0]).toContain("; Path=/");
    const afterLogout = await fetch(`${url}/get`, { headers: { cookie: `sid=${after}` } });
    expect(await afterLogout.text()).toBe("none");
  });

  it("finds the session when the Cookie header arrives as several fields", async () => {
    const url = await listen(basicApp({ secret: SECRET }));
    const browser = client(url);
    await browser.get("/set?name=split");
    const sid = browser.jar.get("sid");
    const { port } = new URL(url);
    const socket = connect(Number(port), "127.0.0.1");
    socket.write(
      `GET /get HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: theme=dark\r\nCookie: sid=${sid}\r\nConnection: close\r\n\r\n`,
    );
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    await once(socket, "end");
    expect(Buffer.concat(chunks).toString()).toMatch(/\r\n\r\nsplit$/);
  });

  it("finds the session in a Cookie header of 12 KiB (analytics cookies beside it), through a real server", async () => {
    const url = await listen(basicApp({ secret: SECRET }));
    const browser = client(url);
    await browser.get("/set?name=big");
    const sid = browser.jar.get("sid");
    const analytics = ["_ga", "_fbp", "_hjid", "_gcl"]
      .map((name) => `${name}=${"x".repeat(3000)}`)
      .join("; ");
    const over = await fetch(`${url}/get`, { headers: { cookie: `${analytics}; sid=${sid}` } });
    expect(over.status).toBe(200);
    expect(await over.text()).toBe("big");
  });

  it("answers HEAD with the session's headers and no body", async () => {
    const url = await listen(basicApp({ secret: SECRET }));
    const response = await fetch(`${url}/set`, { method: "HEAD", redirect: "manual" });
    expect(response.status).toBe(302);
    expect(response.headers.getSetCookie()).toHaveLength(1);
    expect(await response.text()).toBe("");
  });

  it("streams res.sendFile bodies intact after committing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "flagon-express-"));
    try {
      const file = join(dir, "big.txt");
      const content = "0123456789".repeat(200_000);
      writeFileSync(file, content);
      const app = express();
      app.use(sessions({ secret: SECRET }));
      app.get("/file", (req, res) => {
        req.session.set("downloaded", true);
        res.sendFile(file);
      });
      const url = await listen(app);
      const response = await fetch(`${url}/file`);
      expect(response.headers.getSetCookie()).toHaveLength(1);
      expect(await response.text()).toBe(content);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("gives templates get_flashed_messages with Flask's arguments, Nunjucks keywords included", async () => {
    const env = new nunjucks.Environment(null, { autoescape: true });
    const app = express();
    app.use(sessions({ secret: SECRET }));
    app.get("/flash", (req, res) => {
      req.session.flash("Saved.");
      req.session.flash("<b>Oops</b>", "error");
      res.redirect("/show");
    });
    app.get("/show", (_req, res) => {
      const template =
        "{% for c, m in get_flashed_messages(with_categories=true) %}[{{ c }}:{{ m }}]{% endfor %}" +
        "|{{ get_flashed_messages(category_filter=['error']) | join(',') }}";
      res.send(env.renderString(template, res.locals));
    });
    const url = await listen(app);
    const browser = client(url);
    await browser.get("/flash");
    const first = await browser.get("/show");
    expect(first.text).toBe("[message:Saved.][error:&lt;b&gt;Oops&lt;/b&gt;]|&lt;b&gt;Oops&lt;/b&gt;");
    const second = await browser.get("/show");
    expect(second.text).toBe("|");
  });

  it("accepts a ready-made Sessions core and exposes it for close()", () => {
    const core = createSessions({ secret: SECRET });
    const middleware = sessions(core);
    expect(middleware.sessions).toBe(core);
  });

  describe("store failures", () => {
    it("a failing read answers 503 through Express's default error handling; other routes keep serving", async () => {
      const { store, fail } = flakyStore();
      const url = await listen(basicApp({ secret: SECRET, store }));
      const browser = client(url);
      await browser.get("/set");
      fail.get = true;
      const down = await browser.get("/get");
      expect(down.response.status).toBe(503);
      expect(down.text).not.toContain(browser.jar.get("sid") ?? "unreachable");
      expect((await browser.get("/health")).text).toBe("up");
      // A visitor without a session cookie needs no store read.
      expect((await fetch(`${url}/untouched`)).status).toBe(200);
      fail.get = false;
      expect((await browser.get("/get")).text).toBe("Leo");
    });

    it("a failing write answers 503 before anything is sent: no redirect, no cookie", async () => {
      const { store, fail } = flakyStore();
      const app = basicApp({ secret: SECRET, store });
      app.use(
        sessionErrorHandler({ render: (_error, _req, res) => void res.send("Please try again shortly.") }),
      );
      const url = await listen(app);
      fail.apply = true;
      const { response, text } = await client(url).get("/set");
      expect(response.status).toBe(503);
      expect(response.headers.get("location")).toBeNull();
      expect(response.headers.getSetCookie()).toEqual([]);
      expect(response.headers.get("retry-after")).toBe("5");
      expect(text).toBe("Please try again shortly.");
      fail.apply = false;
      expect((await client(url).get("/set")).response.status).toBe(302);
    });

    it("sessionErrorHandler passes other errors on, so an app can override", async () => {
      const app = express();
      app.use(sessions({ secret: SECRET }));
      app.get("/boom", () => {
        throw new Error("not a store error");
      });
      app.use(sessionErrorHandler());
      app.use((_error: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
        res.status(500).send("app handler");
      });
      const url = await listen(app);
      const response = await fetch(`${url}/boom`);
      expect(response.status).toBe(500);
      expect(await response.text()).toBe("app handler");
    });
  });
});
