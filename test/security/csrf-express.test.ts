/**
 * CSRF for Express (flagon/express + csrfProtection) on a real server on 127.0.0.1: what the
 * shared parity suite does not cover (Express wiring: body parser order, error handlers, Host).
 */
import { once } from "node:events";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import express, { type NextFunction, type Request, type Response } from "express";
import { afterEach, describe, expect, it } from "vitest";
import { csrfProtection, type ExpressCsrfOptions } from "../../src/adapters/express/csrf.js";
import { sessions } from "../../src/adapters/express/index.js";
import { CsrfError } from "../../src/errors.js";

const SECRET = "csrf-express-test-secret-0123456789abcdefgh";

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

async function start(configure: (app: express.Express) => void): Promise<string> {
  const app = express();
  configure(app);
  app.get("/form", (req, res) => {
    res.json({ token: req.session.csrfToken() });
  });
  app.post("/submit", (req, res) => {
    req.session.set("submitted", true);
    res.json({ ok: true, body: req.body ?? null });
  });
  const server = app.listen(0, "127.0.0.1");
  servers.push(server);
  await once(server, "listening");
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function standard(options?: ExpressCsrfOptions) {
  return (app: express.Express) => {
    app.use(express.urlencoded({ extended: false }), sessions({ secret: SECRET }), csrfProtection(options));
  };
}

async function formPage(base: string) {
  const response = await fetch(`${base}/form`);
  const { token } = (await response.json()) as { token: string };
  return { token, cookie: response.headers.getSetCookie()[0]!.split(";", 1)[0]! };
}

describe("csrfProtection() for Express", () => {
  it("accepts a same-origin form post (Origin with the server's host and port) and hands the body on", async () => {
    const base = await start(standard());
    const { token, cookie } = await formPage(base);
    const response = await fetch(`${base}/submit`, {
      method: "POST",
      headers: { cookie, origin: base, "sec-fetch-site": "same-origin" },
      body: new URLSearchParams({ csrf_token: token, username: "leo" }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true, body: { csrf_token: token, username: "leo" } });
  });

  it("refuses another port on the same host: a different origin", async () => {
    const base = await start(standard());
    const { token, cookie } = await formPage(base);
    const other = new URL(base);
    other.port = String(Number(other.port) === 65535 ? 1 : Number(other.port) + 1);
    const response = await fetch(`${base}/submit`, {
      method: "POST",
      headers: { cookie, origin: other.origin },
      body: new URLSearchParams({ csrf_token: token }),
    });
    expect(response.status).toBe(403);
    expect(await response.text()).toContain("origin-mismatch");
  });

  it("accepts the header for JSON clients", async () => {
    const base = await start((app) => {
      app.use(express.json(), sessions({ secret: SECRET }), csrfProtection());
    });
    const { token, cookie } = await formPage(base);
    const response = await fetch(`${base}/submit`, {
      method: "POST",
      headers: { cookie, "content-type": "application/json", "x-csrf-token": token },
      body: JSON.stringify({ a: 1 }),
    });
    expect(response.status).toBe(200);
  });

  it("refuses a form token when no body parser ran before it (req.body is undefined)", async () => {
    const base = await start((app) => {
      app.use(sessions({ secret: SECRET }), csrfProtection());
    });
    const { token, cookie } = await formPage(base);
    const response = await fetch(`${base}/submit`, {
      method: "POST",
      headers: { cookie },
      body: new URLSearchParams({ csrf_token: token }),
    });
    expect(response.status).toBe(403);
    expect(await response.text()).toContain("missing-token");
  });

  it("lets onError hand the refusal to Express's error handlers with status 403 and code ERR_CSRF", async () => {
    const seen: unknown[] = [];
    const base = await start((app) => {
      standard({ onError: (error, _req, _res, next) => next(error) })(app);
      app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
        seen.push(error);
        res.status((error as { status?: number }).status ?? 500).send("custom");
      });
    });
    const { cookie } = await formPage(base);
    const response = await fetch(`${base}/submit`, { method: "POST", headers: { cookie } });
    expect(response.status).toBe(403);
    expect(await response.text()).toBe("custom");
    expect(seen[0]).toBeInstanceOf(CsrfError);
    expect(seen[0]).toMatchObject({ code: "ERR_CSRF", reason: "missing-token", status: 403 });
  });

  it("trusts the proxy's host when `trust proxy` is set (X-Forwarded-Host)", async () => {
    const base = await start((app) => {
      app.set("trust proxy", "loopback");
      standard()(app);
    });
    const { token, cookie } = await formPage(base);
    const response = await fetch(`${base}/submit`, {
      method: "POST",
      headers: {
        cookie,
        origin: "https://app.example.com",
        "x-forwarded-host": "app.example.com",
      },
      body: new URLSearchParams({ csrf_token: token }),
    });
    expect(response.status).toBe(200);
  });

  it("fails loudly when sessions() is missing", async () => {
    const errors: unknown[] = [];
    const base = await start((app) => {
      app.use(express.urlencoded({ extended: false }), csrfProtection());
      app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
        errors.push(error);
        res.status(500).send("error");
      });
    });
    const response = await fetch(`${base}/submit`, { method: "POST" });
    expect(response.status).toBe(500);
    expect(String(errors[0])).toContain("needs the flagon/express sessions() middleware");
  });
});
