import { parseFlags } from "../../../pipelines/src/cli/command.js";
import { isSlipwayError } from "../../../pipelines/src/errors.js";
import { GITOPS_COMMANDS } from "../../../pipelines/src/gitops/commands.js";
import type { CliResult } from "../../helpers/cli.js";

/**
 * Runs a `slipway gitops ...` command in-process the way cli/main.ts `run` does (flags, errors,
 * exit codes), without importing every area's commands: at the time of writing another area's
 * import chain (@kubernetes/client-node 2 -> undici 8) needs Node 22 and fails to load on Node 20.
 */
export async function gitopsCli(argv: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const io = { stdout: (t: string) => (stdout += t), stderr: (t: string) => (stderr += t), cwd, env };
  const command = GITOPS_COMMANDS.find((c) => c.path.every((w, i) => argv[i] === w));
  if (!command) throw new Error(`no gitops command in ${argv.join(" ")}`);
  try {
    const { values, positionals } = parseFlags(command, argv.slice(command.path.length));
    const code = await command.run({ values: values as never, positionals, io });
    return { code, stdout, stderr };
  } catch (error) {
    if (isSlipwayError(error)) return { code: error.exitCode, stdout, stderr: stderr + `${error.render()}\n` };
    throw error;
  }
}
