/**
 * `codec: "tagged"`: session values as Flask's tagged JSON spells them (flask/json/tag.py): a value
 * JSON cannot hold becomes a one-key object whose key starts with a space, and a plain one-key object
 * whose key is a tag is escaped, as Flask's `" di"` does. A tag table (key, check, to JSON, from JSON),
 * like tag.py's, for the types Flask has no tag for (or whose Flask tag loses precision: `" d"` keeps
 * whole seconds). The keys are not Flask's (`TAG_KEYS`), so a Flask app reading a flagon cookie sees
 * plain dicts and writes them back unchanged, and the result is plain JSON every store keeps as it is.
 */
import { decodeStandardStrict, encodeStandard } from "./base64.js";
import { setOwn, TAG_KEYS } from "./json.js";

interface Tag {
  readonly key: string;
  check(value: object): boolean;
  toJSON(value: never): unknown;
  fromJSON(json: unknown): unknown;
}

/** The JSON a tagged value holds was not written by `tagValue`: the cookie or record is not ours. */
export class TaggedValueError extends Error {}

const bad = (what: string): never => {
  throw new TaggedValueError(`not a tagged session value: ${what}`);
};

const TAGS: readonly Tag[] = [
  {
    key: " fd",
    check: (value) => value instanceof Date,
    toJSON: (value: Date) => value.toISOString(),
    fromJSON: (json) => {
      const date = typeof json === "string" ? new Date(json) : null;
      return date !== null && !Number.isNaN(date.getTime()) ? date : bad("a Date");
    },
  },
  {
    key: " fm",
    check: (value) => value instanceof Map,
    toJSON: (value: Map<unknown, unknown>) =>
      Array.from(value, ([key, item]) => [tagValue(key), tagValue(item)]),
    fromJSON: (json) => {
      if (!Array.isArray(json)) return bad("a Map");
      return new Map(
        json.map((entry: unknown) =>
          Array.isArray(entry) && entry.length === 2
            ? [untagValue(entry[0]), untagValue(entry[1])]
            : bad("a Map entry"),
        ),
      );
    },
  },
  {
    key: " fs",
    check: (value) => value instanceof Set,
    toJSON: (value: Set<unknown>) => Array.from(value, tagValue),
    fromJSON: (json) => (Array.isArray(json) ? new Set(json.map(untagValue)) : bad("a Set")),
  },
  {
    key: " fb",
    check: (value) => value instanceof Uint8Array,
    toJSON: (value: Uint8Array) => encodeStandard(value),
    fromJSON: (json) => {
      const bytes = typeof json === "string" ? decodeStandardStrict(json) : null;
      return bytes === null ? bad("a Uint8Array") : new Uint8Array(bytes);
    },
  },
];

/** BigInt is a primitive: tagged apart from the object table. */
const BIGINT_KEY = " fn";
/** A plain one-key object whose key is one of the tags: `{" fo": {key: value}}`. */
const ESCAPE_KEY = " fo";

const TAG_BY_KEY = new Map<string, Tag>(TAGS.map((tag) => [tag.key, tag]));
const ALL_KEYS = new Set<string>([...TAG_BY_KEY.keys(), BIGINT_KEY, ESCAPE_KEY]);
for (const key of ALL_KEYS) {
  // Disjoint from Flask's own tags, or Flask's writer would escape ours (and Python would misread them).
  if (TAG_KEYS.has(key)) throw new Error(`tag ${key} is one of Flask's`);
}

function soleKey(object: object): string | undefined {
  let only: string | undefined;
  for (const key in object) {
    if (!Object.hasOwn(object, key)) continue;
    if (only !== undefined) return undefined;
    only = key;
  }
  return only;
}

/**
 * The plain-JSON form of a session value checked by `checkSessionValue(…, tagged = true)`: Dates, Maps,
 * Sets, BigInts and Uint8Arrays become tag objects; everything else is copied as it is.
 */
export function tagValue(value: unknown): unknown {
  if (typeof value === "bigint") return { [BIGINT_KEY]: value.toString() };
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) return value.map(tagValue);
  for (const tag of TAGS) {
    if (tag.check(value)) return { [tag.key]: tag.toJSON(value as never) };
  }
  // A class the store keeps itself (Flask's tuples, Markup, UUIDs) goes to it as it is.
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const key in value) {
    if (Object.hasOwn(value, key)) setOwn(out, key, tagValue((value as Record<string, unknown>)[key]));
  }
  const only = soleKey(out);
  return only !== undefined && ALL_KEYS.has(only) ? { [ESCAPE_KEY]: out } : out;
}

/** The value `tagValue` was given, from its JSON. @throws TaggedValueError for a malformed tag. */
export function untagValue(json: unknown): unknown {
  if (typeof json !== "object" || json === null) return json;
  if (Array.isArray(json)) return json.map(untagValue);
  // A store's own types (Flask's tuples, bytes, dates) are passed on as the store read them.
  const proto = Object.getPrototypeOf(json);
  if (proto !== Object.prototype && proto !== null) return json;
  const only = soleKey(json);
  if (only !== undefined && ALL_KEYS.has(only)) {
    const inner = (json as Record<string, unknown>)[only];
    if (only === BIGINT_KEY) {
      return typeof inner === "string" && /^-?(?:0|[1-9]\d*)$/.test(inner) ? BigInt(inner) : bad("a BigInt");
    }
    if (only === ESCAPE_KEY) {
      if (typeof inner !== "object" || inner === null || Array.isArray(inner))
        return bad("an escaped object");
      const key = soleKey(inner) ?? bad("an escaped object");
      const out: Record<string, unknown> = {};
      setOwn(out, key, untagValue((inner as Record<string, unknown>)[key]));
      return out;
    }
    return TAG_BY_KEY.get(only)!.fromJSON(inner);
  }
  const out: Record<string, unknown> = {};
  for (const key in json) {
    if (Object.hasOwn(json, key)) setOwn(out, key, untagValue((json as Record<string, unknown>)[key]));
  }
  return out;
}
