/**
 * docs/security.md §34 — store failure is loud. A store that rejects (Redis down, SQLite locked)
 * makes load/commit reject with a typed `SessionStoreError` (code ERR_STORE_*) that adapters turn
 * into a 503. The handler never runs with a silently empty session, no Set-Cookie is sent for a write
 * that did not happen, and the error message names no id or key (counter-example: express-session's
 * `storeReady` fallback).
 */
import { describe, expect, it } from "vitest";
import {
  createSessions,
  memoryStore,
  type ServerStore,
  SessionStoreError,
  storeKey,
} from "../../src/index.js";
import { Browser, errorText, failingStore, SECRET } from "../session/harness.js";

async function rejection(promise: Promise<unknown>): Promise<SessionStoreError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SessionStoreError);
  return error as SessionStoreError;
}

async function setup() {
  const inner = memoryStore();
  const store = failingStore(inner);
  const sessions = createSessions({ secret: SECRET, store });
  const browser = new Browser(sessions);
  let id = "";
  await browser.request((s) => {
    s.set("user", "alice");
    id = s.id;
  });
  return { inner, store, sessions, browser, id };
}

describe("store failure is loud (property 34)", () => {
  it("get rejects → load rejects with ERR_STORE_FAILED; the handler never runs", async () => {
    const { store, browser, id } = await setup();
    store.fail.get = true;
    let ran = false;
    const error = await rejection(
      browser.request(() => {
        ran = true;
      }),
    );
    expect(ran).toBe(false);
    expect(error.code).toBe("ERR_STORE_FAILED");
    expect(error.message).toBe("session store read failed");
    expect((error.cause as Error).message).toContain("ECONNREFUSED"); // the driver's error, for operators
    expect(error.message).not.toContain(storeKey(id));
    expect(errorText(error)).not.toContain(id);
  });

  it("a store's own SessionStoreError (ERR_STORE_UNAVAILABLE) reaches the caller unchanged", async () => {
    const { store, browser } = await setup();
    store.fail.get = true;
    store.error = new SessionStoreError("redis is reconnecting", { code: "ERR_STORE_UNAVAILABLE" });
    const error = await rejection(browser.request());
    expect(error).toBe(store.error);
    expect(error.code).toBe("ERR_STORE_UNAVAILABLE");
  });

  it("a store that throws synchronously is reported the same way", async () => {
    const broken: ServerStore = {
      kind: "server",
      get: () => {
        throw new TypeError("driver bug");
      },
      apply: async () => {},
      destroy: async () => {},
    };
    const sessions = createSessions({ secret: SECRET, store: memoryStore() });
    const browser = new Browser(sessions);
    await browser.request((s) => s.set("a", 1));
    const brokenSessions = createSessions({ secret: SECRET, store: broken });
    const error = await rejection(brokenSessions.load({ headers: { cookie: browser.cookieHeader! } }));
    expect(error.code).toBe("ERR_STORE_FAILED");
    expect(error.cause).toBeInstanceOf(TypeError);
  });

  it("apply rejects on a new session → commit rejects and sends no Set-Cookie for the unsaved session", async () => {
    const { store, sessions } = await setup();
    store.fail.apply = true;
    const session = await sessions.load({ headers: {} });
    session.set("user", "bob");
    const headers = new Headers();
    const error = await rejection(sessions.commit(session, headers));
    expect(error.code).toBe("ERR_STORE_FAILED");
    expect(error.message).toBe("session store write failed");
    expect(headers.getSetCookie()).toEqual([]);
    expect(errorText(error)).not.toContain(session.id);
  });

  it("apply rejects on a change → commit rejects; after recovery the stored data is intact", async () => {
    const { store, browser } = await setup();
    store.fail.apply = true;
    await rejection(browser.request((s) => s.set("user", "mallory")));
    store.fail.apply = false;
    let user: unknown;
    await browser.request((s) => {
      user = s.get("user");
    });
    expect(user).toBe("alice");
  });

  it("destroy rejects on logout → commit rejects and the cookie is not cleared (the user is not told they left)", async () => {
    const { inner, store, browser, id } = await setup();
    store.fail.destroy = true;
    const before = browser.sessionCookie;
    const error = await rejection(browser.request((s) => s.destroy()));
    expect(error.message).toBe("session store delete failed");
    expect(browser.sessionCookie).toBe(before);
    expect(await inner.get(storeKey(id))).not.toBeNull();
    store.fail.destroy = false;
    await browser.request((s) => s.destroy());
    expect(await inner.get(storeKey(id))).toBeNull();
  });

  it("regenerate with a failing store → commit rejects and no new id is handed out", async () => {
    const { store, browser } = await setup();
    store.fail.destroy = true;
    const before = browser.sessionCookie;
    await rejection(browser.request((s) => s.regenerate()));
    expect(browser.sessionCookie).toBe(before);
  });

  it("a forged or garbage cookie needs no store round trip, so it still gets an empty session while the store is down", async () => {
    const { store, sessions } = await setup();
    store.fail.get = true;
    const session = await sessions.load({ headers: { cookie: "sid=v1.not.a.real.cookie" } });
    expect(session.isNew).toBe(true);
    const anonymous = await sessions.load({ headers: {} });
    expect(anonymous.isNew).toBe(true);
  });
});
