/**
 * `flagon decode` on the session cookies of the libraries flagon/migrate reads, pasted as a browser
 * shows them (name=value): each format is recognised and named, verified with its own secret option
 * (or --secret), and refused for the reasons the readers give. The cookies are the real libraries'
 * (test/fixtures/migrate).
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { EXIT } from "../../src/cli/index.js";
import { parseCookies } from "../../src/cookie/index.js";
import { loadVectors } from "../migrate/load-vectors.js";
import { run, runJSON } from "./run.js";

afterEach(() => {
  vi.useRealTimers();
});

function vector(library: Parameters<typeof loadVectors>[0], id: string) {
  const found = loadVectors(library).find((candidate) => candidate.id === id);
  if (found === undefined) throw new Error(`no vector ${id}`);
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(found.now);
  return found;
}
/** The first name=value pair of a vector's Cookie header. */
const pasted = (header: string) => header.split("; ")[0]!;
const cookieOf = (header: string, name: string) => parseCookies(header)[name]!;

describe("flagon decode: express-session", () => {
  it("recognises a connect.sid, verifies it with --express-secret, and never prints the id", async () => {
    const basic = vector("express-session", "express-001-basic");
    const cookie = pasted(basic.cookie_header);
    const sid = cookieOf(basic.cookie_header, "connect.sid").slice(2).split(".")[0]!;
    const { code, json, stdout } = await runJSON(["decode", "--express-secret", "keyboard cat", cookie]);
    expect(code).toBe(EXIT.ok);
    expect(json).toMatchObject({
      format: "express-session",
      kind: "session-id",
      name: "connect.sid",
      status: "valid",
    });
    expect(stdout).not.toContain(sid);
    const human = await run(["decode", "--express-secret", "keyboard cat", cookie]);
    expect(human.stdout).toMatch(/format\s+express-session signed id/);
    expect(human.stdout).not.toContain(sid);
    const unverified = await runJSON(["decode", cookie]);
    expect(unverified.json).toMatchObject({ format: "express-session", status: "unverified" });
    expect(unverified.stdout).not.toContain(sid);
  });

  it("a tampered or unsigned one is invalid (exit 1), and --secret works as the secret", async () => {
    const tampered = vector("express-session", "express-006-tampered-signature");
    const bad = await runJSON(["decode", "--secret", "keyboard cat", pasted(tampered.cookie_header)]);
    expect(bad.code).toBe(EXIT.invalid);
    expect(bad.json).toMatchObject({ format: "express-session", rejection: "bad-mac" });
    const rotated = vector("express-session", "express-003-rotation");
    const ok = await runJSON([
      "decode",
      "--express-secret",
      "new secret",
      "--express-secret",
      "old secret",
      pasted(rotated.cookie_header),
    ]);
    expect(ok.json).toMatchObject({ status: "valid", secret: { index: 1, role: "fallback" } });
  });
});

describe("flagon decode: cookie-session", () => {
  it("reads the JSON without a key, and verifies it with --cookie-session-key and --cookie-session-sig", async () => {
    const basic = vector("cookie-session", "cookie-session-001-basic");
    const cookie = pasted(basic.cookie_header);
    const sig = cookieOf(basic.cookie_header, "session.sig");
    const unverified = await runJSON(["decode", cookie]);
    expect(unverified.json).toMatchObject({
      format: "cookie-session",
      status: "unverified",
      payload: basic.expected,
    });
    const ok = await runJSON([
      "decode",
      "--cookie-session-key",
      "cookie-session key one",
      "--cookie-session-sig",
      sig,
      cookie,
    ]);
    expect(ok.code).toBe(EXIT.ok);
    expect(ok.json).toMatchObject({
      format: "cookie-session",
      status: "valid",
      verified: true,
      payload: basic.expected,
    });
    const wrong = await runJSON([
      "decode",
      "--cookie-session-key",
      "another key",
      "--cookie-session-sig",
      sig,
      cookie,
    ]);
    expect(wrong.code).toBe(EXIT.invalid);
    expect(wrong.json).toMatchObject({ rejection: "bad-mac", payload: basic.expected });
  });

  it("a key without the .sig value is a usage error that says where the signature is", async () => {
    const basic = vector("cookie-session", "cookie-session-001-basic");
    const result = await run(["decode", "--cookie-session-key", "k", pasted(basic.cookie_header)]);
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toContain("session.sig");
  });
});

describe("flagon decode: iron-session", () => {
  it("opens a seal with --iron-password and names the password id; without one it is a usage error", async () => {
    const rotated = vector("iron-session", "iron-004-newest-password");
    const cookie = pasted(rotated.cookie_header);
    expect((await run(["decode", cookie])).code).toBe(EXIT.usage);
    const password = (rotated.options.password as Record<string, string>)["2"]!;
    const { code, json } = await runJSON([
      "decode",
      "--iron-password",
      "the wrong one, 32 characters long!",
      "--iron-password",
      password,
      cookie,
    ]);
    expect(code).toBe(EXIT.ok);
    expect(json).toMatchObject({
      format: "iron-session",
      status: "valid",
      passwordId: "2",
      secret: { index: 1 },
      payload: rotated.expected,
    });
  });

  it("an expired seal exits 3", async () => {
    const expired = vector("iron-session", "iron-008-expired");
    const { code, json } = await runJSON([
      "decode",
      "--iron-password",
      expired.options.password as string,
      pasted(expired.cookie_header),
    ]);
    expect(code).toBe(EXIT.expired);
    expect(json).toMatchObject({ format: "iron-session", status: "expired", rejection: "expired" });
  });
});

describe("flagon decode: Django", () => {
  it("reads a sessionid without a key, verifies it with --django-secret-key, and shows compression and the hash", async () => {
    const compressed = vector("django", "django-003-compressed");
    const cookie = pasted(compressed.cookie_header);
    const unverified = await runJSON(["decode", cookie]);
    expect(unverified.json).toMatchObject({
      format: "django",
      status: "unverified",
      compressed: true,
      payload: compressed.expected,
    });
    const secret = compressed.options.secretKey as string;
    const ok = await runJSON(["decode", "--django-secret-key", secret, cookie]);
    expect(ok.json).toMatchObject({
      format: "django",
      name: "sessionid",
      status: "valid",
      digest: "sha256",
      compressed: true,
      issuedAt: new Date(1_700_000_000_000).toISOString(),
      expiresAt: new Date(1_700_000_000_000 + 1_209_600_000).toISOString(),
    });
    const sha1 = vector("django", "django-004-sha1");
    expect(
      (await runJSON(["decode", "--django-secret-key", secret, pasted(sha1.cookie_header)])).json,
    ).toMatchObject({
      status: "valid",
      digest: "sha1",
    });
  });

  it("exits 3 past SESSION_COOKIE_AGE (honouring --max-age), 1 for a tampered one", async () => {
    const expired = vector("django", "django-010-expired");
    const secret = expired.options.secretKey as string;
    const late = await runJSON(["decode", "--django-secret-key", secret, pasted(expired.cookie_header)]);
    expect(late.code).toBe(EXIT.expired);
    expect(late.json).toMatchObject({ rejection: "expired", secret: { index: 0 } });
    expect((await runJSON(["decode", pasted(expired.cookie_header)])).code).toBe(EXIT.expired);
    const longer = await runJSON([
      "decode",
      "--django-secret-key",
      secret,
      "--max-age",
      "9999999",
      pasted(expired.cookie_header),
    ]);
    expect(longer.json.status).toBe("valid");
    const tampered = vector("django", "django-007-tampered-payload");
    const bad = await runJSON(["decode", "--secret", secret, pasted(tampered.cookie_header)]);
    expect(bad.code).toBe(EXIT.invalid);
    expect(bad.json).toMatchObject({ format: "django", rejection: "bad-mac" });
  });
});

describe("flagon decode: Rails", () => {
  it("decrypts with --rails-secret-key-base, naming the key derivation and the metadata", async () => {
    const sha256 = vector("rails", "rails-003-sha256");
    const { code, json, stdout } = await runJSON([
      "decode",
      "--rails-secret-key-base",
      sha256.options.secretKeyBase as string,
      pasted(sha256.cookie_header),
    ]);
    expect(code).toBe(EXIT.ok);
    expect(json).toMatchObject({
      format: "rails",
      name: "_myapp_session",
      status: "valid",
      digest: "sha256",
      metadata: true,
      payload: sha256.expected,
    });
    expect(stdout).toContain("user_id");
  });

  it("a bare value takes its name from the purpose inside; another name is wrong-name (exit 1)", async () => {
    const basic = vector("rails", "rails-002-metadata");
    const value = cookieOf(basic.cookie_header, "_myapp_session");
    const secret = basic.options.secretKeyBase as string;
    expect((await runJSON(["decode", "--rails-secret-key-base", secret, value])).json).toMatchObject({
      status: "valid",
      name: "_myapp_session",
    });
    const other = await runJSON([
      "decode",
      "--rails-secret-key-base",
      secret,
      "--name",
      "_other_session",
      value,
    ]);
    expect(other.code).toBe(EXIT.invalid);
    expect(other.json).toMatchObject({ rejection: "wrong-name", authenticFor: "_myapp_session" });
  });

  it("without a key it is a usage error; expired exits 3", async () => {
    const expired = vector("rails", "rails-006-expired");
    expect((await run(["decode", pasted(expired.cookie_header)])).code).toBe(EXIT.usage);
    const late = await runJSON([
      "decode",
      "--secret",
      expired.options.secretKeyBase as string,
      pasted(expired.cookie_header),
    ]);
    expect(late.code).toBe(EXIT.expired);
    expect(late.json).toMatchObject({ format: "rails", rejection: "expired" });
  });
});

describe("flagon decode: format options", () => {
  it("a format option forces that format; two formats' options are a usage error", async () => {
    const django = vector("django", "django-001-basic");
    const forced = await runJSON(["decode", "--rails-secret-key-base", "k", pasted(django.cookie_header)]);
    expect(forced.json).toMatchObject({ format: "rails", rejection: "malformed" });
    const both = await run(["decode", "--rails-secret-key-base", "k", "--django-secret-key", "k", "x"]);
    expect(both.code).toBe(EXIT.usage);
    expect(both.stderr).toContain("--django-secret-key and --rails-secret-key-base");
  });

  it("the help lists every format option", async () => {
    const help = await run(["help", "decode"]);
    for (const option of [
      "--express-secret",
      "--cookie-session-key",
      "--cookie-session-sig",
      "--iron-password",
      "--django-secret-key",
      "--django-salt",
      "--rails-secret-key-base",
    ])
      expect(help.stdout).toContain(option);
  });
});
