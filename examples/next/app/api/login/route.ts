import { csrfProtection } from "flagon/next";
import { checkLogin } from "../../../../lesson/password";
import { route } from "../../../lib/session";

/** A relative Location: request.url names the address Next listens on, not the one the browser used. */
const seeOther = (location: string) => new Response(null, { status: 303, headers: { location } });

/** The login as a form-accepting Route Handler: CSRF-checked, then a new id (fixation) and a redirect. */
export const POST = route(
  csrfProtection(async (request, session) => {
    const form = await request.formData();
    const username = String(form.get("username") ?? "");
    if (!(await checkLogin(username, String(form.get("password") ?? "")))) {
      session.flash("Login Failed.", "error");
      return seeOther("/login");
    }
    session.flash("Login Successfully.");
    session.login(username);
    session.set("user", username);
    return seeOther("/");
  }),
);
