/**
 * hybridStore through flagon/express (supertest): a small session lives in the cookie with no server
 * I/O; one that outgrows `maxCookieBytes` moves to the server store (memory or SQLite) and stays there,
 * with the server stores' change-set merging; login writes it whole again (back to the cookie if it fits).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import express from "express";
import request from "supertest";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { sessions } from "../../src/adapters/express/index.js";
import {
  ConfigError,
  cookieStore,
  createSessions,
  hybridStore,
  memoryStore,
  type ServerStore,
} from "../../src/index.js";
import { sqliteStore } from "../../src/stores/sqlite.js";
import { recordingStore } from "../session/harness.js";

const SECRET = "hybrid-store-test-secret-0123456789abcdefgh";
const root = mkdtempSync(join(tmpdir(), "flagon-hybrid-"));
let counter = 0;
const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const servers: Array<[string, () => ServerStore]> = [
  ["memoryStore", () => memoryStore()],
  ["sqliteStore", () => sqliteStore({ path: join(root, `hybrid-${++counter}.db`), purgeInterval: 0 })],
];

/** A text JSON and base64 cannot shrink. */
function noise(length: number, seed = 1): string {
  let out = "";
  let x = seed;
  while (out.length < length) {
    x = (x * 1103515245 + 12345) % 2147483648;
    out += x.toString(36);
  }
  return out.slice(0, length);
}

function appFor(inner: ServerStore, maxCookieBytes?: number) {
  const server = recordingStore(inner);
  const core = createSessions({
    secret: SECRET,
    store: hybridStore({ server, ...(maxCookieBytes === undefined ? {} : { maxCookieBytes }) }),
  });
  cleanup.push(() => core.close());
  const app = express();
  app.use(sessions(core));
  app.get("/set", (req, res) => {
    const key = String(req.query.key);
    const size = Number(req.query.size ?? 0);
    req.session.untyped().set(key, size > 0 ? noise(size, key.length) : String(req.query.value));
    res.json(req.session.toJSON());
  });
  app.get("/delete", (req, res) => {
    req.session.untyped().delete(String(req.query.key));
    res.json(req.session.toJSON());
  });
  app.get("/read", (req, res) => res.json({ ...req.session.toJSON(), status: req.session.status }));
  app.get("/login", (req, res) => {
    req.session.login(String(req.query.user ?? "leo"));
    res.json({ ok: true });
  });
  app.get("/logout", (req, res) => {
    req.session.destroy();
    res.json({ ok: true });
  });
  app.get("/csrf", (req, res) => res.json({ token: req.session.csrfToken() }));
  app.get("/check", (req, res) => res.json({ ok: req.session.verifyCsrfToken(req.query.token) }));
  return { app, server, core };
}

/** The Cookie header a browser sends after `lines` (expired ones dropped), merged into `jar`. */
function absorb(jar: Map<string, string>, lines: string[] | undefined): string {
  for (const line of lines ?? []) {
    const pair = line.split(";", 1)[0]!;
    const name = pair.slice(0, pair.indexOf("="));
    const value = pair.slice(name.length + 1);
    if (value === "" || /Max-Age=0/i.test(line)) jar.delete(name);
    else jar.set(name, value);
  }
  return [...jar].map(([name, value]) => `${name}=${value}`).join("; ");
}

function browser(app: express.Express) {
  const jar = new Map<string, string>();
  return {
    jar,
    async get(path: string) {
      const cookie = [...jar].map(([name, value]) => `${name}=${value}`).join("; ");
      const response = await request(app)
        .get(path)
        .set(cookie === "" ? {} : { cookie });
      absorb(jar, response.headers["set-cookie"] as unknown as string[] | undefined);
      return response;
    },
  };
}

const ops = (server: ReturnType<typeof recordingStore>) => server.calls.map((call) => call.op);

describe.each(servers)("hybridStore with %s", (_name, makeServer) => {
  it("a small session lives sealed in the cookie: no server call on load or commit", async () => {
    const { app, server } = appFor(makeServer());
    const b = browser(app);
    await b.get("/set?key=user&value=alice");
    await b.get("/set?key=theme&value=dark");
    const read = await b.get("/read");
    expect(read.body).toEqual({ user: "alice", theme: "dark", status: "active" });
    expect(server.calls).toEqual([]);
    expect(b.jar.get("sid")).toMatch(/^v1\.[\w-]+$/); // sealed, not a signed id
    expect(b.jar.get("sid")).not.toContain("alice");
  });

  it("moves to the server when the cookie would exceed maxCookieBytes; the cookie then holds a signed id", async () => {
    const { app, server } = appFor(makeServer());
    const b = browser(app);
    await b.get("/set?key=user&value=alice");
    const move = await b.get("/set?key=essay&size=5000");
    expect(move.status).toBe(200);
    expect(ops(server)).toEqual(["apply"]);
    const id = b.jar.get("sid")!;
    expect(id.split(".").length).toBe(5); // v1.<iat>.<exp>.<id>.<mac>
    expect(id.length).toBeLessThan(200);
    const stored = await server.get([...server.keys][0]!); // a get of the test's own
    expect(stored?.data).toMatchObject({ user: "alice", essay: noise(5000, 5) });
    // Later requests read it from the server.
    const read = await b.get("/read");
    expect(read.body.essay).toBe(noise(5000, 5));
    expect(read.body.status).toBe("active");
    expect(ops(server)).toEqual(["apply", "get", "get"]);
  });

  it("on the server, concurrent requests that change different keys both keep their changes", async () => {
    const { app } = appFor(makeServer());
    const b = browser(app);
    await b.get("/set?key=essay&size=5000");
    const cookie = [...b.jar].map(([name, value]) => `${name}=${value}`).join("; ");
    await Promise.all([
      request(app).get("/set?key=a&value=1").set({ cookie }),
      request(app).get("/set?key=b&value=2").set({ cookie }),
    ]);
    const read = await b.get("/read");
    expect(read.body).toMatchObject({ a: "1", b: "2" });
  });

  it("stays on the server when it shrinks; login writes it whole: back to the cookie, the old record deleted", async () => {
    const { app, server } = appFor(makeServer());
    const b = browser(app);
    await b.get("/set?key=essay&size=5000");
    const key = [...server.keys][0]!;
    const oldCookie = b.jar.get("sid")!;
    await b.get("/delete?key=essay");
    expect(await server.get(key)).not.toBeNull(); // still on the server: sticky
    expect(b.jar.get("sid")).toBe(oldCookie);
    await b.get("/set?key=cart&value=3");
    const login = await b.get("/login?user=leo");
    expect(login.status).toBe(200);
    expect(await server.get(key)).toBeNull();
    expect(b.jar.get("sid")).toMatch(/^v1\.[\w-]+$/);
    const before = server.calls.length;
    expect((await b.get("/read")).body).toMatchObject({ cart: "3", status: "active" });
    expect(server.calls.length).toBe(before); // in the cookie again: no server call
    // The pre-login cookie replays as an empty session.
    const replay = await request(app)
      .get("/read")
      .set({ cookie: `sid=${oldCookie}` });
    expect(replay.body).toEqual({ status: "expired" });
  });

  it("login of a large session on the server: a new record, the old one deleted", async () => {
    const { app, server } = appFor(makeServer());
    const b = browser(app);
    await b.get("/set?key=essay&size=5000");
    const oldKey = [...server.keys][0]!;
    const oldCookie = b.jar.get("sid")!;
    await b.get("/login?user=ada");
    expect(await server.get(oldKey)).toBeNull();
    expect(b.jar.get("sid")).not.toBe(oldCookie);
    const read = await b.get("/read");
    expect(read.body.essay).toBe(noise(5000, 5));
    expect(
      (
        await request(app)
          .get("/read")
          .set({ cookie: `sid=${oldCookie}` })
      ).body,
    ).toEqual({
      status: "expired",
    });
  });

  it("logout on the server deletes the record and clears the cookie; in the cookie it only clears it", async () => {
    const { app, server } = appFor(makeServer());
    const b = browser(app);
    await b.get("/set?key=essay&size=5000");
    const key = [...server.keys][0]!;
    const logout = await b.get("/logout");
    expect(logout.headers["set-cookie"]).toEqual([expect.stringMatching(/^sid=; Max-Age=0/)]);
    expect(await server.get(key)).toBeNull();
    expect(b.jar.size).toBe(0);
    const small = browser(app);
    await small.get("/set?key=user&value=alice");
    const calls = server.calls.length;
    await small.get("/logout");
    expect(server.calls.length).toBe(calls);
    expect(small.jar.size).toBe(0);
  });

  it("the CSRF token survives the move to the server", async () => {
    const { app } = appFor(makeServer());
    const b = browser(app);
    const { token } = (await b.get("/csrf")).body as { token: string };
    await b.get("/set?key=essay&size=5000");
    expect((await b.get(`/check?token=${encodeURIComponent(token)}`)).body).toEqual({ ok: true });
  });
});

describe("hybridStore with chunks", () => {
  it("maxCookieBytes above 4096 keeps the session in chunks until then, and expires them when it moves", async () => {
    const { app, server } = appFor(memoryStore(), 9000);
    const b = browser(app);
    await b.get("/set?key=essay&size=4500");
    expect([...b.jar.keys()].sort()).toEqual(["sid.0", "sid.1"]);
    expect(server.calls).toEqual([]);
    const move = await b.get("/set?key=more&size=4000");
    const lines = move.headers["set-cookie"] as unknown as string[];
    expect(lines.map((line) => line.split("=", 1)[0])).toEqual(["sid", "sid.0", "sid.1"]);
    expect([...b.jar.keys()]).toEqual(["sid"]);
    expect(ops(server)).toEqual(["apply"]);
    expect((await b.get("/read")).body.more).toBe(noise(4000, 4));
  });
});

describe("hybridStore with a signed cookie store", () => {
  it("reads signed sessions in the cookie and signed ids on the server alike", async () => {
    const server = recordingStore(memoryStore());
    const core = createSessions({
      secret: SECRET,
      store: hybridStore({ cookie: cookieStore({ encrypt: false }), server }),
    });
    const app = express();
    app.use(sessions(core));
    app.get("/set", (req, res) => {
      req.session.untyped().set(String(req.query.key), noise(Number(req.query.size)));
      res.json({ keys: req.session.keys() });
    });
    app.get("/read", (req, res) => res.json({ keys: req.session.keys(), status: req.session.status }));
    const b = browser(app);
    await b.get("/set?key=a&size=100");
    expect(server.calls).toEqual([]);
    await b.get("/set?key=b&size=5000");
    expect(ops(server)).toEqual(["apply"]);
    expect((await b.get("/read")).body).toEqual({ keys: ["a", "b"], status: "active" });
    // A forged id is refused without a server read.
    const calls = server.calls.length;
    const forged = await request(app)
      .get("/read")
      .set({ cookie: `sid=${b.jar.get("sid")!.slice(0, -2)}xx` });
    expect(forged.body).toEqual({ keys: [], status: "invalid" });
    expect(server.calls.length).toBe(calls);
  });
});

describe("hybridStore: configuration", () => {
  it.each<[string, unknown]>([
    ["no server", {}],
    ["a cookie store as server", { server: cookieStore() }],
    ["a server store as cookie", { server: memoryStore(), cookie: memoryStore() }],
    [
      "maxCookieBytes over what one cookie holds",
      { server: memoryStore(), cookie: cookieStore({ maxChunks: 1 }), maxCookieBytes: 5000 },
    ],
    ["maxCookieBytes too small", { server: memoryStore(), maxCookieBytes: 10 }],
    ["an unknown option", { server: memoryStore(), threshold: 100 }],
  ])("%s: ConfigError", (_what, options) => {
    expect(() => hybridStore(options as Parameters<typeof hybridStore>[0])).toThrow(ConfigError);
  });

  it("listUser needs a server store (a session in the cookie is nowhere to list)", async () => {
    const core = createSessions({ secret: SECRET, store: hybridStore({ server: memoryStore() }) });
    await expect(core.listUser("leo")).rejects.toMatchObject({ code: "ERR_NOT_SUPPORTED" });
  });

  it("revokeUser with `revocations` ends the user's sessions in both phases", async () => {
    const revocations = memoryStore();
    const core = createSessions({
      secret: SECRET,
      store: hybridStore({ server: memoryStore() }),
      revocations,
    });
    const app = express();
    app.use(sessions(core));
    app.get("/login", (req, res) => {
      req.session.login("leo");
      if (req.query.big) req.session.untyped().set("essay", noise(5000));
      res.json({ ok: true });
    });
    app.get("/read", (req, res) =>
      res.json({ status: req.session.status, user: req.session.userId ?? null }),
    );
    const small = browser(app);
    const big = browser(app);
    await small.get("/login");
    await big.get("/login?big=1");
    expect((await big.get("/read")).body).toEqual({ status: "active", user: "leo" });
    expect(await core.revokeUser("leo")).toBeGreaterThanOrEqual(1);
    expect((await small.get("/read")).body).toEqual({ status: "revoked", user: null });
    expect((await big.get("/read")).body).toEqual({ status: "revoked", user: null });
  });
});
