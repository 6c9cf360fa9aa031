import { execFile } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { run } from "../../pipelines/src/cli/main.js";
import { checkJsonOutput } from "./output-schema.js";

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const CLI = join(REPO_ROOT, "pipelines", "src", "cli", "main.ts");
const BIN = join(REPO_ROOT, "pipelines", "bin", "slipway.js");

/** Modification times (ms) of the files under `dir` whose names end with `suffix`. */
function mtimes(dir: string, suffix: string): number[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(suffix) && !entry.name.endsWith(".d.ts"))
    .map((entry) => statSync(join(entry.parentPath, entry.name)).mtimeMs);
}

let built: boolean | undefined;
/**
 * How a real process runs the CLI: the installed bin (pipelines/bin/slipway.js over the esbuild bundle
 * in dist/) when the bundle was built from the sources as they are now (dist/slipway.js newer than every
 * source file), which is what `npm run verify` tests after its build step; otherwise, sources edited since
 * the last build, tsx runs the sources themselves. The bin takes about half the CPU of tsx per run (0.45 s
 * vs 1 s measured for `env list`), and the suites start a few hundred CLI processes.
 */
export function cliEntry(): string[] {
  built ??= (() => {
    const sources = mtimes(join(REPO_ROOT, "pipelines", "src"), ".ts");
    const bundle = join(REPO_ROOT, "pipelines", "dist", "slipway.js");
    return sources.length > 0 && existsSync(bundle) && statSync(bundle).mtimeMs > Math.max(...sources);
  })();
  return built ? [BIN] : ["--import", import.meta.resolve("tsx"), CLI];
}

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

/** Runs the CLI as a real process (cliEntry): exit codes and streams exactly as a user sees them (JSON checked as in `cli`). */
export function cliProcess(argv: string[], cwd = REPO_ROOT, env: NodeJS.ProcessEnv = process.env): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      // tsx resolved from here, not from `cwd` (a temporary folder has no node_modules).
      [...cliEntry(), ...argv],
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
