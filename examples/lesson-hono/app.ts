/**
 * Lesson 6 (Sessions, Cookies and Message Flashing) on Hono: the same routes, the same Nunjucks
 * templates (examples/lesson/templates) and the same behaviour as the Express lesson app, with
 * `flagon/hono` for Flask's `session`, `flash`, `get_flashed_messages` and CSRF protection.
 */
import type { IncomingMessage } from "node:http";
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
import { GateBusyError, LoginThrottle } from "../lesson/throttle.js";
import {
  compileTrust,
  type ForwardedRequest,
  forwardedRequest,
  type TrustProxy,
} from "../lesson/trust-proxy.js";

/** What the lesson keeps in the session. */
export interface LessonData {
  name?: string;
  message?: string;
  /** Set on login. */
  user?: string;
  [key: string]: unknown;
}

type LessonEnv = {
  /** @hono/node-server's request (absent under `app.request()` in tests). */
  Bindings: { incoming?: IncomingMessage };
  Variables: SessionVariables<LessonData> & {
    /** The user's sessions for this page's "Your sessions" panel (set for pages). */
    yourSessions?: { listing: Listing | undefined };
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
   * Express's `trust proxy`, applied the same way (parsed from `TRUST_PROXY` by `parseTrustProxy`):
   * which hops' `X-Forwarded-Proto` (Secure, `__Host-` cookie) and `X-Forwarded-For` (the client
   * counted by the login throttle) are believed. @default false
   */
  trustProxy?: TrustProxy;
  /** Counts failed logins per client and per username. @default a LoginThrottle with its defaults */
  loginThrottle?: LoginThrottle;
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

  const trust = compileTrust(options.trustProxy ?? false);
  /** Express's req.protocol and req.ip for this request. */
  const forwarded = (c: Context<LessonEnv>): ForwardedRequest =>
    forwardedRequest(trust, {
      remoteAddress: c.env?.incoming?.socket.remoteAddress,
      socketProtocol: new URL(c.req.url).protocol === "https:" ? "https" : "http",
      forwardedFor: c.req.header("x-forwarded-for"),
      forwardedProto: c.req.header("x-forwarded-proto"),
    });
  const isSecure = (c: Context<LessonEnv>): boolean => forwarded(c).protocol === "https";
  const throttle = options.loginThrottle ?? new LoginThrottle();
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
          : yourSessionsPanel(listed.listing, session, { userAgent: c.req.header("user-agent") }),
      ...context,
    });
    return c.html(html, status as 200);
  }

  /**
   * An error page: the navigation of every page (who is logged in, the logout button) and no
   * flashed message consumed (they are meant for the next real page). The security headers are
   * added to every response below.
   */
  function renderError(c: Context<LessonEnv>, template: string, status: number, context: object = {}) {
    const session = c.get("session");
    if (session === undefined) return renderUnavailable(c, template, status, context);
    const html = env.render(template, {
      ...templateGlobals(session),
      get_flashed_messages: () => [],
      store_description: storeDescription,
      user: () => session.userId,
      status,
      ...context,
    });
    return c.html(html, status as 500);
  }

  /** The 503 page: the store did not answer, so the session (who is logged in) is unknown or unsaved. */
  function renderUnavailable(c: Context, template: string, status: number, context: object = {}) {
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
        return renderUnavailable(c, "503.html", 503);
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
    // The lesson's session.pop("name") then session.clear(): here only the keys /session_set wrote.
    // clear() would also end the login and its CSRF token, and this is a GET that any site can link
    // to (SameSite=Lax sends the cookie on a top-level navigation): POST /logout does that, with a token.
    // delete() returns the value, or undefined: no KeyError when the key is absent.
    session.delete("name");
    session.delete("message");
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
    const client = forwarded(c).ip;
    // Counted before the password is checked, so parallel guesses are counted too.
    const verdict = throttle.attempt(client, username);
    if (!verdict.allowed) {
      c.header("Retry-After", String(verdict.retryAfterSeconds));
      return renderError(c, "429.html", 429, { retry_after: verdict.retryAfterSeconds });
    }
    let ok: boolean;
    try {
      ok = await checkLogin(username, password);
    } catch (error) {
      if (!(error instanceof GateBusyError)) throw error;
      throttle.succeeded(client, username);
      c.header("Retry-After", "1");
      return renderError(c, "429.html", 503, { busy: true, retry_after: 1 });
    }
    if (!ok) {
      // The form again, with the error and this session's token: a retry works.
      session.flash("Login Failed.");
      return render(c, "login.html", { username });
    }
    throttle.succeeded(client, username);
    // A new session id on login, so an id planted before it is worthless (session fixation), bound
    // to the user so that it is listed under "Your sessions" with the browser it came from.
    session.login(username, loginMeta(c.req.header("user-agent")));
    if (form.remember === "1") session.setLifetime(REMEMBER_ME_SECONDS);
    // Shown in the "server holds" panel, as in the lesson.
    session.set("user", username);
    session.flash("Login Successfully.");
    // Post/Redirect/Get: the flash is shown by the page this leads to, and a reload never posts again.
    return c.redirect("/", 303);
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
      return renderUnavailable(c, "503.html", 503);
    }
    const status = error instanceof HTTPException ? error.status : 500;
    if (status >= 500 && !production) console.error(error);
    return renderError(c as Context<LessonEnv>, "error.html", status);
  });

  return app;
}
