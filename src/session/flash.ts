import type { FlashMessage } from "../stores/types.js";

export interface FlashOptions {
  /** Return `[category, message]` pairs instead of messages. @default false */
  withCategories?: boolean;
  /** Return only these categories (all pending messages are still discarded, as in Flask). */
  categoryFilter?: readonly string[];
}

/** Flask's `get_flashed_messages` selection over the messages a request has taken. */
export function selectFlashes(
  flashes: readonly FlashMessage[],
  options: FlashOptions,
): string[] | Array<[string, string]> {
  const filter = options.categoryFilter;
  const selected =
    filter && filter.length > 0 ? flashes.filter((flash) => filter.includes(flash.category)) : flashes;
  return options.withCategories
    ? selected.map((flash): [string, string] => [flash.category, flash.message])
    : selected.map((flash) => flash.message);
}
