/**
 * Flask's template globals (`session`, `get_flashed_messages`, `csrf_token`), the same for every
 * adapter and template engine.
 */
import type { FlashOptions } from "../../session/flash.js";
import type { Session, SessionData, SessionShape } from "../../session/session.js";

/** Flask's `get_flashed_messages`, callable from templates (Nunjucks keyword arguments included). */
export type GetFlashedMessages = (...args: unknown[]) => string[] | Array<[string, string]>;

/** Flask's template globals for one request's session, for any template engine. */
export interface TemplateGlobals<T extends SessionShape<T> = SessionData> {
  session: Session<T>;
  /**
   * Flask's `get_flashed_messages(with_categories=false, category_filter=[])`: positional
   * arguments, Nunjucks keywords (`with_categories=true`) or `{ withCategories, categoryFilter }`.
   */
  get_flashed_messages: GetFlashedMessages;
  /** The session's CSRF token, for `<input type="hidden" name="csrf_token" value="{{ csrf_token() }}">`. */
  csrf_token: () => string;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Reads Flask's arguments in any of the forms a template engine passes them: positional
 * `(with_categories, category_filter)`, Nunjucks keywords `(with_categories=true)` (an object
 * after the positional ones) or an options object `{ withCategories, categoryFilter }` first.
 */
export function flashOptions(args: readonly unknown[]): FlashOptions {
  const [first, second] = args;
  const keywords = isPlainObject(first)
    ? first
    : (args.find((arg, index) => index > 0 && isPlainObject(arg)) as Record<string, unknown> | undefined);
  const withCategories = isPlainObject(first)
    ? (first.with_categories ?? first.withCategories) === true
    : first === true;
  const filter =
    keywords?.category_filter ?? keywords?.categoryFilter ?? (isPlainObject(first) ? undefined : second);
  return {
    withCategories,
    categoryFilter: Array.isArray(filter) ? filter.map(String) : undefined,
  };
}

/** Flask's `get_flashed_messages` for `session`. */
export function flashedMessagesOf<T extends SessionShape<T>>(session: Session<T>): GetFlashedMessages {
  return (...args: unknown[]) => {
    const { withCategories, categoryFilter } = flashOptions(args);
    return withCategories
      ? session.getFlashedMessages({ withCategories: true, categoryFilter })
      : session.getFlashedMessages({ categoryFilter });
  };
}

/**
 * `session`, `get_flashed_messages` and `csrf_token` for a template render, as Flask puts them in
 * Jinja's context: `env.render("index.html", { ...templateGlobals(session), message })`.
 */
export function templateGlobals<T extends SessionShape<T>>(session: Session<T>): TemplateGlobals<T> {
  return {
    session,
    get_flashed_messages: flashedMessagesOf(session),
    csrf_token: () => session.csrfToken(),
  };
}
