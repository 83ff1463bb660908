/**
 * Store failures are seen: each one is logged once at warn level (code, cause; no id, key or
 * secret) whatever the adapter and whether or not the app answers the 503 itself.
 */
import express from "express";
import { Hono } from "hono";
import request from "supertest";
import { afterEach, describe, expect, it, vi } from "vitest";
import { sessions as expressSessions, sessionErrorHandler } from "../../src/adapters/express/index.js";
import { sessions as honoSessions, type SessionVariables } from "../../src/adapters/hono/index.js";
import { createSessions, memoryStore, SessionStoreError } from "../../src/index.js";
import { failingStore, SECRET } from "../session/harness.js";

function spyLogger() {
  const warn = vi.fn<(message: string, fields?: Record<string, unknown>) => void>();
  return { logger: { warn }, warn };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("store failures are logged once at warn level", () => {
  it("core: a failed read logs the code and the driver's cause, with no key", async () => {
    const store = failingStore(memoryStore());
    const { logger, warn } = spyLogger();
    const sessions = createSessions({ secret: SECRET, store, logger });
    const first = await sessions.load(new Headers());
    first.set("user", "alice");
    const headers = new Headers();
    await sessions.commit(first, headers);
    const cookie = headers.getSetCookie()[0]!.split(";")[0]!;
    store.fail.get = true;
    await expect(sessions.load(new Headers({ cookie }))).rejects.toBeInstanceOf(SessionStoreError);
    expect(warn).toHaveBeenCalledTimes(1);
    const [message, fields] = warn.mock.calls[0]!;
    expect(message).toBe("session store read failed");
    expect(fields).toMatchObject({ code: "ERR_STORE_FAILED", operation: "read" });
    expect(String(fields?.cause)).toContain("ECONNREFUSED while reading session:<key>");
    const logged = JSON.stringify(warn.mock.calls);
    expect(logged).not.toMatch(/[0-9a-f]{64}/);
    expect(logged).not.toContain(cookie.split("=")[1]!);
    expect(logged).not.toContain(SECRET);
  });

  it("Express with the app's own sessionErrorHandler: 503 and one warning", async () => {
    const store = failingStore(memoryStore());
    const { logger, warn } = spyLogger();
    const app = express();
    app.use(expressSessions({ secret: SECRET, store, logger }));
    app.get("/", (req, res) => {
      req.session.set("n", 1);
      res.send("ok");
    });
    app.use(sessionErrorHandler({ render: (_error, _req, res) => res.send("down") }));
    store.fail.apply = true;
    const response = await request(app).get("/");
    expect(response.status).toBe(503);
    expect(response.text).toBe("down");
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]![1]).toMatchObject({ code: "ERR_STORE_FAILED", operation: "write" });
    expect(String(warn.mock.calls[0]![1]?.cause)).toContain("SQLITE_BUSY");
  });

  it("Hono with the app's own onStoreError: its response and one warning", async () => {
    const store = failingStore(memoryStore());
    const { logger, warn } = spyLogger();
    const app = new Hono<{ Variables: SessionVariables }>();
    app.use(
      honoSessions({
        secret: SECRET,
        store,
        logger,
        onStoreError: () => new Response("down", { status: 503 }),
      }),
    );
    app.get("/", (c) => {
      c.get("session").set("n", 1);
      return c.text("ok");
    });
    store.fail.apply = true;
    const response = await app.request("/");
    expect(response.status).toBe(503);
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it("with no logger configured, the warning goes to console.warn", async () => {
    const store = failingStore(memoryStore());
    const consoleWarn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const sessions = createSessions({ secret: SECRET, store });
    const session = await sessions.load(new Headers());
    session.set("n", 1);
    store.fail.apply = true;
    await expect(sessions.commit(session, new Headers())).rejects.toBeInstanceOf(SessionStoreError);
    expect(consoleWarn).toHaveBeenCalledTimes(1);
    expect(String(consoleWarn.mock.calls[0]![0])).toMatch(
      /^flagon: session store write failed \(ERR_STORE_FAILED\) \[cause: Error: SQLITE_BUSY/,
    );
  });
});
