import { route } from "../../../lib/session";

/** Never touches the session: no Vary, no cookie, no store call. */
export const GET = route(() => Response.json({ static: true }));
