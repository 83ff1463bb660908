import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { conditions: ["flagon-source"] },
  ssr: { resolve: { conditions: ["flagon-source"] } },
  test: {
    include: ["test/**/*.test.ts"],
    setupFiles: ["test/helpers/fast-check-seed.ts"],
    exclude: ["test/e2e/**", "node_modules/**"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
