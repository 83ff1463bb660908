import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { EXIT } from "../../src/cli/index.js";
import { encodeFlaskCookie } from "../../src/flask/index.js";
import { createSessions, storeKey } from "../../src/session/index.js";
import { cookieStore } from "../../src/stores/cookie.js";
import { memoryStore } from "../../src/stores/memory.js";
import { vectors } from "../flask/load-vectors.js";
import { run, runJSON } from "./run.js";

const SECRET = "the current secret, at least 32 bytes long";
const OLD = "the previous secret, also 32 bytes or more";
const T0 = Date.UTC(2025, 0, 1);

/** A Set-Cookie value written by the real session layer. */
async function issue(
  options: Parameters<typeof createSessions>[0],
  fill: (session: Awaited<ReturnType<ReturnType<typeof createSessions>["load"]>>) => void,
  secure = false,
) {
  const sessions = createSessions(options);
  const session = await sessions.load({ headers: new Headers(), secure });
  fill(session);
  const headers = new Headers();
  await sessions.commit(session, headers);
  const [line] = headers.getSetCookie();
  const [pair] = line!.split(";");
  const eq = pair!.indexOf("=");
  return { name: pair!.slice(0, eq), value: pair!.slice(eq + 1), id: session.id };
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(T0);
});
afterEach(() => {
  vi.useRealTimers();
});

describe("flagon decode: flagon cookies", () => {
  it("reads a signed session cookie without a secret, and says it is not verified", async () => {
    const cookie = await issue({ secret: SECRET, store: cookieStore({ encrypt: false }) }, (s) => {
      s.set("user", "leo");
      s.flash("Welcome!", "info");
    });
    const { code, json } = await runJSON(["decode", cookie.value]);
    expect(code).toBe(EXIT.ok);
    expect(json).toMatchObject({
      format: "flagon-signed",
      kind: "session",
      status: "unverified",
      verified: false,
      issuedAt: new Date(T0).toISOString(),
      payload: {
        data: { user: "leo" },
        flashes: [{ category: "info", message: "Welcome!" }],
        permanent: false,
      },
    });
  });

  it("verifies it with the secret and names the secret: current or fallback", async () => {
    const cookie = await issue({ secret: OLD, store: cookieStore({ encrypt: false }) }, (s) =>
      s.set("user", "leo"),
    );
    const current = await runJSON(["decode", "--secret", OLD, cookie.value]);
    expect(current.json).toMatchObject({
      status: "valid",
      verified: true,
      secret: { index: 0, role: "current" },
      name: "sid",
    });
    const rotated = await runJSON(["decode", "--secret", SECRET, "--secret", OLD, cookie.value]);
    expect(rotated.code).toBe(EXIT.ok);
    expect(rotated.json).toMatchObject({ status: "valid", secret: { index: 1, role: "fallback" } });
    const human = await run(["decode", "--secret", SECRET, "--secret", OLD, cookie.value]);
    expect(human.stdout).toMatch(/status\s+valid, verified with secret #2 \(fallback\)/);
    expect(human.stdout).toContain('"user": "leo"');
  });

  it("opens a sealed cookie only with the secret; without one it is a usage error", async () => {
    const cookie = await issue({ secret: SECRET, store: cookieStore() }, (s) => s.set("cart", [1, 2]));
    expect(cookie.value).not.toContain("cart");
    const without = await run(["decode", cookie.value]);
    expect(without.code).toBe(EXIT.usage);
    expect(without.stderr).toContain("sealed cookie is encrypted");
    const { code, json } = await runJSON(["decode", "--secret", SECRET, cookie.value]);
    expect(code).toBe(EXIT.ok);
    expect(json).toMatchObject({
      format: "flagon-sealed",
      status: "valid",
      payload: { data: { cart: [1, 2] } },
    });
    expect((await run(["decode", "--secret", OLD, cookie.value])).code).toBe(EXIT.invalid);
  });

  it("a server-side store's cookie shows the store key, never the session id", async () => {
    const cookie = await issue({ secret: SECRET, store: memoryStore() }, (s) => s.set("user", "leo"));
    const { code, json, stdout } = await runJSON(["decode", "--secret", SECRET, cookie.value]);
    expect(code).toBe(EXIT.ok);
    expect(json).toMatchObject({
      kind: "session-id",
      status: "valid",
      payload: { storeKey: storeKey(cookie.id) },
    });
    expect(stdout).not.toContain(cookie.id);
    expect((await run(["decode", cookie.value])).stdout).not.toContain(cookie.id);
  });

  it("finds the __Host- name flagon uses on HTTPS, and fails with a wrong --name (the MAC binds it)", async () => {
    const cookie = await issue(
      { secret: SECRET, store: cookieStore({ encrypt: false }) },
      (s) => s.set("a", 1),
      true,
    );
    expect(cookie.name).toBe("__Host-sid");
    expect((await runJSON(["decode", "--secret", SECRET, cookie.value])).json).toMatchObject({
      name: "__Host-sid",
      status: "valid",
    });
    expect((await run(["decode", "--secret", SECRET, "--name", "other", cookie.value])).code).toBe(
      EXIT.invalid,
    );
    // Pasting "name=value" works too.
    expect(
      (await run(["decode", "--secret", SECRET, "--name", "__Host-sid", `__Host-sid=${cookie.value}`])).code,
    ).toBe(0);
  });

  it("exits 3 for an expired cookie, signed or sealed, and says it is authentic", async () => {
    const signed = await issue(
      { secret: SECRET, store: cookieStore({ encrypt: false }), permanentLifetime: 60 },
      (s) => s.set("a", 1),
    );
    const sealed = await issue({ secret: SECRET, store: cookieStore(), permanentLifetime: 60 }, (s) =>
      s.set("a", 1),
    );
    // A cookie carries its session's end plus the grace in which the core still reads it to report
    // why it ended (one lifetime, here 60 s): the format itself expires at 120 s.
    vi.setSystemTime(T0 + 121_000);
    for (const cookie of [signed, sealed]) {
      const { code, json } = await runJSON(["decode", "--secret", SECRET, cookie.value]);
      expect(code).toBe(EXIT.expired);
      expect(json).toMatchObject({
        status: "expired",
        verified: false,
        rejection: "expired",
        reason: "authentic, but it expired 1 s ago",
        secret: { index: 0, role: "current" },
        expiresAt: new Date(T0 + 120_000).toISOString(),
      });
      const human = await run(["decode", "--secret", SECRET, cookie.value]);
      expect(human.stdout).toMatch(/status\s+EXPIRED: authentic, but it expired 1 s ago\n/);
    }
    expect((await runJSON(["decode", signed.value])).json).toMatchObject({
      status: "expired",
      rejection: "expired",
      reason: "no secret given: contents NOT verified; by its own times, it expired 1 s ago",
    });
  });

  it("exits 3 for a cookie issued in the future", async () => {
    vi.setSystemTime(T0 + 3_600_000);
    const cookie = await issue({ secret: SECRET, store: cookieStore() }, (s) => s.set("a", 1));
    vi.setSystemTime(T0);
    const { code, json } = await runJSON(["decode", "--secret", SECRET, cookie.value]);
    expect(code).toBe(EXIT.expired);
    expect(json).toMatchObject({
      status: "future",
      rejection: "not-yet-valid",
      reason: "authentic, but issued 60 min in the future (more than the 60 s clock skew allowed)",
    });
    expect((await run(["decode", "--secret", SECRET, cookie.value])).stdout).toMatch(
      /status\s+FUTURE \(not-yet-valid\): authentic, but issued 60 min in the future/,
    );
  });

  it("says which default name a cookie pasted under another name is authentic for (wrong-name, exit 1)", async () => {
    for (const store of [cookieStore(), cookieStore({ encrypt: false })]) {
      const cookie = await issue({ secret: SECRET, store }, (s) => s.set("a", 1), true);
      const { code, json } = await runJSON(["decode", "--secret", SECRET, `other=${cookie.value}`]);
      expect(code).toBe(EXIT.invalid);
      expect(json).toMatchObject({
        name: "other",
        status: "invalid",
        rejection: "wrong-name",
        authenticFor: "__Host-sid",
        secret: { index: 0, role: "current" },
        issuedAt: new Date(T0).toISOString(),
      });
      expect(json.reason).toMatch(/^authentic, but for the cookie named __Host-sid, not other/);
    }
  });

  it("a tampered cookie or another secret's is bad-mac", async () => {
    const cookie = await issue({ secret: SECRET, store: cookieStore() }, (s) => s.set("a", 1));
    const other = await runJSON(["decode", "--secret", OLD, cookie.value]);
    expect(other).toMatchObject({ code: EXIT.invalid, json: { status: "invalid", rejection: "bad-mac" } });
  });

  it("a v1. value that is neither flagon format is malformed, with or without a secret", async () => {
    const cookie = await issue({ secret: SECRET, store: cookieStore() }, (s) => s.set("a", 1));
    for (const argv of [
      [cookie.value.slice(0, 30)],
      ["--secret", SECRET, cookie.value.slice(0, 30)],
      ["v1.garbage"],
    ]) {
      const { code, json } = await runJSON(["decode", ...argv]);
      expect(code).toBe(EXIT.invalid);
      expect(json).toMatchObject({ format: "unknown", status: "invalid", rejection: "malformed" });
    }
  });

  it("exits 1 for a tampered cookie", async () => {
    const cookie = await issue({ secret: SECRET, store: cookieStore({ encrypt: false }) }, (s) =>
      s.set("role", "user"),
    );
    const parts = cookie.value.split(".");
    parts[3] = Buffer.from(
      Buffer.from(parts[3]!, "base64url").toString("utf8").replace('"user"', '"root"'),
    ).toString("base64url");
    const { code, json } = await runJSON(["decode", "--secret", SECRET, parts.join(".")]);
    expect(code).toBe(EXIT.invalid);
    expect(json.status).toBe("invalid");
  });

  it("reads secrets from the environment with --secret-env", async () => {
    const cookie = await issue({ secret: SECRET, store: cookieStore() }, (s) => s.set("a", 1));
    expect(
      (await run(["decode", "--secret-env", "APP_SECRET", cookie.value], { APP_SECRET: SECRET })).code,
    ).toBe(0);
    const missing = await run(["decode", "--secret-env", "NOPE", cookie.value]);
    expect(missing.code).toBe(EXIT.usage);
    expect(missing.stderr).toContain("NOPE is not set");
  });

  it("a secret flagon would refuse is a usage error, and the message does not contain it", async () => {
    const cookie = await issue({ secret: SECRET, store: cookieStore() }, (s) => s.set("a", 1));
    const { code, stderr } = await run(["decode", "--secret", "hunter2", cookie.value]);
    expect(code).toBe(EXIT.usage);
    expect(stderr).not.toContain("hunter2");
  });

  it("reports the size against the 4096-byte limit", async () => {
    const cookie = await issue({ secret: SECRET, store: cookieStore() }, (s) => s.set("a", 1));
    const { json } = await runJSON(["decode", "--secret", SECRET, cookie.value]);
    expect(json.size).toEqual({
      name: 3,
      value: cookie.value.length,
      total: 3 + cookie.value.length,
      limit: 4096,
      headroom: 4096 - 3 - cookie.value.length,
    });
  });
});

describe("flagon decode: what a user pastes", () => {
  it("a pasted sid=VALUE (browser devtools) verifies without --name", async () => {
    const cookie = await issue({ secret: SECRET, store: cookieStore() }, (s) => s.set("user", "leo"));
    const { code, json } = await runJSON(["decode", "--secret", SECRET, `sid=${cookie.value}`]);
    expect(code).toBe(EXIT.ok);
    expect(json).toMatchObject({ format: "flagon-sealed", name: "sid", status: "valid" });
    const signed = await issue({ secret: SECRET, store: cookieStore({ encrypt: false }) }, (s) =>
      s.set("a", 1),
    );
    expect((await runJSON(["decode", `sid=${signed.value}`])).json).toMatchObject({
      format: "flagon-signed",
      name: "sid",
      status: "unverified",
      payload: { data: { a: 1 } },
    });
  });

  it("the pasted name is the name verified against (flagon binds it into the MAC)", async () => {
    const cookie = await issue(
      { secret: SECRET, store: cookieStore({ encrypt: false }) },
      (s) => s.set("a", 1),
      true,
    );
    expect((await runJSON(["decode", "--secret", SECRET, `__Host-sid=${cookie.value}`])).json).toMatchObject({
      name: "__Host-sid",
      status: "valid",
    });
    const renamed = await runJSON(["decode", "--secret", SECRET, `other=${cookie.value}`]);
    expect(renamed.code).toBe(EXIT.invalid);
    expect(renamed.json).toMatchObject({ name: "other", status: "invalid" });
  });

  it.each([
    ["a Set-Cookie line", (v: string) => `sid=${v}; Path=/; HttpOnly; SameSite=Lax`],
    ["a Set-Cookie header", (v: string) => `Set-Cookie: sid=${v}; Path=/; HttpOnly; SameSite=Lax`],
    ["a Set-Cookie header without attributes", (v: string) => `set-cookie:sid=${v}`],
    ["a quoted value", (v: string) => `sid="${v}"`],
    ["a percent-encoded value", (v: string) => `sid=${v.replace(/\./g, "%2E")}`],
    ["spaces around", (v: string) => `  sid = ${v}  `],
  ])("%s verifies", async (_what, paste) => {
    const cookie = await issue({ secret: SECRET, store: cookieStore() }, (s) => s.set("a", 1));
    const { code, json } = await runJSON(["decode", "--secret", SECRET, paste(cookie.value)]);
    expect(code).toBe(EXIT.ok);
    expect(json).toMatchObject({ name: "sid", status: "valid", payload: { data: { a: 1 } } });
  });

  it("a --name that contradicts the pasted name is a usage error", async () => {
    const cookie = await issue({ secret: SECRET, store: cookieStore() }, (s) => s.set("a", 1));
    const { code, stderr } = await run([
      "decode",
      "--secret",
      SECRET,
      "--name",
      "__Host-sid",
      `sid=${cookie.value}`,
    ]);
    expect(code).toBe(EXIT.usage);
    expect(stderr).toBe(
      "flagon decode: COOKIE is named sid, but --name says __Host-sid\nsee: flagon help decode\n",
    );
  });

  it("a Set-Cookie line without NAME=VALUE is a usage error", async () => {
    const { code, stderr } = await run(["decode", "Set-Cookie: v1.abc; HttpOnly; Secure"]);
    expect(code).toBe(EXIT.usage);
    expect(stderr).toMatch(/^flagon decode: a Set-Cookie line starts with NAME=VALUE/);
  });

  it("a pasted session=VALUE is a Flask cookie named session", async () => {
    const lesson = vectors.find((v) => v.id === "pub-002-lesson-session")!;
    vi.setSystemTime(lesson.now * 1000);
    const { code, json } = await runJSON([
      "decode",
      "--secret",
      lesson.secret_key,
      `session=${lesson.cookie}; Path=/; HttpOnly`,
    ]);
    expect(code).toBe(EXIT.ok);
    expect(json).toMatchObject({
      format: "flask",
      name: "session",
      status: "valid",
      payload: lesson.expected_session,
    });
  });
});

/** Every Set-Cookie pair the real session layer wrote: one cookie, or chunks `sid.0 … sid.N-1`. */
async function issueAll(
  options: Parameters<typeof createSessions>[0],
  fill: (session: Awaited<ReturnType<ReturnType<typeof createSessions>["load"]>>) => void,
) {
  const sessions = createSessions(options);
  const session = await sessions.load({ headers: new Headers(), secure: false });
  fill(session);
  const headers = new Headers();
  await sessions.commit(session, headers);
  const pairs = headers.getSetCookie().map((line) => line.split(";", 1)[0]!);
  return { pairs, sessions };
}

describe("flagon decode: chunked sessions (a Cookie header)", () => {
  const BIG = "é and some text ".repeat(500); // ~8.5 KB of JSON: three chunks once sealed
  const chunked = { secret: SECRET, store: cookieStore({ maxChunks: 3 }) };
  const pairName = (pair: string) => pair.slice(0, pair.indexOf("="));

  it("joins sid.0 … sid.2 from a whole Cookie header and shows the data the app reads", async () => {
    const { pairs, sessions } = await issueAll(chunked, (s) => {
      s.set("user", "leo");
      s.set("essay", BIG);
    });
    expect(pairs.map(pairName)).toEqual(["sid.0", "sid.1", "sid.2"]);
    // The app itself reads this header as this session: the CLI must say the same.
    const header = `theme=dark; ${pairs[2]}; ${pairs[0]}; lang=fr; ${pairs[1]}`;
    const loaded = await sessions.load({ headers: new Headers({ cookie: header }), secure: false });
    expect(loaded.get("user")).toBe("leo");

    const { code, json } = await runJSON(["decode", "--secret", SECRET, `Cookie: ${header}`]);
    expect(code).toBe(EXIT.ok);
    expect(json).toMatchObject({
      format: "flagon-sealed",
      name: "sid",
      status: "valid",
      verified: true,
      chunks: { count: 3, present: 3, joined: true },
      payload: { data: { user: "leo", essay: BIG } },
    });
    // The pairs as the browser lists them, without the header name, work too; --name agrees.
    const pasted = await runJSON(["decode", "--secret", SECRET, "--name", "sid", pairs.join("; ")]);
    expect(pasted.json).toMatchObject({ status: "valid", payload: { data: { user: "leo" } } });
    const human = await run(["decode", "--secret", SECRET, pairs.join("; ")]);
    expect(human.stdout).toMatch(/status\s+valid, verified with secret #1 \(current\)/);
    expect(human.stdout).toMatch(/chunks\s+sid\.0 … sid\.2, joined/);
    expect(human.stdout).toContain('"user": "leo"');
    // Without the secret a sealed set is still a usage error, as one sealed cookie is.
    expect((await run(["decode", pairs.join("; ")])).code).toBe(EXIT.usage);
  });

  it("a signed chunked session reads without a secret (unverified) and verifies with it", async () => {
    const { pairs } = await issueAll(
      { secret: SECRET, store: cookieStore({ encrypt: false, maxChunks: 3 }) },
      (s) => s.set("essay", BIG),
    );
    expect(pairs.length).toBeGreaterThan(1);
    expect((await runJSON(["decode", pairs.join("; ")])).json).toMatchObject({
      format: "flagon-signed",
      status: "unverified",
      payload: { data: { essay: BIG } },
    });
    expect((await runJSON(["decode", "--secret", SECRET, pairs.join("; ")])).json).toMatchObject({
      status: "valid",
      chunks: { count: pairs.length, joined: true },
    });
    expect((await runJSON(["decode", "--secret", OLD, pairs.join("; ")])).json).toMatchObject({
      status: "invalid",
      rejection: "bad-mac",
    });
  });

  it("refuses a set with one chunk swapped in from another session (bad-mac), as the app does", async () => {
    const first = await issueAll(chunked, (s) => s.set("essay", BIG));
    const second = await issueAll(chunked, (s) => s.set("essay", BIG));
    expect(second.pairs.map(pairName)).toEqual(["sid.0", "sid.1", "sid.2"]);
    const spliced = [first.pairs[0], second.pairs[1], first.pairs[2]].join("; ");
    const loaded = await first.sessions.load({ headers: new Headers({ cookie: spliced }), secure: false });
    expect(loaded.status).toBe("invalid");

    const { code, json, stdout } = await runJSON(["decode", "--secret", SECRET, spliced]);
    expect(code).toBe(EXIT.invalid);
    expect(json).toMatchObject({
      format: "flagon-sealed",
      name: "sid",
      status: "invalid",
      verified: false,
      rejection: "bad-mac",
      chunks: { count: 3, present: 3, joined: true },
    });
    expect(json.reason).toMatch(
      /does not open .*; it came as the 3 chunks sid\.0 … sid\.2, joined: one may be from another session/,
    );
    expect(stdout).not.toContain("essay");
  });

  it("refuses a set with a chunk missing (malformed), naming the missing chunk", async () => {
    const { pairs, sessions } = await issueAll(chunked, (s) => s.set("essay", BIG));
    for (const dropped of [1, 2]) {
      const header = pairs.filter((_, index) => index !== dropped).join("; ");
      const loaded = await sessions.load({ headers: new Headers({ cookie: header }), secure: false });
      expect(loaded.status).toBe("invalid");
      const { code, json } = await runJSON(["decode", "--secret", SECRET, `Cookie: ${header}`]);
      expect(code).toBe(EXIT.invalid);
      expect(json).toMatchObject({
        name: "sid",
        status: "invalid",
        verified: false,
        rejection: "malformed",
        chunks: { count: 3, joined: false },
      });
      expect(json.reason).toContain(`sid.0 says 3 chunks, but sid.${dropped} is missing`);
    }
    // Without sid.0 there is no count: a paste of sid.1 alone is not a set the CLI can join.
    const noCount = await runJSON(["decode", "--secret", SECRET, `sid.0=${pairs[1]!.slice(6)}`]);
    expect(noCount.code).toBe(EXIT.invalid);
    expect(noCount.json).toMatchObject({ rejection: "malformed", chunks: { joined: false } });
    expect(noCount.json.reason).toContain("sid.0 does not start with a chunk count");
  });

  it("an extra chunk past the count is ignored, as the app ignores it, and said so", async () => {
    const big = await issueAll(chunked, (s) => s.set("essay", BIG));
    const small = await issueAll(chunked, (s) => s.set("essay", BIG.slice(0, 3500)));
    expect(small.pairs.map(pairName)).toEqual(["sid.0", "sid.1"]);
    // Two concurrent responses of different sizes: the browser holds the 2-chunk set and a stale sid.2.
    const header = [...small.pairs, big.pairs[2]].join("; ");
    const { code, json } = await runJSON(["decode", "--secret", SECRET, header]);
    expect(code).toBe(EXIT.ok);
    expect(json).toMatchObject({ status: "valid", chunks: { count: 2, present: 3, joined: true } });
    expect((await run(["decode", "--secret", SECRET, header])).stdout).toMatch(
      /chunks\s+sid\.0 … sid\.1, joined; sid\.2 … sid\.2 past the count, ignored/,
    );
  });

  it("a Cookie header without the session cookie is a usage error that suggests --name", async () => {
    const none = await run(["decode", "Cookie: theme=dark; lang=fr"]);
    expect(none.code).toBe(EXIT.usage);
    expect(none.stderr).toContain("give --name");
    // With the one cookie present, a Cookie header reads it as the app does (chunks beside it ignored).
    const one = await issue({ secret: SECRET, store: cookieStore() }, (s) => s.set("user", "leo"));
    const { json } = await runJSON([
      "decode",
      "--secret",
      SECRET,
      `Cookie: a=1; sid=${one.value}; sid.0=2.x`,
    ]);
    expect(json).toMatchObject({ status: "valid", payload: { data: { user: "leo" } } });
    expect(json.chunks).toBeUndefined();
  });
});

describe("flagon decode: Flask cookies", () => {
  const lesson = vectors.find((v) => v.id === "pub-002-lesson-session")!;
  const expired = vectors.find((v) => v.id === "pub-056-expired-by-one-second")!;

  it("recognises a Flask cookie and reads it without a secret (typed JSON)", async () => {
    vi.setSystemTime(lesson.now * 1000);
    const { code, json } = await runJSON(["decode", lesson.cookie]);
    expect(code).toBe(0);
    expect(json).toMatchObject({
      format: "flask",
      name: "session",
      status: "unverified",
      payload: lesson.expected_session,
      issuedAt: new Date(lesson.timestamp! * 1000).toISOString(),
      expiresAt: new Date((lesson.timestamp! + 2_678_400) * 1000).toISOString(),
    });
  });

  it("verifies it with Flask's SECRET_KEY (any length), and rejects another key with exit 1", async () => {
    vi.setSystemTime(lesson.now * 1000);
    const ok = await runJSON(["decode", "--flask", "--secret", lesson.secret_key, lesson.cookie]);
    expect(ok.code).toBe(0);
    expect(ok.json).toMatchObject({
      status: "valid",
      verified: true,
      secret: { index: 0 },
      payload: lesson.expected_session,
    });
    const wrong = await runJSON(["decode", "--flask", "--secret", "another key", lesson.cookie]);
    expect(wrong.code).toBe(EXIT.invalid);
    expect(wrong.json).toMatchObject({
      status: "invalid",
      rejection: "bad-mac",
      verified: false,
      payload: lesson.expected_session,
    });
  });

  it("exits 3 for an expired Flask cookie, and honours --max-age", async () => {
    vi.setSystemTime(expired.now * 1000);
    const verified = await runJSON(["decode", "--secret", expired.secret_key, expired.cookie]);
    expect(verified.code).toBe(EXIT.expired);
    expect(verified.json).toMatchObject({
      status: "expired",
      rejection: "expired",
      reason: "authentic, but older than max-age: it expired 1 s ago",
      secret: { index: 0 },
    });
    const unverified = await runJSON(["decode", expired.cookie]);
    expect(unverified.code).toBe(EXIT.expired);
    expect(unverified.json).toMatchObject({ status: "expired", rejection: "expired" });
    const longer = await runJSON([
      "decode",
      "--secret",
      expired.secret_key,
      "--max-age",
      "9999999",
      expired.cookie,
    ]);
    expect(longer.code).toBe(0);
    expect(longer.json.status).toBe("valid");
  });

  it("shows compression and tuples", async () => {
    const cookie = encodeFlaskCookie({ big: "z".repeat(400), _flashes: [["message", "hi"]] }, "k");
    const { json, stdout } = await runJSON(["decode", "--secret", "k", cookie]);
    expect(json).toMatchObject({ compressed: true, payload: { _flashes: [["message", "hi"]] } });
    expect(stdout).toContain('"big"');
  });

  it("garbage is neither format: exit 1", async () => {
    const { code, json } = await runJSON(["decode", "definitely not a cookie"]);
    expect(code).toBe(EXIT.invalid);
    expect(json).toMatchObject({ format: "unknown", status: "invalid" });
  });

  it("needs exactly one COOKIE", async () => {
    expect((await run(["decode"])).code).toBe(EXIT.usage);
    expect((await run(["decode", "a", "b"])).code).toBe(EXIT.usage);
    expect((await run(["decode", "--max-age", "soon", "a"])).code).toBe(EXIT.usage);
  });
});
