import { expect } from "vitest";
import { CookieError, type FlagonErrorCode } from "../../src/errors.js";

/** The error `fn` throws; fails the test when it returns normally. */
export function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to throw, but it returned");
}

/** Assert that `fn` throws a CookieError with `code`, and return it. */
export function expectCookieError(fn: () => unknown, code: FlagonErrorCode): CookieError {
  const error = thrownBy(fn);
  expect(error).toBeInstanceOf(CookieError);
  expect((error as CookieError).code).toBe(code);
  return error as CookieError;
}
