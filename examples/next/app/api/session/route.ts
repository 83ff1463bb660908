import { route } from "../../../lib/session";

/** The session as JSON (reads it: Vary: Cookie, no write unless rolling re-issues the cookie). */
export const GET = route((_request, session) =>
  Response.json({ data: session.toJSON(), user: session.userId ?? null, status: session.status }),
);
