import { execFile } from "node:child_process";
import { cli, cliEntry, REPO_ROOT, type CliResult } from "../../helpers/cli.js";

export const REPO = REPO_ROOT;
export type Result = CliResult;

/** `slipway migrate ...` in-process, through the CLI's own `run` (flag parsing, error rendering, exit codes). */
export function migrate(argv: string[], env: NodeJS.ProcessEnv, cwd = REPO): Promise<Result> {
  return cli(argv, cwd, env);
}

/**
 * The CLI as a real process (cliEntry: the built bin or tsx), like test/helpers/cli.ts `cliProcess`, but keeping hold of the child
 * so a test can kill it mid-run.
 */
export function migrateProcess(argv: string[], env: NodeJS.ProcessEnv): { done: Promise<Result>; kill: (signal: NodeJS.Signals) => void } {
  let kill: (signal: NodeJS.Signals) => void = () => undefined;
  const done = new Promise<Result>((resolve) => {
    const child = execFile(process.execPath, [...cliEntry(), ...argv], { cwd: REPO, env: { ...env, NODE_NO_WARNINGS: "1" } }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : 128) : 0;
      resolve({ code, stdout, stderr });
    });
    kill = (signal) => child.kill(signal);
  });
  return { done, kill };
}
