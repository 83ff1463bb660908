/**
 * cookieSession() and ironSession() against the real cookie-session 2.1 and iron-session 8: cookies
 * minted by a real request through each library, and tampered ones judged by the library and by flagon.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseCookies } from "../../src/cookie/index.js";
import { createSessions, memoryStore } from "../../src/index.js";
import { cookieSession, ironSession, type LegacyReader, unsealIronSession } from "../../src/migrate/index.js";
import { cookieSessionApp, ironSessionApp } from "../helpers/legacy-stacks.js";

const SECRET = "flagon secret for the cookie-session and iron tests";

async function migrate(reader: LegacyReader, cookie: string) {
  const sessions = createSessions({ secret: SECRET, store: memoryStore(), migrateFrom: [reader] });
  const migrated = await sessions.load({ headers: { cookie } });
  const headers = new Headers();
  await sessions.commit(migrated, headers);
  return { session: migrated, names: headers.getSetCookie().map((line) => line.split("=", 1)[0]) };
}

/** `cookie` with one character of cookie `name`'s value replaced. */
function tamper(cookie: string, name: string, index: number, char: string): string {
  return cookie
    .split("; ")
    .map((pair) => {
      if (!pair.startsWith(`${name}=`)) return pair;
      const value = pair.slice(name.length + 1);
      const i = index % value.length;
      return `${name}=${value.slice(0, i)}${char}${value.slice(i + 1)}`;
    })
    .join("; ");
}

describe("cookieSession() and the real cookie-session", () => {
  const KEYS = ["cookie-session current key", "cookie-session older key"];
  let app: Awaited<ReturnType<typeof cookieSessionApp>>;
  beforeAll(async () => {
    app = await cookieSessionApp({ keys: KEYS });
  });
  afterAll(() => app.close());

  it("migrates what cookie-session wrote and expires both of its cookies", async () => {
    const data = { user: "leo", nested: { list: [1, "two", null] }, emoji: "😀" };
    const cookie = await app.mint(data);
    const { session, names } = await migrate(cookieSession({ keys: KEYS }), cookie);
    expect(session.migratedFrom).toBe("cookie-session");
    expect(session.toJSON()).toEqual(data);
    expect(session.permanent).toBe(false);
    expect(names).toEqual(["sid", "session", "session.sig"]);
  });

  it("reads cookies signed with an older key, as keygrip does", async () => {
    const old = await cookieSessionApp({ keys: ["cookie-session older key"] });
    try {
      const cookie = await old.mint({ user: "ana" });
      expect(await app.read(cookie)).toEqual({ user: "ana" });
      expect((await migrate(cookieSession({ keys: KEYS }), cookie)).session.get("user")).toBe("ana");
    } finally {
      await old.close();
    }
  });

  it("refuses every cookie-session cookie that cookie-session refuses", async () => {
    const cookie = await app.mint({ user: "leo", role: "user" });
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("session", "session.sig"),
        fc.nat(),
        fc.constantFrom("A", "z", "0", "+", "_"),
        async (name, index, char) => {
          const tampered = tamper(cookie, name, index, char);
          fc.pre(tampered !== cookie);
          const theirs = await app.read(tampered);
          const ours = (await migrate(cookieSession({ keys: KEYS }), tampered)).session;
          // Base64 has several spellings of the same bytes; a MAC over the text still tells them apart.
          expect(ours.migratedFrom === undefined ? null : ours.toJSON()).toEqual(theirs);
        },
      ),
      { numRuns: 30 },
    );
  });
});

describe("ironSession() and the real iron-session 8", () => {
  const PASSWORD = "iron-session password, at least 32 characters";
  const options = { password: PASSWORD, cookieName: "iron_app" };
  let app: Awaited<ReturnType<typeof ironSessionApp>>;
  beforeAll(async () => {
    app = await ironSessionApp(options);
  });
  afterAll(() => app.close());

  it("migrates what getIronSession().save() sealed", async () => {
    const data = { user: { id: 1, admin: false }, visits: 12, note: "<é>" };
    const cookie = await app.mint(data);
    const { session, names } = await migrate(ironSession(options), cookie);
    expect(session.migratedFrom).toBe("iron-session");
    expect(session.toJSON()).toEqual(data);
    expect(session.permanent).toBe(true);
    expect(names).toEqual(["sid", "iron_app"]);
  });

  it("reads a seal made with a password map and says which password id opened it", async () => {
    const rotated = await ironSessionApp({
      password: { 1: PASSWORD, 2: `${PASSWORD}, rotated` },
      cookieName: "iron_app",
    });
    try {
      const cookie = await rotated.mint({ a: 1 });
      const seal = parseCookies(cookie).iron_app!;
      expect(unsealIronSession(seal, { 1: PASSWORD, 2: `${PASSWORD}, rotated` })).toMatchObject({
        ok: true,
        passwordId: "2",
        version: 2,
      });
      expect(unsealIronSession(seal, { 1: PASSWORD })).toEqual({ ok: false, reason: "bad-mac" });
    } finally {
      await rotated.close();
    }
  });

  it("refuses every seal iron-session refuses", async () => {
    const cookie = await app.mint({ user: "leo" });
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.constantFrom("A", "z", "0", "-", "*"), async (index, char) => {
        const tampered = tamper(cookie, "iron_app", index, char);
        fc.pre(tampered !== cookie);
        const theirs = await app.read(tampered).catch(() => ({}));
        const ours = (await migrate(ironSession(options), tampered)).session;
        expect(ours.migratedFrom === undefined ? {} : ours.toJSON()).toEqual(theirs);
      }),
      { numRuns: 30 },
    );
  });
});
