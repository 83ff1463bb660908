/**
 * docs/security.md §33 — one Set-Cookie per name (RFC 6265bis §4.1.1: a server "SHOULD NOT include
 * more than one Set-Cookie header field in the same response with the same cookie-name"). Every
 * combination of writes in one request ends in exactly one Set-Cookie for the session cookie.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  cookieStore,
  createSessions,
  memoryStore,
  type Session,
  type SessionStore,
  type SessionsOptions,
} from "../../src/index.js";
import { Browser, MINUTE, OLD_SECRET, parseSetCookie, SECRET, T0, useClock } from "../session/harness.js";

afterEach(() => {
  vi.useRealTimers();
});

interface Scenario {
  /** Options for createSessions. */
  options?: Partial<SessionsOptions<Record<string, unknown>>>;
  /** Start logged in (default) or with no cookie. */
  start?: "logged-in" | "anonymous" | "bad-cookie" | "old-key";
  /** Advance the clock between login and the request. */
  after?: number;
  handler: (s: Session) => void;
  /** Commit the same session into the same headers twice. */
  commitTwice?: boolean;
  /** How many session Set-Cookies a server store sends (never more than one). @default 1 */
  serverSends?: 0 | 1;
}

const scenarios: Array<[string, Scenario]> = [
  ["set() twice", { start: "anonymous", handler: (s) => s.set("a", 1).set("a", 2) }],
  ["set, delete, set", { start: "anonymous", handler: (s) => s.set("a", 1).delete("a") && s.set("a", 3) }],
  [
    "set() twice on a loaded session (a server store sends none: the id did not change)",
    {
      serverSends: 0,
      handler: (s) => s.set("a", 1).set("a", 2),
    },
  ],
  ["regenerate() then commit", { handler: (s) => s.regenerate() }],
  [
    "regenerate, set, regenerate",
    {
      handler: (s) => {
        s.regenerate();
        s.set("b", 1);
        s.regenerate();
      },
    },
  ],
  [
    "flash() plus destroy()",
    {
      handler: (s) => {
        s.flash("bye");
        s.destroy();
      },
    },
  ],
  [
    "destroy() then flash()",
    {
      handler: (s) => {
        s.destroy();
        s.flash("You have been logged out.");
      },
    },
  ],
  [
    "set then destroy",
    {
      handler: (s) => {
        s.set("a", 1);
        s.destroy();
      },
    },
  ],
  [
    "regenerate then destroy",
    {
      handler: (s) => {
        s.regenerate();
        s.destroy();
      },
    },
  ],
  [
    "permanent on, set, permanent off and on",
    {
      handler: (s) => {
        s.permanent = true;
        s.set("a", 1);
        s.permanent = false;
        s.permanent = true;
      },
    },
  ],
  [
    "clear then set",
    {
      serverSends: 0,
      handler: (s) => {
        s.clear();
        s.set("a", 1);
      },
    },
  ],
  [
    "set then clear (emptied: the cookie store clears its cookie)",
    {
      serverSends: 0,
      handler: (s) => {
        s.set("a", 1);
        s.clear();
      },
    },
  ],
  [
    "rolling refresh due plus set",
    { options: { rolling: true }, after: 5 * MINUTE, handler: (s) => s.set("a", 1) },
  ],
  [
    "idle refresh due plus regenerate",
    {
      options: { idleTimeout: 1800 },
      after: 5 * MINUTE,
      handler: (s) => s.regenerate(),
    },
  ],
  ["cookie signed by an old key (re-issue) plus set", { start: "old-key", handler: (s) => s.set("a", 1) }],
  ["cookie signed by an old key plus regenerate", { start: "old-key", handler: (s) => s.regenerate() }],
  ["bad cookie plus set", { start: "bad-cookie", handler: (s) => s.set("a", 1) }],
  [
    "bad cookie plus flash and regenerate",
    {
      start: "bad-cookie",
      handler: (s) => {
        s.flash("x");
        s.regenerate();
      },
    },
  ],
  [
    "new session: set, flash, regenerate, permanent",
    {
      start: "anonymous",
      handler: (s) => {
        s.set("a", 1);
        s.flash("hi");
        s.regenerate();
        s.permanent = true;
      },
    },
  ],
  [
    "new session: csrfToken, regenerate, csrfToken",
    {
      start: "anonymous",
      handler: (s) => {
        s.csrfToken();
        s.regenerate();
        s.csrfToken();
      },
    },
  ],
  ["commit called twice after regenerate", { commitTwice: true, handler: (s) => s.regenerate() }],
  ["commit called twice after destroy", { commitTwice: true, handler: (s) => s.destroy() }],
  [
    "commit called twice on a new session",
    { commitTwice: true, start: "anonymous", handler: (s) => s.set("a", 1) },
  ],
];

describe.each<[string, () => SessionStore, boolean]>([
  ["memoryStore, http", () => memoryStore(), false],
  ["memoryStore, https", () => memoryStore(), true],
  ["cookieStore, http", () => cookieStore(), false],
  ["cookieStore, https", () => cookieStore(), true],
])("one Set-Cookie per name: %s (property 33)", (_name, makeStore, secure) => {
  it.each(scenarios)("%s", async (_scenario, scenario) => {
    const clock = useClock(T0);
    const store = makeStore();
    const sessions = createSessions({ secret: [SECRET, OLD_SECRET], store, ...scenario.options });
    const browser = new Browser(sessions, secure);
    const start = scenario.start ?? "logged-in";
    if (start === "logged-in") {
      await browser.request((s) => s.set("user", "alice"));
    } else if (start === "old-key") {
      const old = new Browser(createSessions({ secret: OLD_SECRET, store, ...scenario.options }), secure);
      await old.request((s) => s.set("user", "alice"));
      browser.sessionCookie = old.sessionCookie;
    } else if (start === "bad-cookie") {
      browser.sessionCookie = "v1.forged.value";
    }
    if (scenario.after !== undefined) clock.advance(scenario.after);

    const session = await sessions.load({ headers: { cookie: browser.cookieHeader }, secure });
    scenario.handler(session);
    const headers = new Headers({ "set-cookie": "theme=dark; Path=/" }); // the app's own cookie survives
    await sessions.commit(session, headers);
    if (scenario.commitTwice) await sessions.commit(session, headers);

    const names = headers.getSetCookie().map((line) => parseSetCookie(line).name);
    const expected = store.kind === "server" ? (scenario.serverSends ?? 1) : 1;
    expect(names.filter((n) => n === sessions.cookieName(secure))).toHaveLength(expected);
    expect(names.filter((n) => n !== sessions.cookieName(secure))).toEqual(["theme"]);
  });
});
