/**
 * SvelteKit harness: test/fixtures/sveltekit-app built with adapter-node, its `handler.js` served by
 * node:http on 127.0.0.1 in this process, the parity routes mounted under /parity by a catch-all
 * endpoint. The app's hook (`sequence(sessions(core), csrfProtection())`) uses the core each test
 * hands over (globalThis[Symbol.for("flagon.test.sveltekit.core")]), so the suite can inspect its store.
 */
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Sessions } from "../../../src/session/sessions.js";
import { svelteKitBuild } from "../../helpers/sveltekit-build.js";
import type { Client, Harness, HarnessRequest, HarnessResponse } from "./routes.js";

const TEST_CORE = Symbol.for("flagon.test.sveltekit.core");

type NodeHandler = (req: IncomingMessage, res: ServerResponse, next?: () => void) => void;

let running: Promise<{ origin: string; server: Server }> | undefined;

/** The built app on 127.0.0.1 (started once per test file). */
export function svelteKitServer(): Promise<{ origin: string; server: Server }> {
  running ??= (async () => {
    const build = await svelteKitBuild();
    // adapter-node reads these when handler.js loads: the scheme comes from X-Forwarded-Proto, as
    // behind a TLS-terminating proxy (without it, adapter-node assumes https).
    process.env.PROTOCOL_HEADER = "x-forwarded-proto";
    const { handler } = (await import(pathToFileURL(join(build, "handler.js")).href)) as {
      handler: NodeHandler;
    };
    const server = createServer((req, res) =>
      handler(req, res, () => {
        res.statusCode = 404;
        res.end("not found");
      }),
    );
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
  })();
  return running;
}

/** Makes the app's hook use `core` (or, with `undefined`, its own memory-store core). */
export function installCore(core: Sessions | undefined): void {
  (globalThis as Record<symbol, unknown>)[TEST_CORE] = core;
}

/** One request to the app, as the parity suite describes it (cookies by hand, no redirects followed). */
export async function svelteKitRequest(origin: string, path: string, init: HarnessRequest = {}) {
  const headers = new Headers(init.headers);
  if (init.cookie !== undefined) headers.set("cookie", init.cookie);
  headers.set("x-forwarded-proto", init.secure ? "https" : "http");
  const response = await fetch(origin + path, {
    method: init.method ?? "GET",
    headers,
    body: init.form === undefined ? undefined : new URLSearchParams(init.form),
    redirect: "manual",
  });
  return {
    status: response.status,
    headers: response.headers,
    setCookies: response.headers.getSetCookie(),
    body: await response.text(),
  } satisfies HarnessResponse;
}

export const svelteKitHarness: Harness = {
  name: "sveltekit",
  async start(core) {
    const { origin } = await svelteKitServer();
    installCore(core as Sessions);
    const client: Client = {
      origin,
      request: (path, init) => svelteKitRequest(origin, `/parity${path}`, init),
      close: async () => installCore(undefined),
    };
    return client;
  },
};
