import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningLesson, startLesson } from "./start-lesson.js";

/** Debian's Chromium, installed by .ci/run (`apt-get install -y chromium`); never `npx playwright install`. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];
const artifacts = fileURLToPath(new URL("../../test-results", import.meta.url));

let browser: Browser;
beforeAll(async () => {
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  mkdirSync(artifacts, { recursive: true });
});
afterAll(async () => {
  await browser?.close();
});

describe.each(["sqlite", "memory"])("a learner walks the lesson in Chromium (SESSION_STORE=%s)", (store) => {
  let lesson: RunningLesson;
  let workDir: string;
  let context: BrowserContext;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    // A fresh working directory, like a fresh clone: the app creates data/ in it.
    workDir = mkdtempSync(join(tmpdir(), "flagon-e2e-"));
    lesson = await startLesson({ cwd: workDir, env: { SESSION_STORE: store } });
    context = await browser.newContext({ baseURL: lesson.url, viewport: { width: 1100, height: 640 } });
    page = await context.newPage();
    // Console errors include CSP violations (a blocked stylesheet, say) and failed loads.
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(message.text());
    });
    page.on("pageerror", (error) => problems.push(error.message));
  });
  afterAll(async () => {
    await context?.close();
    const code = await lesson?.stop();
    rmSync(workDir, { recursive: true, force: true });
    expect(code).toBe(0);
  });

  const cookie = async (name: string) => (await context.cookies()).find((c) => c.name === name);
  /** An element's text with whitespace collapsed, as a reader sees it. */
  const text = async (selector: string) =>
    ((await page.locator(selector).textContent()) ?? "").replace(/\s+/g, " ").trim();
  const heading = () => text("main h1");
  const flashes = async () =>
    (await page.locator("ul.flashes li").allTextContents()).map((item) => item.replace(/\s+/g, " ").trim());
  /** Clicks and waits for the page it leads to (the URL alone may not change: POST /login → /login). */
  const clickAndLoad = async (selector: string) => {
    await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.locator(selector).click()]);
  };
  const follow = async (path: string) => {
    await clickAndLoad(`nav a[href="${path}"]`);
    expect(new URL(page.url()).pathname).toBe(path);
  };

  it("opens the home page: links to every route, nothing held yet", async () => {
    const response = await page.goto("/");
    expect(response?.status()).toBe(200);
    expect(await heading()).toBe("Sessions, cookies and flashed messages");
    const links = await page
      .locator("nav a")
      .evaluateAll((anchors) => anchors.map((a) => a.getAttribute("href")));
    expect(links).toEqual(
      expect.arrayContaining([
        "/session_set",
        "/session_get",
        "/session_delete",
        "/cookie_set",
        "/cookies_get",
        "/cookies_delete",
        "/login",
      ]),
    );
    expect(await text(".card.browser")).toContain("No cookies.");
    expect(await text(".card.server")).toContain("An empty session.");
    // The stylesheet loaded under the page's CSP.
    expect(await page.locator("header.site").evaluate((el) => getComputedStyle(el).borderBottomStyle)).toBe(
      "solid",
    );
  });

  it("sessions: set, get, delete", async () => {
    await follow("/session_set");
    expect(await heading()).toBe("Session data set successfully.");
    const sid = await cookie("sid");
    expect(sid).toMatchObject({ httpOnly: true, sameSite: "Lax", secure: false, path: "/" });
    expect(sid?.expires).toBe(-1); // a browser-session cookie, as in Flask
    const server = await text(".card.server");
    expect(server).toContain('"Leo"');
    expect(server).toContain('"Hello, World!"');
    // Page scripts cannot read the session cookie (HttpOnly).
    expect(await page.evaluate(() => document.cookie)).not.toContain("sid=");

    await follow("/session_get");
    expect(await heading()).toBe("Leo. Hello, World!.");
    expect(await text(".card.browser")).toContain("session id · HttpOnly · opaque");

    await follow("/session_delete");
    expect(await heading()).toBe("Session data deleted successfully.");
    // The server keeps an emptied record until it expires (so a concurrent request's flash survives);
    // what matters is that the session holds nothing.
    expect(await text(".card.server")).toContain("An empty session.");
    await follow("/session_get");
    expect(await heading()).toBe("Session not valid.");
  });

  it("cookies: set, get, delete", async () => {
    await follow("/cookie_set");
    expect(await heading()).toBe("Cookies set successfully.");
    expect(await cookie("cookie_name")).toMatchObject({
      value: "cookie_value",
      httpOnly: false,
      sameSite: "Lax",
    });
    expect(await page.evaluate(() => document.cookie)).toContain("cookie_name=cookie_value");

    await follow("/cookies_get");
    expect(await heading()).toBe("cookie_value");
    expect(await text(".card.browser")).toContain("cookie_value");

    await follow("/cookies_delete");
    expect(await heading()).toBe("Cookies deleted successfully.");
    expect(await cookie("cookie_name")).toBeUndefined();
    await follow("/cookies_get");
    expect(await heading()).toBe("No cookie with this name");
  });

  it("message flashing: a failed login, then leo / 1234, each message shown exactly once", async () => {
    await follow("/login");
    expect(await page.locator('input[name="password"]').getAttribute("type")).toBe("password");
    await page.fill('input[name="username"]', "leo");
    await page.fill('input[name="password"]', "wrong");
    await clickAndLoad('input[type="submit"]');
    expect(await flashes()).toEqual(["Login Failed."]);
    expect(await text("header.site")).not.toContain("Logged in as");
    // The form again, ready for the retry.
    expect(await heading()).toBe("Login");

    await follow("/login");
    expect(await flashes()).toEqual([]);
    const before = (await cookie("sid"))?.value;
    await page.fill('input[name="username"]', "leo");
    await page.fill('input[name="password"]', "1234");
    await clickAndLoad('input[type="submit"]');
    // Post/Redirect/Get: the login's 303 led to the home page, which shows the flash.
    expect(new URL(page.url()).pathname).toBe("/");
    expect(await flashes()).toEqual(["Login Successfully."]);
    expect(await text("header.site")).toContain("Logged in as leo");
    // Reloading is a GET of the home page: no form re-submitted, no 403, the flash shown once.
    const reloaded = await page.reload({ waitUntil: "load" });
    expect(reloaded?.status()).toBe(200);
    expect(reloaded?.request().method()).toBe("GET");
    expect(await flashes()).toEqual([]);
    expect(await text("header.site")).toContain("Logged in as leo");
    const after = await cookie("sid");
    expect(after).toMatchObject({ httpOnly: true, sameSite: "Lax" });
    expect(after?.value).not.toBe(before); // a new session id on login

    // The next page shows no flashed message: it was consumed when displayed.
    await clickAndLoad("a.brand");
    expect(await flashes()).toEqual([]);
    expect(await text(".card.server")).toContain('"leo"');
  });

  it("the home page after login shows both sides (screenshot artifact)", async () => {
    await follow("/session_set");
    await follow("/cookie_set");
    await clickAndLoad("a.brand");
    const browserSide = await text(".card.browser");
    expect(browserSide).toContain("cookie_value");
    expect(browserSide).toContain("session id · HttpOnly · opaque");
    expect(browserSide).not.toContain((await cookie("sid"))?.value ?? "unreachable");
    const serverRows = await page
      .locator(".card.server tbody tr")
      .evaluateAll((rows) =>
        rows.map((row) => [...(row as HTMLTableRowElement).cells].map((cell) => cell.textContent?.trim())),
      );
    expect(serverRows).toEqual(
      expect.arrayContaining([
        ["user", '"leo"'],
        ["name", '"Leo"'],
        ["message", '"Hello, World!"'],
      ]),
    );
    await page.screenshot({ path: join(artifacts, `lesson-home-${store}.png`), fullPage: true });
  });

  it("logs out: the session is gone and the user forgotten", async () => {
    await clickAndLoad('header.site button[type="submit"]');
    expect(new URL(page.url()).pathname).toBe("/");
    expect(await cookie("sid")).toBeUndefined();
    expect(await text("header.site")).not.toContain("Logged in as");
    expect(await page.locator('nav a[href="/login"]').count()).toBe(1);
    expect(await text(".card.server")).toContain("An empty session.");
  });

  it("CSRF: a login form opened before logging in (another tab) is refused with the friendly page", async () => {
    const stale = await context.newPage();
    try {
      await stale.goto("/login");
      const staleToken = await stale.locator('input[name="csrf_token"]').getAttribute("value");
      expect(staleToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
      // Log in in the first tab: the session id and its CSRF token rotate.
      await follow("/login");
      await page.fill('input[name="username"]', "leo");
      await page.fill('input[name="password"]', "1234");
      await clickAndLoad('input[type="submit"]');
      expect(await text("header.site")).toContain("Logged in as leo");
      // The old tab's form carries the token from before login.
      await stale.fill('input[name="username"]', "leo");
      await stale.fill('input[name="password"]', "1234");
      const [response] = await Promise.all([
        stale.waitForNavigation({ waitUntil: "load" }),
        stale.locator('input[type="submit"]').click(),
      ]);
      expect(response?.status()).toBe(403);
      expect(await stale.locator("main h1").textContent()).toBe("This form could not be accepted");
      expect(await stale.locator("main p").textContent()).toContain("CSRF check: invalid-token");
      // The 403 page has the navigation of every page: who is logged in, and a logout button.
      expect(((await stale.locator("header.site").textContent()) ?? "").replace(/\s+/g, " ")).toContain(
        "Logged in as leo",
      );
      expect(await stale.locator('header.site button[type="submit"]').count()).toBe(1);
      // Reloading gives a fresh form that works.
      await stale.goto("/login");
      expect(await stale.locator('main input[name="csrf_token"]').getAttribute("value")).not.toBe(staleToken);
      await stale.fill('input[name="username"]', "leo");
      await stale.fill('input[name="password"]', "1234");
      await Promise.all([
        stale.waitForNavigation({ waitUntil: "load" }),
        stale.locator('input[type="submit"]').click(),
      ]);
      expect(await stale.locator("ul.flashes li").allTextContents()).toEqual(["Login Successfully."]);
      // That login rotated the token again: the first tab loads a page to get it, then logs out.
      await page.goto("/");
      expect(await text("header.site")).toContain("Logged in as leo");
      await clickAndLoad('header.site button[type="submit"]');
      expect(await text("header.site")).not.toContain("Logged in as");
    } finally {
      await stale.close();
    }
  });

  it("shows the friendly 404 page", async () => {
    const response = await page.goto("/lesson-7");
    expect(response?.status()).toBe(404);
    expect(await heading()).toBe("Page not found");
  });

  it("had no console errors or CSP violations on the way", () => {
    // The 404 above is reported by Chromium as a failed resource load; nothing else may be.
    expect(problems.filter((text) => !/404 \(Not Found\)/.test(text))).toEqual([]);
  });
});
