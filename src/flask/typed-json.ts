/**
 * Typed JSON (docs/flask.md, "Type mapping"): plain JSON that spells out Python's types as
 * one-key `$` objects, e.g. `{"$tuple": [1, 2]}`. The vectors' `expected_session` and the
 * `flagon decode --flask` output use it; `toTypedJSON`/`fromTypedJSON` convert from and to the
 * JavaScript representation (docs/flask.md).
 */
import { FlagonError } from "../errors.js";
import { decodeStandardStrict, encodeStandard } from "./base64.js";
import { setOwn } from "./json.js";
import { FlaskFloat, FlaskMarkup, FlaskTuple, FlaskUUID } from "./types.js";

export type TypedJSON = null | boolean | number | string | TypedJSON[] | { [key: string]: TypedJSON };

const invalid = (what: string): never => {
  throw new FlagonError("ERR_VALUE_NOT_SERIALIZABLE", `not valid typed JSON: ${what}`);
};

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function nonFinite(value: number): TypedJSON {
  if (Number.isFinite(value)) return value;
  return { $float: Number.isNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity" };
}

/** `2024-01-02T03:04:05Z`, with `.sss` only when the Date has milliseconds. */
function isoSeconds(date: Date): string {
  if (Number.isNaN(date.getTime())) return invalid("an invalid Date");
  const iso = date.toISOString();
  return date.getUTCMilliseconds() === 0 ? `${iso.slice(0, -5)}Z` : iso;
}

/**
 * The typed JSON of a JavaScript value holding Flask's types: tuples, bytes, Markup, UUIDs,
 * Dates, big integers and non-finite floats become `$` objects; a plain one-key object whose key
 * starts with `$` is escaped as `{"$dict": …}`.
 * @throws FlagonError `ERR_VALUE_NOT_SERIALIZABLE` for values outside the mapping.
 */
export function toTypedJSON(value: unknown): TypedJSON {
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      return nonFinite(value);
    case "bigint":
      return value >= -MAX_SAFE && value <= MAX_SAFE ? Number(value) : { $int: value.toString() };
    case "object":
      break;
    default:
      return invalid(`a value of type ${typeof value}`);
  }
  if (value === null) return null;
  if (Array.isArray(value)) return value.map((item) => (item === undefined ? null : toTypedJSON(item)));
  if (value instanceof FlaskTuple) return { $tuple: value.items.map(toTypedJSON) };
  if (value instanceof Uint8Array) return { $bytes: encodeStandard(value) };
  if (value instanceof FlaskMarkup) return { $markup: value.html };
  if (value instanceof FlaskUUID) return { $uuid: value.toString() };
  if (value instanceof Date) return { $datetime: isoSeconds(value) };
  if (value instanceof FlaskFloat) return nonFinite(value.value);
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return invalid("an instance of a class");
  const source = value as Record<string, unknown>;
  const keys = Object.keys(source).filter((key) => source[key] !== undefined);
  const out: { [key: string]: TypedJSON } = {};
  for (const key of keys) setOwn(out, key, toTypedJSON(source[key]));
  return keys.length === 1 && keys[0]!.startsWith("$") ? { $dict: out } : out;
}

const ISO_DATETIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/;

function parseDatetime(text: unknown): Date {
  const match = typeof text === "string" ? ISO_DATETIME.exec(text) : null;
  if (match === null) return invalid("$datetime must be an ISO 8601 date-time with a zone");
  const [, year, month, day, hour, minute, second, fraction = "", zone] = match as unknown as string[];
  const date = new Date(0);
  date.setUTCFullYear(Number(year), Number(month) - 1, Number(day));
  date.setUTCHours(Number(hour), Number(minute), Number(second), Number(fraction.padEnd(3, "0").slice(0, 3)));
  if (
    date.getUTCFullYear() !== Number(year) ||
    date.getUTCMonth() !== Number(month) - 1 ||
    date.getUTCDate() !== Number(day) ||
    date.getUTCHours() !== Number(hour) ||
    date.getUTCMinutes() !== Number(minute)
  ) {
    return invalid("$datetime is not a calendar date");
  }
  if (zone !== "Z") {
    const sign = zone![0] === "-" ? -1 : 1;
    const offset = sign * (Number(zone!.slice(1, 3)) * 60 + Number(zone!.slice(4, 6)));
    return new Date(date.getTime() - offset * 60_000);
  }
  return date;
}

function fromTag(tag: string, body: unknown): unknown {
  switch (tag) {
    case "$tuple":
      return Array.isArray(body) ? new FlaskTuple(body.map(fromTypedJSON)) : invalid("$tuple needs an array");
    case "$bytes": {
      const bytes = typeof body === "string" ? decodeStandardStrict(body) : null;
      return bytes ?? invalid("$bytes needs padded standard base64");
    }
    case "$markup":
      return typeof body === "string" ? new FlaskMarkup(body) : invalid("$markup needs a string");
    case "$uuid":
      if (typeof body !== "string" || !/^[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$/.test(body)) {
        return invalid("$uuid needs the canonical form with dashes");
      }
      return new FlaskUUID(body);
    case "$datetime":
      return parseDatetime(body);
    case "$int": {
      if (typeof body !== "string" || !/^-?\d+$/.test(body)) return invalid("$int needs a decimal string");
      const big = BigInt(body);
      return big >= -MAX_SAFE && big <= MAX_SAFE ? Number(big) : big;
    }
    case "$float":
      if (body === "NaN") return Number.NaN;
      if (body === "Infinity") return Number.POSITIVE_INFINITY;
      if (body === "-Infinity") return Number.NEGATIVE_INFINITY;
      return invalid('$float needs "NaN", "Infinity" or "-Infinity"');
    case "$dict": {
      const inner =
        body !== null && typeof body === "object" && !Array.isArray(body) ? Object.keys(body) : [];
      if (inner.length !== 1) return invalid("$dict needs an object with exactly one key");
      const out: Record<string, unknown> = {};
      setOwn(out, inner[0]!, fromTypedJSON((body as Record<string, unknown>)[inner[0]!]));
      return out;
    }
    default:
      return invalid("unknown $ type (escape a literal one-key $ dict with $dict)");
  }
}

/**
 * The JavaScript value of a typed-JSON value (the inverse of `toTypedJSON`). Takes a parsed
 * value (use `JSON.parse` first). `FlaskFloat` instances pass through unchanged.
 * @throws FlagonError `ERR_VALUE_NOT_SERIALIZABLE` for malformed `$` objects.
 */
export function fromTypedJSON(json: unknown): unknown {
  if (json === null || typeof json !== "object") {
    if (
      json === undefined ||
      typeof json === "function" ||
      typeof json === "symbol" ||
      typeof json === "bigint"
    ) {
      return invalid(`a value of type ${typeof json}`);
    }
    return json;
  }
  if (Array.isArray(json)) return json.map(fromTypedJSON);
  if (json instanceof FlaskFloat) return json;
  const source = json as Record<string, unknown>;
  const keys = Object.keys(source);
  if (keys.length === 1 && keys[0]!.startsWith("$")) return fromTag(keys[0]!, source[keys[0]!]);
  const out: Record<string, unknown> = {};
  for (const key of keys) setOwn(out, key, fromTypedJSON(source[key]));
  return out;
}
