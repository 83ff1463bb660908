/**
 * Test harness for the session core: a one-cookie browser, a capturing logger, fake clocks and
 * store wrappers (recording, failing, lenient). Shared by test/session and the security property tests.
 */
import { vi } from "vitest";
import {
  type ChangeSet,
  memoryStore,
  type ServerStore,
  type Session,
  type SessionData,
  type SessionLogger,
  type SessionRecord,
  SessionStoreError,
  type Sessions,
} from "../../src/index.js";

/** Test-only secrets, each >= 32 bytes. */
export const SECRET = "session-test-secret-0123456789-abcdefghij";
export const OLD_SECRET = "session-old-secret-9876543210-zyxwvutsrq";
/** 2026-01-01T00:00:00Z */
export const T0 = Date.UTC(2026, 0, 1);

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/** Fake `Date` only (timers stay real unless a test asks), starting at `start`. */
export function useClock(start = T0): { advance(ms: number): void; set(ms: number): void } {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(start);
  return {
    advance: (ms: number) => vi.setSystemTime(Date.now() + ms),
    set: (ms: number) => vi.setSystemTime(ms),
  };
}

export interface Exchange<T extends SessionData> {
  session: Session<T>;
  headers: Headers;
  /** The Set-Cookie header values of the response. */
  setCookie: string[];
}

/** Parses `name=value; A=b; Flag` into its parts (attribute names lower-cased). */
export function parseSetCookie(line: string): {
  name: string;
  value: string;
  attributes: Record<string, string | true>;
} {
  const [pair = "", ...rest] = line.split(";").map((part) => part.trim());
  const eq = pair.indexOf("=");
  const attributes: Record<string, string | true> = {};
  for (const part of rest) {
    const at = part.indexOf("=");
    if (at === -1) attributes[part.toLowerCase()] = true;
    else attributes[part.slice(0, at).toLowerCase()] = part.slice(at + 1);
  }
  return { name: pair.slice(0, eq), value: pair.slice(eq + 1), attributes };
}

/**
 * A browser that keeps the cookies a `Sessions` sets, like a user agent would: a Set-Cookie with
 * Max-Age=0 removes the cookie. `request` loads, runs the handler, commits.
 */
export class Browser<T extends SessionData = SessionData> {
  readonly jar = new Map<string, string>();
  constructor(
    readonly sessions: Sessions<T>,
    readonly secure = false,
  ) {}

  /** The Cookie header this browser sends. */
  get cookieHeader(): string | undefined {
    if (this.jar.size === 0) return undefined;
    return [...this.jar].map(([name, value]) => `${name}=${value}`).join("; ");
  }

  /** The value of the session cookie, if the browser holds one. */
  get sessionCookie(): string | undefined {
    return this.jar.get(this.sessions.cookieName(this.secure));
  }

  set sessionCookie(value: string | undefined) {
    const name = this.sessions.cookieName(this.secure);
    if (value === undefined) this.jar.delete(name);
    else this.jar.set(name, value);
  }

  async request(handler: (session: Session<T>) => void = () => {}): Promise<Exchange<T>> {
    const cookie = this.cookieHeader;
    const session = await this.sessions.load({
      headers: cookie === undefined ? {} : { cookie },
      secure: this.secure,
    });
    handler(session);
    const headers = new Headers();
    await this.sessions.commit(session, headers);
    const setCookie = headers.getSetCookie();
    for (const line of setCookie) {
      const { name, value, attributes } = parseSetCookie(line);
      if (attributes["max-age"] === "0" || value === "") this.jar.delete(name);
      else this.jar.set(name, value);
    }
    return { session, headers, setCookie };
  }
}

export interface LogEntry {
  level: "debug" | "warn";
  message: string;
  fields: Record<string, unknown> | undefined;
}

/** A `logger` that keeps every event; `text` is everything it was given, for leak checks. */
export function captureLogger(): { logger: SessionLogger; entries: LogEntry[]; text(): string } {
  const entries: LogEntry[] = [];
  return {
    logger: {
      debug: (message, fields) => entries.push({ level: "debug", message, fields }),
      warn: (message, fields) => entries.push({ level: "warn", message, fields }),
    },
    entries,
    text: () => JSON.stringify(entries),
  };
}

/** A memory store that also records every key and change set the core hands it. */
export function recordingStore(inner: ServerStore = memoryStore()): ServerStore & {
  calls: Array<{ op: "get" | "apply" | "destroy"; key: string; changes?: ChangeSet }>;
  keys: Set<string>;
  dump(): Promise<string>;
} {
  const calls: Array<{ op: "get" | "apply" | "destroy"; key: string; changes?: ChangeSet }> = [];
  const keys = new Set<string>();
  return {
    kind: "server",
    calls,
    keys,
    async get(key) {
      calls.push({ op: "get", key });
      return inner.get(key);
    },
    async apply(key, changes) {
      calls.push({ op: "apply", key, changes });
      keys.add(key);
      return inner.apply(key, changes);
    },
    async destroy(key) {
      calls.push({ op: "destroy", key });
      return inner.destroy(key);
    },
    async listUser(userTag) {
      return inner.listUser ? inner.listUser(userTag) : [];
    },
    async revoke(key) {
      return inner.revoke ? inner.revoke(key) : false;
    },
    async close() {
      await inner.close?.();
    },
    /** Every key and record the store holds, as text (what an attacker with a copy of the store sees). */
    async dump() {
      const rows: unknown[] = [];
      for (const key of keys) rows.push([key, await inner.get(key)]);
      return JSON.stringify(rows);
    },
  };
}

/**
 * A store whose operations fail on demand, the way a driver fails: with its own error whose
 * message names the key it was given (as Redis and SQLite errors do).
 */
export function failingStore(inner: ServerStore = memoryStore()): ServerStore & {
  fail: { get: boolean; apply: boolean; destroy: boolean };
  /** Throw this instead of a driver error. */
  error: Error | undefined;
} {
  const fail = { get: false, apply: false, destroy: false };
  const store = {
    kind: "server" as const,
    fail,
    error: undefined as Error | undefined,
    async get(key: string) {
      if (fail.get) throw store.error ?? new Error(`ECONNREFUSED while reading session:${key}`);
      return inner.get(key);
    },
    async apply(key: string, changes: ChangeSet) {
      if (fail.apply) throw store.error ?? new Error(`SQLITE_BUSY: database is locked (key ${key})`);
      return inner.apply(key, changes);
    },
    async destroy(key: string) {
      if (fail.destroy) throw store.error ?? new Error(`connection reset deleting ${key}`);
      return inner.destroy(key);
    },
    async close() {
      await inner.close?.();
    },
  };
  return store;
}

/**
 * A server store that ignores `expiresAt` (a store with a lazy purge, or a record restored from a
 * backup): it proves the core enforces expiry itself. `records` is open for tests to edit.
 */
export function lenientStore(): ServerStore & { records: Map<string, SessionRecord> } {
  const records = new Map<string, SessionRecord>();
  return {
    kind: "server",
    records,
    async get(key) {
      const record = records.get(key);
      return record === undefined ? null : structuredClone(record);
    },
    async apply(key, changes) {
      const current = records.get(key) ?? null;
      const data: Record<string, unknown> = changes.clear || current === null ? {} : { ...current.data };
      for (const k of changes.delete) delete data[k];
      for (const [k, v] of changes.set) data[k] = v;
      const consumed = new Set(changes.flashConsume);
      const flashes = (current?.flashes ?? []).filter((f) => !consumed.has(f.id));
      flashes.push(...changes.flashAdd);
      records.set(key, { ...structuredClone(changes.meta), data, flashes });
    },
    async destroy(key) {
      records.delete(key);
    },
  };
}

/** Collects everything an error exposes: message, stack and the messages of its causes. */
export function errorText(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && depth < 5; depth++) {
    if (current instanceof Error) {
      parts.push(current.name, current.message, current.stack ?? "");
      current = current.cause;
    } else {
      parts.push(String(current));
      current = undefined;
    }
  }
  return parts.join("\n");
}

export { SessionStoreError };
