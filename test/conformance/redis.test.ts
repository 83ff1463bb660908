import { randomBytes } from "node:crypto";
import { createClient } from "redis";
import { afterAll, describe } from "vitest";
import { redisStore } from "../../src/stores/redis.js";
import { redisForTests, redisServerAvailable } from "../helpers/redis-server.js";
import { describeStoreConformance } from "./store-suite.js";

const available = await redisServerAvailable("Redis store conformance (test/conformance/redis.test.ts)");
// Unique per run, so a shared server (CI's 127.0.0.1:6379) never mixes runs.
const prefix = `flagon-conformance-${randomBytes(6).toString("hex")}:`;
/** The suite fires 1000 concurrent writes; on a loaded 2-core machine they may need more than 1 s. */
const THROUGHPUT_TIMEOUT_MS = 10_000;
let redis: Awaited<ReturnType<typeof redisForTests>> | undefined;
let admin: ReturnType<typeof createClient> | undefined;

async function server(): Promise<string> {
  redis ??= await redisForTests();
  if (!admin) {
    admin = createClient({ url: redis.url });
    admin.on("error", () => undefined);
    await admin.connect();
  }
  return redis.url;
}

/** KEYS of this run plus every value they hold. */
async function dump(): Promise<string> {
  await server();
  const client = admin!;
  const parts: string[] = [];
  for (const name of await client.keys(`${prefix}*`)) {
    parts.push(name);
    const type = await client.type(name);
    if (type === "hash") parts.push(JSON.stringify(await client.hGetAll(name)));
    else if (type === "list") parts.push(...(await client.lRange(name, 0, -1)));
    else if (type === "set") parts.push(...(await client.sMembers(name)));
    else parts.push(`unexpected ${type}`);
  }
  return parts.join("\n");
}

afterAll(async () => {
  if (admin) {
    const names = await admin.keys(`${prefix}*`);
    if (names.length > 0) await admin.del(names);
    await admin.close();
  }
  await redis?.stop();
});

describe.skipIf(!available)("redisStore (single node)", () => {
  describeStoreConformance(
    "redisStore",
    async () => redisStore({ url: await server(), prefix, commandTimeout: THROUGHPUT_TIMEOUT_MS }),
    {
      dump,
      concurrency: 1000,
    },
  );
});
