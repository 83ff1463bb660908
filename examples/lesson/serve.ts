import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { FlagonError } from "flagon";
import { type LessonConfig, loadConfig, type OpenedStore, openStore, secretLine } from "./config.js";

/**
 * Start-up and shutdown shared by the Express and Hono lesson servers: read the settings, open the
 * store, listen, say where the secret and the sessions are, and close cleanly on SIGINT/SIGTERM.
 */
export async function serveLesson(
  title: string,
  listen: (config: LessonConfig, opened: OpenedStore) => Server,
): Promise<void> {
  let config: LessonConfig;
  let opened: OpenedStore;
  let server: Server;
  try {
    config = loadConfig(process.env);
    opened = await openStore(config);
    server = listen(config, opened);
  } catch (error) {
    if (error instanceof FlagonError) {
      console.error(`Cannot start: ${error.message} (${error.code})`);
      process.exit(1);
    }
    throw error;
  }

  server.once("error", (error: Error) => {
    console.error(`Cannot listen on ${config.host}:${config.port}: ${error.message}`);
    process.exit(1);
  });
  server.once("listening", () => {
    const { port } = server.address() as AddressInfo;
    const host = config.host.includes(":") ? `[${config.host}]` : config.host;
    console.log(secretLine(config));
    console.log(`Sessions: kept ${opened.description}.`);
    if (!config.production) console.log("Development mode (set NODE_ENV=production for cached templates).");
    console.log(`${title} listening on http://${host}:${port}`);
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
