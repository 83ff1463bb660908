/**
 * Values that read back as written. `session.set()` (and `flash`, and `login` meta) refuse, at the
 * call, a value the store would silently change: JSON turns a Date into a string, a Map into `{}`,
 * NaN into null, and drops `undefined` and class prototypes. With `codec: "tagged"` Dates, Maps,
 * Sets, BigInts and Uint8Arrays are kept (src/flask/tagged-values.ts); everything else is refused.
 * Not checked, to keep `set()` at a few nanoseconds per value: symbol-keyed properties and non-index
 * properties of arrays (finding them allocates a key list per object; JSON drops both).
 */
import { SessionValueError } from "../errors.js";
import { TaggedValueError, tagValue, untagValue } from "../flask/tagged-values.js";
import type { SessionData } from "./session.js";

/** Deeper values are refused: Flask's writer stops at 500 levels, and recursion must stay bounded. */
const MAX_DEPTH = 500;

/** Ancestors of the value being checked, for cycles. Checks are synchronous, so one array serves all. */
const ancestors: object[] = [];
/** Prototypes of the classes the store keeps as they are (Flask's tuples…), for the current check. */
let storeKeeps: ReadonlySet<object> | undefined;

/** What is wrong with a value, and where (path segments from the root, innermost last). */
interface Problem {
  path: string[];
  what: string;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

function keySegment(key: string): string {
  return IDENTIFIER.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

function nameOf(value: object): string {
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === "string" ? name : "";
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Built-in kinds of object, named as such ("a Date"); anything else with a prototype is a class instance. */
const BUILT_INS: ReadonlySet<object> = new Set(
  [
    Date,
    Map,
    Set,
    WeakMap,
    WeakSet,
    RegExp,
    Promise,
    ArrayBuffer,
    DataView,
    Int8Array,
    Uint8Array,
    Uint8ClampedArray,
    Int16Array,
    Uint16Array,
    Int32Array,
    Uint32Array,
    Float32Array,
    Float64Array,
    BigInt64Array,
    BigUint64Array,
  ].map((type) => type.prototype as object),
);

/** The article-and-name of a value JSON would change or lose. */
function describeObject(value: object): string {
  if (typeof Buffer !== "undefined" && Buffer.isBuffer(value)) return "a Buffer";
  const name = nameOf(value);
  if (BUILT_INS.has(Object.getPrototypeOf(value))) return `${/^[AEIO]/.test(name) ? "an" : "a"} ${name}`;
  if (value instanceof Error) return `an Error (${name || "Error"})`;
  return name === "" ? "an object with a prototype" : `an instance of ${name}`;
}

function problemOfNumber(value: number): string | undefined {
  if (Number.isFinite(value)) return Object.is(value, -0) ? "-0" : undefined;
  return Number.isNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity";
}

/** A string, boolean, null or finite number other than -0: kept as it is, nothing to walk. */
function isPlainScalar(value: unknown): boolean {
  switch (typeof value) {
    case "string":
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(value) && (value !== 0 || 1 / value > 0);
    default:
      return value === null;
  }
}

function check(value: unknown, tagged: boolean, depth: number): Problem | undefined {
  switch (typeof value) {
    case "string":
    case "boolean":
      return undefined;
    case "number": {
      const what = problemOfNumber(value);
      return what === undefined ? undefined : { path: [], what };
    }
    case "bigint":
      return tagged ? undefined : { path: [], what: "a BigInt" };
    case "undefined":
      return { path: [], what: "undefined" };
    case "function":
      return { path: [], what: "a function" };
    case "symbol":
      return { path: [], what: "a symbol" };
  }
  if (value === null) return undefined;
  const object = value as object;
  if (depth > MAX_DEPTH) return { path: [], what: `nested deeper than ${MAX_DEPTH} levels` };
  if (ancestors.includes(object)) return { path: [], what: "a cycle (it contains itself)" };
  let container: "array" | "record" | "map" | "set" | undefined;
  if (Array.isArray(object)) container = "array";
  else if (isPlainObject(object)) container = "record";
  else if (tagged) {
    if (Object.getPrototypeOf(object) === Date.prototype) {
      return Number.isNaN((object as Date).getTime()) ? { path: [], what: "an invalid Date" } : undefined;
    }
    const proto = Object.getPrototypeOf(object);
    if (proto === Uint8Array.prototype) return undefined;
    if (proto === Map.prototype) container = "map";
    else if (proto === Set.prototype) container = "set";
  }
  if (container === undefined) {
    if (storeKeeps?.has(Object.getPrototypeOf(object))) return undefined;
    return { path: [], what: describeObject(object) };
  }
  // No closure or try/finally per object: checkSessionValue resets the stack if a getter threw.
  ancestors.push(object);
  const problem =
    container === "array"
      ? checkArray(object as unknown[], tagged, depth)
      : container === "record"
        ? checkRecord(object, tagged, depth)
        : container === "map"
          ? checkMap(object as Map<unknown, unknown>, depth)
          : checkSet(object as Set<unknown>, depth);
  ancestors.pop();
  return problem;
}

function checkArray(array: readonly unknown[], tagged: boolean, depth: number): Problem | undefined {
  for (let index = 0; index < array.length; index++) {
    const item = array[index];
    if (isPlainScalar(item)) continue;
    if (!(index in array))
      return { path: [`[${index}]`], what: "a hole (a sparse array reads back with null)" };
    const problem = check(item, tagged, depth + 1);
    if (problem !== undefined) {
      problem.path.push(`[${index}]`);
      return problem;
    }
  }
  return undefined;
}

function checkRecord(record: object, tagged: boolean, depth: number): Problem | undefined {
  const keys = Object.keys(record);
  for (let index = 0; index < keys.length; index++) {
    const key = keys[index]!;
    const item = (record as Record<string, unknown>)[key];
    if (isPlainScalar(item)) continue;
    const problem = check(item, tagged, depth + 1);
    if (problem !== undefined) {
      problem.path.push(keySegment(key));
      return problem;
    }
  }
  return undefined;
}

function checkMap(map: Map<unknown, unknown>, depth: number): Problem | undefined {
  let index = 0;
  for (const [key, item] of map) {
    const keyProblem = check(key, true, depth + 1);
    if (keyProblem !== undefined) {
      keyProblem.path.push(` (key #${index} of a Map)`);
      return keyProblem;
    }
    const problem = check(item, true, depth + 1);
    if (problem !== undefined) {
      problem.path.push(typeof key === "string" ? `.get(${JSON.stringify(key)})` : `.get(<key #${index}>)`);
      return problem;
    }
    index++;
  }
  return undefined;
}

function checkSet(set: Set<unknown>, depth: number): Problem | undefined {
  let index = 0;
  for (const item of set) {
    const problem = check(item, true, depth + 1);
    if (problem !== undefined) {
      problem.path.push(` (entry #${index} of a Set)`);
      return problem;
    }
    index++;
  }
  return undefined;
}

/** What the tagged codec would keep that JSON does not: the hint for a refusal under "json". */
const TAGGED_KEEPS = new Set(["a Date", "a Map", "a Set", "a BigInt", "a Uint8Array"]);

/**
 * Throws `SessionValueError` (a `TypeError`, code `ERR_VALUE_NOT_SERIALIZABLE`) when `value` would not
 * read back equal from the store: `session.set("cart", …): cart.items[2].addedAt is a Date`.
 * `keeps`: prototypes of the classes the store itself keeps (`ClientStore.keepsClasses`).
 * Strings, booleans, null and finite numbers return at once.
 */
export function checkSessionValue(
  root: string,
  value: unknown,
  tagged: boolean,
  keeps?: ReadonlySet<object>,
): void {
  if (isPlainScalar(value)) return;
  if (ancestors.length !== 0) ancestors.length = 0;
  storeKeeps = keeps;
  const problem = check(value, tagged, 0);
  if (problem === undefined) return;
  let where = IDENTIFIER.test(root) ? root : `session[${JSON.stringify(root)}]`;
  for (let index = problem.path.length - 1; index >= 0; index--) where += problem.path[index];
  let hint = "";
  if (problem.what === "undefined") hint = problem.path.length === 0 ? " (use delete())" : " (JSON drops it)";
  else if (!tagged && TAGGED_KEEPS.has(problem.what))
    hint = ' (JSON would not read it back; createSessions({ codec: "tagged" }) keeps it)';
  else if (problem.what.startsWith("an instance of"))
    hint = " (it would read back as a plain object, without its class)";
  throw new SessionValueError(`session.set(${JSON.stringify(root)}, …): ${where} is ${problem.what}${hint}`);
}

/** The data as the store keeps it: with `codec: "tagged"`, each value in its tagged-JSON form. */
export function storedEntries(
  data: ReadonlyMap<string, unknown>,
  tagged: boolean,
): Array<readonly [string, unknown]> {
  return tagged ? Array.from(data, ([key, value]) => [key, tagValue(value)] as const) : [...data];
}

/** One value as the store keeps it (what `maxRecordBytes` measures). */
export function storedValue(value: unknown, tagged: boolean): unknown {
  return tagged ? tagValue(value) : value;
}

export function storedRecord(data: ReadonlyMap<string, unknown>, tagged: boolean): Record<string, unknown> {
  return Object.fromEntries(tagged ? storedEntries(data, true) : data);
}

/** The values a store read back (`codec: "tagged"`: untagged); undefined when a tag is malformed (not ours). */
export function readStored(data: Record<string, unknown>, tagged: boolean): SessionData | undefined {
  if (!tagged) return data;
  const out: SessionData = Object.create(null);
  try {
    for (const key of Object.keys(data)) out[key] = untagValue(data[key]);
  } catch (error) {
    if (error instanceof TaggedValueError) return undefined;
    throw error;
  }
  return out;
}
