/**
 * Commits and reads per second of the SQLite store, on a real file in the OS temp directory.
 *
 *   node --conditions=flagon-source --import tsx bench/sqlite.ts [--seconds 2]
 *
 * A commit is one `apply` of a small change set (one key set, meta moved forward), awaited
 * before the next: the cost a request pays. Each phase runs for a fixed time (default 2 s),
 * so the whole run stays well under 30 s.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type SqliteStore, sqliteStore } from "flagon/sqlite";
import type { ChangeSet } from "../src/stores/types.js";

const { values } = parseArgs({ options: { seconds: { type: "string", default: "2" } } });
const phaseMs = Number(values.seconds) * 1000;
const SESSIONS = 10_000;

function key(n: number): string {
  return createHash("sha256").update(`bench-session-${n}`).digest("hex");
}
const keys = Array.from({ length: SESSIONS }, (_, n) => key(n));

function change(i: number): ChangeSet {
  const now = Date.now();
  return {
    clear: false,
    set: [
      ["counter", i],
      ["user", { name: "Leo", roles: ["reader"] }],
    ],
    delete: [],
    flashAdd: [],
    flashConsume: [],
    meta: { createdAt: now, lastSeenAt: now, expiresAt: now + 3_600_000, permanent: false },
  };
}

/**
 * Runs `step(i)` back to back for `phaseMs` (or `limit` steps). Reports wall-clock rate and the
 * process's CPU time per operation: on a machine shared with other work the first moves a lot,
 * the second much less.
 */
async function rate(step: (i: number) => Promise<unknown>, limit = Number.POSITIVE_INFINITY) {
  const cpu = process.cpuUsage();
  const started = performance.now();
  let i = 0;
  while (i < limit && performance.now() - started < phaseMs) {
    await step(i);
    i += 1;
  }
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  return {
    ops: i,
    perSecond: Math.round(i / seconds),
    wallMicros: Math.round((seconds * 1e6) / i),
    cpuMicros: Math.round((used.user + used.system) / i),
  };
}

const dir = mkdtempSync(join(tmpdir(), "flagon-bench-sqlite-"));
const rows: Array<{ phase: string; ops: number; perSecond: number; wallMicros: number; cpuMicros: number }> =
  [];

async function withStore(
  name: string,
  options: { synchronous?: "normal" | "full" },
  run: (store: SqliteStore) => Promise<void>,
) {
  const store = sqliteStore({ path: join(dir, `${name}.db`), purgeInterval: 0, ...options });
  try {
    await run(store);
  } finally {
    await store.close();
  }
}

try {
  for (const synchronous of ["normal", "full"] as const) {
    await withStore(`single-${synchronous}`, { synchronous }, async (store) => {
      await store.apply(keys[0] as string, change(0));
      rows.push({
        phase: `commit, one session (synchronous=${synchronous})`,
        ...(await rate((i) => store.apply(keys[0] as string, change(i)))),
      });
    });
  }

  await withStore("distinct", {}, async (store) => {
    // First write of each of the 10 000 sessions (INSERT), then updates spread over all of them.
    rows.push({
      phase: `create ${SESSIONS} sessions`,
      ...(await rate((i) => store.apply(keys[i] as string, change(i)), SESSIONS)),
    });
    for (let n = 0; n < SESSIONS; n++) await store.apply(keys[n] as string, change(n)); // finish if the phase was cut short
    rows.push({
      phase: `commit, ${SESSIONS} distinct sessions (round robin)`,
      ...(await rate((i) => store.apply(keys[(i * 7919) % SESSIONS] as string, change(i)))),
    });
    rows.push({
      phase: `get, ${SESSIONS} distinct sessions`,
      ...(await rate((i) => store.get(keys[(i * 7919) % SESSIONS] as string))),
    });
    rows.push({
      phase: "get, missing key",
      ...(await rate((i) => store.get(key(SESSIONS + i)))),
    });
    // 500 concurrent commits to one session, as a burst of parallel requests would make them.
    const cpu = process.cpuUsage();
    const burst = performance.now();
    await Promise.all(Array.from({ length: 500 }, (_, i) => store.apply(keys[1] as string, change(i))));
    const seconds = (performance.now() - burst) / 1000;
    const used = process.cpuUsage(cpu);
    rows.push({
      phase: "commit, 500 concurrent on one session",
      ops: 500,
      perSecond: Math.round(500 / seconds),
      wallMicros: Math.round((seconds * 1e6) / 500),
      cpuMicros: Math.round((used.user + used.system) / 500),
    });
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}

console.log(
  `flagon/sqlite on ${process.platform} ${process.arch}, Node ${process.version}, ${phaseMs / 1000} s per phase, load average ${loadavg()[0]?.toFixed(1)}`,
);
console.table(rows);
