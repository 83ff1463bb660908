import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll } from "vitest";
import { sqliteStore } from "../../src/stores/sqlite.js";
import { describeStoreConformance } from "./store-suite.js";

const dir = mkdtempSync(join(tmpdir(), "flagon-sqlite-conformance-"));
let files = 0;

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Every byte of every file the stores wrote (database, WAL, shared memory), plus the rows as SQL sees them. */
async function dump(): Promise<string> {
  const parts: string[] = [];
  for (const name of readdirSync(dir)) {
    parts.push(readFileSync(join(dir, name)).toString("latin1"));
    if (name.endsWith(".db")) {
      const db = new Database(join(dir, name), { readonly: true });
      try {
        parts.push(JSON.stringify(db.prepare("SELECT * FROM flagon_sessions").all()));
      } finally {
        db.close();
      }
    }
  }
  return parts.join("\n");
}

describeStoreConformance(
  "sqliteStore",
  async () => {
    files += 1;
    return sqliteStore({ path: join(dir, `sessions-${files}.db`) });
  },
  { dump, concurrency: 500 },
);
