import type { QueryConfig } from "pg";
import { applyStatement, lockId, qualified, type Tables } from "./schema.js";

export interface Statements {
  get: QueryConfig;
  getMany: QueryConfig;
  apply: QueryConfig;
  applyMany: QueryConfig;
  destroy: QueryConfig;
  listUser: QueryConfig;
  revoke: QueryConfig;
  purge: QueryConfig;
}

/**
 * Named statements: each pooled connection parses and plans them once. The name carries a digest of
 * the table, so two stores on one pool (other tables) never share a plan.
 */
export function prepareStatements(t: Tables): Statements {
  const table = qualified(t);
  const tag = lockTag(t);
  const named = (name: string, text: string): QueryConfig => ({ name: `flagon_${name}_${tag}`, text });
  const columns = "data, flashes, created_at, last_seen_at, expires_at, permanent, lifecycle";
  const notRevoked = "(lifecycle->>'revoked') IS DISTINCT FROM 'true'";
  return {
    get: named("get", `SELECT ${columns} FROM ${table} WHERE key = $1 AND expires_at > $2`),
    // Loads that waited for a connection, in one statement (see StatementQueue).
    getMany: named(
      "get_many",
      `SELECT key, ${columns} FROM ${table} WHERE key = ANY($1::text[]) AND expires_at > $2`,
    ),
    // A commit sent alone; the semantics are written once, in applySql (src/stores/postgres/schema.ts).
    apply: named("apply", applyStatement(t)),
    // Commits that waited for a connection: one statement, one transaction, one WAL flush for all.
    applyMany: named(
      "apply_many",
      `SELECT ${qualified(t, "_apply")}(c.k, c.n, c.c, ARRAY(SELECT jsonb_array_elements_text(c.d)), c.s,
              ARRAY(SELECT jsonb_array_elements_text(c.f)), c.a, c.ca, c.ls, c.ex, c.p, c.l, c.u)
         FROM jsonb_to_recordset($1::jsonb) AS c(k text, n bigint, c boolean, d jsonb, s jsonb, f jsonb,
              a jsonb, ca bigint, ls bigint, ex bigint, p boolean, l jsonb, u text)`,
    ),
    destroy: named("destroy", `DELETE FROM ${table} WHERE key = $1`),
    listUser: named(
      "list_user",
      `SELECT key, ${columns} FROM ${table}
        WHERE user_tag = $1 AND expires_at > $2 AND ${notRevoked}
        ORDER BY created_at`,
    ),
    revoke: named(
      "revoke",
      `UPDATE ${table}
          SET data = '{}'::jsonb, flashes = '[]'::jsonb, user_tag = NULL,
              lifecycle = coalesce(lifecycle, '{"ref": ""}'::jsonb) || '{"revoked": true}'::jsonb
        WHERE key = $1 AND expires_at > $2 AND ${notRevoked}`,
    ),
    // Whole expired minutes, oldest first, through the expires_minute index; then deleted by their row
    // addresses (a Tid Scan, no join against the table). SKIP LOCKED: never waits for a row a commit holds.
    // $1 is the current minute: every row of an earlier minute expired before now.
    purge: named(
      "purge",
      `DELETE FROM ${table} WHERE ctid = ANY(ARRAY(
         SELECT ctid FROM ${table} WHERE expires_minute < $1 ORDER BY expires_minute LIMIT $2 FOR UPDATE SKIP LOCKED))`,
    ),
  };
}

/** A short, stable name part per table (the advisory lock id in base 36). */
function lockTag(t: Tables): string {
  return BigInt.asUintN(64, BigInt(lockId(t))).toString(36);
}
