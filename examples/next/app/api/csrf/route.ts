import { route } from "../../../lib/session";

/** The session's CSRF token, for scripts that post forms to the Route Handlers below. */
export const GET = route((_request, session) => Response.json({ token: session.csrfToken() }));
