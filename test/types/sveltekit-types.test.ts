/**
 * flagon/sveltekit typing: `event.locals.session` comes from the `App.Locals` declaration the
 * package ships, in an app that declares no keys (any key) and in one that augments `SessionData`
 * (only declared keys). Each is compiled as its own program, since an augmentation is program-wide.
 */
import { describe, expect, it } from "vitest";
import { compile } from "./compile.js";

const UNAUGMENTED_APP = `
import type { Handle, RequestHandler } from "@sveltejs/kit";
import { sequence } from "@sveltejs/kit/hooks";
import { csrfProtection, sessions } from "flagon/sveltekit";

export const handle: Handle = sequence(sessions({ secret: "x".repeat(32) }), csrfProtection());
export const GET: RequestHandler = ({ locals }) => {
  locals.session.set("anything", 42).set("other", { nested: [1, "two"] });
  const token: string = locals.session.csrfToken();
  const messages: string[] = locals.session.getFlashedMessages();
  // @ts-expect-error the session is typed (not any): csrfToken() is a string
  const wrong: number = locals.session.csrfToken();
  // @ts-expect-error the session is not a plain object
  locals.session.user = "leo";
  return new Response(token + messages.join() + String(wrong));
};
`;

const AUGMENTED_APP = `
import type { RequestHandler } from "@sveltejs/kit";
import "flagon/sveltekit";

declare module "flagon/sveltekit" {
  interface SessionData {
    user?: string;
  }
}

export const POST: RequestHandler = ({ locals }) => {
  locals.session.set("user", "leo");
  const user: string | undefined = locals.session.get("user");
  // @ts-expect-error a declared key takes its declared type
  locals.session.set("user", 42);
  // @ts-expect-error an undeclared key is an error once SessionData is augmented
  locals.session.set("usr", "leo");
  locals.session.untyped().set("usr", "leo"); // the escape hatch
  return new Response(user);
};
`;

describe("sveltekit types", () => {
  it("types event.locals.session through App.Locals, any key when none are declared", {
    timeout: 90_000,
  }, () => {
    expect(compile(UNAUGMENTED_APP)).toEqual([]);
  });

  it("accepts only the declared keys once SessionData is augmented", { timeout: 90_000 }, () => {
    expect(compile(AUGMENTED_APP)).toEqual([]);
  });

  it("reports a real type error (the programs above are checked, not skipped)", { timeout: 90_000 }, () => {
    const diagnostics = compile(
      `${AUGMENTED_APP}\nexport const broken: RequestHandler = ({ locals }) => { locals.session.set("user", 1); return new Response(); };`,
    );
    expect(diagnostics.join("\n")).toMatch(/not assignable/);
  });
});
