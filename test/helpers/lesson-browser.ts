import { CookieJar } from "tough-cookie";

/** The text of the page's <h1>, the flashed messages, and the raw response. */
export interface Page {
  status: number;
  html: string;
  h1: string | undefined;
  flashes: string[];
  headers: Headers;
}

/**
 * A browser for the lesson apps (Express and Hono): a real cookie jar (tough-cookie applies
 * Expires, Max-Age, Path…), no redirects followed, and forms submitted as a browser submits them:
 * with the hidden csrf_token of the last page that had one, and a same-origin Origin header.
 */
export function browser(base: string) {
  const jar = new CookieJar();
  let token: string | undefined;
  async function request(path: string, init: RequestInit = {}): Promise<Page> {
    const url = new URL(path, base).toString();
    const headers = new Headers(init.headers);
    const cookie = await jar.getCookieString(url);
    if (cookie !== "") headers.set("cookie", cookie);
    const response = await fetch(url, { ...init, headers, redirect: "manual" });
    for (const line of response.headers.getSetCookie()) await jar.setCookie(line, url);
    const html = await response.text();
    token = /name="csrf_token" value="([^"]+)"/.exec(html)?.[1] ?? token;
    const flashList = /<ul class="flashes">([\s\S]*?)<\/ul>/.exec(html)?.[1] ?? "";
    return {
      status: response.status,
      html,
      h1: /<h1>([\s\S]*?)<\/h1>/.exec(html)?.[1]?.trim(),
      flashes: [...flashList.matchAll(/<li>([\s\S]*?)<\/li>/g)].map((match) => (match[1] ?? "").trim()),
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
