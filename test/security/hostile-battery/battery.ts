/**
 * The hostile-input battery, run once per adapter: 10 000 generated requests (hostile Cookie
 * headers up to Node's 16 KiB limit, every body type, truncated or oversized, lying lengths, all
 * methods, Origin / Sec-Fetch-Site combinations) against the adapter's app. Properties: no 5xx, no
 * crash, no unhandled rejection, and no data of another session: two seeded sessions hold markers
 * that only a request carrying that session's own cookie may see.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import "../../helpers/fast-check-seed.js";
import type { SessionData } from "../../../src/session/session.js";
import { createSessions, type Sessions } from "../../../src/session/sessions.js";
import { cookieStore } from "../../../src/stores/cookie.js";
import { memoryStore } from "../../../src/stores/memory.js";
import type { SessionStore } from "../../../src/stores/types.js";
import { adapters } from "./apps.js";
import { type HostileRequest, hostileRequest, materialize, type Seeded } from "./requests.js";
import type { RawRequest, RawResponse, Target } from "./transport.js";

const SECRET = "hostile-battery-secret-0123456789abcdefghijkl";
export const RUNS = Number(process.env.BATTERY_RUNS ?? 10_000);
/** Runs with sealed cookie sessions as well (each marker then travels inside its cookie). */
export const COOKIE_RUNS = Number(process.env.BATTERY_COOKIE_RUNS ?? 2_000);
/** Paths whose handler regenerates or destroys the session it was sent with. */
const ENDING = new Set(["/login", "/logout", "/flash-then-destroy", "/regenerate-then-set"]);

function cookieOf(response: RawResponse): string {
  const line = /^set-cookie: sid=([^;]*)/im.exec(response.headers);
  if (line?.[1] === undefined || line[1] === "")
    throw new Error(`no session cookie in:\n${response.headers}`);
  return line[1];
}

const plain = (path: string, cookie?: string): RawRequest => ({
  method: "GET",
  path,
  cookies: cookie === undefined ? [] : [`sid=${cookie}`],
  headers: [],
  body: undefined,
  lyingLength: undefined,
});

/** A session with a secret marker in its data, its id and its CSRF token. */
async function seed(target: Target, label: string): Promise<Seeded> {
  const marker = `MARKER-${label}-${Math.random().toString(36).slice(2, 12)}`;
  const created = await target.send(plain(`/set?key=secret&value=${marker}`));
  expect(created.status).toBe(200);
  const cookie = cookieOf(created);
  const { id } = JSON.parse((await target.send(plain("/id", cookie))).body) as { id: string };
  const form = await target.send(plain("/csrf/form", cookie));
  const { token } = JSON.parse(form.body) as { token: string };
  // A cookie session carries its new token in a new cookie; a server session keeps its id.
  const reissued = /^set-cookie: sid=([^;]+)/im.exec(form.headers)?.[1];
  return { cookie: reissued ?? cookie, id, csrfToken: token, marker };
}

export function hostileBattery(name: keyof typeof adapters & string): void {
  batteryOn(name, "server sessions (memory store)", () => memoryStore(), RUNS);
  batteryOn(name, "sealed cookie sessions", () => cookieStore(), COOKIE_RUNS);
}

function batteryOn(name: string, storeName: string, makeStore: () => SessionStore, runs: number): void {
  describe(`hostile-input battery: ${name}, ${storeName}`, () => {
    let target: Target;
    let core: Sessions<SessionData>;
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => rejections.push(reason);
    const onException = (error: unknown) => rejections.push(error);

    beforeAll(async () => {
      process.on("unhandledRejection", onRejection);
      process.on("uncaughtException", onException);
      const quiet = { debug: () => {}, warn: () => {} };
      core = createSessions({ secret: SECRET, store: makeStore(), logger: quiet });
      target = await adapters[name]!(core);
    });
    afterAll(async () => {
      await target?.close();
      process.off("unhandledRejection", onRejection);
      process.off("uncaughtException", onException);
    });

    it(`answers ${runs} generated hostile requests without a 5xx, a crash or another session's data`, async () => {
      // Nothing logged as an error either: a hostile request is the client's problem, not the server's.
      const logged = vi.spyOn(console, "error").mockImplementation(() => {});
      const seeds = [await seed(target, "a"), await seed(target, "b")];
      /** Every session ever seeded (a re-seeded one's old cookie must stay worthless). */
      const everSeeded: Seeded[] = [...seeds];
      const statuses = new Map<number, number>();
      let accepted = 0;
      let sendMs = 0;
      let checkMs = 0;
      /** Answers that showed a session's marker to a request carrying its cookie (reported). */
      let sawOwn = 0;
      const began = performance.now();

      await fc.assert(
        fc.asyncProperty(hostileRequest, async (spec: HostileRequest) => {
          const request = materialize(spec, seeds, target.origin);
          const started = performance.now();
          const response = await target.send(request);
          sendMs += performance.now() - started;
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
          const what = () =>
            `${request.method} ${request.path} → ${response.status}\n${response.body.slice(0, 300)}`;
          // A connection closed without an answer: only when the body's length was a lie.
          if (response.status === 0 && request.lyingLength === undefined)
            throw new Error(`no answer: ${what()}`);
          if (response.status >= 500) throw new Error(`5xx: ${what()}`);

          checkMs -= performance.now();
          const sent = `${request.cookies.join("\n")}\n${request.headers.map((h) => h.join(": ")).join("\n")}\n${request.body?.toString("latin1") ?? ""}\n${request.path}`;
          const answered = `${response.headers}\n${response.body}`;
          for (const session of everSeeded) {
            const carried = request.cookies.some((field) => field.includes(session.cookie));
            if (carried && answered.includes(session.marker)) sawOwn++;
            if (!carried && answered.includes(session.marker))
              throw new Error(`another session's data: ${what()}`);
            if (
              !carried &&
              session.id.length >= 16 &&
              !sent.includes(session.id) &&
              answered.includes(session.id)
            ) {
              throw new Error(`another session's id: ${what()}`);
            }
          }
          checkMs += performance.now();
          if (request.path === "/csrf/submit" && response.status === 200) accepted++;

          // A handler that regenerated or ended a seeded session: seed a new one in its place.
          for (const [index, session] of seeds.entries()) {
            const carried = request.cookies.some((field) => field.includes(session.cookie));
            if (carried && ENDING.has(request.path.split("?", 1)[0]!)) {
              seeds[index] = await seed(target, index === 0 ? "a" : "b");
              everSeeded.push(seeds[index]!);
            }
          }
        }),
        { numRuns: runs, endOnFailure: true },
      );

      // Still serving, and the seeded sessions still hold their data.
      for (const session of seeds) {
        const read = await target.send(plain("/read", session.cookie));
        expect(read.status).toBe(200);
        expect(read.body).toContain(session.marker);
      }
      expect(rejections).toEqual([]);
      expect(logged.mock.calls.map((call) => String(call[0]))).toEqual([]);
      logged.mockRestore();
      // The battery reached the code behind the checks: forms accepted, refused, bodies rejected.
      expect(accepted).toBeGreaterThan(0);
      expect(statuses.get(200) ?? 0).toBeGreaterThan(runs / 10);
      expect(statuses.get(403) ?? 0).toBeGreaterThan(0);
      const clientErrors = [...statuses].filter(
        ([status]) => status >= 400 && status !== 403 && status !== 404,
      );
      expect(clientErrors.length).toBeGreaterThan(0);
      console.info(
        `${name}: ${Math.round(performance.now() - began)} ms, ${Math.round(sendMs)} ms sending, ${Math.round(checkMs)} ms checking; ${sawOwn} answers showed a session its own marker`,
      );
      console.info(`${name}: ${JSON.stringify(Object.fromEntries([...statuses].sort(([a], [b]) => a - b)))}`);
    }, 240_000);
  });
}
