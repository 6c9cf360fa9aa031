import { defineConfig } from "vitest/config";

// Used when the tests run from this folder (`npm test`, or in the service's build
// container). From the repo root, the root vitest.config.ts picks these files up instead.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    maxWorkers: 2,
  },
});
