import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runLessonToExit, startLesson } from "../e2e/start-lesson.js";

/** A fresh working directory, as on a fresh machine: `data/` is created in it. */
let cwd: string;
beforeAll(() => {
  cwd = mkdtempSync(join(tmpdir(), "flagon-lesson-server-"));
});
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

describe("npm start (examples/lesson/server.ts)", () => {
  it("starts with a generated secret, says where it is, serves, and stops cleanly on SIGTERM", async () => {
    let cookie = "";
    const lesson = await startLesson({ cwd });
    try {
      expect(lesson.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(lesson.output()).toContain("a new one was generated and saved in data/secret.key (mode 0600)");
      expect(lesson.output()).toContain("Sessions: kept in SQLite (data/sessions.db)");
      expect(statSync(join(cwd, "data", "secret.key")).mode & 0o777).toBe(0o600);
      const response = await fetch(`${lesson.url}/session_set`);
      expect(response.status).toBe(200);
      expect(response.headers.getSetCookie()[0]).toMatch(/^sid=/);
      cookie = response.headers.getSetCookie()[0]?.split(";")[0] ?? "";
      // The secret never appears in the output.
      expect(lesson.output()).not.toMatch(/[\w-]{43}/);
    } finally {
      expect(await lesson.stop()).toBe(0);
    }
    expect(lesson.output()).toContain("SIGTERM: closing");
    // The second start reuses the key and the SQLite file: the session survives the restart.
    const again = await startLesson({ cwd });
    try {
      expect(again.output()).toContain("Secret key: read from data/secret.key");
      const page = await (await fetch(`${again.url}/session_get`, { headers: { cookie } })).text();
      expect(page).toContain("<h1>Leo. Hello, World!.</h1>");
    } finally {
      await again.stop();
    }
  });

  it("refuses to start in production without SECRET_KEY", async () => {
    const { code, output } = await runLessonToExit({ cwd, env: { NODE_ENV: "production" } });
    expect(code).toBe(1);
    expect(output).toContain("Cannot start: SECRET_KEY is not set");
    expect(output).toContain("ERR_SECRET_MISSING");
  });

  it('refuses the lesson\'s "Secret Key" and a short key', async () => {
    const lesson = await runLessonToExit({ cwd, env: { SECRET_KEY: "Secret Key" } });
    expect(lesson.code).toBe(1);
    expect(lesson.output).toContain('the lesson\'s example "Secret Key"');
    const short = await runLessonToExit({ cwd, env: { SECRET_KEY: "short" } });
    expect(short.code).toBe(1);
    expect(short.output).toContain("ERR_SECRET_TOO_SHORT");
  });

  it.each([["true"], ["1"], ["loopback, 10.0.0.0/8"]])(
    "starts with TRUST_PROXY=%s and believes X-Forwarded-Proto from 127.0.0.1 (Secure, __Host-)",
    async (trustProxy) => {
      const lesson = await startLesson({ cwd, env: { SESSION_STORE: "memory", TRUST_PROXY: trustProxy } });
      try {
        const response = await fetch(`${lesson.url}/session_set`, {
          headers: { "x-forwarded-proto": "https" },
        });
        expect(response.status).toBe(200);
        expect(response.headers.getSetCookie()[0]).toMatch(
          /^__Host-sid=[^;]+; Path=\/; HttpOnly; Secure; SameSite=Lax$/,
        );
      } finally {
        expect(await lesson.stop()).toBe(0);
      }
    },
  );

  it("refuses a TRUST_PROXY it cannot read, at start-up", async () => {
    const { code, output } = await runLessonToExit({ cwd, env: { TRUST_PROXY: "0.0.0.1x" } });
    expect(code).toBe(1);
    expect(output).toContain("Cannot start: TRUST_PROXY must be true, false, a number of proxy hops");
  });

  it("runs in production with SECRET_KEY and the memory store", async () => {
    const lesson = await startLesson({
      cwd,
      env: { NODE_ENV: "production", SECRET_KEY: "p".repeat(48), SESSION_STORE: "memory" },
    });
    try {
      expect(lesson.output()).toContain("Secret key: SECRET_KEY from the environment.");
      expect(lesson.output()).not.toContain("Development mode");
      expect((await fetch(`${lesson.url}/`)).status).toBe(200);
    } finally {
      expect(await lesson.stop()).toBe(0);
    }
  });
});
