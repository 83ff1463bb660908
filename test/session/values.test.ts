/**
 * Values that read back as written: set() (flash, login meta) refuses what a store would change,
 * naming the path; codec "tagged" keeps Dates, Maps, Sets, BigInts and Uint8Arrays through every
 * store and both cookie formats. Property: for any generated value, set throws or a real store
 * round trip gives back a deep-equal value.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FlaskMarkup, FlaskTuple, FlaskUUID, flaskCookieStore } from "../../src/flask/index.js";
import {
  cookieStore,
  createSessions,
  FlagonError,
  memoryStore,
  type SessionStore,
  SessionValueError,
} from "../../src/index.js";
import { redisStore } from "../../src/stores/redis.js";
import { sqliteStore } from "../../src/stores/sqlite.js";
import { hasRedisBinaries, type RedisServer, startRedisServer } from "../helpers/redis-server.js";
import { SECRET } from "./harness.js";

async function fresh(codec: "json" | "tagged" = "json") {
  return createSessions({ secret: SECRET, codec }).load({ headers: {} });
}

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
}

describe("set() refuses a value that would not read back as written", () => {
  const cyclic: Record<string, unknown> = { name: "loop" };
  cyclic.self = cyclic;
  const sparse = [1, 2, 3];
  delete sparse[1];
  it.each([
    ["a Date deep inside", { items: [{}, {}, { addedAt: new Date(0) }] }, "cart.items[2].addedAt is a Date"],
    ["a Map", new Map([["a", 1]]), "cart is a Map"],
    ["a Set", { tags: new Set(["a"]) }, "cart.tags is a Set"],
    ["a BigInt", { total: 10n }, "cart.total is a BigInt"],
    ["a typed array", { bytes: new Uint8Array([1]) }, "cart.bytes is a Uint8Array"],
    ["a Float64Array", [new Float64Array(1)], "cart[0] is a Float64Array"],
    ["NaN", { price: Number.NaN }, "cart.price is NaN"],
    ["Infinity", [Number.POSITIVE_INFINITY], "cart[0] is Infinity"],
    ["-0", { n: -0 }, "cart.n is -0"],
    ["undefined inside an object", { note: undefined }, "cart.note is undefined (JSON drops it)"],
    ["undefined inside an array", [1, undefined], "cart[1] is undefined (JSON drops it)"],
    ["a function", { f: () => 1 }, "cart.f is a function"],
    ["a symbol", { s: Symbol("x") }, "cart.s is a symbol"],
    ["a class instance", { at: new Point(1, 2) }, "cart.at is an instance of Point"],
    ["a cycle", cyclic, "cart.self is a cycle (it contains itself)"],
    ["a hole", sparse, "cart[1] is a hole (a sparse array reads back with null)"],
    ["a Buffer", { raw: Buffer.from("x") }, "cart.raw is a Buffer"],
    ["an odd key", { "line items": [Number.NaN] }, 'cart["line items"][0] is NaN'],
  ])("%s, with a TypeError naming the path", async (_name, value, where) => {
    const session = await fresh();
    const error = (() => {
      try {
        session.set("cart", value);
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toBeInstanceOf(SessionValueError);
    expect(error).toBeInstanceOf(FlagonError);
    expect((error as SessionValueError).code).toBe("ERR_VALUE_NOT_SERIALIZABLE");
    expect((error as Error).message.startsWith(`session.set("cart", …): ${where}`)).toBe(true);
    expect(session.modified).toBe(false);
    expect(session.has("cart")).toBe(false);
  });

  it("says that the tagged codec keeps a Date, and that delete() removes a key", async () => {
    const session = await fresh();
    expect(() => session.set("at", new Date(0))).toThrow(
      'session.set("at", …): at is a Date (JSON would not read it back; createSessions({ codec: "tagged" }) keeps it)',
    );
    expect(() => session.set("gone", undefined as never)).toThrow(
      'session.set("gone", …): gone is undefined (use delete())',
    );
  });

  it("accepts JSON values, null-prototype objects and __proto__ keys", async () => {
    const session = await fresh();
    const record = Object.assign(Object.create(null), { a: 1 });
    session.set("ok", { s: "x", n: 1.5, b: true, z: null, list: [[], {}], record, ["__proto__"]: 1 });
    expect(session.modified).toBe(true);
  });

  it("refuses, under the tagged codec, what it cannot keep either", async () => {
    const session = await fresh("tagged");
    session.set("ok", {
      at: new Date(1),
      m: new Map<unknown, unknown>([[1n, new Set([new Uint8Array([1])])]]),
    });
    expect(() => session.set("bad", { at: new Date(Number.NaN) })).toThrow(
      'session.set("bad", …): bad.at is an invalid Date',
    );
    expect(() => session.set("bad", new Map([["k", Number.NaN]]))).toThrow(
      'session.set("bad", …): bad.get("k") is NaN',
    );
    expect(() => session.set("bad", new Set([new Point(0, 0)]))).toThrow(
      /bad \(entry #0 of a Set\) is an instance of Point/,
    );
    expect(() => session.set("bad", new (class Dated extends Date {})())).toThrow(
      /bad is an instance of Dated/,
    );
  });

  it("flash and flashNow take strings; login meta too", async () => {
    const session = await fresh();
    expect(() => session.flash(42 as never)).toThrow(TypeError);
    expect(() => session.flash(42 as never)).toThrow(
      "session.flash(message, category): message is a number, not a string",
    );
    expect(() => session.flashNow("saved", null as never)).toThrow(
      "session.flashNow(message, category): category is null, not a string",
    );
    expect(() => session.login("leo", { device: 3 as never })).toThrow(TypeError);
    expect(() => session.login("leo", { device: 3 as never })).toThrow(
      "session.login(userId, meta): meta.device is a number, not a string",
    );
    expect(session.userId).toBeUndefined();
  });
});

// ---- round trips through real stores -------------------------------------------------------------

let dir: string;
let redis: RedisServer | undefined;
const storeMakers: Array<[string, () => SessionStore]> = [
  ["memory", () => memoryStore()],
  ["cookie (sealed)", () => cookieStore()],
  ["cookie (signed)", () => cookieStore({ encrypt: false })],
  ["sqlite", () => sqliteStore({ path: join(dir, `values-${Math.random()}.db`) })],
  ["flask", () => flaskCookieStore({ secretKey: SECRET })],
];
const opened: SessionStore[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "flagon-values-"));
  if (hasRedisBinaries()) {
    redis = await startRedisServer();
    storeMakers.push(["redis", () => redisStore({ url: redis!.url, prefix: `values:${Math.random()}:` })]);
  }
}, 30_000);
afterAll(async () => {
  for (const store of opened) if (store.kind === "server") await store.close?.();
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function coreFor(store: SessionStore, codec: "json" | "tagged") {
  opened.push(store);
  return createSessions({ secret: SECRET, store, codec });
}

/** Writes `value` under "v" in one request and reads it in the next; `refused` when set() throws. */
async function roundTrip(
  core: ReturnType<typeof coreFor>,
  value: unknown,
): Promise<{ refused: true } | { refused: false; value: unknown } | { tooLarge: true }> {
  const first = await core.load({ headers: {} });
  try {
    first.untyped().set("v", value);
  } catch (error) {
    expect(error).toBeInstanceOf(SessionValueError);
    return { refused: true };
  }
  const headers = new Headers();
  try {
    await core.commit(first, headers);
  } catch (error) {
    if ((error as { code?: string }).code === "ERR_COOKIE_TOO_LARGE") return { tooLarge: true };
    throw error;
  }
  const line = headers.getSetCookie()[0]!;
  const next = await core.load({ headers: { cookie: line.slice(0, line.indexOf(";")) } });
  expect(next.status).toBe("active");
  return { refused: false, value: next.untyped().get("v") };
}

/** Deep equality that also tells -0 from 0, holes from values, a Buffer from a Uint8Array, classes apart. */
function same(a: unknown, b: unknown): boolean {
  if (typeof a !== "object" || a === null || typeof b !== "object" || b === null) return Object.is(a, b);
  const plain = (x: object) => [Object.prototype, null].includes(Object.getPrototypeOf(x));
  if (plain(a) !== plain(b) || (!plain(a) && Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)))
    return false;
  if (a instanceof Date) return a.getTime() === (b as Date).getTime();
  if (a instanceof Uint8Array) return Buffer.compare(a, b as Uint8Array) === 0;
  if (a instanceof Map || a instanceof Set) {
    const left = [...(a as Map<unknown, unknown>)];
    const right = [...(b as Map<unknown, unknown>)];
    return left.length === right.length && left.every((item, index) => same(item, right[index]));
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keys = Reflect.ownKeys(a);
  const otherKeys = Reflect.ownKeys(b);
  if (keys.length !== otherKeys.length) return false;
  return keys.every(
    (key) =>
      Object.hasOwn(b, key) &&
      same((a as Record<PropertyKey, unknown>)[key], (b as Record<PropertyKey, unknown>)[key]),
  );
}

const tricky = fc.constantFrom<unknown>(
  new Point(1, 2),
  Object.assign([1, 2, 3], { 1: undefined }),
  (() => {
    const holes = [1, 2];
    delete holes[0];
    return holes;
  })(),
  { " fd": "2020-01-01T00:00:00.000Z" },
  { " fo": { " fm": [] } },
  { " di": { a__: 1 } },
  { " b": "AAAA" },
  new Date(-62198755200000),
  new Date(8.64e15),
  new Map<unknown, unknown>([[{ k: 1 }, [new Set([1n])]]]),
  -(2n ** 70n),
  new Uint8Array(0),
  "\ud800 lone",
);

const values = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.anything({
      maxDepth: 3,
      maxKeys: 4,
      withBigInt: true,
      withMap: true,
      withSet: true,
      withDate: true,
      withTypedArray: true,
      withSparseArray: true,
      withNullPrototype: true,
      withBoxedValues: true,
    }),
  },
  { weight: 1, arbitrary: tricky },
);

describe.each(["json", "tagged"] as const)('Flask\'s own types (codec "%s")', (codec) => {
  it("are kept by the Flask store, and refused by the others", async () => {
    const value = {
      pair: FlaskTuple.of(1, "a"),
      html: new FlaskMarkup("<b>hi</b>"),
      id: new FlaskUUID("12345678123456781234567812345678"),
    };
    const flaskResult = await roundTrip(coreFor(flaskCookieStore({ secretKey: SECRET }), codec), value);
    expect("value" in flaskResult && same(flaskResult.value, value)).toBe(true);
    const memory = await createSessions({ secret: SECRET, codec }).load({ headers: {} });
    expect(() => memory.set("v", value)).toThrow('session.set("v", …): v.pair is an instance of FlaskTuple');
  });
});

describe.each(["json", "tagged"] as const)('values through every store (codec "%s")', (codec) => {
  it("Date, Map, Set, BigInt and Uint8Array read back as written, or set() refuses them", async () => {
    const value = {
      at: new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678)),
      byId: new Map<unknown, unknown>([
        ["a", { n: 1 }],
        [2, new Set(["x", 3n])],
      ]),
      tags: new Set(["a", "b"]),
      total: 12345678901234567890n,
      bytes: new Uint8Array([0, 1, 254, 255]),
      escaped: { " fd": "not a date" },
    };
    for (const [name, make] of storeMakers) {
      const result = await roundTrip(coreFor(make(), codec), value);
      if (codec === "json") expect(result, name).toEqual({ refused: true });
      else {
        expect("value" in result && same(result.value, value), name).toBe(true);
      }
    }
  });

  it("for any value: set() throws, or a real store round trip gives it back deep-equal (fast-check)", async () => {
    const cores = storeMakers.map(([name, make]) => [name, coreFor(make(), codec)] as const);
    await fc.assert(
      fc.asyncProperty(values, async (value) => {
        for (const [name, core] of cores) {
          const result = await roundTrip(core, value);
          if ("tooLarge" in result || result.refused) continue;
          if (!same(result.value, value)) {
            throw new Error(`${name}: read back ${String(result.value)} for ${String(value)}`);
          }
        }
      }),
      { numRuns: 120 },
    );
  }, 120_000);
});
