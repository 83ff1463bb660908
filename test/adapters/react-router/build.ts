/**
 * A React Router server build written by hand: the object `react-router build` emits (entry
 * module, route manifest, assets manifest), with route modules defined in the test. Requests go
 * through React Router's own `createRequestHandler`, its middleware runner, loaders, actions,
 * redirects and document rendering (react-dom/server).
 */
import { createElement } from "react";
import { renderToString } from "react-dom/server";
import { createRequestHandler, Outlet, type ServerBuild, ServerRouter } from "react-router";

type BuildRouteModule = NonNullable<ServerBuild["routes"][string]>["module"];
/** A route module; one without a default export (a component) is a resource route. */
export type ServerRouteModule = Omit<BuildRouteModule, "default"> & { default?: BuildRouteModule["default"] };

export interface RouteDefinition {
  id: string;
  path?: string;
  index?: boolean;
  module: ServerRouteModule;
}

const entryModule: ServerBuild["entry"]["module"] = {
  default(request, status, headers, context) {
    const html = renderToString(createElement(ServerRouter, { context, url: request.url }));
    headers.set("content-type", "text/html; charset=utf-8");
    return new Response(`<!DOCTYPE html>${html}`, { status, headers });
  },
};

/** A build whose root route runs `rootModule` (middleware) and renders an <Outlet />. */
export function serverBuild(rootModule: ServerRouteModule, children: RouteDefinition[]): ServerBuild {
  const root = {
    id: "root",
    path: "",
    module: { ...rootModule, default: rootModule.default ?? (() => createElement(Outlet)) },
  };
  const all = [root, ...children.map((child) => ({ ...child, parentId: "root" }))];
  const routes: ServerBuild["routes"] = {};
  const manifest: ServerBuild["assets"]["routes"] = {};
  for (const route of all) {
    const parentId = "parentId" in route ? route.parentId : undefined;
    routes[route.id] = {
      id: route.id,
      path: route.path,
      index: "index" in route ? route.index : undefined,
      parentId,
      module: route.module as BuildRouteModule,
    };
    manifest[route.id] = {
      id: route.id,
      path: route.path,
      index: "index" in route ? route.index : undefined,
      parentId,
      hasAction: route.module.action !== undefined,
      hasLoader: route.module.loader !== undefined,
      hasClientAction: false,
      hasClientLoader: false,
      hasClientMiddleware: false,
      hasErrorBoundary: route.module.ErrorBoundary !== undefined,
      module: `/assets/${route.id}.js`,
      clientActionModule: undefined,
      clientLoaderModule: undefined,
      clientMiddlewareModule: undefined,
      hydrateFallbackModule: undefined,
    };
  }
  return {
    entry: { module: entryModule },
    routes,
    assets: {
      entry: { imports: [], module: "/assets/entry.client.js" },
      routes: manifest,
      url: "/assets/manifest.js",
      version: "test",
    },
    publicPath: "/",
    assetsBuildDirectory: "build/client",
    future: { v8_middleware: true } as ServerBuild["future"],
    ssr: true,
    isSpaMode: false,
    prerender: [],
    routeDiscovery: { mode: "lazy", manifestPath: "/__manifest" },
  };
}

/** React Router's request handler over the build, in production mode. */
export function handlerFor(build: ServerBuild): (request: Request) => Promise<Response> {
  return createRequestHandler(build, "production");
}
