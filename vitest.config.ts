import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // Each workspace keeps its tests beside the code it ships (services) or under test/ (pipelines, .dagger).
    include: ["test/**/*.test.ts", "services/*/test/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/fixtures/**"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: PostgreSQL-backed suites start their own servers, so keep parallelism modest.
    maxWorkers: 2,
  },
});
