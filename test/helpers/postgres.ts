/**
 * The PostgreSQL that tests use (127.0.0.1:5432, trust auth, database `test`; `.ci/run` starts it).
 * Each test file works in a schema of its own, named per run and dropped afterwards.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";

export const DATABASE_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** True when the server answers; otherwise prints why the calling file's tests are skipped. */
export async function postgresAvailable(what: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return true;
  } catch (error) {
    if (process.env.CI)
      throw new Error(`${what}: PostgreSQL at ${DATABASE_URL} is required in CI`, { cause: error });
    console.warn(`${what}: skipped, no PostgreSQL at ${DATABASE_URL} (${String(error)})`);
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A fresh schema name for one test file's run. */
export function testSchema(label: string): string {
  return `flagon_t_${label}_${randomBytes(5).toString("hex")}`;
}

/** A pool for the test's own looks at the tables (never the store's). */
export function adminPool(): pg.Pool {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 3 });
  pool.on("error", () => undefined);
  return pool;
}

export async function dropSchema(pool: pg.Pool, schema: string): Promise<void> {
  await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}
