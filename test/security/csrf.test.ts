/**
 * CSRF: a per-session synchronizer token checked on unsafe methods, compared in constant time and
 * rotated by regenerate(), plus Origin / Sec-Fetch-Site as defence in depth (OWASP CSRF
 * Prevention Cheat Sheet). The framework-agnostic check, then the same check through Hono.
 */
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { csrfProtection, type SessionVariables, sessions } from "../../src/adapters/hono/index.js";
import { ConfigError, CsrfError } from "../../src/errors.js";
import { type CsrfInput, CsrfRejectedError, createCsrfProtection } from "../../src/session/csrf.js";
import { createSessions } from "../../src/session/sessions.js";

const SECRET = "csrf-test-secret-0123456789abcdefghijklmnop";
const core = createSessions({ secret: SECRET });

async function sessionWithToken() {
  const session = await core.load(new Headers());
  return { session, token: session.csrfToken() };
}

function post(overrides: Partial<CsrfInput> = {}): CsrfInput {
  return { method: "POST", headers: new Headers(), host: "localhost:3000", ...overrides };
}

describe("createCsrfProtection().check", () => {
  const protection = createCsrfProtection();

  it.each(["GET", "HEAD", "OPTIONS", "TRACE", "get"])(
    "lets the safe method %s through without a token",
    async (method) => {
      const session = await core.load(new Headers());
      const cross = new Headers({ origin: "https://evil.example", "sec-fetch-site": "cross-site" });
      expect(protection.check(session, post({ method, headers: cross }))).toEqual({ ok: true });
    },
  );

  it.each(["POST", "PUT", "PATCH", "DELETE", "PROPFIND"])("checks the unsafe method %s", async (method) => {
    const { session } = await sessionWithToken();
    const result = protection.check(session, post({ method }));
    expect(result).toMatchObject({ ok: false, reason: "missing-token" });
  });

  it("accepts the session's token from the form field or the x-csrf-token header", async () => {
    const { session, token } = await sessionWithToken();
    expect(protection.check(session, post({ formToken: token }))).toEqual({ ok: true });
    expect(protection.check(session, post({ headers: new Headers({ "x-csrf-token": token }) }))).toEqual({
      ok: true,
    });
    // Node's IncomingHttpHeaders shape works too (the Express middleware passes req.headers).
    expect(
      protection.check(session, post({ headers: { "x-csrf-token": token, host: "localhost:3000" } })),
    ).toEqual({ ok: true });
  });

  it("refuses a missing, empty, non-string, wrong or other session's token", async () => {
    const { session, token } = await sessionWithToken();
    const { token: otherToken } = await sessionWithToken();
    expect(protection.check(session, post())).toMatchObject({ ok: false, reason: "missing-token" });
    expect(protection.check(session, post({ formToken: "" }))).toMatchObject({ reason: "missing-token" });
    expect(protection.check(session, post({ formToken: [token] }))).toMatchObject({
      reason: "missing-token",
    });
    expect(protection.check(session, post({ formToken: otherToken }))).toMatchObject({
      reason: "invalid-token",
    });
    expect(protection.check(session, post({ formToken: token.slice(0, -1) }))).toMatchObject({
      reason: "invalid-token",
    });
    expect(protection.check(session, post({ formToken: `${token}x` }))).toMatchObject({
      reason: "invalid-token",
    });
  });

  it("refuses every string that is not the token (fast-check)", async () => {
    const { session, token } = await sessionWithToken();
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (candidate) => {
        fc.pre(candidate !== token && candidate !== "");
        const result = protection.check(session, post({ formToken: candidate }));
        expect(result).toMatchObject({ ok: false, reason: "invalid-token" });
      }),
      { numRuns: 500 },
    );
  });

  it("refuses any token when the session has none (new or expired session)", async () => {
    const session = await core.load(new Headers());
    const { token } = await sessionWithToken();
    expect(protection.check(session, post({ formToken: token }))).toMatchObject({ reason: "invalid-token" });
  });

  it("refuses a valid token sent from a foreign Origin, and an opaque `null` Origin", async () => {
    const { session, token } = await sessionWithToken();
    for (const origin of ["https://evil.example", "http://localhost:3001", "null", "not a url"]) {
      const result = protection.check(session, post({ headers: new Headers({ origin }), formToken: token }));
      expect(result).toMatchObject({ ok: false, reason: "origin-mismatch" });
    }
    const same = protection.check(
      session,
      post({ headers: new Headers({ origin: "http://localhost:3000" }), formToken: token }),
    );
    expect(same).toEqual({ ok: true });
    // Behind a TLS proxy the server sees http while the browser says https: the host decides.
    const proxied = protection.check(
      session,
      post({ headers: new Headers({ origin: "https://LOCALHOST:3000" }), formToken: token }),
    );
    expect(proxied).toEqual({ ok: true });
  });

  it("refuses cross-site and same-site Fetch Metadata even with a valid token", async () => {
    const { session, token } = await sessionWithToken();
    for (const site of ["cross-site", "same-site"]) {
      const headers = new Headers({ "sec-fetch-site": site, origin: "http://localhost:3000" });
      expect(protection.check(session, post({ headers, formToken: token }))).toMatchObject({
        ok: false,
        reason: "cross-site",
      });
    }
    for (const site of ["same-origin", "none"]) {
      const headers = new Headers({ "sec-fetch-site": site });
      expect(protection.check(session, post({ headers, formToken: token }))).toEqual({ ok: true });
      // Fetch Metadata never replaces the token.
      expect(protection.check(session, post({ headers }))).toMatchObject({ reason: "missing-token" });
    }
  });

  it("lets trusted origins through the Origin layer, still requiring the token", async () => {
    const trusting = createCsrfProtection({ trustedOrigins: ["https://app.example.com"] });
    const { session, token } = await sessionWithToken();
    const headers = new Headers({ origin: "https://app.example.com", "sec-fetch-site": "same-site" });
    expect(trusting.check(session, post({ headers, formToken: token }))).toEqual({ ok: true });
    expect(trusting.check(session, post({ headers }))).toMatchObject({ reason: "missing-token" });
    const other = new Headers({ origin: "https://evil.example.com", "sec-fetch-site": "same-site" });
    expect(trusting.check(session, post({ headers: other, formToken: token }))).toMatchObject({
      reason: "cross-site",
    });
  });

  it("returns a CsrfError with code ERR_CSRF and a reason, never the token", async () => {
    const { session, token } = await sessionWithToken();
    const result = protection.check(session, post({ formToken: `${token.slice(1)}A` }));
    if (result.ok) throw new Error("expected a failure");
    expect(result.error).toBeInstanceOf(CsrfError);
    expect(result.error).toBeInstanceOf(CsrfRejectedError);
    expect(result.error.code).toBe("ERR_CSRF");
    expect(result.error.reason).toBe("invalid-token");
    expect(result.error.message).not.toContain(token);
    expect(result.error.message).not.toContain(token.slice(1));
  });

  it("honours custom header, field and safe-method names", async () => {
    const custom = createCsrfProtection({
      headerName: "X-XSRF-Token",
      fieldName: "_csrf",
      safeMethods: ["GET"],
    });
    expect(custom.headerName).toBe("x-xsrf-token");
    expect(custom.fieldName).toBe("_csrf");
    expect(custom.isSafe("HEAD")).toBe(false);
    const { session, token } = await sessionWithToken();
    expect(custom.check(session, post({ headers: new Headers({ "x-xsrf-token": token }) }))).toEqual({
      ok: true,
    });
    expect(custom.check(session, post({ headers: new Headers({ "x-csrf-token": token }) }))).toMatchObject({
      reason: "missing-token",
    });
  });

  it.each([
    [{ trustedOrigins: ["app.example.com"] }],
    [{ trustedOrigins: ["https://app.example.com/path"] }],
    [{ trustedOrigins: ["https://app.example.com/?q=1"] }],
    [{ trustedOrigins: ["null"] }],
    [{ headerName: "x csrf" }],
    [{ headerName: "" }],
    [{ fieldName: "" }],
  ])("refuses a bad option at construction: %j", (options) => {
    expect(() => createCsrfProtection(options)).toThrow(ConfigError);
  });
});

describe("token lifecycle", () => {
  it("keeps one token per session across requests and rotates it on regenerate() (login)", async () => {
    const session = await core.load(new Headers());
    const before = session.csrfToken();
    expect(session.csrfToken()).toBe(before);
    const headers = new Headers();
    await core.commit(session, headers);
    const cookie = headers.getSetCookie()[0]!.split(";", 1)[0]!;

    const again = await core.load(new Headers({ cookie }));
    expect(again.csrfToken()).toBe(before);
    again.regenerate();
    const after = again.csrfToken();
    expect(after).not.toBe(before);
    expect(after).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const protection = createCsrfProtection();
    expect(protection.check(again, post({ formToken: before }))).toMatchObject({ reason: "invalid-token" });
    expect(protection.check(again, post({ formToken: after }))).toEqual({ ok: true });
  });

  it("compares tokens with timingSafeEqual after a length check, never with ===", () => {
    const source = readFileSync(new URL("../../src/session/session.ts", import.meta.url), "utf8");
    const start = source.indexOf("verifyCsrfToken(candidate");
    const verify = source.slice(start, source.indexOf("\n  }\n", start));
    expect(verify).toContain("timingSafeEqual(");
    expect(verify).toMatch(/\.length === b\.length && timingSafeEqual/);
    expect(verify).not.toMatch(/candidate\s*===|===\s*candidate|expected\s*===\s*candidate/);
    const csrf = readFileSync(new URL("../../src/session/csrf.ts", import.meta.url), "utf8");
    expect(csrf).toContain("session.verifyCsrfToken(token)");
    expect(csrf).not.toMatch(/token ===(?! undefined| "")|=== token\b/);
  });
});

describe("csrfProtection() for Hono", () => {
  function app(options: Parameters<typeof csrfProtection>[0] = {}) {
    const hono = new Hono<{ Variables: SessionVariables }>();
    hono.use(sessions({ secret: SECRET }));
    hono.use(csrfProtection(options));
    hono.get("/form", (c) => c.json({ token: c.get("session").csrfToken() }));
    hono.post("/login", async (c) => {
      const body = await c.req.parseBody();
      c.get("session").regenerate();
      c.get("session").set("user", String(body.username));
      return c.text(`welcome ${String(body.username)}`);
    });
    hono.post("/api", async (c) => c.json(await c.req.json()));
    return hono;
  }

  async function formPage(hono: Hono<{ Variables: SessionVariables }>) {
    const response = await hono.request("http://localhost/form");
    const { token } = (await response.json()) as { token: string };
    return { token, cookie: response.headers.getSetCookie()[0]!.split(";", 1)[0]! };
  }

  it("accepts the form post that carries the token; the handler still reads the body", async () => {
    const hono = app();
    const { token, cookie } = await formPage(hono);
    const response = await hono.request("http://localhost/login", {
      method: "POST",
      headers: {
        cookie,
        origin: "http://localhost",
        "sec-fetch-site": "same-origin",
        "content-type": "application/x-www-form-urlencoded",
      },
      body: new URLSearchParams({ username: "leo", csrf_token: token }),
    });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("welcome leo");
  });

  it("accepts a multipart form and a JSON fetch with the header", async () => {
    const hono = app();
    const { token, cookie } = await formPage(hono);
    const form = new FormData();
    form.set("username", "ada");
    form.set("csrf_token", token);
    const multipart = await hono.request("http://localhost/login", {
      method: "POST",
      headers: { cookie },
      body: form,
    });
    expect(await multipart.text()).toBe("welcome ada");
    // That login regenerated the session (new token); a JSON client of another session:
    const api = await formPage(hono);
    const json = await hono.request("http://localhost/api", {
      method: "POST",
      headers: { cookie: api.cookie, "content-type": "application/json", "x-csrf-token": api.token },
      body: JSON.stringify({ a: 1 }),
    });
    expect(json.status, await json.clone().text()).toBe(200);
    expect(await json.json()).toEqual({ a: 1 });
  });

  it("answers a cross-site post with a 403 page that says why, and the handler never runs", async () => {
    const hono = app();
    const { token, cookie } = await formPage(hono);
    const response = await hono.request("http://localhost/login", {
      method: "POST",
      headers: {
        cookie,
        origin: "https://evil.example",
        "content-type": "application/x-www-form-urlencoded",
      },
      body: new URLSearchParams({ username: "mallory", csrf_token: token }),
    });
    expect(response.status).toBe(403);
    expect(response.headers.get("content-type")).toMatch(/^text\/html/);
    const page = await response.text();
    expect(page).toContain("403 Forbidden");
    expect(page).toContain("origin-mismatch");
    expect(page).not.toContain(token);
    expect(page).not.toContain("mallory");
  });

  it("answers 403 to a post without the token, and to a JSON post without the header", async () => {
    const hono = app();
    const { cookie } = await formPage(hono);
    const form = await hono.request("http://localhost/login", {
      method: "POST",
      headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ username: "leo" }),
    });
    expect(form.status).toBe(403);
    expect(await form.text()).toContain("missing-token");
    const json = await hono.request("http://localhost/api", {
      method: "POST",
      headers: { cookie, "content-type": "application/json" },
      body: JSON.stringify({ csrf_token: "x" }),
    });
    expect(json.status).toBe(403);
  });

  it("uses onError for a custom page", async () => {
    const hono = app({ onError: (error, c) => c.text(`nope: ${error.reason}`, 403) });
    const response = await hono.request("http://localhost/login", { method: "POST" });
    expect(response.status).toBe(403);
    expect(await response.text()).toBe("nope: missing-token");
  });

  it("throws a clear error when sessions() is missing", async () => {
    const hono = new Hono();
    hono.use(csrfProtection());
    hono.post("/", (c) => c.text("ok"));
    let caught: unknown;
    hono.onError((error, c) => {
      caught = error;
      return c.text("error", 500);
    });
    await hono.request("/", { method: "POST" });
    expect(String(caught)).toContain("needs the sessions() middleware");
  });

  it("a multipart or form body it cannot parse is a 403, never a 500, with or without a cookie", async () => {
    const hono = app();
    const { cookie } = await formPage(hono);
    const bodies: Array<[string, string]> = [
      ["multipart/form-data", "--x\r\ngarbage"],
      ["multipart/form-data; boundary=", "\u0000\u0001"],
      ["multipart/form-data; boundary=zz", "--zz\r\nContent-Disposition: form-data\r\n\r\ntruncated"],
      ["application/x-www-form-urlencoded", "%E0%A4%A=&&=%"],
    ];
    for (const [type, body] of bodies) {
      const variants: Array<Record<string, string>> = [
        { "content-type": type },
        { "content-type": type, cookie },
      ];
      for (const headers of variants) {
        const response = await hono.request("http://localhost/login", { method: "POST", headers, body });
        expect(response.status, `${type} ${JSON.stringify(body)}`).toBe(403);
      }
    }
  });

  it("a cross-site post is refused before its body is read", async () => {
    const hono = app();
    let bodyRead = false;
    const body = new ReadableStream(
      {
        pull(controller) {
          bodyRead = true;
          controller.enqueue(new TextEncoder().encode("username=mallory"));
          controller.close();
        },
        // Pulled only when someone reads it.
      },
      { highWaterMark: 0 },
    );
    const response = await hono.request("http://localhost/login", {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        origin: "https://evil.example",
        "sec-fetch-site": "cross-site",
      },
      body,
      duplex: "half",
    } as RequestInit);
    expect(response.status).toBe(403);
    expect(await response.text()).toContain("cross-site");
    expect(bodyRead).toBe(false);
  });
});
