/**
 * With a `schema`, `commit` refuses to write data the schema rejects (`ERR_SESSION_INVALID`, the
 * schema's issues in the message): the request fails at the write (500), instead of the next
 * request loading an empty session and logging the user out.
 */
import express from "express";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { sessions as expressSessions } from "../../src/adapters/express/index.js";
import { sessions as honoSessions, type SessionVariables } from "../../src/adapters/hono/index.js";
import {
  cookieStore,
  createSessions,
  FlagonError,
  memoryStore,
  type StandardSchemaLike,
  storeKey,
} from "../../src/index.js";
import { Browser } from "./harness.js";

const SECRET = "schema-commit-secret-0123456789abcdefghij";
const Data = z.object({ user: z.string(), visits: z.number().int() }).partial();
type DataType = z.infer<typeof Data>;

function invalid(message: RegExp) {
  return (error: unknown) => {
    expect(error).toBeInstanceOf(FlagonError);
    expect((error as FlagonError).code).toBe("ERR_SESSION_INVALID");
    expect((error as Error).message).toMatch(message);
    return true;
  };
}

/** A schema that counts its calls and accepts everything. */
function countingSchema(): { schema: StandardSchemaLike<Record<string, unknown>>; calls: () => number } {
  let calls = 0;
  return {
    calls: () => calls,
    schema: {
      "~standard": {
        version: 1,
        vendor: "test",
        validate: (value) => {
          calls++;
          return { value: value as Record<string, unknown> };
        },
      },
    },
  };
}

describe("commit validates changed data against the schema", () => {
  it("a server store: the write is refused, the stored record and the cookie stay as they were", async () => {
    const store = memoryStore();
    const sessions = createSessions({ secret: SECRET, store, schema: Data });
    const browser = new Browser(sessions);
    const first = await browser.request((s) => s.set("user", "leo").set("visits", 1));
    const before = await store.get(storeKey(first.session.id));

    const session = await sessions.load({ headers: { cookie: browser.cookieHeader! } });
    session.untyped().set("visits", "many"); // what plain JavaScript can do
    const headers = new Headers();
    await expect(sessions.commit(session, headers)).rejects.toSatisfy(invalid(/visits: .*number/i));
    expect([...headers]).toEqual([]);
    expect(await store.get(storeKey(first.session.id))).toEqual(before);

    // The next request still has the session (it was not emptied).
    const next = await sessions.load({ headers: { cookie: browser.cookieHeader! } });
    expect(next.toJSON()).toEqual({ user: "leo", visits: 1 });
  });

  it("the error carries the issues as its cause and says why the write was refused", async () => {
    const sessions = createSessions({ secret: SECRET, schema: Data });
    const session = await sessions.load({ headers: {} });
    session.untyped().set("user", 42);
    const error = await sessions.commit(session, new Headers()).catch((e: unknown) => e);
    expect(error).toSatisfy(invalid(/^session data rejected by the schema, not written: user: /));
    expect((error as Error).message).toMatch(/every later request load an empty session/);
    expect((error as Error).cause).toEqual([expect.objectContaining({ path: ["user"] })]);
  });

  it("the cookie store's synchronous plan (prepare) refuses too, before any header", async () => {
    const sessions = createSessions({ secret: SECRET, store: cookieStore(), schema: Data });
    const session = await sessions.load({ headers: {} });
    session.untyped().set("visits", 1.5);
    const headers = new Headers();
    expect(() => sessions.prepare(session)).toThrow(expect.objectContaining({ code: "ERR_SESSION_INVALID" }));
    expect([...headers]).toEqual([]);
  });

  it("an asynchronous schema: the plan's write validates, commit refuses", async () => {
    const asyncSchema: StandardSchemaLike<{ name?: string }> = {
      "~standard": {
        version: 1,
        vendor: "test",
        validate: async (value) =>
          typeof (value as { name?: unknown }).name === "string" || !("name" in (value as object))
            ? { value: value as { name?: string } }
            : { issues: [{ message: "name must be a string" }] },
      },
    };
    const sessions = createSessions({ secret: SECRET, store: cookieStore(), schema: asyncSchema });
    const session = await sessions.load({ headers: {} });
    session.untyped().set("name", 7);
    const headers = new Headers();
    expect(sessions.prepare(session).write).toBeTypeOf("function");
    await expect(sessions.commit(session, headers)).rejects.toSatisfy(invalid(/name must be a string/));
    expect([...headers]).toEqual([]);

    const good = await sessions.load({ headers: {} });
    good.set("name", "Leo");
    await sessions.commit(good, headers);
    expect(headers.getSetCookie()).toHaveLength(1);
  });

  it("valid changes are written; clear(), destroy() and an emptied session are always allowed", async () => {
    const Required = z.object({ user: z.string() });
    const store = memoryStore();
    const sessions = createSessions({ secret: SECRET, store, schema: Required });
    const browser = new Browser(sessions);
    await browser.request((s) => s.set("user", "leo"));
    await browser.request((s) => s.set("user", "ada"));
    expect((await browser.request((s) => s.get("user"))).session.get("user")).toBe("ada");
    // A flash alone (no data) is not refused: an empty session is what load falls back to anyway.
    await browser.request((s) => s.flash("hello"));
    await browser.request((s) => s.clear());
    await browser.request((s) => s.destroy());
    // Removing a required key while other data remains is refused.
    await browser.request((s) => s.set("user", "leo"));
    const session = await sessions.load({ headers: { cookie: browser.cookieHeader! } });
    session.untyped().set("theme", "dark");
    session.delete("user");
    await expect(sessions.commit(session, new Headers())).rejects.toSatisfy(invalid(/user: /));
  });

  it("reads, flashes and meta changes do not call the schema; no schema: nothing is validated", async () => {
    const { schema, calls } = countingSchema();
    const sessions = createSessions({ secret: SECRET, schema });
    const browser = new Browser(sessions);
    await browser.request((s) => s.set("a", 1));
    expect(calls()).toBe(1); // the commit of the write
    await browser.request((s) => {
      s.get("a");
      s.permanent = true;
      s.getFlashedMessages();
    });
    expect(calls()).toBe(2); // the load only
  });
});

describe("adapters answer 500 at the write", () => {
  it("express: a 500, no Set-Cookie, and the stored session is kept", async () => {
    const app = express();
    const middleware = expressSessions({ secret: SECRET, schema: Data });
    app.use(middleware);
    app.get("/login", (req, res) => {
      req.session.untyped().set("user", "leo");
      res.send("ok");
    });
    app.get("/bad", (req, res) => {
      req.session.untyped().set("visits", "many");
      res.redirect("/");
    });
    app.get("/who", (req, res) => {
      res.json(req.session.toJSON());
    });
    const server = app.listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    try {
      const { port } = server.address() as { port: number };
      const base = `http://127.0.0.1:${port}`;
      const login = await fetch(`${base}/login`);
      const cookie = login.headers.getSetCookie()[0]!.split(";")[0]!;
      const bad = await fetch(`${base}/bad`, { headers: { cookie }, redirect: "manual" });
      expect(bad.status).toBe(500);
      expect(bad.headers.get("location")).toBeNull();
      expect(bad.headers.getSetCookie()).toEqual([]);
      const who = await fetch(`${base}/who`, { headers: { cookie } });
      expect(await who.json()).toEqual({ user: "leo" });
    } finally {
      server.close();
    }
  });

  it("hono: the error reaches app.onError, and no Set-Cookie is sent", async () => {
    const app = new Hono<{ Variables: SessionVariables<DataType> }>();
    app.use(honoSessions({ secret: SECRET, schema: Data, store: cookieStore() }));
    app.get("/bad", (c) => {
      c.get("session").untyped().set("visits", "many");
      return c.text("ok");
    });
    app.onError((error, c) => c.text((error as FlagonError).code, 500));
    const response = await app.request("/bad");
    expect(response.status).toBe(500);
    expect(await response.text()).toBe("ERR_SESSION_INVALID");
    expect(response.headers.getSetCookie()).toEqual([]);
  });
});
