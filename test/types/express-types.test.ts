/**
 * flagon/express typing. In this program `SessionData` is augmented (express-augmentation.ts and
 * examples/lesson), so only declared keys compile; an app that augments nothing accepts any key,
 * which a second, separate program proves (an augmentation is program-wide, so it cannot be shown
 * here). Template helpers in `res.locals` are always set by the middleware: callable without `!`.
 */
import express from "express";
import { describe, expect, expectTypeOf, it } from "vitest";
import { type ExpressSessionData, sessions } from "../../src/adapters/express/index.js";
import type { Session } from "../../src/session/session.js";
import { compile } from "./compile.js";
import "./express-augmentation.js";

const SECRET = "express-types-secret-0123456789abcdefghij";

/** Compile-time checks only: never called. */
function augmented(req: express.Request, res: express.Response): void {
  expectTypeOf(req.session).toEqualTypeOf<Session<ExpressSessionData>>();
  req.session.set("cart", ["apple"]);
  expectTypeOf(req.session.get("cart")).toEqualTypeOf<string[] | undefined>();
  // @ts-expect-error a declared key takes its declared type
  req.session.set("cart", "apple");
  // @ts-expect-error an undeclared key is an error once SessionData is augmented
  req.session.set("crat", ["apple"]);
  // @ts-expect-error get: declared keys only
  req.session.get("crat");
  req.session.untyped().set("crat", ["apple"]); // the escape hatch

  // Set by sessions() on every request: no `!`, no TS2722.
  expectTypeOf(res.locals.get_flashed_messages()).toEqualTypeOf<string[] | Array<[string, string]>>();
  expectTypeOf(res.locals.csrf_token()).toEqualTypeOf<string>();
  expectTypeOf(res.locals.session.get("cart")).toEqualTypeOf<string[] | undefined>();
}

/** An app that declares no keys, compiled on its own (the same compiler options as tsconfig.json). */
const UNAUGMENTED_APP = `
import express from "express";
import { type ExpressSessionData, sessions } from "flagon/express";

const app = express();
app.use(sessions({ secret: "x".repeat(32) }));
app.get("/", (req, res) => {
  req.session.set("anything", 42).set("other", { nested: [1, "two"] });
  const value: unknown = req.session.get("anything");
  const data: Record<string, unknown> = req.session.toJSON();
  const loose: Record<string, unknown> = {} as ExpressSessionData;
  res.locals.get_flashed_messages();
  res.send(String(value) + res.locals.csrf_token() + String(data) + String(loose));
});
// @ts-expect-error the session is not a plain object, even without declared keys
app.get("/habit", (req) => { req.session.user = "leo"; });
`;

describe("express types", () => {
  it("holds the compile-time checks above (checked by `npm run typecheck`, never called)", () => {
    expectTypeOf(augmented).toBeFunction();
  });

  it("res.locals helpers are set on every request", async () => {
    const app = express();
    app.use(sessions({ secret: SECRET }));
    app.get("/", (_req, res) => {
      res.json({ token: typeof res.locals.csrf_token(), flashes: res.locals.get_flashed_messages() });
    });
    const server = app.listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    try {
      const { port } = server.address() as { port: number };
      const response = await fetch(`http://127.0.0.1:${port}/`);
      expect(await response.json()).toEqual({ token: "string", flashes: [] });
    } finally {
      server.close();
    }
  });

  it("an app that augments nothing accepts any key (a separate program)", () => {
    expect(compile(UNAUGMENTED_APP)).toEqual([]);
  }, 60_000);

  it("the separate program does report errors (the check is live)", () => {
    const errors = compile(`import { sessions } from "flagon/express";\nconst n: number = sessions;\n`);
    expect(errors).toHaveLength(1);
  }, 60_000);
});
