/**
 * express-session habits get an explanation, not a hang or a silent no-op: plain JavaScript written
 * for express-session (`req.session.user = …`, `save(cb)`, `destroy(cb)`, `cookie.maxAge = …`)
 * throws a TypeError that says what to write in flagon. And sessions stay ordinary objects: reads,
 * `await`, `util.inspect`, `JSON.stringify`, vitest and the `permanent` setter behave as before.
 */
import { inspect } from "node:util";
import express, { type ErrorRequestHandler } from "express";
import { describe, expect, it } from "vitest";
import { sessions as expressSessions } from "../../src/adapters/express/index.js";
import { createSessions, memoryStore, Session } from "../../src/index.js";

const SECRET = "habits-secret-0123456789abcdefghijklmnop";
const core = createSessions({ secret: SECRET, store: memoryStore() });

/** A session as plain JavaScript sees it: no types. */
async function jsSession(): Promise<Record<string, unknown> & Session> {
  return (await core.load({ headers: {} })) as Record<string, unknown> & Session;
}

/** Runs `body` as a sloppy-mode function (as CommonJS code without "use strict" is). */
function sloppy(body: string): (session: unknown) => unknown {
  const fn = new Function("session", body) as (session: unknown) => unknown;
  // Sloppy mode really: assigning to a non-writable property is silently ignored there.
  const frozen = Object.freeze({ x: 1 });
  new Function("o", "o.x = 2")(frozen);
  expect(frozen.x).toBe(1);
  return fn;
}

describe("data assigned as properties throws, in strict and sloppy code", () => {
  it("strict: session.user = … names session.set()", async () => {
    const session = await jsSession();
    expect(() => {
      session.user = "leo";
    }).toThrow(TypeError);
    expect(() => {
      session.user = "leo";
    }).toThrow(
      'session.user = … stores nothing: a flagon session is not a plain object. Write session.set("user", value)',
    );
    expect(session.get("user")).toBeUndefined();
    expect(Object.hasOwn(session, "user")).toBe(false);
  });

  it("sloppy mode (plain CommonJS) throws too, instead of ignoring the assignment", async () => {
    const session = await jsSession();
    expect(() => sloppy("session.user = 'leo'")(session)).toThrow(/session\.set\("user", value\)/);
    expect(() => sloppy("session['cart'] = []")(session)).toThrow(/session\.set\("cart", value\)/);
    expect(() => sloppy("Object.assign(session, { user: 'leo' })")(session)).toThrow(TypeError);
    expect(() => sloppy("session.id = 'x'")(session)).toThrow(
      "session.id is read-only (session.regenerate()",
    );
    expect(() => sloppy("session.destroyed = true")(session)).toThrow(/read-only/);
    expect(() => sloppy("session.then = function () {}")(session)).toThrow(/session\.set\("then"/);
    expect(Reflect.ownKeys(session)).toEqual([]);
    expect(session.destroyed).toBe(false);
  });

  it("a session has no own properties that would swallow an assignment", async () => {
    const session = await jsSession();
    session.set("a", 1).flash("hi");
    session.csrfToken();
    expect(Reflect.ownKeys(session)).toEqual([]);
    expect(Object.isExtensible(session)).toBe(true); // no per-instance freeze or Proxy
  });

  it("setters on Session.prototype still work (permanent), and methods keep #private access", async () => {
    const session = await jsSession();
    sloppy("session.permanent = true")(session);
    expect(session.permanent).toBe(true);
    session.permanent = false;
    expect(session.permanent).toBe(false);
    expect(Reflect.apply(Session.prototype.set, session, ["k", 1])).toBe(session);
    const { get } = Session.prototype;
    expect(get.call(session, "k")).toBe(1);
  });
});

describe("express-session's methods explain themselves", () => {
  it.each([
    ["save", "session.save() is express-session's: flagon saves the session by itself"],
    ["touch", "flagon refreshes a session's expiry itself"],
    ["reload", "flagon loads the session once, before the handler"],
    ["resetMaxAge", "the cookie's lifetime is the `permanentLifetime`"],
  ])("%s() throws a TypeError: %s", async (name, message) => {
    const session = await jsSession();
    const method = session[name] as (callback?: () => void) => void;
    expect(() => method.call(session, () => {})).toThrow(TypeError);
    expect(() => method.call(session, () => {})).toThrow(message);
    expect(Object.keys(Object.getOwnPropertyDescriptors(Session.prototype))).toContain(name);
    expect(Object.prototype.propertyIsEnumerable.call(Session.prototype, name)).toBe(false);
  });

  it("session.cookie (and cookie.maxAge = …) names permanentLifetime and session.permanent", async () => {
    const session = await jsSession();
    expect(() => sloppy("session.cookie.maxAge = 60000")(session)).toThrow(TypeError);
    expect(() => sloppy("session.cookie.maxAge = 60000")(session)).toThrow(
      /set `permanentLifetime` and `session.permanent = true`/,
    );
    expect(() => sloppy("session.cookie = { maxAge: 1 }")(session)).toThrow(/permanentLifetime/);
  });

  it("regenerate(cb) and destroy(cb) throw instead of never calling back, and change nothing", async () => {
    const session = await jsSession();
    session.set("user", "leo");
    const id = session.id;
    let called = false;
    const callback = () => {
      called = true;
    };
    const regenerate = session.regenerate as (cb: () => void) => void;
    const destroy = session.destroy as (cb: () => void) => void;
    expect(() => regenerate.call(session, callback)).toThrow(
      "flagon's session.regenerate() takes no callback",
    );
    expect(() => destroy.call(session, callback)).toThrow("flagon's session.destroy() takes no callback");
    expect(called).toBe(false);
    expect(session.id).toBe(id);
    expect(session.destroyed).toBe(false);
    // Without a callback they work as documented.
    session.regenerate();
    expect(session.id).not.toBe(id);
    session.destroy();
    expect(session.destroyed).toBe(true);
  });
});

describe("reads are untouched", () => {
  it("await, util.inspect, JSON.stringify, string conversion, instanceof", async () => {
    const session = await jsSession();
    session.set("user", "leo");
    expect(await Promise.resolve(session)).toBe(session); // not a thenable
    expect(session.then).toBeUndefined();
    expect(inspect(session)).toBe("Session {}");
    expect(inspect(session)).not.toContain(session.id);
    expect(JSON.stringify(session)).toBe('{"user":"leo"}');
    expect(`${session}`).toBe("[object Object]");
    expect(session instanceof Session && session instanceof Object).toBe(true);
    expect(session.missing).toBeUndefined();
    expect("user" in session).toBe(false);
    expect(Object.keys(session)).toEqual([]);
    expect({ ...session }).toEqual({});
  });

  it("vitest matchers and their failure messages", async () => {
    const a = await jsSession();
    const b = await jsSession();
    expect(a).toBeInstanceOf(Session);
    expect(a).toBe(a);
    expect({ session: a }).toEqual({ session: a });
    expect(() => expect(a).toBe(b)).toThrow(/expected/i);
    expect(() => expect(a).toBeNull()).toThrow(/expected/i);
  });
});

describe("through flagon/express: an error response, not a hang", () => {
  async function request(handler: express.RequestHandler): Promise<{ status: number; body: string }> {
    const app = express();
    app.use(expressSessions(core));
    app.get("/", handler);
    const onError: ErrorRequestHandler = (error: Error, _req, res, _next) => {
      res.status(500).type("text/plain").send(`${error.name}: ${error.message}`);
    };
    app.use(onError);
    const server = app.listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    try {
      const { port } = server.address() as { port: number };
      const response = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(5000) });
      return { status: response.status, body: await response.text() };
    } finally {
      server.close();
    }
  }

  it("req.session.destroy(cb) answers 500 with the explanation", async () => {
    const result = await request((req, res) => {
      (req.session.destroy as (cb: () => void) => void)(() => res.redirect("/"));
    });
    expect(result.status).toBe(500);
    expect(result.body).toMatch(/^TypeError: flagon's session\.destroy\(\) takes no callback/);
  });

  it("req.session.user = … (sloppy JavaScript) answers 500 with the explanation", async () => {
    const assign = sloppy("session.user = 'leo'");
    const result = await request((req, res) => {
      assign(req.session);
      res.send("saved?");
    });
    expect(result.status).toBe(500);
    expect(result.body).toContain('Write session.set("user", value)');
  });
});
