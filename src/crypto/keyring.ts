import { Buffer } from "node:buffer";
import { hkdfSync } from "node:crypto";
import { inspect } from "node:util";
import { ConfigError } from "../errors.js";

/** Minimum secret length in UTF-8 bytes: 256 bits, the HMAC-SHA256 / AES-256 key size (OWASP, ASVS V11). */
export const MIN_SECRET_BYTES = 32;

/** HKDF-SHA256 salt (RFC 5869 §3.1): fixed, so it separates flagon's keys from other uses of the same secret. */
const HKDF_SALT = Buffer.from("flagon.keyring.v1", "utf8");
const SUBKEY_BYTES = 32;

/**
 * An ordered list of secrets. Index 0 is the primary: it writes. Every secret verifies, so a
 * secret can be rotated by prepending the new one and keeping the old one until its cookies expire.
 *
 * Secrets never appear in enumerable properties, `util.inspect`, `JSON.stringify` or error messages.
 */
export class Keyring {
  /** Number of secrets; index 0 writes, all verify. */
  readonly size: number;
  readonly #ikm: readonly Buffer[];
  /** One Map per secret: purpose -> derived subkey. */
  readonly #cache: Map<string, Buffer>[];

  /**
   * @param secret one secret, or a non-empty list with the primary first; each at least 32 UTF-8 bytes.
   * @throws ConfigError `ERR_SECRET_MISSING` for undefined, "", [] or a non-string; `ERR_SECRET_TOO_SHORT` below 32 bytes.
   */
  constructor(secret: string | readonly string[] | undefined) {
    const list: readonly unknown[] = Array.isArray(secret) ? secret : [secret];
    if (list.length === 0) {
      throw new ConfigError("ERR_SECRET_MISSING", "a secret is required (got an empty list)");
    }
    const ikm: Buffer[] = [];
    list.forEach((item, index) => {
      const where = list.length > 1 ? `secret #${index}` : "secret";
      if (typeof item !== "string" || item.length === 0) {
        // Report only the type, never the value.
        const got = item === "" ? "an empty string" : typeof item;
        throw new ConfigError(
          "ERR_SECRET_MISSING",
          `${where} is required and must be a non-empty string (got ${got})`,
        );
      }
      const bytes = Buffer.from(item, "utf8");
      if (bytes.length < MIN_SECRET_BYTES) {
        throw new ConfigError(
          "ERR_SECRET_TOO_SHORT",
          `${where} is ${bytes.length} bytes; at least ${MIN_SECRET_BYTES} UTF-8 bytes are required ` +
            `(generate one with: node -e "console.log(require('crypto').randomBytes(32).toString('base64url'))")`,
        );
      }
      ikm.push(bytes);
    });
    this.size = ikm.length;
    this.#ikm = ikm;
    this.#cache = ikm.map(() => new Map<string, Buffer>());
  }

  /**
   * The 32-byte subkey for (secret `index`, `purpose`): HKDF-SHA256(ikm = secret, salt = "flagon.keyring.v1",
   * info = purpose). Different purposes give independent keys. Derived once, then cached; returns a copy.
   */
  key(index: number, purpose: string): Buffer {
    const cache = this.#cache[index];
    const ikm = this.#ikm[index];
    if (cache === undefined || ikm === undefined || !Number.isInteger(index)) {
      throw new ConfigError(
        "ERR_INVALID_OPTION",
        `key index ${String(index)} is out of range (size ${this.size})`,
      );
    }
    if (typeof purpose !== "string" || purpose.length === 0) {
      throw new ConfigError("ERR_INVALID_OPTION", "a key purpose must be a non-empty string");
    }
    let subkey = cache.get(purpose);
    if (subkey === undefined) {
      subkey = Buffer.from(hkdfSync("sha256", ikm, HKDF_SALT, Buffer.from(purpose, "utf8"), SUBKEY_BYTES));
      cache.set(purpose, subkey);
    }
    return Buffer.from(subkey);
  }

  /** Subkeys for every secret, primary first. */
  keys(purpose: string): Buffer[] {
    const out: Buffer[] = [];
    for (let index = 0; index < this.size; index++) out.push(this.key(index, purpose));
    return out;
  }

  toJSON(): { size: number } {
    return { size: this.size };
  }

  [inspect.custom](): string {
    return `Keyring { size: ${this.size} }`;
  }
}
