/**
 * JavaScript stand-ins for the Python types that Flask's tagged JSON carries.
 *
 * | Python (Flask tag)       | JavaScript                         |
 * |--------------------------|------------------------------------|
 * | dict                     | plain object                       |
 * | list                     | `Array`                            |
 * | tuple (`" t"`)           | `FlaskTuple`                       |
 * | bytes (`" b"`)           | `Uint8Array` (a `Buffer` is fine)  |
 * | Markup (`" m"`)          | `FlaskMarkup`                      |
 * | UUID (`" u"`)            | `FlaskUUID`                        |
 * | datetime (`" d"`)        | `Date`                             |
 * | int beyond ±(2^53−1)     | `bigint`                           |
 * | float                    | `number` (`FlaskFloat` to force `1.0` on write) |
 * | NaN / ±inf               | `NaN` / `±Infinity`                |
 */

/** A Python tuple: an immutable sequence, kept apart from lists (Flask tags it `" t"`). */
export class FlaskTuple implements Iterable<unknown> {
  readonly items: readonly unknown[];

  constructor(items: Iterable<unknown> = []) {
    this.items = Object.freeze(Array.from(items));
  }

  static of(...items: unknown[]): FlaskTuple {
    return new FlaskTuple(items);
  }

  get length(): number {
    return this.items.length;
  }

  at(index: number): unknown {
    return this.items.at(index);
  }

  [Symbol.iterator](): Iterator<unknown> {
    return this.items[Symbol.iterator]();
  }

  /** `JSON.stringify` shows a tuple as an array. */
  toJSON(): readonly unknown[] {
    return this.items;
  }
}

/** `markupsafe.Markup`: a string of HTML that templates must not escape again (Flask tags it `" m"`). */
export class FlaskMarkup {
  readonly html: string;

  constructor(html: string) {
    if (typeof html !== "string") throw new TypeError("FlaskMarkup needs a string of HTML");
    this.html = html;
  }

  /** markupsafe's protocol: the object's HTML. */
  __html__(): string {
    return this.html;
  }

  toString(): string {
    return this.html;
  }

  toJSON(): string {
    return this.html;
  }
}

const UUID_HEX = /^[0-9a-f]{32}$/;

/** `uuid.UUID` (Flask tags it `" u"` and writes 32 lowercase hex digits). */
export class FlaskUUID {
  /** 32 lowercase hex digits, no dashes (Python's `UUID.hex`). */
  readonly hex: string;

  /**
   * @param value `"12345678-1234-5678-1234-567812345678"`, 32 hex digits, `{…}` or `urn:uuid:…`, any case.
   * @throws TypeError when it is not 128 bits of hex.
   */
  constructor(value: string) {
    const hex =
      typeof value === "string"
        ? value
            .replace(/^urn:uuid:/i, "")
            .replace(/^\{(.*)\}$/, "$1")
            .replaceAll("-", "")
            .toLowerCase()
        : "";
    if (!UUID_HEX.test(hex)) throw new TypeError("FlaskUUID needs 32 hexadecimal digits");
    this.hex = hex;
  }

  /** The canonical form with dashes, like Python's `str(uuid)`. */
  toString(): string {
    const h = this.hex;
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  toJSON(): string {
    return this.toString();
  }
}

/**
 * A Python float. Decoded floats are plain `number`s; wrap a whole number in `FlaskFloat`
 * when Flask must read it back as a float (`1.0`) rather than an int (`1`).
 */
export class FlaskFloat {
  readonly value: number;

  constructor(value: number) {
    if (typeof value !== "number") throw new TypeError("FlaskFloat needs a number");
    this.value = value;
  }

  valueOf(): number {
    return this.value;
  }

  toJSON(): number {
    return this.value;
  }
}
