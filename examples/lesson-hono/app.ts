/**
 * Lesson 6 (Sessions, Cookies and Message Flashing) on Hono: the same routes, the same Nunjucks
 * templates (examples/lesson/templates) and the same behaviour as the Express lesson app, with
 * `flagon/hono` for Flask's `session`, `flash`, `get_flashed_messages` and CSRF protection.
 */
import { fileURLToPath } from "node:url";
import { serveStatic } from "@hono/node-server/serve-static";
import { createSessions, parseCookies, type SessionStore, SessionStoreError, serializeCookie } from "flagon";
import { csrfProtection, type SessionVariables, sessions, templateGlobals } from "flagon/hono";
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import nunjucks from "nunjucks";
import type { LessonSessionOptions } from "../lesson/app.js";
import {
  type Listing,
  listYourSessions,
  loginMeta,
  logOutEverywhereElse,
  REMEMBER_ME_SECONDS,
  sessionNotice,
  yourSessionsPanel,
} from "../lesson/lifecycle.js";
import { checkLogin } from "../lesson/password.js";
import { glimpse, SECURITY_HEADERS, urlFor } from "../lesson/shared.js";

/** What the lesson keeps in the session. */
export interface LessonData {
  name?: string;
  message?: string;
  /** Set on login. */
  user?: string;
  [key: string]: unknown;
}

type LessonEnv = {
  Variables: SessionVariables<LessonData> & {
    /** The user's sessions for this page's "Your sessions" panel (set for pages, and after a login). */
    yourSessions?: { listing: Listing | undefined; replaced?: string | undefined };
  };
};

export interface LessonAppOptions {
  /** Flask's `app.secret_key`: at least 32 characters (the lesson's "Secret Key" is refused). */
  secret: string;
  store: SessionStore;
  /** Shown in the "server holds" panel, e.g. "in SQLite (data/sessions.db)". */
  storeDescription?: string;
  /** Production: cached templates, no stack traces. @default false */
  production?: boolean;
  /**
   * Behind a TLS-terminating proxy: trust its `X-Forwarded-Proto` to tell HTTPS requests
   * (Secure, `__Host-` cookie). Only set it when every request comes through that proxy.
   * @default false
   */
  trustProxy?: boolean;
  /** Session lifetimes (`SESSION_LIFETIME`, `SESSION_IDLE_TIMEOUT`; tests shorten them). */
  sessionOptions?: LessonSessionOptions;
}

/** Shared with the Express app: the same templates, 403 page included. */
const templates = fileURLToPath(new URL("../lesson/templates", import.meta.url));
const staticFiles = fileURLToPath(new URL("../lesson/static", import.meta.url));

/** Express's `urlencoded({ limit: "4kb" })` of the Express app. */
const MAX_FORM_BYTES = 4096;

export function createApp(options: LessonAppOptions): Hono<LessonEnv> {
  const production = options.production ?? false;
  const storeDescription = options.storeDescription ?? "on the server";
  const env = new nunjucks.Environment(new nunjucks.FileSystemLoader(templates, { noCache: !production }), {
    autoescape: true,
  });
  env.addGlobal("url_for", urlFor);

  const isSecure = (c: Context): boolean =>
    options.trustProxy === true
      ? c.req.header("x-forwarded-proto")?.split(",")[0]?.trim() === "https"
      : new URL(c.req.url).protocol === "https:";
  // rolling: a session in use is refreshed (at most once a minute), so "last seen" and a remembered
  // session's 30 days count from the last visit.
  const core = createSessions<LessonData>({
    // A store outage leaves the pages that need no session working (the notice says so); a write is a 503.
    onStoreUnavailable: "degrade",
    ...options.sessionOptions,
    secret: options.secret,
    store: options.store,
    rolling: true,
  });
  const clientSide = options.store.kind === "client";

  /** A page with the session: flashes, the logged-in user, and the two panels. */
  function render(c: Context<LessonEnv>, template: string, context: object = {}, status = 200) {
    const session = c.get("session");
    const sessionCookie = core.cookieName(isSecure(c));
    const listed = c.get("yourSessions");
    const html = env.render(template, {
      ...templateGlobals(session),
      store_description: storeDescription,
      session_notice: sessionNotice(session.status),
      browser_cookies: Object.entries(parseCookies(c.req.header("cookie"))).map(([name, value]) =>
        name === sessionCookie
          ? { name, value: glimpse(value), session: true }
          : { name, value, session: false },
      ),
      // Read at render time, so the page shows the session after this request's changes.
      server_session: () =>
        Object.entries(session.toJSON()).map(([key, value]) => ({ key, value: JSON.stringify(value) })),
      // Logged in: the session is bound to a user (session.login), whatever its data holds.
      user: () => session.userId,
      your_sessions: () =>
        listed === undefined
          ? undefined
          : yourSessionsPanel(listed.listing, session, {
              userAgent: c.req.header("user-agent"),
              replaced: listed.replaced,
            }),
      ...context,
    });
    return c.html(html, status as 200);
  }

  /** Error pages show no session: it is unavailable (503) or in an unknown state. */
  function renderError(c: Context, template: string, status: number, context: object = {}) {
    const html = env.render(template, {
      store_description: storeDescription,
      get_flashed_messages: () => [],
      user: () => undefined,
      status,
      ...context,
    });
    return c.html(html, status as 500);
  }

  const app = new Hono<LessonEnv>();

  app.use(async (c, next) => {
    await next();
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) c.res.headers.set(name, value);
  });
  // Static files never touch the session: served before it, they cost no store round trip.
  app.use(
    "/static/*",
    serveStatic({
      root: staticFiles,
      rewriteRequestPath: (path) => path.slice("/static".length),
      onFound: (_path, c) => {
        c.header("Cache-Control", production ? "public, max-age=3600" : "public, max-age=0");
      },
    }),
  );
  app.use(
    sessions<LessonData>(core, {
      isSecure,
      onStoreError: (_error, c) => {
        c.header("Retry-After", "5");
        return renderError(c, "503.html", 503);
      },
    }),
  );
  // Forms are small; the limit also bounds what the CSRF check reads.
  app.use(bodyLimit({ maxSize: MAX_FORM_BYTES }));
  app.use(
    csrfProtection<LessonData>({
      // The notice explains a refusal caused by a session that ended (a revoked one's old form).
      onError: (error, c) =>
        renderError(c, "403.html", 403, {
          reason: error.reason,
          session_notice: sessionNotice(c.get("session").status),
        }),
    }),
  );
  // Pages are GETs; the one POST that renders a page (login) lists them after logging in.
  app.use(async (c, next) => {
    if (c.req.method === "GET" || c.req.method === "HEAD") {
      c.set("yourSessions", { listing: await listYourSessions(core, c.get("session"), clientSide) });
    }
    await next();
  });

  app.get("/", (c) =>
    render(c, "index.html", { message: "Sessions, cookies and flashed messages", intro: true }),
  );

  // ## Sessions

  app.get("/session_set", (c) => {
    const session = c.get("session");
    session.set("name", "Leo");
    session.set("message", "Hello, World!");
    return render(c, "index.html", { message: "Session data set successfully." });
  });

  app.get("/session_get", (c) => {
    const session = c.get("session");
    // The lesson reads session.get("username") here, which /session_set never writes.
    const name = session.get("name");
    const message = session.get("message");
    const formattedMessage = name && message ? `${name}. ${message}.` : "Session not valid.";
    return render(c, "index.html", { message: formattedMessage });
  });

  app.get("/session_delete", (c) => {
    const session = c.get("session");
    // Deletes one key (returning its value, or undefined: no KeyError when it is absent)...
    session.delete("name");
    // ...and this deletes everything in the session.
    session.clear();
    return render(c, "index.html", { message: "Session data deleted successfully." });
  });

  // ## Cookies

  app.get("/cookie_set", (c) => {
    c.header("Set-Cookie", serializeCookie("cookie_name", "cookie_value", { sameSite: "lax" }), {
      append: true,
    });
    return render(c, "index.html", {
      message: "Cookies set successfully.",
      note: "This response asked your browser to keep cookie_name=cookie_value; it sends it back from the next request on.",
    });
  });

  app.get("/cookies_get", (c) => {
    const cookieValue = parseCookies(c.req.header("cookie")).cookie_name;
    return render(c, "index.html", { message: cookieValue ? cookieValue : "No cookie with this name" });
  });

  app.get("/cookies_delete", (c) => {
    // Flask's set_cookie("cookie_name", expires=0): an expiry in the past makes the browser drop it.
    c.header("Set-Cookie", serializeCookie("cookie_name", "", { expires: new Date(0), sameSite: "lax" }), {
      append: true,
    });
    return render(c, "index.html", {
      message: "Cookies deleted successfully.",
      note: "This response told your browser that cookie_name expired in 1970, so it deletes it.",
    });
  });

  // ## Message flashing

  app.get("/login", (c) => render(c, "login.html"));

  app.post("/login", async (c) => {
    const session = c.get("session");
    // Parsed once by the CSRF check; Hono caches the body.
    const form = await c.req.parseBody();
    const username = typeof form.username === "string" ? form.username : "";
    const password = typeof form.password === "string" ? form.password : "";
    let flashMessage: string;
    let replaced: string | undefined;
    if (await checkLogin(username, password)) {
      flashMessage = "Login Successfully.";
      // The session this browser was logged in with, if any: replaced, so no longer listed.
      if (session.userId !== undefined) replaced = session.ref;
      // A new session id on login, so an id planted before it is worthless (session fixation), bound
      // to the user so that it is listed under "Your sessions" with the browser it came from.
      session.login(username, loginMeta(c.req.header("user-agent")));
      if (form.remember === "1") session.setLifetime(REMEMBER_ME_SECONDS);
      // Shown in the "server holds" panel, as in the lesson.
      session.set("user", username);
    } else {
      flashMessage = "Login Failed.";
    }
    session.flash(flashMessage);
    c.set("yourSessions", { listing: await listYourSessions(core, session, clientSide), replaced });
    return render(c, "index.html");
  });

  app.post("/logout", (c) => {
    c.get("session").destroy();
    return c.redirect("/", 303);
  });

  // The "Your sessions" panel's button: every other session of this user ends.
  app.post("/logout_others", async (c) => {
    const session = c.get("session");
    session.flash(await logOutEverywhereElse(core, session));
    return c.redirect("/", 303);
  });

  // ## Errors

  app.notFound((c) => {
    // An error page must not eat flashed messages meant for the next real page.
    return render(c as Context<LessonEnv>, "404.html", { get_flashed_messages: () => [] }, 404);
  });

  app.onError((error, c) => {
    // A store that fails in a handler (listing or ending the user's sessions): the 503 page, as Express.
    if (error instanceof SessionStoreError) {
      c.header("Retry-After", "5");
      return renderError(c, "503.html", 503);
    }
    const status = error instanceof HTTPException ? error.status : 500;
    if (status >= 500 && !production) console.error(error);
    return renderError(c, "error.html", status);
  });

  return app;
}
