import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkCookie, type DoctorConfig } from "../../src/cli/doctor.js";
import { EXIT } from "../../src/cli/index.js";
import { serializeCookie } from "../../src/cookie/serialize.js";
import { createSessions } from "../../src/session/index.js";
import { run, runJSON } from "./run.js";

interface Report {
  cookie: Record<string, unknown>;
  source: string;
  checks: Array<{ id: string; status: "pass" | "warn" | "fail"; message: string; rule: string }>;
  summary: { pass: number; warn: number; fail: number };
}

const statusOf = (report: Report, id: string) => report.checks.find((check) => check.id === id)?.status;

describe("flagon doctor", () => {
  it("passes flagon's secure default, described with options (docs/security.md §18), on every rule", async () => {
    const { code, json } = await runJSON<Report>([
      "doctor",
      "--name",
      "__Host-sid",
      "--secure",
      "--samesite",
      "lax",
      "--size",
      "300",
    ]);
    expect(code).toBe(EXIT.ok);
    expect(json.summary).toEqual({ pass: json.checks.length, warn: 0, fail: 0 });
    expect(json.checks.map((check) => check.id)).toEqual([
      "name",
      "prefix",
      "secure",
      "httponly",
      "samesite",
      "lifetime",
      "size",
    ]);
  });

  it.each([
    ["__Host- without Secure", ["--name", "__Host-sid"], "prefix", "fail"],
    [
      "__Host- with a Domain",
      ["--name", "__Host-sid", "--secure", "--domain", "example.com"],
      "prefix",
      "fail",
    ],
    ["__Host- with another Path", ["--name", "__Host-sid", "--secure", "--path", "/app"], "prefix", "fail"],
    ["__HOST- in other case, without Secure", ["--name", "__HOST-sid"], "prefix", "fail"],
    ["__secure- without Secure", ["--name", "__secure-sid"], "prefix", "fail"],
    [
      "__Secure- where __Host- fits",
      ["--name", "__Secure-sid", "--secure", "--samesite", "lax"],
      "prefix",
      "warn",
    ],
    [
      "__Secure- with a Domain",
      ["--name", "__Secure-sid", "--secure", "--domain", "example.com"],
      "prefix",
      "pass",
    ],
    ["no prefix where __Host- fits", ["--name", "sid", "--secure", "--samesite", "lax"], "prefix", "warn"],
    ["no Secure", ["--name", "sid", "--samesite", "lax"], "secure", "warn"],
    ["no HttpOnly", ["--no-http-only"], "httponly", "fail"],
    ["SameSite=None without Secure", ["--samesite", "none"], "samesite", "fail"],
    ["SameSite=None with Secure", ["--samesite", "none", "--secure"], "samesite", "warn"],
    ["SameSite=Strict", ["--samesite", "STRICT"], "samesite", "pass"],
    ["no SameSite", ["--name", "sid"], "samesite", "warn"],
    ["Partitioned without Secure", ["--partitioned"], "partitioned", "fail"],
    ["a Domain", ["--domain", "example.com"], "domain", "warn"],
    ["a fractional Max-Age", ["--max-age", "3.5"], "lifetime", "fail"],
    ["a negative Max-Age", ["--max-age=-1"], "lifetime", "fail"],
    ["a Max-Age over 400 days", ["--max-age", "34560001"], "lifetime", "warn"],
    ["a Max-Age of 31 days", ["--max-age", "2678400"], "lifetime", "pass"],
    ["name + value of 4097 bytes", ["--name", "sid", "--size", "4094"], "size", "fail"],
    ["name + value of exactly 4096 bytes", ["--name", "sid", "--size", "4093"], "size", "warn"],
    ["__Host-sid + a 4087-byte value: 4097 bytes", ["--size", "4087"], "size", "fail"],
    ["__Host-sid + a 4086-byte value: 4096 bytes", ["--size", "4086"], "size", "warn"],
    ["a framework's default name", ["--name", "connect.sid"], "fingerprint", "warn"],
    ["Flask's default name, even prefixed", ["--name", "__Host-session", "--secure"], "fingerprint", "warn"],
    ["a name with a space", ["--name", "my sid"], "name", "fail"],
    ["a Domain that is no hostname", ["--domain", "exa mple.com"], "serialize", "fail"],
  ])("%s: %j → %s %s", async (_name, flags, id, status) => {
    const { code, json } = await runJSON<Report>(["doctor", ...flags]);
    expect(statusOf(json, id)).toBe(status);
    expect(code).toBe(json.summary.fail > 0 ? EXIT.invalid : EXIT.ok);
  });

  it("measures a real cookie value given as COOKIE", async () => {
    const { json } = await runJSON<Report>(["doctor", "--name", "sid", "x".repeat(4000)]);
    expect(json.checks.find((check) => check.id === "size")).toMatchObject({
      status: "warn",
      message: expect.stringContaining("4003 of 4096"),
    });
  });

  it("prints a readable table with a summary", async () => {
    const { code, stdout } = await run(["doctor", "--name", "__Host-sid", "--samesite", "none"]);
    expect(code).toBe(EXIT.invalid);
    expect(stdout).toMatch(/^flagon doctor: __Host-sid\n/);
    expect(stdout).toMatch(/FAIL\s+prefix: /);
    expect(stdout).toMatch(/FAIL\s+samesite: /);
    expect(stdout).toMatch(/\d+ fail, \d+ warn, \d+ pass\n$/);
  });

  it.each([
    ["a bad --samesite", ["--samesite", "bogus"]],
    ["a bad --size", ["--size", "big"]],
    ["a bad --max-age", ["--max-age", "forever"]],
    ["--size and COOKIE together", ["--size", "10", "value"]],
  ])("exits 2 for %s", async (_name, flags) => {
    expect((await run(["doctor", ...flags])).code).toBe(EXIT.usage);
  });

  it("fast-check: whatever flagon's serializer refuses, doctor fails", () => {
    const config = fc.record({
      name: fc.constantFrom("sid", "__Host-sid", "__Secure-sid", "__host-x", "bad name", "connect.sid"),
      secure: fc.boolean(),
      httpOnly: fc.boolean(),
      sameSite: fc.constantFrom(undefined, "lax", "strict", "none"),
      domain: fc.constantFrom(undefined, "example.com", "bad domain"),
      path: fc.constantFrom("/", "/app"),
      maxAge: fc.constantFrom(undefined, 0, 60, 3.5, 40_000_000),
      partitioned: fc.boolean(),
    });
    fc.assert(
      fc.property(config, (raw) => {
        const doctorConfig = Object.fromEntries(
          Object.entries(raw).filter(([, v]) => v !== undefined),
        ) as unknown as DoctorConfig;
        const fails = checkCookie(doctorConfig).some((check) => check.status === "fail");
        let refused = false;
        try {
          serializeCookie(raw.name, "v", {
            secure: raw.secure,
            httpOnly: raw.httpOnly,
            path: raw.path,
            partitioned: raw.partitioned,
            ...(raw.sameSite ? { sameSite: raw.sameSite } : {}),
            ...(raw.domain ? { domain: raw.domain } : {}),
            ...(raw.maxAge !== undefined ? { maxAge: raw.maxAge } : {}),
          });
        } catch {
          refused = true;
        }
        if (refused) expect(fails).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

/** What createSessions() writes with every option at its default, on HTTPS. */
async function defaultSetCookie(): Promise<string> {
  const sessions = createSessions({ secret: "a test secret that is at least 32 bytes" });
  const session = await sessions.load({ headers: new Headers(), secure: true });
  session.set("user", "leo");
  const headers = new Headers();
  await sessions.commit(session, headers);
  await sessions.close();
  return headers.getSetCookie()[0]!;
}

describe("flagon doctor: flagon's own default", () => {
  it("plain `flagon doctor` checks the cookie createSessions() writes on HTTPS, and all pass", async () => {
    const { code, json } = await runJSON<Report>(["doctor"]);
    expect(code).toBe(EXIT.ok);
    expect(json.source).toBe("flagon-default");
    expect(json.cookie).toEqual({
      name: "__Host-sid",
      secure: true,
      httpOnly: true,
      partitioned: false,
      path: "/",
      sameSite: "lax",
    });
    expect(json.summary).toEqual({ pass: 6, warn: 0, fail: 0 });
    const human = await run(["doctor"]);
    expect(human.code).toBe(EXIT.ok);
    expect(human.stdout).toMatch(
      /^flagon doctor: __Host-sid \(createSessions\(\) defaults on HTTPS: Path=\/; HttpOnly; Secure; SameSite=Lax\)\n/,
    );
    expect(human.stdout).not.toMatch(/WARN|FAIL/);
  });

  it("it is the same cookie as the real default's Set-Cookie line, checked as one", async () => {
    const line = await defaultSetCookie();
    expect(line).toMatch(/^__Host-sid=[^;]+; Path=\/; HttpOnly; Secure; SameSite=Lax$/);
    const fromLine = await runJSON<Report>(["doctor", line]);
    const plain = await runJSON<Report>(["doctor"]);
    expect(fromLine.json.checks.filter((check) => check.id !== "size")).toEqual(plain.json.checks);
    expect(fromLine.json.summary.warn + fromLine.json.summary.fail).toBe(0);
  });

  it("--size and a bare or name=value COOKIE combine with the default; options describe a cookie instead", async () => {
    const sized = await runJSON<Report>(["doctor", "--size", "3900"]);
    expect(sized.json.source).toBe("flagon-default");
    expect(sized.json.checks.filter((check) => check.status !== "pass").map((check) => check.id)).toEqual([
      "size",
    ]);
    const named = await runJSON<Report>(["doctor", "connect.sid=abc"]);
    expect(named.json.cookie).toMatchObject({ name: "connect.sid", secure: true, size: 3 });
    expect(statusOf(named.json, "fingerprint")).toBe("warn");
    expect(statusOf(named.json, "prefix")).toBe("warn");
    const described = await runJSON<Report>(["doctor", "--name", "sid"]);
    expect(described.json.source).toBe("options");
    expect(statusOf(described.json, "secure")).toBe("warn");
  });
});

describe("flagon doctor: a Set-Cookie line", () => {
  it("reads the attributes from the line (the reported case: no false 'no SameSite')", async () => {
    const { code, json } = await runJSON<Report>(["doctor", "sid=v1.x; Path=/; HttpOnly; SameSite=Lax"]);
    expect(code).toBe(EXIT.ok);
    expect(json.source).toBe("set-cookie");
    expect(json.cookie).toMatchObject({
      name: "sid",
      httpOnly: true,
      sameSite: "lax",
      path: "/",
      secure: false,
    });
    expect(statusOf(json, "samesite")).toBe("pass");
    expect(statusOf(json, "httponly")).toBe("pass");
    expect(statusOf(json, "secure")).toBe("warn");
    expect(json.checks.find((check) => check.id === "size")?.message).toContain("name + value 7 of 4096");
  });

  it.each([
    [
      "flagon's HTTPS cookie",
      "Set-Cookie: __Host-sid=v1.x; Path=/; HttpOnly; Secure; SameSite=Lax",
      "prefix",
      "pass",
    ],
    [
      "attribute names in any case",
      "__Host-sid=v1.x; path=/; httponly; secure; samesite=strict",
      "samesite",
      "pass",
    ],
    ["no HttpOnly", "Set-Cookie: sid=v1.x", "httponly", "fail"],
    ["no SameSite", "sid=v1.x; Path=/; HttpOnly", "samesite", "warn"],
    ["no Path", "sid=v1.x; HttpOnly; SameSite=Lax", "path", "warn"],
    ["__Host- without Path", "__Host-sid=v1.x; HttpOnly; Secure; SameSite=Lax", "prefix", "fail"],
    ["__Host- with a Domain", "__Host-sid=x; Domain=example.com; Path=/; Secure; HttpOnly", "prefix", "fail"],
    ["a Domain (leading dot dropped)", "sid=x; Domain=.example.com; Path=/; HttpOnly", "domain", "warn"],
    ["SameSite=None without Secure", "sid=x; Path=/; HttpOnly; SameSite=None", "samesite", "fail"],
    ["Partitioned without Secure", "sid=x; Path=/; HttpOnly; Partitioned", "partitioned", "fail"],
    ["a negative Max-Age", "sid=x; Path=/; HttpOnly; Max-Age=-1", "lifetime", "fail"],
    ["a Max-Age over 400 days", "sid=x; Path=/; HttpOnly; Max-Age=34560001", "lifetime", "warn"],
    [
      "an Expires in the past",
      "sid=; Path=/; HttpOnly; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
      "lifetime",
      "warn",
    ],
    [
      "an Expires next week",
      `sid=x; Path=/; HttpOnly; Expires=${new Date(Date.now() + 7 * 86_400_000).toUTCString()}`,
      "lifetime",
      "pass",
    ],
    [
      "an Expires in 2 years",
      `sid=x; Path=/; HttpOnly; Expires=${new Date(Date.now() + 730 * 86_400_000).toUTCString()}`,
      "lifetime",
      "warn",
    ],
    [
      "Max-Age wins over Expires",
      "sid=x; Path=/; HttpOnly; Max-Age=60; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
      "lifetime",
      "pass",
    ],
  ])("%s: %s → %s %s", async (_name, line, id, status) => {
    const { code, json } = await runJSON<Report>(["doctor", line]);
    expect(statusOf(json, id)).toBe(status);
    expect(code).toBe(json.summary.fail > 0 ? EXIT.invalid : EXIT.ok);
  });

  it("measures the value as sent (before percent-decoding)", async () => {
    const { json } = await runJSON<Report>(["doctor", "sid=%41%42; Path=/"]);
    expect(json.cookie.size).toBe(6);
  });

  it("a cookie name that is not a token, or no NAME=VALUE, is a usage error", async () => {
    expect((await run(["doctor", "Set-Cookie: bad name=x; Path=/"])).stderr).toBe(
      'flagon doctor: the Set-Cookie line\'s name "bad name" is not a cookie name\nsee: flagon help doctor\n',
    );
    expect((await run(["doctor", "HttpOnly; Secure"])).code).toBe(EXIT.usage);
  });

  it("options that describe the cookie are a usage error next to a Set-Cookie line", async () => {
    const { code, stderr } = await run(["doctor", "--secure", "--name", "sid", "sid=x; Path=/"]);
    expect(code).toBe(EXIT.usage);
    expect(stderr).toBe(
      "flagon doctor: the Set-Cookie line gives the cookie's name and attributes: drop --name, --secure\nsee: flagon help doctor\n",
    );
  });

  it("a --name that contradicts a pasted name=value is a usage error", async () => {
    expect((await run(["doctor", "--name", "sid", "other=x"])).code).toBe(EXIT.usage);
    expect((await runJSON<Report>(["doctor", "--name", "sid", "sid=x"])).json.cookie.name).toBe("sid");
  });
});

describe("flagon doctor: citations", () => {
  it("every rule cites docs/security.md §N (or an RFC), never a design-time file", async () => {
    const configs = [
      [],
      [
        "--name",
        "connect.sid",
        "--domain",
        "example.com",
        "--samesite",
        "none",
        "--partitioned",
        "--size",
        "5000",
      ],
      ["--name", "__Host-x", "--max-age", "3.5", "--no-http-only"],
      ["--name", "my sid", "--domain", "exa mple.com"],
      ["sid=x; Expires=Thu, 01 Jan 1970 00:00:00 GMT"],
    ];
    for (const argv of configs) {
      const { json, stdout } = await runJSON<Report>(["doctor", ...argv]);
      expect(stdout).not.toMatch(/\b[A-Z]+\.md\b/); // only shipped docs (docs/*.md), never a design-time file
      for (const check of json.checks)
        expect(check.rule).toMatch(/^(docs\/security\.md §\d+(-\d+)?(, §\d+)*|RFC 6265bis §[\d.]+)$/);
    }
  });
});
