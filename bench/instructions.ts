/**
 * `npm run bench:instructions [-- --only a,b] [-- --scenarios read-many,write-many] [-- --requests N]`
 *
 * Instructions per request, counted by valgrind's callgrind: a ruler that does not move with the
 * machine's load. The wall-clock benchmark (`npm run bench`) shares two cores with its load generator
 * and with whatever else runs, so its single figures move up to 2× between runs; an instruction count
 * for the same binary, inputs and environment repeats to a fraction of a percent. It does not weigh
 * cache misses or syscall latency (a request here does the same syscalls with or without a session:
 * one read, one writev), so read it beside `npm run bench`, not instead of it.
 *
 * Each server (bench/servers.ts, the same routes and templates as `npm run bench`) runs under callgrind
 * with V8's `--single-threaded` (optimising compiler and GC on the main thread: under valgrind a
 * background compiler finishes late, at a different request each run, which moved counts 2×).
 * This process builds a pool of POOL distinct sessions on it, warms it up, zeroes the counters, sends
 * `--requests` requests one after another on one keep-alive connection (each with the next pool cookie:
 * no per-cookie cache helps), dumps the counters and divides. Bare servers get a flagon server's pool
 * on the same framework, so they parse the same bytes. Results: bench/results/instructions.{json,md};
 * with `--merge`, the counts of servers and scenarios this run did not measure are kept from the last
 * results (same Node, request, warm-up and pool settings), so a table can be filled in one subset at a time;
 * `--render` only rewrites instructions.md from instructions.json.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import { compile, root, serversScript } from "./compile.js";

const { values: args } = parseArgs({
  options: {
    only: { type: "string" },
    scenarios: { type: "string" },
    requests: { type: "string", default: "3000" },
    warmup: { type: "string", default: "4000" },
    merge: { type: "boolean", default: false },
    render: { type: "boolean", default: false },
  },
});

const PAIRS = {
  express: ["express-bare", "express-floor", "flagon-express-cookie", "cookie-session", "express-session"],
  fastify: ["fastify-bare", "flagon-fastify-cookie", "fastify-secure-session"],
  koa: ["koa-bare", "flagon-koa-cookie", "koa-session"],
  hono: ["hono-bare", "flagon-hono-cookie"],
  node: ["node-bare", "flagon-node-cookie"],
} as const;
const ALL = Object.values(PAIRS).flat() as string[];
const SCENARIOS = ["read-many", "write-many", "write"] as const;
type Scenario = (typeof SCENARIOS)[number];
// More than the sealer's cache (OPENED_CACHE_LIMIT, 512): walked in order, no pool cookie is a cache hit.
const POOL = 1000;
const requests = Number(args.requests);
const warmup = Number(args.warmup);
const only = args.only?.split(",").map((s) => s.trim()) ?? ALL;
for (const name of only)
  if (!ALL.includes(name)) throw new Error(`--only: unknown server ${name}; choose from ${ALL.join(", ")}`);
const scenarios = (args.scenarios?.split(",") ?? [...SCENARIOS]) as Scenario[];
for (const s of scenarios)
  if (!SCENARIOS.includes(s))
    throw new Error(`--scenarios: unknown ${s}; choose from ${SCENARIOS.join(", ")}`);

const frameworkOf = (server: string) =>
  (Object.keys(PAIRS) as Array<keyof typeof PAIRS>).find((fw) =>
    (PAIRS[fw] as readonly string[]).includes(server),
  ) ?? "express";
const isBare = (server: string) => server.endsWith("-bare");
const outDir = "/tmp/flagon-bench-callgrind";

interface Client {
  get(path: string, cookie: string | undefined): Promise<{ status: number; setCookie: string[] }>;
  close(): void;
}

function client(port: number): Client {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  return {
    get: (path, cookie) =>
      new Promise((resolve, reject) => {
        const req = request(
          { host: "127.0.0.1", port, path, agent, headers: cookie ? { cookie } : {} },
          (res) => {
            res.resume();
            res.on("end", () =>
              resolve({ status: res.statusCode ?? 0, setCookie: res.headers["set-cookie"] ?? [] }),
            );
          },
        );
        req.on("error", reject);
        req.end();
      }),
    close: () => agent.destroy(),
  };
}

const pairsOf = (lines: string[]) => lines.map((line) => line.split(";")[0]).join("; ");

async function pool(port: number, tag: string): Promise<string[]> {
  const c = client(port);
  const cookies: string[] = [];
  for (let i = 0; i < POOL; i++) {
    const res = await c.get(`/session_set?visitor=${tag}-${i}`, undefined);
    if (res.status !== 200 || res.setCookie.length === 0)
      throw new Error(`pool request ${i}: HTTP ${res.status}, no Set-Cookie`);
    cookies.push(pairsOf(res.setCookie));
  }
  c.close();
  if (new Set(cookies).size !== POOL) throw new Error("the pool's cookies are not distinct");
  return cookies;
}

async function drive(
  c: Client,
  scenario: Scenario,
  cookies: readonly string[],
  count: number,
  lap: { n: number },
) {
  for (let i = 0; i < count; i++, lap.n++) {
    const index = lap.n % cookies.length;
    // "write": a new session per request (no cookie), as npm run bench's scenario of that name.
    const path =
      scenario === "read-many"
        ? "/session_get"
        : scenario === "write"
          ? "/session_set"
          : `/session_set?visitor=w-${index}-${Math.floor(lap.n / cookies.length)}`;
    const res = await c.get(path, scenario === "write" ? undefined : cookies[index]);
    if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status}`);
  }
}

/** One server under callgrind, one scenario: instructions per request. */
async function measure(
  server: string,
  scenario: Scenario,
  donor: readonly string[] | undefined,
): Promise<{ ir: number; cookies: string[] }> {
  const prefix = `${outDir}/${server}.${scenario}`;
  const child = spawn(
    "valgrind",
    [
      "--tool=callgrind",
      `--callgrind-out-file=${prefix}.%p`,
      "--dump-instr=no",
      "--collect-jumps=no",
      process.execPath,
      "--single-threaded",
      serversScript,
    ],
    {
      cwd: root,
      env: { ...process.env, NODE_ENV: "production", BENCH_SERVER: server, PORT: "0" },
      stdio: ["ignore", "pipe", "ignore"],
    },
  );
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${server} did not start under valgrind in 180 s`)),
        180_000,
      );
      child.stdout?.setEncoding("utf8").on("data", (text: string) => {
        const match = /ready (\d+)/.exec(text);
        if (match) {
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
      });
      child.on("exit", (code) => reject(new Error(`${server} exited with ${code}`)));
    });
    const cookies = donor ? [...donor] : await pool(port, server);
    const c = client(port);
    const lap = { n: 0 };
    // A bare server built no pool: as many requests more, so every server is equally warm when counted.
    await drive(c, scenario, cookies, donor ? warmup + POOL : warmup, lap);
    execFileSync("callgrind_control", ["-z", String(child.pid)], { stdio: "ignore" });
    await drive(c, scenario, cookies, requests, lap);
    execFileSync("callgrind_control", ["-d", String(child.pid)], { stdio: "ignore" });
    c.close();
    const dump = readdirSync(outDir).find((f) => f.startsWith(`${server}.${scenario}.${child.pid}.`));
    if (dump === undefined) throw new Error(`${server}: no callgrind dump`);
    const summary = /^summary: (\d+)/m.exec(readFileSync(`${outDir}/${dump}`, "utf8"));
    if (!summary) throw new Error(`${server}: no summary line in the dump`);
    return { ir: Number(summary[1]) / requests, cookies };
  } finally {
    child.kill("SIGKILL");
  }
}

const results: Record<string, Partial<Record<Scenario, number>>> = {};
/** Counts every server of `only` in every scenario of `scenarios` into `results`. */
async function measureAll(): Promise<void> {
  try {
    execFileSync("valgrind", ["--version"], { stdio: "ignore" });
  } catch {
    throw new Error("bench:instructions needs valgrind (Debian: apt-get install valgrind)");
  }
  await compile();
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const parallel = Math.max(1, cpus().length);
  for (const scenario of scenarios) {
    // Session servers first (their pools feed the bare servers), `parallel` at a time.
    const pools = new Map<string, string[]>();
    const order = [...only.filter((s) => !isBare(s)), ...only.filter(isBare)];
    const queue = [...order];
    const worker = async () => {
      while (queue.length > 0) {
        const server = queue.shift() as string;
        let donor: string[] | undefined;
        if (isBare(server)) {
          const fw = frameworkOf(server);
          donor = pools.get(`flagon-${fw}-cookie`) ?? [...pools.values()][0];
          if (donor === undefined) {
            // No session server measured beside it: wait for one, else random cookies of a sealed cookie's size.
            donor = Array.from(
              { length: POOL },
              (_, i) => `session=v1.${Buffer.alloc(160, i).toString("base64url")}`,
            );
          }
        }
        const { ir, cookies } = await measure(server, scenario, donor);
        if (!isBare(server)) pools.set(server, cookies);
        const entry = results[server] ?? {};
        entry[scenario] = ir;
        results[server] = entry;
        console.log(
          `${scenario.padEnd(10)} ${server.padEnd(24)} ${Math.round(ir).toLocaleString("en")} instructions/request`,
        );
      }
    };
    // Bare servers wait for the session servers of their pass.
    const sessionCount = order.filter((s) => !isBare(s)).length;
    const bare = queue.splice(sessionCount);
    await Promise.all(Array.from({ length: parallel }, worker));
    queue.push(...bare);
    await Promise.all(Array.from({ length: parallel }, worker));
  }
}
if (!args.render) await measureAll();

const resultsFile = `${root}/bench/results/instructions.json`;
if (args.merge || args.render) {
  // Keep what this run did not measure, if it was measured the same way.
  let last: { node?: string; requests?: number; warmup?: number; pool?: number; results?: typeof results } =
    {};
  try {
    last = JSON.parse(readFileSync(resultsFile, "utf8"));
  } catch {
    // No earlier results: nothing to keep.
  }
  const comparable =
    last.node === process.version &&
    last.requests === requests &&
    last.warmup === warmup &&
    last.pool === POOL;
  if (!comparable && last.results !== undefined)
    console.log(
      "--merge: the last results were measured differently (Node, requests, warm-up or pool); not kept",
    );
  if (comparable)
    for (const [server, counts] of Object.entries(last.results ?? {}))
      results[server] = { ...counts, ...results[server] };
}
const shownScenarios = SCENARIOS.filter((s) =>
  Object.values(results).some((counts) => counts[s] !== undefined),
);

const lines = [
  "# Instructions per request (callgrind)",
  "",
  `Node ${process.version}; ${requests} requests per server and scenario after ${warmup} of warm-up, one keep-alive connection, each request with the next of ${POOL} distinct session cookies; servers from bench/servers.ts under \`valgrind --tool=callgrind\`, NODE_ENV=production. "session k/req" subtracts the bare framework's count. Independent of machine load; does not count cache misses or waiting.`,
  "",
];
for (const scenario of shownScenarios) {
  lines.push(
    `## ${scenario}`,
    "",
    "| server | instructions/req | session k/req over bare | × flagon's session cost |",
    "|---|---:|---:|---:|",
  );
  for (const [fw, servers] of Object.entries(PAIRS)) {
    const bare = results[`${fw}-bare`]?.[scenario];
    const flagon = results[`flagon-${fw}-cookie`]?.[scenario];
    for (const server of servers) {
      const ir = results[server]?.[scenario];
      if (ir === undefined) continue;
      const over = bare === undefined ? undefined : ir - bare;
      const ratio =
        over === undefined || flagon === undefined || bare === undefined || isBare(server)
          ? "—"
          : (over / (flagon - bare)).toFixed(2);
      lines.push(
        `| ${server} | ${Math.round(ir).toLocaleString("en")} | ${over === undefined || isBare(server) ? "—" : (over / 1000).toFixed(0)} | ${ratio} |`,
      );
    }
  }
  lines.push("");
}
mkdirSync(`${root}/bench/results`, { recursive: true });
writeFileSync(
  resultsFile,
  `${JSON.stringify({ node: process.version, requests, warmup, pool: POOL, results }, null, 2)}\n`,
);
writeFileSync(`${root}/bench/results/instructions.md`, `${lines.join("\n")}\n`);
console.log(`\n${lines.join("\n")}`);
