/**
 * How flash messages reach a Server Component. A Server Component cannot set cookies or finish a
 * commit, so it cannot take messages out of the session itself; the proxy (`proxy.ts`), which can,
 * takes them out and commits before the page renders, then hands them to the render in a request
 * header. The header is MAC'd with a key derived from the session secret and carries its issue time,
 * so a client that sends its own header to a page the proxy does not cover shows no forged message.
 *
 * A Server Action called from JavaScript that redirects is different: Next renders the page redirected
 * to through an internal request of its own (through the proxy), streams it back in the action's
 * response and drops that request's `Set-Cookie`. The action therefore takes the messages out itself
 * (its cookie does reach the browser) and hands them over to that render: sealed (AES-256-GCM) in a
 * cookie that Next copies into the internal request and the browser discards at once (`Max-Age=0`),
 * bound to a random key that only a request header carries. The proxy put that key in the action
 * request's headers; Next forwards them, never to the browser. A client that keeps the sealed cookie
 * cannot replay it: without the key (which it never sees) it opens to nothing.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { Keyring } from "../../crypto/keyring.js";
import { randomToken } from "../../crypto/random.js";
import { createSealer } from "../../crypto/sealer.js";

/** The request header the proxy passes to the render (never sent to or read from a browser). */
export const FLASH_HEADER = "x-flagon-flash";

/** The handoff cookie's name beside session cookie `name` (`sid` → `sid.flash`; chunks are `sid.0`…). */
export function handoffCookieName(sessionCookieName: string): string {
  return `${sessionCookieName}.flash`;
}

/** How long a header or a handoff stays valid: the proxy, the action and the render are one request apart. */
const MAX_AGE_MS = 60_000;

/** 128 random bits: the key a handoff is bound to. */
const HANDOFF_KEY_BYTES = 16;

export type DeliveredFlashes = Array<[category: string, message: string]>;

export interface FlashCourier {
  /** The header for a render: its messages and, for a request that may run a Server Action, a handoff key. */
  seal(flashes: DeliveredFlashes, now?: number, handoffKey?: string): string;
  /** The messages of a header this app's proxy wrote, or undefined (absent, forged, stale). */
  open(header: string | null | undefined, now?: number): DeliveredFlashes | undefined;
  /** The handoff key of a header this app's proxy wrote, or undefined. */
  handoffKey(header: string | null | undefined, now?: number): string | undefined;
  /** A fresh handoff key (base64url, 128 bits). */
  newHandoffKey(): string;
  /** The handoff cookie's value: `flashes` sealed for `handoffKey`. */
  sealHandoff(handoffKey: string, flashes: DeliveredFlashes, now?: number): string;
  /** The messages of a handoff sealed for `handoffKey` and still fresh, or undefined. */
  openHandoff(handoffKey: string, sealed: string | undefined, now?: number): DeliveredFlashes | undefined;
}

/** One random key per process when there is no secret (Flask cookie stores carry their own keys). */
const PROCESS_KEY = Symbol.for("flagon.next.flash-key");

function processKey(): Buffer {
  const holder = globalThis as { [PROCESS_KEY]?: Buffer };
  holder[PROCESS_KEY] ??= randomBytes(32);
  return holder[PROCESS_KEY];
}

/** `[category, message]` pairs of parsed JSON, anything else dropped. */
function flashPairs(value: unknown): DeliveredFlashes | undefined {
  if (!Array.isArray(value)) return undefined;
  const flashes: DeliveredFlashes = [];
  for (const entry of value) {
    if (Array.isArray(entry) && typeof entry[0] === "string" && typeof entry[1] === "string") {
      flashes.push([entry[0], entry[1]]);
    }
  }
  return flashes;
}

export function flashCourier(secret: string | readonly string[] | undefined): FlashCourier {
  const primary = typeof secret === "string" ? secret : secret?.[0];
  // Domain-separated from every other use of the secret (cookies, ids, CSRF tokens).
  const key =
    primary === undefined
      ? processKey()
      : createHmac("sha256", primary).update("flagon/next flash header v1").digest();
  const mac = (payload: string) => createHmac("sha256", key).update(payload).digest("base64url");
  // The sealer's own HKDF purpose; without a secret, the process key (the proxy and the app share a process).
  const sealer = createSealer(
    new Keyring(secret ?? processKey().toString("base64url")),
    "next/flash-handoff",
  );
  // AAD: the key, so a handoff opens only for the request whose header carries it.
  const handoffName = (handoffKey: string) => `flash-handoff.${handoffKey}`;

  function read(header: string | null | undefined, now: number): { f: unknown; h: unknown } | undefined {
    if (typeof header !== "string") return undefined;
    const dot = header.indexOf(".");
    if (dot === -1) return undefined;
    const payload = header.slice(0, dot);
    const given = Buffer.from(header.slice(dot + 1));
    const expected = Buffer.from(mac(payload));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
    } catch {
      return undefined;
    }
    const { t, f, h } = (parsed ?? {}) as { t?: unknown; f?: unknown; h?: unknown };
    if (typeof t !== "number" || now - t > MAX_AGE_MS || t - now > MAX_AGE_MS) return undefined;
    return { f, h };
  }

  return {
    seal(flashes, now = Date.now(), handoffKey) {
      const body = handoffKey === undefined ? { t: now, f: flashes } : { t: now, f: flashes, h: handoffKey };
      const payload = Buffer.from(JSON.stringify(body)).toString("base64url");
      return `${payload}.${mac(payload)}`;
    },
    open(header, now = Date.now()) {
      const fields = read(header, now);
      return fields === undefined ? undefined : flashPairs(fields.f);
    },
    handoffKey(header, now = Date.now()) {
      const h = read(header, now)?.h;
      return typeof h === "string" && h.length > 0 ? h : undefined;
    },
    newHandoffKey: () => randomToken(HANDOFF_KEY_BYTES),
    sealHandoff(handoffKey, flashes, now = Date.now()) {
      return sealer.seal(handoffName(handoffKey), JSON.stringify(flashes), {
        now,
        expiresAt: now + MAX_AGE_MS,
      });
    },
    openHandoff(handoffKey, sealed, now = Date.now()) {
      if (sealed === undefined) return undefined;
      const opened = sealer.open(handoffName(handoffKey), sealed, { now });
      if (opened === null) return undefined;
      try {
        return flashPairs(JSON.parse(opened.value));
      } catch {
        return undefined;
      }
    },
  };
}
