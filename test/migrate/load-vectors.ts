import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  cookieSession,
  djangoSignedCookies,
  type ExpressSessionStoreLike,
  expressSession,
  ironSession,
  type LegacyReader,
  railsEncryptedCookie,
} from "../../src/migrate/index.js";

/** One vector of test/fixtures/migrate/*.json (test/fixtures/migrate/README.md describes the fields). */
export interface MigrateVector {
  id: string;
  notes: string;
  options: Record<string, unknown>;
  cookie_header: string;
  now: number;
  library_accepts: boolean;
  expected: Record<string, unknown> | null;
  reason: string | null;
  store_record?: string | null;
  permanent?: boolean;
  difference?: string;
}

export const LIBRARIES = ["express-session", "cookie-session", "iron-session", "django", "rails"] as const;
export type Library = (typeof LIBRARIES)[number];

export function loadVectors(library: Library): MigrateVector[] {
  const path = fileURLToPath(new URL(`../fixtures/migrate/${library}.json`, import.meta.url));
  const file = JSON.parse(readFileSync(path, "utf8")) as { library: string; vectors: MigrateVector[] };
  if (file.library !== library) throw new Error(`${path} is not the ${library} vectors file`);
  return file.vectors;
}

/** An express-session store holding exactly the vector's record (a plain object with get/destroy). */
export function vectorStore(vector: MigrateVector): ExpressSessionStoreLike & { destroyed: string[] } {
  const destroyed: string[] = [];
  return {
    destroyed,
    get(_sid, callback) {
      setImmediate(() => callback(null, vector.store_record ? JSON.parse(vector.store_record) : undefined));
    },
    destroy(sid, callback) {
      destroyed.push(sid);
      setImmediate(() => callback?.());
    },
  };
}

/** The reader a vector's options describe. */
export function readerFor(library: Library, vector: MigrateVector): LegacyReader {
  const options = vector.options as never;
  switch (library) {
    case "express-session":
      return expressSession({ ...(vector.options as object), store: vectorStore(vector) } as never);
    case "cookie-session":
      return cookieSession(options);
    case "iron-session":
      return ironSession(options);
    case "django":
      return djangoSignedCookies(options);
    case "rails":
      return railsEncryptedCookie(options);
  }
}
