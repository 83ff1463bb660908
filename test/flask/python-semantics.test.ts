/**
 * Differential tests: the Python behaviours flagon/flask re-implements (lenient base64, werkzeug's
 * date parser, float repr) against the real thing, on generated inputs.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeSegment, decodeStandardLenient, encodeStandard } from "../../src/flask/base64.js";
import { parseHttpDate } from "../../src/flask/httpdate.js";
import { formatPythonFloat } from "../../src/flask/json.js";
import { flask } from "./oracle.js";

const asBase64 = (bytes: Uint8Array | null) => (bytes === null ? null : encodeStandard(bytes));

describe("base64 as itsdangerous and base64.b64decode read it", () => {
  // Mostly alphabet characters, with "=", junk and both alphabets' extra characters mixed in.
  const base64ish = fc
    .array(
      fc.oneof(
        {
          weight: 8,
          arbitrary: fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"),
        },
        { weight: 2, arbitrary: fc.constantFrom("=", "-", "_", "+", "/") },
        { weight: 1, arbitrary: fc.constantFrom("!", ".", " ", "\n", "*", "~") },
      ),
      { maxLength: 24 },
    )
    .map((chars) => chars.join(""));

  it("agrees with Python on 2000 generated strings", () => {
    const inputs = [
      ...fc.sample(base64ish, { numRuns: 2000 }),
      "QUJ",
      "!!!",
      "QQ==QQ==",
      "Q=Q=",
      "QUJD=",
      "=QUJD",
      "Z3lTOAmQPWrGsIx8zVOeFJvoNAN",
      "Z3lTOAmQPWrGsIx8zVOeFJvoNAM==",
      "A",
      "",
    ];
    const [python] = flask<Array<{ segment: string | null; standard: string | null }>>([
      { op: "b64", inputs },
    ]);
    const ours = inputs.map((text) => ({
      segment: asBase64(decodeSegment(new TextEncoder().encode(text))),
      standard: asBase64(decodeStandardLenient(text)),
    }));
    expect(ours).toEqual(python);
  });

  it("reads the unused low bits and trailing padding of a signature as Flask does", () => {
    expect(decodeSegment(new TextEncoder().encode("QUI"))).toEqual(
      decodeSegment(new TextEncoder().encode("QUJ")),
    );
    expect(decodeStandardLenient("QUJ")).toBeNull(); // b64decode does not add padding
    expect(decodeStandardLenient("é")).toBeNull(); // non-ASCII str: ValueError
  });
});

describe("werkzeug parse_date", () => {
  const fields = fc.record({
    day: fc.constantFrom("Mon, ", "Tue,", "sun ", "", "Xyz, "),
    date: fc.integer({ min: 0, max: 32 }),
    month: fc.constantFrom("Jan", "feb", "MARCH", "Dec", "Foo"),
    year: fc.oneof(fc.integer({ min: 0, max: 120 }), fc.integer({ min: 1900, max: 10000 })),
    time: fc.constantFrom("00:00:00", "23:59:59", "12:30", "24:00:00", "1.2.3", "9:5", "12:60:00"),
    zone: fc.constantFrom("GMT", "UTC", "+0000", "-0000", "+0530", "-1200", "EST", "", "+9999", "Z"),
    swap: fc.boolean(),
  });
  const dateish = fc.oneof(
    fields.map((f) =>
      f.swap
        ? `${f.day}${f.month} ${f.date} ${f.year} ${f.time} ${f.zone}`
        : `${f.day}${f.date} ${f.month} ${f.year} ${f.time} ${f.zone}`,
    ),
    fc.string({ maxLength: 30 }),
  );

  it("agrees with Python on 1500 generated dates", () => {
    const inputs = [
      ...fc.sample(dateish, { numRuns: 1500 }),
      "Tue, 02 Jan 2024 03:04:05 GMT",
      "Mon, 01 Jan 0001 00:00:00 GMT",
      "Sun, 20 Jul 1969 20:17:40 GMT",
      "Thursday, 02-Jan-20 00:00:00 GMT",
      "Sat, 29 Feb 2020 23:59:59 GMT",
      "Sat, 29 Feb 2021 23:59:59 GMT",
      "02 Jan 2024 03:04 +0100",
      "not a date",
      "   ",
    ];
    const [python] = flask<Array<number | null | string>>([{ op: "parse_date", inputs }]);
    const ours = inputs.map((text) => {
      const date = parseHttpDate(text);
      return date === null ? null : date.getTime() / 1000;
    });
    expect(ours).toEqual(python);
  });
});

describe("Python float repr", () => {
  it("agrees with json.dumps(float) on 3000 generated doubles", () => {
    const doubles = [
      ...fc.sample(fc.double(), { numRuns: 2000 }),
      ...fc.sample(
        fc.integer({ min: -20, max: 20 }).map((e) => 10 ** e),
        { numRuns: 200 },
      ),
      ...fc.sample(fc.double({ min: 1e-6, max: 1e18 }), { numRuns: 800 }),
      1e16,
      1e15,
      123456789012345680,
      0.0001,
      0.00001,
      5e-324,
      Number.MAX_VALUE,
      -0,
    ];
    const inputs = doubles.map((x) => (Object.is(x, -0) ? "-0" : String(x)));
    const [python] = flask<string[]>([{ op: "float_repr", inputs }]);
    expect(doubles.map(formatPythonFloat)).toEqual(python);
  });
});
