/**
 * flagon/hono takes an `interface` as session data (it was TS2344 under a
 * `T extends Record<string, unknown>` constraint), and its keys are the only ones that compile.
 * `npm run typecheck` checks the `@ts-expect-error` lines; vitest runs the request.
 */
import { Hono } from "hono";
import { describe, expect, expectTypeOf, it } from "vitest";
import {
  csrfProtection,
  type SessionEnv,
  type SessionVariables,
  sessions,
  templateGlobals,
} from "../../src/adapters/hono/index.js";
import { createCsrfProtection } from "../../src/session/csrf.js";
import type { Session } from "../../src/session/session.js";
import { createSessions } from "../../src/session/sessions.js";

const SECRET = "hono-types-secret-0123456789abcdefghijk";

interface Data {
  user?: string;
  visits?: number;
}

function app() {
  const hono = new Hono<{ Variables: SessionVariables<Data> }>();
  hono.use(sessions<Data>({ secret: SECRET }));
  hono.use(csrfProtection<Data>());
  hono.get("/", (c) => {
    const session = c.get("session");
    expectTypeOf(session).toEqualTypeOf<Session<Data>>();
    session.set("visits", (session.get("visits") ?? 0) + 1);
    // @ts-expect-error declared type
    if (c.req.query("wrong")) session.set("visits", "many");
    // @ts-expect-error declared keys only
    if (c.req.query("wrong")) session.set("vistis", 1);
    const globals = templateGlobals(session);
    expectTypeOf(globals.session).toEqualTypeOf<Session<Data>>();
    expectTypeOf(globals.csrf_token).toEqualTypeOf<() => string>();
    return c.json({ visits: session.get("visits") });
  });
  return hono;
}

/** Compile-time checks only: never called. */
function otherForms(): void {
  // A core made elsewhere, an Env type, and an interface everywhere.
  const core = createSessions<Data>({ secret: SECRET });
  const viaCore = sessions(core);
  expectTypeOf(viaCore.sessions).toEqualTypeOf<typeof core>();
  const hono = new Hono<SessionEnv<Data>>();
  hono.use(viaCore);
  hono.get("/", (c) => c.text(c.get("session").get("user") ?? ""));
  // The CSRF core checks an interface-typed session too.
  hono.post("/form", (c) => {
    const result = createCsrfProtection().check(c.get("session"), {
      method: "POST",
      headers: {},
      host: "localhost",
    });
    return c.text(result.ok ? "ok" : "no");
  });
}

describe("hono types", () => {
  it("holds the compile-time checks above (checked by `npm run typecheck`, never called)", () => {
    expectTypeOf(otherForms).toBeFunction();
  });

  it("an interface-typed app works at run time", async () => {
    const hono = app();
    const first = await hono.request("/");
    expect(await first.json()).toEqual({ visits: 1 });
    const cookie = first.headers.getSetCookie()[0]!.split(";")[0]!;
    const second = await hono.request("/", { headers: { cookie } });
    expect(await second.json()).toEqual({ visits: 2 });
  });
});
