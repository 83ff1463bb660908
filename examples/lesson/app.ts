/**
 * Lesson 6 (Sessions, Cookies and Message Flashing), rebuilt on flagon: the Flask app of the
 * lesson, route for route, on Express 5 + Nunjucks. Flask's `session`, `flash` and
 * `get_flashed_messages` come from `flagon/express`, with CSRF protection on every form (the job
 * Flask-WTF's `CSRFProtect` does); cookies from flagon's cookie helpers.
 */
import { fileURLToPath } from "node:url";
import express, { type NextFunction, type Request, type Response } from "express";
import {
  createSessions,
  parseCookies,
  type SessionStore,
  SessionStoreError,
  type SessionsOptions,
  serializeCookie,
} from "flagon";
import { csrfProtection, sessions } from "flagon/express";
import nunjucks from "nunjucks";
import {
  type Listing,
  listYourSessions,
  loginMeta,
  logOutEverywhereElse,
  REMEMBER_ME_SECONDS,
  sessionNotice,
  yourSessionsPanel,
} from "./lifecycle.js";
import { checkLogin } from "./password.js";
import { glimpse, SECURITY_HEADERS, urlFor } from "./shared.js";
import { GateBusyError, LoginThrottle } from "./throttle.js";
import type { TrustProxy } from "./trust-proxy.js";

declare module "flagon/express" {
  interface SessionData {
    name?: string;
    message?: string;
    /** Set on login. */
    user?: string;
  }
}

export interface LessonAppOptions {
  /** Flask's `app.secret_key`: at least 32 characters (the lesson's "Secret Key" is refused). */
  secret: string;
  store: SessionStore;
  /** Shown in the "server holds" panel, e.g. "in SQLite (data/sessions.db)". */
  storeDescription?: string;
  /** Production: cached templates, no stack traces. @default false */
  production?: boolean;
  /**
   * Express's `trust proxy` (parsed from `TRUST_PROXY` by `parseTrustProxy`), for an app behind a
   * TLS-terminating proxy: it decides `req.secure` (Secure, `__Host-` cookie) and `req.ip`.
   * @default false
   */
  trustProxy?: TrustProxy;
  /** Counts failed logins per client and per username. @default a LoginThrottle with its defaults */
  loginThrottle?: LoginThrottle;
  /** Session lifetimes (`SESSION_LIFETIME`, `SESSION_IDLE_TIMEOUT`; tests shorten them), the outage policy. */
  sessionOptions?: LessonSessionOptions;
}

/** The session settings the lesson apps let you change. */
export type LessonSessionOptions = Pick<
  SessionsOptions<unknown>,
  "permanentLifetime" | "idleTimeout" | "absoluteTimeout" | "touchAfter" | "onStoreUnavailable"
>;

const templates = fileURLToPath(new URL("./templates", import.meta.url));
const staticFiles = fileURLToPath(new URL("./static", import.meta.url));

/** The status an error asks for (body-parser's 413, 400…), else 500. */
function httpStatus(error: unknown): number {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === "number" && status >= 400 && status < 600 ? status : 500;
}

function securityHeaders(_req: Request, res: Response, next: NextFunction): void {
  res.set(SECURITY_HEADERS);
  next();
}

/** The client a login attempt is counted against: the address `trust proxy` resolves. */
function clientOf(req: Request): string {
  return req.ip ?? req.socket.remoteAddress ?? "unknown";
}

export function createApp(options: LessonAppOptions): express.Express {
  const production = options.production ?? false;
  const app = express();
  app.set("env", production ? "production" : "development");
  app.set("view cache", production);
  app.disable("x-powered-by");
  if (options.trustProxy !== undefined) app.set("trust proxy", options.trustProxy);

  const env = nunjucks.configure(templates, { autoescape: true, express: app, noCache: !production });
  env.addGlobal("url_for", urlFor);
  app.set("view engine", "html");
  // Defaults for pages rendered without a session (a 503 while the store is down).
  app.locals.get_flashed_messages = () => [];
  app.locals.store_description = options.storeDescription ?? "on the server";
  app.locals.session_notice = undefined;
  app.locals.your_sessions = undefined;

  app.use(securityHeaders);
  // Static files never touch the session: registered before it, they cost no store round trip.
  app.use("/static", express.static(staticFiles, { index: false, maxAge: production ? "1h" : 0 }));

  // rolling: a session in use is refreshed (at most once a minute), so "last seen" and a remembered
  // session's 30 days count from the last visit.
  const core = createSessions({
    // A store outage leaves the pages that need no session working (the notice says so); a write is a 503.
    onStoreUnavailable: "degrade",
    ...options.sessionOptions,
    secret: options.secret,
    store: options.store,
    rolling: true,
  });
  const clientSide = options.store.kind === "client";
  app.use(sessions(core));
  // Forms are small: a bigger body is refused (413) before anything reads it. Parsed for every
  // route, because the CSRF check reads the token from the form. After sessions(), so that the 413
  // page still shows who is logged in.
  app.use(express.urlencoded({ extended: false, limit: "4kb" }));
  const throttle = options.loginThrottle ?? new LoginThrottle();
  // Said once, when the request's cookie led to a session that ended (on the 403 page too: it explains it).
  app.use((req, res, next) => {
    res.locals.session_notice = sessionNotice(req.session.status);
    next();
  });
  // Every POST needs the session's token (the hidden csrf_token field of login.html and nav.html)
  // and must come from this site; anything else gets the 403 page and changes nothing.
  app.use(
    csrfProtection({
      onError: (error, req, res) => {
        // Like the error pages: the navigation says who is logged in; no flashed message consumed.
        res.locals.get_flashed_messages = () => [];
        res.locals.user = () => req.session.userId;
        res.locals.your_sessions = undefined;
        res.render("403.html", { reason: error.reason });
      },
    }),
  );

  // The two panels of every page: the cookies the browser sent, and what the server keeps.
  app.use((req, res, next) => {
    const sessionCookie = core.cookieName(req.secure);
    res.locals.browser_cookies = Object.entries(parseCookies(req.headers.cookie)).map(([name, value]) =>
      name === sessionCookie
        ? { name, value: glimpse(value), session: true }
        : { name, value, session: false },
    );
    // Read at render time, so the page shows the session after this request's changes.
    res.locals.server_session = () =>
      Object.entries(req.session.toJSON()).map(([key, value]) => ({ key, value: JSON.stringify(value) }));
    // Logged in: the session is bound to a user (session.login), whatever its data holds.
    res.locals.user = () => req.session.userId;
    next();
  });

  /** The "Your sessions" panel of the page this request renders (read at render time). */
  async function showYourSessions(req: Request, res: Response): Promise<void> {
    const listing: Listing | undefined = await listYourSessions(core, req.session, clientSide);
    res.locals.your_sessions = () =>
      yourSessionsPanel(listing, req.session, { userAgent: req.get("user-agent") });
  }
  // Pages are GETs (a failed login's form again shows no panel: nobody is logged in by it).
  app.use(async (req, res, next) => {
    if (req.method === "GET" || req.method === "HEAD") await showYourSessions(req, res);
    next();
  });

  app.get("/", (_req, res) => {
    res.render("index.html", { message: "Sessions, cookies and flashed messages", intro: true });
  });

  // ## Sessions

  app.get("/session_set", (req, res) => {
    req.session.set("name", "Leo");
    req.session.set("message", "Hello, World!");
    res.render("index.html", { message: "Session data set successfully." });
  });

  app.get("/session_get", (req, res) => {
    // The lesson reads session.get("username") here, which /session_set never writes.
    const name = req.session.get("name");
    const message = req.session.get("message");
    const formattedMessage = name && message ? `${name}. ${message}.` : "Session not valid.";
    res.render("index.html", { message: formattedMessage });
  });

  app.get("/session_delete", (req, res) => {
    // The lesson's session.pop("name") then session.clear(): here only the keys /session_set wrote.
    // clear() would also end the login and its CSRF token, and this is a GET that any site can link
    // to (SameSite=Lax sends the cookie on a top-level navigation): POST /logout does that, with a token.
    // delete() returns the value, or undefined: no KeyError when the key is absent.
    req.session.delete("name");
    req.session.delete("message");
    res.render("index.html", { message: "Session data deleted successfully." });
  });

  // ## Cookies

  app.get("/cookie_set", (_req, res) => {
    res.append("Set-Cookie", serializeCookie("cookie_name", "cookie_value", { sameSite: "lax" }));
    res.render("index.html", {
      message: "Cookies set successfully.",
      note: "This response asked your browser to keep cookie_name=cookie_value; it sends it back from the next request on.",
    });
  });

  app.get("/cookies_get", (req, res) => {
    const cookieValue = parseCookies(req.headers.cookie).cookie_name;
    res.render("index.html", { message: cookieValue ? cookieValue : "No cookie with this name" });
  });

  app.get("/cookies_delete", (_req, res) => {
    // Flask's set_cookie("cookie_name", expires=0): an expiry in the past makes the browser drop it.
    res.append("Set-Cookie", serializeCookie("cookie_name", "", { expires: new Date(0), sameSite: "lax" }));
    res.render("index.html", {
      message: "Cookies deleted successfully.",
      note: "This response told your browser that cookie_name expired in 1970, so it deletes it.",
    });
  });

  // ## Message flashing

  app.get("/login", (_req, res) => {
    res.render("login.html");
  });

  app.post("/login", async (req, res) => {
    const username = typeof req.body?.username === "string" ? req.body.username : "";
    const password = typeof req.body?.password === "string" ? req.body.password : "";
    const client = clientOf(req);
    // Counted before the password is checked, so parallel guesses are counted too.
    const verdict = throttle.attempt(client, username);
    if (!verdict.allowed) {
      res.set("Retry-After", String(verdict.retryAfterSeconds));
      errorPage(res, 429, "429.html", { retry_after: verdict.retryAfterSeconds });
      return;
    }
    let ok: boolean;
    try {
      ok = await checkLogin(username, password);
    } catch (error) {
      if (!(error instanceof GateBusyError)) throw error;
      throttle.succeeded(client, username);
      res.set("Retry-After", "1");
      errorPage(res, 503, "429.html", { busy: true, retry_after: 1 });
      return;
    }
    if (!ok) {
      // The form again, with the error and this session's token: a retry works.
      req.session.flash("Login Failed.");
      res.render("login.html", { username });
      return;
    }
    throttle.succeeded(client, username);
    // A new session id on login, so an id planted before it is worthless (session fixation), bound
    // to the user so that it is listed under "Your sessions" with the browser it came from.
    req.session.login(username, loginMeta(req.get("user-agent")));
    if (req.body?.remember === "1") req.session.setLifetime(REMEMBER_ME_SECONDS);
    // Shown in the "server holds" panel, as in the lesson.
    req.session.set("user", username);
    req.session.flash("Login Successfully.");
    // Post/Redirect/Get: the flash is shown by the page this leads to, and a reload never posts again.
    res.redirect(303, "/");
  });

  app.post("/logout", (req, res) => {
    req.session.destroy();
    res.redirect(303, "/");
  });

  // The "Your sessions" panel's button: every other session of this user ends.
  app.post("/logout_others", async (req, res) => {
    req.session.flash(await logOutEverywhereElse(core, req.session));
    res.redirect(303, "/");
  });

  // ## Errors

  /**
   * An error page: the security headers and the navigation of every page (who is logged in, the
   * logout button), and no flashed message consumed (they are meant for the next real page).
   */
  function errorPage(res: Response, status: number, template: string, context: object = {}) {
    res.set(SECURITY_HEADERS);
    res.locals.get_flashed_messages = () => [];
    res.status(status).render(template, { status, ...context });
  }

  app.use((_req, res) => {
    errorPage(res, 404, "404.html");
  });

  app.use((error: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    if (error instanceof SessionStoreError) {
      // The store did not answer: the session is unavailable, or its changes were not saved, so
      // the page shows none of it (nobody is shown as logged in, no panel).
      // (res.locals.session is typed as always set by sessions(): removed, not set to undefined.)
      Reflect.deleteProperty(res.locals, "session");
      res.locals.user = () => undefined;
      res.locals.your_sessions = undefined;
      res.locals.session_notice = undefined;
      res.set("Retry-After", "5");
      errorPage(res, 503, "503.html");
      return;
    }
    // Body-parser's 413 and 400 come after sessions(): the page says who is logged in.
    const session = (req as Partial<Pick<Request, "session">>).session;
    res.locals.user = () => session?.userId;
    res.locals.your_sessions = undefined;
    const status = httpStatus(error);
    if (status >= 500 && !production) console.error(error);
    errorPage(res, status, "error.html");
  });

  return app;
}
