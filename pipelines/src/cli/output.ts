import { resolve } from "node:path";
import type { LoadedConfig } from "../config/load.js";
import type * as ConfigLoad from "../config/load.js";
import { findConfigFile } from "../config/find.js";
import type { Io } from "./command.js";

// The printers live in ./print.ts, which loads no config (the dispatcher uses them for errors and help).
export { printError, printJson, printResult } from "./print.js";

/**
 * slipway.yaml's loader, loaded by `loadConfigModule` before a command runs rather than when a command's
 * module is imported: it brings zod and every area's schema, which `--help` has no use for (issue 16).
 * It is not loaded at all when no slipway.yaml can be read (no --config or SLIPWAY_CONFIG, none in the
 * working directory or --source): defaults apply then, and zod plus the schemas cost `plan` on such a
 * repository about 165 ms of its start-up. `commandConfig` stays synchronous for the commands that call it.
 */
let configModule: typeof ConfigLoad | undefined;

export async function loadConfigModule(io?: Pick<Io, "cwd">, values: Record<string, unknown> = {}): Promise<void> {
  if (io !== undefined && values.config === undefined) {
    // Every command reads slipway.yaml from the working directory or --source (see commandConfig's callers).
    const dirs = [io.cwd, ...(typeof values.source === "string" ? [resolve(io.cwd, values.source)] : [])];
    if (dirs.every((dir) => findConfigFile(dir) === null)) return;
  }
  configModule ??= await import("../config/load.js");
}

/**
 * slipway.yaml for a command: `--config FILE` (relative to the working directory; SLIPWAY_CONFIG when the
 * flag is not given) when given, else the one at the root of `dir` if there is one, else defaults.
 */
export function commandConfig(io: Io, configFlag: string | undefined, dir: string = io.cwd): LoadedConfig {
  if (configModule === undefined) {
    if (configFlag === undefined && findConfigFile(dir) === null) return { file: null, config: {} };
    throw new Error("commandConfig before loadConfigModule: the dispatcher loads it before every command that can read slipway.yaml runs");
  }
  return configModule.loadConfig(dir, configFlag === undefined ? undefined : resolve(io.cwd, configFlag));
}
