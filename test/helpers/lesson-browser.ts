import { CookieJar } from "tough-cookie";

/** The text of the page's <h1>, the flashed messages, and the raw response. */
export interface Page {
  status: number;
  html: string;
  h1: string | undefined;
  flashes: string[];
  /** The notice of a session that ended (base.html), if the page shows one. */
  notice: string | undefined;
  /** The "Your sessions" panel (sessions.html): its aside, undefined when the page has none. */
  panel: string | undefined;
  /** The panel's rows, oldest session first. */
  yourSessions: Array<{ device: string; current: boolean; signedIn: string; lastSeen: string }>;
  headers: Headers;
}

/** A row of the "Your sessions" table: device, "this browser" tag, and the two times' text. */
const PANEL_ROW =
  /<tr class="(current|other)">\s*<td>([^<]*?)(?: <span class="tag">this browser<\/span>)?<\/td>\s*<td><time [^>]*>([^<]*)<\/time><\/td>\s*<td><time [^>]*>([^<]*)<\/time><\/td>/g;

/**
 * A browser for the lesson apps (Express and Hono): a real cookie jar (tough-cookie applies
 * Expires, Max-Age, Path…), no redirects followed, and forms submitted as a browser submits them:
 * with the hidden csrf_token of the last page that had one, and a same-origin Origin header.
 * `userAgent` is sent as its User-Agent (fetch's own is "node").
 */
export function browser(base: string, options: { userAgent?: string } = {}) {
  const jar = new CookieJar();
  let token: string | undefined;
  async function request(path: string, init: RequestInit = {}): Promise<Page> {
    const url = new URL(path, base).toString();
    const headers = new Headers(init.headers);
    if (options.userAgent !== undefined && !headers.has("user-agent")) {
      headers.set("user-agent", options.userAgent);
    }
    const cookie = await jar.getCookieString(url);
    if (cookie !== "") headers.set("cookie", cookie);
    const response = await fetch(url, { ...init, headers, redirect: "manual" });
    for (const line of response.headers.getSetCookie()) await jar.setCookie(line, url);
    const html = await response.text();
    token = /name="csrf_token" value="([^"]+)"/.exec(html)?.[1] ?? token;
    const flashList = /<ul class="flashes">([\s\S]*?)<\/ul>/.exec(html)?.[1] ?? "";
    const panel = /<aside class="sessions"[\s\S]*?<\/aside>/.exec(html)?.[0];
    return {
      status: response.status,
      html,
      h1: /<h1>([\s\S]*?)<\/h1>/.exec(html)?.[1]?.trim(),
      flashes: [...flashList.matchAll(/<li>([\s\S]*?)<\/li>/g)].map((match) => (match[1] ?? "").trim()),
      notice: /<p class="notice" role="status">([\s\S]*?)<\/p>/.exec(html)?.[1]?.trim(),
      panel,
      yourSessions: [...(panel ?? "").matchAll(PANEL_ROW)].map((match) => ({
        device: match[2] ?? "",
        current: match[1] === "current",
        signedIn: match[3] ?? "",
        lastSeen: match[4] ?? "",
      })),
      headers: response.headers,
    };
  }
  return {
    jar,
    get: (path: string) => request(path),
    /** Submits a form of the last page that had one (its csrf_token included). */
    submit: (path: string, form: Record<string, string>, headers: Record<string, string> = {}) => {
      if (token === undefined) throw new Error("no page with a form was shown yet");
      return request(path, {
        method: "POST",
        headers: { origin: base, ...headers },
        body: new URLSearchParams({ csrf_token: token, ...form }),
      });
    },
    /**
     * Submits a form, then follows a redirect as a browser does (a GET of its Location): the page
     * the user ends up on. `redirected` is the POST's own response (303 for a login).
     */
    submitAndFollow: async (
      path: string,
      form: Record<string, string>,
      headers: Record<string, string> = {},
    ) => {
      if (token === undefined) throw new Error("no page with a form was shown yet");
      const posted = await request(path, {
        method: "POST",
        headers: { origin: base, ...headers },
        body: new URLSearchParams({ csrf_token: token, ...form }),
      });
      const location = posted.headers.get("location");
      if (posted.status < 300 || posted.status >= 400 || location === null)
        return { ...posted, redirected: posted };
      return { ...(await request(location)), redirected: posted };
    },
    /** A post that carries exactly `form` and `headers`, as a forged or scripted request would. */
    post: (path: string, form: Record<string, string>, headers: Record<string, string> = {}) =>
      request(path, { method: "POST", headers, body: new URLSearchParams(form) }),
    /** The csrf_token of the last page that had one. */
    get token() {
      return token;
    },
    cookies: async () =>
      Object.fromEntries((await jar.getCookies(base)).map((cookie) => [cookie.key, cookie.value] as const)),
    cookie: async (name: string) => (await jar.getCookies(base)).find((cookie) => cookie.key === name),
  };
}
