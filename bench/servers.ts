/**
 * One benchmark server per process: `BENCH_SERVER=<name> PORT=<port> node … bench/servers.ts`.
 * Every server has the same three routes and renders the same Nunjucks templates (the lesson's
 * base.html/index.html, copied to bench/templates): only the session library differs.
 *   GET /session_set  — write name + message            (scenarios "write", "write-many")
 *   GET /session_get  — read them                        (scenarios "read", "read-many")
 *   POST /login       — check the form, regenerate, flash (scenario "login")
 * `GET /session_set?visitor=<id>` also stores `visitor`: bench/run.ts builds its pool of many users
 * that way, so that every pool session differs (cookie-session's cookie is nothing but the signed data:
 * without it, its 1000 sessions would be one cookie), and write-many changes it on every request, so
 * that libraries which skip unchanged sessions write too. Without the query the route is unchanged.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import type { Request as ExpressRequest } from "express";
import type { Session as ExpressSession, Store as ExpressSessionStore } from "express-session";
import nunjucks from "nunjucks";

const name = process.env.BENCH_SERVER ?? "express-bare";
const port = Number(process.env.PORT ?? 0);
const SECRET = "bench-secret-0123456789abcdefghijklmnopqrstuvwxyz";
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
/** Both Postgres servers use this database, each with tables of its own (bench/run.ts empties them). */
const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
// This file also runs compiled, from bench/.build/.
const templates = fileURLToPath(
  new URL(import.meta.url.includes("/.build/") ? "../templates/" : "./templates/", import.meta.url),
);
const env = new nunjucks.Environment(new nunjucks.FileSystemLoader(templates), {
  autoescape: true,
  noCache: false,
});

function render(message: string | undefined, flashes: readonly string[]): string {
  return env.render("index.html", { message, get_flashed_messages: () => flashes });
}

function readMessage(nameValue: unknown, message: unknown): string {
  return nameValue && message ? `${String(nameValue)}. ${String(message)}.` : "Session not valid.";
}

/** The `visitor` query of a pool-building request; a string search, so the plain route pays nothing. */
function visitorOf(url: string): string | undefined {
  const at = url.indexOf("?visitor=");
  return at < 0 ? undefined : url.slice(at + "?visitor=".length);
}

/** A flagon session without the program's declared keys. */
type Loose = { set(key: string, value: unknown): unknown };

const validLogin = (body: Record<string, unknown> | undefined) =>
  body?.username === "leo" && body?.password === "1234";

/**
 * Not a library: a ruler. The least a sealed-cookie session can do on Express, written for this route
 * set and nothing else: find `session=` in the Cookie header, AES-256-GCM open it with one fixed key and
 * the cookie name as associated data, JSON.parse, keep the object in a WeakMap; on a change, JSON,
 * seal, one Set-Cookie header. No expiry, no key rotation, no flash bookkeeping, no Vary or
 * Cache-Control, no validation. Its CPU per request over express-bare is the floor that any
 * sealed-cookie session library pays in this harness; docs/performance.md compares flagon with it.
 */
function floorHandlers(app: import("express").Express): {
  set(req: ExpressRequest, visitor: string | undefined): void;
  get(req: ExpressRequest): string;
  login(req: ExpressRequest, ok: boolean): void;
  flashes(req: ExpressRequest): string[];
} {
  type Data = { name?: string; message?: string; visitor?: string; user?: string; flash?: string[] };
  const key = createHash("sha256").update(SECRET).digest();
  const aad = Buffer.from("session");
  const data = new WeakMap<ExpressRequest, Data>();
  const open = (value: string): Data => {
    const raw = Buffer.from(value, "base64url");
    if (raw.length < 29) return {};
    const decipher = createDecipheriv("aes-256-gcm", key, raw.subarray(0, 12));
    decipher.setAAD(aad);
    decipher.setAuthTag(raw.subarray(raw.length - 16));
    try {
      const plain = Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]);
      return JSON.parse(plain.toString("utf8")) as Data;
    } catch {
      return {};
    }
  };
  const seal = (value: Data): string => {
    const nonce = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", key, nonce);
    cipher.setAAD(aad);
    const body = Buffer.concat([cipher.update(JSON.stringify(value), "utf8"), cipher.final()]);
    return Buffer.concat([nonce, body, cipher.getAuthTag()]).toString("base64url");
  };
  app.use((req, _res, next) => {
    const header = req.headers.cookie;
    const at = header === undefined ? -1 : header.indexOf("session=");
    if (header === undefined || at < 0) data.set(req, {});
    else {
      const end = header.indexOf(";", at);
      data.set(req, open(header.slice(at + 8, end < 0 ? undefined : end)));
    }
    next();
  });
  const save = (req: ExpressRequest, value: Data) =>
    req.res?.setHeader("Set-Cookie", `session=${seal(value)}; Path=/; HttpOnly; SameSite=Lax`);
  return {
    set(req, visitor) {
      const value = data.get(req) ?? {};
      value.name = "Leo";
      value.message = "Hello, World!";
      if (visitor !== undefined) value.visitor = visitor;
      save(req, value);
    },
    get(req) {
      const value = data.get(req);
      return readMessage(value?.name, value?.message);
    },
    login(req, ok) {
      const value = data.get(req) ?? {};
      if (ok) value.user = "leo";
      value.flash = [...(value.flash ?? []), ok ? "Login Successfully." : "Login Failed."];
      data.set(req, value);
    },
    flashes(req) {
      const value = data.get(req);
      const list = value?.flash ?? [];
      if (value && list.length > 0) {
        value.flash = undefined;
        save(req, value);
      } else if (value?.user !== undefined && req.method === "POST") save(req, value);
      return list;
    },
  };
}

async function expressServer(): Promise<void> {
  const { default: express } = await import("express");
  const app = express();
  app.set("etag", false);
  app.use(express.urlencoded({ extended: false }));
  type Handlers = {
    set(req: ExpressRequest, visitor: string | undefined): void | Promise<void>;
    get(req: ExpressRequest): string;
    login(req: ExpressRequest, ok: boolean): void | Promise<void>;
    flashes(req: ExpressRequest): string[] | Promise<string[]>;
  };
  let h: Handlers;

  if (name.startsWith("flagon-express")) {
    const { sessions } = await import("flagon/express");
    const { cookieStore, memoryStore } = await import("flagon");
    const kind = name.slice("flagon-express-".length);
    let store: import("flagon").SessionStore | undefined;
    if (kind === "cookie") store = cookieStore();
    else if (kind === "memory") store = memoryStore();
    else if (kind === "sqlite") {
      const { sqliteStore } = await import("flagon/sqlite");
      store = sqliteStore({ path: process.env.BENCH_SQLITE ?? "/tmp/flagon-bench/sessions.db" });
    } else if (kind === "redis") {
      const { redisStore } = await import("flagon/redis");
      store = redisStore({ url: REDIS_URL, prefix: "bench:flagon:" });
    } else if (kind === "postgres") {
      const { postgresStore } = await import("flagon/postgres");
      const pg = postgresStore({ connectionString: DATABASE_URL, table: "bench_flagon_sessions" });
      await pg.ready();
      store = pg;
    }
    app.use(sessions({ secret: SECRET, store }));
    h = {
      set(req, visitor) {
        req.session.set("name", "Leo");
        req.session.set("message", "Hello, World!");
        // `visitor` is no key of the SessionData that examples/ declare for the whole program.
        if (visitor !== undefined) (req.session as unknown as Loose).set("visitor", visitor);
      },
      get: (req) => readMessage(req.session.get("name"), req.session.get("message")),
      login(req, ok) {
        if (ok) {
          req.session.regenerate();
          req.session.set("user", "leo");
        }
        req.session.flash(ok ? "Login Successfully." : "Login Failed.");
      },
      flashes: (req) => req.session.getFlashedMessages(),
    };
  } else if (
    name === "express-session" ||
    name === "express-session-redis" ||
    name === "express-session-postgres"
  ) {
    const { default: session } = await import("express-session");
    let store: ExpressSessionStore | undefined;
    if (name === "express-session-redis") {
      const { createClient } = await import("redis");
      const { RedisStore } = await import("connect-redis");
      const client = createClient({ url: REDIS_URL });
      client.on("error", () => {});
      await client.connect();
      store = new RedisStore({ client, prefix: "bench:es:" });
    } else if (name === "express-session-postgres") {
      const { default: connectPgSimple } = await import("connect-pg-simple");
      const { default: pg } = await import("pg");
      const PgStore = connectPgSimple(session);
      // connect-pg-simple's own defaults: a pg.Pool of 10 (the same size as flagon's), its session table.
      const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 10 });
      store = new PgStore({ pool, tableName: "bench_es_session", createTableIfMissing: true });
    }
    app.use(
      session({
        secret: SECRET,
        resave: false,
        saveUninitialized: false,
        store,
        cookie: { sameSite: "lax" },
      }),
    );
    type S = { name?: string; message?: string; visitor?: string; user?: string; flash?: string[] };
    const sess = (req: ExpressRequest) => req.session as unknown as S & ExpressSession;
    h = {
      set(req, visitor) {
        sess(req).name = "Leo";
        sess(req).message = "Hello, World!";
        if (visitor !== undefined) sess(req).visitor = visitor;
      },
      get: (req) => readMessage(sess(req).name, sess(req).message),
      async login(req, ok) {
        if (ok)
          await new Promise<void>((resolve, reject) =>
            sess(req).regenerate((e: unknown) => (e ? reject(e) : resolve())),
          );
        if (ok) sess(req).user = "leo";
        sess(req).flash = [...(sess(req).flash ?? []), ok ? "Login Successfully." : "Login Failed."];
      },
      flashes(req) {
        const list = sess(req).flash ?? [];
        if (list.length > 0) delete sess(req).flash;
        return list;
      },
    };
  } else if (name === "cookie-session") {
    const { default: cookieSession } = await import("cookie-session");
    app.use(cookieSession({ name: "session", keys: [SECRET], sameSite: "lax", httpOnly: true }));
    type S = { name?: string; message?: string; visitor?: string; user?: string; flash?: string[] };
    const sess = (req: ExpressRequest) => req.session as unknown as S;
    h = {
      set(req, visitor) {
        sess(req).name = "Leo";
        sess(req).message = "Hello, World!";
        if (visitor !== undefined) sess(req).visitor = visitor;
      },
      get: (req) => readMessage(sess(req).name, sess(req).message),
      login(req, ok) {
        if (ok) sess(req).user = "leo";
        sess(req).flash = [...(sess(req).flash ?? []), ok ? "Login Successfully." : "Login Failed."];
      },
      flashes(req) {
        const list = sess(req).flash ?? [];
        if (list.length > 0) sess(req).flash = undefined;
        return list;
      },
    };
  } else if (name === "iron-session") {
    const { getIronSession } = await import("iron-session");
    type S = { name?: string; message?: string; visitor?: string; user?: string; flash?: string[] };
    const options = {
      password: SECRET,
      cookieName: "session",
      cookieOptions: { secure: false, sameSite: "lax" as const },
    };
    const bag = new WeakMap<ExpressRequest, Awaited<ReturnType<typeof getIronSession<S>>>>();
    app.use(async (req, res, next) => {
      bag.set(req, await getIronSession<S>(req, res, options));
      next();
    });
    const sess = (req: ExpressRequest) => bag.get(req)!;
    h = {
      async set(req, visitor) {
        sess(req).name = "Leo";
        sess(req).message = "Hello, World!";
        if (visitor !== undefined) sess(req).visitor = visitor;
        await sess(req).save();
      },
      get: (req) => readMessage(sess(req).name, sess(req).message),
      async login(req, ok) {
        if (ok) sess(req).user = "leo";
        sess(req).flash = [...(sess(req).flash ?? []), ok ? "Login Successfully." : "Login Failed."];
        await sess(req).save();
      },
      async flashes(req) {
        const list = sess(req).flash ?? [];
        // Reading flashes must write the session back (iron-session has no change tracking).
        if (list.length > 0) {
          sess(req).flash = undefined;
          await sess(req).save();
        }
        return list;
      },
    };
  } else if (name === "express-floor") {
    h = floorHandlers(app);
  } else {
    h = { set() {}, get: () => readMessage(undefined, undefined), login() {}, flashes: () => [] };
  }

  app.get("/session_set", async (req, res) => {
    await h.set(req, visitorOf(req.url));
    res.send(render("Session data set successfully.", await h.flashes(req)));
  });
  app.get("/session_get", async (req, res) => {
    res.send(render(h.get(req), await h.flashes(req)));
  });
  app.post("/login", async (req, res) => {
    await h.login(req, validLogin(req.body));
    res.send(render(undefined, await h.flashes(req)));
  });
  const server = app.listen(port, "127.0.0.1", () => {
    const address = server.address();
    console.log(`ready ${typeof address === "object" && address ? address.port : port}`);
  });
}

async function honoServer(): Promise<void> {
  const { Hono } = await import("hono");
  const { serve } = await import("@hono/node-server");
  const app = new Hono();
  if (name === "hono-bare") {
    app.get("/session_set", (c) => c.html(render("Session data set successfully.", [])));
    app.get("/session_get", (c) => c.html(render(readMessage(undefined, undefined), [])));
    app.post("/login", async (c) => {
      await c.req.parseBody();
      return c.html(render(undefined, []));
    });
  } else {
    const { sessions } = await import("flagon/hono");
    const { cookieStore, memoryStore } = await import("flagon");
    const store = name.endsWith("memory") ? memoryStore() : cookieStore();
    const withSessions = new Hono<{ Variables: import("flagon/hono").SessionVariables }>();
    withSessions.use(sessions({ secret: SECRET, store }));
    withSessions.get("/session_set", (c) => {
      const session = c.get("session");
      session.set("name", "Leo");
      session.set("message", "Hello, World!");
      const visitor = visitorOf(c.req.url);
      if (visitor !== undefined) session.set("visitor", visitor);
      return c.html(render("Session data set successfully.", session.getFlashedMessages()));
    });
    withSessions.get("/session_get", (c) => {
      const session = c.get("session");
      return c.html(
        render(readMessage(session.get("name"), session.get("message")), session.getFlashedMessages()),
      );
    });
    withSessions.post("/login", async (c) => {
      const session = c.get("session");
      const body = await c.req.parseBody();
      const ok = validLogin(body);
      if (ok) {
        session.regenerate();
        session.set("user", "leo");
      }
      session.flash(ok ? "Login Successfully." : "Login Failed.");
      return c.html(render(undefined, session.getFlashedMessages()));
    });
    app.route("/", withSessions);
  }
  serve({ fetch: app.fetch, port, hostname: "127.0.0.1" }, (info) => console.log(`ready ${info.port}`));
}

/** Reads an urlencoded body (POST /login on servers with no body parser of their own). */
async function readForm(req: import("node:http").IncomingMessage): Promise<Record<string, string>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
  return Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString("utf8")));
}

async function fastifyServer(): Promise<void> {
  const { default: Fastify } = await import("fastify");
  const { default: formbody } = await import("@fastify/formbody");
  const app = Fastify();
  await app.register(formbody);
  type Body = Record<string, unknown> | undefined;
  const html = (reply: import("fastify").FastifyReply, page: string) =>
    reply.type("text/html; charset=utf-8").send(page);
  if (name === "fastify-bare") {
    app.get("/session_set", (_request, reply) => html(reply, render("Session data set successfully.", [])));
    app.get("/session_get", (_request, reply) => html(reply, render(readMessage(undefined, undefined), [])));
    app.post("/login", (_request, reply) => html(reply, render(undefined, [])));
  } else if (name === "fastify-secure-session") {
    // A non-literal specifier: its types declare `request.session` too, which flagon/fastify's
    // declaration (same program) would contradict.
    const specifier = "@fastify/secure-session";
    const { default: secureSession } = (await import(specifier)) as {
      default: import("fastify").FastifyPluginCallback<Record<string, unknown>>;
    };
    const { createHash } = await import("node:crypto");
    // @fastify/secure-session takes a 32-byte libsodium key: derived from the shared bench secret.
    await app.register(secureSession, {
      key: createHash("sha256").update(SECRET).digest(),
      cookieName: "session",
      cookie: { path: "/", httpOnly: true, sameSite: "lax" },
    });
    type S = { get(key: string): unknown; set(key: string, value: unknown): void; regenerate(): void };
    const sess = (request: unknown) => (request as { session: S }).session;
    const flashes = (request: unknown): string[] => {
      const list = (sess(request).get("flash") as string[] | undefined) ?? [];
      if (list.length > 0) sess(request).set("flash", undefined);
      return list;
    };
    app.get("/session_set", (request, reply) => {
      sess(request).set("name", "Leo");
      sess(request).set("message", "Hello, World!");
      const visitor = visitorOf(request.url);
      if (visitor !== undefined) sess(request).set("visitor", visitor);
      return html(reply, render("Session data set successfully.", flashes(request)));
    });
    app.get("/session_get", (request, reply) =>
      html(
        reply,
        render(readMessage(sess(request).get("name"), sess(request).get("message")), flashes(request)),
      ),
    );
    app.post("/login", (request, reply) => {
      const ok = validLogin(request.body as Body);
      if (ok) {
        sess(request).regenerate();
        sess(request).set("user", "leo");
      }
      const list = (sess(request).get("flash") as string[] | undefined) ?? [];
      sess(request).set("flash", [...list, ok ? "Login Successfully." : "Login Failed."]);
      return html(reply, render(undefined, flashes(request)));
    });
  } else {
    const { sessions } = await import("flagon/fastify");
    const { cookieStore } = await import("flagon");
    await app.register(sessions, { secret: SECRET, store: cookieStore() });
    app.get("/session_set", (request, reply) => {
      const session = request.session.untyped();
      session.set("name", "Leo");
      session.set("message", "Hello, World!");
      const visitor = visitorOf(request.url);
      if (visitor !== undefined) session.set("visitor", visitor);
      return html(reply, render("Session data set successfully.", session.getFlashedMessages()));
    });
    app.get("/session_get", (request, reply) => {
      const session = request.session.untyped();
      return html(
        reply,
        render(readMessage(session.get("name"), session.get("message")), session.getFlashedMessages()),
      );
    });
    app.post("/login", (request, reply) => {
      const session = request.session.untyped();
      const ok = validLogin(request.body as Body);
      if (ok) {
        session.regenerate();
        session.set("user", "leo");
      }
      session.flash(ok ? "Login Successfully." : "Login Failed.");
      return html(reply, render(undefined, session.getFlashedMessages()));
    });
  }
  const address = await app.listen({ port, host: "127.0.0.1" });
  console.log(`ready ${new URL(address).port}`);
}

async function koaServer(): Promise<void> {
  const { default: Koa } = await import("koa");
  const { bodyParser } = await import("@koa/bodyparser");
  const app = new Koa();
  app.use(bodyParser());
  type Ctx = import("koa").Context;
  type Handlers = {
    set(ctx: Ctx, visitor: string | undefined): void;
    get(ctx: Ctx): string;
    login(ctx: Ctx, ok: boolean): void | Promise<void>;
    flashes(ctx: Ctx): string[];
  };
  let h: Handlers;
  if (name === "koa-session") {
    const { default: session } = await import("koa-session");
    app.keys = [SECRET];
    app.use(session({ key: "session", signed: true, sameSite: "lax", httpOnly: true }, app));
    type S = { name?: string; message?: string; visitor?: string; user?: string; flash?: string[] };
    type KoaSession = S & { regenerate(): Promise<void> | undefined };
    // ctx.session is flagon/koa's in this program's types: koa-session's is another object.
    const sess = (ctx: Ctx) => (ctx as unknown as { session: KoaSession }).session;
    h = {
      set(ctx, visitor) {
        sess(ctx).name = "Leo";
        sess(ctx).message = "Hello, World!";
        if (visitor !== undefined) sess(ctx).visitor = visitor;
      },
      get: (ctx) => readMessage(sess(ctx).name, sess(ctx).message),
      async login(ctx, ok) {
        if (ok) {
          await sess(ctx).regenerate();
          sess(ctx).user = "leo";
        }
        sess(ctx).flash = [...(sess(ctx).flash ?? []), ok ? "Login Successfully." : "Login Failed."];
      },
      flashes(ctx) {
        const list = sess(ctx).flash ?? [];
        if (list.length > 0) sess(ctx).flash = undefined;
        return list;
      },
    };
  } else if (name === "flagon-koa-cookie") {
    const { sessions } = await import("flagon/koa");
    const { cookieStore } = await import("flagon");
    app.use(sessions({ secret: SECRET, store: cookieStore() }));
    h = {
      set(ctx, visitor) {
        const session = ctx.session.untyped();
        session.set("name", "Leo");
        session.set("message", "Hello, World!");
        if (visitor !== undefined) session.set("visitor", visitor);
      },
      get: (ctx) => readMessage(ctx.session.untyped().get("name"), ctx.session.untyped().get("message")),
      login(ctx, ok) {
        if (ok) {
          ctx.session.regenerate();
          ctx.session.untyped().set("user", "leo");
        }
        ctx.session.flash(ok ? "Login Successfully." : "Login Failed.");
      },
      flashes: (ctx) => ctx.session.getFlashedMessages(),
    };
  } else {
    h = { set() {}, get: () => readMessage(undefined, undefined), login() {}, flashes: () => [] };
  }
  app.use(async (ctx) => {
    if (ctx.method === "GET" && ctx.path === "/session_set") {
      h.set(ctx, visitorOf(ctx.url));
      ctx.type = "html";
      ctx.body = render("Session data set successfully.", h.flashes(ctx));
    } else if (ctx.method === "GET" && ctx.path === "/session_get") {
      ctx.type = "html";
      ctx.body = render(h.get(ctx), h.flashes(ctx));
    } else if (ctx.method === "POST" && ctx.path === "/login") {
      await h.login(ctx, validLogin((ctx.request as { body?: Record<string, unknown> }).body));
      ctx.type = "html";
      ctx.body = render(undefined, h.flashes(ctx));
    }
  });
  const server = app.listen(port, "127.0.0.1", () => {
    const address = server.address();
    console.log(`ready ${typeof address === "object" && address ? address.port : port}`);
  });
}

async function nodeServer(): Promise<void> {
  const { createServer } = await import("node:http");
  type Req = import("node:http").IncomingMessage;
  type Res = import("node:http").ServerResponse;
  const html = (res: Res, page: string) => {
    res.setHeader("Content-Type", "text/html; charset=utf-8");
    res.end(page);
  };
  let listener: (req: Req, res: Res) => void;
  if (name === "node-bare") {
    listener = (req, res) => {
      const path = (req.url ?? "/").split("?", 1)[0];
      if (req.method === "POST" && path === "/login") {
        void readForm(req).then(() => html(res, render(undefined, [])));
      } else if (path === "/session_set") {
        html(res, render("Session data set successfully.", []));
      } else if (path === "/session_get") {
        html(res, render(readMessage(undefined, undefined), []));
      } else {
        res.statusCode = 404;
        res.end();
      }
    };
  } else {
    const { withSessions } = await import("flagon/node");
    const { cookieStore } = await import("flagon");
    listener = withSessions({ secret: SECRET, store: cookieStore() }, async (req, res) => {
      const session = req.session;
      const url = req.url ?? "/";
      const path = url.split("?", 1)[0];
      if (req.method === "POST" && path === "/login") {
        const ok = validLogin(await readForm(req));
        if (ok) {
          session.regenerate();
          session.set("user", "leo");
        }
        session.flash(ok ? "Login Successfully." : "Login Failed.");
        html(res, render(undefined, session.getFlashedMessages()));
      } else if (path === "/session_set") {
        session.set("name", "Leo");
        session.set("message", "Hello, World!");
        const visitor = visitorOf(url);
        if (visitor !== undefined) session.set("visitor", visitor);
        html(res, render("Session data set successfully.", session.getFlashedMessages()));
      } else if (path === "/session_get") {
        html(
          res,
          render(readMessage(session.get("name"), session.get("message")), session.getFlashedMessages()),
        );
      } else {
        res.statusCode = 404;
        res.end();
      }
    });
  }
  const server = createServer(listener);
  server.listen(port, "127.0.0.1", () => {
    const address = server.address();
    console.log(`ready ${typeof address === "object" && address ? address.port : port}`);
  });
}

if (name.includes("hono")) await honoServer();
else if (name.includes("fastify")) await fastifyServer();
else if (name.includes("koa")) await koaServer();
else if (name.includes("node")) await nodeServer();
else await expressServer();

// Exit normally on signals so `--cpu-prof` profiles are written.
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => process.exit(0));
