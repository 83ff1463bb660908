/**
 * A runtime check: the session core, both cookie formats, flash, regenerate and the Hono adapter
 * with CSRF, answered by `app.request()` (no Node server). docs/runtimes.md runs it under Node,
 * Bun, Deno and workerd (Cloudflare Workers' runtime) to say which runtimes flagon supports.
 */
import { Hono } from "hono";
import { csrfProtection, type SessionVariables, sessions } from "../../../src/adapters/hono/index.js";
import { createSessions, type SessionStore } from "../../../src/index.js";
import { cookieStore } from "../../../src/stores/cookie.js";
import { memoryStore } from "../../../src/stores/memory.js";

const SECRET = "runtime-check-secret-0123456789abcdefghijkl";

function pair(headers: Headers): string {
  return (headers.getSetCookie()[0] ?? "").split(";", 1)[0] ?? "";
}

async function roundTrip(store: SessionStore): Promise<boolean> {
  const core = createSessions<{ user?: string }>({ secret: SECRET, store });
  const first = await core.load(new Headers());
  first.set("user", "leo");
  first.flash("saved");
  const headers = new Headers();
  await core.commit(first, headers);
  const second = await core.load(new Headers({ cookie: pair(headers) }));
  const flashes = second.getFlashedMessages();
  second.regenerate();
  const after = new Headers();
  await core.commit(second, after);
  const third = await core.load(new Headers({ cookie: pair(after) }));
  return second.get("user") === "leo" && flashes[0] === "saved" && third.get("user") === "leo";
}

async function honoCsrf(store: SessionStore): Promise<boolean> {
  const app = new Hono<{ Variables: SessionVariables }>();
  app.use(sessions({ secret: SECRET, store }));
  app.use(csrfProtection());
  app.get("/form", (c) => c.text(c.get("session").csrfToken()));
  app.post("/submit", (c) => c.text("ok"));
  const form = await app.request("http://localhost/form");
  if (form.status !== 200) throw new Error(`GET /form answered ${form.status}`);
  const token = await form.text();
  const cookie = pair(form.headers);
  const post = (body: Record<string, string>, headers: Record<string, string> = {}) =>
    app.request("http://localhost/submit", {
      method: "POST",
      headers: { cookie, ...headers },
      body: new URLSearchParams(body),
    });
  const ok = await post({ csrf_token: token });
  const missing = await post({});
  const foreign = await post({ csrf_token: token }, { origin: "https://evil.example" });
  return ok.status === 200 && missing.status === 403 && foreign.status === 403;
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause === undefined ? "" : ` (cause: ${describe(error.cause)})`;
  return `${error.name}: ${error.message}${cause}`;
}

/** Each check's outcome: true, or the error it threw (name and message). */
export async function runtimeCheck(): Promise<Record<string, true | string>> {
  const checks: Record<string, () => Promise<boolean>> = {
    "memory store (signed id, HMAC-SHA256)": () => roundTrip(memoryStore({ sweepInterval: 3_600_000 })),
    "cookie store (sealed, AES-256-GCM)": () => roundTrip(cookieStore()),
    "cookie store (signed)": () => roundTrip(cookieStore({ encrypt: false })),
    "hono adapter + CSRF (memory store)": () => honoCsrf(memoryStore({ sweepInterval: 3_600_000 })),
    "hono adapter + CSRF (cookie store)": () => honoCsrf(cookieStore()),
  };
  const results: Record<string, true | string> = {};
  for (const [name, check] of Object.entries(checks)) {
    try {
      results[name] = (await check()) ? true : "wrong result";
    } catch (error) {
      results[name] = describe(error);
    }
  }
  return results;
}
