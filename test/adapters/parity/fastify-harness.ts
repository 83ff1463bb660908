/** Fastify harness: the parity app answered in-process by `fastify.inject()`. */
import formbody from "@fastify/formbody";
import Fastify from "fastify";
import { csrfPreHandler, sessionErrorHandler, sessions } from "../../../src/adapters/fastify/index.js";
import type { Client, Harness, HarnessRequest, HarnessResponse } from "./routes.js";
import { routes } from "./routes.js";

export const fastifyHarness: Harness = {
  name: "fastify",
  async start(core) {
    // X-Forwarded-Proto from the injected requests (loopback) marks a request as HTTPS.
    const app = Fastify({ trustProxy: "127.0.0.1" });
    await app.register(formbody);
    await app.register(sessions, core);
    app.setErrorHandler(sessionErrorHandler());
    for (const route of routes) {
      app.route({
        method: route.method,
        url: route.path,
        preHandler: route.csrf ? csrfPreHandler() : undefined,
        handler: async (request, reply) => {
          const query = new URL(request.url, "http://parity.invalid").searchParams;
          const result = route.handle({ session: request.session.untyped(), query });
          if ("redirect" in result) return reply.redirect(result.redirect, 302);
          return reply.code(result.status ?? 200).send(result.json);
        },
      });
    }
    await app.ready();

    const client: Client = {
      origin: "http://localhost",
      async request(path: string, init: HarnessRequest = {}): Promise<HarnessResponse> {
        // inject() would send "Host: localhost:80"; a browser omits the default port.
        const headers: Record<string, string> = { host: "localhost", ...init.headers };
        if (init.cookie !== undefined) headers.cookie = init.cookie;
        if (init.secure) headers["x-forwarded-proto"] = "https";
        const body = init.form === undefined ? undefined : new URLSearchParams(init.form).toString();
        if (body !== undefined) headers["content-type"] = "application/x-www-form-urlencoded";
        const response = await app.inject({ method: init.method ?? "GET", url: path, headers, body });
        const responseHeaders = new Headers();
        for (const [name, value] of Object.entries(response.headers)) {
          if (value === undefined) continue;
          for (const item of Array.isArray(value) ? value : [value])
            responseHeaders.append(name, String(item));
        }
        return {
          status: response.statusCode,
          headers: responseHeaders,
          setCookies: responseHeaders.getSetCookie(),
          body: response.body,
        };
      },
      close: () => app.close(),
    };
    return client;
  },
};
