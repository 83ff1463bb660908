/**
 * The lesson's session lifecycle in Chromium: two browsers (contexts) logged in as leo see each other
 * in the "Your sessions" panel, "Log out everywhere else" in one ends the other (whose next page says
 * so), and a session that outlived SESSION_LIFETIME says it expired. Runs `npm start` itself.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeDevice } from "../../examples/lesson/lifecycle.js";
import { type RunningLesson, startLesson } from "./start-lesson.js";

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
/** The second browser says it is Firefox on Windows (Chromium with another User-Agent header). */
const FIREFOX_ON_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0";
const THIRTY_DAYS = 30 * 86400;

let browser: Browser;
beforeAll(async () => {
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  mkdirSync(artifacts, { recursive: true });
});
afterAll(async () => {
  await browser?.close();
});

/** A browser window on the lesson: its page, and the console errors (CSP violations included) it saw. */
async function open(url: string, options: { userAgent?: string } = {}) {
  const context = await browser.newContext({
    baseURL: url,
    viewport: { width: 1100, height: 640 },
    ...options,
  });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(message.text());
  });
  page.on("pageerror", (error) => problems.push(error.message));
  return { context, page, problems };
}

/** An element's text with whitespace collapsed, as a reader sees it. */
const text = async (page: Page, selector: string) =>
  ((await page.locator(selector).first().textContent()) ?? "").replace(/\s+/g, " ").trim();
/** The panel's rows as [browser, signed in, last seen], "this browser" included in the first cell. */
const panelRows = (page: Page) =>
  page
    .locator("aside.sessions tbody tr")
    .evaluateAll((rows) =>
      rows.map((row) =>
        [...(row as HTMLTableRowElement).cells].map((cell) =>
          (cell.textContent ?? "").replace(/\s+/g, " ").trim(),
        ),
      ),
    );
const flashes = async (page: Page) =>
  (await page.locator("ul.flashes li").allTextContents()).map((item) => item.replace(/\s+/g, " ").trim());
const notices = async (page: Page) => page.locator("main p.notice").allTextContents();
/** Clicks and waits for the page it leads to. */
async function clickAndLoad(page: Page, selector: string) {
  await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.locator(selector).click()]);
}
async function logIn(page: Page, remember: boolean) {
  await page.goto("/login");
  await page.fill('input[name="username"]', "leo");
  await page.fill('input[name="password"]', "1234");
  if (remember) await page.check('input[name="remember"]');
  await clickAndLoad(page, 'main input[type="submit"]');
  expect(await flashes(page)).toEqual(["Login Successfully."]);
}
async function sessionCookie(context: BrowserContext) {
  return (await context.cookies()).find((cookie) => cookie.name === "sid");
}

describe.each(["sqlite", "memory"])("two browsers logged in as leo (SESSION_STORE=%s)", (store) => {
  let lesson: RunningLesson;
  let workDir: string;
  let laptop: Awaited<ReturnType<typeof open>>;
  let phone: Awaited<ReturnType<typeof open>>;
  let laptopDevice: string;

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), "flagon-e2e-sessions-"));
    lesson = await startLesson({ cwd: workDir, env: { SESSION_STORE: store } });
    // The laptop sends what Chromium sends outside headless mode ("Chrome", not "HeadlessChrome").
    const headless = await browser.newContext();
    const agent = await (await headless.newPage()).evaluate(() => navigator.userAgent);
    await headless.close();
    laptop = await open(lesson.url, { userAgent: agent.replace("HeadlessChrome/", "Chrome/") });
    phone = await open(lesson.url, { userAgent: FIREFOX_ON_WINDOWS });
    laptopDevice = describeDevice(await laptop.page.evaluate(() => navigator.userAgent));
  });
  afterAll(async () => {
    await laptop?.context.close();
    await phone?.context.close();
    const code = await lesson?.stop();
    rmSync(workDir, { recursive: true, force: true });
    expect(code).toBe(0);
  });

  it("the laptop logs in, remembered for 30 days: the panel lists this browser", async () => {
    await laptop.page.goto("/login");
    expect(await text(laptop.page, "label.remember")).toBe("Remember me for 30 days");
    // Not logged in yet: no panel.
    expect(await laptop.page.locator("aside.sessions").count()).toBe(0);
    await logIn(laptop.page, true);
    expect(await text(laptop.page, "header.site")).toContain("Logged in as leo");
    expect(await panelRows(laptop.page)).toEqual([[`${laptopDevice} this browser`, "just now", "just now"]]);
    // Alone: no button.
    expect(await laptop.page.locator("aside.sessions button").count()).toBe(0);
    const cookie = await sessionCookie(laptop.context);
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Lax" });
    const lifetime = (cookie?.expires ?? 0) - Date.now() / 1000;
    expect(lifetime).toBeGreaterThan(THIRTY_DAYS - 120);
    expect(lifetime).toBeLessThanOrEqual(THIRTY_DAYS + 1);
  });

  it("the phone logs in (not remembered): each browser lists both, itself marked", async () => {
    await logIn(phone.page, false);
    // A browser-session cookie: gone when the browser closes.
    expect((await sessionCookie(phone.context))?.expires).toBe(-1);
    expect(await panelRows(phone.page)).toEqual([
      [laptopDevice, "just now", "just now"],
      ["Firefox on Windows this browser", "just now", "just now"],
    ]);
    await laptop.page.goto("/");
    expect(await panelRows(laptop.page)).toEqual([
      [`${laptopDevice} this browser`, "just now", "just now"],
      ["Firefox on Windows", "just now", "just now"],
    ]);
    const button = laptop.page.locator("aside.sessions button");
    expect(await button.textContent()).toBe("Log out everywhere else");
    // Styled by the stylesheet under the page's CSP (no inline styles).
    expect(await button.evaluate((el) => getComputedStyle(el).borderTopStyle)).toBe("solid");
    expect(await laptop.page.locator("aside.sessions tr.current").count()).toBe(1);
    await laptop.page.screenshot({ path: join(artifacts, `lesson-sessions-${store}.png`), fullPage: true });
  });

  it("Log out everywhere else on the laptop ends the phone's session; the phone's next page says so, once", async () => {
    await clickAndLoad(laptop.page, "aside.sessions button");
    expect(new URL(laptop.page.url()).pathname).toBe("/");
    expect(await flashes(laptop.page)).toEqual(["Logged out everywhere else: 1 other session ended."]);
    expect(await text(laptop.page, "header.site")).toContain("Logged in as leo");
    expect(await panelRows(laptop.page)).toEqual([[`${laptopDevice} this browser`, "just now", "just now"]]);

    // The phone still shows its old page; its next page is another route of the lesson.
    await clickAndLoad(phone.page, 'nav a[href="/session_get"]');
    expect(await notices(phone.page)).toEqual(["You were logged out from another browser."]);
    expect(await text(phone.page, "header.site")).not.toContain("Logged in as");
    expect(await phone.page.locator("aside.sessions").count()).toBe(0);
    await phone.page.screenshot({ path: join(artifacts, `lesson-session-ended-${store}.png`) });
    await phone.page.reload();
    expect(await notices(phone.page)).toEqual([]);
    // The laptop is still logged in.
    await laptop.page.reload();
    expect(await text(laptop.page, "header.site")).toContain("Logged in as leo");
  });

  it("had no console errors or CSP violations", () => {
    expect(laptop.problems).toEqual([]);
    expect(phone.problems).toEqual([]);
  });
});

describe("a session that outlived SESSION_LIFETIME=2", () => {
  let lesson: RunningLesson;
  let workDir: string;

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), "flagon-e2e-expiry-"));
    lesson = await startLesson({ cwd: workDir, env: { SESSION_STORE: "memory", SESSION_LIFETIME: "2" } });
  });
  afterAll(async () => {
    const code = await lesson?.stop();
    rmSync(workDir, { recursive: true, force: true });
    expect(code).toBe(0);
  });

  it("says once that it expired; a remembered one (30 days) lives on", async () => {
    const forgotten = await open(lesson.url);
    const remembered = await open(lesson.url);
    try {
      await logIn(remembered.page, true);
      await logIn(forgotten.page, false);
      // After the login's response: its session was last seen no later than this.
      const loggedInAt = Date.now();
      expect(await notices(forgotten.page)).toEqual([]);
      // At least the lifetime (a slow machine only waits longer), without a request that would renew it.
      while (Date.now() - loggedInAt < 2200) await new Promise((resolve) => setTimeout(resolve, 100));

      await clickAndLoad(forgotten.page, 'nav a[href="/session_get"]');
      expect(await notices(forgotten.page)).toEqual(["Your session expired. Please log in again."]);
      expect(await text(forgotten.page, "header.site")).not.toContain("Logged in as");
      await forgotten.page.reload();
      expect(await notices(forgotten.page)).toEqual([]);

      await remembered.page.goto("/");
      expect(await notices(remembered.page)).toEqual([]);
      expect(await text(remembered.page, "header.site")).toContain("Logged in as leo");
      expect(forgotten.problems).toEqual([]);
      expect(remembered.problems).toEqual([]);
    } finally {
      await forgotten.context.close();
      await remembered.context.close();
    }
  });
});
