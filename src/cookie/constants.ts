/**
 * Limits and defaults for cookies, each with the spec line it comes from.
 * Section numbers refer to draft-ietf-httpbis-rfc6265bis (the RFC 6265 revision browsers implement).
 */

/** Largest name + value a browser stores: longer cookies are ignored entirely. RFC 6265bis §5.6 */
export const MAX_COOKIE_BYTES = 4096;

/** Largest attribute value (Path, Domain, …) a browser accepts; a longer one is dropped. RFC 6265bis §5.6 */
export const MAX_ATTRIBUTE_VALUE_BYTES = 1024;

/** Browsers clamp Max-Age and Expires to 400 days ("cookie-age-limit"). RFC 6265bis §5.6.1, §5.6.2 */
export const MAX_COOKIE_LIFETIME_SECONDS = 400 * 24 * 60 * 60; // 34_560_000

/**
 * Default cap on the request's Cookie header(s) before any parsing, in UTF-8 bytes. Servers pick their own limit
 * (RFC 6265bis §6.1 only sets minimums for user agents); 8 KiB is docs/security.md §29's default
 * (CVE-2016-1000232, CVE-2024-7592: parsers slowed by huge headers).
 */
export const MAX_COOKIE_HEADER_BYTES = 8192;
