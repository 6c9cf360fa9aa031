import { execFile } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { run } from "../../pipelines/src/cli/main.js";
import { checkJsonOutput } from "./output-schema.js";

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const CLI = join(REPO_ROOT, "pipelines", "src", "cli", "main.ts");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI in-process (fast); the same `run` the bin calls. Every JSON document it prints is checked
 * against its committed schema (./output-schema.ts): a mismatch fails the test that ran the command.
 */
export async function cli(argv: string[], cwd = REPO_ROOT, env: NodeJS.ProcessEnv = process.env): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const code = await run(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), cwd, env });
  checkJsonOutput(argv, { code, stdout, stderr });
  return { code, stdout, stderr };
}

/** Runs the CLI as a real process through tsx: exit codes and streams exactly as a user sees them (JSON checked as in `cli`). */
export function cliProcess(argv: string[], cwd = REPO_ROOT, env: NodeJS.ProcessEnv = process.env): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      // tsx resolved from here, not from `cwd` (a temporary folder has no node_modules).
      ["--import", import.meta.resolve("tsx"), CLI, ...argv],
      { cwd, env: { ...env, NODE_NO_WARNINGS: "1" }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        try {
          checkJsonOutput(argv, { code, stdout, stderr });
        } catch (mismatch) {
          reject(mismatch as Error);
          return;
        }
        resolve({ code, stdout, stderr });
      },
    );
  });
}
