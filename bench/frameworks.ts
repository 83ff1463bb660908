/**
 * `npm run bench:frameworks [-- --quick]`
 *
 * What flagon costs over the framework's own baseline, for the Fetch-framework adapters:
 * - React Router 7, in-process through `createRequestHandler`: a resource route that reads the session
 *   through `storage.middleware`, through the SessionStorage API (`getSession` + `commitSession`), and the
 *   same route without sessions. Sequential requests, 1000 distinct sealed cookies.
 * - SvelteKit, the adapter-node build of test/fixtures/sveltekit-app run as its own process, with and
 *   without the `handle` hook (FLAGON_SVELTEKIT_BASELINE=1): autocannon on GET /bench over 1000 distinct
 *   sessions, and cold start (spawn to first answer).
 * Single figures move a lot on a shared 2-core machine: compare the with/without pairs of one run.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import autocannon from "autocannon";
import { flagonSessionStorage } from "../src/adapters/react-router/index.js";
import { cookieStore } from "../src/index.js";
import { handlerFor, serverBuild } from "../test/adapters/react-router/build.js";
import { svelteKitBuild } from "../test/helpers/sveltekit-build.js";

const quick = process.argv.includes("--quick");
const SECRET = "bench-secret-0123456789abcdefghijklmnopqrstuvwxyz";
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function reactRouter(): Promise<void> {
  const storage = flagonSessionStorage({ secret: SECRET, store: cookieStore() });
  const cookies: string[] = [];
  for (let i = 0; i < 1000; i++) {
    const session = await storage.getSession();
    session.set("name", `user-${i}`);
    cookies.push((await storage.commitSession(session)).split(";", 1)[0]!);
  }
  const json = (value: unknown) => Response.json(value);
  const apps = {
    baseline: handlerFor(
      serverBuild({}, [{ id: "r", path: "read", module: { loader: () => json({ name: null }) } }]),
    ),
    middleware: handlerFor(
      serverBuild({ middleware: [storage.middleware] }, [
        {
          id: "r",
          path: "read",
          module: { loader: ({ context }) => json({ name: storage.sessionOf(context).get("name") }) },
        },
      ]),
    ),
    storageApi: handlerFor(
      serverBuild({}, [
        {
          id: "r",
          path: "read",
          module: {
            async loader({ request }) {
              const session = await storage.getSession(request.headers.get("Cookie"));
              const name = session.get("name");
              const setCookie = await storage.commitSession(session);
              return Response.json({ name }, { headers: setCookie ? { "Set-Cookie": setCookie } : {} });
            },
          },
        },
      ]),
    ),
  };
  const requests = quick ? 2000 : 6000;
  const rounds = quick ? 3 : 5;
  const results: Record<string, number[]> = { baseline: [], middleware: [], storageApi: [] };
  for (let round = 0; round < rounds; round++) {
    for (const [name, handle] of Object.entries(apps)) {
      const started = process.hrtime.bigint();
      for (let i = 0; i < requests; i++) {
        const response = await handle(
          new Request("http://localhost/read", { headers: { cookie: cookies[i % cookies.length]! } }),
        );
        await response.arrayBuffer();
      }
      results[name]!.push(Number(process.hrtime.bigint() - started) / 1000 / requests);
    }
  }
  const base = median(results.baseline!);
  console.log("React Router 7.18, createRequestHandler in-process, µs per request (median of rounds):");
  for (const [name, values] of Object.entries(results)) {
    const value = median(values);
    console.log(
      `  ${name.padEnd(11)} ${value.toFixed(1).padStart(7)} µs${name === "baseline" ? "" : `  (+${(value - base).toFixed(1)} µs)`}   rounds: ${values.map((v) => v.toFixed(0)).join(" ")}`,
    );
  }
}

function startKit(build: string, port: number, baseline: boolean): { child: ChildProcess; started: bigint } {
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, [join(build, "index.js")], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: "127.0.0.1",
      ORIGIN: `http://127.0.0.1:${port}`,
      FLAGON_SVELTEKIT_BASELINE: baseline ? "1" : "0",
      NODE_ENV: "production",
    },
    stdio: "ignore",
  });
  return { child, started };
}

async function firstAnswer(url: string, started: bigint): Promise<number> {
  for (;;) {
    try {
      const response = await fetch(url);
      await response.arrayBuffer();
      return Number(process.hrtime.bigint() - started) / 1e6;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }
}

async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill();
  await exited;
}

async function svelteKit(): Promise<void> {
  const build = await svelteKitBuild();
  const port = 40_000 + Math.floor(Math.random() * 10_000);
  const base = `http://127.0.0.1:${port}`;
  const cold: Record<string, number[]> = { baseline: [], flagon: [] };
  const rps: Record<string, number[]> = { baseline: [], flagon: [] };
  const rounds = quick ? 2 : 5;
  for (let round = 0; round < rounds; round++) {
    for (const mode of ["baseline", "flagon"] as const) {
      const { child, started } = startKit(build, port, mode === "baseline");
      try {
        cold[mode]!.push(await firstAnswer(`${base}/bench`, started));
        // 1000 distinct sessions in the server's memory store (the baseline ignores the cookies).
        const cookies: string[] = [];
        for (let i = 0; i < 1000; i++) {
          const response = await fetch(`${base}/parity/set?value=user-${i}`);
          await response.arrayBuffer();
          cookies.push(response.headers.getSetCookie()[0]?.split(";", 1)[0] ?? "");
        }
        let next = 0;
        const result = await autocannon({
          url: `${base}/bench`,
          connections: 10,
          duration: quick ? 3 : 4,
          requests: [
            {
              setupRequest: (request) => ({
                ...request,
                headers: { ...request.headers, cookie: cookies[next++ % cookies.length]! },
              }),
            },
          ],
        });
        if (result.non2xx > 0 || result.errors > 0)
          throw new Error(`${mode}: ${result.non2xx} non-2xx, ${result.errors} errors`);
        rps[mode]!.push(result.requests.average);
      } finally {
        await stop(child);
      }
    }
  }
  const [b, f] = [median(rps.baseline!), median(rps.flagon!)];
  console.log("SvelteKit 2.70 + adapter-node, GET /bench over 1000 sessions (autocannon, 10 connections):");
  console.log(
    `  baseline  ${b.toFixed(0).padStart(6)} req/s  ${(1e6 / b).toFixed(0)} µs/req   cold start ${median(cold.baseline!).toFixed(0)} ms`,
  );
  console.log(
    `  flagon    ${f.toFixed(0).padStart(6)} req/s  ${(1e6 / f).toFixed(0)} µs/req   cold start ${median(cold.flagon!).toFixed(0)} ms`,
  );
  console.log(
    `  req/s by round, baseline: ${rps.baseline!.map((v) => v.toFixed(0)).join(" ")}; flagon: ${rps.flagon!.map((v) => v.toFixed(0)).join(" ")}`,
  );
  console.log(
    `  hook cost +${(1e6 / f - 1e6 / b).toFixed(0)} µs per request (${((1 - f / b) * 100).toFixed(0)} % of throughput)`,
  );
}

/**
 * The same build served in this process, the hook switched on and off between blocks of sequential
 * requests (the app's hook reads FLAGON_SVELTEKIT_BASELINE per request), the order alternating per
 * round: both modes see the same machine load, which the two-process autocannon run cannot promise.
 */
async function svelteKitInProcess(): Promise<void> {
  const build = await svelteKitBuild();
  process.env.PROTOCOL_HEADER = "x-forwarded-proto"; // read when handler.js loads
  const { handler } = (await import(pathToFileURL(join(build, "handler.js")).href)) as {
    handler: (req: IncomingMessage, res: ServerResponse) => void;
  };
  const server = createServer((req, res) => handler(req, res));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const cookies: string[] = [];
  for (let i = 0; i < 1000; i++) {
    const response = await fetch(`${base}/parity/set?value=user-${i}`, {
      headers: { "x-forwarded-proto": "http" },
    });
    await response.arrayBuffer();
    cookies.push(response.headers.getSetCookie()[0]?.split(";", 1)[0] ?? "");
  }
  const results: Record<string, number[]> = { baseline: [], flagon: [] };
  const requests = quick ? 500 : 1500;
  for (let round = 0; round < (quick ? 4 : 8); round++) {
    const order = round % 2 === 0 ? (["baseline", "flagon"] as const) : (["flagon", "baseline"] as const);
    for (const mode of order) {
      process.env.FLAGON_SVELTEKIT_BASELINE = mode === "baseline" ? "1" : "0";
      const started = process.hrtime.bigint();
      for (let i = 0; i < requests; i++) {
        const response = await fetch(`${base}/bench`, {
          headers: { cookie: cookies[i % cookies.length]!, "x-forwarded-proto": "http" },
        });
        if (mode === "flagon" && i === 0 && !(await response.clone().text()).includes("user-"))
          throw new Error("the hook did not read the session");
        await response.arrayBuffer();
      }
      results[mode]!.push(Number(process.hrtime.bigint() - started) / 1000 / requests);
    }
  }
  server.closeAllConnections();
  server.close();
  const [b, f] = [median(results.baseline!), median(results.flagon!)];
  console.log(
    "SvelteKit, the same build in-process, hook on/off alternating, sequential fetch, µs per request:",
  );
  console.log(
    `  baseline ${b.toFixed(0)} µs  rounds: ${results.baseline!.map((v) => v.toFixed(0)).join(" ")}`,
  );
  console.log(
    `  flagon   ${f.toFixed(0)} µs  rounds: ${results.flagon!.map((v) => v.toFixed(0)).join(" ")}  (+${(f - b).toFixed(0)} µs)`,
  );
}

const only = process.argv.find((arg) => arg.startsWith("--only="))?.slice("--only=".length);
if (only === undefined || only === "react-router") await reactRouter();
if (only === undefined || only === "sveltekit") await svelteKit();
if (only === undefined || only === "sveltekit-inprocess") await svelteKitInProcess();
