/**
 * How flash messages reach a Server Component. A Server Component cannot set cookies or finish a
 * commit, so it cannot take messages out of the session itself; the proxy (`proxy.ts`), which can,
 * takes them out and commits before the page renders, then hands them to the render in a request
 * header. The header is MAC'd with a key derived from the session secret and carries its issue time,
 * so a client that sends its own header to a page the proxy does not cover shows no forged message.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/** The request header the proxy passes to the render (never sent to or read from a browser). */
export const FLASH_HEADER = "x-flagon-flash";

/** How long a header stays valid: the proxy and the render are one request apart at most. */
const MAX_AGE_MS = 60_000;

export type DeliveredFlashes = Array<[category: string, message: string]>;

export interface FlashCourier {
  seal(flashes: DeliveredFlashes, now?: number): string;
  /** The messages of a header this process's proxy wrote, or undefined (absent, forged, stale). */
  open(header: string | null | undefined, now?: number): DeliveredFlashes | undefined;
}

/** One random key per process when there is no secret (Flask cookie stores carry their own keys). */
const PROCESS_KEY = Symbol.for("flagon.next.flash-key");

function processKey(): Buffer {
  const holder = globalThis as { [PROCESS_KEY]?: Buffer };
  holder[PROCESS_KEY] ??= randomBytes(32);
  return holder[PROCESS_KEY];
}

export function flashCourier(secret: string | readonly string[] | undefined): FlashCourier {
  const primary = typeof secret === "string" ? secret : secret?.[0];
  // Domain-separated from every other use of the secret (cookies, ids, CSRF tokens).
  const key =
    primary === undefined
      ? processKey()
      : createHmac("sha256", primary).update("flagon/next flash header v1").digest();
  const mac = (payload: string) => createHmac("sha256", key).update(payload).digest("base64url");

  return {
    seal(flashes, now = Date.now()) {
      const payload = Buffer.from(JSON.stringify({ t: now, f: flashes })).toString("base64url");
      return `${payload}.${mac(payload)}`;
    },
    open(header, now = Date.now()) {
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
      const { t, f } = (parsed ?? {}) as { t?: unknown; f?: unknown };
      if (typeof t !== "number" || now - t > MAX_AGE_MS || t - now > MAX_AGE_MS) return undefined;
      if (!Array.isArray(f)) return undefined;
      const flashes: DeliveredFlashes = [];
      for (const entry of f) {
        if (Array.isArray(entry) && typeof entry[0] === "string" && typeof entry[1] === "string") {
          flashes.push([entry[0], entry[1]]);
        }
      }
      return flashes;
    },
  };
}
