import { applyPlanToHeaders, type CommitPlan } from "../../session/plan.js";

/**
 * A commit plan applied to a Fetch `Response`, for the adapters whose handlers return one (Hono, Next,
 * React Router, SvelteKit): the same response, or a copy when its headers are immutable (a response
 * from `fetch()` or `Response.redirect()`). A plan without session headers leaves it untouched.
 */
export function applyPlanToFetchResponse(response: Response, plan: CommitPlan): Response {
  if (!plan.vary && plan.setCookie === undefined && plan.legacyCookies === undefined) return response;
  try {
    applyPlanToHeaders(response.headers, plan);
    return response;
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    const copy = new Response(response.body, response);
    applyPlanToHeaders(copy.headers, plan);
    return copy;
  }
}
