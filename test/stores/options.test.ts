/**
 * Every store factory refuses, at construction, an option it does not know (with the valid names,
 * the closest one, and what other libraries' names became) and a value it cannot use (saying what
 * it must be). A silently ignored option is a store that does something else than the app asked.
 */
import { describe, expect, it } from "vitest";
import { flaskCookieStore } from "../../src/flask/store.js";
import { ConfigError, cookieStore, memoryStore } from "../../src/index.js";
import { postgresStore } from "../../src/stores/postgres.js";
import { redisStore } from "../../src/stores/redis.js";
import { sqliteStore } from "../../src/stores/sqlite.js";

const FLASK_KEY = "a-flask-secret-key-that-is-long-enough-0123";

function configError(make: () => unknown): ConfigError {
  try {
    const made = make() as { close?: () => unknown } | undefined;
    void made?.close?.();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error("expected a ConfigError at construction");
}

describe("unknown option names", () => {
  it.each([
    [
      "cookieStore",
      () => cookieStore({ encrypted: false } as never),
      '"encrypted"',
      'did you mean "encrypt"',
      "encrypt",
    ],
    [
      "memoryStore",
      () => memoryStore({ maxEntires: 10 } as never),
      '"maxEntires"',
      'did you mean "maxEntries"',
      "maxEntries, sweepInterval",
    ],
    [
      "sqliteStore",
      () => sqliteStore({ path: ":memory:", purgeIntervall: 5 } as never),
      '"purgeIntervall"',
      'did you mean "purgeInterval"',
      "path, busyTimeout, purgeInterval, purgeBatch, synchronous, onBackgroundError",
    ],
    [
      "redisStore",
      () => redisStore({ urll: "redis://127.0.0.1:1" } as never),
      '"urll"',
      'did you mean "url"',
      "client, url, prefix, commandTimeout",
    ],
    [
      "postgresStore",
      () => postgresStore({ connectionString: "postgres://127.0.0.1:1/x", tablee: "s" } as never),
      '"tablee"',
      'did you mean "table"',
      "pool, connectionString, schema, table, statementTimeout, connectTimeout, poolSize, purgeInterval, purgeBatch, onBackgroundError",
    ],
    [
      "flaskCookieStore",
      () => flaskCookieStore({ secretKey: FLASK_KEY, maxAg: 60 } as never),
      '"maxAg"',
      'did you mean "maxAge"',
      "secretKey, fallbacks, maxAge, allowShortSecret",
    ],
  ])("%s names the wrong option, the closest and every valid one", (_store, make, name, closest, valid) => {
    const error = configError(make);
    expect(error.code).toBe("ERR_UNKNOWN_OPTION");
    expect(error.message).toContain(name);
    expect(error.message).toContain(closest);
    expect(error.message).toContain(`Valid options: ${valid}`);
  });

  it.each([
    ["cookieStore", () => cookieStore({ secret: "x" } as never), "createSessions({ secret })"],
    ["cookieStore", () => cookieStore({ sealed: true } as never), "spelled encrypt"],
    ["memoryStore", () => memoryStore({ checkPeriod: 1000 } as never), "spelled sweepInterval"],
    ["sqliteStore", () => sqliteStore({ filename: "x.db" } as never), "spelled path"],
    ["redisStore", () => redisStore({ host: "127.0.0.1", port: 6379 } as never), "redis://host:port"],
    ["redisStore", () => redisStore({ ttl: 60 } as never), "permanentLifetime"],
    [
      "postgresStore",
      () => postgresStore({ conString: "postgres://h/d" } as never),
      "spelled connectionString",
    ],
    [
      "postgresStore",
      () => postgresStore({ connectionString: "postgres://h/d", tableName: "s" } as never),
      "spelled table",
    ],
    [
      "postgresStore",
      () => postgresStore({ connectionString: "postgres://h/d", ttl: 60 } as never),
      "permanentLifetime",
    ],
    [
      "postgresStore",
      () => postgresStore({ connectionString: "postgres://h/d", pruneSessionInterval: 60 } as never),
      "spelled purgeInterval, in milliseconds",
    ],
    ["flaskCookieStore", () => flaskCookieStore({ SECRET_KEY: FLASK_KEY } as never), "spelled secretKey"],
  ])("%s turns another library's name into the flagon way", (_store, make, advice) => {
    const error = configError(make);
    expect(error.code).toBe("ERR_UNKNOWN_OPTION");
    expect(error.message).toContain(advice);
  });
});

describe("values a store cannot use", () => {
  it.each([
    ["cookieStore encrypt", () => cookieStore({ encrypt: "no" as never }), "`encrypt` must be true"],
    ["memoryStore maxEntries", () => memoryStore({ maxEntries: 0 }), "`maxEntries` must be a whole number"],
    [
      "memoryStore sweepInterval",
      () => memoryStore({ sweepInterval: -1 }),
      "`sweepInterval` must be a number of milliseconds",
    ],
    [
      "memoryStore sweepInterval beyond a timer",
      () => memoryStore({ sweepInterval: 30 * 24 * 3600 * 1000 }),
      "at most 2147483647",
    ],
    ["sqliteStore path", () => sqliteStore({ path: "" }), "`path` must be a non-empty file path"],
    [
      "sqliteStore synchronous",
      () => sqliteStore({ path: ":memory:", synchronous: "off" as never }),
      '"normal" or "full"',
    ],
    [
      "sqliteStore purgeBatch",
      () => sqliteStore({ path: ":memory:", purgeBatch: 0.5 }),
      "`purgeBatch` must be",
    ],
    ["redisStore prefix", () => redisStore({ prefix: "a{b}" }), "`prefix` must be a string without { or }"],
    ["redisStore commandTimeout", () => redisStore({ commandTimeout: 0 }), "`commandTimeout` must be"],
    ["redisStore url", () => redisStore({ url: "http://127.0.0.1:6379" }), "redis:// or rediss://"],
    [
      "postgresStore neither pool nor URL",
      () => postgresStore({}),
      "give `pool` (a pg.Pool) or `connectionString`",
    ],
    [
      "postgresStore table",
      () => postgresStore({ connectionString: "postgres://h/d", table: 'x"; drop table y' }),
      "`table` must be lower-case letters",
    ],
    [
      "postgresStore statementTimeout",
      () => postgresStore({ connectionString: "postgres://h/d", statementTimeout: 0 }),
      "`statementTimeout` must be",
    ],
    ["postgresStore pool", () => postgresStore({ pool: {} as never }), "`pool` must be a pg.Pool"],
  ])("%s: the message says what it must be", (_what, make, message) => {
    const error = configError(make);
    expect(error.code).toBe("ERR_INVALID_OPTION");
    expect(error.message).toContain(message);
  });

  it("a Redis URL with a password is refused without repeating it", () => {
    const error = configError(() => redisStore({ url: "http://:hunter2-password@127.0.0.1:6379" }));
    expect(error.message).not.toContain("hunter2");
    expect(error.message).toContain('"http"');
  });

  it("a PostgreSQL connection string with a password is refused without repeating it", () => {
    const error = configError(() =>
      postgresStore({ connectionString: "mysql://app:hunter2-password@db/app" }),
    );
    expect(error.message).not.toContain("hunter2");
    expect(error.message).toContain('"mysql"');
  });

  it("redisStore refuses both client and url (one would be ignored)", () => {
    const client = { sendCommand: () => undefined, on: () => undefined } as never;
    const error = configError(() => redisStore({ client, url: "redis://127.0.0.1:6379" }));
    expect(error.message).toContain("either `client` or `url`");
  });

  it("valid options still build each store", async () => {
    const stores = [
      cookieStore({ encrypt: false }),
      memoryStore({ maxEntries: 10, sweepInterval: 0 }),
      sqliteStore({ path: ":memory:", purgeInterval: 0, busyTimeout: 0 }),
      flaskCookieStore({ secretKey: FLASK_KEY, maxAge: 60 }),
    ];
    expect(stores.map((store) => store.kind)).toEqual(["client", "server", "server", "client"]);
    for (const store of stores) await (store as { close?: () => Promise<void> }).close?.();
  });
});
