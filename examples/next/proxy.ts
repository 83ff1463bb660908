/**
 * Next 16's proxy (formerly middleware): takes flash messages out of the session for the page about
 * to render and commits, since the page (a Server Component) cannot. Route Handlers commit their own.
 */
import type { NextRequest } from "next/server";
import { flagon } from "./lib/session";

export async function proxy(request: NextRequest) {
  return (await flagon()).sessions.proxy(request);
}

export const config = {
  matcher: ["/((?!api/|_next/static|_next/image|favicon.ico).*)"],
};
