/**
 * flagon/fastify, flagon/koa and flagon/node typing. In this program nothing augments the
 * Fastify and Koa `SessionData`, so any key compiles there; a separate program (compile.ts)
 * augments both and proves that only the declared keys compile then. flagon/node takes the data
 * type as a parameter, as flagon/hono does.
 */
import type { ServerResponse } from "node:http";
import Fastify from "fastify";
import Koa from "koa";
import { describe, expect, expectTypeOf, it } from "vitest";
import { type FastifySessionData, sessions as fastifySessions } from "../../src/adapters/fastify/index.js";
import { type KoaSessionData, sessions as koaSessions } from "../../src/adapters/koa/index.js";
import { csrfProtection, type SessionRequest, withSessions } from "../../src/adapters/node/index.js";
import type { Session } from "../../src/session/session.js";
import type { Sessions } from "../../src/session/sessions.js";
import { compile } from "./compile.js";

interface Data {
  user?: string;
  visits?: number;
}

/** Compile-time checks only: never called. */
function unaugmented(): void {
  const app = Fastify();
  void app.register(fastifySessions, { secret: "x".repeat(32) });
  app.get("/", async (request) => {
    expectTypeOf(request.session).toEqualTypeOf<Session<FastifySessionData>>();
    expectTypeOf(app.sessions).toEqualTypeOf<Sessions<FastifySessionData>>();
    request.session.set("anything", 42).set("other", { nested: true });
    return String(request.session.get("anything"));
  });
  const koa = new Koa();
  koa.use(koaSessions({ secret: "x".repeat(32) }));
  koa.use((ctx) => {
    expectTypeOf(ctx.session).toEqualTypeOf<Session<KoaSessionData>>();
    ctx.session.set("anything", 42);
  });
  withSessions<Data>({ secret: "x".repeat(32) }, (req, res: ServerResponse) => {
    expectTypeOf(req).toEqualTypeOf<SessionRequest<Data>>();
    req.session.set("visits", (req.session.get("visits") ?? 0) + 1);
    // @ts-expect-error declared type
    req.session.set("visits", "many");
    // @ts-expect-error declared keys only
    req.session.set("vistis", 1);
    res.end();
  });
  withSessions<Data>(
    { secret: "x".repeat(32) },
    csrfProtection<Data>({}, (req) => req.session.get("user")),
  );
}

/** An app that declares its keys, compiled on its own. */
const AUGMENTED_APP = `
import Fastify from "fastify";
import Koa from "koa";
import { sessions } from "flagon/fastify";
import { sessions as koaSessions } from "flagon/koa";

declare module "flagon/fastify" {
  interface SessionData { user?: string }
}
declare module "flagon/koa" {
  interface SessionData { cart?: string[] }
}

const app = Fastify();
void app.register(sessions, { secret: "x".repeat(32) });
app.get("/", async (request) => {
  request.session.set("user", "leo");
  const user: string | undefined = request.session.get("user");
  // @ts-expect-error a declared key takes its declared type
  request.session.set("user", 42);
  // @ts-expect-error an undeclared key is an error once SessionData is augmented
  request.session.set("usr", "leo");
  request.session.untyped().set("usr", "leo");
  return user ?? "";
});
const koa = new Koa();
koa.use(koaSessions({ secret: "x".repeat(32) }));
koa.use((ctx) => {
  ctx.session.set("cart", ["apple"]);
  // @ts-expect-error declared keys only
  ctx.session.set("user", "leo");
});
`;

describe("fastify, koa and node types", () => {
  it("holds the compile-time checks above (checked by `npm run typecheck`, never called)", () => {
    expectTypeOf(unaugmented).toBeFunction();
  });

  it("an app that augments SessionData gets only its keys, on Fastify and Koa (a separate program)", () => {
    expect(compile(AUGMENTED_APP)).toEqual([]);
  }, 120_000);

  it("the separate program does report errors (the check is live)", () => {
    const errors = compile(`import { sessions } from "flagon/koa";\nconst n: number = sessions;\n`);
    expect(errors).toHaveLength(1);
  }, 120_000);
});
