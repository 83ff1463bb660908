/**
 * `node --conditions=flagon-source --import tsx bench/postgres-store.ts`: flagon/postgres on its own,
 * without HTTP, against the statements connect-pg-simple sends (its upsert and its SELECT, on its own
 * table layout and a pg.Pool of 10), 3000 calls 32 at a time, three rounds, in a schema of its own
 * (dropped afterwards). DATABASE_URL overrides postgres://postgres@127.0.0.1:5432/test.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { postgresStore } from "../src/stores/postgres.js";

const URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const CALLS = 3000;
const CONCURRENCY = 32;
const schema = `flagon_bench_${randomBytes(4).toString("hex")}`;
const admin = new pg.Pool({ connectionString: URL, max: 2 });
await admin.query(`CREATE SCHEMA ${schema}`);
// connect-pg-simple's table.sql
await admin.query(
  `CREATE TABLE ${schema}.session (sid varchar NOT NULL PRIMARY KEY, sess json NOT NULL, expire timestamp(6) NOT NULL);
   CREATE INDEX ON ${schema}.session (expire)`,
);
const store = postgresStore({ connectionString: URL, schema, purgeInterval: 0 });
await store.ready();
const pool = new pg.Pool({ connectionString: URL, max: 10 });

async function perSecond(call: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < CALLS) await call(next++);
    }),
  );
  return Math.round(CALLS / ((performance.now() - started) / 1000));
}

const now = Date.now();
const meta = { createdAt: now, lastSeenAt: now, expiresAt: now + 3_600_000, permanent: false };
const sess = JSON.stringify({
  cookie: { originalMaxAge: null, httpOnly: true, path: "/" },
  name: "Leo",
  message: "Hello",
  flash: ["Login Successfully."],
});
try {
  for (let round = 1; round <= 3; round++) {
    const tag = randomBytes(4).toString("hex");
    const key = (i: number) => `${tag}${i}`.padEnd(64, "0");
    const apply = await perSecond((i) =>
      store.apply(key(i), {
        clear: false,
        set: [
          ["name", "Leo"],
          ["message", "Hello"],
        ],
        delete: [],
        flashAdd: [{ id: `f${i}`, category: "message", message: "Login Successfully." }],
        flashConsume: [],
        meta,
      }),
    );
    const upsert = await perSecond((i) =>
      pool.query(
        `INSERT INTO ${schema}.session (sess, expire, sid) SELECT $1, to_timestamp($2), $3
         ON CONFLICT (sid) DO UPDATE SET sess = $1, expire = to_timestamp($2) RETURNING sid`,
        [sess, Math.floor(now / 1000) + 3600, key(i)],
      ),
    );
    const get = await perSecond((i) => store.get(key(i)));
    const select = await perSecond((i) =>
      pool.query(`SELECT sess FROM ${schema}.session WHERE sid = $1 AND expire >= to_timestamp($2)`, [
        key(i),
        Math.floor(now / 1000),
      ]),
    );
    console.log(
      `round ${round}: commits/s flagon ${apply}, connect-pg-simple upsert ${upsert}; loads/s flagon ${get}, connect-pg-simple select ${select}`,
    );
  }
} finally {
  await store.close();
  await pool.end();
  await admin.query(`DROP SCHEMA ${schema} CASCADE`);
  await admin.end();
}
