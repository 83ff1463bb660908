/**
 * Base64 as Python reads it. Flask (through itsdangerous and `base64.b64decode`) uses
 * `binascii.a2b_base64` in its non-strict mode: characters outside the alphabet are skipped,
 * the unused low bits of the last character are ignored and input stops at the first complete
 * `=` padding. Reading the same way is what makes flagon accept exactly the cookies Flask
 * accepts (docs/flask.md, "Reading like Flask"). Writing is always canonical.
 */

const STANDARD = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const PAD = 0x3d; // "="
const INVALID = 0xff;

function decodeTable(urlSafe: boolean): Uint8Array {
  const table = new Uint8Array(256).fill(INVALID);
  for (let i = 0; i < 64; i++) table[STANDARD.charCodeAt(i)] = i;
  if (urlSafe) {
    // urlsafe_b64decode translates "-" and "_" to "+" and "/" first, so both alphabets work.
    table[0x2d] = 62;
    table[0x5f] = 63;
  }
  return table;
}

const STANDARD_TABLE = decodeTable(false);
const URL_SAFE_TABLE = decodeTable(true);

/**
 * Port of CPython 3.11 `binascii.a2b_base64(data, strict_mode=False)`.
 * @returns the bytes, or `null` where Python raises `binascii.Error` (incomplete last quantum).
 */
function a2bBase64(input: Uint8Array, table: Uint8Array): Uint8Array | null {
  const out = new Uint8Array(Math.floor((input.length * 3) / 4) + 3);
  let length = 0;
  let quadPos = 0;
  let leftChar = 0;
  let pads = 0;
  for (let i = 0; i < input.length; i++) {
    const byte = input[i]!;
    if (byte === PAD) {
      // A complete pad sequence ends the input; stray "=" elsewhere are skipped.
      pads += quadPos >= 2 ? 1 : 0;
      if (quadPos >= 2 && quadPos + pads >= 4) return out.slice(0, length);
      continue;
    }
    const value = table[byte]!;
    if (value === INVALID) continue;
    pads = 0;
    switch (quadPos) {
      case 0:
        quadPos = 1;
        leftChar = value;
        break;
      case 1:
        quadPos = 2;
        out[length++] = (leftChar << 2) | (value >> 4);
        leftChar = value & 0x0f;
        break;
      case 2:
        quadPos = 3;
        out[length++] = ((leftChar << 4) | (value >> 2)) & 0xff;
        leftChar = value & 0x03;
        break;
      default:
        quadPos = 0;
        out[length++] = ((leftChar << 6) | value) & 0xff;
        leftChar = 0;
    }
  }
  return quadPos === 0 ? out.slice(0, length) : null;
}

/**
 * itsdangerous `base64_decode`: pads to a multiple of 4 with "=", then `urlsafe_b64decode`.
 * @returns `null` when Python would raise.
 */
export function decodeSegment(segment: Uint8Array): Uint8Array | null {
  const missing = (4 - (segment.length % 4)) % 4;
  if (missing === 0) return a2bBase64(segment, URL_SAFE_TABLE);
  const padded = new Uint8Array(segment.length + missing);
  padded.set(segment);
  padded.fill(PAD, segment.length);
  return a2bBase64(padded, URL_SAFE_TABLE);
}

/**
 * Python `base64.b64decode(text)` (standard alphabet, not validated), used by Flask's `" b"` tag.
 * @returns `null` when Python would raise (non-ASCII text, incomplete quantum).
 */
export function decodeStandardLenient(text: string): Uint8Array | null {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0x7f) return null; // "string argument should contain only ASCII characters"
    bytes[i] = code;
  }
  return a2bBase64(bytes, STANDARD_TABLE);
}

/** itsdangerous `base64_encode`: URL-safe alphabet, no padding. */
export function encodeSegment(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64url");
}

/** Python `base64.b64encode`: standard alphabet with padding (Flask's `" b"` tag). */
export function encodeStandard(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

const STRICT_STANDARD = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Strict standard base64 with padding (typed JSON `$bytes`), or `null`. */
export function decodeStandardStrict(text: string): Uint8Array | null {
  if (!STRICT_STANDARD.test(text)) return null;
  const bytes = new Uint8Array(Buffer.from(text, "base64"));
  // Reject non-canonical trailing bits so that one value has exactly one spelling.
  return encodeStandard(bytes) === text ? bytes : null;
}
