/**
 * Chunked cookie sessions in a real browser (Chromium): it stores every chunk line flagon sends, sends
 * them back so the session reads, and drops the expired names when the session shrinks; a session moved
 * to the server by hybridStore leaves the browser one short cookie.
 */
import { once } from "node:events";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sessions } from "../../src/adapters/express/index.js";
import { cookieStore, createSessions, hybridStore, memoryStore, type SessionStore } from "../../src/index.js";

const SECRET = "chunked-browser-test-secret-0123456789abcdef";

/** Text JSON and base64 cannot shrink. */
function noise(length: number): string {
  let out = "";
  let x = 7;
  while (out.length < length) {
    x = (x * 1103515245 + 12345) % 2147483648;
    out += x.toString(36);
  }
  return out.slice(0, length);
}

let browser: Browser;
const servers: Server[] = [];

beforeAll(async () => {
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
});

async function start(store: SessionStore): Promise<string> {
  const app = express();
  app.use(sessions(createSessions({ secret: SECRET, store })));
  app.get("/set", (req, res) => {
    req.session.untyped().set("essay", noise(Number(req.query.size)));
    res.type("text/plain").send("set");
  });
  app.get("/read", (req, res) => {
    const essay = req.session.untyped().get("essay");
    res.json({
      length: typeof essay === "string" ? essay.length : 0,
      intact: essay === noise(String(essay ?? "").length),
    });
  });
  const server = app.listen(0, "127.0.0.1");
  servers.push(server);
  await once(server, "listening");
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe("Chromium and chunked cookies", () => {
  it("stores the chunks, sends them back, and forgets the expired ones", async () => {
    const base = await start(cookieStore());
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${base}/set?size=8000`);
      const names = (await context.cookies()).map((cookie) => cookie.name).sort();
      expect(names).toEqual(["sid.0", "sid.1", "sid.2"]);
      await page.goto(`${base}/read`);
      expect(JSON.parse((await page.textContent("body")) ?? "")).toEqual({ length: 8000, intact: true });

      await page.goto(`${base}/set?size=100`);
      expect((await context.cookies()).map((cookie) => cookie.name)).toEqual(["sid"]);
      await page.goto(`${base}/read`);
      expect(JSON.parse((await page.textContent("body")) ?? "")).toEqual({ length: 100, intact: true });
    } finally {
      await context.close();
    }
  });

  it("hybridStore: once the session moved to the server the browser holds one short cookie", async () => {
    const base = await start(hybridStore({ server: memoryStore() }));
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${base}/set?size=5000`);
      const cookies = await context.cookies();
      expect(cookies.map((cookie) => cookie.name)).toEqual(["sid"]);
      expect(cookies[0]!.value.length).toBeLessThan(200);
      await page.goto(`${base}/read`);
      expect(JSON.parse((await page.textContent("body")) ?? "")).toEqual({ length: 5000, intact: true });
    } finally {
      await context.close();
    }
  });
});
