/**
 * Chunked cookie sessions: a cookie-store session too large for one cookie is written as `sid.0 … sid.N-1`,
 * read back, bound together (a mixed or reordered set is an empty session, never a splice), cleaned up
 * when it shrinks, and refused with a clear error when `maxChunks` cookies cannot hold it.
 */
import { Buffer } from "node:buffer";
import { describe, expect, it } from "vitest";
import { ConfigError, type CookieError, cookieStore, createSessions } from "../../src/index.js";
import { Browser, OLD_SECRET, parseSetCookie, SECRET } from "./harness.js";

const formats = [
  ["sealed", () => cookieStore()],
  ["signed", () => cookieStore({ encrypt: false })],
] as const;

/** Random-looking text that JSON and base64 cannot shrink, `length` characters. */
function essay(length: number, seed = 1): string {
  let out = "";
  let x = seed;
  while (out.length < length) {
    x = (x * 1103515245 + 12345) % 2147483648;
    out += x.toString(36);
  }
  return out.slice(0, length);
}

const namesOf = (lines: readonly string[]) => lines.map((line) => parseSetCookie(line).name);
const expired = (lines: readonly string[]) =>
  lines
    .filter((line) => parseSetCookie(line).attributes["max-age"] === "0")
    .map((l) => parseSetCookie(l).name);

describe.each(formats)("%s cookie store: chunks", (_format, make) => {
  it("writes a 8 KB session as sid.0…sid.2, each line at most 4096 bytes, and reads it back", async () => {
    const browser = new Browser(createSessions({ secret: SECRET, store: make() }));
    const text = essay(8000);
    const { setCookie, headers } = await browser.request((s) => s.set("essay", text));
    expect(namesOf(setCookie)).toEqual(["sid.0", "sid.1", "sid.2"]);
    for (const line of setCookie) {
      expect(Buffer.byteLength(line)).toBeLessThanOrEqual(4096);
      expect(line).toContain("HttpOnly");
    }
    expect(headers.get("cache-control")).toBe("private, no-store");
    expect(browser.jar.get("sid.0")).toMatch(/^3\./);
    const next = await browser.request((s) => {
      expect(s.status).toBe("active");
      expect(s.get("essay")).toBe(text);
    });
    // Read only: nothing re-sent.
    expect(next.setCookie).toEqual([]);
  });

  it("moves between one cookie and chunks, expiring the names it no longer uses", async () => {
    const browser = new Browser(createSessions({ secret: SECRET, store: make() }));
    await browser.request((s) => s.set("n", 1));
    expect([...browser.jar.keys()]).toEqual(["sid"]);

    // One cookie → 3 chunks: the plain cookie is expired in the same response.
    const grow = await browser.request((s) => s.set("essay", essay(8000)));
    expect(namesOf(grow.setCookie)).toEqual(["sid.0", "sid.1", "sid.2", "sid"]);
    expect(expired(grow.setCookie)).toEqual(["sid"]);
    expect([...browser.jar.keys()].sort()).toEqual(["sid.0", "sid.1", "sid.2"]);

    // 3 → 2 chunks: sid.2 is expired.
    const shrink = await browser.request((s) => s.set("essay", essay(5000)));
    expect(namesOf(shrink.setCookie)).toEqual(["sid.0", "sid.1", "sid.2"]);
    expect(expired(shrink.setCookie)).toEqual(["sid.2"]);
    expect((await browser.request((s) => s.get("essay"))).session.get("essay")).toBe(essay(5000));

    // Back to one cookie: every chunk is expired.
    const small = await browser.request((s) => s.delete("essay"));
    expect(namesOf(small.setCookie)).toEqual(["sid", "sid.0", "sid.1"]);
    expect(expired(small.setCookie)).toEqual(["sid.0", "sid.1"]);
    expect([...browser.jar.keys()]).toEqual(["sid"]);
    expect((await browser.request()).session.get("n")).toBe(1);
  });

  it("a mixed set from two responses is an empty session (invalid), and its chunks are cleared", async () => {
    const sessions = createSessions({ secret: SECRET, store: make() });
    const alice = new Browser(sessions);
    const bob = new Browser(sessions);
    await alice.request((s) => s.set("user", `alice-${essay(8000, 2)}`));
    await bob.request((s) => s.set("user", `bob-${essay(8000, 3)}`));
    const mixed = new Browser(sessions);
    mixed.jar.set("sid.0", alice.jar.get("sid.0")!);
    mixed.jar.set("sid.1", bob.jar.get("sid.1")!);
    mixed.jar.set("sid.2", alice.jar.get("sid.2")!);
    const { session, setCookie } = await mixed.request((s) => s.get("user"));
    expect(session.status).toBe("invalid");
    expect(session.get("user")).toBeUndefined();
    expect(expired(setCookie).sort()).toEqual(["sid.0", "sid.1", "sid.2"]);
  });

  it.each([
    ["swapped", (jar: Map<string, string>) => [jar.get("sid.0")!, jar.get("sid.2")!, jar.get("sid.1")!]],
    ["one missing", (jar: Map<string, string>) => [jar.get("sid.0")!, jar.get("sid.1")!]],
    [
      "count lowered",
      (jar: Map<string, string>) => [jar.get("sid.0")!.replace(/^3\./, "2."), jar.get("sid.1")!],
    ],
    [
      "count raised",
      (jar: Map<string, string>) => [
        jar.get("sid.0")!.replace(/^3\./, "4."),
        ...[1, 2, 2].map((i) => jar.get(`sid.${i}`)!),
      ],
    ],
    [
      "no count",
      (jar: Map<string, string>) => [jar.get("sid.0")!.slice(2), jar.get("sid.1")!, jar.get("sid.2")!],
    ],
    [
      "piece moved into sid.0's place",
      (jar: Map<string, string>) => [`3.${jar.get("sid.1")!}`, jar.get("sid.0")!.slice(2), jar.get("sid.2")!],
    ],
    [
      "last character dropped",
      (jar: Map<string, string>) => [jar.get("sid.0")!, jar.get("sid.1")!, jar.get("sid.2")!.slice(0, -1)],
    ],
  ])("chunks %s: empty session, status invalid", async (_what, tamper) => {
    const sessions = createSessions({ secret: SECRET, store: make() });
    const browser = new Browser(sessions);
    await browser.request((s) => s.set("user", essay(8000, 4)));
    const values = tamper(browser.jar);
    const cookie = values.map((value, index) => `sid.${index}=${value}`).join("; ");
    const session = await sessions.load({ headers: { cookie } });
    expect(session.status).toBe("invalid");
    expect(session.keys()).toEqual([]);
  });

  it("a chunk set under another cookie name is refused (the name is bound)", async () => {
    const browser = new Browser(createSessions({ secret: SECRET, store: make() }));
    await browser.request((s) => s.set("user", essay(8000, 5)));
    const other = createSessions({ secret: SECRET, store: make(), cookie: { name: "other" } });
    const cookie = [0, 1, 2].map((i) => `other.${i}=${browser.jar.get(`sid.${i}`)}`).join("; ");
    expect((await other.load({ headers: { cookie } })).status).toBe("invalid");
  });

  it("a chunk left from an earlier, longer set is ignored: sid.0 says how many to read", async () => {
    const sessions = createSessions({ secret: SECRET, store: make() });
    const older = new Browser(sessions);
    await older.request((s) => s.set("v", essay(8000, 6)));
    const newer = new Browser(sessions);
    await newer.request((s) => s.set("v", essay(5000, 7)));
    // Two concurrent responses: the 2-chunk one arrived last and could not know of sid.2.
    const cookie = `sid.0=${newer.jar.get("sid.0")}; sid.1=${newer.jar.get("sid.1")}; sid.2=${older.jar.get("sid.2")}`;
    const session = await sessions.load({ headers: { cookie } });
    expect(session.get("v")).toBe(essay(5000, 7));
    // Its next write cleans the stray chunk up.
    session.set("w", 1);
    const headers = new Headers();
    await sessions.commit(session, headers);
    expect(expired(headers.getSetCookie())).toEqual(["sid.2"]);
  });

  it("is found in a 16 KiB Cookie header among other cookies, in one field or several", async () => {
    const sessions = createSessions({ secret: SECRET, store: make() });
    const browser = new Browser(sessions);
    await browser.request((s) => s.set("v", essay(5000, 8)));
    const analytics = `_ga=${"g".repeat(1500)}; _fbp=${"f".repeat(1500)}`;
    const header = `${analytics}; ${browser.cookieHeader}`;
    expect(header.length).toBeGreaterThan(8192);
    expect((await sessions.load({ headers: { cookie: header } })).get("v")).toBe(essay(5000, 8));
    const fields = [analytics, `sid.1=${browser.jar.get("sid.1")}`, `sid.0=${browser.jar.get("sid.0")}`];
    expect((await sessions.load({ headers: { cookie: fields } })).get("v")).toBe(essay(5000, 8));
  });

  it("a second commit of the same session replaces its chunk lines: one line per name", async () => {
    const sessions = createSessions({ secret: SECRET, store: make() });
    const session = await sessions.load({ headers: {} });
    session.set("v", essay(8000, 13));
    const headers = new Headers({ "set-cookie": "theme=dark; Path=/" });
    await sessions.commit(session, headers);
    session.set("v", essay(5000, 14)); // two chunks now
    await sessions.commit(session, headers);
    const names = namesOf(headers.getSetCookie());
    expect(names).toEqual(["theme", "sid.0", "sid.1"]);
    const cookie = headers
      .getSetCookie()
      .slice(1)
      .map((line) => line.split(";")[0])
      .join("; ");
    expect((await sessions.load({ headers: { cookie } })).get("v")).toBe(essay(5000, 14));
  });

  it("logout expires every chunk", async () => {
    const browser = new Browser(createSessions({ secret: SECRET, store: make() }));
    await browser.request((s) => s.set("v", essay(8000, 9)));
    const { setCookie } = await browser.request((s) => s.destroy());
    expect(expired(setCookie).sort()).toEqual(["sid.0", "sid.1", "sid.2"]);
    expect(browser.jar.size).toBe(0);
  });

  it("key rotation: chunks sealed with an old key are read and re-issued with the new one", async () => {
    const before = new Browser(createSessions({ secret: OLD_SECRET, store: make() }));
    await before.request((s) => s.set("v", essay(8000, 10)));
    const rotated = new Browser(createSessions({ secret: [SECRET, OLD_SECRET], store: make() }));
    for (const [name, value] of before.jar) rotated.jar.set(name, value);
    const { setCookie } = await rotated.request((s) => expect(s.get("v")).toBe(essay(8000, 10)));
    expect(namesOf(setCookie)).toEqual(["sid.0", "sid.1", "sid.2"]);
    const newOnly = createSessions({ secret: SECRET, store: make() });
    expect((await newOnly.load({ headers: { cookie: rotated.cookieHeader! } })).get("v")).toBe(
      essay(8000, 10),
    );
    expect((await newOnly.load({ headers: { cookie: before.cookieHeader! } })).status).toBe("invalid");
  });

  it("on HTTPS the chunks carry the __Host- prefix and its rules", async () => {
    const browser = new Browser(createSessions({ secret: SECRET, store: make() }), true);
    const { setCookie } = await browser.request((s) => s.set("v", essay(8000, 11)));
    expect(namesOf(setCookie)).toEqual(["__Host-sid.0", "__Host-sid.1", "__Host-sid.2"]);
    for (const line of setCookie) expect(line).toMatch(/; Path=\/.*; Secure/);
    expect((await browser.request()).session.get("v")).toBe(essay(8000, 11));
  });

  it("refuses what maxChunks cookies cannot hold, saying the size, the limit and what to do", async () => {
    const sessions = createSessions({ secret: SECRET, store: make() });
    const session = await sessions.load({ headers: {} });
    session.set("v", essay(14_000, 12));
    const headers = new Headers();
    const error = (await sessions.commit(session, headers).catch((e: unknown) => e)) as CookieError;
    expect(error.code).toBe("ERR_COOKIE_TOO_LARGE");
    expect(error.message).toMatch(/would be \d{5} bytes/);
    expect(error.message).toContain("maxChunks 3");
    expect(error.message).toContain("4096");
    expect(error.message).toContain("hybridStore");
    expect(headers.getSetCookie()).toEqual([]);
    // Five chunks hold it.
    const five = createSessions({
      secret: SECRET,
      store:
        make === formats[0][1]
          ? cookieStore({ maxChunks: 5 })
          : cookieStore({ encrypt: false, maxChunks: 5 }),
    });
    const big = new Browser(five);
    const { setCookie } = await big.request((s) => s.set("v", essay(14_000, 12)));
    expect(setCookie.length).toBe(5);
    expect((await big.request()).session.get("v")).toBe(essay(14_000, 12));
  });
});

describe("cookieStore({ maxChunks })", () => {
  it("maxChunks 1 keeps one cookie and refuses a larger session, pointing at chunks and hybridStore", async () => {
    const sessions = createSessions({ secret: SECRET, store: cookieStore({ maxChunks: 1 }) });
    const session = await sessions.load({ headers: {} });
    session.set("v", essay(5000));
    const error = (await sessions.commit(session, new Headers()).catch((e: unknown) => e)) as CookieError;
    expect(error.code).toBe("ERR_COOKIE_TOO_LARGE");
    expect(error.message).toContain("maxChunks");
    expect(error.message).toContain("hybridStore");
  });

  it("a one-cookie session written before chunks existed keeps reading, and a session that fits stays one cookie", async () => {
    const old = new Browser(createSessions({ secret: SECRET, store: cookieStore({ maxChunks: 1 }) }));
    await old.request((s) => s.set("user", "alice"));
    const now = new Browser(createSessions({ secret: SECRET, store: cookieStore() }));
    now.jar.set("sid", old.jar.get("sid")!);
    const { setCookie } = await now.request((s) => {
      expect(s.get("user")).toBe("alice");
      s.set("n", 2);
    });
    expect(namesOf(setCookie)).toEqual(["sid"]);
  });

  it.each([0, 1.5, 11, "3", Number.NaN])("refuses maxChunks %s with ConfigError", (value) => {
    expect(() => cookieStore({ maxChunks: value as number })).toThrow(ConfigError);
  });

  it("the plain cookie wins over chunks when a request carries both", async () => {
    const sessions = createSessions({ secret: SECRET, store: cookieStore() });
    const small = new Browser(sessions);
    await small.request((s) => s.set("who", "plain"));
    const big = new Browser(sessions);
    await big.request((s) => s.set("who", `chunks${essay(8000)}`));
    const cookie = `${big.cookieHeader}; sid=${small.jar.get("sid")}`;
    expect((await sessions.load({ headers: { cookie } })).get("who")).toBe("plain");
  });
});
