/**
 * React Router harness: the parity app as resource routes (loaders for GET, actions for POST)
 * under a root route whose middleware is flagon's, answered by React Router's own
 * `createRequestHandler` in-process.
 */
import { redirect } from "react-router";
import { csrfProtection, flagonSessionStorage } from "../../../src/adapters/react-router/index.js";
import { handlerFor, type RouteDefinition, serverBuild } from "../react-router/build.js";
import type { Client, Harness, HarnessRequest, HarnessResponse, Route } from "./routes.js";
import { routes } from "./routes.js";

export const reactRouterHarness: Harness = {
  name: "react-router",
  async start(core) {
    const storage = flagonSessionStorage(core);
    const answer =
      (route: Route) => (args: { request: Request; context: Parameters<typeof storage.sessionOf>[0] }) => {
        const query = new URL(args.request.url).searchParams;
        const result = route.handle({ session: storage.sessionOf(args.context), query });
        if ("redirect" in result) return redirect(result.redirect, 302);
        return Response.json(result.json, { status: result.status ?? 200 });
      };
    const children: RouteDefinition[] = routes.map((route) => ({
      id: `routes${route.path.replaceAll("/", ".")}`,
      path: route.path.slice(1),
      module:
        route.method === "GET"
          ? { loader: answer(route) }
          : { action: answer(route), middleware: route.csrf ? [csrfProtection(storage)] : [] },
    }));
    const handle = handlerFor(serverBuild({ middleware: [storage.middleware] }, children));

    const client: Client = {
      origin: "http://localhost",
      async request(path: string, init: HarnessRequest = {}): Promise<HarnessResponse> {
        const headers = new Headers(init.headers);
        if (init.cookie !== undefined) headers.set("cookie", init.cookie);
        const base = init.secure ? "https://localhost" : "http://localhost";
        const response = await handle(
          new Request(base + path, {
            method: init.method ?? "GET",
            headers,
            body: init.form === undefined ? undefined : new URLSearchParams(init.form),
          }),
        );
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
