/**
 * The battery's app on each adapter: the parity suite's route table (test/adapters/parity/routes.ts)
 * plus the CSRF-protected route on PUT and DELETE, with each framework's usual body parsers in front
 * and a 16 KiB body limit, so that every content type reaches real parsing code.
 */
import { once } from "node:events";
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import formbody from "@fastify/formbody";
import { bodyParser } from "@koa/bodyparser";
import express, { type RequestHandler } from "express";
import Fastify from "fastify";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import Koa from "koa";
import { csrfProtection as expressCsrf } from "../../../src/adapters/express/csrf.js";
import { sessions as expressSessions, sessionErrorHandler } from "../../../src/adapters/express/index.js";
import {
  csrfPreHandler,
  sessionErrorHandler as fastifyErrorHandler,
  sessions as fastifySessions,
} from "../../../src/adapters/fastify/index.js";
import {
  csrfProtection as honoCsrf,
  sessions as honoSessions,
  type SessionVariables,
} from "../../../src/adapters/hono/index.js";
import { csrfProtection as koaCsrf, sessions as koaSessions } from "../../../src/adapters/koa/index.js";
import {
  csrfProtection as nodeCsrf,
  type SessionRequest,
  withSessions,
} from "../../../src/adapters/node/index.js";
import type { SessionData } from "../../../src/session/session.js";
import type { Sessions } from "../../../src/session/sessions.js";
import { routes as parityRoutes, type Route } from "../../adapters/parity/routes.js";
import { fetchTarget, injectTarget, listeningTarget, type Target } from "./transport.js";

/** What every adapter app refuses above (bodies beyond it are the "oversized" case). */
export const BODY_LIMIT = 16 * 1024;

type BatteryRoute = Omit<Route, "method"> & { method: string };

const submit = parityRoutes.find((route) => route.path === "/csrf/submit")!;
export const routes: readonly BatteryRoute[] = [
  ...parityRoutes,
  { ...submit, method: "PUT" },
  { ...submit, method: "DELETE" },
];

export const PATHS = [...new Set(routes.map((route) => route.path))];

async function listen(server: Server): Promise<Target> {
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return listeningTarget(server, (server.address() as AddressInfo).port);
}

function expressRoute(route: BatteryRoute): RequestHandler {
  return (req, res) => {
    const query = new URL(req.originalUrl, "http://battery.invalid").searchParams;
    const result = route.handle({ session: req.session.untyped(), query });
    if ("redirect" in result) res.redirect(302, result.redirect);
    else res.status(result.status ?? 200).json(result.json);
  };
}

async function expressApp(core: Sessions<SessionData>): Promise<Target> {
  const app = express();
  // "test": Express's final handler answers body-parser's 4xx without logging each one.
  app.set("env", "test");
  app.set("trust proxy", "loopback");
  const limit = BODY_LIMIT;
  app.use(express.urlencoded({ extended: false, limit }), express.json({ limit }), express.text({ limit }));
  app.use(expressSessions(core));
  for (const route of routes) {
    const chain = route.csrf ? [expressCsrf(), expressRoute(route)] : [expressRoute(route)];
    app[route.method.toLowerCase() as "get" | "post" | "put" | "delete"](route.path, ...chain);
  }
  app.use(sessionErrorHandler());
  return listen(createServer(app));
}

async function honoApp(core: Sessions<SessionData>): Promise<Target> {
  const app = new Hono<{ Variables: SessionVariables }>();
  app.use(honoSessions(core));
  app.use(bodyLimit({ maxSize: BODY_LIMIT }));
  for (const route of routes) {
    if (route.csrf) app.on(route.method, route.path, honoCsrf());
    app.on(route.method, route.path, (c) => {
      const result = route.handle({ session: c.get("session"), query: new URL(c.req.url).searchParams });
      if ("redirect" in result) return c.redirect(result.redirect, 302);
      return c.json(result.json, (result.status ?? 200) as 200);
    });
  }
  return fetchTarget((request) => app.request(request));
}

async function fastifyApp(core: Sessions<SessionData>): Promise<Target> {
  const app = Fastify({ trustProxy: "127.0.0.1", bodyLimit: BODY_LIMIT });
  await app.register(formbody);
  await app.register(fastifySessions, core);
  app.setErrorHandler(fastifyErrorHandler());
  for (const route of routes) {
    app.route({
      method: route.method as "GET",
      url: route.path,
      preHandler: route.csrf ? csrfPreHandler() : undefined,
      handler: async (request, reply) => {
        const query = new URL(request.url, "http://battery.invalid").searchParams;
        const result = route.handle({ session: request.session.untyped(), query });
        if ("redirect" in result) return reply.redirect(result.redirect, 302);
        return reply.code(result.status ?? 200).send(result.json);
      },
    });
  }
  await app.ready();
  return injectTarget(
    (options) => app.inject(options),
    () => app.close(),
  );
}

async function koaApp(core: Sessions<SessionData>): Promise<Target> {
  const app = new Koa();
  app.proxy = true;
  app.silent = true;
  const limit = `${BODY_LIMIT}b`;
  app.use(
    bodyParser({
      enableTypes: ["json", "form", "text"],
      jsonLimit: limit,
      formLimit: limit,
      textLimit: limit,
    }),
  );
  app.use(koaSessions(core));
  const protect = koaCsrf();
  app.use(async (ctx, next) => {
    const route = routes.find((candidate) => candidate.method === ctx.method && candidate.path === ctx.path);
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
  return listen(createServer(app.callback()));
}

function nodeRespond(route: BatteryRoute, req: SessionRequest, res: ServerResponse): void {
  const query = new URL(req.url ?? "/", "http://battery.invalid").searchParams;
  const result = route.handle({ session: req.session.untyped(), query });
  if ("redirect" in result) {
    res.writeHead(302, { Location: result.redirect }).end();
    return;
  }
  res
    .writeHead(result.status ?? 200, { "Content-Type": "application/json; charset=utf-8" })
    .end(JSON.stringify(result.json));
}

async function nodeApp(core: Sessions<SessionData>): Promise<Target> {
  const handlers = new Map(
    routes.map((route) => [
      `${route.method} ${route.path}`,
      route.csrf
        ? nodeCsrf({ maxBodyBytes: BODY_LIMIT }, (req, res) => nodeRespond(route, req, res))
        : (req: SessionRequest, res: ServerResponse) => nodeRespond(route, req, res),
    ]),
  );
  const server = createServer(
    withSessions(core, { isSecure: (req) => req.headers["x-forwarded-proto"] === "https" }, (req, res) => {
      const handler = handlers.get(`${req.method} ${(req.url ?? "/").split("?", 1)[0]}`);
      if (handler === undefined) {
        res.writeHead(404).end();
        return;
      }
      return handler(req, res);
    }),
  );
  return listen(server);
}

export const adapters: Record<string, (core: Sessions<SessionData>) => Promise<Target>> = {
  express: expressApp,
  hono: honoApp,
  fastify: fastifyApp,
  koa: koaApp,
  node: nodeApp,
};
