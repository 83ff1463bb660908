import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadConfig, openStore, resolveSecret } from "../../examples/lesson/config.js";

let cwd: string;
beforeEach(() => {
  cwd = mkdtempSync(join(tmpdir(), "flagon-lesson-config-"));
});
afterEach(() => rmSync(cwd, { recursive: true, force: true }));

const mode = (path: string) => statSync(path).mode & 0o777;

describe("lesson app configuration", () => {
  it("defaults: 127.0.0.1:3000, SQLite in ./data, development", () => {
    const config = loadConfig({}, cwd);
    expect(config).toMatchObject({
      host: "127.0.0.1",
      port: 3000,
      store: "sqlite",
      dataDir: join(cwd, "data"),
      production: false,
      redisUrl: "redis://127.0.0.1:6379",
      databaseUrl: "postgres://postgres@127.0.0.1:5432/test",
    });
  });

  it("reads PORT, HOST, SESSION_STORE, REDIS_URL, DATA_DIR and TRUST_PROXY", () => {
    const config = loadConfig(
      {
        PORT: "0",
        HOST: "::1",
        SESSION_STORE: "Redis",
        REDIS_URL: "redis://cache:6380",
        DATA_DIR: "state",
        TRUST_PROXY: "loopback",
        SECRET_KEY: "k".repeat(40),
      },
      cwd,
    );
    expect(config).toMatchObject({
      port: 0,
      host: "::1",
      store: "redis",
      redisUrl: "redis://cache:6380",
      dataDir: join(cwd, "state"),
      trustProxy: ["loopback"],
    });
  });

  it.each([["-1"], ["65536"], ["3000.5"], ["http"]])("rejects PORT=%s", (port) => {
    expect(() => loadConfig({ PORT: port, SECRET_KEY: "k".repeat(40) }, cwd)).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_OPTION" }),
    );
  });

  it("reads SESSION_LIFETIME and SESSION_IDLE_TIMEOUT (seconds); unset, flagon's defaults apply", () => {
    expect(loadConfig({}, cwd)).toMatchObject({ sessionLifetime: undefined, idleTimeout: undefined });
    expect(
      loadConfig(
        { SESSION_LIFETIME: "86400", SESSION_IDLE_TIMEOUT: "1800", SECRET_KEY: "k".repeat(40) },
        cwd,
      ),
    ).toMatchObject({ sessionLifetime: 86400, idleTimeout: 1800 });
  });

  it.each([
    ["SESSION_LIFETIME", "0"],
    ["SESSION_LIFETIME", "1.5"],
    ["SESSION_LIFETIME", "34560001"],
    ["SESSION_IDLE_TIMEOUT", "-30"],
    ["SESSION_IDLE_TIMEOUT", "30m"],
  ])("rejects %s=%s", (name, value) => {
    expect(() => loadConfig({ [name]: value, SECRET_KEY: "k".repeat(40) }, cwd)).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_OPTION", message: expect.stringContaining(name) }),
    );
  });

  it("rejects an unknown SESSION_STORE", () => {
    expect(() => loadConfig({ SESSION_STORE: "mongo", SECRET_KEY: "k".repeat(40) }, cwd)).toThrow(
      /SESSION_STORE/,
    );
  });

  describe("the secret", () => {
    it("uses SECRET_KEY from the environment and writes no file", () => {
      const secret = resolveSecret({ SECRET_KEY: "s".repeat(40) }, join(cwd, "data"), true);
      expect(secret).toEqual({ secret: "s".repeat(40), secretSource: "environment", secretFile: undefined });
      expect(() => statSync(join(cwd, "data"))).toThrow();
    });

    it('refuses the lesson\'s "Secret Key"', () => {
      expect(() => resolveSecret({ SECRET_KEY: "Secret Key" }, join(cwd, "data"), false)).toThrow(
        expect.objectContaining({ code: "ERR_SECRET_TOO_SHORT" }),
      );
    });

    it("refuses to start in production without SECRET_KEY", () => {
      expect(() => loadConfig({ NODE_ENV: "production" }, cwd)).toThrow(
        expect.objectContaining({ code: "ERR_SECRET_MISSING" }),
      );
      expect(() => statSync(join(cwd, "data", "secret.key"))).toThrow();
    });

    it("outside production generates one into data/secret.key (0600) and reuses it", () => {
      const first = loadConfig({}, cwd);
      expect(first.secretSource).toBe("generated");
      expect(first.secretFile).toBe(join(cwd, "data", "secret.key"));
      expect(first.secret).toMatch(/^[\w-]{43}$/);
      expect(mode(join(cwd, "data", "secret.key"))).toBe(0o600);
      expect(mode(join(cwd, "data"))).toBe(0o700);
      const second = loadConfig({}, cwd);
      expect(second.secretSource).toBe("file");
      expect(second.secret).toBe(first.secret);
      expect(readFileSync(join(cwd, "data", "secret.key"), "utf8").trim()).toBe(first.secret);
    });

    it("tightens a key file that others can read", () => {
      const dir = join(cwd, "data");
      loadConfig({}, cwd);
      chmodSync(join(dir, "secret.key"), 0o644);
      writeFileSync(join(dir, "secret.key"), `${"r".repeat(40)}\n`);
      const config = loadConfig({}, cwd);
      expect(config.secret).toBe("r".repeat(40));
      expect(mode(join(dir, "secret.key"))).toBe(0o600);
    });
  });

  describe("stores", () => {
    it.each([
      ["memory", "server", /memory/],
      ["cookie", "client", /sealed/],
      ["sqlite", "server", /SQLite \(data\/sessions\.db\)/],
      ["flask", "client", /Flask/],
    ] as const)("SESSION_STORE=%s opens a %s store", async (store, kind, description) => {
      const config = loadConfig({ SESSION_STORE: store, SECRET_KEY: "f".repeat(40) }, cwd);
      const opened = await openStore(config, cwd);
      try {
        expect(opened.store.kind).toBe(kind);
        expect(opened.description).toMatch(description);
      } finally {
        await opened.close();
      }
    });

    it("SESSION_STORE=postgres opens a PostgreSQL store for DATABASE_URL, described without a password", async () => {
      const config = loadConfig(
        {
          SESSION_STORE: "postgres",
          DATABASE_URL: "postgres://postgres:not-needed-secret@127.0.0.1:5432/test",
          SECRET_KEY: "f".repeat(40),
        },
        cwd,
      );
      const opened = await openStore(config, cwd);
      try {
        expect(opened.store.kind).toBe("server");
        expect(opened.description).toBe(
          'in PostgreSQL (127.0.0.1:5432/test, table "public"."flagon_sessions"), under a hash of the id in your cookie',
        );
        expect(opened.description).not.toContain("not-needed-secret");
      } finally {
        await opened.close();
      }
    });

    it("SESSION_STORE=redis opens a Redis store for REDIS_URL", async () => {
      const config = loadConfig({ SESSION_STORE: "redis", SECRET_KEY: "f".repeat(40) }, cwd);
      const opened = await openStore(config, cwd);
      try {
        expect(opened.store.kind).toBe("server");
        expect(opened.description).toBe("in Redis (127.0.0.1:6379), under a hash of the id in your cookie");
        if (opened.store.kind === "server")
          await expect(opened.store.get("0".repeat(64))).resolves.toBeNull();
      } finally {
        await opened.close();
      }
    });
  });
});
