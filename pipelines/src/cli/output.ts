import { resolve } from "node:path";
import type { LoadedConfig } from "../config/load.js";
import { loadConfig } from "../config/load.js";
import type { Io } from "./command.js";

// The printers live in ./print.ts, which loads no config (the dispatcher uses them for errors and help).
export { printError, printJson, printResult } from "./print.js";

/**
 * slipway.yaml for a command: `--config FILE` (relative to the working directory; SLIPWAY_CONFIG when the
 * flag is not given) when given, else the one at the root of `dir` if there is one, else defaults.
 */
export function commandConfig(io: Io, configFlag: string | undefined, dir: string = io.cwd): LoadedConfig {
  return loadConfig(dir, configFlag === undefined ? undefined : resolve(io.cwd, configFlag));
}
