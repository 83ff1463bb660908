/** node:http harness: the parity app as one plain handler under withSessions(), on 127.0.0.1 (port 0). */
import { once } from "node:events";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { csrfProtection, type SessionRequest, withSessions } from "../../../src/adapters/node/index.js";
import type { Client, Harness, HarnessRequest, HarnessResponse, Route } from "./routes.js";
import { routes } from "./routes.js";

function respond(route: Route, req: SessionRequest, res: ServerResponse): void {
  const query = new URL(req.url ?? "/", "http://parity.invalid").searchParams;
  const result = route.handle({ session: req.session.untyped(), query });
  if ("redirect" in result) {
    res.writeHead(302, { Location: result.redirect }).end();
    return;
  }
  const body = JSON.stringify(result.json);
  res.writeHead(result.status ?? 200, { "Content-Type": "application/json; charset=utf-8" }).end(body);
}

export const nodeHarness: Harness = {
  name: "node",
  async start(core) {
    const handlers = new Map(
      routes.map((route) => [
        `${route.method} ${route.path}`,
        route.csrf
          ? csrfProtection({}, (req, res) => respond(route, req, res))
          : (req: SessionRequest, res: ServerResponse) => respond(route, req, res),
      ]),
    );
    const server = createServer(
      withSessions(
        core,
        // A TLS-terminating proxy in front (the test client) says HTTPS in X-Forwarded-Proto.
        { isSecure: (req) => req.headers["x-forwarded-proto"] === "https" },
        (req, res) => {
          const path = (req.url ?? "/").split("?", 1)[0];
          const handler = handlers.get(`${req.method} ${path}`);
          if (handler === undefined) {
            res.writeHead(404).end();
            return;
          }
          return handler(req, res);
        },
      ),
    );
    server.listen(0, "127.0.0.1");
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
