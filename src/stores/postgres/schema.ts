import { createHash } from "node:crypto";
import type { PoolClient } from "pg";

/** The schema this release writes. Later releases append to `migrations()` and bump it. */
export const SCHEMA_VERSION = 1;

/** Where one store keeps its rows: a schema and a table name, both plain SQL identifiers. */
export interface Tables {
  readonly schema: string;
  readonly table: string;
}

/** `"schema"."name"`: the identifiers are checked at construction (IDENTIFIER), quoted anyway. */
export function qualified(tables: Tables, suffix = ""): string {
  return `"${tables.schema}"."${tables.table}${suffix}"`;
}

/** The purge index's unit (`expires_minute`): a row is purged at most this long after its expiry. */
export const MINUTE_MS = 60_000;

/** Lower-case letters, digits and `_`, short enough that `<table>_schema` and index names stay under 63 bytes. */
export const IDENTIFIER = /^[a-z_][a-z0-9_]{0,39}$/;

/**
 * `migrations(t)[n]` takes the schema from version n to n + 1. They run in one transaction that holds a
 * transaction-level advisory lock (`pg_advisory_xact_lock`, released by COMMIT or by a dropped
 * connection), so processes starting together migrate once; Postgres DDL is transactional, so a
 * migration that fails leaves nothing half-made.
 */
export function migrations(t: Tables): readonly string[] {
  const sessions = qualified(t);
  return [
    // key: sha256 hex of the session id (hashed by the core before any store call): a dump of the
    // table holds no usable cookie value. Times are ms since the epoch (what the core computes with).
    // lifecycle: the session's Lifecycle as the core wrote it; user_tag: its user's index key.
    `CREATE TABLE IF NOT EXISTS ${sessions} (
       key          text PRIMARY KEY,
       data         jsonb NOT NULL DEFAULT '{}'::jsonb,
       flashes      jsonb NOT NULL DEFAULT '[]'::jsonb,
       created_at   bigint NOT NULL,
       last_seen_at bigint NOT NULL,
       expires_at   bigint NOT NULL,
       permanent    boolean NOT NULL DEFAULT false,
       lifecycle    jsonb,
       user_tag     text,
       -- expires_at in whole minutes, what the purge index holds: a commit moves expires_at by the
       -- seconds since the last one, which rarely changes the minute, so no indexed value changes
       -- and PostgreSQL can update the row in place on its page (a HOT update: no index writes).
       expires_minute bigint NOT NULL
     ) WITH (fillfactor = 80); -- room on each page for those in-place updates
     -- The purge walks expired minutes oldest first, a batch at a time: a range scan of this index.
     CREATE INDEX IF NOT EXISTS "${t.table}_expires_minute" ON ${sessions} (expires_minute);
     -- Partial: anonymous sessions (most rows) cost this index nothing; listUser reads one user's rows.
     CREATE INDEX IF NOT EXISTS "${t.table}_user_tag" ON ${sessions} (user_tag) WHERE user_tag IS NOT NULL;
     ${applyFunction(t)}`,
  ];
}

/** The change set's parameters, in the order of `<table>_apply` and of the solo statement ($1…$13). */
const APPLY_PARAMETERS = [
  ["key", "text"],
  ["now", "bigint"],
  ["clear", "boolean"],
  ["delete", "text[]"],
  ["set", "jsonb"],
  ["consume", "text[]"],
  ["add", "jsonb"],
  ["created_at", "bigint"],
  ["last_seen_at", "bigint"],
  ["expires_at", "bigint"],
  ["permanent", "boolean"],
  ["lifecycle", "jsonb"],
  ["user_tag", "text"],
] as const;
type ApplyParameter = (typeof APPLY_PARAMETERS)[number][0];

/**
 * One change set, applied by the server to the row as it is when the statement runs: the one
 * definition of the semantics, written out as a statement of its own (a commit sent alone) and as the
 * body of `<table>_apply` (commits sent together). The INSERT … ON CONFLICT DO UPDATE locks the row,
 * so a concurrent commit of another key is never lost, and a flash added meanwhile is kept (only the
 * consumed ids are removed). A stored row past its expiry counts as absent (the session starts empty);
 * a revoked row (a tombstone) is left as it is, so a request still in flight cannot bring it back.
 * `now` is the app's clock (the core judges validity by it); `set` is one jsonb object of the keys
 * set (jsonb keeps the last of duplicate keys).
 */
function applySql(t: Tables, p: (name: ApplyParameter) => string): string {
  return `INSERT INTO ${qualified(t)} AS s
       (key, data, flashes, created_at, last_seen_at, expires_at, permanent, lifecycle, user_tag, expires_minute)
     VALUES (${p("key")}, ${p("set")}, ${p("add")}, ${p("created_at")}, ${p("last_seen_at")}, ${p("expires_at")},
             ${p("permanent")}, ${p("lifecycle")}, ${p("user_tag")}, ${p("expires_at")} / ${MINUTE_MS})
     ON CONFLICT (key) DO UPDATE SET
       data = (CASE WHEN ${p("clear")} OR s.expires_at <= ${p("now")} THEN '{}'::jsonb ELSE s.data END
               - ${p("delete")}) || ${p("set")},
       flashes = (CASE
           WHEN s.expires_at <= ${p("now")} THEN '[]'::jsonb
           WHEN cardinality(${p("consume")}) = 0 THEN s.flashes
           ELSE coalesce(
             (SELECT jsonb_agg(f.value ORDER BY f.ordinality)
                FROM jsonb_array_elements(s.flashes) WITH ORDINALITY AS f
               WHERE (f.value->>'id' = ANY(${p("consume")})) IS NOT TRUE),
             '[]'::jsonb)
         END) || ${p("add")},
       created_at = CASE WHEN s.expires_at <= ${p("now")} THEN ${p("created_at")}
                         ELSE least(s.created_at, ${p("created_at")}) END,
       last_seen_at = ${p("last_seen_at")},
       expires_at = ${p("expires_at")},
       expires_minute = ${p("expires_at")} / ${MINUTE_MS},
       permanent = ${p("permanent")},
       lifecycle = ${p("lifecycle")},
       user_tag = CASE WHEN s.expires_at <= ${p("now")} THEN ${p("user_tag")}
                       ELSE coalesce(${p("user_tag")}, s.user_tag) END
     WHERE s.expires_at <= ${p("now")} OR (s.lifecycle->>'revoked') IS DISTINCT FROM 'true'`;
}

/** The change set as one statement with parameters $1…$13 (typed casts: no inference needed). */
export function applyStatement(t: Tables): string {
  return applySql(t, (name) => {
    const index = APPLY_PARAMETERS.findIndex(([parameter]) => parameter === name);
    return `$${index + 1}::${APPLY_PARAMETERS[index]?.[1]}`;
  });
}

/** `<table>_apply(p_key, …)`: the same statement as a function, for commits sent together. */
function applyFunction(t: Tables): string {
  const parameters = APPLY_PARAMETERS.map(([name, type]) => `p_${name} ${type}`).join(", ");
  return `CREATE OR REPLACE FUNCTION ${qualified(t, "_apply")}(${parameters})
     RETURNS void LANGUAGE plpgsql AS $apply$
     BEGIN
       ${applySql(t, (name) => `p_${name}`)};
     END
     $apply$;`;
}

/** Thrown when the database holds a schema newer than this release reads. */
export class SchemaVersionError extends Error {
  constructor(readonly found: number) {
    super(`schema version ${found} is newer than the ${SCHEMA_VERSION} this release of flagon reads`);
  }
}

/** The advisory lock id of one table: the first 8 bytes of a sha256, as a signed 64-bit integer. */
export function lockId(t: Tables): string {
  const digest = createHash("sha256").update(`flagon/postgres:${t.schema}.${t.table}`).digest();
  return digest.readBigInt64BE(0).toString();
}

/** The recorded version: 0 when the version table does not exist yet. */
async function readVersion(client: PoolClient, t: Tables): Promise<number> {
  const exists = await client.query<{ found: boolean }>("SELECT to_regclass($1) IS NOT NULL AS found", [
    qualified(t, "_schema"),
  ]);
  if (exists.rows[0]?.found !== true) return 0;
  const result = await client.query<{ version: number | null }>(
    `SELECT max(version) AS version FROM ${qualified(t, "_schema")}`,
  );
  const version = result.rows[0]?.version ?? 0;
  if (version > SCHEMA_VERSION) throw new SchemaVersionError(version);
  return version;
}

/**
 * Brings the tables to `SCHEMA_VERSION`. Cheap when they are there: two reads, no lock. Otherwise one
 * transaction takes the advisory lock, reads the version again (another process may have migrated
 * while this one waited) and runs the missing steps, recording each in `<table>_schema`.
 * `lockTimeout` bounds the wait for a concurrent migrator (ms).
 */
export async function ensureSchema(client: PoolClient, t: Tables, lockTimeout: number): Promise<void> {
  if ((await readVersion(client, t)) === SCHEMA_VERSION) return;
  await client.query("BEGIN");
  try {
    await client.query(`SET LOCAL statement_timeout = ${Math.ceil(lockTimeout)}`);
    await client.query("SELECT pg_advisory_xact_lock($1::bigint)", [lockId(t)]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${t.schema}"`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${qualified(t, "_schema")} (
         version    integer PRIMARY KEY,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const steps = migrations(t);
    for (let version = await readVersion(client, t); version < SCHEMA_VERSION; version++) {
      await client.query(steps[version] as string);
      await client.query(`INSERT INTO ${qualified(t, "_schema")} (version) VALUES ($1)`, [version + 1]);
    }
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}
