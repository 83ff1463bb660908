import { Buffer } from "node:buffer";
import { parseArgs } from "node:util";
import { Keyring } from "../crypto/keyring.js";
import { randomToken } from "../crypto/random.js";
import { createSigner } from "../crypto/signer.js";
import { FlagonError } from "../errors.js";
import { encodeFlaskCookie, FLASK_COOKIE_NAME } from "../flask/cookie.js";
import { fromTypedJSON } from "../flask/typed-json.js";
import { FlaskTuple } from "../flask/types.js";
import { storeKey } from "../session/sessions.js";
import { cookieStore } from "../stores/cookie.js";
import type { FlashMessage } from "../stores/types.js";
import {
  type CliIO,
  collectSecrets,
  EXIT,
  parseCommandLine,
  printJSON,
  seconds,
  single,
  UsageError,
} from "./io.js";
import { DEFAULT_LIFETIME_SECONDS, SESSION_ID_PURPOSE } from "./sessions.js";

export const SIGN_USAGE = `Usage: flagon sign --secret S [--name NAME] [--lifetime SECONDS] [--permanent]
                   [--flash CATEGORY:MESSAGE ...] [--json] DATA
       flagon sign --secret S --id [--name NAME] [ID]
       flagon sign --flask --secret S [--permanent] [--flash CATEGORY:MESSAGE ...] DATA

Mints a test cookie and prints its value.
  DATA           the session data as a JSON object ('{"user":"leo"}'); with --flask, typed JSON
                 (docs/flask.md: {"$tuple": [...]}, {"$bytes": "..."}, ...)
  --secret S     the secret (repeatable; the first signs). --secret-env VAR reads it from the environment
  --name NAME    the cookie name, bound into the MAC (default sid; use __Host-sid for an HTTPS app)
  --lifetime N   seconds until the embedded expiry (default 2678400, 31 days)
  --permanent    a permanent session (Flask: session.permanent = True)
  --flash C:M    a pending flash message (category "message" when no colon)
  --id [ID]      a server-side store's cookie: the signed session id (random when omitted)
  --flask        a Flask session cookie (itsdangerous), for Flask's SECRET_KEY
  --json         print {"name", "value", "bytes", "cookie"} as JSON`;

export const SEAL_USAGE = `Usage: flagon seal --secret S [--name NAME] [--lifetime SECONDS] [--permanent]
                   [--flash CATEGORY:MESSAGE ...] [--json] DATA

Mints an encrypted (sealed, AES-256-GCM) session cookie, as cookieStore() writes them. Options as
for "flagon sign".`;

const MINT_OPTIONS = {
  secret: { type: "string", multiple: true },
  "secret-env": { type: "string", multiple: true },
  name: { type: "string" },
  lifetime: { type: "string" },
  permanent: { type: "boolean" },
  flash: { type: "string", multiple: true },
  json: { type: "boolean" },
  id: { type: "boolean" },
  flask: { type: "boolean" },
} as const;

function parseData(text: string, typed: boolean): Record<string, unknown> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new UsageError('DATA must be a JSON object, e.g. \'{"user":"leo"}\'');
  }
  const data = typed ? fromTypedJSONOrUsage(json) : json;
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    throw new UsageError("DATA must be a JSON object");
  }
  return data as Record<string, unknown>;
}

function fromTypedJSONOrUsage(json: unknown): unknown {
  try {
    return fromTypedJSON(json);
  } catch (error) {
    if (error instanceof FlagonError) throw new UsageError(error.message);
    throw error;
  }
}

function parseFlashes(entries: readonly string[] | undefined): FlashMessage[] {
  return (entries ?? []).map((entry, index) => {
    const colon = entry.indexOf(":");
    const [category, message] =
      colon < 0 ? ["message", entry] : [entry.slice(0, colon), entry.slice(colon + 1)];
    return { id: `cli-flash-${index}-${randomToken(12)}`, category, message };
  });
}

function output(
  io: CliIO,
  json: boolean | undefined,
  name: string,
  value: string,
  extra: object = {},
): number {
  if (json) {
    printJSON(io, { name, value, bytes: Buffer.byteLength(value), cookie: `${name}=${value}`, ...extra });
  } else {
    io.stdout(`${value}\n`);
  }
  return EXIT.ok;
}

/** Wraps library errors (short secret, unserializable value, oversized cookie) as usage errors. */
function orUsage<T>(run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof FlagonError) throw new UsageError(error.message);
    throw error;
  }
}

export function mint(command: "sign" | "seal", argv: readonly string[], io: CliIO): number {
  const { values, positionals } = parseCommandLine(() =>
    parseArgs({ args: [...argv], options: MINT_OPTIONS, allowPositionals: true, strict: true }),
  );
  const secrets = collectSecrets(values, io);
  if (secrets.length === 0) throw new UsageError("give --secret (or --secret-env)");
  const now = Date.now();

  if (values.flask) {
    if (command === "seal")
      throw new UsageError("Flask cookies are signed, not sealed: use flagon sign --flask");
    if (values.id || values.lifetime !== undefined)
      throw new UsageError("--id and --lifetime do not apply to --flask");
    const data = parseData(single(positionals, "DATA")!, true);
    const flashes = parseFlashes(values.flash);
    if (flashes.length > 0)
      data._flashes = flashes.map((flash) => FlaskTuple.of(flash.category, flash.message));
    if (values.permanent) data._permanent = true;
    const value = orUsage(() => encodeFlaskCookie(data, secrets, { now }));
    return output(io, values.json, values.name ?? FLASK_COOKIE_NAME, value);
  }

  const name = values.name ?? "sid";
  const keyring = orUsage(() => new Keyring(secrets));
  if (values.id) {
    if (command === "seal") throw new UsageError("session id cookies are signed: use flagon sign --id");
    const id = single(positionals, "ID", false) ?? randomToken(32);
    const value = orUsage(() => createSigner(keyring, SESSION_ID_PURPOSE).sign(name, id, { now }));
    return output(io, values.json, name, value, { storeKey: storeKey(id) });
  }

  const data = parseData(single(positionals, "DATA")!, false);
  const lifetime = seconds(values.lifetime, "--lifetime") ?? DEFAULT_LIFETIME_SECONDS;
  const store = cookieStore({ encrypt: command === "seal" });
  const value = orUsage(() =>
    store.encode(
      {
        data,
        flashes: parseFlashes(values.flash),
        createdAt: now,
        lastSeenAt: now,
        expiresAt: now + lifetime * 1000,
        permanent: values.permanent ?? false,
      },
      { keyring, cookieName: name, now },
    ),
  );
  return output(io, values.json, name, value);
}
