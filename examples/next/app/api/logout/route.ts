import { csrfProtection } from "flagon/next";
import { redirect } from "next/navigation";
import { route } from "../../../lib/session";

/** Logout: the record is deleted and the cookie cleared, on the thrown redirect() too. */
export const POST = route(
  csrfProtection((_request, session) => {
    session.destroy();
    redirect("/");
  }),
);
