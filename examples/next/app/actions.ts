"use server";
import { headers } from "next/headers";
/**
 * The lesson's login and logout as Server Actions. `action()` commits the session (store write,
 * cookie through `cookies()`) before `redirect()`'s throw leaves, so "/" sees the new session and
 * the flash; Next itself refuses a Server Action posted from another origin.
 */
import { redirect } from "next/navigation";
import { checkLogin } from "../../lesson/password";
import { action } from "../lib/session";

export const login = action(async (session, form: FormData) => {
  const username = String(form.get("username") ?? "");
  const password = String(form.get("password") ?? "");
  if (!(await checkLogin(username, password))) {
    session.flash("Login Failed.", "error");
    redirect("/login");
  }
  session.flash("Login Successfully.");
  // A new session id on login: an id planted before it is worthless (session fixation).
  session.login(username, { userAgent: (await headers()).get("user-agent") ?? "" });
  session.set("user", username);
  redirect("/");
});

export const logout = action(async (session) => {
  session.destroy();
  redirect("/");
});

export const setSessionData = action(async (session) => {
  session.set("name", "Leo");
  session.set("message", "Hello, World!");
  session.flash("Session data set successfully.");
  redirect("/");
});
