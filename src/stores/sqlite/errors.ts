import { FlagonError, SessionStoreError } from "../../errors.js";
import { SCHEMA_VERSION, SchemaVersionError } from "./schema.js";

/** Code of the error thrown for a row whose data or flashes are not the JSON flagon wrote. */
export const BAD_ROW = "FLAGON_BAD_ROW";

/** SQLite answered "someone else holds the lock": worth waiting for. */
export function isBusy(error: unknown): boolean {
  const code = sqliteCode(error);
  return code === "SQLITE_BUSY" || code?.startsWith("SQLITE_BUSY_") === true || code === "SQLITE_LOCKED";
}

function sqliteCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" ? code : undefined;
}

/**
 * Turns whatever better-sqlite3, the file system or the schema check threw into the store
 * `SessionStoreError` the adapters answer with 503 (docs/sessions.md). The message names the file and the operation, never a
 * key; SQLite's own text stays in `cause`.
 */
export function toStoreError(
  error: unknown,
  file: string,
  operation: string,
  busyTimeout: number,
): FlagonError {
  if (error instanceof FlagonError) return error;
  const where = `SQLite session store "${file}"`;
  if (error instanceof SchemaVersionError) {
    return new SessionStoreError(
      `${where}: sessions schema version ${error.found} is newer than this flagon understands (${SCHEMA_VERSION}); upgrade flagon or use another file`,
      { code: "ERR_STORE_FAILED", cause: error },
    );
  }
  const code = sqliteCode(error) ?? "unknown";
  const unavailable = (reason: string) =>
    new SessionStoreError(`${where}: ${operation} failed: ${reason} (${code})`, {
      code: "ERR_STORE_UNAVAILABLE",
      cause: error,
    });
  const failed = (reason: string) =>
    new SessionStoreError(`${where}: ${operation} failed: ${reason} (${code})`, {
      code: "ERR_STORE_FAILED",
      cause: error,
    });
  if (isBusy(error))
    return unavailable(`the database is locked by another connection (waited ${busyTimeout} ms)`);
  if (code.startsWith("SQLITE_CANTOPEN")) return unavailable("cannot open the database file");
  if (code.startsWith("SQLITE_IOERR")) return unavailable("disk I/O error");
  if (code === "SQLITE_NOTADB") return failed("the file is not an SQLite database");
  if (code.startsWith("SQLITE_CORRUPT")) return failed("the database file is corrupt");
  if (code === BAD_ROW) return failed("a session row does not hold the JSON flagon wrote");
  if (code.startsWith("SQLITE_READONLY")) return failed("the database is read-only");
  if (code === "SQLITE_FULL") return failed("the disk is full");
  if (code === "SQLITE_PERM" || code === "EACCES" || code === "EPERM") return failed("permission denied");
  if (code === "ENOTDIR" || code === "EEXIST") return failed("a parent of the path is not a directory");
  return failed("unexpected error");
}
