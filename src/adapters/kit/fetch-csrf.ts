/** The CSRF check on a Fetch `Request`, shared by the Fetch-based adapters (React Router, SvelteKit). */
import type { CsrfProtection, CsrfResult } from "../../session/csrf.js";
import type { Session, SessionShape } from "../../session/session.js";
import { isFormType } from "./csrf.js";

/**
 * Runs `protection` on `request`: Origin / `Sec-Fetch-Site` first (a request from another site is
 * refused before its body is read), then the token from the header or, for a form, from a clone of
 * the body (the route still reads the original).
 */
export async function checkRequestCsrf<T extends SessionShape<T>>(
  protection: CsrfProtection,
  session: Session<T>,
  request: Request,
): Promise<CsrfResult> {
  const { method, headers } = request;
  if (protection.isSafe(method)) return { ok: true };
  const host = new URL(request.url).host;
  const origin = protection.checkOrigin({ method, headers, host });
  if (!origin.ok) return origin;
  let formToken: unknown;
  if (!headers.has(protection.headerName) && isFormType(headers.get("content-type") ?? undefined)) {
    try {
      formToken = (await request.clone().formData()).get(protection.fieldName) ?? undefined;
    } catch {
      // A body that cannot be parsed carries no token: refused as "missing-token" (403), not a 500.
      formToken = undefined;
    }
  }
  return protection.check(session.untyped(), { method, headers, host, formToken });
}
