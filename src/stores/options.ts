/**
 * Helpers the store factories share to refuse bad options at construction, with the fix in the
 * message (unknown names are `checkOptionNames`' job, in src/config-check.ts).
 */
import { describe } from "../config-check.js";
import { ConfigError } from "../errors.js";

/**
 * The longest delay `setTimeout`/`setInterval` honour (2^31 − 1 ms, about 24.8 days). Node turns a
 * longer one into 1 ms, with only a warning: a sweep meant for once a month would run 1000 times a second.
 */
export const MAX_TIMER_MS = 2_147_483_647;

/** `ERR_INVALID_OPTION` for `where`'s option `name`: what it must be, and what it got (never a secret's value). */
export function invalidOption(where: string, name: string, expected: string, got: unknown): ConfigError {
  return new ConfigError(
    "ERR_INVALID_OPTION",
    `${where}: \`${name}\` must be ${expected}, got ${describe(got)}`,
  );
}

/**
 * A delay option in ms: `undefined` gives `fallback`; otherwise a finite number from `min` up to
 * what a timer can wait (`MAX_TIMER_MS`).
 */
export function timerOption(
  where: string,
  name: string,
  value: unknown,
  fallback: number,
  what: { min: number; exclusiveMin?: boolean; zeroMeans?: string },
): number {
  if (value === undefined) return fallback;
  const tooSmall =
    typeof value === "number" && (what.exclusiveMin === true ? value <= what.min : value < what.min);
  if (typeof value !== "number" || !Number.isFinite(value) || tooSmall || value > MAX_TIMER_MS) {
    const floor = what.exclusiveMin === true ? `more than ${what.min}` : `at least ${what.min}`;
    const zero = what.zeroMeans === undefined ? "" : ` (0 ${what.zeroMeans})`;
    throw invalidOption(
      where,
      name,
      `a number of milliseconds, ${floor} and at most ${MAX_TIMER_MS} (about 24.8 days)${zero}`,
      value,
    );
  }
  return value;
}
