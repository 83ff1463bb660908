/**
 * A Redis URL with nothing listening fails fast and says why: well before the command deadline,
 * with host:port and the system error in the message and the error itself as `cause`, on the
 * first request (first connect) and on later ones (reconnecting).
 */
import { afterEach, describe, expect, it } from "vitest";
import { SessionStoreError } from "../../src/errors.js";
import { type RedisStore, redisStore } from "../../src/stores/redis.js";

const KEY = "0".repeat(64);
let store: RedisStore | undefined;

afterEach(async () => {
  await store?.close();
  store = undefined;
});

async function failure(promise: Promise<unknown>): Promise<{ error: SessionStoreError; ms: number }> {
  const started = performance.now();
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SessionStoreError);
  return { error: error as SessionStoreError, ms: performance.now() - started };
}

describe("redisStore with nothing listening", () => {
  it("the first and later requests reject before the deadline, naming host:port and ECONNREFUSED", async () => {
    // A long deadline makes "fast" unambiguous on a loaded machine: a refusal takes milliseconds.
    store = redisStore({ url: "redis://127.0.0.1:1", commandTimeout: 10_000 });
    for (let attempt = 0; attempt < 3; attempt++) {
      const { error, ms } = await failure(store.get(KEY));
      expect(ms).toBeLessThan(5_000);
      expect(error.code).toBe("ERR_STORE_UNAVAILABLE");
      expect(error.message).toBe("Redis 127.0.0.1:1 refused the connection (ECONNREFUSED)");
      expect((error.cause as { code?: string }).code).toBe("ECONNREFUSED");
      expect(error.message).not.toContain(KEY);
    }
  });
});
