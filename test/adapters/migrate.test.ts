/**
 * migrateFrom end to end through both adapters: a cookie written by the old library (real
 * express-session for Express on 127.0.0.1, real iron-session 8 for Hono's app.request) becomes a
 * flagon session in the handler, the response carries the flagon cookie and expires the legacy one,
 * and the next request is an ordinary flagon request.
 */
import { once } from "node:events";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import session from "express-session";
import { Hono } from "hono";
import { afterEach, describe, expect, it } from "vitest";
import { sessions as expressSessions } from "../../src/adapters/express/index.js";
import { sessions as honoSessions, type SessionVariables } from "../../src/adapters/hono/index.js";
import { memoryStore } from "../../src/index.js";
import { expressSession, ironSession } from "../../src/migrate/index.js";
import { cookiePairs, expressSessionApp, ironSessionApp } from "../helpers/legacy-stacks.js";

const SECRET = "adapter migration test secret, 32 bytes or more";
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

const namesOf = (response: Response) => response.headers.getSetCookie().map((line) => line.split("=", 1)[0]);
const legacyLine = (response: Response, name: string) =>
  response.headers.getSetCookie().find((line) => line.startsWith(`${name}=`));

describe("Express: an express-session user stays logged in", () => {
  const warnings: string[] = [];
  async function flagonApp(store: session.Store, destroyLegacy = false) {
    const app = express();
    app.use(
      expressSessions({
        secret: SECRET,
        store: memoryStore(),
        logger: { warn: (message) => void warnings.push(message) },
        migrateFrom: [expressSession({ secret: "keyboard cat", store, destroyLegacy })],
      }),
    );
    app.get("/me", (req, res) => {
      res.json({ user: req.session.get("user") ?? null, migratedFrom: req.session.migratedFrom ?? null });
    });
    const server = app.listen(0, "127.0.0.1");
    servers.push(server);
    await once(server, "listening");
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it("the legacy cookie becomes a flagon session, expired in the same response", async () => {
    const store = new session.MemoryStore();
    const legacy = await expressSessionApp({ secret: "keyboard cat", store, maxAge: 86_400_000 });
    try {
      const legacyCookie = await legacy.mint({ user: "leo" });
      const base = await flagonApp(store);
      const first = await fetch(`${base}/me`, { headers: { cookie: legacyCookie } });
      expect(await first.json()).toEqual({ user: "leo", migratedFrom: "express-session" });
      expect(namesOf(first)).toEqual(["sid", "connect.sid"]);
      expect(legacyLine(first, "connect.sid")).toMatch(/^connect\.sid=; Max-Age=0; Expires=Thu, 01 Jan 1970/);
      expect(first.headers.get("cache-control")).toBe("private, no-store");

      // The browser now holds only the flagon cookie: an ordinary flagon request.
      const second = await fetch(`${base}/me`, { headers: { cookie: cookiePairs(first).split("; ")[0]! } });
      expect(await second.json()).toEqual({ user: "leo", migratedFrom: null });
      expect(second.headers.getSetCookie()).toEqual([]);
      // destroyLegacy is off: the old app still has its session.
      expect(await legacy.read(legacyCookie)).toEqual({ user: "leo" });
    } finally {
      await legacy.close();
    }
  });

  it("a legacy store that is down answers 503, and the handler does not run with an empty session", async () => {
    const broken = new session.MemoryStore();
    const legacy = await expressSessionApp({ secret: "keyboard cat", store: broken });
    try {
      const legacyCookie = await legacy.mint({ user: "leo" });
      broken.get = (_sid, callback) => callback(new Error("connect ECONNREFUSED 127.0.0.1:6379"));
      const base = await flagonApp(broken);
      const response = await fetch(`${base}/me`, { headers: { cookie: legacyCookie } });
      expect(response.status).toBe(503);
      expect(response.headers.getSetCookie()).toEqual([]);
      expect(warnings).toEqual(["session store get failed (the legacy express-session store, migrateFrom)"]);
    } finally {
      await legacy.close();
    }
  });
});

describe("Hono: an iron-session user stays logged in", () => {
  const iron = { password: "the iron-session password, 32 characters or more", cookieName: "app_session" };

  function flagonApp() {
    const app = new Hono<{ Variables: SessionVariables }>();
    app.use(honoSessions({ secret: SECRET, migrateFrom: [ironSession(iron)] }));
    app.get("/me", (c) =>
      c.json({
        user: c.get("session").get("user") ?? null,
        migratedFrom: c.get("session").migratedFrom ?? null,
      }),
    );
    app.get("/logout", (c) => {
      c.get("session").destroy();
      return c.redirect("/");
    });
    return app;
  }

  it("the legacy cookie becomes a flagon session, expired in the same response", async () => {
    const legacy = await ironSessionApp(iron);
    try {
      const legacyCookie = await legacy.mint({ user: { id: 3 } });
      const app = flagonApp();
      const first = await app.request("http://localhost/me", { headers: { cookie: legacyCookie } });
      expect(await first.json()).toEqual({ user: { id: 3 }, migratedFrom: "iron-session" });
      expect(namesOf(first)).toEqual(["sid", "app_session"]);
      expect(legacyLine(first, "app_session")).toMatch(/^app_session=; Max-Age=0; Expires=Thu, 01 Jan 1970/);

      const second = await app.request("http://localhost/me", {
        headers: { cookie: cookiePairs(first).split("; ")[0]! },
      });
      expect(await second.json()).toEqual({ user: { id: 3 }, migratedFrom: null });
      expect(second.headers.getSetCookie()).toEqual([]);
    } finally {
      await legacy.close();
    }
  });

  it("logging out in the migrating request (a redirect) still expires the legacy cookie", async () => {
    const legacy = await ironSessionApp(iron);
    try {
      const response = await flagonApp().request("http://localhost/logout", {
        headers: { cookie: await legacy.mint({ user: { id: 3 } }) },
      });
      expect(response.status).toBe(302);
      expect(namesOf(response)).toEqual(["app_session"]);
    } finally {
      await legacy.close();
    }
  });

  it("on HTTPS the flagon cookie is __Host-sid and the legacy one is expired with Secure", async () => {
    const legacy = await ironSessionApp(iron);
    try {
      const response = await flagonApp().request("https://example.com/me", {
        headers: { cookie: await legacy.mint({ user: "x" }) },
      });
      expect(namesOf(response)).toEqual(["__Host-sid", "app_session"]);
      expect(legacyLine(response, "app_session")).toContain("; Secure");
    } finally {
      await legacy.close();
    }
  });
});
