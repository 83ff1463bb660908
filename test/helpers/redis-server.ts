/**
 * Private redis-server processes for tests: a single node or a 3×2 cluster on free loopback
 * ports, each in its own temp dir. Only the PIDs started here are ever signalled.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

const started = new Set<ChildProcess>();
// A crashed test run must not leave servers behind.
process.once("exit", () => {
  for (const child of started) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
});

let binaryChecked: boolean | undefined;
/** True when `redis-server` and `redis-cli` can be run. */
export function hasRedisBinaries(): boolean {
  if (binaryChecked === undefined) {
    const server = spawnSync("redis-server", ["--version"], { stdio: "ignore" });
    const cli = spawnSync("redis-cli", ["--version"], { stdio: "ignore" });
    binaryChecked = server.status === 0 && cli.status === 0;
  }
  return binaryChecked;
}

/** Sends raw RESP (inline) commands and resolves with the whole reply text; rejects on error/timeout. */
export function rawCommand(port: number, command: string, timeoutMs = 1000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    let buffer = "";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no reply from 127.0.0.1:${port}`));
    }, timeoutMs);
    socket.setEncoding("utf8");
    socket.on("connect", () => socket.write(`${command}\r\n`));
    socket.on("data", (chunk: string) => {
      buffer += chunk;
      if (isCompleteReply(buffer)) {
        clearTimeout(timer);
        socket.end();
        resolve(buffer);
      }
    });
    socket.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

function isCompleteReply(text: string): boolean {
  if (text.startsWith("$")) {
    const header = text.indexOf("\r\n");
    if (header < 0) return false;
    const length = Number(text.slice(1, header));
    return length < 0 || Buffer.byteLength(text) >= header + 2 + length + 2;
  }
  return text.endsWith("\r\n");
}

/** Is something answering PING on this port? */
export async function isRedisListening(port: number): Promise<boolean> {
  try {
    return (await rawCommand(port, "PING", 500)).startsWith("+PONG");
  } catch {
    return false;
  }
}

/** A port that was free a moment ago (the kernel picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === "object") resolve(address.port);
        else reject(new Error("no port"));
      });
    });
  });
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  readonly pid: number | undefined;
  /** Extra redis-server arguments it was started with. */
  readonly args: readonly string[];
  /** SIGSTOP: the socket stays open but nothing answers (a stalled server). */
  pause(): void;
  /** SIGCONT after pause(). */
  resume(): void;
  /** SIGKILL and wait for the exit: connections are refused afterwards. */
  kill(): Promise<void>;
  /** Starts a new process on the same port and dir (after kill()). */
  restart(): Promise<void>;
  /** Kills the process and removes its dir. Idempotent. */
  stop(): Promise<void>;
}

export interface StartRedisOptions {
  port?: number;
  args?: readonly string[];
  dir?: string;
}

export async function startRedisServer(options: StartRedisOptions = {}): Promise<RedisServer> {
  const port = options.port ?? (await freePort());
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(path.join(tmpdir(), "flagon-redis-"));
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    dir,
    "--logfile",
    path.join(dir, `redis-${port}.log`),
    ...(options.args ?? []),
  ];
  let child: ChildProcess | undefined;
  let stopped = false;

  const launch = async (): Promise<void> => {
    const proc = spawn("redis-server", args, { stdio: "ignore" });
    child = proc;
    started.add(proc);
    proc.once("exit", () => started.delete(proc));
    let spawnError: Error | undefined;
    proc.once("error", (error) => {
      spawnError = error;
    });
    await waitFor(
      async () => {
        if (spawnError) throw spawnError;
        if (proc.exitCode !== null) throw new Error(`redis-server on port ${port} exited (${proc.exitCode})`);
        return isRedisListening(port);
      },
      10_000,
      `redis-server on port ${port}`,
    );
  };

  const killChild = async (): Promise<void> => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
    proc.kill("SIGKILL");
    await exited;
  };

  await launch();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return child?.pid;
    },
    args,
    pause() {
      child?.kill("SIGSTOP");
    },
    resume() {
      child?.kill("SIGCONT");
    },
    kill: killChild,
    async restart() {
      await killChild();
      await launch();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await killChild();
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface ClusterNode {
  readonly server: RedisServer;
  readonly port: number;
}

export interface RedisCluster {
  readonly nodes: readonly ClusterNode[];
  /** `{ url }` root nodes for createCluster. */
  readonly rootNodes: { url: string }[];
  /** The port of the node that currently serves `slot` as master (asks a live node). */
  masterPortForSlot(slot: number): Promise<number>;
  /** Waits until every live node reports cluster_state:ok and `slot` has a live master. */
  waitForHealthy(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** `CLUSTER SLOTS` parsed from the raw RESP text: [start, end, masterPort][]. */
async function clusterSlots(port: number): Promise<Array<[number, number, number]>> {
  const text = await rawCommand(port, "CLUSTER SLOTS");
  // Each range: *N \r\n :start \r\n :end \r\n *k \r\n $ip \r\n ip \r\n :port ...
  const lines = text.split("\r\n");
  const ranges: Array<[number, number, number]> = [];
  for (let i = 0; i < lines.length; i++) {
    const a = lines[i];
    const b = lines[i + 1];
    if (a?.startsWith(":") && b?.startsWith(":") && lines[i + 2]?.startsWith("*")) {
      const portLine = lines[i + 5];
      if (portLine?.startsWith(":")) {
        ranges.push([Number(a.slice(1)), Number(b.slice(1)), Number(portLine.slice(1))]);
        i += 5;
      }
    }
  }
  return ranges;
}

/**
 * Six nodes (three masters, one replica each) on loopback. Full coverage is not required, so
 * the other shards keep answering while a failed master's replica takes over.
 */
export async function startRedisCluster(options: { nodeTimeoutMs?: number } = {}): Promise<RedisCluster> {
  const dir = mkdtempSync(path.join(tmpdir(), "flagon-redis-cluster-"));
  const nodeTimeout = options.nodeTimeoutMs ?? 2000;
  const ports: number[] = [];
  while (ports.length < 12) {
    const port = await freePort();
    if (!ports.includes(port)) ports.push(port);
  }
  const nodes: ClusterNode[] = [];
  try {
    for (let i = 0; i < 6; i++) {
      const port = ports[i]!;
      const server = await startRedisServer({
        port,
        dir,
        args: [
          "--cluster-enabled",
          "yes",
          "--cluster-port",
          String(ports[i + 6]),
          "--cluster-config-file",
          path.join(dir, `nodes-${port}.conf`),
          "--cluster-node-timeout",
          String(nodeTimeout),
          "--cluster-require-full-coverage",
          "no",
        ],
      });
      nodes.push({ server, port });
    }
    const create = spawnSync(
      "redis-cli",
      [
        "--cluster",
        "create",
        ...nodes.map((n) => `127.0.0.1:${n.port}`),
        "--cluster-replicas",
        "1",
        "--cluster-yes",
      ],
      { encoding: "utf8", timeout: 30_000 },
    );
    if (create.status !== 0)
      throw new Error(`redis-cli --cluster create failed: ${create.stdout}${create.stderr}`);
  } catch (error) {
    await Promise.all(nodes.map((n) => n.server.stop()));
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }

  const liveNodes = async (): Promise<ClusterNode[]> => {
    const result: ClusterNode[] = [];
    for (const node of nodes) if (await isRedisListening(node.port)) result.push(node);
    return result;
  };

  const cluster: RedisCluster = {
    nodes,
    rootNodes: nodes.map((n) => ({ url: n.server.url })),
    async masterPortForSlot(slot) {
      for (const node of await liveNodes()) {
        const ranges = await clusterSlots(node.port);
        const range = ranges.find(([start, end]) => slot >= start && slot <= end);
        if (range) return range[2];
      }
      throw new Error(`no master for slot ${slot}`);
    },
    async waitForHealthy(timeoutMs = 20_000) {
      await waitFor(
        async () => {
          const live = await liveNodes();
          for (const node of live) {
            const info = await rawCommand(node.port, "CLUSTER INFO").catch(() => "");
            if (!info.includes("cluster_state:ok") || !info.includes("cluster_slots_ok:16384")) return false;
          }
          // Every slot must be served by a live master, as seen by every live node.
          const livePorts = new Set(live.map((n) => n.port));
          for (const node of live) {
            const ranges = await clusterSlots(node.port);
            const covered = ranges.reduce((sum, [start, end]) => sum + (end - start + 1), 0);
            if (covered !== 16384 || ranges.some(([, , port]) => !livePorts.has(port))) return false;
          }
          return true;
        },
        timeoutMs,
        "a healthy cluster",
      );
    },
    async stop() {
      await Promise.all(nodes.map((n) => n.server.stop()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await cluster.waitForHealthy();
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}

/**
 * Whether Redis tests can run here. Without redis-server they are skipped with a visible
 * notice, except under CI, where they must run (and fail loudly if they cannot).
 */
export function redisTestsAvailable(what: string): boolean {
  if (hasRedisBinaries()) return true;
  if (process.env.CI) return true;
  console.warn(`[flagon] SKIPPED ${what}: no redis-server binary on PATH (set CI=1 to make this an error).`);
  return false;
}

/**
 * A Redis for tests that only need a working server: a private redis-server when the binary
 * exists, else the one CI runs at 127.0.0.1:6379 (`REDIS_URL` overrides). `stop()` only
 * stops what this started.
 */
export async function redisForTests(): Promise<{ url: string; stop(): Promise<void> }> {
  if (process.env.REDIS_URL) return { url: process.env.REDIS_URL, stop: async () => undefined };
  if (hasRedisBinaries()) {
    const server = await startRedisServer();
    return { url: server.url, stop: () => server.stop() };
  }
  return { url: "redis://127.0.0.1:6379", stop: async () => undefined };
}

/** Like redisTestsAvailable, but a server already listening on 127.0.0.1:6379 also counts. */
export async function redisServerAvailable(what: string): Promise<boolean> {
  if (process.env.REDIS_URL || hasRedisBinaries() || process.env.CI) return true;
  if (await isRedisListening(6379)) return true;
  console.warn(
    `[flagon] SKIPPED ${what}: no redis-server binary and nothing on 127.0.0.1:6379 (set CI=1 to fail).`,
  );
  return false;
}
