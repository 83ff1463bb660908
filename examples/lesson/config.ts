import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { ConfigError, cookieStore, memoryStore, type SessionStore } from "flagon";
import { parseTrustProxy, type TrustProxy } from "./trust-proxy.js";

/** Where the lesson app keeps its sessions. */
export type StoreKind = "sqlite" | "memory" | "cookie" | "redis" | "postgres" | "flask";
const STORE_KINDS: readonly StoreKind[] = ["sqlite", "memory", "cookie", "redis", "postgres", "flask"];

/** The lesson's `app.secret_key = "Secret Key"`: fine for reading along, never for running. */
const LESSON_SECRET = "Secret Key";
const KEYGEN = `node -e "console.log(require('node:crypto').randomBytes(32).toString('base64url'))"`;

export interface LessonConfig {
  production: boolean;
  host: string;
  port: number;
  dataDir: string;
  store: StoreKind;
  redisUrl: string;
  /** `DATABASE_URL`: the PostgreSQL database of `SESSION_STORE=postgres`. */
  databaseUrl: string;
  /**
   * `TRUST_PROXY`, as Express's `trust proxy` setting reads it: `true`/`false`, a number of hops, or
   * addresses and subnets (`loopback, 10.0.0.0/8`). Unset: `false`. Both lesson apps apply it alike.
   */
  trustProxy: TrustProxy;
  /** `SESSION_LIFETIME`: seconds a session lives after its last activity (flagon's `permanentLifetime`). */
  sessionLifetime: number | undefined;
  /** `SESSION_IDLE_TIMEOUT`: seconds of inactivity that end a session (flagon's `idleTimeout`). */
  idleTimeout: number | undefined;
  secret: string;
  /** How the secret was found, for the start-up message. */
  secretSource: "environment" | "file" | "generated";
  /** The key file (when `secretSource` is not "environment"). */
  secretFile: string | undefined;
}

export type Env = Readonly<Record<string, string | undefined>>;

function readPort(value: string | undefined): number {
  if (value === undefined || value === "") return 3000;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError("ERR_INVALID_OPTION", `PORT must be a number from 0 to 65535, got "${value}"`);
  }
  return port;
}

function readStore(value: string | undefined): StoreKind {
  const store = (value === undefined || value === "" ? "sqlite" : value.toLowerCase()) as StoreKind;
  if (!STORE_KINDS.includes(store)) {
    throw new ConfigError(
      "ERR_INVALID_OPTION",
      `SESSION_STORE must be one of ${STORE_KINDS.join(", ")}, got "${value}"`,
    );
  }
  return store;
}

/** A number of seconds from the environment (unset or empty: undefined). */
function readSeconds(name: string, value: string | undefined): number | undefined {
  if (value === undefined || value === "") return undefined;
  const seconds = Number(value);
  if (!Number.isInteger(seconds) || seconds <= 0 || seconds > 400 * 86400) {
    throw new ConfigError(
      "ERR_INVALID_OPTION",
      `${name} must be a whole number of seconds from 1 to 34560000 (400 days), got "${value}"`,
    );
  }
  return seconds;
}

/**
 * The secret: `SECRET_KEY` from the environment; outside production, a key generated once and
 * kept in `<dataDir>/secret.key` (mode 0600) so sessions survive restarts. Production without
 * `SECRET_KEY` refuses to start: a key generated on the server would differ between instances.
 */
export function resolveSecret(
  env: Env,
  dataDir: string,
  production: boolean,
): Pick<LessonConfig, "secret" | "secretSource" | "secretFile"> {
  const fromEnv = env.SECRET_KEY;
  if (fromEnv !== undefined && fromEnv !== "") {
    if (fromEnv === LESSON_SECRET) {
      throw new ConfigError(
        "ERR_SECRET_TOO_SHORT",
        `SECRET_KEY is the lesson's example "Secret Key"; generate a real one with: ${KEYGEN}`,
      );
    }
    return { secret: fromEnv, secretSource: "environment", secretFile: undefined };
  }
  if (production) {
    throw new ConfigError(
      "ERR_SECRET_MISSING",
      `SECRET_KEY is not set. In production the app will not invent one; generate it with: ${KEYGEN}`,
    );
  }
  const file = join(dataDir, "secret.key");
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  try {
    // "wx": never overwrite a key another process just wrote.
    const secret = randomBytes(32).toString("base64url");
    writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: "wx" });
    return { secret, secretSource: "generated", secretFile: file };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  // Tighten a key file that others can read (copied around, or made by hand).
  if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  const secret = readFileSync(file, "utf8").trim();
  return { secret, secretSource: "file", secretFile: file };
}

/** Reads the lesson app's settings from the environment. Throws `ConfigError` with a readable message. */
export function loadConfig(env: Env, cwd: string = process.cwd()): LessonConfig {
  const production = env.NODE_ENV === "production";
  const dataDir = resolve(cwd, env.DATA_DIR || "data");
  return {
    production,
    host: env.HOST || "127.0.0.1",
    port: readPort(env.PORT),
    dataDir,
    store: readStore(env.SESSION_STORE),
    redisUrl: env.REDIS_URL || "redis://127.0.0.1:6379",
    databaseUrl: env.DATABASE_URL || "postgres://postgres@127.0.0.1:5432/test",
    trustProxy: parseTrustProxy(env.TRUST_PROXY),
    sessionLifetime: readSeconds("SESSION_LIFETIME", env.SESSION_LIFETIME),
    idleTimeout: readSeconds("SESSION_IDLE_TIMEOUT", env.SESSION_IDLE_TIMEOUT),
    ...resolveSecret(env, dataDir, production),
  };
}

/** A path as the user would type it: relative when inside `cwd`, absolute otherwise. */
export function displayPath(path: string, cwd: string = process.cwd()): string {
  const near = relative(cwd, path);
  return near === "" || near.startsWith("..") ? path : near;
}

export interface OpenedStore {
  store: SessionStore;
  /** One line for the start-up message and the home page panel. */
  description: string;
  close(): Promise<void>;
}

/** Opens the configured store. SQLite, Redis, PostgreSQL and Flask load only when chosen (optional peers). */
export async function openStore(config: LessonConfig, cwd: string = process.cwd()): Promise<OpenedStore> {
  switch (config.store) {
    case "memory": {
      const store = memoryStore();
      return {
        store,
        description: "in this process's memory, under a hash of the id in your cookie",
        close: async () => store.close?.(),
      };
    }
    case "cookie":
      return {
        store: cookieStore(),
        description: "sealed (AES-256-GCM) inside the session cookie itself: the server keeps nothing",
        close: async () => {},
      };
    case "sqlite": {
      const { sqliteStore } = await import("flagon/sqlite");
      const path = join(config.dataDir, "sessions.db");
      const store = sqliteStore({ path });
      return {
        store,
        description: `in SQLite (${displayPath(path, cwd)}), under a hash of the id in your cookie`,
        close: () => store.close(),
      };
    }
    case "redis": {
      const { redisStore } = await import("flagon/redis");
      const store = redisStore({ url: config.redisUrl });
      const where = new URL(config.redisUrl);
      return {
        store,
        description: `in Redis (${where.host}), under a hash of the id in your cookie`,
        close: () => store.close(),
      };
    }
    case "postgres": {
      const { postgresStore } = await import("flagon/postgres");
      const store = postgresStore({ connectionString: config.databaseUrl });
      // Never the password: host, port and database only.
      const where = new URL(config.databaseUrl);
      return {
        store,
        description: `in PostgreSQL (${where.host}${where.pathname}, table ${store.table}), under a hash of the id in your cookie`,
        close: () => store.close(),
      };
    }
    case "flask": {
      const { flaskCookieStore } = await import("flagon/flask");
      return {
        store: flaskCookieStore({ secretKey: config.secret }),
        description: "signed, not encrypted, inside Flask's own session cookie: readable, but not changeable",
        close: async () => {},
      };
    }
  }
}

/** The start-up line that says where the secret came from (never the secret). */
export function secretLine(config: LessonConfig): string {
  const file = config.secretFile === undefined ? "" : displayPath(config.secretFile);
  switch (config.secretSource) {
    case "environment":
      return "Secret key: SECRET_KEY from the environment.";
    case "generated":
      return `Secret key: none was set, so a new one was generated and saved in ${file} (mode 0600). Set SECRET_KEY to use your own.`;
    case "file":
      return `Secret key: read from ${file} (set SECRET_KEY to use your own).`;
  }
}
