import { execFile } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseFlags } from "../../../pipelines/src/cli/command.js";
import { isSlipwayError } from "../../../pipelines/src/errors.js";
import { MIGRATE_COMMANDS } from "../../../pipelines/src/migrate/commands.js";

/**
 * Runs a `slipway migrate ...` command the way pipelines/src/cli/main.ts does (same flag parser, same
 * error rendering and exit codes), but loading only the migrate commands.
 *
 * Why not test/helpers/cli.ts: main.ts imports every area's commands, and at the time of writing the
 * rollout area's @kubernetes/client-node 2 pulls in undici 8, which throws on load under Node 20
 * (zlib has no zstd there). Switch back to `cli()` / `cliProcess()` once that loads.
 */
export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

export const REPO = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

export async function migrate(argv: string[], env: NodeJS.ProcessEnv, cwd = REPO): Promise<Result> {
  let stdout = "";
  let stderr = "";
  const io = { stdout: (t: string) => (stdout += t), stderr: (t: string) => (stderr += t), cwd, env };
  const command = MIGRATE_COMMANDS.find((c) => c.path.every((w, i) => argv[i] === w));
  if (!command) throw new Error(`not a migrate command: ${argv.join(" ")}`);
  let code: number;
  try {
    const { values, positionals } = parseFlags(command, argv.slice(command.path.length));
    code = await command.run({ values: values as never, positionals, io });
  } catch (error) {
    if (!isSlipwayError(error)) throw error;
    io.stderr(`${error.render()}\n`);
    code = error.exitCode;
  }
  return { code, stdout, stderr };
}

const ENTRY = join(REPO, "test", "pipelines", "migrate", "harness-main.ts");

/** The same, as a real process (tsx), for concurrency and kill tests. */
export function migrateProcess(argv: string[], env: NodeJS.ProcessEnv): { done: Promise<Result>; pid: number | undefined; kill: (signal: NodeJS.Signals) => void } {
  let child: ReturnType<typeof execFile> | undefined;
  const done = new Promise<Result>((resolve) => {
    child = execFile(process.execPath, ["--import", "tsx", ENTRY, ...argv], { cwd: REPO, env: { ...env, NODE_NO_WARNINGS: "1" } }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : error.signal ? 128 : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
  return { done, pid: child?.pid, kill: (signal) => child?.kill(signal) };
}
