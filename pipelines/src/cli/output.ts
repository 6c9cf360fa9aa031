import { resolve } from "node:path";
import type { LoadedConfig } from "../config/load.js";
import { loadConfig } from "../config/load.js";
import type { Io } from "./command.js";

/** Prints a command's result as one indented JSON document on stdout (what the Dagger module parses). */
export function printJson(io: Io, value: unknown): void {
  io.stdout(`${JSON.stringify(value, null, 2)}\n`);
}

/** Prints a command's result: `value` as JSON with --json, else the text a person reads. */
export function printResult(io: Io, json: boolean | undefined, value: unknown, text: () => string): void {
  if (json) printJson(io, value);
  else io.stdout(text());
}

/**
 * slipway.yaml for a command: `--config FILE` (relative to the working directory) when given, else the
 * one at the root of `dir` if there is one, else defaults.
 */
export function commandConfig(io: Io, configFlag: string | undefined, dir: string = io.cwd): LoadedConfig {
  return loadConfig(dir, configFlag === undefined ? undefined : resolve(io.cwd, configFlag));
}
