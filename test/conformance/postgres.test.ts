import { afterAll, describe } from "vitest";
import { postgresStore } from "../../src/stores/postgres.js";
import { adminPool, DATABASE_URL, dropSchema, postgresAvailable, testSchema } from "../helpers/postgres.js";
import { describeStoreConformance } from "./store-suite.js";

const available = await postgresAvailable("PostgreSQL store conformance (test/conformance/postgres.test.ts)");
const schema = testSchema("conformance");
const admin = available ? adminPool() : undefined;
let tables = 0;

afterAll(async () => {
  if (admin) {
    await dropSchema(admin, schema);
    await admin.end();
  }
});

/** Every row of every table this run made, as Postgres returns it (text of all columns). */
async function dump(): Promise<string> {
  const parts: string[] = [];
  const listed = await admin!.query<{ name: string }>(
    "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = $1",
    [schema],
  );
  for (const { name } of listed.rows) {
    const rows = await admin!.query(`SELECT t::text AS row FROM "${schema}"."${name}" t`);
    for (const row of rows.rows) parts.push(String(row.row));
  }
  return parts.join("\n");
}

describe.skipIf(!available)("postgresStore", () => {
  describeStoreConformance(
    "postgresStore",
    async () => {
      tables += 1;
      // The suite fires 500 concurrent writes at one row; on a loaded 2-core machine they need more than 1 s.
      return postgresStore({
        connectionString: DATABASE_URL,
        schema,
        table: `sessions_${tables}`,
        statementTimeout: 20_000,
        connectTimeout: 20_000,
        poolSize: 4,
      });
    },
    { dump, concurrency: 500 },
  );
});
