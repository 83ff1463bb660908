/**
 * The core's types catch mistakes: with declared data, `get`/`set`/`has`/`delete` take declared keys
 * only, with the declared value type; without, any string key works; `untyped()` is the one escape
 * hatch. `npm run typecheck` checks this file (each `@ts-expect-error` must be an error, each other
 * line must compile); vitest runs the few runtime assertions.
 */
import { describe, expect, expectTypeOf, it } from "vitest";
import { z } from "zod";
import { createSessions, type Session, type SessionData, type Sessions } from "../../src/index.js";

const SECRET = "types-secret-0123456789abcdefghijklmnop";

type Declared = { name?: string; visits?: number; tags?: string[] };
interface DeclaredInterface {
  user?: string;
  admin?: boolean;
}

/** Compile-time checks only: never called. */
function declaredKeys(session: Session<Declared>): void {
  session.set("name", "Leo").set("visits", 3).set("tags", ["a"]);
  expectTypeOf(session.get("name")).toEqualTypeOf<string | undefined>();
  expectTypeOf(session.get("visits")).toEqualTypeOf<number | undefined>();
  expectTypeOf(session.delete("visits")).toEqualTypeOf<number | undefined>();
  expectTypeOf(session.has("tags")).toEqualTypeOf<boolean>();
  expectTypeOf(session.toJSON()).toEqualTypeOf<Partial<Declared>>();

  // @ts-expect-error a declared key takes its declared type
  session.set("name", 42);
  // @ts-expect-error a misspelt key is not a key
  session.set("nmae", "Leo");
  // @ts-expect-error `undefined` is not stored (use delete())
  session.set("name", undefined);
  // @ts-expect-error get: declared keys only
  session.get("nmae");
  // @ts-expect-error has: declared keys only
  session.has("nmae");
  // @ts-expect-error delete: declared keys only
  session.delete("nmae");
  // @ts-expect-error data is not a property of the session (express-session's habit)
  session.name = "Leo";
  // @ts-expect-error express-session's save() does not exist (flagon commits after the handler)
  session.save();
  // @ts-expect-error regenerate() takes no callback
  session.regenerate(() => {});
}

/** An `interface` works as well as a `type` alias, everywhere a data type is given. */
function interfaceData(session: Session<DeclaredInterface>, core: Sessions<DeclaredInterface>): void {
  session.set("user", "leo").set("admin", true);
  expectTypeOf(session.get("user")).toEqualTypeOf<string | undefined>();
  // @ts-expect-error declared type
  session.set("admin", "yes");
  // @ts-expect-error declared keys only
  session.get("usr");
  expectTypeOf(core.load).returns.resolves.toEqualTypeOf<Session<DeclaredInterface>>();
  expectTypeOf(createSessions<DeclaredInterface>).returns.toEqualTypeOf<Sessions<DeclaredInterface>>();
}

/** No declared data (the default `SessionData`, an index signature): any string key, `unknown` values. */
function undeclared(session: Session, core: Sessions): void {
  session.set("anything", 42).set("nested", { a: [1, null] });
  expectTypeOf(session.get("anything")).toEqualTypeOf<unknown>();
  expectTypeOf(session).toEqualTypeOf<Session<SessionData>>();
  expectTypeOf(core).toEqualTypeOf<Sessions<SessionData>>();
  expectTypeOf(createSessions({ secret: SECRET })).toEqualTypeOf<Sessions<SessionData>>();
  // Functions written against `ReturnType<typeof createSessions>` take the default core, and its
  // sessions still take any key.
  const helper = (sessions: ReturnType<typeof createSessions>) => sessions;
  helper(createSessions({ secret: SECRET }));
  const loaded = null as unknown as Awaited<ReturnType<ReturnType<typeof createSessions>["load"]>>;
  loaded.set("anything", 1);
}

/** The escape hatch for keys computed at run time: the same session, any string key, `unknown` values. */
function escapeHatch(session: Session<Declared>, field: string): void {
  expectTypeOf(session.untyped()).toEqualTypeOf<Session<SessionData>>();
  session.untyped().set(`pref:${field}`, true);
  expectTypeOf(session.untyped().get(field)).toEqualTypeOf<unknown>();
  expectTypeOf(session.untyped().has(field)).toEqualTypeOf<boolean>();
  expectTypeOf(session.untyped().delete(field)).toEqualTypeOf<unknown>();
  // @ts-expect-error without it, a computed string is not a declared key
  session.get(field);
  // A typed session (type alias) can still be given to code written for untyped ones.
  const forAnySession = (s: Session) => s.keys();
  forAnySession(session);
}

/** A schema's output type becomes the session's data type. */
function schemaInference(): void {
  const sessions = createSessions({ secret: SECRET, schema: z.object({ user: z.string() }).partial() });
  expectTypeOf(sessions).toEqualTypeOf<Sessions<{ user?: string | undefined }>>();
}

describe("session types", () => {
  it("holds the compile-time checks above (checked by `npm run typecheck`, never called)", () => {
    expectTypeOf(declaredKeys).toBeFunction();
    expectTypeOf(interfaceData).toBeFunction();
    expectTypeOf(undeclared).toBeFunction();
    expectTypeOf(escapeHatch).toBeFunction();
    expectTypeOf(schemaInference).toBeFunction();
  });

  it("untyped() is the same session, without a copy", async () => {
    const sessions = createSessions<Declared>({ secret: SECRET });
    const session = await sessions.load({ headers: {} });
    expect(session.untyped()).toBe(session);
    session.untyped().set("pref:dark", true);
    expect(session.untyped().get("pref:dark")).toBe(true);
    session.set("name", "Leo");
    expect(session.toJSON()).toEqual({ "pref:dark": true, name: "Leo" });
  });
});
