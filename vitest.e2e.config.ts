import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { conditions: ["flagon-source"] },
  ssr: { resolve: { conditions: ["flagon-source"] } },
  test: {
    include: ["test/e2e/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
