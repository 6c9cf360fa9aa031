import { randomBytes } from "node:crypto";
import { BaseSequencer } from "vitest/node";
import type { TestSpecification } from "vitest/node";
import { defineConfig } from "vitest/config";

/**
 * Files that run for minutes, longest first. They start before everything else, so the other worker
 * absorbs the many short files meanwhile. Without this, a clean clone (CI: no results cache in
 * node_modules/.vite) orders files by size, and the e2e file, the longest by far, started only after
 * eleven larger files: the run then ended with it, on one worker, minutes after the other went idle.
 */
const LONG_FILES = ["test/dagger/e2e/module.test.ts", "test/dagger/e2e/release.test.ts", "test/images/images.test.ts"];

class LongFilesFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (spec: TestSpecification) => {
      const at = LONG_FILES.findIndex((file) => spec.moduleId.endsWith(`/${file}`));
      return at === -1 ? LONG_FILES.length : at;
    };
    // Array.prototype.sort is stable: the rest keep the order vitest chose.
    return sorted.sort((a, b) => rank(a) - rank(b));
  }
}

export default defineConfig({
  test: {
    // Each workspace keeps its tests beside the code it ships (services) or under test/ (pipelines, .dagger).
    include: ["test/**/*.test.ts", "services/*/test/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/fixtures/**"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two workers on two cores. Three were tried (the two e2e files holding both workers looked like idle
    // time): the run was no shorter, the work is CPU-bound, and every file slowed (tests 3030 s vs 1878 s).
    maxWorkers: 2,
    sequence: { sequencer: LongFilesFirst },
    // Names this run: its files that build images share one Docker engine (test/images/shared-engine.ts).
    env: { SLIPWAY_TEST_RUN: randomBytes(6).toString("hex") },
  },
});
