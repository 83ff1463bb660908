/**
 * docs/security.md §39 — no session id or cookie value in any log line or error (OWASP logging;
 * ASVS 3.1.1). Every scenario that logs or throws runs with a capturing `logger`; the captured
 * events and the errors (message, stack, causes) are searched for every raw id and cookie value the
 * scenario produced. Logs may carry only a salted reference. The id is never read from a query
 * string or a custom header.
 */
import { inspect } from "node:util";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import {
  cookieStore,
  createSessions,
  memoryStore,
  type SessionStore,
  type Sessions,
  storeKey,
} from "../../src/index.js";
import {
  Browser,
  captureLogger,
  errorText,
  failingStore,
  HOUR,
  lenientStore,
  MINUTE,
  parseSetCookie,
  SECRET,
  T0,
  useClock,
} from "../session/harness.js";

afterEach(() => {
  vi.useRealTimers();
});

/** Everything sensitive a scenario produced, and everything it exposed. */
const secrets = new Set<string>();
const storeKeys = new Set<string>();
const capture = captureLogger();
const errors: unknown[] = [];

/** A browser whose ids and cookie values are all remembered as secrets. */
class WatchedBrowser extends Browser {
  override async request(handler: Parameters<Browser["request"]>[0] = () => {}) {
    const sent = this.sessionCookie;
    if (sent) secrets.add(sent);
    try {
      const exchange = await super.request((s) => {
        handler(s);
        secrets.add(s.id);
        storeKeys.add(storeKey(s.id));
      });
      for (const line of exchange.setCookie) {
        const { value } = parseSetCookie(line);
        if (value) secrets.add(value);
      }
      return exchange;
    } catch (error) {
      errors.push(error);
      throw error;
    }
  }
}

function make(store: SessionStore, options: object = {}): Sessions {
  return createSessions({ secret: SECRET, store, logger: capture.logger, ...options });
}

async function expectRejection(promise: Promise<unknown>): Promise<void> {
  await expect(promise).rejects.toBeDefined();
}

describe.each<[string, () => SessionStore]>([
  ["memoryStore", () => memoryStore()],
  ["cookieStore", () => cookieStore()],
])("scenarios that log or throw, %s", (_name, makeStore) => {
  it("tampered cookie", async () => {
    const b = new WatchedBrowser(make(makeStore()));
    await b.request((s) => s.set("user", "alice"));
    const value = b.sessionCookie!;
    b.sessionCookie = `${value.slice(0, -2)}xx`;
    await b.request((s) => s.get("user"));
  });

  it("idle, absolute and lifetime expiry", async () => {
    const clock = useClock(T0);
    for (const options of [{ idleTimeout: 60 }, { absoluteTimeout: 60 }, { permanentLifetime: 60 }]) {
      const b = new WatchedBrowser(make(makeStore(), options));
      await b.request((s) => s.set("user", "alice"));
      clock.advance(2 * MINUTE);
      await b.request((s) => s.get("user"));
    }
  });

  it("schema-invalid data", async () => {
    const store = makeStore();
    const writer = new WatchedBrowser(make(store));
    await writer.request((s) => s.set("visits", "many"));
    const reader = new WatchedBrowser(make(store, { schema: z.object({ visits: z.number() }) }));
    reader.sessionCookie = writer.sessionCookie;
    await reader.request((s) => s.get("visits"));
  });

  it("oversized Cookie header", async () => {
    const b = new WatchedBrowser(make(makeStore()));
    await b.request((s) => s.set("user", "alice"));
    b.jar.set("pad", "p".repeat(9000));
    await b.request((s) => s.get("user"));
  });

  it("writing after destroy, and committing a foreign session", async () => {
    const sessions = make(makeStore());
    const b = new WatchedBrowser(sessions);
    await b.request((s) => s.set("user", "alice"));
    await expectRejection(
      b.request((s) => {
        s.destroy();
        s.set("user", "again");
      }),
    );
    const other = make(makeStore());
    const session = await other.load({ headers: { cookie: b.cookieHeader } });
    secrets.add(session.id);
    await sessions.commit(session, new Headers()).catch((error: unknown) => errors.push(error));
  });
});

describe("scenarios specific to one kind of store", () => {
  it("unknown (never issued) id: the warning carries only a salted reference", async () => {
    const store = memoryStore();
    const b = new WatchedBrowser(make(store));
    await b.request((s) => s.set("user", "alice"));
    await b.request((s) => s.destroy());
    const replay = new WatchedBrowser(make(store));
    replay.sessionCookie = [...secrets].find((v) => v.startsWith("v1.")) ?? "";
    await replay.request((s) => s.get("user"));
    const warning = capture.entries.find((e) => e.message === "unknown session id");
    expect(warning?.fields).toMatchObject({ cookie: "sid", ref: expect.stringMatching(/^[0-9a-f]{12}$/) });
  });

  it("store failures whose driver messages contain the key", async () => {
    for (const op of ["get", "apply", "destroy"] as const) {
      const store = failingStore();
      const b = new WatchedBrowser(make(store));
      await b.request((s) => s.set("user", "alice"));
      store.fail[op] = true;
      await expectRejection(
        b.request((s) => {
          s.set("n", 1);
          s.regenerate();
        }),
      );
      store.fail[op] = false;
    }
    expect(errors.length).toBeGreaterThanOrEqual(3);
  });

  it("idle and absolute timeouts found by the core (a store that keeps records too long)", async () => {
    const clock = useClock(T0);
    for (const options of [{ idleTimeout: 60 }, { absoluteTimeout: 60 }]) {
      const store = lenientStore();
      const b = new WatchedBrowser(make(store, options));
      await b.request((s) => s.set("user", "alice"));
      for (const record of store.records.values()) record.expiresAt = T0 + HOUR;
      clock.advance(2 * MINUTE);
      await b.request((s) => s.get("user"));
    }
  });

  it("a cookie too large to write", async () => {
    const b = new WatchedBrowser(make(cookieStore()));
    await b.request((s) => s.set("user", "alice"));
    await expectRejection(b.request((s) => s.set("essay", "z".repeat(20000))));
  });

  it("a Session printed or serialised by application code shows data only", async () => {
    const b = new WatchedBrowser(make(memoryStore()));
    const { session } = await b.request((s) => s.set("user", "alice"));
    const printed = `${inspect(session, { showHidden: true, depth: 5 })} ${JSON.stringify(session)}`;
    expect(printed).not.toContain(session.id);
  });
});

describe("the id travels only in the session cookie", () => {
  it("a query string parameter or a custom header carrying a valid session is ignored", async () => {
    const sessions = make(memoryStore());
    const b = new WatchedBrowser(sessions);
    await b.request((s) => s.set("user", "alice"));
    const value = b.sessionCookie!;
    const request = new Request(`http://localhost/?sid=${value}&session=${value}`, {
      headers: { "x-session-id": value, authorization: `Bearer ${value}`, "x-sid": value },
    });
    const session = await sessions.load(request);
    expect(session.isNew).toBe(true);
    expect(session.get("user")).toBeUndefined();
  });
});

afterAll(() => {
  // Runs after every scenario above: the leak check covers all of them.
  const logged = capture.text();
  const thrown = errors.map((error) => `${errorText(error)}\n${inspect(error, { depth: 5 })}`).join("\n");
  expect(capture.entries.length).toBeGreaterThan(10);
  expect(errors.length).toBeGreaterThan(5);
  expect(secrets.size).toBeGreaterThan(20);
  for (const secret of secrets) {
    expect(logged).not.toContain(secret);
    expect(thrown).not.toContain(secret);
  }
  // Logs use a salted reference, never the store key (which a store dump would match).
  for (const key of storeKeys) expect(logged).not.toContain(key);
  // Each expected reason was logged at least once.
  const messages = new Set(capture.entries.map((e) => e.message));
  for (const message of [
    "bad-mac",
    "idle timeout",
    "absolute timeout",
    "schema invalid",
    "unknown session id",
  ]) {
    expect(messages).toContain(message);
  }
});
