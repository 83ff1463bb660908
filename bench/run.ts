/**
 * `npm run bench [-- --quick] [-- --only a,b] [-- --rounds N] [-- --duration S]`
 *
 * flagon against the session libraries users would otherwise install, on the lesson's routes.
 * Each server runs in its own process (NODE_ENV=production); load comes from this process with
 * autocannon, to 127.0.0.1 only, for a bounded time, after a warm-up; rounds alternate the server
 * order so drift hits all alike. Results: bench/results/latest.{json,md}.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { build } from "esbuild";

const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    only: { type: "string" },
    rounds: { type: "string" },
    duration: { type: "string" },
    connections: { type: "string", default: "32" },
  },
});

const ALL_SERVERS = [
  "express-bare",
  "flagon-express-cookie",
  "flagon-express-memory",
  "flagon-express-sqlite",
  "flagon-express-redis",
  "express-session",
  "express-session-redis",
  "cookie-session",
  "iron-session",
  "hono-bare",
  "flagon-hono-cookie",
  "flagon-hono-memory",
] as const;
const SCENARIOS = ["read", "write", "login"] as const;
type Scenario = (typeof SCENARIOS)[number];

const quick = args.quick;
const servers = args.only ? args.only.split(",") : [...ALL_SERVERS];
const rounds = Number(args.rounds ?? (quick ? 1 : 3));
const duration = Number(args.duration ?? (quick ? 1 : 4));
const warmup = quick ? 0.3 : 1.5;
const connections = Number(args.connections);
const root = fileURLToPath(new URL("..", import.meta.url));
const sqliteDir = "/tmp/flagon-bench";

interface Running {
  name: string;
  child: ChildProcess;
  port: number;
  cookie?: string;
}

const serversScript = fileURLToPath(new URL("./.build/servers.mjs", import.meta.url));

/**
 * Servers run compiled code, as users deploy it: flagon from dist/ (tsc), the server script through
 * esbuild without keepNames. Running the sources through tsx would bill flagon for tsx's per-call
 * `__name` helper (an Object.defineProperty per nested function), which no competitor pays.
 */
async function compile(): Promise<void> {
  execFileSync("npx", ["tsc", "-p", "tsconfig.build.json"], { cwd: root, stdio: "inherit" });
  await build({
    entryPoints: [fileURLToPath(new URL("./servers.ts", import.meta.url))],
    outfile: serversScript,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    bundle: true,
    logLevel: "warning",
  });
}

function startServer(name: string): Promise<Running> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [serversScript], {
      cwd: root,
      env: {
        ...process.env,
        NODE_ENV: "production",
        BENCH_SERVER: name,
        PORT: "0",
        BENCH_SQLITE: `${sqliteDir}/sessions.db`,
      },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const timer = setTimeout(() => reject(new Error(`${name} did not start`)), 20_000);
    child.stdout?.setEncoding("utf8").on("data", (text: string) => {
      const match = /ready (\d+)/.exec(text);
      if (match) {
        clearTimeout(timer);
        resolve({ name, child, port: Number(match[1]) });
      }
    });
    child.on("exit", (code) => reject(new Error(`${name} exited with ${code}`)));
  });
}

/** A valid session cookie for the read scenario: the Set-Cookie of /session_set. */
async function sessionCookie(server: Running): Promise<string | undefined> {
  const res = await fetch(`http://127.0.0.1:${server.port}/session_set`);
  await res.text();
  const pairs = res.headers.getSetCookie().map((line) => line.split(";")[0]);
  return pairs.length > 0 ? pairs.join("; ") : undefined;
}

function cpuMicros(pid: number): number {
  // utime + stime, in clock ticks (100 Hz on Linux).
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

function peakRssMiB(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

function requestFor(server: Running, scenario: Scenario): autocannon.Options {
  const url = `http://127.0.0.1:${server.port}`;
  if (scenario === "read") {
    return { url: `${url}/session_get`, headers: server.cookie ? { cookie: server.cookie } : {} };
  }
  if (scenario === "write") return { url: `${url}/session_set` };
  return {
    url: `${url}/login`,
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: "username=leo&password=1234",
  };
}

async function load(server: Running, scenario: Scenario, seconds: number) {
  const result = await autocannon({
    ...requestFor(server, scenario),
    connections,
    duration: seconds,
    pipelining: 1,
  });
  return result;
}

interface Sample {
  rps: number;
  p99: number;
  cpuPerRequest: number;
  errors: number;
}

async function main(): Promise<void> {
  await compile();
  rmSync(sqliteDir, { recursive: true, force: true });
  mkdirSync(sqliteDir, { recursive: true });
  const running: Running[] = [];
  const cleanup = () => {
    for (const server of running) server.child.kill("SIGTERM");
  };
  process.on("SIGINT", () => {
    cleanup();
    process.exit(130);
  });
  try {
    const started = await Promise.allSettled(servers.map((name) => startServer(name)));
    for (const outcome of started) if (outcome.status === "fulfilled") running.push(outcome.value);
    const failed = started.filter((outcome) => outcome.status === "rejected");
    if (failed.length > 0) throw (failed[0] as PromiseRejectedResult).reason;
    for (const server of running) server.cookie = await sessionCookie(server);
    const samples = new Map<string, Sample[]>();
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? running : [...running].reverse();
      for (const scenario of SCENARIOS) {
        for (const server of order) {
          await load(server, scenario, warmup);
          const pid = server.child.pid as number;
          const cpuBefore = cpuMicros(pid);
          const result = await load(server, scenario, duration);
          const cpu = cpuMicros(pid) - cpuBefore;
          const key = `${server.name}|${scenario}`;
          const list = samples.get(key) ?? [];
          list.push({
            rps: result.requests.average,
            p99: result.latency.p99,
            cpuPerRequest: result.requests.total > 0 ? cpu / result.requests.total : Number.NaN,
            errors: result.errors + result.non2xx,
          });
          samples.set(key, list);
          process.stdout.write(
            `round ${round + 1}/${rounds} ${scenario.padEnd(5)} ${server.name.padEnd(24)} ${Math.round(
              result.requests.average,
            )
              .toString()
              .padStart(
                6,
              )} req/s  p99 ${result.latency.p99} ms${result.non2xx + result.errors > 0 ? `  errors ${result.non2xx + result.errors}` : ""}\n`,
          );
        }
      }
    }
    report(running, samples);
  } finally {
    cleanup();
  }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

function report(running: Running[], samples: Map<string, Sample[]>): void {
  const rss = new Map(running.map((server) => [server.name, peakRssMiB(server.child.pid as number)]));
  const results: Array<{
    server: string;
    scenario: Scenario;
    rps: number;
    p99Ms: number;
    rssMiB: number;
    cpuUsPerRequest: number;
    errors: number;
  }> = [];
  for (const scenario of SCENARIOS) {
    for (const server of running) {
      const list = samples.get(`${server.name}|${scenario}`) ?? [];
      results.push({
        server: server.name,
        scenario,
        rps: Math.round(median(list.map((s) => s.rps))),
        p99Ms: median(list.map((s) => s.p99)),
        rssMiB: Math.round((rss.get(server.name) ?? Number.NaN) * 10) / 10,
        cpuUsPerRequest: Math.round(median(list.map((s) => s.cpuPerRequest))),
        errors: list.reduce((sum, s) => sum + s.errors, 0),
      });
    }
  }
  const find = (server: string, scenario: string) =>
    results.find((r) => r.server === server && r.scenario === scenario);
  const isFlagon = (server: string) => server.startsWith("flagon-");
  const bareOf = (server: string) => (server.includes("hono") ? "hono-bare" : "express-bare");
  const rows = results.map((r) => {
    const bare = find(bareOf(r.server), r.scenario);
    // Competitors run on the same framework: express-session, cookie-session and iron-session are
    // Express middleware, so flagon on Hono is compared with its bare ceiling only.
    const framework = (server: string) => (server.includes("hono") ? "hono" : "express");
    const competitors = results.filter(
      (c) =>
        c.scenario === r.scenario &&
        !isFlagon(c.server) &&
        !c.server.endsWith("-bare") &&
        framework(c.server) === framework(r.server),
    );
    const best = competitors.sort((a, b) => b.rps - a.rps)[0];
    return {
      ...r,
      vsBare: bare && bare.rps > 0 ? r.rps / bare.rps : Number.NaN,
      vsBestCompetitor: isFlagon(r.server) && best ? r.rps / best.rps : Number.NaN,
      bestCompetitor: isFlagon(r.server) ? best?.server : undefined,
      sessionCpuUs: bare ? r.cpuUsPerRequest - bare.cpuUsPerRequest : Number.NaN,
    };
  });
  const fmt = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : "—");
  const lines = [
    `# flagon benchmark — ${new Date().toISOString()}`,
    "",
    `Node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? "?"}), ${rounds} round(s) × ${duration} s per server and scenario, ${connections} connections, autocannon from a separate process, servers with NODE_ENV=production. Medians over rounds. Ratios are taken within this run.`,
    "",
    "| scenario | server | req/s | p99 ms | × bare framework | × best competitor | CPU µs/req | session µs/req (over bare) | peak RSS MiB |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ...rows.map(
      (r) =>
        `| ${r.scenario} | ${r.server} | ${r.rps} | ${r.p99Ms} | ${fmt(r.vsBare)} | ${r.bestCompetitor ? `${fmt(r.vsBestCompetitor)} (${r.bestCompetitor})` : "—"} | ${r.cpuUsPerRequest} | ${fmt(r.sessionCpuUs, 0)} | ${r.rssMiB} |`,
    ),
    "",
  ];
  const errors = rows.filter((r) => r.errors > 0);
  if (errors.length > 0)
    lines.push(`Errors: ${errors.map((r) => `${r.server}/${r.scenario}: ${r.errors}`).join(", ")}`, "");
  const markdown = lines.join("\n");
  console.log(`\n${markdown}`);
  const outDir = fileURLToPath(new URL("./results/", import.meta.url));
  mkdirSync(outDir, { recursive: true });
  const json = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    rounds,
    durationSeconds: duration,
    connections,
    results: rows.map(
      ({ server, scenario, rps, p99Ms, rssMiB, cpuUsPerRequest, sessionCpuUs, errors: e }) => ({
        server,
        scenario,
        rps,
        p99Ms,
        rssMiB,
        cpuUsPerRequest,
        sessionCpuUs,
        errors: e,
      }),
    ),
  };
  const suffix = quick ? "-quick" : "";
  writeFileSync(`${outDir}latest${suffix}.json`, `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(`${outDir}latest${suffix}.md`, `${markdown}\n`);
}

await main();
