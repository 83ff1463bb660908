/** What every adapter's `csrfProtection` shares beyond the core check (src/session/csrf.ts). */

/**
 * The token field of a body a parser already read (`express.urlencoded()`, `@fastify/formbody`,
 * `@koa/bodyparser`, …). Only an own property counts: a prototype's `csrf_token` is no submission.
 */
export function formToken(body: unknown, field: string): unknown {
  if (typeof body !== "object" || body === null || !Object.hasOwn(body, field)) return undefined;
  return (body as Record<string, unknown>)[field];
}

const FORM_TYPES = ["application/x-www-form-urlencoded", "multipart/form-data"];

/** A form submission's media type (the token may be in its body). */
export function isFormType(contentType: string | undefined): boolean {
  const type = contentType?.split(";", 1)[0]?.trim().toLowerCase();
  return type !== undefined && FORM_TYPES.includes(type);
}
