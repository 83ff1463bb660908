/**
 * The real libraries flagon/migrate reads, for the tests and the vector generator
 * (test/fixtures/migrate/make-vectors.ts): each mints a session cookie the way an app using it does
 * (a real request through express-session, cookie-session or iron-session on 127.0.0.1; Django's
 * signed_cookies backend under /usr/bin/python3; ActiveSupport's MessageEncryptor under
 * /usr/bin/ruby) and reports whether it accepts a cookie, so tests compare flagon with the library.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import cookieSessionMiddleware from "cookie-session";
import express from "express";
import expressSessionMiddleware, { type Store } from "express-session";
import { getIronSession } from "iron-session";

/** Debian's interpreters: python3-django and ruby-activesupport install into these, not into whatever is on PATH. */
export const PYTHON = "/usr/bin/python3";
export const RUBY = "/usr/bin/ruby";
const DJANGO_ORACLE = fileURLToPath(new URL("./django_oracle.py", import.meta.url));
const RAILS_ORACLE = fileURLToPath(new URL("./rails_oracle.rb", import.meta.url));

const checked = new Map<string, boolean>();
function available(key: string, what: string, probe: () => boolean, install: string): boolean {
  if (!checked.has(key)) checked.set(key, probe());
  if (checked.get(key)) return true;
  // CI installs it (.ci/run): there, a missing interpreter fails the tests instead of skipping them.
  if (process.env.CI) return true;
  console.warn(`[flagon] SKIPPED ${what}: ${install} (set CI=1 to make this an error).`);
  return false;
}

/** True when Debian's python3-django can be imported by /usr/bin/python3. */
export function djangoAvailable(what: string): boolean {
  return available(
    "django",
    what,
    () => spawnSync(PYTHON, ["-c", "import django"], { stdio: "ignore" }).status === 0,
    `${PYTHON} cannot import django: apt-get install -y python3-django`,
  );
}

/** True when /usr/bin/ruby has ActiveSupport (Debian's ruby-activesupport). */
export function railsAvailable(what: string): boolean {
  return available(
    "rails",
    what,
    () => spawnSync(RUBY, ["-e", 'require "active_support"'], { stdio: "ignore" }).status === 0,
    `${RUBY} cannot load active_support: apt-get install -y ruby-activesupport`,
  );
}

function runOracle<T>(command: string, script: string, ops: ReadonlyArray<Record<string, unknown>>): T[] {
  try {
    const output = execFileSync(command, [script], {
      input: JSON.stringify({ ops }),
      maxBuffer: 64 * 1024 * 1024,
      timeout: 120_000,
      stdio: ["pipe", "pipe", "pipe"],
    });
    return (JSON.parse(output.toString("utf8")) as { results: T[] }).results;
  } catch (error) {
    const stderr = String((error as { stderr?: Buffer }).stderr ?? "");
    throw new Error(`${script} failed: ${stderr.slice(-2000)}`, { cause: error });
  }
}

export type OracleLoad = { ok: true; data: Record<string, unknown> } | { ok: false; error: string };

/** Django 3.2 (test/helpers/django_oracle.py). */
export const django = {
  mint(
    ops: ReadonlyArray<{ secret_key: string; data: unknown; now: number; algorithm?: "sha256" | "sha1" }>,
  ) {
    return runOracle<{ cookie: string }>(
      PYTHON,
      DJANGO_ORACLE,
      ops.map((op) => ({ op: "mint", ...op })),
    ).map((result) => result.cookie);
  },
  load(ops: ReadonlyArray<{ secret_key: string; cookie: string; now: number; max_age?: number }>) {
    return runOracle<OracleLoad>(
      PYTHON,
      DJANGO_ORACLE,
      ops.map((op) => ({ op: "load", ...op })),
    );
  },
};

export interface RailsEncryptOp {
  secret_key_base: string;
  cookie_name: string;
  data: unknown;
  digest: "sha1" | "sha256";
  metadata: boolean;
  expires_at?: string | null;
  now?: number;
}

/** ActiveSupport 6.1 (test/helpers/rails_oracle.rb). */
export const rails = {
  encrypt(ops: readonly RailsEncryptOp[]) {
    return runOracle<{ cookie: string; escaped: string }>(
      RUBY,
      RAILS_ORACLE,
      ops.map((op) => ({ op: "encrypt", ...op })),
    );
  },
  decrypt(
    ops: ReadonlyArray<{
      secret_key_base: string;
      cookie_name: string;
      cookie: string;
      digest: "sha1" | "sha256";
      now: number;
    }>,
  ) {
    return runOracle<OracleLoad>(
      RUBY,
      RAILS_ORACLE,
      ops.map((op) => ({ op: "decrypt", ...op })),
    );
  },
};

/** Starts a node:http server on 127.0.0.1 for one use; `close()` stops it. */
async function serve(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ base: string; close(): Promise<void> }> {
  const server: Server = createServer(handler);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** The `name=value` pairs of a response's Set-Cookie lines, as a browser would send them back. */
export function cookiePairs(response: Response): string {
  return response.headers
    .getSetCookie()
    .map((line) => line.split(";")[0]!)
    .join("; ");
}

/**
 * An Express app with express-session on `store`: GET /mint stores `data` in the session (the
 * response sets connect.sid), GET /read answers the session's data as JSON ({} when express-session
 * found none).
 */
export async function expressSessionApp(options: {
  secret: string | string[];
  store: Store;
  name?: string;
  maxAge?: number;
}) {
  const app = express();
  app.use(
    expressSessionMiddleware({
      secret: options.secret,
      store: options.store,
      name: options.name,
      resave: false,
      saveUninitialized: false,
      cookie: options.maxAge === undefined ? {} : { maxAge: options.maxAge },
    }),
  );
  let pending: Record<string, unknown> = {};
  app.get("/mint", (req, res) => {
    Object.assign(req.session, pending);
    res.end("ok");
  });
  app.get("/read", (req, res) => {
    const { cookie: _cookie, ...data } = req.session as unknown as Record<string, unknown>;
    res.json(data);
  });
  const server = await serve(app);
  return {
    ...server,
    /** The Cookie header a browser sends after express-session stored `data`. */
    async mint(data: Record<string, unknown>): Promise<string> {
      pending = data;
      return cookiePairs(await fetch(`${server.base}/mint`));
    },
    /** What express-session itself reads from `cookieHeader`. */
    async read(cookieHeader: string): Promise<Record<string, unknown>> {
      return (await fetch(`${server.base}/read`, { headers: { cookie: cookieHeader } })).json();
    },
  };
}

/** An Express app with cookie-session: GET /mint writes `data`, GET /read answers what it reads (null for none). */
export async function cookieSessionApp(options: { keys: string[]; name?: string }) {
  const app = express();
  // cookie-session takes an explicit `name: undefined` as the name "undefined".
  // (and it adds its defaults to the object it is given: a copy keeps the caller's intact).
  app.use(cookieSessionMiddleware(options.name === undefined ? { keys: options.keys } : { ...options }));
  let pending: Record<string, unknown> = {};
  app.get("/mint", (req, res) => {
    Object.assign(req.session!, pending);
    res.end("ok");
  });
  app.get("/read", (req, res) => {
    // express-session's type augmentation of req.session wins over cookie-session's: read it as cookie-session's.
    const session = req.session as unknown as (Record<string, unknown> & { isPopulated: boolean }) | null;
    res.json(session?.isPopulated ? { ...session } : null);
  });
  const server = await serve(app);
  return {
    ...server,
    async mint(data: Record<string, unknown>): Promise<string> {
      pending = data;
      return cookiePairs(await fetch(`${server.base}/mint`));
    },
    async read(cookieHeader: string): Promise<Record<string, unknown> | null> {
      return (await fetch(`${server.base}/read`, { headers: { cookie: cookieHeader } })).json();
    },
  };
}

/**
 * A node:http app with iron-session 8's getIronSession: /mint saves `data` (the response sets the
 * sealed cookie), /read answers what iron-session reads ({} for none).
 */
export async function ironSessionApp(options: {
  password: string | Record<string, string>;
  cookieName: string;
  ttl?: number;
}) {
  let pending: Record<string, unknown> = {};
  // iron-session takes an explicit `ttl: undefined` as a TTL (and then fails on its maxAge).
  const ironOptions = {
    password: options.password,
    cookieName: options.cookieName,
    ...(options.ttl === undefined ? {} : { ttl: options.ttl }),
  };
  const server = await serve((req, res) => {
    void (async () => {
      const session = await getIronSession<Record<string, unknown>>(req, res, ironOptions);
      if (req.url === "/mint") {
        Object.assign(session, pending);
        await session.save();
        res.end("ok");
      } else {
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ ...session }));
      }
    })().catch((error) => {
      res.statusCode = 500;
      res.end(String(error));
    });
  });
  return {
    ...server,
    async mint(data: Record<string, unknown>): Promise<string> {
      pending = data;
      return cookiePairs(await fetch(`${server.base}/mint`));
    },
    async read(cookieHeader: string): Promise<Record<string, unknown>> {
      return (await fetch(`${server.base}/read`, { headers: { cookie: cookieHeader } })).json();
    },
  };
}
