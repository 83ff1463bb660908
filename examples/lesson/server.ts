/**
 * `npm start`: the lesson app on http://127.0.0.1:3000.
 * Settings (environment): SECRET_KEY, SESSION_STORE (sqlite | memory | cookie | redis | postgres | flask),
 * REDIS_URL, DATABASE_URL (postgres; default postgres://postgres@127.0.0.1:5432/test), DATA_DIR, PORT, HOST, TRUST_PROXY, SESSION_LIFETIME, SESSION_IDLE_TIMEOUT,
 * NODE_ENV=production.
 */
import { createApp } from "./app.js";
import { serveLesson } from "./serve.js";

await serveLesson("Lesson 6 app", (config, opened) =>
  createApp({
    secret: config.secret,
    store: opened.store,
    storeDescription: opened.description,
    production: config.production,
    sessionOptions: { permanentLifetime: config.sessionLifetime, idleTimeout: config.idleTimeout },
    trustProxy: config.trustProxy,
  }).listen(config.port, config.host),
);
