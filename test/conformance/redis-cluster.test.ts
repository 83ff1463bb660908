/**
 * Redis Cluster: a real 3-master / 3-replica cluster on loopback runs the store conformance
 * suite; then one master is killed under load. Sessions on the other shards must never fail,
 * the killed shard's sessions fail fast (ERR_STORE_UNAVAILABLE) and come back after failover.
 */
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { createClient, createCluster } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SessionStoreError } from "../../src/errors.js";
import { keySlot } from "../../src/stores/redis/slot.js";
import { type RedisStore, redisStore } from "../../src/stores/redis.js";
import { changes, sessionKey } from "../fixtures/redis-changes.js";
import {
  type RedisCluster,
  rawCommand,
  redisTestsAvailable,
  startRedisCluster,
} from "../helpers/redis-server.js";
import { describeStoreConformance } from "./store-suite.js";

const available = redisTestsAvailable("Redis Cluster tests (test/conformance/redis-cluster.test.ts)");
const prefix = `flagon-cluster-${randomBytes(4).toString("hex")}:`;
/** Event-loop and scheduling slack on a shared, often loaded 2-core machine. */
const SLACK_MS = 500;

function connectCluster(rootNodes: { url: string }[]) {
  return createCluster({
    rootNodes,
    // Re-read the topology soon after a node stops answering, so a promoted replica is found
    // in about a second rather than node-redis' default five.
    topologyRefreshOnReconnectionAttemptStrategy: 500,
    defaults: { socket: { reconnectStrategy: 100, connectTimeout: 1000 } },
  });
}

let cluster: RedisCluster | undefined;
let client: ReturnType<typeof connectCluster> | undefined;

async function clusterClient(): Promise<ReturnType<typeof connectCluster>> {
  cluster ??= await startRedisCluster({ nodeTimeoutMs: 2000 });
  if (!client) {
    const created = connectCluster(cluster.rootNodes);
    created.on("error", () => undefined);
    await created.connect();
    client = created;
  }
  return client;
}

afterAll(async () => {
  client?.destroy();
  await cluster?.stop();
});

/** KEYS of this run plus their values, from every node (masters and replicas). */
async function dump(): Promise<string> {
  const parts: string[] = [];
  for (const node of cluster?.nodes ?? []) {
    const direct = createClient({ url: node.server.url });
    direct.on("error", () => undefined);
    await direct.connect();
    try {
      await direct.sendCommand(["READONLY"]);
      for (const name of await direct.keys(`${prefix}*`)) {
        parts.push(name);
        try {
          const type = await direct.type(name);
          if (type === "hash") parts.push(JSON.stringify(await direct.hGetAll(name)));
          else if (type === "list") parts.push(...(await direct.lRange(name, 0, -1)));
          else if (type === "set") parts.push(...(await direct.sMembers(name)));
        } catch (error) {
          // A replica that has not caught up with a slot's owner answers MOVED: the key's value is
          // read from the master that holds it, which this loop visits too.
          if (!String(error).includes("MOVED")) throw error;
        }
      }
    } finally {
      direct.destroy();
    }
  }
  return parts.join("\n");
}

describe.skipIf(!available)("redisStore on Redis Cluster", () => {
  describeStoreConformance(
    "redisStore (Redis Cluster, 3 masters + 3 replicas)",
    async () => redisStore({ client: await clusterClient(), prefix, commandTimeout: 10_000 }),
    { dump, concurrency: 1000 },
  );

  describe("failover: one master killed under load", () => {
    let store: RedisStore;
    beforeAll(async () => {
      store = redisStore({ client: await clusterClient(), prefix });
    });
    afterAll(async () => {
      await store?.close();
    });

    it("other shards never fail; the killed shard fails fast, then its sessions come back", async () => {
      const live = cluster!;
      // Sessions spread over all three shards, with data written (and replicated) before the kill.
      const sessions = Array.from({ length: 90 }, () => sessionKey());
      await Promise.all(sessions.map((key, i) => store.apply(key, changes({ set: [["n", i]] }))));
      const masterOf = new Map<string, number>();
      for (const key of sessions) {
        masterOf.set(key, await live.masterPortForSlot(keySlot(store.keysOf(key).meta)));
      }
      const victimPort = masterOf.get(sessions[0]!)!;
      const victim = live.nodes.find((n) => n.port === victimPort)!;
      const onVictim = sessions.filter((key) => masterOf.get(key) === victimPort);
      const elsewhere = sessions.filter((key) => masterOf.get(key) !== victimPort);
      expect(onVictim.length).toBeGreaterThan(5);
      expect(new Set(elsewhere.map((key) => masterOf.get(key))).size).toBe(2);
      await waitForReplication(victimPort);

      interface Outcome {
        key: string;
        ok: boolean;
        ms: number;
        at: number;
        error?: unknown;
      }
      const outcomes: Outcome[] = [];
      let running = true;
      const workers = Array.from({ length: 12 }, async (_, w) => {
        for (let i = w; running; i += 12) {
          const key = sessions[i % sessions.length]!;
          const start = performance.now();
          try {
            const record = await store.get(key);
            if (record?.data.n !== sessions.indexOf(key)) throw new Error("wrong or missing record");
            outcomes.push({ key, ok: true, ms: performance.now() - start, at: performance.now() });
          } catch (error) {
            outcomes.push({ key, ok: false, ms: performance.now() - start, at: performance.now(), error });
          }
          await new Promise((r) => setTimeout(r, 5));
        }
      });

      await new Promise((r) => setTimeout(r, 200));
      const killedAt = performance.now();
      await victim.server.kill();

      // Wait until every session of the killed shard reads back from the promoted replica.
      const back = new Set<string>();
      let lastError: unknown;
      const deadline = Date.now() + 25_000;
      while (back.size < onVictim.length && Date.now() < deadline) {
        for (const key of onVictim) {
          if (back.has(key)) continue;
          const record = await store.get(key).catch((error: unknown) => {
            lastError = error;
            return undefined;
          });
          if (record?.data.n === sessions.indexOf(key)) back.add(key);
        }
        if (back.size < onVictim.length) await new Promise((r) => setTimeout(r, 100));
      }
      const recoveredAt = performance.now();
      await new Promise((r) => setTimeout(r, 300));
      running = false;
      await Promise.all(workers);

      if (back.size < onVictim.length) {
        // Say why, so a failure on a loaded machine can be told apart: no promotion, or a client
        // that never learnt of it.
        const nowMaster = await live
          .masterPortForSlot(keySlot(store.keysOf(onVictim[0]!).meta))
          .catch((error: unknown) => `unknown (${String(error)})`);
        throw new Error(
          `${back.size}/${onVictim.length} sessions of the killed shard (port ${victimPort}) came back in 25 s; ` +
            `the cluster now names ${nowMaster} as their master; the store's last error: ${String(lastError)}`,
        );
      }
      const victimKeys = new Set(onVictim);
      const others = outcomes.filter((o) => !victimKeys.has(o.key));
      const failedElsewhere = others.filter((o) => !o.ok);
      expect(others.filter((o) => o.at > killedAt).length).toBeGreaterThan(100);
      expect(failedElsewhere.map((o) => String(o.error))).toEqual([]); // never failed

      const victimFailures = outcomes.filter((o) => victimKeys.has(o.key) && !o.ok);
      expect(victimFailures.length).toBeGreaterThan(0); // the outage was real
      for (const failure of victimFailures) {
        expect(failure.error).toBeInstanceOf(SessionStoreError);
        expect(failure.error).toMatchObject({ code: "ERR_STORE_UNAVAILABLE" });
        expect(failure.ms).toBeLessThan(1000 + SLACK_MS);
      }
      expect(outcomes.some((o) => victimKeys.has(o.key) && o.ok && o.at > recoveredAt)).toBe(true);

      // Writes to the failed-over shard work again.
      await store.apply(onVictim[0]!, changes({ set: [["after", "failover"]] }));
      expect((await store.get(onVictim[0]!))?.data).toMatchObject({ after: "failover" });
      const newMaster = await live.masterPortForSlot(keySlot(store.keysOf(onVictim[0]!).meta));
      expect(newMaster).not.toBe(victimPort);
      if (process.env.FLAGON_REDIS_REPORT) {
        const ms = victimFailures.map((f) => f.ms).sort((a, b) => a - b);
        console.log(
          `failover: ${victimFailures.length} failures on the killed shard (max ${ms.at(-1)?.toFixed(1)} ms), ` +
            `${others.length} ok elsewhere, back after ${(recoveredAt - killedAt).toFixed(0)} ms`,
        );
      }
    });
  });
});

/** Waits until the master's replica has acknowledged everything the master has. */
async function waitForReplication(masterPort: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const info = await rawCommand(masterPort, "INFO replication");
    const masterOffset = Number(/master_repl_offset:(\d+)/.exec(info)?.[1]);
    const replicaOffset = Number(/slave0:[^\r\n]*offset=(\d+)/.exec(info)?.[1]);
    if (Number.isFinite(masterOffset) && replicaOffset >= masterOffset) return;
    if (Date.now() > deadline) throw new Error("replica did not catch up");
    await new Promise((r) => setTimeout(r, 50));
  }
}
