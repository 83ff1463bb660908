/** Hono harness: the parity app answered in-process by `app.request()`. */
import { Hono } from "hono";
import { csrfProtection, type SessionVariables, sessions } from "../../../src/adapters/hono/index.js";
import type { Client, Harness, HarnessRequest, HarnessResponse } from "./routes.js";
import { routes } from "./routes.js";

export const honoHarness: Harness = {
  name: "hono",
  async start(core) {
    const app = new Hono<{ Variables: SessionVariables }>();
    app.use(sessions(core));
    for (const route of routes) {
      if (route.csrf) app.use(route.path, csrfProtection());
      app.on(route.method, route.path, (c) => {
        const query = new URL(c.req.url).searchParams;
        const result = route.handle({ session: c.get("session"), query });
        if ("redirect" in result) return c.redirect(result.redirect, 302);
        return c.json(result.json, (result.status ?? 200) as 200);
      });
    }

    const client: Client = {
      origin: "http://localhost",
      async request(path: string, init: HarnessRequest = {}): Promise<HarnessResponse> {
        const headers = new Headers(init.headers);
        if (init.cookie !== undefined) headers.set("cookie", init.cookie);
        const base = init.secure ? "https://localhost" : "http://localhost";
        const response = await app.request(base + path, {
          method: init.method ?? "GET",
          headers,
          body: init.form === undefined ? undefined : new URLSearchParams(init.form),
        });
        return {
          status: response.status,
          headers: response.headers,
          setCookies: response.headers.getSetCookie(),
          body: await response.text(),
        };
      },
      close: async () => {},
    };
    return client;
  },
};
