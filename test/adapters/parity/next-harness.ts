/**
 * Next harness: the parity app as App Router Route Handlers (`route()` from flagon/next), called
 * the way Next calls them: a `NextRequest` in, the handler's `Response` out.
 */
import { NextRequest } from "next/server.js";
import { csrfProtection, nextSessions } from "../../../src/adapters/next/index.js";
import type { Client, Harness, HarnessRequest, HarnessResponse } from "./routes.js";
import { routes } from "./routes.js";

export const nextHarness: Harness = {
  name: "next",
  async start(core) {
    const { route } = nextSessions(core);
    const handlers = new Map<string, (request: NextRequest) => Promise<Response>>();
    for (const entry of routes) {
      const handle = (request: NextRequest, session: Parameters<typeof entry.handle>[0]["session"]) => {
        const result = entry.handle({ session, query: request.nextUrl.searchParams });
        if ("redirect" in result) {
          return new Response(null, { status: 302, headers: { location: result.redirect } });
        }
        return Response.json(result.json, { status: result.status ?? 200 });
      };
      const handler = route(entry.csrf ? csrfProtection(handle) : handle);
      handlers.set(`${entry.method} ${entry.path}`, (request) =>
        handler(request, { params: Promise.resolve({}) }),
      );
    }

    const client: Client = {
      origin: "http://localhost",
      async request(path: string, init: HarnessRequest = {}): Promise<HarnessResponse> {
        const headers = new Headers(init.headers);
        if (init.cookie !== undefined) headers.set("cookie", init.cookie);
        const base = init.secure ? "https://localhost" : "http://localhost";
        const method = init.method ?? "GET";
        const request = new NextRequest(base + path, {
          method,
          headers,
          body: init.form === undefined ? undefined : new URLSearchParams(init.form),
        });
        const handler = handlers.get(`${method} ${request.nextUrl.pathname}`);
        const response =
          handler === undefined ? new Response("Not Found", { status: 404 }) : await handler(request);
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
