import type BetterSqlite3 from "better-sqlite3";

/** The schema this release writes. Later releases append to `MIGRATIONS` and bump it. */
export const SCHEMA_VERSION = 2;

export const SESSIONS_TABLE = "flagon_sessions";
export const META_TABLE = "flagon_meta";

/**
 * `MIGRATIONS[n]` takes the schema from version n to n + 1; each runs inside the caller's
 * `BEGIN IMMEDIATE` transaction, so two processes opening a fresh file migrate it once.
 * The schema version lives in a table of its own, not in `PRAGMA user_version`, because an
 * application may keep its own tables (and its own user_version) in the same file.
 */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS ${META_TABLE} (
     name  TEXT PRIMARY KEY,
     value TEXT NOT NULL
   );
   -- key: sha256 hex of the session id, hashed by the core before any store call,
   -- so a copy of this file holds no usable cookie value.
   CREATE TABLE IF NOT EXISTS ${SESSIONS_TABLE} (
     key          TEXT PRIMARY KEY NOT NULL,
     data         TEXT NOT NULL,
     flashes      TEXT NOT NULL,
     created_at   INTEGER NOT NULL,
     last_seen_at INTEGER NOT NULL,
     expires_at   INTEGER NOT NULL,
     permanent    INTEGER NOT NULL
   );
   CREATE INDEX IF NOT EXISTS ${SESSIONS_TABLE}_expires_at ON ${SESSIONS_TABLE} (expires_at);`,
  // 1 → 2 (0.2): session lifecycles. lifecycle: the JSON of the session's Lifecycle (user, ref, own
  // lifetime, revoked); user_tag: its user's tag, indexed (partial: anonymous rows cost the index nothing)
  // so that listing or revoking a user's sessions reads only that user's rows.
  `ALTER TABLE ${SESSIONS_TABLE} ADD COLUMN lifecycle TEXT;
   ALTER TABLE ${SESSIONS_TABLE} ADD COLUMN user_tag TEXT;
   CREATE INDEX IF NOT EXISTS ${SESSIONS_TABLE}_user_tag ON ${SESSIONS_TABLE} (user_tag)
     WHERE user_tag IS NOT NULL;`,
];

if (MIGRATIONS.length !== SCHEMA_VERSION) {
  throw new Error("flagon/sqlite: MIGRATIONS and SCHEMA_VERSION disagree");
}

/** Thrown when the file holds a schema this release cannot read. */
export class SchemaVersionError extends Error {
  constructor(readonly found: string) {
    super(`schema version ${found}`);
  }
}

/** The schema version recorded in the file: 0 for a file flagon never touched. A plain read, no write lock. */
export function readSchemaVersion(db: BetterSqlite3.Database): number {
  const hasMeta = db
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?")
    .pluck()
    .get(META_TABLE);
  if (hasMeta === undefined) return 0;
  const raw = db.prepare(`SELECT value FROM ${META_TABLE} WHERE name = 'schema_version'`).pluck().get();
  if (raw === undefined) return 0;
  const version = typeof raw === "string" && /^[0-9]{1,6}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(version) || version > SCHEMA_VERSION) throw new SchemaVersionError(String(raw));
  return version;
}

/**
 * Brings the file to `SCHEMA_VERSION`. Cheap when it is already there: one read, no lock.
 * Otherwise one `BEGIN IMMEDIATE` transaction re-reads the version (another process may
 * have migrated meanwhile) and runs the missing steps.
 */
export function ensureSchema(db: BetterSqlite3.Database): void {
  if (readSchemaVersion(db) === SCHEMA_VERSION) return;
  db.transaction(() => {
    const from = readSchemaVersion(db);
    for (let version = from; version < SCHEMA_VERSION; version++) {
      db.exec(MIGRATIONS[version] as string);
    }
    db.prepare(
      `INSERT INTO ${META_TABLE} (name, value) VALUES ('schema_version', ?)
       ON CONFLICT (name) DO UPDATE SET value = excluded.value`,
    ).run(String(SCHEMA_VERSION));
  }).immediate();
}
