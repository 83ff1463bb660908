/**
 * CSRF in a real browser (Chromium), for both lesson apps (Hono and Express): the login and
 * logout forms work as a user submits them, and a page on another site that posts to the app
 * gets the 403 page and changes nothing.
 */
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp as createExpressApp } from "../../examples/lesson/app.js";
import { createApp as createHonoApp } from "../../examples/lesson-hono/app.js";
import { memoryStore } from "../../src/index.js";

const SECRET = "csrf-browser-test-secret-0123456789abcdefgh";
/** The attacker's site: a different registrable name, so the browser sees a cross-site request. */
const ATTACKER_HOST = "attacker.test";

type Closer = () => Promise<void>;

async function listen(fetchHandler: (request: Request) => Response | Promise<Response>) {
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const started = serve({ fetch: fetchHandler, port: 0, hostname: "127.0.0.1" }, () => resolve(started));
  });
  const close: Closer = () => new Promise((resolve) => server.close(() => resolve()));
  return { port: (server.address() as AddressInfo).port, close };
}

async function startHono() {
  const app = createHonoApp({ secret: SECRET, store: memoryStore(), storeDescription: "in memory" });
  return listen(app.fetch);
}

async function startExpress() {
  const app = createExpressApp({ secret: SECRET, store: memoryStore(), storeDescription: "in memory" });
  const server = app.listen(0, "127.0.0.1");
  await once(server, "listening");
  const close: Closer = () => new Promise((resolve) => server.close(() => resolve()));
  return { port: (server.address() as AddressInfo).port, close };
}

let browser: Browser;
const closers: Closer[] = [];

/** The app on 127.0.0.1, and the attacker's page that auto-submits a logout form to it (guessed token). */
async function startSites(start: typeof startHono) {
  const lesson = await start();
  closers.push(lesson.close);
  const appUrl = `http://127.0.0.1:${lesson.port}`;
  // At /link, a plain link to the app's GET /session_delete (SameSite=Lax sends the cookie with it).
  const attacker = await listen(
    (request) =>
      new Response(
        new URL(request.url).pathname === "/link"
          ? `<!DOCTYPE html><html><body><a id="go" href="${appUrl}/session_delete">Free prize</a></body></html>`
          : `<!DOCTYPE html><html><body>
<form id="f" method="POST" action="${appUrl}/logout"><input type="hidden" name="csrf_token" value="guess"></form>
<script>document.getElementById("f").submit();</script>
</body></html>`,
        { headers: { "content-type": "text/html; charset=utf-8" } },
      ),
  );
  closers.push(attacker.close);
  return { appUrl, attackerUrl: `http://${ATTACKER_HOST}:${attacker.port}/` };
}

beforeAll(async () => {
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      `--host-resolver-rules=MAP ${ATTACKER_HOST} 127.0.0.1`,
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  await Promise.all(closers.splice(0).map((close) => close()));
});

describe.each([
  ["Hono", startHono],
  ["Express", startExpress],
])("CSRF in Chromium (%s lesson app)", (_name, start) => {
  it("the login and logout forms work; a cross-site post gets the 403 page and changes nothing", async () => {
    const { appUrl, attackerUrl } = await startSites(start);
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await page.goto(`${appUrl}/login`);
      await page.fill('input[name="username"]', "leo");
      await page.fill('input[name="password"]', "1234");
      await Promise.all([page.waitForNavigation(), page.click('input[type="submit"]')]);
      expect(await page.textContent(".flashes")).toContain("Login Successfully.");
      expect(await page.textContent(".who")).toContain("Logged in as leo");

      // The attacker's page posts to /logout from another site.
      const forged = page.waitForResponse((response) => response.url() === `${appUrl}/logout`);
      await page.goto(attackerUrl);
      const response = await forged;
      expect(response.status()).toBe(403);
      expect(response.request().headers().origin).toBe(attackerUrl.replace(/\/$/, ""));
      await page.waitForURL(`${appUrl}/logout`);
      expect(await page.textContent("h1")).toBe("This form could not be accepted");

      // Still logged in: the forged logout changed nothing.
      await page.goto(`${appUrl}/`);
      expect(await page.textContent(".who")).toContain("Logged in as leo");

      // The real logout button (its hidden token) works.
      await Promise.all([page.waitForURL(`${appUrl}/`), page.click('form.inline button[type="submit"]')]);
      expect(await page.locator(".who").count()).toBe(0);
      expect(await page.getAttribute('a[href="/login"]', "href")).toBe("/login");
    } finally {
      await context.close();
    }
  });

  it("a link on another site to /session_delete removes the lesson's data, not the login", async () => {
    const { appUrl, attackerUrl } = await startSites(start);
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await page.goto(`${appUrl}/login`);
      await page.fill('input[name="username"]', "leo");
      await page.fill('input[name="password"]', "1234");
      await Promise.all([page.waitForNavigation(), page.click('input[type="submit"]')]);
      await page.goto(`${appUrl}/session_set`);
      await page.goto(`${attackerUrl}link`);
      const [response] = await Promise.all([page.waitForNavigation(), page.click("#go")]);
      expect(response?.url()).toBe(`${appUrl}/session_delete`);
      expect((await response?.request().allHeaders())?.["sec-fetch-site"]).toBe("cross-site");
      expect(await page.textContent("h1")).toBe("Session data deleted successfully.");
      // Still logged in, and the logout button (its token unchanged) still works.
      expect(await page.textContent(".who")).toContain("Logged in as leo");
      await Promise.all([page.waitForURL(`${appUrl}/`), page.click('form.inline button[type="submit"]')]);
      expect(await page.locator(".who").count()).toBe(0);
    } finally {
      await context.close();
    }
  });
});
