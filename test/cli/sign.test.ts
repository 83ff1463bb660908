import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { EXIT } from "../../src/cli/index.js";
import { decodeFlaskCookie, FlaskTuple, openFlaskCookie } from "../../src/flask/index.js";
import { createSessions, storeKey } from "../../src/session/index.js";
import { cookieStore } from "../../src/stores/cookie.js";
import { memoryStore } from "../../src/stores/memory.js";
import { run, runJSON } from "./run.js";

const SECRET = "the current secret, at least 32 bytes long";
const T0 = Date.UTC(2025, 5, 1);

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(T0);
});
afterEach(() => {
  vi.useRealTimers();
});

const load = (sessions: ReturnType<typeof createSessions>, name: string, value: string) =>
  sessions.load(new Headers({ cookie: `${name}=${value}` }));

describe("flagon sign / seal: test cookies the session layer accepts", () => {
  it.each([
    ["sign", false],
    ["seal", true],
  ] as const)(
    "`%s` mints a cookie createSessions loads: data, flashes, permanent",
    async (command, encrypt) => {
      const { code, stdout } = await run([
        command,
        "--secret",
        SECRET,
        "--flash",
        "info:Welcome back",
        "--flash",
        "plain message",
        "--permanent",
        '{"user":"leo","roles":["admin"]}',
      ]);
      expect(code).toBe(EXIT.ok);
      const value = stdout.trim();
      expect(value.startsWith("v1.")).toBe(true);
      if (encrypt) expect(value).not.toContain("leo");
      const session = await load(
        createSessions({ secret: SECRET, store: cookieStore({ encrypt }) }),
        "sid",
        value,
      );
      expect(session.isNew).toBe(false);
      expect(session.toJSON()).toEqual({ user: "leo", roles: ["admin"] });
      expect(session.permanent).toBe(true);
      expect(session.getFlashedMessages({ withCategories: true })).toEqual([
        ["info", "Welcome back"],
        ["message", "plain message"],
      ]);
    },
  );

  it("--name binds the cookie name; --lifetime sets the embedded expiry", async () => {
    const { json } = await runJSON([
      "sign",
      "--secret",
      SECRET,
      "--name",
      "__Host-sid",
      "--lifetime",
      "60",
      '{"a":1}',
    ]);
    expect(json).toMatchObject({ name: "__Host-sid", cookie: `__Host-sid=${json.value}` });
    const sessions = createSessions({
      secret: SECRET,
      store: cookieStore({ encrypt: false }),
      cookie: { name: "sid" },
    });
    const https = { headers: new Headers({ cookie: `__Host-sid=${json.value}` }), secure: true };
    expect((await sessions.load(https)).get("a")).toBe(1);
    vi.setSystemTime(T0 + 61_000);
    expect((await sessions.load(https)).isNew).toBe(true);
    expect((await run(["decode", "--secret", SECRET, json.value as string])).code).toBe(EXIT.expired);
  });

  it("`sign --id` mints a server-store cookie whose signature the session layer accepts", async () => {
    const { code, json } = await runJSON(["sign", "--id", "--secret", SECRET, "known-test-id-0123456789"]);
    expect(code).toBe(0);
    expect(json.storeKey).toBe(storeKey("known-test-id-0123456789"));
    const decoded = await runJSON(["decode", "--secret", SECRET, json.value as string]);
    expect(decoded.json).toMatchObject({
      kind: "session-id",
      status: "valid",
      payload: { storeKey: json.storeKey },
    });
    // Strict mode: a correctly signed id the store never issued is not adopted (docs/security.md §11).
    const session = await load(
      createSessions({ secret: SECRET, store: memoryStore() }),
      "sid",
      json.value as string,
    );
    expect(session.isNew).toBe(true);
  });

  it("`sign --id` without an id uses a fresh random one", async () => {
    const a = await runJSON(["sign", "--id", "--secret", SECRET]);
    const b = await runJSON(["sign", "--id", "--secret", SECRET]);
    expect(a.json.storeKey).not.toBe(b.json.storeKey);
  });

  it("`sign --flask` mints a Flask session cookie from typed JSON, with _flashes and _permanent", async () => {
    const { code, stdout } = await run([
      "sign",
      "--flask",
      "--secret",
      "Secret Key",
      "--flash",
      "Login Successfully.",
      "--permanent",
      '{"name":"Leo","pair":{"$tuple":[1,2]},"raw":{"$bytes":"AQI="}}',
    ]);
    expect(code).toBe(0);
    expect(decodeFlaskCookie(stdout.trim(), "Secret Key")).toEqual({
      name: "Leo",
      pair: FlaskTuple.of(1, 2),
      raw: Uint8Array.from([1, 2]),
      _flashes: [FlaskTuple.of("message", "Login Successfully.")],
      _permanent: true,
    });
    expect(openFlaskCookie(stdout.trim(), "Secret Key")).toMatchObject({ ok: true, issuedAt: new Date(T0) });
  });

  it.each([
    ["no secret", ["sign", '{"a":1}']],
    ["a short secret", ["sign", "--secret", "short", '{"a":1}']],
    ["DATA that is not JSON", ["sign", "--secret", SECRET, "{a:1}"]],
    ["DATA that is not an object", ["seal", "--secret", SECRET, "[1]"]],
    ["no DATA", ["seal", "--secret", SECRET]],
    ["a bad --lifetime", ["sign", "--secret", SECRET, "--lifetime", "1h", '{"a":1}']],
    ["seal --flask", ["seal", "--flask", "--secret", SECRET, '{"a":1}']],
    ["seal --id", ["seal", "--id", "--secret", SECRET]],
    ["invalid typed JSON for --flask", ["sign", "--flask", "--secret", "k", '{"a":{"$nope":1}}']],
    [
      "a value Flask cannot hold",
      ["sign", "--flask", "--secret", "k", '{"a":{"$datetime":"0000-01-01T00:00:00Z"}}'],
    ],
  ])("exits 2 for %s", async (_name, argv) => {
    const { code, stderr } = await run(argv);
    expect(code).toBe(EXIT.usage);
    expect(stderr).toMatch(/^flagon (sign|seal): /);
  });
});
