/** Express harness: the parity app on a real server on 127.0.0.1 (port 0), spoken to with fetch. */
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import express, { type RequestHandler } from "express";
import { csrfProtection } from "../../../src/adapters/express/csrf.js";
import { sessionErrorHandler, sessions } from "../../../src/adapters/express/index.js";
import type { Client, Harness, HarnessRequest, HarnessResponse, Route } from "./routes.js";
import { routes } from "./routes.js";

function handler(route: Route): RequestHandler {
  return (req, res) => {
    const query = new URL(req.originalUrl, "http://parity.invalid").searchParams;
    const result = route.handle({ session: req.session.untyped(), query });
    if ("redirect" in result) res.redirect(302, result.redirect);
    else res.status(result.status ?? 200).json(result.json);
  };
}

export const expressHarness: Harness = {
  name: "express",
  async start(core) {
    const app = express();
    // X-Forwarded-Proto from the test client (loopback) marks a request as HTTPS.
    app.set("trust proxy", "loopback");
    app.use(express.urlencoded({ extended: false }));
    app.use(sessions(core));
    for (const route of routes) {
      const chain = route.csrf ? [csrfProtection(), handler(route)] : [handler(route)];
      if (route.method === "GET") app.get(route.path, ...chain);
      else app.post(route.path, ...chain);
    }
    app.use(sessionErrorHandler());

    const server = app.listen(0, "127.0.0.1");
    await once(server, "listening");
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const client: Client = {
      origin,
      async request(path: string, init: HarnessRequest = {}): Promise<HarnessResponse> {
        const headers = new Headers(init.headers);
        if (init.cookie !== undefined) headers.set("cookie", init.cookie);
        if (init.secure) headers.set("x-forwarded-proto", "https");
        const response = await fetch(origin + path, {
          method: init.method ?? "GET",
          headers,
          body: init.form === undefined ? undefined : new URLSearchParams(init.form),
          redirect: "manual",
        });
        return {
          status: response.status,
          headers: response.headers,
          setCookies: response.headers.getSetCookie(),
          body: await response.text(),
        };
      },
      close: () =>
        new Promise<void>((resolve, reject) => {
          server.closeAllConnections();
          server.close((error) => (error ? reject(error) : resolve()));
        }),
    };
    return client;
  },
};
