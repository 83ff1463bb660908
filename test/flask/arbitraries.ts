import fc from "fast-check";
import { FlaskMarkup, FlaskTuple, FlaskUUID } from "../../src/flask/index.js";

/** Any UTF-16 string, lone surrogates included (Python's str holds them too). */
export const anyText = fc
  .array(fc.oneof(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0x20, max: 0x7e })), {
    maxLength: 12,
  })
  .map((units) => String.fromCharCode(...units));

const text = fc.oneof(fc.string({ maxLength: 12 }), fc.string({ unit: "binary", maxLength: 8 }), anyText);

/** Keys, with the awkward ones over-represented: Flask tags, typed-JSON escapes, __proto__. */
export const sessionKey = fc.oneof(
  { weight: 4, arbitrary: text },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      " t",
      " di",
      " b",
      " m",
      " u",
      " d",
      " x",
      "$bytes",
      "$dict",
      "__proto__",
      "_flashes",
    ),
  },
);

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Dates Flask reads back unchanged: whole seconds, years 100 to 9999 (below 100 Python's two-digit rule applies). */
export const flaskDate = fc
  .date({ min: new Date("0100-01-01T00:00:00Z"), max: new Date("9999-12-31T23:59:59Z"), noInvalidDate: true })
  .map((date) => new Date(Math.floor(date.getTime() / 1000) * 1000));

export const flaskScalar = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.maxSafeInteger(),
  fc.double(),
  fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }).filter((value) => value > MAX_SAFE || value < -MAX_SAFE),
  text,
  fc.uint8Array({ maxLength: 24 }),
  text.map((html) => new FlaskMarkup(html)),
  fc.uuid().map((uuid) => new FlaskUUID(uuid)),
  flaskDate,
);

/** A value a Flask session can hold, in flagon's JavaScript representation. */
export const flaskValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    flaskScalar,
    fc.array(tie("value"), { maxLength: 4 }),
    fc.array(tie("value"), { maxLength: 4 }).map((items) => new FlaskTuple(items)),
    tie("dict"),
  ),
  dict: fc.oneof(
    fc.dictionary(sessionKey, tie("value"), { maxKeys: 4, noNullPrototype: true }),
    fc.dictionary(sessionKey, tie("value"), { minKeys: 1, maxKeys: 1, noNullPrototype: true }),
  ),
})).value;

/** A whole session dict. */
export const flaskSession = fc.dictionary(sessionKey, flaskValue, { maxKeys: 6, noNullPrototype: true });
