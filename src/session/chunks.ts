/**
 * Chunked session cookies: a client-store value too long for one cookie, split over `name.0 … name.N-1`.
 *
 * The value is sealed (or signed) once, for the session cookie's own name, exactly as a one-cookie value
 * is; the sealed string is then cut into pieces, and `name.0` starts with the number of pieces (`3.`).
 * Binding: the pieces are read back in order and joined before the format checks anything, so the MAC
 * (AES-GCM's tag, or the signed format's HMAC over the cookie name and the value) covers the whole set.
 * A piece under another name or position, one from another response, a missing or an extra one all give
 * a string the MAC refuses: the session is empty (status "invalid"), never a splice. The count is not
 * authenticated on its own, and needs not be: a wrong count joins a different string, refused the same way.
 * Only the places where the string is cut are free, and moving them changes nothing.
 */
import { Buffer } from "node:buffer";
import { MAX_COOKIE_BYTES } from "../cookie/constants.js";
import { type CookieHeaderInput, readCookie } from "../cookie/parse.js";
import { CookieError } from "../errors.js";

/**
 * The longest Set-Cookie line written for a chunk, attributes included. RFC 6265bis §5.6 bounds name +
 * value at 4096 bytes; chunks keep the whole line within it, so no proxy or browser limit on a line cuts one.
 */
export const MAX_CHUNK_LINE_BYTES = MAX_COOKIE_BYTES;

/** The cookie name of chunk `index` of the session cookie `name`. */
export function chunkName(name: string, index: number): string {
  return `${name}.${index}`;
}

/** Whether a one-cookie value fits: name + value within RFC 6265bis §5.6's 4096 bytes (values are ASCII). */
export function fitsOneCookie(name: string, value: string): boolean {
  return (
    name.length + value.length <= MAX_COOKIE_BYTES &&
    Buffer.byteLength(name) + value.length <= MAX_COOKIE_BYTES
  );
}

/**
 * What the request carried under the chunk names: the joined value, or why there is none. A failure says
 * which: no `count` when `name.0` does not start with a valid one, else `missing`, the first piece below
 * the count the request lacks (or carried empty). The session layer treats both as "malformed"; the CLI
 * (`flagon decode`) names them.
 */
export type ChunkRead =
  | { readonly ok: true; readonly value: string; readonly count: number; readonly present: number }
  | { readonly ok: false; readonly present: number; readonly count?: number; readonly missing?: number };

/**
 * Reads `name.0 … name.N-1` (N from `name.0`'s `N.` prefix, 2 ≤ N ≤ maxChunks) and joins them. `present`
 * is one past the highest chunk index the request carried (0: none), so a commit can expire them all.
 * Only called when the one-cookie name is absent: a session that fits one cookie never comes here.
 */
export function readChunks(
  header: CookieHeaderInput,
  name: string,
  maxChunks: number,
): ChunkRead | undefined {
  const first = readCookie(header, chunkName(name, 0));
  if (first === undefined) return undefined;
  let present = 1;
  for (let index = maxChunks - 1; index > 0; index--) {
    if (readCookie(header, chunkName(name, index)) !== undefined) {
      present = index + 1;
      break;
    }
  }
  const dot = first.indexOf(".");
  const count = dot > 0 && dot <= 3 ? Number(first.slice(0, dot)) : Number.NaN;
  if (!Number.isInteger(count) || count < 2 || count > maxChunks || String(count) !== first.slice(0, dot)) {
    return { ok: false, present };
  }
  let value = first.slice(dot + 1);
  for (let index = 1; index < count; index++) {
    const piece = readCookie(header, chunkName(name, index));
    if (piece === undefined || piece === "") return { ok: false, present, count, missing: index };
    value += piece;
  }
  return { ok: true, value, count, present };
}

/**
 * Cuts `value` into the fewest chunks (at most `maxChunks`) whose lines, serialized by `line(name, value)`,
 * are each at most `MAX_CHUNK_LINE_BYTES`. Returns the chunk lines, `name.0` first. Throws
 * `ERR_COOKIE_TOO_LARGE` (size, limit, what to do) when `maxChunks` cookies cannot hold it.
 */
export function chunkLines(
  name: string,
  value: string,
  maxChunks: number,
  line: (chunk: string, value: string) => string,
): string[] {
  // What each chunk's line costs without its value: name, "=", attributes.
  const room: number[] = [];
  let capacity = 0;
  for (let count = 1; count <= maxChunks; count++) {
    const overhead = Buffer.byteLength(line(chunkName(name, count - 1), ""));
    room.push(Math.max(0, MAX_CHUNK_LINE_BYTES - overhead));
    capacity += room[count - 1]!;
    if (count < 2) continue;
    const prefix = `${count}.`;
    if (capacity - prefix.length < value.length) continue;
    const lines: string[] = [];
    let offset = 0;
    for (let index = 0; index < count; index++) {
      const take = room[index]! - (index === 0 ? prefix.length : 0);
      const piece = value.slice(offset, offset + take);
      offset += take;
      lines.push(line(chunkName(name, index), index === 0 ? prefix + piece : piece));
    }
    return lines;
  }
  const needed = Buffer.byteLength(name) + value.length;
  throw new CookieError(
    "ERR_COOKIE_TOO_LARGE",
    `session cookie "${name}" would be ${needed} bytes (name and value), more than ${maxChunks} ` +
      `cookie${maxChunks === 1 ? "" : "s"} of ${MAX_COOKIE_BYTES} bytes hold (maxChunks ${maxChunks}, about ` +
      `${capacity} bytes of value); store less in the session, raise cookieStore({ maxChunks }) (each chunk ` +
      "is another 4 KB on every request), or keep the session on the server: hybridStore({ cookie, server }) " +
      "or a server store (memory, SQLite, Redis, Postgres)",
  );
}
