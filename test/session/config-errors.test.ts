/**
 * Mistakes fail when the sessions are created, never at the first request, and the message says
 * the fix. Each case here was a real first-hour mistake: a silently ignored option, a store that
 * stores nothing, cookie settings that turn every commit into a 500, a secret with no hint.
 */
import { describe, expect, it } from "vitest";
import { ConfigError, cookieStore, createSessions, memoryStore } from "../../src/index.js";
import { sqliteStore } from "../../src/stores/sqlite.js";

const secret = "a-test-secret-that-is-long-enough-0123456789";

function configError(make: () => unknown): ConfigError {
  try {
    make();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error("expected a ConfigError at construction");
}

describe("unknown option names", () => {
  it("a misspelt option names the valid ones and the closest", () => {
    const error = configError(() => createSessions({ secret, permanentLifetme: 60 } as never));
    expect(error.code).toBe("ERR_UNKNOWN_OPTION");
    expect(error.message).toContain('"permanentLifetme"');
    expect(error.message).toContain('did you mean "permanentLifetime"');
    expect(error.message).toContain("Valid options: secret, store, cookie,");
  });

  it.each([
    ["resave", "change set"],
    ["saveUninitialized", "never stores a session the request did not change"],
    ["maxAge", "permanentLifetime"],
    ["genid", "256-bit"],
    ["name", "cookie: { name }"],
    ["keys", "secret: [newest"],
  ])("express-session's %s says what flagon does instead", (option, advice) => {
    const error = configError(() => createSessions({ secret, [option]: true } as never));
    expect(error.code).toBe("ERR_UNKNOWN_OPTION");
    expect(error.message).toContain(advice);
  });

  it("cookie.maxAge (express-session's cookie option) is refused with the flagon way", () => {
    const error = configError(() => createSessions({ secret, cookie: { maxAge: 60_000 } } as never));
    expect(error.message).toContain("createSessions cookie");
    expect(error.message).toContain("permanentLifetime");
    expect(error.message).toContain(
      "Valid options: name, path, domain, secure, httpOnly, sameSite, partitioned, prefix",
    );
  });

  it("inherited properties are not options (a prototype cannot smuggle names in or out)", () => {
    const options = Object.create({ resave: true }) as Record<string, unknown>;
    options.secret = secret;
    expect(() => createSessions(options)).not.toThrow();
  });
});

describe("a store that is not a store", () => {
  it("a factory passed uncalled says to call it", () => {
    const error = configError(() => createSessions({ secret, store: sqliteStore as never }));
    expect(error.code).toBe("ERR_INVALID_STORE");
    expect(error.message).toContain('store: sqliteStore({ path: "sessions.db" }) from "flagon/sqlite"');
  });

  it.each([
    ["an empty object", {}],
    ["a string", "sqlite"],
    ["a number", 42],
    ["null", null],
    ["a server store without apply", { kind: "server", get: async () => null, destroy: async () => {} }],
    ["a client store without decode", { kind: "client", encode: () => "x" }],
  ])("%s is refused", (_label, store) => {
    const error = configError(() => createSessions({ secret, store: store as never }));
    expect(error.code).toBe("ERR_INVALID_STORE");
    expect(error.message).toMatch(/store/);
  });

  it('"sqlite" as a string points at sqliteStore', () => {
    expect(configError(() => createSessions({ secret, store: "sqlite" as never })).message).toContain(
      "sqliteStore({",
    );
  });

  it("real stores are accepted", () => {
    expect(() => createSessions({ secret, store: memoryStore() })).not.toThrow();
    expect(() => createSessions({ secret, store: cookieStore() })).not.toThrow();
  });
});

describe("cookie settings that can never be written", () => {
  it.each([
    ["sameSite none with secure auto", { sameSite: "none" }, "cookie.secure: true"],
    [
      "a __Host- name with secure auto",
      { name: "__Host-sid" },
      "flagon adds __Host-/__Secure- on HTTPS itself",
    ],
    [
      "a __Secure- name with secure false",
      { name: "__Secure-sid", secure: false },
      "prefix that needs Secure",
    ],
    ["a __Host- name with a path", { name: "__Host-sid", secure: true, path: "/app" }, "never be written"],
    ["a path with a semicolon", { path: "/; Path=/admin" }, "never be written"],
    ["a domain with a space", { domain: "example .com" }, "never be written"],
    ["a name with a space", { name: "my sid" }, "never be written"],
    ["sameSite in capitals", { sameSite: "Lax" }, '"lax", "strict" or "none"'],
    ["secure as a string", { secure: "true" }, 'true, false or "auto"'],
  ])("%s is refused at construction", (_label, cookie, advice) => {
    const error = configError(() => createSessions({ secret, cookie: cookie as never }));
    expect(error.message).toContain(advice);
  });

  it("the valid variants construct and commit on plain http and on https", async () => {
    for (const cookie of [
      {},
      { sameSite: "none", secure: true },
      { name: "__Host-sid", secure: true },
    ] as const) {
      const sessions = createSessions({ secret, store: cookieStore(), cookie });
      for (const secure of [false, true]) {
        const session = await sessions.load({ headers: {}, secure });
        session.set("k", "v");
        const headers = new Headers();
        await sessions.commit(session, headers);
        expect(headers.getSetCookie()).toHaveLength(1);
      }
    }
  });
});

describe("a missing or weak secret", () => {
  it.each([
    ["missing", undefined, "ERR_SECRET_MISSING"],
    ["empty", "", "ERR_SECRET_MISSING"],
    ["short", "password", "ERR_SECRET_TOO_SHORT"],
  ])("%s names SECRET_KEY and npx flagon keygen", (_label, value, code) => {
    const error = configError(() => createSessions({ secret: value }));
    expect(error.code).toBe(code);
    expect(error.message).toContain("SECRET_KEY");
    expect(error.message).toContain("npx flagon keygen");
    if (value) expect(error.message).not.toContain(value);
  });
});

describe("option values of the wrong type", () => {
  it.each([
    ["rolling", { rolling: "yes" }],
    ["cacheControl", { cacheControl: 0 }],
    ["schema", { schema: { parse() {} } }],
    ["logger", { logger: "console" }],
  ])("%s", (name, options) => {
    const error = configError(() => createSessions({ secret, ...(options as object) }));
    expect(error.code).toBe("ERR_INVALID_OPTION");
    expect(error.message).toContain(name);
  });
});

describe("CSRF options", () => {
  it("csurf's ignoreMethods is refused with flagon's name", async () => {
    const { createCsrfProtection } = await import("../../src/session/csrf.js");
    const error = configError(() => createCsrfProtection({ ignoreMethods: ["GET"] } as never));
    expect(error.code).toBe("ERR_UNKNOWN_OPTION");
    expect(error.message).toContain("spelled safeMethods");
    expect(() => createCsrfProtection({ safeMethods: ["GET"], fieldName: "csrf_token" })).not.toThrow();
  });
});
