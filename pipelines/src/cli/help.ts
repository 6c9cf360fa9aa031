import { readFileSync } from "node:fs";
import type { Command, OptionSpec } from "./command.js";
import { flagSpecs } from "./command.js";
import { commandIndex } from "./commands.js";

/**
 * The help text, shaped like kubectl's and flux's: a summary, usage, one line per flag with its value,
 * environment variable and default, examples, and the exit codes every command shares.
 */

export const EXIT_CODES = "Exit codes: 0 ok, 1 failed (a gate, a rollout), 2 bad input (nothing changed), 3 timed out, 4 could not check.";

/** Set by the bundler (pipelines/scripts/build.mjs) to package.json's version; undefined when tsx runs the sources. */
declare const SLIPWAY_BUILD_VERSION: string | undefined;

/** The version of the `slipway` CLI: pipelines/package.json's, fixed in the bundle, read from the file two folders up from src/cli otherwise. */
export function cliVersion(): string {
  if (typeof SLIPWAY_BUILD_VERSION === "string") return SLIPWAY_BUILD_VERSION;
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version?: string };
  return pkg.version ?? "0.0.0";
}

/** Two aligned columns; a left cell wider than MAX_LEFT puts its text on the next line, so one long flag does not push every description right. */
const MAX_LEFT = 32;

function table(rows: [string, string][], indent = "  "): string[] {
  const width = Math.min(MAX_LEFT, Math.max(...rows.map(([left]) => left.length)));
  return rows.flatMap(([left, right]) =>
    left.length > width ? [`${indent}${left}`, `${indent}${" ".repeat(width)}  ${right}`.trimEnd()] : [`${indent}${left.padEnd(width)}  ${right}`.trimEnd()],
  );
}

/** `slipway --help`: every command, one line each. */
export function globalHelp(): string {
  return [
    "slipway: from git push to a verified rollout on AKS (the functional core of the Slipway pipeline)",
    "",
    "Usage:",
    "  slipway <command> [flags]",
    "",
    "Commands:",
    ...table(commandIndex().map((c) => [c.words, c.summary])),
    "",
    "Flags:",
    ...table([
      ["-h, --help", "print this help"],
      ["    --version", "print the version (`slipway version --json` for more)"],
    ]),
    "",
    EXIT_CODES,
    "Run `slipway help <command>` or `slipway <command> --help` for a command's flags and examples.",
    "",
  ].join("\n");
}

/** The commands under a group word (`slipway scan --help`), or null when `group` is no group. */
export function groupHelp(group: string): string | null {
  const commands = commandIndex().filter((c) => c.words.startsWith(`${group} `));
  if (commands.length === 0) return null;
  return [
    `slipway ${group}: ${commands.length} command${commands.length === 1 ? "" : "s"}`,
    "",
    "Usage:",
    `  slipway ${group} <command> [flags]`,
    "",
    "Commands:",
    ...table(commands.map((c) => [c.words, c.summary])),
    "",
    `Run \`slipway ${group} <command> --help\` for a command's flags and examples.`,
    "",
  ].join("\n");
}

function flagLeft(name: string, spec: OptionSpec): string {
  const short = spec.short ? `-${spec.short}, ` : "    ";
  const value = spec.type === "string" ? ` ${spec.value ?? "VALUE"}` : "";
  return `${short}--${name}${value}`;
}

function flagRight(spec: OptionSpec): string {
  const extras = [spec.multiple ? "repeatable" : "", spec.env ? `env ${spec.env}` : "", spec.defaultText ? `default: ${spec.defaultText}` : ""].filter(Boolean);
  return `${spec.describe ?? ""}${extras.length > 0 ? ` (${extras.join("; ")})` : ""}`;
}

/** `slipway <command> --help`. */
export function commandHelp(command: Command): string {
  const specs = flagSpecs(command);
  const current = specs.filter(([, s]) => s.deprecatedFor === undefined);
  const deprecated = specs.filter(([, s]) => s.deprecatedFor !== undefined);
  return [
    command.summary,
    "",
    "Usage:",
    ...command.usage.split("\n").map((l) => `  ${l}`),
    "",
    "Flags:",
    ...table(current.map(([name, spec]) => [flagLeft(name, spec), flagRight(spec)])),
    ...(deprecated.length === 0 ? [] : ["", "Deprecated (still accepted, with a warning):", ...table(deprecated.map(([name, spec]) => [flagLeft(name, spec), `use --${spec.deprecatedFor}`]))]),
    ...(command.examples?.length ? ["", "Examples:", ...command.examples.map((e) => `  ${e}`)] : []),
    "",
    EXIT_CODES,
    "",
  ].join("\n");
}
