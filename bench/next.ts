/**
 * `node --conditions=flagon-source --import tsx bench/next.ts`
 *
 * flagon/next's cost over Next's own, on the built example app (examples/next, `next start`, memory
 * store): CPU per request of the Next server for a bare Route Handler, the same handler wrapped in
 * `route()` (a request with a session cookie: the session is loaded), and a session read
 * (`/api/session`), with cookies spread over 200 logged-in sessions; and cold start, the first
 * request to a fresh server for the bare and the wrapped route. 127.0.0.1 only, bounded in time.
 */
import { readFileSync } from "node:fs";
import autocannon from "autocannon";
import { buildNextExample, type RunningNext, startNextExample } from "../test/e2e/start-next.js";

const SECRET_KEY = "bench-next-secret-0123456789abcdefghijklmnop";
const SESSIONS = 200;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);

function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

/** The Next server's own process and its children (next start may fork a worker). */
function pids(root: number): number[] {
  const all = [root];
  try {
    const children = readFileSync(`/proc/${root}/task/${root}/children`, "utf8").trim().split(/\s+/);
    for (const child of children) if (child !== "") all.push(...pids(Number(child)));
  } catch {
    // gone
  }
  return all;
}

const cpu = (root: number) => pids(root).reduce((sum, pid) => sum + cpuMicros(pid), 0);

async function logins(base: string): Promise<string[]> {
  const cookies: string[] = [];
  for (let i = 0; i < SESSIONS; i++) {
    const csrf = await fetch(`${base}/api/csrf`);
    const cookie = csrf.headers.getSetCookie()[0]!.split(";", 1)[0]!;
    const { token } = (await csrf.json()) as { token: string };
    const login = await fetch(`${base}/api/login`, {
      method: "POST",
      redirect: "manual",
      headers: { cookie, origin: base, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ csrf_token: token, username: "leo", password: "1234" }),
    });
    cookies.push(login.headers.getSetCookie()[0]!.split(";", 1)[0]!);
  }
  return cookies;
}

async function load(server: RunningNext, path: string, cookies: string[] | undefined) {
  let next = 0;
  const requests: autocannon.Request[] = [
    {
      setupRequest(request) {
        if (cookies !== undefined) {
          request.headers = { ...request.headers, cookie: cookies[next]! };
          next = (next + 1) % cookies.length;
        }
        return request;
      },
    },
  ];
  const options = { url: `${server.url}${path}`, connections: 10, duration: SECONDS, requests };
  await autocannon({ ...options, duration: 1 }); // warm-up
  const before = cpu(server.child.pid!);
  const result = await autocannon(options);
  const spent = cpu(server.child.pid!) - before;
  const total = result.requests.total;
  return {
    rps: Math.round(result.requests.average),
    cpuMicrosPerRequest: Math.round(spent / total),
    non2xx: result.non2xx,
  };
}

/** ms from spawning `next start` to the first 200 from `path` (25 ms polling). */
async function coldStart(path: string): Promise<number> {
  const server = await startNextExample({ SECRET_KEY }, { probe: path });
  await server.stop();
  return server.readyMs;
}

await buildNextExample();
const server = await startNextExample({ SECRET_KEY });
try {
  const cookies = await logins(server.url);
  const rows: Record<string, unknown>[] = [];
  for (let round = 1; round <= Number(process.env.BENCH_ROUNDS ?? 3); round++) {
    rows.push({ round, route: "bare handler, no cookie", ...(await load(server, "/api/bare", undefined)) });
    rows.push({ round, route: "route(), no cookie", ...(await load(server, "/api/static", undefined)) });
    rows.push({
      round,
      route: "bare handler, session cookie",
      ...(await load(server, "/api/bare", cookies)),
    });
    rows.push({
      round,
      route: "route(), session cookie (loaded)",
      ...(await load(server, "/api/static", cookies)),
    });
    rows.push({
      round,
      route: "route(), session read (/api/session)",
      ...(await load(server, "/api/session", cookies)),
    });
  }
  console.table(rows);
} finally {
  await server.stop();
}
// Cold: spawn to first answer, a bare handler against route() + session store + first session.
const cold: Record<string, unknown>[] = [];
for (let round = 1; round <= 3; round++) {
  cold.push({
    round,
    "spawn → first /api/bare (ms)": Math.round(await coldStart("/api/bare")),
    "spawn → first /api/session (ms)": Math.round(await coldStart("/api/session")),
  });
}
console.table(cold);
