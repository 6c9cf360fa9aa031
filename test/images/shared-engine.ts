// One Docker engine for the files of one vitest run that build our images: test/images (docker build of
// the toolkit and both services) and test/dagger/e2e (the Dagger stand-in's dockerBuild of the same
// toolkit and api). With an engine each, the two files built the same stages (npm ci, tsc) twice, at the
// same time, on two cores; BuildKit's cache is per engine. In one engine BuildKit builds each stage once:
// a build that asks for a stage already being built waits for it (measured here: a second toolkit build
// started 25 s after the first finished with it, every step CACHED), and a later one finds it cached, as
// a Dagger engine that built the toolkit for an earlier session would.
//
// The engine belongs to the run, not to a file: each file holds it (a file per pid under the state
// directory), the first one starts it (and imports the base image, once), the last one to let go stops
// it. A run is named by SLIPWAY_TEST_RUN (vitest.config.ts gives each run its own); without it, as when
// a file is run some other way, the file gets an engine of its own as before.
import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { ensureBaseImage } from "./base-image.js";
import type { BaseImageResult } from "./base-image.js";
import { attachEngine, processRuns, startEngine } from "./engine.js";
import type { DockerEngine, EngineInfo } from "./engine.js";

/**
 * The engine host's /etc/hosts additions (startEngine's `hosts`): the ACR stand-in's real-looking name,
 * which the e2e suite pushes to (test/dagger/e2e/world.ts ENGINE_HOSTS). Nothing else resolves it, so the
 * image tests are unaffected.
 */
export const SHARED_ENGINE_HOSTS: Record<string, string> = { "slipwaytest.azurecr.io": "127.0.0.1" };

export interface SharedEngine {
  engine: DockerEngine;
  /** How the base image came to be, when this file imported it; undefined when another file had. */
  base: BaseImageResult | undefined;
}

/** The run's engine with the base image in it, started by the first file that asks. */
export async function useSharedEngine(cacheDir: string): Promise<SharedEngine> {
  const run = process.env.SLIPWAY_TEST_RUN;
  if (run === undefined || !/^[\w-]+$/.test(run)) {
    const engine = await startEngine({ hosts: SHARED_ENGINE_HOSTS });
    try {
      return { engine, base: await ensureBaseImage(engine, cacheDir) };
    } catch (error) {
      await engine.stop();
      throw error;
    }
  }
  const state = join(tmpdir(), `slipway-engine-${run}`);
  const holders = join(state, "holders");
  const infoFile = join(state, "engine.json");
  return withLock(state, async () => {
    mkdirSync(holders, { recursive: true });
    let info = readInfo(infoFile);
    let base: BaseImageResult | undefined;
    if (info === undefined || !processRuns(info.pid)) {
      const started = await startEngine({ hosts: SHARED_ENGINE_HOSTS });
      try {
        base = await ensureBaseImage(started, cacheDir);
      } catch (error) {
        await started.stop();
        throw error;
      }
      info = started.info;
      writeFileSync(infoFile, JSON.stringify(info));
    }
    // pid and a random part: two files in one process (a threads pool) hold it twice.
    const holder = `${process.pid}-${randomBytes(4).toString("hex")}`;
    writeFileSync(join(holders, holder), "");
    const attached = attachEngine(info);
    const engine: DockerEngine = {
      ...attached,
      // Let go; the last holder stops the engine.
      stop: () =>
        withLock(state, async () => {
          rmSync(join(holders, holder), { force: true });
          const left = readdirSync(holders).filter((name) => processRuns(Number(name.split("-")[0])));
          if (left.length > 0) return;
          rmSync(infoFile, { force: true });
          rmSync(holders, { recursive: true, force: true });
          await attached.stop();
        }).finally(() => {
          // Gone once empty; a file that is taking the lock right now keeps it.
          try {
            rmdirSync(state);
          } catch {
            // not empty
          }
        }),
    };
    return { engine, base };
  });
}

function readInfo(file: string): EngineInfo | undefined {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as EngineInfo;
  } catch {
    return undefined;
  }
}

/**
 * Runs `fn` holding the state directory's lock: a directory made atomically, holding its owner's pid. A
 * lock whose owner has died (a killed test process) is taken over. Starting the engine happens under the
 * lock, so a waiter may wait for a debootstrap (minutes, on a machine without the cached base image).
 */
async function withLock<T>(state: string, fn: () => Promise<T>): Promise<T> {
  const lock = join(state, "lock");
  for (;;) {
    try {
      mkdirSync(state, { recursive: true });
      mkdirSync(lock);
      writeFileSync(join(lock, "pid"), String(process.pid));
      break;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // ENOENT: the last holder removed the state directory just now; make it again.
      if (code === "ENOENT") continue;
      if (code !== "EEXIST") throw error;
      const owner = Number(readFileOr(join(lock, "pid"), "0"));
      // No pid yet: its owner is between mkdir and write. Otherwise a dead owner's lock is stale.
      if (owner !== 0 && !processRuns(owner)) rmSync(lock, { recursive: true, force: true });
      else await sleep(100);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function readFileOr(file: string, fallback: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return fallback;
  }
}
