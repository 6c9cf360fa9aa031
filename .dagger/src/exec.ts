// Running commands in containers and reading how they ended. Dagger API only; the decisions about what
// an outcome means stay in the CLI (exit codes, JSON) and in the pure files (cli.ts and friends).
import { ReturnType } from "@dagger.io/dagger";
import type { Container } from "@dagger.io/dagger";

import { cliFailure, runId } from "./cli.js";
import { isExecError } from "./errors.js";
import type { CliRun } from "./cli.js";

/** Where a source directory is mounted in every container. */
export const SRC = "/src";

/** The toolkit image's unprivileged user (pipelines/Dockerfile `USER 10001:10001`). */
export const TOOLKIT_USER = "10001:10001";

/** Env variable that carries a run id (cli.ts runId) into steps that must never be replayed from cache. */
export const RUN_ENV = "SLIPWAY_RUN";

/** The container with a fresh run id, so the engine executes what follows again. */
export function fresh(ctr: Container): Container {
  return ctr.withEnvVariable(RUN_ENV, runId());
}

/**
 * Run a command whose exit code is part of its answer (the CLI: 0 ok, 1 "no", 2 bad input, 3 timed
 * out) and return exit code, stdout and stderr. Exit codes 128-191 (killed, e.g. 137 OOM) are not
 * covered by `ReturnType.Any` and come back as an ExecError; they are returned the same way. An
 * ExecError of an *earlier* command in the container (not this one) is not this command's answer and
 * propagates.
 *
 * Note: an exec run with `expect: ReturnType.Any` is cached like a success, so every caller whose
 * answer depends on the outside world passes a container made with `fresh()`.
 */
export async function runCommand(ctr: Container, command: string[]): Promise<{ run: CliRun; container: Container }> {
  try {
    const container = await ctr.withExec(command, { expect: ReturnType.Any }).sync();
    const [exitCode, stdout, stderr] = await Promise.all([container.exitCode(), container.stdout(), container.stderr()]);
    return { run: { exitCode, stdout, stderr }, container };
  } catch (error) {
    if (isExecError(error) && sameCommand(error.cmd, command)) {
      return { run: { exitCode: error.exitCode, stdout: error.stdout, stderr: error.stderr }, container: ctr };
    }
    throw error;
  }
}

/** Run a CLI command that must succeed and return its stdout; otherwise throw the CLI's own error. */
export async function cliStdout(ctr: Container, command: string[]): Promise<string> {
  const { run } = await runCommand(ctr, command);
  if (run.exitCode !== 0) throw cliFailure(command, run);
  return run.stdout;
}

function sameCommand(a: string[] | undefined, b: string[]): boolean {
  return Array.isArray(a) && a.length === b.length && a.every((v, i) => v === b[i]);
}
