/**
 * The example's sessions, made once per process. On globalThis: Next bundles `proxy.ts` apart from
 * the app, and both must use one store (a memory store made twice would be two stores). Made on
 * first use: `next build` loads these modules without SECRET_KEY.
 */
import { cookieStore, memoryStore, type SessionStore } from "flagon";
import { type NextSessions, nextSessions } from "flagon/next";

export interface LessonData {
  name?: string;
  message?: string;
  user?: string;
}

type Sessions = NextSessions<LessonData>;
const KEY = Symbol.for("flagon.examples.next.sessions");

async function makeStore(): Promise<{ store: SessionStore; description: string }> {
  const kind = process.env.SESSION_STORE ?? "memory";
  if (kind === "memory") return { store: memoryStore(), description: "in this process's memory" };
  if (kind === "cookie") return { store: cookieStore(), description: "in your browser's cookie (sealed)" };
  if (kind === "redis") {
    const { redisStore } = await import("flagon/redis");
    const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
    return { store: redisStore({ url, prefix: "flagon-next:" }), description: `in Redis (${url})` };
  }
  throw new Error(`SESSION_STORE must be memory, cookie or redis, got "${kind}"`);
}

async function create(): Promise<{ sessions: Sessions; description: string }> {
  const secret = process.env.SECRET_KEY;
  if (secret === undefined) throw new Error("set SECRET_KEY (npx flagon keygen)");
  const { store, description } = await makeStore();
  return { sessions: nextSessions<LessonData>({ secret, store, rolling: true }), description };
}

export function flagon(): Promise<{ sessions: Sessions; description: string }> {
  const holder = globalThis as { [KEY]?: Promise<{ sessions: Sessions; description: string }> };
  holder[KEY] ??= create();
  return holder[KEY];
}

export const getSession = async () => (await flagon()).sessions.getSession();

/** `route()` of the one instance (made at the first request, not when the module loads). */
export const route: Sessions["route"] = (handler) => async (request, context) =>
  (await flagon()).sessions.route(handler)(request, context);

/** `action()` of the one instance. */
export const action: Sessions["action"] =
  <A extends unknown[], R>(
    fn: (session: Parameters<Parameters<Sessions["action"]>[0]>[0], ...args: A) => R | Promise<R>,
  ) =>
  async (...args: A): Promise<Awaited<R>> =>
    (await flagon()).sessions.action(fn)(...args);
