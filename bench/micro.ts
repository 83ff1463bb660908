/**
 * `npm run bench:micro [-- --quick]`
 *
 * Nanoseconds per operation for flagon's crypto and cookie primitives, next to the raw node:crypto floor,
 * Web Crypto (why the hot path avoids it) and the libraries users would otherwise install. Every case runs
 * in one process, round-robin over several timed rounds after a warm-up, so machine drift hits all alike;
 * the table shows the median round. Results: bench/results/micro.json.
 */
import { Buffer } from "node:buffer";
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  randomBytes,
  timingSafeEqual,
  webcrypto,
} from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { arch, cpus } from "node:os";
import { parseArgs } from "node:util";
import * as cookie from "cookie";
import * as Iron from "iron-webcrypto";
import { Keyring } from "../src/crypto/keyring.js";
import { randomToken } from "../src/crypto/random.js";
import { createSealer } from "../src/crypto/sealer.js";
import { createSigner } from "../src/crypto/signer.js";

const { values: args } = parseArgs({ options: { quick: { type: "boolean", default: false } } });
const ROUNDS = args.quick ? 5 : 21;
const ROUND_MS = args.quick ? 10 : 25;
const WARMUP_MS = args.quick ? 30 : 200;

const require = createRequire(import.meta.url);
const cookieSignature = require("cookie-signature") as {
  sign(value: string, secret: string): string;
  unsign(signed: string, secret: string): string | false;
};
const Keygrip = require("keygrip") as new (
  keys: string[],
) => { sign(data: string): string; verify(data: string, digest: string): boolean };

// ---- inputs -------------------------------------------------------------------------------------------
const SECRET = "bench-secret-0123456789abcdef-0123456789abcdef";
const OLD_SECRET = "bench-old-secret-fedcba9876543210-fedcba987654";
/** A ~200-byte session payload, the size a small cookie session carries. */
const PAYLOAD = JSON.stringify({
  user: "alice",
  roles: ["reader", "editor"],
  csrf: "3q2-7wAAAAB1dWlkLXN0eWxlLXRva2VuLTEyMzQ1Njc4",
  _flash: [["message", "Login Successfully."]],
  createdAt: 1767225600000,
  theme: "dark",
});
const NAME = "session";

const signer = createSigner(new Keyring(SECRET), "bench");
const sealer = createSealer(new Keyring(SECRET), "bench");
const rotatedSigner = createSigner(new Keyring([SECRET, OLD_SECRET]), "bench");
const signedByOld = createSigner(new Keyring(OLD_SECRET), "bench").sign(NAME, PAYLOAD);

const rawKey = randomBytes(32);
const rawNonce = randomBytes(12);
const payloadBytes = Buffer.from(PAYLOAD);
const aad = Buffer.from(`v1.${NAME}`);

const subtle = webcrypto.subtle;
const hmacKey = await subtle.importKey("raw", rawKey, { name: "HMAC", hash: "SHA-256" }, false, [
  "sign",
  "verify",
]);
const aesKey = await subtle.importKey("raw", rawKey, { name: "AES-GCM" }, false, ["encrypt", "decrypt"]);

const keygrip = new Keygrip([SECRET]);
const ironObject = JSON.parse(PAYLOAD) as unknown;

const COOKIE_HEADER =
  "theme=dark; lang=en-GB; _ga=GA1.2.1234567890.1767225600; " +
  `__Host-session=${sealer.seal(NAME, PAYLOAD)}; csrf=${randomToken()}`;

// ---- cases --------------------------------------------------------------------------------------------
interface Case {
  name: string;
  group: string;
  run: () => unknown;
  async?: boolean;
}

const cases: Case[] = [
  {
    group: "sign+verify",
    name: "flagon createSigner sign+verify",
    run: () => signer.verify(NAME, signer.sign(NAME, PAYLOAD)),
  },
  {
    group: "sign+verify",
    name: "flagon verify, old key (keyIndex 1)",
    run: () => rotatedSigner.verify(NAME, signedByOld),
  },
  {
    group: "sign+verify",
    name: "node:crypto HMAC-SHA256 x2 (floor)",
    run: () => {
      const mac = createHmac("sha256", rawKey).update(PAYLOAD).digest();
      return timingSafeEqual(mac, createHmac("sha256", rawKey).update(PAYLOAD).digest());
    },
  },
  {
    group: "sign+verify",
    name: "Web Crypto HMAC sign+verify",
    async: true,
    run: async () =>
      subtle.verify("HMAC", hmacKey, await subtle.sign("HMAC", hmacKey, payloadBytes), payloadBytes),
  },
  {
    group: "sign+verify",
    name: "cookie-signature sign+unsign",
    run: () => cookieSignature.unsign(cookieSignature.sign(PAYLOAD, SECRET), SECRET),
  },
  {
    group: "sign+verify",
    name: "keygrip sign+verify",
    run: () => keygrip.verify(PAYLOAD, keygrip.sign(PAYLOAD)),
  },
  {
    group: "seal+open",
    name: "flagon createSealer seal+open",
    run: () => sealer.open(NAME, sealer.seal(NAME, PAYLOAD)),
  },
  {
    group: "seal+open",
    name: "node:crypto AES-256-GCM enc+dec (floor)",
    run: () => {
      const cipher = createCipheriv("aes-256-gcm", rawKey, rawNonce).setAAD(aad);
      const encrypted = Buffer.concat([cipher.update(payloadBytes), cipher.final()]);
      const decipher = createDecipheriv("aes-256-gcm", rawKey, rawNonce)
        .setAAD(aad)
        .setAuthTag(cipher.getAuthTag());
      return Buffer.concat([decipher.update(encrypted), decipher.final()]);
    },
  },
  {
    group: "seal+open",
    name: "Web Crypto AES-GCM enc+dec",
    async: true,
    run: async () => {
      const params = { name: "AES-GCM", iv: rawNonce, additionalData: aad };
      return subtle.decrypt(params, aesKey, await subtle.encrypt(params, aesKey, payloadBytes));
    },
  },
  {
    group: "seal+open",
    name: "iron-webcrypto v1 seal+unseal",
    async: true,
    run: async () =>
      Iron.unseal(
        webcrypto,
        await Iron.seal(webcrypto, ironObject, SECRET, Iron.defaults),
        SECRET,
        Iron.defaults,
      ),
  },
  { group: "random", name: "flagon randomToken() (pooled)", run: () => randomToken() },
  {
    group: "random",
    name: "randomBytes(32).toString(base64url)",
    run: () => randomBytes(32).toString("base64url"),
  },
  { group: "cookie", name: "cookie@1 parse, 5 cookies", run: () => cookie.parse(COOKIE_HEADER) },
];

// src/cookie is written by another helper at the same time: measure it when it exists.
const cookieModulePath = "../src/cookie/index.js";
try {
  const cookieModule = (await import(cookieModulePath)) as {
    parseCookies(header: string): Record<string, string>;
    serializeCookie(name: string, value: string, attributes?: Record<string, unknown>): string;
  };
  const sessionCookie = sealer.seal(NAME, PAYLOAD);
  cases.push(
    {
      group: "cookie",
      name: "flagon parseCookies, 5 cookies",
      run: () => cookieModule.parseCookies(COOKIE_HEADER),
    },
    {
      group: "cookie",
      name: "flagon serializeCookie (session attrs)",
      run: () =>
        cookieModule.serializeCookie("__Host-session", sessionCookie, {
          path: "/",
          httpOnly: true,
          secure: true,
          sameSite: "lax",
          maxAge: 2_678_400,
        }),
    },
  );
} catch (error) {
  console.warn(`notice: skipping src/cookie cases (${(error as Error).message.split("\n")[0]})`);
}

// The session core's request path: what onEvent and the set() value check cost (nothing when unset).
const sessionsModulePath = "../src/session/sessions.js";
const memoryModulePath = "../src/stores/memory.js";
try {
  const { createSessions } = (await import(
    sessionsModulePath
  )) as typeof import("../src/session/sessions.js");
  const { memoryStore } = (await import(memoryModulePath)) as typeof import("../src/stores/memory.js");
  const secret = "s".repeat(40);
  const plain = createSessions({ secret, store: memoryStore() });
  let events = 0;
  const observed = createSessions({ secret, store: memoryStore(), onEvent: () => void events++ });
  async function cookieOf(core: typeof plain): Promise<Headers> {
    const first = await core.load(new Headers());
    first.set("user", "leo");
    const out = new Headers();
    await core.commit(first, out);
    const line = out.get("set-cookie")!;
    return new Headers({ cookie: line.slice(0, line.indexOf(";")) });
  }
  const plainHeaders = await cookieOf(plain);
  const observedHeaders = await cookieOf(observed);
  const readOnce = async (core: typeof plain, headers: Headers) => {
    const session = await core.load(headers);
    session.get("user");
    const plan = core.prepare(session);
    if (plan.write !== undefined) await plan.write();
    return plan;
  };
  const small = { id: 12, name: "leo", tags: ["a", "b"], at: 1_700_000_000_000, ok: true };
  const scratch = await plain.load(new Headers());
  cases.push(
    {
      group: "session",
      name: "load+prepare, memory store, read",
      async: true,
      run: () => readOnce(plain, plainHeaders),
    },
    {
      group: "session",
      name: "load+prepare, memory store, read, onEvent",
      async: true,
      run: () => readOnce(observed, observedHeaders),
    },
    { group: "session", name: "session.set(key, string)", run: () => scratch.set("k", "value") },
    { group: "session", name: "session.set(key, small object)", run: () => scratch.set("o", small) },
  );
} catch (error) {
  console.warn(`notice: skipping session cases (${(error as Error).message.split("\n")[0]})`);
}

// ---- harness ------------------------------------------------------------------------------------------
interface Timing {
  wallNs: number;
  /** CPU time of this process (all threads: main, libuv pool, GC). Robust when other processes share the cores. */
  cpuNs: number;
}

/** Runs `item` `iterations` times. Async cases are awaited one at a time, like one request. */
async function timeBatch(item: Case, iterations: number): Promise<Timing> {
  let sink: unknown;
  const cpuStart = process.cpuUsage();
  const start = process.hrtime.bigint();
  if (item.async) {
    for (let i = 0; i < iterations; i++) sink = await item.run();
  } else {
    for (let i = 0; i < iterations; i++) sink = item.run();
  }
  const wallNs = Number(process.hrtime.bigint() - start);
  const cpu = process.cpuUsage(cpuStart);
  if (sink === undefined) throw new Error(`${item.name} returned nothing`);
  return { wallNs, cpuNs: (cpu.user + cpu.system) * 1000 };
}

/** Warm up for WARMUP_MS and pick a batch size that takes about ROUND_MS. */
async function calibrate(item: Case): Promise<number> {
  let iterations = 1;
  let spent = 0;
  let perOp = 0;
  while (spent < WARMUP_MS * 1e6) {
    const elapsed = (await timeBatch(item, iterations)).wallNs;
    spent += elapsed;
    perOp = elapsed / iterations;
    iterations = Math.min(iterations * 2, 1_000_000);
  }
  return Math.max(1, Math.round((ROUND_MS * 1e6) / perOp));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

const batches = new Map<Case, number>();
for (const item of cases) batches.set(item, await calibrate(item));
const samples = new Map<Case, { wall: number[]; cpu: number[] }>(
  cases.map((item) => [item, { wall: [], cpu: [] }]),
);
for (let round = 0; round < ROUNDS; round++) {
  // Alternate direction each round so no case always runs right after another.
  const order = round % 2 === 0 ? cases : [...cases].reverse();
  for (const item of order) {
    const iterations = batches.get(item)!;
    const timing = await timeBatch(item, iterations);
    samples.get(item)!.wall.push(timing.wallNs / iterations);
    samples.get(item)!.cpu.push(timing.cpuNs / iterations);
  }
}

// ---- report -------------------------------------------------------------------------------------------
const FLOORS: Record<string, string> = {
  "sign+verify": "node:crypto HMAC-SHA256 x2 (floor)",
  "seal+open": "node:crypto AES-256-GCM enc+dec (floor)",
};
const results = cases.map((item) => {
  const { wall, cpu } = samples.get(item)!;
  return {
    group: item.group,
    name: item.name,
    /** Median over rounds of CPU ns per operation: the headline figure. */
    cpuNsPerOp: Math.round(median(cpu)),
    /** Median over rounds of wall-clock ns per operation (includes time descheduled by other processes). */
    wallNsPerOp: Math.round(median(wall)),
    minWallNs: Math.round(Math.min(...wall)),
  };
});
const cpuOf = (name: string) => results.find((result) => result.name === name)?.cpuNsPerOp;

const rows = results.map((result) => {
  const floorName = FLOORS[result.group];
  const floor = floorName === undefined ? undefined : cpuOf(floorName);
  const ratio = floor === undefined ? "" : `${(result.cpuNsPerOp / floor).toFixed(1)}x`;
  const format = (ns: number) => ns.toLocaleString("en");
  return [
    result.group,
    result.name,
    format(result.cpuNsPerOp),
    format(result.wallNsPerOp),
    format(result.minWallNs),
    ratio,
  ];
});
const header = ["group", "case", "cpu ns/op", "wall ns/op", "min wall", "vs floor"];
const widths = header.map((title, column) =>
  Math.max(title.length, ...rows.map((row) => row[column]!.length)),
);
const line = (cells: string[]) =>
  cells
    .map((cell, column) => (column >= 2 ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!)))
    .join("  ");
console.log(
  `\nflagon micro benchmark — node ${process.version}, ${cpus()[0]?.model ?? "cpu"} x${cpus().length}`,
);
console.log(
  `${ROUNDS} rounds of ~${ROUND_MS} ms per case, round-robin, after ${WARMUP_MS} ms warm-up; payload ` +
    `${PAYLOAD.length} bytes; medians over rounds; "vs floor" compares cpu ns/op\n`,
);
console.log(line(header));
console.log(line(widths.map((width) => "-".repeat(width))));
for (const row of rows) console.log(line(row));

mkdirSync(new URL("results/", import.meta.url), { recursive: true });
writeFileSync(
  new URL("results/micro.json", import.meta.url),
  `${JSON.stringify(
    {
      date: new Date().toISOString(),
      node: process.version,
      cpu: `${cpus()[0]?.model ?? "unknown"} x${cpus().length} (${arch()})`,
      quick: args.quick,
      rounds: ROUNDS,
      roundMs: ROUND_MS,
      payloadBytes: PAYLOAD.length,
      results,
    },
    null,
    2,
  )}\n`,
);
console.log("\nwrote bench/results/micro.json");
