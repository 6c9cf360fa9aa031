// One Docker engine (the run's, shared with test/images), the local base image and one Dagger API
// stand-in for the e2e suite, and the SDK's global client (`dag`) connected to it the way module code is
// connected to a real session: through DAGGER_SESSION_PORT / DAGGER_SESSION_TOKEN (SDK
// common/graphql/connect.js) and `connection()`.
import { randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { connection } from "@dagger.io/dagger";
import { BASE_IMAGE } from "../../images/base-image.js";
import { missingRequirements } from "../../images/engine.js";
import type { DockerEngine } from "../../images/engine.js";
import { SHARED_ENGINE_HOSTS, useSharedEngine } from "../../images/shared-engine.js";
import { startDaggerStandin } from "../../standins/dagger/server.js";
import type { DaggerStandin } from "../../standins/dagger/server.js";

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
/** The base image cache shared with test/images (debootstrap runs once per machine). */
const CACHE_DIR = join(REPO_ROOT, "node_modules", ".cache", "slipway-images");
export { BASE_IMAGE };

/** Why the e2e suite cannot run here (same needs as test/images), or undefined. */
export function e2eMissing(): string | undefined {
  return missingRequirements();
}

export interface World {
  engine: DockerEngine;
  dagger: DaggerStandin;
  stop(): Promise<void>;
}

/**
 * The engine host's name for the ACR stand-in (test/standins/azure, `slipwaytest.azurecr.io:PORT`): the
 * engine pushes to it and the toolkit's execs reach it under its real-looking name, as a Dagger engine
 * container started with `--add-host` would (see EngineOptions.hosts in test/images/engine.ts).
 */
export const ENGINE_HOSTS = SHARED_ENGINE_HOSTS;

export async function startWorld(): Promise<World> {
  // The run's engine, shared with test/images (test/images/shared-engine.ts): the toolkit and api images
  // that the module builds are the ones test/images builds, so BuildKit builds them once for both.
  const { engine } = await useSharedEngine(CACHE_DIR);
  try {
    const dagger = await startDaggerStandin({ engine });
    Object.assign(process.env, dagger.env);
    return {
      engine,
      dagger,
      async stop() {
        await dagger.stop();
        await engine.stop();
      },
    };
  } catch (error) {
    await engine.stop();
    throw error;
  }
}

/** Runs `fn` with `dag` connected to the stand-in, returning its result. */
export async function inSession<T>(fn: () => Promise<T>): Promise<T> {
  let out: { value: T } | undefined;
  await connection(async () => {
    out = { value: await fn() };
  });
  if (!out) throw new Error("the session ended without a result");
  return out.value;
}

/** A unique secret value, to be looked for in every output afterwards. */
export function canary(label: string): string {
  return `canary-${label}-${randomBytes(12).toString("hex")}`;
}

/** The error `promise` rejects with; a promise that resolves fails the test. */
export async function rejection(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error("expected the call to fail, and it succeeded");
}
