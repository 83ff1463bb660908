import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  FlaskFloat,
  FlaskMarkup,
  FlaskTuple,
  FlaskUUID,
  fromTypedJSON,
  toTypedJSON,
} from "../../src/flask/index.js";
import { flaskValue } from "./arbitraries.js";

describe("toTypedJSON / fromTypedJSON", () => {
  it("maps every Flask type to its $ form (test/fixtures/flask/README.md §3)", () => {
    const value = {
      tuple: FlaskTuple.of(1, FlaskTuple.of()),
      bytes: Uint8Array.from([0, 255]),
      emptyBytes: new Uint8Array(0),
      markup: new FlaskMarkup("<b>"),
      uuid: new FlaskUUID("12345678123456781234567812345678"),
      date: new Date("2024-01-02T03:04:05Z"),
      dateWithMs: new Date("2024-01-02T03:04:05.250Z"),
      big: 2n ** 64n,
      smallBig: 5n,
      nan: Number.NaN,
      inf: Number.NEGATIVE_INFINITY,
      float: new FlaskFloat(1),
      escaped: { $bytes: "AA==" },
      twoDollarKeys: { $a: 1, $b: 2 },
      list: [null, true, "s"],
    };
    expect(toTypedJSON(value)).toEqual({
      tuple: { $tuple: [1, { $tuple: [] }] },
      bytes: { $bytes: "AP8=" },
      emptyBytes: { $bytes: "" },
      markup: { $markup: "<b>" },
      uuid: { $uuid: "12345678-1234-5678-1234-567812345678" },
      date: { $datetime: "2024-01-02T03:04:05Z" },
      dateWithMs: { $datetime: "2024-01-02T03:04:05.250Z" },
      big: { $int: "18446744073709551616" },
      smallBig: 5,
      nan: { $float: "NaN" },
      inf: { $float: "-Infinity" },
      float: 1,
      escaped: { $dict: { $bytes: "AA==" } },
      twoDollarKeys: { $a: 1, $b: 2 },
      list: [null, true, "s"],
    });
  });

  it("reads microseconds and zone offsets in $datetime (source_session style)", () => {
    expect(fromTypedJSON({ $datetime: "2024-06-01T12:00:00.987654Z" })).toEqual(
      new Date("2024-06-01T12:00:00.987Z"),
    );
    expect(fromTypedJSON({ $datetime: "2024-06-01T12:00:00+02:00" })).toEqual(
      new Date("2024-06-01T10:00:00Z"),
    );
    expect(fromTypedJSON({ $datetime: "0001-01-01T00:00:00Z" })).toEqual(new Date("0001-01-01T00:00:00Z"));
  });

  it("fast-check: fromTypedJSON(JSON round trip of toTypedJSON(v)) gives v back", () => {
    fc.assert(
      fc.property(flaskValue, (value) => {
        const json = JSON.parse(JSON.stringify(toTypedJSON(value)));
        // Typed JSON is plain JSON, whose numbers compare by value (-0 is written as 0, as in
        // test/fixtures/flask/README.md §3), so compare the serialized forms.
        expect(JSON.stringify(toTypedJSON(fromTypedJSON(json)))).toBe(JSON.stringify(toTypedJSON(value)));
      }),
      { numRuns: 500 },
    );
  });

  it("keeps __proto__ as data", () => {
    const parsed = JSON.parse('{"__proto__":{"$tuple":[1]}}');
    const value = fromTypedJSON(parsed) as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.hasOwn(value, "__proto__")).toBe(true);
    expect(toTypedJSON(value)).toEqual(parsed);
  });

  it.each([
    ["an unknown $ tag", { $set: [1] }],
    ["$tuple without an array", { $tuple: 1 }],
    ["$bytes that is not padded base64", { $bytes: "AA" }],
    ["$bytes with non-canonical bits", { $bytes: "AB==" }],
    ["$uuid without dashes", { $uuid: "12345678123456781234567812345678" }],
    ["$datetime without a zone", { $datetime: "2024-01-02T03:04:05" }],
    ["$datetime that is no date", { $datetime: "2024-02-30T00:00:00Z" }],
    ["$int with a fraction", { $int: "1.5" }],
    ["$float that is finite", { $float: "1.5" }],
    ["$dict with two keys", { $dict: { a: 1, b: 2 } }],
    ["undefined", undefined],
  ])("fromTypedJSON rejects %s", (_name, json) => {
    expect(() => fromTypedJSON(json)).toThrow(
      expect.objectContaining({ code: "ERR_VALUE_NOT_SERIALIZABLE" }),
    );
  });

  it.each([
    ["a Map", new Map()],
    ["a function", () => 1],
    ["an invalid Date", new Date(Number.NaN)],
  ])("toTypedJSON rejects %s", (_name, value) => {
    expect(() => toTypedJSON({ value })).toThrow(
      expect.objectContaining({ code: "ERR_VALUE_NOT_SERIALIZABLE" }),
    );
  });
});

describe("the Python stand-in classes", () => {
  it("FlaskTuple is an immutable iterable that JSON.stringify shows as an array", () => {
    const tuple = FlaskTuple.of("message", "hi");
    expect([...tuple]).toEqual(["message", "hi"]);
    expect(tuple.length).toBe(2);
    expect(tuple.at(-1)).toBe("hi");
    expect(Object.isFrozen(tuple.items)).toBe(true);
    expect(JSON.stringify({ tuple })).toBe('{"tuple":["message","hi"]}');
  });

  it("FlaskUUID accepts Python's spellings and prints the canonical one", () => {
    for (const spelling of [
      "{12345678-1234-5678-1234-567812345678}",
      "urn:uuid:12345678-1234-5678-1234-567812345678",
      "12345678123456781234567812345678",
      "12345678-1234-5678-1234-567812345678".toUpperCase(),
    ]) {
      expect(String(new FlaskUUID(spelling))).toBe("12345678-1234-5678-1234-567812345678");
    }
    expect(() => new FlaskUUID("1234")).toThrow(TypeError);
  });

  it("FlaskMarkup keeps its HTML and says so through __html__", () => {
    const markup = new FlaskMarkup("<b>hi</b>");
    expect(markup.__html__()).toBe("<b>hi</b>");
    expect(`${markup}`).toBe("<b>hi</b>");
  });
});
