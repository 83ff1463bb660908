/**
 * Login throttling for the lesson apps, in process (no server to run): a few login attempts per
 * client address and per username each minute, then 429 with Retry-After; and a bound on the
 * password hashes computed at once, since each is a 16 MiB scrypt on Node's 4-thread pool.
 */

export interface LoginThrottleOptions {
  /** Attempts allowed per client and per username in a window. @default 5 */
  maxAttempts?: number;
  /** The window, in milliseconds. @default 60000 */
  windowMs?: number;
  /** The most clients (and, apart, usernames) remembered; the oldest are forgotten first. @default 10000 */
  maxEntries?: number;
  /** For tests. @default Date.now */
  now?: () => number;
}

interface Window {
  attempts: number;
  resetAt: number;
}

/** The longest username kept as a key (a longer one is cut: the key never grows with the input). */
const MAX_USERNAME_KEY = 64;

/** One bounded map of fixed windows, oldest first (a Map iterates in insertion order). */
class Windows {
  readonly #entries = new Map<string, Window>();
  constructor(
    private readonly maxEntries: number,
    private readonly windowMs: number,
  ) {}

  /** The live window of `key`, or undefined (an expired one is dropped). */
  get(key: string, now: number): Window | undefined {
    const window = this.#entries.get(key);
    if (window !== undefined && window.resetAt <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    return window;
  }

  /** Counts one attempt for `key`. */
  add(key: string, now: number): void {
    const window = this.get(key, now);
    if (window !== undefined) {
      window.attempts++;
      return;
    }
    // Full: forget the oldest windows, expired or not, so memory stays bounded whatever arrives.
    while (this.#entries.size >= this.maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
    this.#entries.set(key, { attempts: 1, resetAt: now + this.windowMs });
  }

  /** Takes back one attempt (a login that succeeded does not count). */
  refund(key: string, now: number): void {
    const window = this.get(key, now);
    if (window !== undefined && window.attempts > 0) window.attempts--;
  }

  get size(): number {
    return this.#entries.size;
  }
}

export type ThrottleVerdict = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/**
 * Counts login attempts per client address and per username. `attempt()` is called before the
 * password is checked (so that parallel guesses count at once), and `succeeded()` takes the
 * attempt back: only failed logins use up the allowance.
 */
export class LoginThrottle {
  readonly maxAttempts: number;
  readonly #clients: Windows;
  readonly #usernames: Windows;
  readonly #now: () => number;

  constructor(options: LoginThrottleOptions = {}) {
    this.maxAttempts = options.maxAttempts ?? 5;
    const windowMs = options.windowMs ?? 60_000;
    const maxEntries = options.maxEntries ?? 10_000;
    // Apart: a flood of made-up usernames cannot push the clients' windows out, and the reverse.
    this.#clients = new Windows(maxEntries, windowMs);
    this.#usernames = new Windows(maxEntries, windowMs);
    this.#now = options.now ?? Date.now;
  }

  /** Records an attempt by `client` for `username`, or refuses it while either has used up its attempts. */
  attempt(client: string, username: string): ThrottleVerdict {
    const now = this.#now();
    const user = username.slice(0, MAX_USERNAME_KEY);
    let resetAt = 0;
    for (const window of [this.#clients.get(client, now), this.#usernames.get(user, now)]) {
      if (window !== undefined && window.attempts >= this.maxAttempts)
        resetAt = Math.max(resetAt, window.resetAt);
    }
    if (resetAt > 0)
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((resetAt - now) / 1000)) };
    this.#clients.add(client, now);
    this.#usernames.add(user, now);
    return { allowed: true };
  }

  /** The attempt was a successful login: it does not count against the client or the username. */
  succeeded(client: string, username: string): void {
    const now = this.#now();
    this.#clients.refund(client, now);
    this.#usernames.refund(username.slice(0, MAX_USERNAME_KEY), now);
  }

  /** How many clients and usernames are remembered (for tests of the bound). */
  get size(): { clients: number; usernames: number } {
    return { clients: this.#clients.size, usernames: this.#usernames.size };
  }
}

/** Thrown by `ConcurrencyGate.run` when the gate's queue is full. */
export class GateBusyError extends Error {
  constructor() {
    super("too many password checks at once");
    this.name = "GateBusyError";
  }
}

/**
 * At most `concurrency` tasks at once and at most `maxQueued` waiting; beyond that `run()` fails
 * at once with `GateBusyError` instead of queueing without bound.
 */
export class ConcurrencyGate {
  #running = 0;
  readonly #waiting: Array<() => void> = [];
  constructor(
    readonly concurrency: number,
    readonly maxQueued: number,
  ) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#running >= this.concurrency) {
      if (this.#waiting.length >= this.maxQueued) throw new GateBusyError();
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#running++;
    }
    try {
      return await task();
    } finally {
      // Hand the slot straight to the next waiter (the count stays), or free it.
      const next = this.#waiting.shift();
      if (next === undefined) this.#running--;
      else next();
    }
  }

  get running(): number {
    return this.#running;
  }
}
