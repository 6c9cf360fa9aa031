// What every e2e suite module (test/dagger/e2e/*.e2e.ts) gets from the test file that runs it: one Docker
// engine (the run's), one base image and one Dagger API stand-in per file (started in `e2eFile`'s
// beforeAll), the module as the runtime would construct it, and `look()`, which records every text a test
// read so that the file's final canary check can prove no Secret value reached any output.
//
// Suite modules export `function xxxSuite(e2e: E2E): void` that declares `describe`/`it` blocks; they are
// not test files themselves. Two test files run them (module.test.ts: the engine semantics, build, scan,
// publish and GitOps; release.test.ts: the release steps and the release flow), so that vitest's two
// workers share the e2e work. Both use the run's one Docker engine (test/images/shared-engine.ts), whose
// BuildKit builds the toolkit once for both; each has its own stand-in session.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Directory, File } from "@dagger.io/dagger";
import { dag } from "@dagger.io/dagger";
import { Slipway } from "../../../.dagger/src/index.js";
import { e2eMissing, REPO_ROOT, startWorld } from "./world.js";
import type { World } from "./world.js";

/**
 * What the runtime would pass: `@argument({ ignore })` of the constructor's toolkitSource and of the
 * functions' `source` (.dagger/src/index.ts); a test calling the class directly applies them itself.
 */
export const TOOLKIT_IGNORE = ["**/node_modules", "**/.git", "**/dist", "**/coverage", "**/*.log", ".tmp", ".dagger", "test", "services", "ci"];
export const SOURCE_IGNORE = ["**/node_modules", "**/dist", "**/coverage", ".dagger/sdk"];

export interface E2E {
  /** The running world (engine, stand-in); only valid inside tests and hooks. */
  world(): World;
  /** Records a text (or error, or value) a test read; returns it unchanged. */
  look<T>(value: T): T;
  /** The module object, as `dagger call` constructs it (toolkit source = this repository). */
  slipway(options?: { caCertificates?: File }): Slipway;
  /** A host directory as a function's `source` argument (the runtime's ignore list applied). */
  source(dir?: string): Directory;
}

export function moduleFactory(): Pick<E2E, "slipway" | "source"> {
  return {
    slipway: (options = {}) => new Slipway(dag.host().directory(REPO_ROOT, { exclude: TOOLKIT_IGNORE }), options.caCertificates),
    source: (dir = REPO_ROOT) => dag.host().directory(dir, { exclude: SOURCE_IGNORE }),
  };
}

/**
 * One e2e test file: with CI=true a missing requirement (root, dockerd, debootstrap; test/images) is a
 * failing test, otherwise the file is skipped with the reason. `suites` declares the file's tests with the
 * E2E handle; after them, no secret the session was given may appear in anything a test read.
 */
export function e2eFile(title: string, label: string, suites: (e2e: E2E) => void): void {
  const missing = e2eMissing();
  if (missing !== undefined && process.env.CI === "true") {
    describe(`${label} requirements`, () => {
      it("has root, dockerd, docker and debootstrap (CI=true never skips)", () => {
        expect.fail(`the Dagger e2e tests cannot run: ${missing}`);
      });
    });
  } else if (missing !== undefined) {
    console.warn(`SKIPPED ${label} (${title}): ${missing}`);
  }

  describe.skipIf(missing !== undefined)(title, () => {
    let world: World | undefined;
    const started = performance.now();
    /** Every text the tests saw (outputs, errors, files): no canary may appear in any. */
    const seen: string[] = [];
    const look = <T>(value: T): T => {
      seen.push(typeof value === "string" ? value : value instanceof Error ? `${value.message}\n${JSON.stringify(value)}` : JSON.stringify(value));
      return value;
    };

    beforeAll(async () => {
      world = await startWorld();
    }, 10 * 60_000);

    afterAll(async () => {
      if (world) {
        // No secret given to the session shows in anything a test read.
        for (const secret of world.dagger.secrets()) for (const text of seen) expect(text.includes(secret), "a secret value leaked into an output").toBe(false);
        await world.stop();
      }
      console.log(`${label}: ${((performance.now() - started) / 1000).toFixed(1)} s in all`);
    }, 120_000);

    suites({
      world: () => {
        if (!world) throw new Error("the e2e world is not started");
        return world;
      },
      look,
      ...moduleFactory(),
    });
  });
}
