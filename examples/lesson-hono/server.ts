/**
 * The Hono lesson app on http://127.0.0.1:3000:
 * `node --conditions=flagon-source --import tsx examples/lesson-hono/server.ts`.
 * Same settings as the Express app (examples/lesson/config.ts): SECRET_KEY, SESSION_STORE
 * (sqlite | memory | cookie | redis | postgres | flask), REDIS_URL, DATABASE_URL (postgres; default postgres://postgres@127.0.0.1:5432/test), DATA_DIR, PORT, HOST, TRUST_PROXY
 * (as Express's `trust proxy`: true, a hop count, or addresses/subnets), SESSION_LIFETIME, SESSION_IDLE_TIMEOUT, NODE_ENV=production.
 */
import type { Server } from "node:http";
import { serve } from "@hono/node-server";
import { serveLesson } from "../lesson/serve.js";
import { createApp } from "./app.js";

await serveLesson("Lesson 6 app (Hono)", (config, opened) => {
  const app = createApp({
    secret: config.secret,
    store: opened.store,
    storeDescription: opened.description,
    production: config.production,
    sessionOptions: { permanentLifetime: config.sessionLifetime, idleTimeout: config.idleTimeout },
    trustProxy: config.trustProxy,
  });
  // @hono/node-server listens with node:http by default.
  return serve({ fetch: app.fetch, port: config.port, hostname: config.host }) as Server;
});
