// Pure helpers shared by every area of the Dagger shell: read the JSON the `slipway` CLI prints, and
// explain a CLI run that did not give an answer. No Dagger API here (see plan.ts for why); tested in
// test/dagger/cli.test.ts.
import { describeFailure } from "./report.js";

/** How one CLI command ended: exit code and both outputs. */
export type CliRun = { exitCode: number; stdout: string; stderr: string };

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === "string");
}

/**
 * Parse the JSON a CLI command printed and check it with `check`, which returns the problems it finds.
 * A document we cannot read is a terminal error naming the command, never a guess.
 */
export function parseCliJson<T>(command: string[], text: string, check: (raw: Record<string, unknown>) => string[]): T {
  const name = command.slice(0, 3).join(" ");
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new Error(
      `SLIPWAY_CLI_OUTPUT: \`${name}\` did not print JSON (${(error as Error).message}); output starts with: ${JSON.stringify(text.trim().slice(0, 200))}`,
    );
  }
  if (!isRecord(raw)) throw new Error(`SLIPWAY_CLI_OUTPUT: \`${name}\` printed JSON that is not an object`);
  const problems = check(raw);
  if (problems.length > 0) {
    throw new Error(`SLIPWAY_CLI_OUTPUT: the JSON printed by \`${name}\` is not usable:\n  - ${problems.join("\n  - ")}`);
  }
  return raw as T;
}

/**
 * The error for a CLI run that did not give an answer: the CLI's own SLIPWAY_* error from stderr, the
 * command and what its exit code means. Only the CLI's output goes in: it masks secrets, and secrets
 * never reach argv (they come in as Dagger secrets through env or files).
 */
export function cliFailure(command: string[], run: CliRun, keepStdout = false): Error {
  return new Error(describeFailure(command.slice(0, 3).join(" "), command, run.exitCode, keepStdout ? run.stdout : "", run.stderr));
}

/** Repeat a flag for every value: `repeat("--tag", ["a", "b"])` is `--tag a --tag b`. */
export function repeat(flag: string, values: readonly string[] | undefined): string[] {
  return (values ?? []).flatMap((value) => [flag, value]);
}

/** `[flag, value]` when the value is a non-empty string, else nothing. */
export function optional(flag: string, value: string | undefined): string[] {
  return value ? [flag, value] : [];
}

/**
 * A value that differs on every call. Steps whose answer depends on the outside world (scanner
 * databases, a registry, a database, a cluster, the date an exception expires) carry it as an env
 * variable, so the engine runs them again instead of replaying a cached result.
 */
export function runId(now: Date = new Date(), random: () => number = Math.random): string {
  return `${now.toISOString()}-${random().toString(16).slice(2, 10)}`;
}

/**
 * A list of names in a CLI's JSON report (`migrate run --json` applied, `migrate revert --json` reverted);
 * [] when the report cannot be read: the caller says what it did from its own side.
 */
export function namesIn(report: string, key: string): string[] {
  try {
    const value = (JSON.parse(report) as Record<string, unknown>)[key];
    return Array.isArray(value) ? value.filter((a): a is string => typeof a === "string") : [];
  } catch {
    return [];
  }
}
