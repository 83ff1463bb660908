/**
 * `npm run bench [-- --quick] [-- --only a,b] [-- --scenarios a,b] [-- --rounds N] [-- --duration S]`
 *
 * flagon against the session libraries users would otherwise install, on the lesson's routes.
 * Each server runs in its own process (NODE_ENV=production); load comes from this process with
 * autocannon, to 127.0.0.1 only, for a bounded time, after a warm-up; rounds alternate the server
 * order so drift hits all alike. Results: bench/results/latest.{json,md} (latest-quick.* with --quick).
 *
 * Many-users scenarios (read-many, write-many) run first: each request carries the next cookie of a
 * pool of POOL_SIZE distinct sessions built on that server, so no per-cookie cache or hot record helps.
 * The single-cookie scenarios (read, write, login) follow.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { compile, root, serversScript } from "./compile.js";

const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    only: { type: "string" },
    scenarios: { type: "string" },
    rounds: { type: "string" },
    duration: { type: "string" },
    connections: { type: "string", default: "32" },
  },
});

const ALL_SERVERS = [
  "express-bare",
  "express-floor",
  "flagon-express-cookie",
  "flagon-express-memory",
  "flagon-express-sqlite",
  "flagon-express-redis",
  "flagon-express-postgres",
  "express-session",
  "express-session-redis",
  "express-session-postgres",
  "cookie-session",
  "iron-session",
  "hono-bare",
  "flagon-hono-cookie",
  "flagon-hono-memory",
  "fastify-bare",
  "flagon-fastify-cookie",
  "fastify-secure-session",
  "koa-bare",
  "flagon-koa-cookie",
  "koa-session",
  "node-bare",
  "flagon-node-cookie",
] as const;
/** Report order too: many users first. */
const ALL_SCENARIOS = ["read-many", "write-many", "read", "write", "login"] as const;
type Scenario = (typeof ALL_SCENARIOS)[number];
const MANY_USERS: ReadonlySet<Scenario> = new Set(["read-many", "write-many"]);
/** Distinct sessions per server for the many-users scenarios. */
const POOL_SIZE = 1000;
/** Concurrent /session_set requests while a pool is built. */
const POOL_CONCURRENCY = 16;
/** What /session_get renders for a recognised pool session (readMessage in bench/servers.ts). */
const POOL_MESSAGE = "Leo. Hello, World!";

const SCENARIO_TEXT: Record<Scenario, string> = {
  "read-many": `GET /session_get, each request with the next of ${POOL_SIZE} distinct session cookies`,
  "write-many": `GET /session_set?visitor=… (sets name, message and a visitor value that differs from the stored one) with the next of ${POOL_SIZE} distinct session cookies: an existing session written`,
  read: "GET /session_get, every request with the same session cookie",
  write: "GET /session_set without a cookie: a new session per request",
  login: "POST /login with a valid form: regenerate, set user, flash; no cookie sent",
};

/** A comma list from a flag, each name checked against what exists. */
function listFlag<T extends string>(flag: string, value: string | undefined, all: readonly T[]): T[] {
  if (value === undefined) return [...all];
  const names = value
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "");
  const unknown = names.filter((part) => !(all as readonly string[]).includes(part));
  if (unknown.length > 0 || names.length === 0) {
    throw new Error(
      `--${flag}: unknown ${unknown.join(", ") || "(empty list)"}; choose from ${all.join(", ")}`,
    );
  }
  return names as T[];
}

const quick = args.quick;
const servers = listFlag("only", args.only, ALL_SERVERS);
const selected = listFlag("scenarios", args.scenarios, ALL_SCENARIOS);
// Always run (and report) in the canonical order, whatever order the flag lists them in.
const scenarios = ALL_SCENARIOS.filter((scenario) => selected.includes(scenario));
const rounds = Number(args.rounds ?? (quick ? 1 : 3));
const duration = Number(args.duration ?? (quick ? 1 : 4));
const warmup = quick ? 0.3 : 1.5;
const connections = Number(args.connections);

const sqliteDir = "/tmp/flagon-bench";

interface Running {
  name: string;
  child: ChildProcess;
  port: number;
  /** The read scenario's one cookie. */
  cookie?: string;
  /** The many-users scenarios' sessions. */
  pool?: Pool;
  /** Where a bare server's pool came from (it has no sessions of its own). */
  poolSource?: string;
  /** Whether /session_set with a pool cookie answered with Set-Cookie (probed once per pool). */
  writeSetsCookie?: boolean;
}

/**
 * A server's many-users sessions and the cursor that walks them. The cursor lives as long as the pool
 * (warm-up and measurement continue it), so write-many's alternating values always change the data.
 */
interface Pool {
  /** One Cookie header (`name=value; …`) per session. */
  cookies: readonly string[];
  /**
   * write-many's paths, per session: lap 0, 2, … set `visitor` to the first, lap 1, 3, … to the second;
   * both differ from the value the pool was built with. Precomputed: no string is built per request.
   */
  writes: readonly [readonly string[], readonly string[]];
  next: number;
  lap: number;
}

function newPool(cookies: readonly string[], tag: string): Pool {
  const path = (index: number, lap: string) => `/session_set?visitor=${tag}-${index}-${lap}`;
  return {
    cookies,
    writes: [cookies.map((_, index) => path(index, "a")), cookies.map((_, index) => path(index, "b"))],
    next: 0,
    lap: 0,
  };
}

const isBare = (server: string) => server.endsWith("-bare");
/** A ruler, not a library: the least a sealed-cookie session can cost (bench/servers.ts); never a competitor. */
const isFloor = (server: string) => server.endsWith("-floor");
/** The framework a server runs on (its bare ceiling is `<framework>-bare`); Express unless named. */
const FRAMEWORKS = ["hono", "fastify", "koa", "node"] as const;
const frameworkOf = (server: string) =>
  FRAMEWORKS.find((framework) => server.includes(framework)) ?? "express";

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

/** The `name=value` pairs of a response's Set-Cookie lines, as one Cookie header. */
function cookieHeader(res: Response): string | undefined {
  const pairs = res.headers.getSetCookie().map((line) => line.split(";")[0]);
  return pairs.length > 0 ? pairs.join("; ") : undefined;
}

/** A valid session cookie for the read scenario: the Set-Cookie of /session_set. */
async function sessionCookie(server: Running): Promise<string | undefined> {
  const res = await fetch(`http://127.0.0.1:${server.port}/session_set`);
  await res.text();
  return cookieHeader(res);
}

/**
 * POOL_SIZE distinct sessions on one server: GET /session_set?visitor=<n>, POOL_CONCURRENCY at a time,
 * keeping each response's cookie. The visitor value makes every session's data differ (see servers.ts).
 */
async function buildPool(server: Running): Promise<Pool> {
  const pool = new Array<string>(POOL_SIZE);
  const tag = randomBytes(4).toString("hex");
  let next = 0;
  const worker = async () => {
    while (next < POOL_SIZE) {
      const index = next++;
      const res = await fetch(`http://127.0.0.1:${server.port}/session_set?visitor=${tag}-${index}`);
      await res.text();
      const cookie = cookieHeader(res);
      if (res.status !== 200 || cookie === undefined) {
        throw new Error(
          `${server.name}: pool request ${index} answered ${res.status}${cookie === undefined ? " without Set-Cookie" : ""}`,
        );
      }
      pool[index] = cookie;
    }
  };
  await Promise.all(Array.from({ length: POOL_CONCURRENCY }, worker));
  const distinct = new Set(pool).size;
  if (distinct !== POOL_SIZE) {
    throw new Error(`${server.name}: the pool holds ${distinct} distinct cookies out of ${POOL_SIZE}`);
  }
  return newPool(pool, tag);
}

/** The <h1> text /session_get renders for a cookie. */
async function renderedMessage(server: Running, cookie: string): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${server.port}/session_get`, { headers: { cookie } });
  const html = await res.text();
  const heading = /<h1>([^<]*)<\/h1>/.exec(html)?.[1]?.trim() ?? html.slice(0, 200);
  return res.status === 200 ? heading : `HTTP ${res.status}: ${heading}`;
}

/**
 * Fails loudly unless the server recognises its pool: the first, middle and last cookie must each
 * render the session's message. A many-users scenario on unrecognised cookies would measure empty
 * sessions (a 200 with "Session not valid.") and look fast.
 */
async function checkPool(server: Running, when: string): Promise<void> {
  const pool = server.pool?.cookies;
  if (pool === undefined || isBare(server.name)) return;
  for (const index of [0, Math.floor(pool.length / 2), pool.length - 1]) {
    const message = await renderedMessage(server, pool[index] as string);
    if (!message.includes(POOL_MESSAGE)) {
      throw new Error(
        `${server.name}: pool cookie ${index} is not recognised ${when}: /session_get rendered "${message}", expected "${POOL_MESSAGE}"`,
      );
    }
  }
}

/**
 * Fresh pools for this round (a capped store, such as memoryStore's 100 000 records, may have evicted
 * the last round's sessions under the write and login scenarios). Bare servers have no sessions: they
 * get a copy of a session server's pool on the same framework, so they parse the same header bytes.
 */
async function preparePools(running: Running[]): Promise<void> {
  for (const server of running) {
    if (isBare(server.name)) continue;
    server.pool = await buildPool(server);
    await checkPool(server, "after the pool was built");
    // Whether a changing write on an existing session answers with Set-Cookie (cookie stores must).
    const res = await fetch(`http://127.0.0.1:${server.port}${server.pool.writes[0][0]}-probe`, {
      headers: { cookie: server.pool.cookies[0] as string },
    });
    await res.text();
    server.writeSetsCookie = res.headers.getSetCookie().length > 0;
  }
  for (const server of running) {
    if (!isBare(server.name)) continue;
    const fw = frameworkOf(server.name);
    const donors = running.filter((s) => !isBare(s.name) && s.pool !== undefined);
    const donor =
      donors.find((s) => s.name === `flagon-${fw}-cookie`) ??
      donors.find((s) => frameworkOf(s.name) === fw) ??
      donors[0];
    if (donor?.pool) {
      // Same bytes, own cursor.
      server.pool = { ...donor.pool, next: 0, lap: 0 };
      server.poolSource = donor.name;
    } else {
      server.pool = newPool(
        Array.from({ length: POOL_SIZE }, () => `session=${randomBytes(96).toString("base64url")}`),
        randomBytes(4).toString("hex"),
      );
      server.poolSource = "random 128-character cookies";
    }
  }
}

/**
 * One request template whose setupRequest puts the next pool cookie (and, for writes, the next
 * precomputed path) in the request autocannon builds for each request anyway (a fresh copy of the
 * defaults, headers included): no allocation of ours per request. The cursor is shared by all
 * connections, so the pool is walked in order, each cookie once per POOL_SIZE requests.
 */
function rotating(pool: Pool, write: boolean): autocannon.Request[] {
  const size = pool.cookies.length;
  return [
    {
      setupRequest(request) {
        const headers = request.headers ?? {};
        headers.cookie = pool.cookies[pool.next];
        request.headers = headers;
        if (write) request.path = (pool.lap % 2 === 0 ? pool.writes[0] : pool.writes[1])[pool.next];
        if (++pool.next === size) {
          pool.next = 0;
          pool.lap++;
        }
        return request;
      },
    },
  ];
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
  if (scenario === "read-many" || scenario === "write-many") {
    if (server.pool === undefined) throw new Error(`${server.name}: no pool for ${scenario}`);
    const write = scenario === "write-many";
    return {
      url: `${url}${write ? "/session_set" : "/session_get"}`,
      requests: rotating(server.pool, write),
    };
  }
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

/**
 * Both Postgres servers start from empty tables of their own in one database (flagon's and
 * connect-pg-simple's), under the server's own synchronous_commit setting (the same for both).
 */
async function resetPostgres(): Promise<void> {
  if (!servers.some((server) => server.endsWith("-postgres"))) return;
  const { default: pg } = await import("pg");
  const client = new pg.Client({
    connectionString: process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test",
  });
  await client.connect();
  try {
    await client.query(
      "DROP TABLE IF EXISTS bench_flagon_sessions, bench_flagon_sessions_schema, bench_es_session",
    );
    const setting = await client.query<{ synchronous_commit: string }>("SHOW synchronous_commit");
    postgresSetting = `synchronous_commit = ${setting.rows[0]?.synchronous_commit ?? "?"}`;
  } finally {
    await client.end();
  }
}
let postgresSetting: string | undefined;

async function main(): Promise<void> {
  await compile();
  rmSync(sqliteDir, { recursive: true, force: true });
  mkdirSync(sqliteDir, { recursive: true });
  await resetPostgres();
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
    if (scenarios.includes("read")) {
      for (const server of running) server.cookie = await sessionCookie(server);
    }
    const samples = new Map<string, Sample[]>();
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? running : [...running].reverse();
      if (scenarios.some((scenario) => MANY_USERS.has(scenario))) await preparePools(running);
      for (const scenario of scenarios) {
        for (const server of order) {
          const many = MANY_USERS.has(scenario);
          if (many) await checkPool(server, `before ${scenario}`);
          await load(server, scenario, warmup);
          const pid = server.child.pid as number;
          const cpuBefore = cpuMicros(pid);
          const result = await load(server, scenario, duration);
          const cpu = cpuMicros(pid) - cpuBefore;
          if (many) await checkPool(server, `after ${scenario}`);
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
            `round ${round + 1}/${rounds} ${scenario.padEnd(10)} ${server.name.padEnd(24)} ${Math.round(
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
  for (const scenario of scenarios) {
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
  const bareOf = (server: string) => `${frameworkOf(server)}-bare`;
  const rows = results.map((r) => {
    const bare = find(bareOf(r.server), r.scenario);
    // Competitors run on the same framework: express-session, cookie-session and iron-session are
    // Express middleware, @fastify/secure-session a Fastify plugin, koa-session Koa middleware;
    // flagon on Hono and on plain node:http is compared with its bare ceiling only.
    const competitors = results.filter(
      (c) =>
        c.scenario === r.scenario &&
        !isFlagon(c.server) &&
        !isBare(c.server) &&
        !isFloor(c.server) &&
        frameworkOf(c.server) === frameworkOf(r.server),
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
  const manyRun = scenarios.some((scenario) => MANY_USERS.has(scenario));
  const lines = [
    `# flagon benchmark — ${new Date().toISOString()}`,
    "",
    `Node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? "?"}), ${rounds} round(s) × ${duration} s per server and scenario (after a ${warmup} s warm-up), ${connections} connections, autocannon from a separate process, servers with NODE_ENV=production running compiled code (dist/). CPU µs/req is the server process's user + system time (/proc) over the measured requests. Medians over rounds. Ratios are taken within this run. "× best competitor" compares a flagon server with the fastest non-flagon library on the same framework (@fastify/secure-session on Fastify, koa-session on Koa; Hono and plain node:http have none); "session µs/req over bare" subtracts the bare framework's CPU µs/req.`,
    "",
  ];
  if (manyRun) {
    lines.push(
      `**Many users.** In read-many and write-many every request carries the cookie of a different session: each round, each server first gets a pool of ${POOL_SIZE} distinct sessions (GET /session_set ${POOL_SIZE} times, ${POOL_CONCURRENCY} at a time, keeping each response's cookies), and the load walks that pool in order, so each cookie comes back only once every ${POOL_SIZE} requests. No per-cookie cache (decoded or verified cookie, parsed record) and no hot store record helps; this is the cost of a site with many users. write-many sets a visitor value that differs from the stored one on every visit, so libraries that skip unchanged data (express-session with resave: false, cookie-session) really write too. Before and after each measurement the pool's first, middle and last cookies must render "${POOL_MESSAGE}" on /session_get, or the run stops. The bare servers have no sessions: they receive another server's pool cookies (same header bytes) and are not checked. The single-cookie scenarios (read, write, login) follow.`,
      "",
    );
  }
  if (postgresSetting !== undefined) {
    lines.push(
      `**PostgreSQL.** flagon-express-postgres (flagon/postgres, its own pool of 10) and express-session-postgres (express-session + connect-pg-simple on a pg.Pool of 10, resave: false, its default touch) write to one local PostgreSQL with the server's own durability setting for both (${postgresSetting}); each starts from an empty table. Round trips per request (counted by test/stores/postgres-round-trips.test.ts): flagon reads 1 (SELECT), writes 2 (SELECT, then one statement that applies the change set), logs in with 1 (no cookie: the new record's commit), and a read-only request writes nothing; loads and commits that wait for a busy pool go out together as one statement each (docs/postgres.md, group commit). connect-pg-simple reads 2 (SELECT, then an UPDATE that touches the expiry), writes 2 (SELECT, upsert of the whole session), logs in with 2 (regenerate's DELETE, then the upsert).`,
      "",
    );
  }
  if (running.some((server) => isFloor(server.name))) {
    lines.push(
      "**express-floor is a ruler, not a library**: the least a sealed-cookie session can do on these routes (find the cookie, one AES-256-GCM open or seal with a fixed key, JSON, a WeakMap; no expiry, rotation, flash bookkeeping, Vary or validation). Its CPU over express-bare is the floor for any sealed-cookie session in this harness; it is never counted as a competitor.",
      "",
    );
  }
  for (const scenario of scenarios) {
    lines.push(
      `## ${scenario}`,
      "",
      `${SCENARIO_TEXT[scenario]}.`,
      "",
      "| server | req/s | p99 ms | × bare framework | × best competitor | CPU µs/req | session µs/req over bare | peak RSS MiB |",
      "|---|---:|---:|---:|---:|---:|---:|---:|",
      ...rows
        .filter((r) => r.scenario === scenario)
        .map(
          (r) =>
            `| ${r.server} | ${r.rps} | ${r.p99Ms} | ${fmt(r.vsBare)} | ${r.bestCompetitor ? `${fmt(r.vsBestCompetitor)} (${r.bestCompetitor})` : "—"} | ${r.cpuUsPerRequest} | ${fmt(r.sessionCpuUs, 0)} | ${r.rssMiB} |`,
        ),
      "",
    );
    if (scenario === "read-many") {
      const borrowed = running.filter((server) => server.poolSource !== undefined);
      if (borrowed.length > 0) {
        lines.push(
          `Bare servers' cookies: ${borrowed.map((server) => `${server.name} from ${server.poolSource}`).join(", ")}.`,
          "",
        );
      }
    }
    if (scenario === "write-many") {
      const probed = running.filter((server) => server.writeSetsCookie !== undefined);
      if (probed.length > 0) {
        lines.push(
          `Set-Cookie in the answer to a pool cookie's /session_set with a new visitor value (probed once per pool): ${probed
            .map((server) => `${server.name} ${server.writeSetsCookie ? "yes" : "no"}`)
            .join(
              ", ",
            )}. Cookie stores must answer yes; server stores write the record and need not re-send an unchanged id cookie.`,
          "",
        );
      }
    }
  }
  const errors = rows.filter((r) => r.errors > 0);
  if (errors.length > 0)
    lines.push(
      `Errors and non-2xx: ${errors.map((r) => `${r.server}/${r.scenario}: ${r.errors}`).join(", ")}`,
      "",
    );
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
    warmupSeconds: warmup,
    connections,
    scenarios,
    poolSize: manyRun ? POOL_SIZE : undefined,
    pools: manyRun
      ? running.map((server) => ({
          server: server.name,
          source: server.poolSource ?? "own",
          writeSetsCookie: server.writeSetsCookie,
        }))
      : undefined,
    results: rows.map(
      ({
        server,
        scenario,
        rps,
        p99Ms,
        rssMiB,
        cpuUsPerRequest,
        sessionCpuUs,
        vsBare,
        vsBestCompetitor,
        bestCompetitor,
        errors: e,
      }) => ({
        server,
        scenario,
        rps,
        p99Ms,
        rssMiB,
        cpuUsPerRequest,
        sessionCpuUs,
        vsBare: Number.isFinite(vsBare) ? vsBare : undefined,
        vsBestCompetitor: Number.isFinite(vsBestCompetitor) ? vsBestCompetitor : undefined,
        bestCompetitor,
        errors: e,
      }),
    ),
  };
  const suffix = quick ? "-quick" : "";
  writeFileSync(`${outDir}latest${suffix}.json`, `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(`${outDir}latest${suffix}.md`, `${markdown}\n`);
}

await main();
