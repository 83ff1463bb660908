/**
 * flagon/next's `route()` called as Next calls a Route Handler (a `NextRequest` in, a `Response`
 * out), with Next's own `NextResponse.redirect` and `redirect()`; the read-only session of
 * `getSession()`; the flash header between the proxy and the render. Server Actions and the proxy
 * inside a real Next server are covered by test/e2e/next.test.ts against the built example app.
 */
import { redirect } from "next/navigation.js";
import { NextRequest, NextResponse } from "next/server.js";
import { describe, expect, it } from "vitest";
import { flashCourier } from "../../src/adapters/next/flash-header.js";
import { csrfProtection, nextSessions } from "../../src/adapters/next/index.js";
import { readOnlySession } from "../../src/adapters/next/read-only.js";
import { parseSetCookie } from "../../src/adapters/next/set-cookie.js";
import { FlagonError } from "../../src/errors.js";
import { peerError } from "../../src/peer.js";
import { createSessions } from "../../src/session/sessions.js";
import { memoryStore } from "../../src/stores/memory.js";
import type { ServerStore } from "../../src/stores/types.js";

const SECRET = "next-adapter-test-secret-0123456789abcdef";
const context = { params: Promise.resolve({}) };

function flakyStore() {
  const inner = memoryStore();
  const state = { failGet: false, failApply: false };
  const store: ServerStore = {
    kind: "server",
    get: async (key) => {
      if (state.failGet) throw new Error("connect ECONNREFUSED 127.0.0.1:6379");
      return inner.get(key);
    },
    apply: async (key, changes) => {
      if (state.failApply) throw new Error("SQLITE_BUSY: database is locked");
      return inner.apply(key, changes);
    },
    destroy: (key) => inner.destroy(key),
  };
  return { store, state };
}

const get = (path: string, cookie?: string) =>
  new NextRequest(`http://localhost${path}`, { headers: cookie === undefined ? {} : { cookie } });
const pair = (response: Response) =>
  response.headers
    .getSetCookie()
    .find((line) => line.startsWith("sid="))!
    .split(";", 1)[0]!;

describe("route()", () => {
  it("commits into a NextResponse.redirect, beside the handler's own cookie", async () => {
    const { route } = nextSessions({ secret: SECRET, store: memoryStore() });
    const login = route((request, session) => {
      session.login("leo");
      const response = NextResponse.redirect(new URL("/", request.url), 303);
      response.cookies.set("theme", "dark");
      return response;
    });
    const read = route((_request, session) => Response.json({ user: session.userId ?? null }));
    const response = await login(get("/login"), context);
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("http://localhost/");
    const lines = response.headers.getSetCookie();
    expect(lines.filter((line) => line.startsWith("sid="))).toHaveLength(1);
    expect(lines.some((line) => line.startsWith("theme=dark"))).toBe(true);
    expect(response.headers.get("cache-control")).toBe("private, no-store");
    expect(await (await read(get("/", pair(response)), context)).json()).toEqual({ user: "leo" });
  });

  it("commits before a thrown redirect() and answers it with its status and Location", async () => {
    const { route } = nextSessions({ secret: SECRET, store: memoryStore() });
    const handler = route((_request, session) => {
      session.flash("Saved.");
      redirect("/messages?from=route");
    });
    const response = await handler(get("/save"), context);
    expect(response.status).toBe(307);
    expect(response.headers.get("location")).toBe("/messages?from=route");
    expect(response.headers.get("vary")).toBe("Cookie");
    const messages = route((_request, session) => Response.json(session.getFlashedMessages()));
    const cookie = pair(response);
    expect(await (await messages(get("/messages", cookie), context)).json()).toEqual(["Saved."]);
    expect(await (await messages(get("/messages", cookie), context)).json()).toEqual([]);
  });

  it("a Response.redirect (immutable headers) still gets the cookie", async () => {
    const { route } = nextSessions({ secret: SECRET, store: memoryStore() });
    const handler = route((_request, session) => {
      session.set("name", "Leo");
      return Response.redirect("http://localhost/", 302);
    });
    const response = await handler(get("/"), context);
    expect(response.status).toBe(302);
    expect(response.headers.getSetCookie()).toHaveLength(1);
  });

  it("writes nothing and adds no header when the handler does not touch the session", async () => {
    const { store, state } = flakyStore();
    const { route } = nextSessions({ secret: SECRET, store });
    const set = await route((_r, session) => {
      session.set("name", "Leo");
      return new Response("ok");
    })(get("/"), context);
    state.failApply = true; // a write would now fail loudly
    const untouched = await route(() => new Response("static"))(get("/", pair(set)), context);
    expect(untouched.status).toBe(200);
    expect(untouched.headers.get("vary")).toBeNull();
    expect(untouched.headers.getSetCookie()).toEqual([]);
    const read = await route((_r, session) => Response.json(session.get("name")))(
      get("/", pair(set)),
      context,
    );
    expect(read.status).toBe(200);
    expect(await read.json()).toBe("Leo");
    expect(read.headers.getSetCookie()).toEqual([]);
  });

  it("answers 503 when the store fails on load (handler not run) or on commit (response replaced)", async () => {
    const { store, state } = flakyStore();
    const { route } = nextSessions({ secret: SECRET, store });
    let ran = 0;
    const handler = route((_request, session) => {
      ran++;
      session.set("count", ran);
      return NextResponse.redirect("http://localhost/next", 303);
    });
    const cookie = pair(await handler(get("/"), context));
    state.failGet = true;
    const onLoad = await handler(get("/", cookie), context);
    expect(onLoad.status).toBe(503);
    expect(onLoad.headers.get("retry-after")).toBe("5");
    expect(ran).toBe(1);
    state.failGet = false;
    state.failApply = true;
    const onCommit = await handler(get("/", cookie), context);
    expect(onCommit.status).toBe(503);
    expect(onCommit.headers.get("location")).toBeNull();
    expect(onCommit.headers.getSetCookie()).toEqual([]);
  });

  it("takes https from X-Forwarded-Proto, as Next builds request.url from it", async () => {
    const { route } = nextSessions({ secret: SECRET, store: memoryStore() });
    const handler = route((_request, session) => {
      session.set("a", 1);
      return new Response("ok");
    });
    const request = new NextRequest("http://localhost/", { headers: { "x-forwarded-proto": "https" } });
    expect((await handler(request, context)).headers.getSetCookie()[0]).toMatch(/^__Host-sid=.*; Secure/);
  });

  it("csrfProtection leaves the body for the handler", async () => {
    const { route } = nextSessions({ secret: SECRET, store: memoryStore() });
    const form = await route((_r, session) => Response.json({ token: session.csrfToken() }))(
      get("/"),
      context,
    );
    const { token } = (await form.json()) as { token: string };
    const submit = route(
      csrfProtection(async (request) => Response.json(Object.fromEntries(await request.formData()))),
    );
    const request = new NextRequest("http://localhost/submit", {
      method: "POST",
      headers: { cookie: pair(form), origin: "http://localhost" },
      body: new URLSearchParams({ csrf_token: token, name: "Leo" }),
    });
    const response = await submit(request, context);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ csrf_token: token, name: "Leo" });
  });
});

describe("proxy()", () => {
  /** The flashes the proxy hands the render: Next's request-header override on NextResponse.next(). */
  function delivered(response: Response) {
    expect(response.headers.get("x-middleware-next")).toBe("1");
    return flashCourier(SECRET).open(response.headers.get("x-middleware-request-x-flagon-flash"));
  }

  async function flashed() {
    const { route, proxy } = nextSessions({ secret: SECRET, store: memoryStore() });
    const response = await route((_request, session) => {
      session.flash("Saved.", "info");
      redirect("/");
    })(get("/save"), context);
    return { proxy, cookie: pair(response) };
  }

  it("takes the flashes out for the page, once, and drops a client's own header", async () => {
    const { proxy, cookie } = await flashed();
    const forged = new NextRequest("http://localhost/", {
      headers: { cookie, "x-flagon-flash": "e30.forged" },
    });
    expect(delivered(await proxy(forged))).toEqual([["info", "Saved."]]);
    expect(delivered(await proxy(get("/", cookie)))).toEqual([]);
  });

  it("consumes nothing on a prefetch or a POST (a Server Action's request)", async () => {
    const { proxy, cookie } = await flashed();
    const prefetch = new NextRequest("http://localhost/", {
      headers: { cookie, "next-router-prefetch": "1" },
    });
    expect(delivered(await proxy(prefetch))).toEqual([]);
    const post = new NextRequest("http://localhost/", { method: "POST", headers: { cookie } });
    expect(delivered(await proxy(post))).toEqual([]);
    expect(delivered(await proxy(get("/", cookie)))).toEqual([["info", "Saved."]]);
  });

  it("delivers a Server Action's handoff to Next's render of its redirect, and only with the key it gave the action", async () => {
    const { proxy, cookie } = await flashed();
    const courier = flashCourier(SECRET);
    // The action's request (a POST) gets a fresh key in the header; Next forwards that header to the render.
    const post = await proxy(
      new NextRequest("http://localhost/login", { method: "POST", headers: { cookie } }),
    );
    const forwardedHeader = post.headers.get("x-middleware-request-x-flagon-flash");
    const key = courier.handoffKey(forwardedHeader);
    expect(key).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(courier.handoffKey(courier.seal([]))).toBeUndefined();
    const handoff = `sid.flash=${courier.sealHandoff(key!, [["info", "Handed over."]])}`;
    const render = (headers: Record<string, string>) =>
      proxy(new NextRequest("http://localhost/", { headers: { rsc: "1", ...headers } }));

    const inline = await render({ cookie: `${cookie}; ${handoff}`, "x-flagon-flash": forwardedHeader! });
    // The handed-over message first, then what the session still held; the handoff cookie stays with the proxy.
    expect(delivered(inline)).toEqual([
      ["info", "Handed over."],
      ["info", "Saved."],
    ]);
    expect(inline.headers.get("x-middleware-request-cookie")).toBe(cookie);

    // The sealed cookie alone (what a client saw in the action's Set-Cookie) opens to nothing.
    const replays: Array<Record<string, string>> = [
      {},
      { "x-flagon-flash": courier.seal([], Date.now(), courier.newHandoffKey()) },
      { "x-flagon-flash": flashCourier(`${SECRET}-other`).seal([], Date.now(), key) },
      { "x-flagon-flash": courier.seal([], Date.now() - 61_000, key) },
    ];
    for (const header of replays) {
      const replay = await render({ cookie: handoff, ...header });
      expect(delivered(replay)).toEqual([]);
      expect(replay.headers.get("x-middleware-request-cookie")).toBe("");
    }
  });

  /** A session with one value, then its store's reads fail (the proxy and the Set-Cookie of that session). */
  async function sessionWhoseStoreFails() {
    const { store, state } = flakyStore();
    const { route, proxy } = nextSessions({ secret: SECRET, store });
    const set = await route((_request, session) => {
      session.set("name", "Leo");
      return new Response("ok");
    })(get("/"), context);
    state.failGet = true;
    return { proxy, set };
  }

  it("answers a Server Action's POST 503 when its session cannot be read; other POSTs read nothing", async () => {
    const { proxy, set } = await sessionWhoseStoreFails();
    const post = (headers: Record<string, string>) =>
      proxy(
        new NextRequest("http://localhost/login", {
          method: "POST",
          headers: { cookie: pair(set), ...headers },
        }),
      );
    for (const action of <Array<Record<string, string>>>[
      { "next-action": "7f00" },
      { "content-type": "multipart/form-data; boundary=x" },
    ]) {
      const refused = await post(action);
      expect(refused.status).toBe(503);
      expect(refused.headers.get("retry-after")).toBe("5");
      expect(refused.headers.get("x-middleware-next")).toBeNull();
    }
    expect((await post({ "content-type": "application/json" })).headers.get("x-middleware-next")).toBe("1");
  });

  it("answers 503 when the store fails", async () => {
    const { proxy, set } = await sessionWhoseStoreFails();
    const response = await proxy(get("/", pair(set)));
    expect(response.status).toBe(503);
    expect(response.headers.get("x-middleware-next")).toBeNull();
  });
});

describe("getSession()'s read-only session", () => {
  async function loaded() {
    const core = createSessions({ secret: SECRET, store: memoryStore() });
    const session = await core.load(new Headers());
    return { core, session };
  }

  it.each([
    ["set", (s: ReturnType<typeof readOnlySession>) => s.set("a", 1)],
    ["delete", (s: ReturnType<typeof readOnlySession>) => s.delete("a")],
    ["flash", (s: ReturnType<typeof readOnlySession>) => s.flash("hi")],
    ["login", (s: ReturnType<typeof readOnlySession>) => s.login("leo")],
    ["destroy", (s: ReturnType<typeof readOnlySession>) => s.destroy()],
    ["regenerate", (s: ReturnType<typeof readOnlySession>) => s.regenerate()],
    ["untyped().set", (s: ReturnType<typeof readOnlySession>) => s.untyped().set("a", 1)],
    [
      "permanent =",
      (s: ReturnType<typeof readOnlySession>) => {
        s.permanent = true;
      },
    ],
  ])("refuses %s with ERR_SESSION_READ_ONLY naming route and action", async (_name, write) => {
    const { session } = await loaded();
    const view = readOnlySession(session, []);
    let error: unknown;
    try {
      write(view);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(FlagonError);
    expect((error as FlagonError).code).toBe("ERR_SESSION_READ_ONLY");
    expect((error as Error).message).toMatch(/action\(\).*route\(\)/);
    expect(session.modified).toBe(false);
  });

  it("reads data, and answers flashes from what the proxy delivered (filters included)", async () => {
    const { session } = await loaded();
    const view = readOnlySession(session, [
      ["info", "Login Successfully."],
      ["error", "Nope."],
    ]);
    expect(view.get("user" as never)).toBeUndefined();
    expect(view.isNew).toBe(true);
    expect(typeof view.csrfToken()).toBe("string");
    expect(view.getFlashedMessages()).toEqual(["Login Successfully.", "Nope."]);
    expect(view.getFlashedMessages({ withCategories: true, categoryFilter: ["error"] })).toEqual([
      ["error", "Nope."],
    ]);
  });

  it("without the proxy, reading flashes throws instead of showing them twice", async () => {
    const { session } = await loaded();
    expect(() => readOnlySession(session, undefined).getFlashedMessages()).toThrow(/proxy/);
  });
});

describe("the flash header", () => {
  it("opens what it sealed; refuses a forged, altered, other-secret or stale header", () => {
    const courier = flashCourier(SECRET);
    const sealed = courier.seal([["info", "<b>hi</b>"]], 1_000_000);
    expect(courier.open(sealed, 1_000_500)).toEqual([["info", "<b>hi</b>"]]);
    expect(courier.open(sealed, 1_000_000 + 61_000)).toBeUndefined();
    expect(flashCourier(`${SECRET}-other`).open(sealed, 1_000_500)).toBeUndefined();
    const [payload, mac] = sealed.split(".");
    const forged = Buffer.from(JSON.stringify({ t: 1_000_000, f: [["info", "forged"]] })).toString(
      "base64url",
    );
    expect(courier.open(`${forged}.${mac}`, 1_000_500)).toBeUndefined();
    expect(courier.open(`${payload}.`, 1_000_500)).toBeUndefined();
    expect(courier.open(null)).toBeUndefined();
  });
});

describe("the flash handoff (a Server Action to Next's render of its redirect)", () => {
  it("opens only for its key, with the same secret, for 60 seconds, untampered", () => {
    const courier = flashCourier(SECRET);
    const key = courier.newHandoffKey();
    const sealed = courier.sealHandoff(key, [["error", "<b>no</b>"]], 1_000_000);
    expect(sealed).not.toContain("no");
    expect(courier.openHandoff(key, sealed, 1_000_500)).toEqual([["error", "<b>no</b>"]]);
    expect(courier.openHandoff(courier.newHandoffKey(), sealed, 1_000_500)).toBeUndefined();
    expect(courier.openHandoff(key, sealed, 1_000_000 + 60_000)).toBeUndefined();
    expect(flashCourier(`${SECRET}-other`).openHandoff(key, sealed, 1_000_500)).toBeUndefined();
    const flipped = `${sealed.slice(0, -2)}${sealed.at(-2) === "A" ? "B" : "A"}${sealed.at(-1)}`;
    expect(courier.openHandoff(key, flipped, 1_000_500)).toBeUndefined();
    expect(courier.openHandoff(key, undefined)).toBeUndefined();
    // Rotation: a handoff sealed before the secret was rotated still opens.
    expect(flashCourier([`${SECRET}-new`, SECRET]).openHandoff(key, sealed, 1_000_500)).toEqual([
      ["error", "<b>no</b>"],
    ]);
  });
});

describe("Set-Cookie lines for cookies().set()", () => {
  it("reads every attribute serializeCookie writes", () => {
    expect(
      parseSetCookie(
        "__Host-sid=v1.a%20b; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; HttpOnly; Secure; SameSite=Lax; Partitioned; Priority=High",
      ),
    ).toEqual({
      name: "__Host-sid",
      value: "v1.a b",
      maxAge: 0,
      expires: new Date(0),
      path: "/",
      httpOnly: true,
      secure: true,
      sameSite: "lax",
      partitioned: true,
      priority: "high",
    });
  });
});

describe("missing peer", () => {
  it("an import() of next that fails because next is absent names the package and the command", async () => {
    const error = await import("flagon-no-such-next/headers.js" as string).catch((caught: unknown) => caught);
    const converted = peerError(error, "flagon/next", "flagon-no-such-next", "16");
    expect((converted as FlagonError).code).toBe("ERR_PEER_MISSING");
    expect((converted as Error).message).toContain("npm install flagon-no-such-next@16");
  });
});
