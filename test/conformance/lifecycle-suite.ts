/**
 * Session lifecycles, for every store (through `createSessions`): anonymous visitors store nothing,
 * a user's sessions can be listed and revoked, a session can have its own lifetime, and `status`
 * says why a session is what it is. Cookie stores revoke through a `revocations` server store.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import {
  createSessions,
  memoryStore,
  type SessionStore,
  type Sessions,
  type SessionsOptions,
} from "../../src/index.js";
import type { ServerStore } from "../../src/stores/types.js";

const SECRET = "lifecycle-secret-0123456789-abcdefghijklm";
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

type AnySessions = Sessions<Record<string, unknown>>;

/** One browser: its cookie jar for the session cookie, and a request helper. */
class Client {
  cookie: string | undefined;
  constructor(private readonly sessions: AnySessions) {}
  async request(handler: (session: Awaited<ReturnType<AnySessions["load"]>>) => void = () => undefined) {
    const session = await this.sessions.load({ headers: { cookie: this.cookie } });
    handler(session);
    const headers = new Headers();
    await this.sessions.commit(session, headers);
    const setCookie = headers.getSetCookie();
    for (const line of setCookie) {
      this.cookie = /Max-Age=0/i.test(line) ? undefined : line.split(";")[0];
    }
    return { session, setCookie };
  }
}

/** Counts the writes a store receives (records created or changed), forwarding everything. */
function countingStore(inner: SessionStore): { store: SessionStore; writes: () => number } {
  if (inner.kind !== "server") return { store: inner, writes: () => 0 };
  let writes = 0;
  const store: ServerStore = {
    kind: "server",
    get: (key) => inner.get(key),
    apply: (key, changes) => {
      writes++;
      return inner.apply(key, changes);
    },
    destroy: (key) => inner.destroy(key),
    listUser: inner.listUser ? (tag) => inner.listUser!(tag) : undefined,
    revoke: inner.revoke ? (key) => inner.revoke!(key) : undefined,
  };
  return { store, writes: () => writes };
}

let userCounter = 0;
const freshUser = () => `user-${process.pid}-${Date.now()}-${++userCounter}`;

export function describeLifecycleConformance(name: string, makeStore: () => Promise<SessionStore>): void {
  describe(`lifecycle conformance: ${name}`, () => {
    let store: SessionStore;
    let counted: ReturnType<typeof countingStore>;
    let revocations: ServerStore | undefined;
    const make = (options: Partial<SessionsOptions<Record<string, unknown>>> = {}): AnySessions =>
      createSessions({ secret: SECRET, store: counted.store, revocations, ...options });

    beforeAll(async () => {
      store = await makeStore();
      counted = countingStore(store);
      revocations = store.kind === "client" ? memoryStore() : undefined;
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    it("20 000 cookieless visitors shown a form store nothing, and each token checks on the next request", async () => {
      const sessions = make();
      const before = counted.writes();
      let lastToken = "";
      let lastCookie: string | undefined;
      for (let i = 0; i < 20_000; i++) {
        const client = new Client(sessions);
        const { setCookie } = await client.request((s) => {
          lastToken = s.csrfToken();
        });
        expect(setCookie).toHaveLength(1);
        lastCookie = client.cookie;
      }
      expect(counted.writes() - before).toBe(0);
      // The last visitor posts the form: the token belongs to its session.
      const client = new Client(sessions);
      client.cookie = lastCookie;
      let ok = false;
      let status = "";
      await client.request((s) => {
        ok = s.verifyCsrfToken(lastToken);
        status = s.status;
      });
      expect(ok).toBe(true);
      expect(status).toBe("active");
      // Another visitor's token is not this one's.
      const other = new Client(sessions);
      let otherToken = "";
      await other.request((s) => {
        otherToken = s.csrfToken();
      });
      await client.request((s) => {
        ok = s.verifyCsrfToken(otherToken);
      });
      expect(ok).toBe(false);
    });

    it("an anonymous visitor who then stores something keeps the token of the form it was shown", async () => {
      const sessions = make();
      const client = new Client(sessions);
      let token = "";
      await client.request((s) => {
        token = s.csrfToken();
      });
      const before = counted.writes();
      await client.request((s) => {
        s.set("cart", ["book"]);
      });
      if (store.kind === "server") expect(counted.writes() - before).toBe(1);
      let ok = false;
      await client.request((s) => {
        expect(s.get("cart")).toEqual(["book"]);
        ok = s.verifyCsrfToken(token);
      });
      expect(ok).toBe(true);
      // login() rotates it.
      await client.request((s) => {
        s.login(freshUser());
        ok = s.verifyCsrfToken(token);
      });
      expect(ok).toBe(false);
    });

    it("login binds the session to a user; listUser shows exactly the live ones; revokeUser ends all, no one else's", async () => {
      const sessions = make();
      const alice = freshUser();
      const bob = freshUser();
      const clients = [new Client(sessions), new Client(sessions), new Client(sessions)];
      const refs: string[] = [];
      for (const [i, client] of clients.entries()) {
        await client.request((s) => {
          s.set("n", i);
          s.login(alice, { device: `device-${i}` });
          refs.push(s.ref);
          expect(s.userId).toBe(alice);
        });
      }
      const bobs = new Client(sessions);
      await bobs.request((s) => s.login(bob));
      const anonymous = new Client(sessions);
      await anonymous.request((s) => s.set("cart", 1));

      for (const client of clients) {
        await client.request((s) => {
          expect(s.userId).toBe(alice);
          expect(s.status).toBe("active");
          expect(refs).toContain(s.ref);
        });
      }
      if (store.kind === "server") {
        const listed = await sessions.listUser(alice);
        expect(listed.map((entry) => entry.ref).sort()).toEqual([...refs].sort());
        expect(listed.map((entry) => entry.meta.device).sort()).toEqual(["device-0", "device-1", "device-2"]);
        for (const entry of listed) {
          expect(entry.createdAt).toBeLessThanOrEqual(entry.lastSeenAt);
          expect(entry.loginAt).toBeGreaterThanOrEqual(entry.createdAt);
          expect(entry.expiresAt).toBeGreaterThan(Date.now());
        }
      } else {
        await expect(sessions.listUser(alice)).rejects.toMatchObject({ code: "ERR_NOT_SUPPORTED" });
      }

      expect(await sessions.revokeUser(alice)).toBe(3);
      for (const client of clients) {
        const { session } = await client.request((s) => s.get("n"));
        expect(session.status).toBe("revoked");
        expect(session.isNew).toBe(true);
        expect(session.get("n")).toBeUndefined();
        expect(session.userId).toBeUndefined();
      }
      if (store.kind === "server") expect(await sessions.listUser(alice)).toEqual([]);
      // Bob and the anonymous visitor are untouched.
      await bobs.request((s) => {
        expect(s.status).toBe("active");
        expect(s.userId).toBe(bob);
      });
      await anonymous.request((s) => expect(s.get("cart")).toBe(1));
    });

    it("revokeUser({ except }) keeps the session that asked; revoke(ref) ends one", async () => {
      const sessions = make();
      const carol = freshUser();
      const here = new Client(sessions);
      const phone = new Client(sessions);
      const laptop = new Client(sessions);
      let hereRef = "";
      let phoneRef = "";
      await here.request((s) => {
        s.login(carol);
        hereRef = s.ref;
      });
      await phone.request((s) => {
        s.login(carol);
        phoneRef = s.ref;
      });
      await laptop.request((s) => s.login(carol));

      expect(await sessions.revoke(phoneRef)).toBe(true);
      expect((await phone.request()).session.status).toBe("revoked");
      expect(await sessions.revoke(phoneRef)).toBe(false);

      expect(await sessions.revokeUser(carol, { except: hereRef })).toBe(1);
      expect((await laptop.request()).session.status).toBe("revoked");
      await here.request((s) => {
        expect(s.status).toBe("active");
        expect(s.userId).toBe(carol);
      });
      if (store.kind === "server") {
        expect((await sessions.listUser(carol)).map((entry) => entry.ref)).toEqual([hereRef]);
      }
      // A ref that names no session, and garbage, end nothing.
      expect(await sessions.revoke(`${hereRef.split(".")[0]}.nothing`)).toBe(false);
      expect(await sessions.revoke("not a ref")).toBe(false);
    });

    it("a request in flight when its session is revoked does not bring it back", async () => {
      const sessions = make();
      const dave = freshUser();
      const client = new Client(sessions);
      await client.request((s) => s.login(dave));
      const inFlight = await sessions.load({ headers: { cookie: client.cookie } });
      expect(await sessions.revokeUser(dave)).toBe(1);
      inFlight.set("late", true);
      const headers = new Headers();
      await sessions.commit(inFlight, headers);
      if (store.kind === "server") {
        // The old cookie still reads "revoked": the tombstone ignored the late change set.
        const { session } = await client.request();
        expect(session.status).toBe("revoked");
        expect(await sessions.listUser(dave)).toEqual([]);
      }
    });

    it("setLifetime(30 days): the cookie's Max-Age and the server's expiry follow it", async () => {
      const sessions = make();
      const client = new Client(sessions);
      const user = freshUser();
      const { setCookie } = await client.request((s) => {
        s.login(user);
        s.setLifetime(30 * 86_400);
      });
      expect(setCookie[0]).toMatch(/; Max-Age=2592000(;|$)/);
      const start = Date.now();
      if (store.kind === "server") {
        const [entry] = await sessions.listUser(user);
        expect(entry?.expiresAt).toBeGreaterThanOrEqual(start + 30 * DAY - 5000);
        expect(entry?.expiresAt).toBeLessThanOrEqual(Date.now() + 30 * DAY);
      }
      // 29 days later it is alive; 31 days after its last activity it has ended.
      vi.useFakeTimers({ toFake: ["Date"] });
      vi.setSystemTime(start + 29 * DAY);
      expect((await client.request()).session.status).toBe("active");
      vi.setSystemTime(start + 29 * DAY + 31 * DAY);
      expect((await client.request()).session.status).toBe("expired");
    });

    it("each status is produced by the situation it names", async () => {
      const start = Date.now();
      vi.useFakeTimers({ toFake: ["Date"] });
      vi.setSystemTime(start);
      const plain = make({ permanentLifetime: 2 * 3600 });
      const client = new Client(plain);
      expect((await client.request((s) => s.login(freshUser()))).session.status).toBe("new");
      expect((await client.request()).session.status).toBe("active");
      const tampered = new Client(plain);
      tampered.cookie = `${client.cookie!.slice(0, -3)}${client.cookie!.endsWith("A") ? "B" : "A"}xy`;
      expect((await tampered.request()).session.status).toBe("invalid");
      vi.setSystemTime(start + 3 * HOUR);
      expect((await client.request()).session.status).toBe("expired");

      vi.setSystemTime(start);
      const idle = new Client(make({ idleTimeout: 600 }));
      await idle.request((s) => s.login(freshUser()));
      vi.setSystemTime(start + 11 * MINUTE);
      expect((await idle.request()).session.status).toBe("idle");

      vi.setSystemTime(start);
      const absolute = new Client(make({ absoluteTimeout: 3600, rolling: true }));
      await absolute.request((s) => s.login(freshUser()));
      for (let at = 20 * MINUTE; at < HOUR; at += 20 * MINUTE) {
        vi.setSystemTime(start + at);
        expect((await absolute.request()).session.status).toBe("active");
      }
      vi.setSystemTime(start + HOUR + MINUTE);
      expect((await absolute.request()).session.status).toBe("absolute");
    });

    it("an anonymous visitor's record lives anonymousIdleTimeout after its last activity (server stores)", async () => {
      if (store.kind !== "server") return;
      const start = Date.now();
      vi.useFakeTimers({ toFake: ["Date"] });
      vi.setSystemTime(start);
      const sessions = make({ anonymousIdleTimeout: 600 });
      const visitor = new Client(sessions);
      await visitor.request((s) => s.set("cart", 1));
      vi.setSystemTime(start + 9 * MINUTE);
      expect((await visitor.request((s) => s.get("cart"))).session.get("cart")).toBe(1);
      // Activity refreshed it: 9 more minutes are fine, 11 without activity are not.
      vi.setSystemTime(start + 18 * MINUTE);
      expect((await visitor.request((s) => s.get("cart"))).session.get("cart")).toBe(1);
      vi.setSystemTime(start + 29 * MINUTE + 1);
      expect((await visitor.request()).session.status).toBe("idle");
      // A logged-in session is not anonymous: the same pause leaves it alive.
      vi.setSystemTime(start);
      const member = new Client(sessions);
      await member.request((s) => s.login(freshUser()));
      vi.setSystemTime(start + 3 * HOUR);
      expect((await member.request()).session.status).toBe("active");
    });
  });
}
