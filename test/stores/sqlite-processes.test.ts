/**
 * The SQLite store's promises across processes: no lost updates between two writer processes,
 * and no lost commits when a writer is killed with SIGKILL.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import Database from "better-sqlite3";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { sqliteStore } from "../../src/stores/sqlite.js";

const repo = resolve(import.meta.dirname, "../..");
const root = mkdtempSync(join(tmpdir(), "flagon-sqlite-processes-"));
const children: ChildProcessWithoutNullStreams[] = [];

afterEach(() => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

function hash(id: string): string {
  return createHash("sha256").update(id).digest("hex");
}

/** Starts a fixture under tsx with the "source" condition; `lines` yields its stdout line by line. */
function run(fixture: string, args: string[]) {
  const child = spawn(
    process.execPath,
    ["--conditions=flagon-source", "--import", "tsx", join(repo, "test/fixtures", fixture), ...args],
    { cwd: repo, stdio: "pipe" },
  );
  children.push(child);
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const exited = once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
  async function nextLine(): Promise<string> {
    const next = await lines.next();
    if (next.done) throw new Error(`${fixture} ended early: ${stderr}`);
    return next.value;
  }
  return { child, lines, nextLine, exited, stderr: () => stderr };
}

describe("sqliteStore across processes", () => {
  it.each([
    ["all 500 at once", 500],
    ["as 10 concurrent loops of 50", 10],
  ])(
    "two processes sharing the file, each making 500 concurrent change sets to one session (%s), lose none",
    async (label, lanes) => {
      const path = join(root, `shared-${lanes}`, "sessions.db");
      const key = hash(`one-session-two-processes-${label}`);
      const writers = [
        run("sqlite-writer.ts", [path, "a", "500", key, String(lanes)]),
        run("sqlite-writer.ts", [path, "b", "500", key, String(lanes)]),
      ];
      for (const writer of writers) expect(await writer.nextLine()).toBe("ready");
      // Both have the file open; release them together so their bursts overlap.
      for (const writer of writers) writer.child.stdin.write("go\n");
      for (const writer of writers) {
        expect(await writer.nextLine()).toMatch(/^done 500 /);
        const [code] = await writer.exited;
        expect(code, writer.stderr()).toBe(0);
      }

      const store = sqliteStore({ path, purgeInterval: 0 });
      try {
        const record = await store.get(key);
        const data = record?.data ?? {};
        expect(Object.keys(data)).toHaveLength(1000);
        for (let i = 0; i < 500; i++) {
          expect(data[`a${i}`]).toBe(i);
          expect(data[`b${i}`]).toBe(i);
        }
        const flashIds = new Set(record?.flashes.map((flash) => flash.id));
        expect(flashIds.size).toBe(1000);
        for (let i = 0; i < 500; i++) {
          expect(flashIds.has(`a-flash-${i}`)).toBe(true);
          expect(flashIds.has(`b-flash-${i}`)).toBe(true);
        }
      } finally {
        await store.close();
      }
    },
  );

  it("SIGKILL mid-burst leaves a file that opens, passes integrity_check and holds every commit that returned", async () => {
    const path = join(root, "crash", "sessions.db");
    const committed: string[] = [];
    // Three kills on the same file, at different points: each round must also find the earlier rounds' sessions.
    for (const [round, killAfter] of [
      [1, 150],
      [2, 700],
      [3, 1300],
    ] as const) {
      const burst = run("sqlite-burst.ts", [path, String(round)]);
      let seen = 0;
      while (seen < killAfter) {
        committed.push(await burst.nextLine());
        seen += 1;
      }
      burst.child.kill("SIGKILL");
      const [, signal] = await burst.exited;
      expect(signal).toBe("SIGKILL");
      // Lines the child printed before it died count too: each was printed after its commit returned.
      for await (const line of burst.lines) committed.push(line);

      const db = new Database(path);
      try {
        expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
        const lookup = db.prepare("SELECT data FROM flagon_sessions WHERE key = ?").pluck();
        const missing = committed.filter((id) => {
          const data = lookup.get(hash(id));
          return typeof data !== "string" || (JSON.parse(data) as { id?: string }).id !== id;
        });
        expect(missing).toEqual([]);
      } finally {
        db.close();
      }
    }
    expect(committed.length).toBeGreaterThanOrEqual(150 + 700 + 1300);

    // And the store itself reads it.
    const store = sqliteStore({ path, purgeInterval: 0 });
    try {
      expect((await store.get(hash(committed.at(-1) as string)))?.data.id).toBe(committed.at(-1));
    } finally {
      await store.close();
    }
  });
});
