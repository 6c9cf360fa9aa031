// What every e2e suite module (test/dagger/e2e/*.e2e.ts) gets from module.test.ts: one Docker engine, one
// base image and one Dagger API stand-in per run (started in module.test.ts's beforeAll), the module as
// the runtime would construct it, and `look()`, which records every text a test read so that the final
// canary check can prove no Secret value reached any output.
//
// Suite modules export `function xxxSuite(e2e: E2E): void` that declares `describe`/`it` blocks; they are
// not test files themselves, so vitest runs them all in module.test.ts's one worker and engine.
import type { Directory, File } from "@dagger.io/dagger";
import { dag } from "@dagger.io/dagger";
import { Slipway } from "../../../.dagger/src/index.js";
import { REPO_ROOT } from "./world.js";
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
