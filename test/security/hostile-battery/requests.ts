/**
 * Generated hostile requests. A request is generated as a description (which seeded session's
 * cookie, mangled how) and made concrete at send time, so that it always uses the live cookies of
 * the sessions the battery seeded, even after one was re-seeded.
 */
import fc from "fast-check";
import { BODY_LIMIT, PATHS } from "./apps.js";
import type { RawRequest } from "./transport.js";

/** A session the battery created, whose data holds a marker no other request may see. */
export interface Seeded {
  /** The value of its `sid` cookie. */
  cookie: string;
  id: string;
  csrfToken: string;
  marker: string;
}

const BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** Node's limit on a request's header section (`--max-http-header-size`, 16 KiB). */
export const NODE_HEADER_LIMIT = 16 * 1024;

/** Latin1 text as it may appear in a header value: tab, visible ASCII, space and obs-text. */
const headerChar = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)) },
  { weight: 1, arbitrary: fc.integer({ min: 0x80, max: 0xff }).map((code) => String.fromCharCode(code)) },
  { weight: 1, arbitrary: fc.constantFrom("\t", ";", "=", '"', ",", "%", "\\") },
);
const headerText = (maxLength: number) => fc.string({ unit: headerChar, maxLength });
/** Unicode text sent as its UTF-8 bytes (each byte one latin1 character). */
const utf8Text = fc
  .string({ unit: "grapheme", maxLength: 12 })
  .map((text) => Buffer.from(text, "utf8").toString("latin1"));

const NAME_VARIANTS = [
  "sid",
  "sid",
  "sid",
  "__Host-sid",
  "__HOST-sid",
  "__Secure-sid",
  "__host-sid",
  "%5F_Host-sid",
  " sid",
  "\tsid",
  "sid ",
  "\u00a0sid",
  "SID",
  "sid.0",
  "sid.1",
  "session",
  "session.0",
  "session.1",
] as const;

type Mangle = "intact" | "flip" | "truncate" | "extend" | "dot-extend" | "double-mac" | "quoted" | "chunks";

type CookiePart =
  | {
      kind: "seeded";
      seed: number;
      name: (typeof NAME_VARIANTS)[number];
      mangle: Mangle;
      position: number;
      bit: number;
    }
  | { kind: "pair"; name: string; value: string }
  | { kind: "pad"; name: string; size: number; fill: string }
  | { kind: "literal"; text: string };

const padSize = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 300 }) },
  { weight: 3, arbitrary: fc.integer({ min: 1000, max: 4100 }) },
  { weight: 1, arbitrary: fc.integer({ min: 7000, max: NODE_HEADER_LIMIT - 600 }) },
);

const cookiePart: fc.Arbitrary<CookiePart> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant("seeded" as const),
      seed: fc.integer({ min: 0, max: 1 }),
      name: fc.constantFrom(...NAME_VARIANTS),
      mangle: fc.constantFrom<Mangle>(
        "intact",
        "intact",
        "flip",
        "flip",
        "truncate",
        "extend",
        "dot-extend",
        "double-mac",
        "quoted",
        "chunks",
      ),
      position: fc.nat(),
      bit: fc.integer({ min: 0, max: 5 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("pair" as const),
      name: fc.oneof(
        fc.constantFrom(...NAME_VARIANTS),
        fc.constantFrom("__proto__", "constructor", "a", ""),
        headerText(8),
      ),
      value: fc.oneof(
        headerText(40),
        utf8Text,
        fc.string({ maxLength: 12 }).map(encodeURIComponent),
        fc.constantFrom(
          "%E0%A4%A",
          "%zz",
          "%",
          "%00",
          "%FF%FE",
          '"',
          '""',
          '"unterminated',
          "v1.",
          "v1..",
          "....",
        ),
      ),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("pad" as const),
      name: fc.constantFrom("_ga", "_gid", "analytics", "sid", "__Host-sid", "sid.2"),
      size: padSize,
      fill: fc.constantFrom("x", "A", "=", ";", "%", " ", "\u00e9"),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("literal" as const),
      text: fc.constantFrom(
        ";;;",
        "=",
        "=sid=x",
        "sid",
        "sid=",
        "; sid=;",
        "__proto__=1",
        "constructor=x",
        ",,",
        " = x",
      ),
    }),
  },
);

const SEPARATORS = ["; ", ";", ", ", " ; ", ";  "] as const;
interface CookieField {
  parts: CookiePart[];
  separator: string;
}
const cookieField: fc.Arbitrary<CookieField> = fc.record({
  parts: fc.array(cookiePart, { maxLength: 6 }),
  separator: fc.constantFrom(...SEPARATORS),
});

type BodyKind =
  | "none"
  | "urlencoded"
  | "multipart"
  | "multipart-no-boundary"
  | "json"
  | "text"
  | "octet"
  | "untyped"
  | "bad-type";

const bodyArbitrary = fc.record({
  kind: fc.constantFrom<BodyKind>(
    "none",
    "none",
    "urlencoded",
    "urlencoded",
    "multipart",
    "multipart-no-boundary",
    "json",
    "json",
    "text",
    "octet",
    "untyped",
    "bad-type",
  ),
  /** Which token goes in the form: none, a seeded session's, or a guess. */
  token: fc.constantFrom("none", "seed0", "seed1", "guess"),
  garbage: fc.boolean(),
  garbageText: headerText(80),
  json: fc.oneof(
    fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value) ?? "null"),
    fc.constantFrom(
      '{"__proto__":{"polluted":true}}',
      '{"constructor":{"prototype":{"polluted":true}}}',
      '{"a":',
      "[".repeat(500),
      "{}",
    ),
  ),
  charset: fc.constantFrom("", "; charset=utf-8", "; charset=UTF-16", "; charset=bogus", "; boundary="),
  /** Cut the body short at this fraction (1: whole). */
  cut: fc.oneof(
    { weight: 4, arbitrary: fc.constant(1) },
    { weight: 1, arbitrary: fc.double({ min: 0, max: 1, noNaN: true }) },
  ),
  /** Make it bigger than the apps' body limit. */
  oversized: fc.oneof(
    { weight: 9, arbitrary: fc.constant(0) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 24_000 }) },
  ),
});

const headerChoice = <T>(values: readonly T[]) =>
  fc.constantFrom<T | undefined>(undefined, undefined, ...values);

const cookieFields: fc.Arbitrary<CookieField[]> = fc.oneof(
  { weight: 1, arbitrary: fc.constant<CookieField[]>([]) },
  { weight: 6, arbitrary: fc.array(cookieField, { minLength: 1, maxLength: 3 }) },
);

export const hostileRequest = fc.record({
  method: fc.constantFrom("GET", "GET", "POST", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"),
  path: fc.oneof(
    { weight: 9, arbitrary: fc.constantFrom(...PATHS) },
    { weight: 3, arbitrary: fc.constant("/csrf/submit") },
    { weight: 1, arbitrary: fc.constantFrom("/nope", "/", "//read", "/read/", "/READ", "/%zz") },
  ),
  query: fc.option(
    fc.record({
      key: fc.oneof(
        fc.constantFrom("name", "__proto__", "constructor", "prototype", "user", "message"),
        fc.string({ maxLength: 8 }),
      ),
      value: fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom("%", "%zz", "%E0%A4%A")),
      raw: fc.boolean(),
    }),
    { freq: 2 },
  ),
  cookieFields,
  body: bodyArbitrary,
  origin: headerChoice([
    "same",
    "https://evil.example",
    "null",
    "http://localhost.evil.example",
    "garbage",
  ] as const),
  secFetchSite: headerChoice(["same-origin", "same-site", "cross-site", "none", "garbage"] as const),
  csrfHeader: headerChoice(["seed0", "seed1", "guess", ""] as const),
  forwardedProto: headerChoice(["https", "http", "https, http", "garbage"] as const),
  lyingLength: fc.oneof(
    { weight: 19, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.integer({ min: -3, max: 64 }) },
  ),
  /**
   * A seeded session's own form post (its cookie first, its token in the header, same origin,
   * plain http) with the hostile parts elsewhere: the code behind a passed CSRF check runs too.
   */
  legit: fc.oneof(
    { weight: 11, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 1 }) },
  ),
});

export type HostileRequest = typeof hostileRequest extends fc.Arbitrary<infer T> ? T : never;

function flip(value: string, position: number, bit: number): string {
  const index = position % value.length;
  const at = BASE64URL.indexOf(value[index]!);
  const replacement = at < 0 ? "A" : BASE64URL[at ^ (1 << bit)]!;
  return value.slice(0, index) + replacement + value.slice(index + 1);
}

function seededPart(part: Extract<CookiePart, { kind: "seeded" }>, seeds: readonly Seeded[]): string {
  const value = seeds[part.seed]!.cookie;
  switch (part.mangle) {
    case "intact":
      return `${part.name}=${value}`;
    case "flip":
      return `${part.name}=${flip(value, part.position, part.bit)}`;
    case "truncate":
      return `${part.name}=${value.slice(0, part.position % value.length)}`;
    case "extend":
      return `${part.name}=${value}x`;
    case "dot-extend":
      return `${part.name}=${value}.AAAA`;
    case "double-mac": {
      const mac = value.slice(value.lastIndexOf(".") + 1);
      return `${part.name}=${value}.${mac}`;
    }
    case "quoted":
      return `${part.name}="${value}"`;
    case "chunks": {
      // A session split like a chunked cookie: name.0, name.1 with the two halves.
      const half = Math.max(1, part.position % value.length);
      const base = part.name.replace(/\.\d$/, "");
      return `${base}.0=${value.slice(0, half)}; ${base}.1=${value.slice(half)}`;
    }
  }
}

function cookieText(part: CookiePart, seeds: readonly Seeded[]): string {
  switch (part.kind) {
    case "seeded":
      return seededPart(part, seeds);
    case "pair":
      return `${part.name}=${part.value}`;
    case "pad":
      return `${part.name}=${part.fill.repeat(part.size)}`;
    case "literal":
      return part.text;
  }
}

function multipart(boundary: string, fields: Record<string, string>): string {
  const parts = Object.entries(fields).map(
    ([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
  );
  return `${parts.join("")}--${boundary}--\r\n`;
}

function tokenFor(choice: string, seeds: readonly Seeded[]): string | undefined {
  if (choice === "seed0") return seeds[0]!.csrfToken;
  if (choice === "seed1") return seeds[1]!.csrfToken;
  if (choice === "guess") return "A".repeat(43);
  return undefined;
}

function bodyOf(
  spec: HostileRequest["body"],
  seeds: readonly Seeded[],
): { contentType: string | undefined; body: Buffer | undefined } {
  if (spec.kind === "none") return { contentType: undefined, body: undefined };
  const token = tokenFor(spec.token, seeds);
  const fields: Record<string, string> = token === undefined ? { a: "1" } : { csrf_token: token, a: "1" };
  let contentType: string | undefined;
  let text = "";
  switch (spec.kind) {
    case "urlencoded":
      contentType = `application/x-www-form-urlencoded${spec.charset}`;
      text = spec.garbage ? spec.garbageText : new URLSearchParams(fields).toString();
      break;
    case "multipart":
      contentType = `multipart/form-data; boundary=XyZ${spec.charset}`;
      text = spec.garbage ? spec.garbageText : multipart("XyZ", fields);
      break;
    case "multipart-no-boundary":
      contentType = `multipart/form-data${spec.charset === "; boundary=" ? "; boundary=" : ""}`;
      text = spec.garbage ? spec.garbageText : multipart("XyZ", fields);
      break;
    case "json":
      contentType = `application/json${spec.charset}`;
      text = spec.garbage ? spec.json : JSON.stringify(fields);
      break;
    case "text":
      contentType = `text/plain${spec.charset}`;
      text = spec.garbage ? spec.garbageText : `csrf_token=${token ?? ""}`;
      break;
    case "octet":
      contentType = "application/octet-stream";
      text = spec.garbageText;
      break;
    case "untyped":
      contentType = undefined;
      text = spec.garbage ? spec.garbageText : new URLSearchParams(fields).toString();
      break;
    case "bad-type":
      contentType = spec.garbage ? spec.garbageText : ";;=; boundary";
      text = new URLSearchParams(fields).toString();
      break;
  }
  let body = Buffer.from(text, spec.kind === "json" || spec.kind === "multipart" ? "utf8" : "latin1");
  if (spec.cut < 1) body = body.subarray(0, Math.floor(body.length * spec.cut));
  if (spec.oversized > 0) {
    body = Buffer.concat([body, Buffer.alloc(Math.max(0, BODY_LIMIT + spec.oversized - body.length), "a")]);
  }
  return { contentType, body };
}

/** The concrete request for `spec`, against an app at `origin` whose sessions are `seeds`. */
export function materialize(spec: HostileRequest, seeds: readonly Seeded[], origin: string): RawRequest {
  let path = spec.path;
  if (spec.query !== null) {
    // Never the flash namespace: a handler setting it throws on purpose (a programmer error, a 500).
    const key = spec.query.key.startsWith("__flagon") ? "x" : spec.query.key;
    path += spec.query.raw
      ? `?key=${encodeURIComponent(key)}&value=${spec.query.value.replace(/[^\x21-\x7e]/g, "_")}`
      : `?key=${encodeURIComponent(key)}&value=${encodeURIComponent(spec.query.value)}`;
  }
  const cookies = spec.cookieFields.map((field) =>
    field.parts.map((part) => cookieText(part, seeds)).join(field.separator),
  );
  const headers: Array<[string, string]> = [];
  let method = spec.method;
  if (spec.legit !== null) {
    const own = seeds[spec.legit]!;
    method = "POST";
    path = "/csrf/submit";
    cookies[0] = `sid=${own.cookie}${cookies[0] === undefined ? "" : `; ${cookies[0]}`}`;
    headers.push(["origin", origin], ["x-csrf-token", own.csrfToken]);
  } else {
    if (spec.origin !== undefined) headers.push(["origin", spec.origin === "same" ? origin : spec.origin]);
    if (spec.secFetchSite !== undefined) headers.push(["sec-fetch-site", spec.secFetchSite]);
    if (spec.csrfHeader !== undefined) headers.push(["x-csrf-token", tokenFor(spec.csrfHeader, seeds) ?? ""]);
    if (spec.forwardedProto !== undefined) headers.push(["x-forwarded-proto", spec.forwardedProto]);
  }
  const { contentType, body } = bodyOf(spec.body, seeds);
  if (contentType !== undefined) headers.push(["content-type", contentType]);
  const lyingLength =
    spec.lyingLength === undefined || body === undefined
      ? undefined
      : Math.max(0, body.length + spec.lyingLength + (spec.lyingLength === 0 ? 1 : 0));
  return { method, path, cookies, headers, body, lyingLength: spec.legit === null ? lyingLength : undefined };
}
