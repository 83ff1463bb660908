/**
 * memoryStore under a flood of new sessions: RSS after N brand-new sessions (default 1,000,000), each
 * created through the real core (load without a cookie → set → commit), with a small cap, the default
 * cap, and a cap large enough to hold every session (what an unbounded store would do).
 *
 *   node --conditions=flagon-source --import tsx bench/memory-store.ts [--sessions 1000000] [--json]
 *
 * Each configuration runs in its own child process (a fresh heap), with --expose-gc so the figures
 * after the flood are measured after a full collection. Bounded: one process at a time, no network.
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createSessions, memoryStore } from "../src/index.js";

interface Sample {
  sessions: number;
  rssMiB: number;
  heapMiB: number;
  stored: number;
}

interface Result {
  label: string;
  maxEntries: number;
  sessions: number;
  seconds: number;
  baselineRssMiB: number;
  samples: Sample[];
  finalRssMiB: number;
  finalHeapMiB: number;
  stored: number;
}

const MiB = 1024 * 1024;
const round = (bytes: number) => Math.round((bytes / MiB) * 10) / 10;

function collect(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

async function child(label: string, maxEntries: number, total: number): Promise<Result> {
  collect();
  const baselineRssMiB = round(process.memoryUsage().rss);
  const store = memoryStore({ maxEntries });
  const sessions = createSessions({ secret: "bench-secret-0123456789-abcdefghijklmnop", store });
  const samples: Sample[] = [];
  const every = Math.max(1, Math.floor(total / 10));
  const started = performance.now();
  for (let i = 1; i <= total; i++) {
    // A typical first visit that writes: a visitor id and a CSRF token for the login form.
    const session = await sessions.load({ headers: {} });
    session.set("visitor", i);
    session.csrfToken();
    await sessions.commit(session, new Headers());
    if (i % every === 0) {
      const usage = process.memoryUsage();
      samples.push({
        sessions: i,
        rssMiB: round(usage.rss),
        heapMiB: round(usage.heapUsed),
        stored: store.size,
      });
    }
  }
  const seconds = Math.round((performance.now() - started) / 100) / 10;
  collect();
  const usage = process.memoryUsage();
  const result: Result = {
    label,
    maxEntries,
    sessions: total,
    seconds,
    baselineRssMiB,
    samples,
    finalRssMiB: round(usage.rss),
    finalHeapMiB: round(usage.heapUsed),
    stored: store.size,
  };
  await sessions.close();
  return result;
}

const { values } = parseArgs({
  options: {
    child: { type: "string" },
    "max-entries": { type: "string" },
    sessions: { type: "string", default: "1000000" },
    json: { type: "boolean", default: false },
  },
});
const total = Number(values.sessions);
if (!Number.isInteger(total) || total < 1) throw new Error("--sessions must be a positive integer");

if (values.child !== undefined) {
  const result = await child(values.child, Number(values["max-entries"]), total);
  process.stdout.write(`${JSON.stringify(result)}\n`);
} else {
  const configs: Array<[string, number]> = [
    ["maxEntries 10,000", 10_000],
    ["default (100,000)", 100_000],
    [`uncapped (${total.toLocaleString("en")})`, total],
  ];
  const self = fileURLToPath(import.meta.url);
  const results: Result[] = [];
  for (const [label, maxEntries] of configs) {
    const out = execFileSync(
      process.execPath,
      [
        "--expose-gc",
        "--conditions=flagon-source",
        "--import",
        "tsx",
        self,
        "--child",
        label,
        "--max-entries",
        String(maxEntries),
        "--sessions",
        String(total),
      ],
      { encoding: "utf8", maxBuffer: 16 * MiB },
    );
    const result = JSON.parse(out.trim().split("\n").at(-1) ?? "{}") as Result;
    results.push(result);
    if (!values.json) {
      console.log(
        `${label.padEnd(26)} stored ${String(result.stored).padStart(9)}  RSS ${result.baselineRssMiB} → ${result.finalRssMiB} MiB ` +
          `(heap ${result.finalHeapMiB} MiB)  ${result.seconds} s`,
      );
      console.log(
        `  RSS by sessions created: ${result.samples.map((s) => `${s.sessions / 1000}k:${s.rssMiB}`).join(" ")}`,
      );
    }
  }
  if (values.json) console.log(JSON.stringify(results, null, 2));
}
