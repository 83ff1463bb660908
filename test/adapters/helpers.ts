/** Stores and a browser-like client shared by the Fastify, Koa and node:http adapter tests. */
import { memoryStore, type ServerStore, SessionStoreError } from "../../src/index.js";

export const SECRET = "adapter-test-secret-0123456789abcdefghijkl";

/** A memory store whose writes take a few milliseconds, like a store over the network. */
export function slowStore(): ServerStore & { writes: number } {
  const inner = memoryStore();
  const store = {
    kind: "server" as const,
    writes: 0,
    get: (key: string) => inner.get(key),
    async apply(key: string, changes: Parameters<ServerStore["apply"]>[1]) {
      await new Promise((resolve) => setTimeout(resolve, 1 + Math.random() * 3));
      await inner.apply(key, changes);
      store.writes += 1;
    },
    destroy: (key: string) => inner.destroy(key),
  };
  return store;
}

/** A store that rejects on demand (reads, writes or both), like Redis going down. */
export function flakyStore() {
  const inner = memoryStore();
  const fail = { get: false, apply: false };
  const store: ServerStore = {
    kind: "server",
    async get(key) {
      if (fail.get) throw new SessionStoreError("session store read failed");
      return inner.get(key);
    },
    async apply(key, changes) {
      if (fail.apply) throw new Error("ECONNRESET");
      return inner.apply(key, changes);
    },
    destroy: (key) => inner.destroy(key),
  };
  return { store, fail };
}

export interface BrowserResponse {
  status: number;
  headers: Headers;
  text: string;
}

/** Keeps the cookies it is given (name → value) and never follows redirects. */
export function browser(
  send: (path: string, init: { headers: Headers; method: string; body?: string }) => Promise<BrowserResponse>,
) {
  const jar = new Map<string, string>();
  return {
    jar,
    async request(
      path: string,
      init: { method?: string; headers?: Record<string, string>; body?: string } = {},
    ) {
      const headers = new Headers(init.headers);
      if (jar.size > 0) headers.set("cookie", [...jar].map(([name, value]) => `${name}=${value}`).join("; "));
      const response = await send(path, { headers, method: init.method ?? "GET", body: init.body });
      for (const line of response.headers.getSetCookie()) {
        const [pair = ""] = line.split(";");
        const eq = pair.indexOf("=");
        const name = pair.slice(0, eq);
        const value = pair.slice(eq + 1);
        if (value === "" || /max-age=0/i.test(line)) jar.delete(name);
        else jar.set(name, value);
      }
      return response;
    },
  };
}

/** A browser over fetch to a listening server. */
export function fetchBrowser(origin: string) {
  return browser(async (path, init) => {
    const response = await fetch(origin + path, { ...init, redirect: "manual" });
    return { status: response.status, headers: response.headers, text: await response.text() };
  });
}

/** Unhandled rejections seen while `run` runs (there must be none). */
export async function unhandledRejectionsDuring(run: () => Promise<void>): Promise<unknown[]> {
  const seen: unknown[] = [];
  const listener = (reason: unknown) => seen.push(reason);
  process.on("unhandledRejection", listener);
  try {
    await run();
    // Rejections are reported after the microtask queue drains.
    await new Promise((resolve) => setTimeout(resolve, 20));
  } finally {
    process.off("unhandledRejection", listener);
  }
  return seen;
}
