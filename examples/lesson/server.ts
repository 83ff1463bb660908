/**
 * `npm start`: the lesson app on http://127.0.0.1:3000.
 * Settings (environment): SECRET_KEY, SESSION_STORE (sqlite | memory | cookie | redis | flask),
 * REDIS_URL, DATA_DIR, PORT, HOST, TRUST_PROXY, NODE_ENV=production.
 */
import type { AddressInfo } from "node:net";
import { FlagonError } from "flagon";
import { createApp } from "./app.js";
import { type LessonConfig, loadConfig, type OpenedStore, openStore, secretLine } from "./config.js";

async function main(): Promise<void> {
  let config: LessonConfig;
  let opened: OpenedStore;
  let app: ReturnType<typeof createApp>;
  try {
    config = loadConfig(process.env);
    opened = await openStore(config);
    app = createApp({
      secret: config.secret,
      store: opened.store,
      storeDescription: opened.description,
      production: config.production,
      trustProxy: config.trustProxy,
    });
  } catch (error) {
    if (error instanceof FlagonError) {
      console.error(`Cannot start: ${error.message} (${error.code})`);
      process.exit(1);
    }
    throw error;
  }

  const server = app.listen(config.port, config.host);
  server.once("error", (error) => {
    console.error(`Cannot listen on ${config.host}:${config.port}: ${error.message}`);
    process.exit(1);
  });
  server.once("listening", () => {
    const { port } = server.address() as AddressInfo;
    const host = config.host.includes(":") ? `[${config.host}]` : config.host;
    console.log(secretLine(config));
    console.log(`Sessions: kept ${opened.description}.`);
    if (!config.production) console.log("Development mode (set NODE_ENV=production for cached templates).");
    console.log(`Lesson 6 app listening on http://${host}:${port}`);
  });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: closing…`);
    // Finish in-flight requests, then release the store; give up on stuck connections after 5 s.
    const force = setTimeout(() => server.closeAllConnections(), 5000);
    force.unref();
    server.close(() => {
      opened
        .close()
        .catch((error: unknown) => console.error(`Closing the session store failed: ${String(error)}`))
        .finally(() => process.exit(0));
    });
    server.closeIdleConnections();
  };
  process.once("SIGINT", () => stop("SIGINT"));
  process.once("SIGTERM", () => stop("SIGTERM"));
}

await main();
