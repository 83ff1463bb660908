/** What the Express and the Hono lesson apps share: Flask's url_for, the cookie glimpse, page headers. */

/** Flask's endpoint names (the view functions' names) → paths, for `url_for`. */
export const ENDPOINTS: Readonly<Record<string, string>> = {
  index: "/",
  session_set: "/session_set",
  session_get: "/session_get",
  session_delete: "/session_delete",
  cookie_set: "/cookie_set",
  cookie_get: "/cookies_get",
  cookie_delete: "/cookies_delete",
  login: "/login",
  logout: "/logout",
  logout_others: "/logout_others",
};

/** Flask's `url_for(endpoint, **values)` for templates; `url_for('static', filename='x.css')` too. */
export function urlFor(endpoint: string, keywords?: { filename?: string }): string {
  if (endpoint === "static" && typeof keywords?.filename === "string") {
    return `/static/${encodeURI(keywords.filename)}`;
  }
  const path = ENDPOINTS[endpoint];
  if (path === undefined) throw new Error(`url_for: no endpoint named "${endpoint}"`);
  return path;
}

/** What the page shows of a cookie value: session cookies are opaque, so only a glimpse. */
export function glimpse(value: string): string {
  return value.length <= 24 ? value : `${value.slice(0, 12)}…${value.slice(-6)} (${value.length} characters)`;
}

/** Sent with every page of both apps. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "Content-Security-Policy":
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "same-origin",
};
