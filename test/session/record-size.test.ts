/**
 * `maxRecordBytes`: a server-store commit whose record would be larger is refused with
 * `ERR_SESSION_TOO_LARGE` before any store call, with a spy store, a real SQLite file and Express.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import express from "express";
import request from "supertest";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { sessions as expressSessions } from "../../src/adapters/express/index.js";
import { ConfigError, createSessions, type FlagonError, memoryStore } from "../../src/index.js";
import { sqliteStore } from "../../src/stores/sqlite.js";
import { Browser, recordingStore, SECRET } from "./harness.js";

const root = mkdtempSync(join(tmpdir(), "flagon-record-size-"));
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function sqlite(name: string) {
  const path = join(root, `${name}.db`);
  const store = sqliteStore({ path, purgeInterval: 0 });
  const rows = () => {
    // The store opens its file on first use: no file, no rows.
    if (!existsSync(path)) return 0;
    const db = new Database(path, { readonly: true });
    try {
      return db.prepare("SELECT count(*) FROM flagon_sessions").pluck().get() as number;
    } finally {
      db.close();
    }
  };
  return { store, rows };
}

describe("maxRecordBytes", () => {
  it("refuses a new record over 64 KiB by default, at prepare, before any store call", async () => {
    const store = recordingStore();
    const core = createSessions({ secret: SECRET, store });
    const session = await core.load({ headers: {} });
    session.set("blob", "x".repeat(70_000));
    let error: FlagonError | undefined;
    try {
      core.prepare(session);
    } catch (thrown) {
      error = thrown as FlagonError;
    }
    expect(error?.code).toBe("ERR_SESSION_TOO_LARGE");
    expect(error?.message).toMatch(/at least 7\d{4} bytes/);
    expect(error?.message).toContain("65536");
    expect(error?.message).not.toContain("xxxx");
    expect(store.calls).toEqual([]);
  });

  it("refuses a change set that grows a loaded record past the limit; the stored record is unchanged", async () => {
    const store = recordingStore();
    const core = createSessions({ secret: SECRET, store, maxRecordBytes: 4096 });
    const browser = new Browser(core);
    await browser.request((s) => s.set("a", "y".repeat(3000)));
    const calls = store.calls.length;
    await expect(browser.request((s) => s.set("b", "z".repeat(2000)))).rejects.toMatchObject({
      code: "ERR_SESSION_TOO_LARGE",
    });
    // One read (the load), no write.
    expect(store.calls.slice(calls).map((call) => call.op)).toEqual(["get"]);
    const { session } = await browser.request();
    expect(session.get("a")).toHaveLength(3000);
    expect(session.has("b")).toBe(false);
    // Flashes count too.
    await expect(browser.request((s) => s.flash("m".repeat(2000)))).rejects.toMatchObject({
      code: "ERR_SESSION_TOO_LARGE",
    });
  });

  it("multi-byte characters are counted in bytes", async () => {
    const core = createSessions({ secret: SECRET, store: memoryStore(), maxRecordBytes: 4096 });
    const session = await core.load({ headers: {} });
    session.set("text", "é".repeat(1500)); // 1500 characters, 3000 bytes: fits
    expect(() => core.prepare(session)).not.toThrow();
    const wide = await core.load({ headers: {} });
    wide.set("text", "€".repeat(1500)); // 4500 bytes: refused
    expect(() => core.prepare(wide)).toThrow(expect.objectContaining({ code: "ERR_SESSION_TOO_LARGE" }));
  });

  it("a read or a touch of a record already over the limit is not refused (it only cannot grow)", async () => {
    const inner = memoryStore();
    const big = new Browser(createSessions({ secret: SECRET, store: inner, rolling: true, touchAfter: 1 }));
    await big.request((s) => s.set("a", "y".repeat(6000)));
    const small = createSessions({
      secret: SECRET,
      store: inner,
      rolling: true,
      touchAfter: 1,
      maxRecordBytes: 4096,
    });
    const browser = new Browser(small);
    for (const [name, value] of big.jar) browser.jar.set(name, value);
    expect((await browser.request((s) => s.get("a"))).session.get("a")).toHaveLength(6000);
    await expect(browser.request((s) => s.delete("a"))).resolves.toBeDefined();
  });

  it("a real sqliteStore: the 10 000 000-character value is refused and nothing is stored", async () => {
    const { store, rows } = sqlite("ten-million");
    const core = createSessions({ secret: SECRET, store });
    cleanup.push(() => core.close());
    const browser = new Browser(core);
    await expect(browser.request((s) => s.set("v", "x".repeat(10_000_000)))).rejects.toMatchObject({
      code: "ERR_SESSION_TOO_LARGE",
    });
    expect(rows()).toBe(0);
    expect(browser.jar.size).toBe(0);
    // The same with a raised limit is stored: the limit, not the store, refused it.
    const raised = createSessions({ secret: SECRET, store, maxRecordBytes: 20_000_000 });
    await new Browser(raised).request((s) => s.set("v", "x".repeat(10_000_000)));
    expect(rows()).toBe(1);
  });

  it("Express: the handler's response becomes a 500 through Express's error handling, with no cookie and no record", async () => {
    const { store, rows } = sqlite("express");
    const core = createSessions({ secret: SECRET, store });
    cleanup.push(() => core.close());
    const app = express();
    app.use(expressSessions(core));
    app.get("/huge", (req, res) => {
      req.session.untyped().set("v", "x".repeat(10_000_000));
      res.redirect("/");
    });
    const errors: unknown[] = [];
    app.use((error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      errors.push(error);
      res.status(500).send("too large");
    });
    const response = await request(app).get("/huge");
    expect(response.status).toBe(500);
    expect(response.headers["set-cookie"]).toBeUndefined();
    expect(response.headers.location).toBeUndefined();
    expect((errors[0] as FlagonError).code).toBe("ERR_SESSION_TOO_LARGE");
    expect(rows()).toBe(0);
  });

  it.each([0, 100, 1.5, -1, Number.NaN, "64k"])("refuses maxRecordBytes %s with ConfigError", (value) => {
    expect(() => createSessions({ secret: SECRET, maxRecordBytes: value as number })).toThrow(ConfigError);
  });

  it("Infinity turns the limit off", async () => {
    const core = createSessions({ secret: SECRET, maxRecordBytes: Number.POSITIVE_INFINITY });
    const session = await core.load({ headers: {} });
    session.set("v", "x".repeat(100_000));
    expect(() => core.prepare(session)).not.toThrow();
  });
});
