/**
 * docs/security.md §8: a missing or weak secret fails at construction with a ConfigError
 * (ERR_SECRET_MISSING or ERR_SECRET_TOO_SHORT), and the message never contains the secret.
 */
import { describe, expect, it } from "vitest";
import { Keyring } from "../../src/crypto/keyring.js";
import { ConfigError } from "../../src/errors.js";
import { K1 } from "../crypto/fixtures.js";

function thrown(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error("expected a ConfigError");
}

describe("weak or missing secret", () => {
  it.each([
    ["undefined", undefined],
    ["an empty string", ""],
    ["an empty list", []],
    ["null", null],
    ["a number", 1234567890],
    ["a Buffer", Buffer.alloc(64, 1)],
    ["a list holding an empty string", [K1, ""]],
    ["a list holding a non-string", [K1, 42]],
  ])("%s → ERR_SECRET_MISSING", (_label, secret) => {
    expect(thrown(() => new Keyring(secret as never)).code).toBe("ERR_SECRET_MISSING");
  });

  it.each([
    ["31 ASCII bytes", "s".repeat(31)],
    ['"password"', "password"],
    ['"Secret Key" (the lesson\'s key)', "Secret Key"],
    ["31 UTF-8 bytes in 16 characters", `${"é".repeat(15)}x`],
    ["a short old secret after a good one", [K1, "short-old-secret"]],
  ])("%s → ERR_SECRET_TOO_SHORT, without the secret in the message", (_label, secret) => {
    const error = thrown(() => new Keyring(secret));
    expect(error.code).toBe("ERR_SECRET_TOO_SHORT");
    for (const text of [secret].flat()) expect(`${error.message} ${error.stack}`).not.toContain(text);
  });

  it("accepts exactly 32 bytes, counted in UTF-8 (16 two-byte characters)", () => {
    expect(new Keyring("s".repeat(32)).size).toBe(1);
    expect(new Keyring("é".repeat(16)).size).toBe(1);
  });
});
