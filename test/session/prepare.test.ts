/**
 * `prepare`: the commit plan, computed once, synchronously and without I/O; adapters await its
 * `write` (only when there is one) and apply it to their response with one function per target.
 */
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { cookieStore, createSessions, memoryStore, type ServerStore } from "../../src/index.js";
import { applyPlanToHeaders, applyPlanToResponse, mergeVary } from "../../src/session/plan.js";

const secret = "commit-plan-secret-0123456789abcdefghij";

async function cookieAfterWrite(sessions: ReturnType<typeof createSessions>): Promise<string> {
  const session = await sessions.load({ headers: {} });
  session.set("name", "Leo");
  const headers = new Headers();
  await sessions.commit(session, headers);
  return (headers.getSetCookie()[0] ?? "").split(";")[0] as string;
}

/** A memory store that counts the calls made to it. */
function countingStore(): ServerStore & { calls: string[] } {
  const inner = memoryStore();
  const calls: string[] = [];
  return {
    kind: "server",
    calls,
    get: (key) => {
      calls.push("get");
      return inner.get(key);
    },
    apply: (key, changes) => {
      calls.push("apply");
      return inner.apply(key, changes);
    },
    destroy: (key) => {
      calls.push("destroy");
      return inner.destroy(key);
    },
  };
}

describe("prepare: the commit plan", () => {
  it("a read of a server-store session needs no write: Vary only", async () => {
    const sessions = createSessions({ secret, store: memoryStore() });
    const cookie = await cookieAfterWrite(sessions);
    const session = await sessions.load({ headers: { cookie } });
    expect(session.get("name")).toBe("Leo");
    const plan = sessions.prepare(session);
    expect(plan.write).toBeUndefined();
    expect(plan.vary).toBe(true);
    expect(plan.setCookie).toBeUndefined();
    const headers = new Headers();
    applyPlanToHeaders(headers, plan);
    expect(headers.get("vary")).toBe("Cookie");
    expect(headers.getSetCookie()).toEqual([]);
  });

  it("a session the handler never touched adds nothing, not even Vary", async () => {
    const sessions = createSessions({ secret, store: memoryStore() });
    const plan = sessions.prepare(await sessions.load({ headers: {} }));
    expect(plan).toMatchObject({ write: undefined, vary: false, setCookie: undefined });
  });

  it("a server-store change: computing the plan does no I/O; its write does, once", async () => {
    const store = countingStore();
    const sessions = createSessions({ secret, store });
    const cookie = await cookieAfterWrite(sessions);
    const session = await sessions.load({ headers: { cookie } });
    session.set("name", "Ada");
    store.calls.length = 0;
    const plan = sessions.prepare(session);
    expect(store.calls).toEqual([]);
    expect(plan.write).toBeTypeOf("function");
    await plan.write?.();
    expect(store.calls).toEqual(["apply"]);
    const again = await sessions.load({ headers: { cookie } });
    expect(again.get("name")).toBe("Ada");
  });

  it("login (regenerate): the new record is written before the old one is deleted", async () => {
    const store = countingStore();
    const sessions = createSessions({ secret, store });
    const cookie = await cookieAfterWrite(sessions);
    const session = await sessions.load({ headers: { cookie } });
    session.regenerate();
    session.set("user", "leo");
    store.calls.length = 0;
    const plan = sessions.prepare(session);
    expect(plan.setCookie).toMatch(/^sid=/);
    await plan.write?.();
    expect(store.calls).toEqual(["apply", "destroy"]);
  });

  it("any cookie-store change is synchronous: the cookie is the store", async () => {
    const sessions = createSessions({ secret, store: cookieStore() });
    const session = await sessions.load({ headers: {} });
    session.set("name", "Leo");
    session.flash("saved");
    const plan = sessions.prepare(session);
    expect(plan.write).toBeUndefined();
    expect(plan.cacheControl).toBe("private, no-store");
    const headers = new Headers();
    applyPlanToHeaders(headers, plan);
    const cookie = (headers.getSetCookie()[0] ?? "").split(";")[0] as string;
    const next = await sessions.load({ headers: { cookie } });
    expect(next.get("name")).toBe("Leo");
    expect(next.getFlashedMessages()).toEqual(["saved"]);
  });

  it("throws ERR_COOKIE_TOO_LARGE when prepared, before any store call", async () => {
    const store = countingStore();
    const sessions = createSessions({ secret, store: cookieStore() });
    const session = await sessions.load({ headers: {} });
    session.set("blob", "x".repeat(20000));
    expect(() => sessions.prepare(session)).toThrow(
      expect.objectContaining({ code: "ERR_COOKIE_TOO_LARGE" }),
    );
    expect(store.calls).toEqual([]);
  });

  it("a second commit of the same session replaces its Set-Cookie line instead of adding one", async () => {
    const sessions = createSessions({ secret, store: cookieStore() });
    const session = await sessions.load({ headers: {} });
    session.set("name", "Leo");
    const headers = new Headers({ "set-cookie": "theme=dark; Path=/" });
    await sessions.commit(session, headers);
    session.set("name", "Ada");
    await sessions.commit(session, headers);
    const lines = headers.getSetCookie();
    expect(lines.filter((line) => line.startsWith("sid="))).toHaveLength(1);
    expect(lines).toContain("theme=dark; Path=/");
  });
});

describe("a set() that changes nothing", () => {
  it("setting a key to the primitive it holds writes nothing and sends no cookie; a new value or an object does", async () => {
    const store = countingStore();
    const sessions = createSessions({ secret, store });
    const cookie = await cookieAfterWrite(sessions); // name = "Leo"
    const same = await sessions.load({ headers: { cookie } });
    same.set("name", "Leo");
    expect(same.modified).toBe(false);
    expect(sessions.prepare(same)).toMatchObject({ write: undefined, setCookie: undefined, vary: true });

    const changed = await sessions.load({ headers: { cookie } });
    changed.set("name", "Ada");
    expect(sessions.prepare(changed).write).toBeTypeOf("function");

    const object = await sessions.load({ headers: { cookie } });
    object.set("name", "Leo").set("prefs", { theme: "dark" });
    expect(object.modified).toBe(true);

    const cleared = await sessions.load({ headers: { cookie } });
    cleared.clear();
    cleared.set("name", "Leo"); // after clear() the key is gone: setting it again is a change
    expect(cleared.modified).toBe(true);
  });
});

describe("mergeVary", () => {
  it.each([
    [undefined, "Cookie"],
    ["", "Cookie"],
    ["Accept-Encoding", "Accept-Encoding, Cookie"],
    ["accept-encoding, cookie", undefined],
    ["Accept-Encoding,Cookie", undefined],
    ["X-Cookie-Id", "X-Cookie-Id, Cookie"],
    ["*", undefined],
    ["Origin, *", undefined],
  ])("Vary %j + Cookie → %j", (current, expected) => {
    expect(mergeVary(current, "Cookie")).toBe(expected);
  });
});

describe("applyPlanToResponse (node:http)", () => {
  it("merges Vary set as an array, keeps the handler's cookies, sets Cache-Control with the cookie", async () => {
    const sessions = createSessions({ secret, store: cookieStore() });
    const session = await sessions.load({ headers: {} });
    session.set("name", "Leo");
    const plan = sessions.prepare(session);
    const server = createServer((_req, res: ServerResponse) => {
      res.setHeader("Vary", ["Accept-Encoding", "Origin"]);
      res.setHeader("Set-Cookie", ["theme=dark; Path=/"]);
      applyPlanToResponse(res, plan);
      res.end("ok");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      await response.text();
      expect(response.headers.get("vary")).toBe("Accept-Encoding, Origin, Cookie");
      const lines = response.headers.getSetCookie();
      expect(lines[0]).toBe("theme=dark; Path=/");
      expect(lines[1]).toMatch(/^sid=.*; HttpOnly; SameSite=Lax$/);
      expect(response.headers.get("cache-control")).toBe("private, no-store");
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
