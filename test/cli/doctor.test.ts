import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkCookie, type DoctorConfig } from "../../src/cli/doctor.js";
import { EXIT } from "../../src/cli/index.js";
import { serializeCookie } from "../../src/cookie/serialize.js";
import { run, runJSON } from "./run.js";

interface Report {
  checks: Array<{ id: string; status: "pass" | "warn" | "fail"; message: string; rule: string }>;
  summary: { pass: number; warn: number; fail: number };
}

const statusOf = (report: Report, id: string) => report.checks.find((check) => check.id === id)?.status;

describe("flagon doctor", () => {
  it("passes flagon's secure default (SECURITY.md 18) on every rule", async () => {
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
    ["no SameSite", [], "samesite", "warn"],
    ["Partitioned without Secure", ["--partitioned"], "partitioned", "fail"],
    ["a Domain", ["--domain", "example.com"], "domain", "warn"],
    ["a fractional Max-Age", ["--max-age", "3.5"], "lifetime", "fail"],
    ["a negative Max-Age", ["--max-age=-1"], "lifetime", "fail"],
    ["a Max-Age over 400 days", ["--max-age", "34560001"], "lifetime", "warn"],
    ["a Max-Age of 31 days", ["--max-age", "2678400"], "lifetime", "pass"],
    ["name + value of 4097 bytes", ["--size", "4094"], "size", "fail"],
    ["name + value of exactly 4096 bytes", ["--size", "4093"], "size", "warn"],
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
