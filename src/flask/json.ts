/**
 * Flask's tagged JSON (flask/json/tag.py) with Python's `json` module semantics, both ways.
 *
 * Reading follows `json.loads(text, object_hook=untag)`: non-standard `NaN`/`Infinity`/`-Infinity`,
 * exact big integers, last duplicate key wins (keeping the first key's position), tags undone from
 * the innermost value outwards. Writing follows `json.dumps(tag(value), separators=(",", ":"),
 * ensure_ascii=True, sort_keys=True)`: keys sorted by code point, `\uXXXX` in lowercase, Python's
 * float repr. Anything Python would raise on becomes a `FlaskPayloadError` (a rejected cookie).
 */
import { FlagonError } from "../errors.js";
import { decodeStandardLenient, encodeStandard } from "./base64.js";
import { formatHttpDate, isPythonDate, parseHttpDate } from "./httpdate.js";
import { FlaskFloat, FlaskMarkup, FlaskTuple, FlaskUUID } from "./types.js";

/** A correctly signed payload that does not decode to a session (Flask answers 500 on these). */
export class FlaskPayloadError extends Error {}

/** Python's default recursion limit: json.loads fails near it, so deeper input is rejected. */
const MAX_READ_DEPTH = 1000;
/** Leaves room under Python's limit for the frames of a Flask request, so Flask can read what we write. */
const MAX_WRITE_DEPTH = 500;
/** Python 3.11's `sys.int_info.default_max_str_digits`: longer int literals raise ValueError. */
const MAX_INT_DIGITS = 4300;

export const TAG_KEYS: ReadonlySet<string> = new Set([" di", " t", " b", " m", " u", " d"]);

/**
 * A value as Python holds it while decoding: dicts stay `Map`s (insertion order matters to
 * `" di"` and to duplicate keys), floats are `FlaskFloat` so that `1.0` and `1` stay apart.
 */
type Py =
  | null
  | boolean
  | number
  | bigint
  | string
  | FlaskFloat
  | FlaskTuple
  | FlaskMarkup
  | FlaskUUID
  | Uint8Array
  | Date
  | Py[]
  | Map<string, Py>;

const fail = (): never => {
  throw new FlaskPayloadError("payload is not a Flask session");
};

// ---------------------------------------------------------------------------------------------
// Python semantics helpers

function pyTruthy(value: Py): boolean {
  if (value === null) return false;
  if (typeof value === "boolean") return value;
  if (typeof value === "number") return value !== 0;
  if (typeof value === "bigint") return value !== 0n;
  if (typeof value === "string") return value.length > 0;
  if (value instanceof FlaskFloat) return value.value !== 0;
  if (value instanceof FlaskMarkup) return value.html.length > 0;
  if (value instanceof Map) return value.size > 0;
  if (Array.isArray(value) || value instanceof Uint8Array || value instanceof FlaskTuple)
    return value.length > 0;
  return true; // UUID, datetime
}

/** `iter(value)` as a list, or `null` where Python raises TypeError. */
function pyIterate(value: Py): Py[] | null {
  if (Array.isArray(value)) return value;
  if (value instanceof FlaskTuple) return value.items as Py[];
  if (typeof value === "string") return Array.from(value);
  if (value instanceof FlaskMarkup) return Array.from(value.html);
  if (value instanceof Uint8Array) return Array.from(value);
  if (value instanceof Map) return Array.from(value.keys());
  return null;
}

/** A Python `str` (Markup is a str subclass), or `null`. */
function pyString(value: Py): string | null {
  if (typeof value === "string") return value;
  if (value instanceof FlaskMarkup) return value.html;
  return null;
}

/** `str(value)` for the scalars `Markup(value)` may see; `null` for the rest (not supported). */
function pyStr(value: Py): string | null {
  if (value === null) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (typeof value === "number" || typeof value === "bigint") return String(value);
  if (value instanceof FlaskFloat) {
    const x = value.value;
    if (Number.isFinite(x)) return formatPythonFloat(x);
    return Number.isNaN(x) ? "nan" : x > 0 ? "inf" : "-inf"; // str(float), unlike json.dumps
  }
  if (value instanceof FlaskUUID) return value.toString();
  return pyString(value);
}

const PY_SPACE =
  "[\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";
const PY_STRIP = new RegExp(`^${PY_SPACE}+|${PY_SPACE}+$`, "g");

/** `uuid.UUID(text)` (Python 3.11), or `null` where it raises ValueError. */
function pyUUID(text: string): FlaskUUID | null {
  const hex = text
    .replaceAll("urn:", "")
    .replaceAll("uuid:", "")
    .replace(/^[{}]+|[{}]+$/g, "")
    .replaceAll("-", "");
  if (Array.from(hex).length !== 32) return null;
  // int(hex, 16): surrounding whitespace, a "+" sign, a "0x" prefix and single underscores are allowed.
  let digits = hex.replace(PY_STRIP, "");
  if (digits.startsWith("+")) digits = digits.slice(1);
  const prefixed = /^0[xX]/.test(digits);
  if (prefixed) digits = digits.slice(2);
  const grammar = prefixed ? /^_?[0-9a-fA-F](?:_?[0-9a-fA-F])*$/ : /^[0-9a-fA-F](?:_?[0-9a-fA-F])*$/;
  if (!grammar.test(digits)) return null;
  return new FlaskUUID(
    BigInt(`0x${digits.replaceAll("_", "")}`)
      .toString(16)
      .padStart(32, "0"),
  );
}

/** Flask's `JSONTag.to_python` for each registered tag: the object hook's work. */
function untag(dict: Map<string, Py>): Py {
  if (dict.size !== 1) return dict;
  const [key, value] = dict.entries().next().value as [string, Py];
  switch (key) {
    case " t": {
      const items = pyIterate(value);
      return items === null ? fail() : new FlaskTuple(items);
    }
    case " b": {
      const text = pyString(value);
      const bytes = text === null ? null : decodeStandardLenient(text);
      return bytes ?? fail();
    }
    case " m": {
      const text = pyStr(value);
      return text === null ? fail() : new FlaskMarkup(text);
    }
    case " u": {
      const text = pyString(value);
      return (text === null ? null : pyUUID(text)) ?? fail();
    }
    case " d": {
      // werkzeug parse_date: None for unparseable text; falsy values and bytes also end as None.
      const text = pyString(value);
      if (text !== null) return parseHttpDate(text);
      return !pyTruthy(value) || value instanceof Uint8Array ? null : fail();
    }
    case " di": {
      if (!(value instanceof Map) || value.size === 0) return fail();
      const [innerKey, innerValue] = value.entries().next().value as [string, Py];
      // Flask strips the "__" suffix blindly: key[:-2] in code points.
      return new Map([[Array.from(innerKey).slice(0, -2).join(""), innerValue]]);
    }
    default:
      return dict;
  }
}

// ---------------------------------------------------------------------------------------------
// Reading

const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?/y;

class PythonJSONParser {
  private index = 0;
  private depth = 0;

  constructor(
    private readonly text: string,
    private readonly tags: boolean,
  ) {}

  parse(): Py {
    this.skipSpace();
    const value = this.value();
    this.skipSpace();
    if (this.index !== this.text.length) fail(); // "Extra data"
    return value;
  }

  private skipSpace(): void {
    const text = this.text;
    let i = this.index;
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
      else break;
    }
    this.index = i;
  }

  private literal(word: string, value: Py): Py {
    if (!this.text.startsWith(word, this.index)) fail();
    this.index += word.length;
    return value;
  }

  private value(): Py {
    const c = this.text.charCodeAt(this.index);
    switch (c) {
      case 0x22: // "
        return this.string();
      case 0x7b: // {
        return this.object();
      case 0x5b: // [
        return this.array();
      case 0x6e: // n
        return this.literal("null", null);
      case 0x74: // t
        return this.literal("true", true);
      case 0x66: // f
        return this.literal("false", false);
      case 0x4e: // N
        return this.literal("NaN", new FlaskFloat(Number.NaN));
      case 0x49: // I
        return this.literal("Infinity", new FlaskFloat(Number.POSITIVE_INFINITY));
      default:
        if (c === 0x2d && this.text.startsWith("-Infinity", this.index)) {
          this.index += 9;
          return new FlaskFloat(Number.NEGATIVE_INFINITY);
        }
        return this.number();
    }
  }

  private number(): Py {
    NUMBER.lastIndex = this.index;
    const match = NUMBER.exec(this.text);
    if (match === null) return fail(); // "Expecting value"
    const literal = match[0];
    this.index += literal.length;
    if (match[1] !== undefined || match[2] !== undefined) return new FlaskFloat(Number(literal));
    if (literal.length <= 15) return Number(literal); // at most 15 digits: always a safe integer
    if (literal.replace("-", "").length > MAX_INT_DIGITS) fail();
    const big = BigInt(literal);
    return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(big)
      : big;
  }

  private string(): string {
    const text = this.text;
    let i = this.index + 1;
    let out = "";
    let start = i;
    for (;;) {
      if (i >= text.length) fail(); // "Unterminated string"
      const c = text.charCodeAt(i);
      if (c === 0x22) break;
      if (c < 0x20) fail(); // strict mode: raw control characters are invalid
      if (c !== 0x5c) {
        i++;
        continue;
      }
      out += text.slice(start, i);
      const escaped = text[i + 1];
      i += 2;
      switch (escaped) {
        case '"':
        case "\\":
        case "/":
          out += escaped;
          break;
        case "b":
          out += "\b";
          break;
        case "f":
          out += "\f";
          break;
        case "n":
          out += "\n";
          break;
        case "r":
          out += "\r";
          break;
        case "t":
          out += "\t";
          break;
        case "u": {
          const hex = text.slice(i, i + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail();
          out += String.fromCharCode(Number.parseInt(hex, 16));
          i += 4;
          break;
        }
        default:
          fail();
      }
      start = i;
    }
    out += text.slice(start, i);
    this.index = i + 1;
    return out;
  }

  private enter(): void {
    if (++this.depth > MAX_READ_DEPTH) fail();
    this.index++;
    this.skipSpace();
  }

  private object(): Py {
    this.enter();
    const dict = new Map<string, Py>();
    if (this.text.charCodeAt(this.index) === 0x7d) {
      this.index++;
    } else {
      for (;;) {
        if (this.text.charCodeAt(this.index) !== 0x22) fail(); // "Expecting property name"
        const key = this.string();
        this.skipSpace();
        if (this.text.charCodeAt(this.index) !== 0x3a) fail(); // "Expecting ':' delimiter"
        this.index++;
        this.skipSpace();
        dict.set(key, this.value());
        this.skipSpace();
        const next = this.text.charCodeAt(this.index++);
        if (next === 0x7d) break;
        if (next !== 0x2c) fail();
        this.skipSpace();
      }
    }
    this.depth--;
    return this.tags ? untag(dict) : dict;
  }

  private array(): Py[] {
    this.enter();
    const list: Py[] = [];
    if (this.text.charCodeAt(this.index) === 0x5d) {
      this.index++;
    } else {
      for (;;) {
        list.push(this.value());
        this.skipSpace();
        const next = this.text.charCodeAt(this.index++);
        if (next === 0x5d) break;
        if (next !== 0x2c) fail();
        this.skipSpace();
      }
    }
    this.depth--;
    return list;
  }
}

/** Adds an own property, even for `"__proto__"`, without touching any prototype. */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__")
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

function toJavaScript(value: Py, exactFloats: boolean): unknown {
  if (value instanceof Map) {
    const object: Record<string, unknown> = {};
    for (const [key, item] of value) setOwn(object, key, toJavaScript(item, exactFloats));
    return object;
  }
  if (Array.isArray(value)) return value.map((item) => toJavaScript(item, exactFloats));
  if (value instanceof FlaskTuple)
    return new FlaskTuple(value.items.map((item) => toJavaScript(item as Py, exactFloats)));
  if (value instanceof FlaskFloat) return exactFloats ? value : value.value;
  return value;
}

export interface ParseOptions {
  /** Undo Flask's tags (`" t"`, `" b"`, …). Default true; false reads plain Python JSON. */
  tags?: boolean;
  /** Return floats as `FlaskFloat` (keeps `1.0` apart from `1`). Default false: plain numbers. */
  exactFloats?: boolean;
}

/** `json.loads(text)` as Flask's session serializer runs it. @throws FlaskPayloadError */
export function parseFlaskJSON(text: string, options: ParseOptions = {}): unknown {
  const value = new PythonJSONParser(text, options.tags ?? true).parse();
  return toJavaScript(value, options.exactFloats ?? false);
}

/**
 * Flask's session from a payload: `SecureCookieSession(json.loads(text))`, i.e. `dict(data or ())`.
 * A falsy payload (`null`, `""`, `[]`, `0`) is an empty session; a list of `[key, value]` pairs
 * becomes a dict. Non-string keys are rejected (JavaScript objects cannot keep them apart).
 * @throws FlaskPayloadError
 */
export function parseFlaskSession(text: string): Record<string, unknown> {
  const value = new PythonJSONParser(text, true).parse();
  let dict: Map<string, Py>;
  if (!pyTruthy(value)) dict = new Map();
  else if (value instanceof Map) dict = value;
  else {
    const items = pyIterate(value) ?? fail();
    dict = new Map();
    for (const item of items) {
      const pair = pyIterate(item);
      if (pair === null || pair.length !== 2) fail();
      const key = pyString(pair![0]!) ?? fail();
      dict.set(key, pair![1]!);
    }
  }
  return toJavaScript(dict, false) as Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------------
// Writing

/** Python's `repr(float)`: shortest round-trip digits, `1.0`, `1e-07`, `1e+16`, `-0.0`, `NaN`. */
export function formatPythonFloat(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "Infinity";
  if (value === Number.NEGATIVE_INFINITY) return "-Infinity";
  if (value === 0) return Object.is(value, -0) ? "-0.0" : "0.0";
  const sign = value < 0 ? "-" : "";
  // toExponential() without digits gives the shortest round-trip digits, like Python's repr.
  const [mantissa, exponentText] = Math.abs(value).toExponential().split("e") as [string, string];
  const digits = mantissa.replace(".", "");
  const exponent = Number(exponentText);
  const pointPosition = exponent + 1;
  if (pointPosition > 16 || pointPosition <= -4) {
    const body = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${body}e${exponent < 0 ? "-" : "+"}${String(Math.abs(exponent)).padStart(2, "0")}`;
  }
  if (pointPosition <= 0) return `${sign}0.${"0".repeat(-pointPosition)}${digits}`;
  if (pointPosition >= digits.length) return `${sign}${digits}${"0".repeat(pointPosition - digits.length)}.0`;
  return `${sign}${digits.slice(0, pointPosition)}.${digits.slice(pointPosition)}`;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: ensure_ascii escapes exactly the control characters
const NEEDS_ESCAPE = /["\\\x00-\x1f\x7f-\uffff]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: as above
const ESCAPES = /["\\\x00-\x1f\x7f-\uffff]/g;
const SHORT_ESCAPES: Record<string, string> = {
  '"': '\\"',
  "\\": "\\\\",
  "\b": "\\b",
  "\f": "\\f",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
};

/** `json.dumps(text, ensure_ascii=True)`: every code unit outside printable ASCII as lowercase `\uXXXX`. */
export function quotePythonString(text: string): string {
  if (!NEEDS_ESCAPE.test(text)) return `"${text}"`;
  return `"${text.replace(ESCAPES, (char) => SHORT_ESCAPES[char] ?? `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`)}"`;
}

const isHighSurrogate = (code: number): boolean => code >= 0xd800 && code <= 0xdbff;
const isLowSurrogate = (code: number): boolean => code >= 0xdc00 && code <= 0xdfff;

/** Python's string order (by code point); JavaScript's default compares UTF-16 code units. */
export function compareCodePoints(a: string, b: string): number {
  const shared = Math.min(a.length, b.length);
  let i = 0;
  while (i < shared && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  if (i === shared) return a.length - b.length;
  if (
    i > 0 &&
    isHighSurrogate(a.charCodeAt(i - 1)) &&
    (isLowSurrogate(a.charCodeAt(i)) || isLowSurrogate(b.charCodeAt(i)))
  )
    i--;
  return a.codePointAt(i)! - b.codePointAt(i)!;
}

const notSerializable = (what: string): never => {
  throw new FlagonError("ERR_VALUE_NOT_SERIALIZABLE", `a Flask session cannot hold ${what}`);
};

function isPlainObject(value: object): value is Record<string, unknown> {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function describe(value: unknown): string {
  if (value === null || typeof value !== "object") return `a value of type ${typeof value}`;
  return `an instance of ${(value as { constructor?: { name?: string } }).constructor?.name ?? "an unknown class"}`;
}

class PythonJSONWriter {
  private readonly path = new Set<object>();

  write(value: unknown, depth: number): string {
    switch (typeof value) {
      case "string":
        return quotePythonString(value);
      case "number":
        return Number.isSafeInteger(value) && !Object.is(value, -0)
          ? String(value)
          : formatPythonFloat(value);
      case "bigint":
        return value.toString();
      case "boolean":
        return value ? "true" : "false";
      case "object":
        if (value === null) return "null";
        break;
      default:
        return notSerializable(describe(value));
    }
    if (depth > MAX_WRITE_DEPTH) notSerializable(`values nested deeper than ${MAX_WRITE_DEPTH} levels`);
    if (value instanceof FlaskFloat) return formatPythonFloat(value.value);
    if (value instanceof FlaskMarkup) return `{" m":${quotePythonString(value.html)}}`;
    if (value instanceof FlaskUUID) return `{" u":"${value.hex}"}`;
    if (value instanceof Uint8Array) return `{" b":"${encodeStandard(value)}"}`;
    if (value instanceof Date) {
      if (!isPythonDate(value)) notSerializable("a Date outside the years 1 to 9999");
      return `{" d":"${formatHttpDate(value)}"}`;
    }
    if (this.path.has(value)) notSerializable("a circular structure");
    this.path.add(value);
    let json: string;
    if (Array.isArray(value)) json = this.list(value, depth);
    else if (value instanceof FlaskTuple) json = `{" t":${this.list(value.items, depth)}}`;
    else if (isPlainObject(value)) json = this.dict(value, depth);
    else json = notSerializable(describe(value));
    this.path.delete(value);
    return json;
  }

  private list(items: readonly unknown[], depth: number): string {
    const parts = items.map((item) => (item === undefined ? "null" : this.write(item, depth + 1)));
    return `[${parts.join(",")}]`;
  }

  private dict(object: Record<string, unknown>, depth: number): string {
    const keys = Object.keys(object).filter((key) => object[key] !== undefined);
    if (keys.length === 1 && TAG_KEYS.has(keys[0]!)) {
      // Flask's TagDict: a one-key dict whose key is a tag is escaped as {" di": {"<key>__": value}}.
      const key = keys[0]!;
      return `{" di":{${quotePythonString(`${key}__`)}:${this.write(object[key], depth + 1)}}}`;
    }
    keys.sort(compareCodePoints);
    const parts = keys.map((key) => `${quotePythonString(key)}:${this.write(object[key], depth + 1)}`);
    return `{${parts.join(",")}}`;
  }
}

/**
 * `TaggedJSONSerializer.dumps(value)` byte for byte as Flask writes it.
 * @throws FlagonError `ERR_VALUE_NOT_SERIALIZABLE` for values Flask's session cannot hold.
 */
export function dumpFlaskJSON(value: unknown): string {
  if (value === undefined) notSerializable("undefined");
  return new PythonJSONWriter().write(value, 0);
}
