/** Koa harness: the parity app on a real server on 127.0.0.1 (port 0), spoken to with fetch. */
import { once } from "node:events";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { bodyParser } from "@koa/bodyparser";
import Koa from "koa";
import { csrfProtection, sessions } from "../../../src/adapters/koa/index.js";
import type { Client, Harness, HarnessRequest, HarnessResponse } from "./routes.js";
import { routes } from "./routes.js";

export const koaHarness: Harness = {
  name: "koa",
  async start(core) {
    const app = new Koa();
    // X-Forwarded-Proto from the test client marks a request as HTTPS.
    app.proxy = true;
    app.silent = true; // the store-failure test's 503 is expected: keep the test output clean
    app.use(bodyParser());
    app.use(sessions(core));
    const protect = csrfProtection();
    app.use(async (ctx, next) => {
      const route = routes.find(
        (candidate) => candidate.method === ctx.method && candidate.path === ctx.path,
      );
      if (route === undefined) return next();
      const respond = async () => {
        const result = route.handle({
          session: ctx.session.untyped(),
          query: new URLSearchParams(ctx.querystring),
        });
        if ("redirect" in result) {
          ctx.status = 302;
          ctx.redirect(result.redirect);
        } else {
          ctx.status = result.status ?? 200;
          ctx.body = result.json;
        }
      };
      if (route.csrf) await protect(ctx, respond);
      else await respond();
    });

    const server: Server = app.listen(0, "127.0.0.1");
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
