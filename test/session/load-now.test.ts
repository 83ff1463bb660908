import { describe, expect, it } from "vitest";
import { cookieStore, createSessions, memoryStore, type SessionEvent } from "../../src/index.js";
import { Session } from "../../src/session/session.js";
import { loadSessionNow } from "../../src/session/sessions.js";
import { SECRET } from "./harness.js";

/** A cookie for `core` holding `data`. */
async function cookieOf(core: ReturnType<typeof createSessions>, data: Record<string, unknown>) {
  const session = await core.load({ headers: {} });
  for (const [key, value] of Object.entries(data)) session.set(key, value);
  const headers = new Headers();
  await core.commit(session, headers);
  return (headers.getSetCookie()[0] ?? "").split(";")[0] ?? "";
}

describe("loadSessionNow (what the adapters read a session with)", () => {
  it("gives a cookie store's session at once, with the data load gives", async () => {
    const core = createSessions({ secret: SECRET, store: cookieStore() });
    const cookie = await cookieOf(core, { name: "Leo" });
    const now = loadSessionNow(core, { headers: { cookie } });
    expect(now).toBeInstanceOf(Session);
    const session = now as Session;
    expect(session.get("name")).toBe("Leo");
    expect(session.status).toBe("active");
    expect((await core.load({ headers: { cookie } })).get("name")).toBe("Leo");
    // No cookie, and a tampered one: an empty session, at once too.
    expect(loadSessionNow(core, { headers: {} })).toBeInstanceOf(Session);
    const tampered = loadSessionNow(core, { headers: { cookie: `${cookie.slice(0, -2)}AA` } }) as Session;
    expect(tampered.status).toBe("invalid");
    expect(tampered.get("name")).toBeUndefined();
  });

  it("gives a promise when the store must be asked", async () => {
    const core = createSessions({ secret: SECRET, store: memoryStore() });
    const cookie = await cookieOf(core, { name: "Leo" });
    const loaded = loadSessionNow(core, { headers: { cookie } });
    expect(loaded).toBeInstanceOf(Promise);
    expect((await loaded).get("name")).toBe("Leo");
  });

  it("goes through a replaced load: a copy of the core with its own load is not bypassed", async () => {
    const core = createSessions({ secret: SECRET, store: cookieStore() });
    const cookie = await cookieOf(core, { name: "Leo" });
    const calls: string[] = [];
    const wrapped = {
      ...core,
      load: async (input: Parameters<typeof core.load>[0]) => {
        calls.push("load");
        return core.load(input);
      },
    };
    const loaded = await loadSessionNow(wrapped, { headers: { cookie } });
    expect(calls).toEqual(["load"]);
    expect(loaded.get("name")).toBe("Leo");
  });

  it("reports the load event on the immediate path too", async () => {
    const events: SessionEvent[] = [];
    const core = createSessions({ secret: SECRET, store: cookieStore(), onEvent: (e) => events.push(e) });
    const cookie = await cookieOf(core, { name: "Leo" });
    events.length = 0;
    expect(loadSessionNow(core, { headers: { cookie } })).toBeInstanceOf(Session);
    expect(events).toEqual([{ type: "load", status: "active", store: undefined, keyIndex: 0 }]);
  });

  it("makes a cookie session's id only when asked, and keeps it for the request", async () => {
    const core = createSessions({ secret: SECRET, store: cookieStore() });
    const cookie = await cookieOf(core, { name: "Leo" });
    const session = loadSessionNow(core, { headers: { cookie } }) as Session;
    const id = session.id;
    expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(session.id).toBe(id);
    session.regenerate();
    expect(session.id).not.toBe(id);
  });
});
