/**
 * djangoSignedCookies() against real Django 3.2 (Debian python3-django under /usr/bin/python3) and
 * railsEncryptedCookie() against real ActiveSupport 6.1 (Debian ruby-activesupport under /usr/bin/ruby):
 * cookies minted now by the real thing, and a batch of tampered ones judged by it and by flagon.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createSessions, memoryStore } from "../../src/index.js";
import {
  DjangoKeys,
  djangoSignedCookies,
  type LegacyReader,
  openDjangoSignedCookie,
  openRailsCookie,
  RailsKeys,
  railsEncryptedCookie,
} from "../../src/migrate/index.js";
import { django, djangoAvailable, rails, railsAvailable } from "../helpers/legacy-stacks.js";

const SECRET = "flagon secret for the Django and Rails migration tests";

async function migrate(reader: LegacyReader, cookie: string) {
  const sessions = createSessions({ secret: SECRET, store: memoryStore(), migrateFrom: [reader] });
  const migrated = await sessions.load({ headers: { cookie } });
  const headers = new Headers();
  await sessions.commit(migrated, headers);
  return { session: migrated, names: headers.getSetCookie().map((line) => line.split("=", 1)[0]) };
}

/** Session data both stacks can hold: JSON objects with string keys and JSON values. */
const jsonData = fc.dictionary(
  fc.string({ minLength: 1, maxLength: 12 }).filter((key) => !key.startsWith("__flagon.")),
  fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(fc.nat(), { maxLength: 4 }),
  ),
  { maxKeys: 6 },
);

/** One character replaced, or the cookie cut short, or extended. */
const mutation = fc.oneof(
  fc.record({
    kind: fc.constant("replace" as const),
    index: fc.nat(),
    char: fc.constantFrom("A", "z", "0", "-", "_", ":", ".", "=", "+", "/"),
  }),
  fc.record({ kind: fc.constant("cut" as const), index: fc.nat() }),
  fc.record({ kind: fc.constant("append" as const), text: fc.constantFrom("x", ":", "--", "=", ".AAAA") }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;
function mutate(value: string, change: Mutation): string {
  if (change.kind === "append") return value + change.text;
  const i = change.index % value.length;
  if (change.kind === "cut") return value.slice(0, i);
  return value.slice(0, i) + change.char + value.slice(i + 1);
}

describe.runIf(djangoAvailable("the Django migration tests"))("djangoSignedCookies() and real Django", () => {
  const KEY = "django-insecure-live-test-key-!@#";
  const now = Math.floor(Date.now() / 1000);

  it("migrates the sessions Django's signed_cookies backend writes, compressed or not, SHA-256 or SHA-1", async () => {
    const sessions = [
      { _auth_user_id: "42", _auth_user_backend: "django.contrib.auth.backends.ModelBackend" },
      { cart: Array.from({ length: 40 }, (_, i) => i), note: "y".repeat(200) },
      { name: "Zoë 😀", html: "<script>" },
    ];
    const cookies = django.mint([
      ...sessions.map((data) => ({ secret_key: KEY, data, now })),
      { secret_key: KEY, data: sessions[0], now, algorithm: "sha1" as const },
    ]);
    expect(cookies[1]!.startsWith(".")).toBe(true); // compressed
    for (const [index, cookie] of cookies.entries()) {
      const { session, names } = await migrate(
        djangoSignedCookies({ secretKey: KEY }),
        `sessionid=${cookie}`,
      );
      expect(session.migratedFrom).toBe("django");
      expect(session.toJSON()).toEqual(sessions[index % 3]);
      expect(session.permanent).toBe(true);
      expect(names).toEqual(["sid", "sessionid"]);
    }
  });

  it("reads any session data Django writes, as Django reads it back", () => {
    const cases = fc.sample(jsonData, 40);
    const cookies = django.mint(cases.map((data) => ({ secret_key: KEY, data, now })));
    const theirs = django.load(cookies.map((cookie) => ({ secret_key: KEY, cookie, now })));
    const keys = new DjangoKeys([KEY]);
    cookies.forEach((cookie, index) => {
      const ours = openDjangoSignedCookie(cookie, keys, { now: now * 1000 });
      expect(theirs[index]).toMatchObject({ ok: true });
      expect(ours).toMatchObject({ ok: true, data: (theirs[index] as { data: unknown }).data });
    });
  });

  it("accepts exactly the tampered cookies Django accepts", () => {
    const [cookie] = django.mint([{ secret_key: KEY, data: { user: "leo", admin: false }, now }]) as [string];
    const candidates = fc
      .sample(mutation, 60)
      .map((change) => mutate(cookie, change))
      .filter((value) => value !== cookie);
    const theirs = django.load(candidates.map((candidate) => ({ secret_key: KEY, cookie: candidate, now })));
    const keys = new DjangoKeys([KEY]);
    candidates.forEach((candidate, index) => {
      const ours = openDjangoSignedCookie(candidate, keys, { now: now * 1000 });
      expect({ candidate, ok: ours.ok }).toEqual({ candidate, ok: theirs[index]!.ok });
    });
  });

  it("refuses what Django refuses for age, and another key", () => {
    const [cookie] = django.mint([{ secret_key: KEY, data: { a: 1 }, now: now - 3600 }]) as [string];
    const theirs = django.load([
      { secret_key: KEY, cookie, now, max_age: 3599 },
      { secret_key: KEY, cookie, now, max_age: 3600 },
      { secret_key: "another key", cookie, now },
    ]);
    expect(theirs.map((result) => result.ok)).toEqual([false, true, false]);
    expect(openDjangoSignedCookie(cookie, new DjangoKeys([KEY]), { now: now * 1000, maxAge: 3599 }).ok).toBe(
      false,
    );
    expect(openDjangoSignedCookie(cookie, new DjangoKeys([KEY]), { now: now * 1000, maxAge: 3600 }).ok).toBe(
      true,
    );
    expect(openDjangoSignedCookie(cookie, new DjangoKeys(["another key"]), { now: now * 1000 })).toEqual({
      ok: false,
      reason: "bad-mac",
    });
  });
});

describe.runIf(railsAvailable("the Rails migration tests"))(
  "railsEncryptedCookie() and real ActiveSupport",
  () => {
    const SKB = "live-test secret_key_base 0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a6978";
    const NAME = "_shop_session";
    const now = Math.floor(Date.now() / 1000);
    const session = { session_id: "0123456789abcdef0123456789abcdef", _csrf_token: "dG9rZW4=", user_id: 3 };

    it("migrates Rails 6.1 (SHA-1) and Rails 7 (SHA-256) session cookies, with and without metadata", async () => {
      const expires = new Date((now + 3600) * 1000).toISOString();
      const made = rails.encrypt([
        { secret_key_base: SKB, cookie_name: NAME, data: session, digest: "sha1", metadata: true, now },
        {
          secret_key_base: SKB,
          cookie_name: NAME,
          data: session,
          digest: "sha256",
          metadata: true,
          expires_at: expires,
          now,
        },
        { secret_key_base: SKB, cookie_name: NAME, data: session, digest: "sha1", metadata: false, now },
      ]);
      const permanent = [false, true, false];
      for (const [index, { escaped }] of made.entries()) {
        const { session: migrated, names } = await migrate(
          railsEncryptedCookie({ secretKeyBase: SKB, cookieName: NAME }),
          `${NAME}=${escaped}`,
        );
        expect(migrated.migratedFrom).toBe("rails");
        expect(migrated.toJSON()).toEqual(session);
        expect(migrated.permanent).toBe(permanent[index]);
        expect(names).toEqual(["sid", NAME]);
      }
    });

    it("reads any session data Rails writes, as Rails reads it back", () => {
      const cases = fc.sample(jsonData, 30);
      const made = rails.encrypt(
        cases.map((data) => ({
          secret_key_base: SKB,
          cookie_name: NAME,
          data,
          digest: "sha1",
          metadata: true,
          now,
        })),
      );
      const theirs = rails.decrypt(
        made.map(({ cookie }) => ({ secret_key_base: SKB, cookie_name: NAME, cookie, digest: "sha1", now })),
      );
      const keys = new RailsKeys([SKB]);
      made.forEach(({ cookie }, index) => {
        expect(theirs[index]).toMatchObject({ ok: true });
        expect(openRailsCookie(cookie, keys, { cookieName: NAME, now: now * 1000 })).toMatchObject({
          ok: true,
          data: (theirs[index] as { data: unknown }).data,
        });
      });
    });

    it("accepts exactly the tampered cookies Rails accepts, and honours purpose and expiry as Rails does", () => {
      const soon = new Date((now + 60) * 1000).toISOString();
      const [base, other, expiring] = rails.encrypt([
        { secret_key_base: SKB, cookie_name: NAME, data: session, digest: "sha1", metadata: true, now },
        { secret_key_base: SKB, cookie_name: "_other", data: session, digest: "sha1", metadata: true, now },
        {
          secret_key_base: SKB,
          cookie_name: NAME,
          data: session,
          digest: "sha1",
          metadata: true,
          expires_at: soon,
          now,
        },
      ]) as unknown as [{ cookie: string }, { cookie: string }, { cookie: string }];
      const candidates = [
        ...fc.sample(mutation, 50).map((change) => mutate(base.cookie, change)),
        other.cookie,
        expiring.cookie,
      ].map((cookie, index, all) => ({ cookie, at: index === all.length - 1 ? now + 61 : now }));
      const theirs = rails.decrypt(
        candidates.map(({ cookie, at }) => ({
          secret_key_base: SKB,
          cookie_name: NAME,
          cookie,
          digest: "sha1",
          now: at,
        })),
      );
      const keys = new RailsKeys([SKB]);
      candidates.forEach(({ cookie, at }, index) => {
        const ours = openRailsCookie(cookie, keys, { cookieName: NAME, now: at * 1000 });
        expect({ cookie, ok: ours.ok }).toEqual({ cookie, ok: theirs[index]!.ok });
      });
      expect(openRailsCookie(other.cookie, keys, { cookieName: NAME, now: now * 1000 })).toMatchObject({
        reason: "wrong-name",
      });
      expect(
        openRailsCookie(expiring.cookie, keys, { cookieName: NAME, now: (now + 61) * 1000 }),
      ).toMatchObject({ reason: "expired" });
    });
  },
);
