// Running the system tools the image tests drive (dockerd, docker, debootstrap, tar) as real processes.
// A failure explains itself: the command, the exit code and what it means, and the end of its output.
import { spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

export interface ExecResult {
  /** Exit code; null when the process was ended by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

export interface ExecOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs?: number;
  /** Called with each chunk of output, e.g. to keep a build log. */
  onOutput?: (chunk: string) => void;
}

/** Runs a command to completion; never rejects for a non-zero exit (the caller asserts on the result). */
export function exec(command: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(command, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      options.onOutput?.(chunk);
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
      options.onOutput?.(chunk);
    });
    const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => child.kill("SIGKILL"), options.timeoutMs);
    const finish = (code: number | null, signal: NodeJS.Signals | null, extra = "") => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr: stderr + extra, seconds: (performance.now() - started) / 1000 });
    };
    child.once("error", (error) => finish(127, null, `\n${error.message}`));
    child.once("close", (code, signal) => finish(code, signal));
  });
}

/** The last `lines` lines of a text. */
export function tail(text: string, lines = 40): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

function meaning(result: ExecResult): string {
  if (result.signal) return `killed by ${result.signal}`;
  if (result.code === 127) return "exit 127: command not found";
  if (result.code === 137) return "exit 137: killed (SIGKILL or out of memory)";
  return `exit ${result.code}`;
}

/** One paragraph for an assertion message: what ran, how it ended, and the end of its output. */
export function describeRun(command: string, args: readonly string[], result: ExecResult, lines = 40): string {
  const output = tail(`${result.stdout}\n${result.stderr}`, lines);
  return `\`${[command, ...args].join(" ")}\` failed (${meaning(result)}) after ${result.seconds.toFixed(1)} s:\n${output}`;
}

/** Like exec, but rejects with describeRun's message when the command does not exit 0. */
export async function execOk(command: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  const result = await exec(command, args, options);
  if (result.code !== 0) throw new Error(describeRun(command, args, result));
  return result;
}

/**
 * The absolute path of an executable, looked up on PATH and then in the sbin directories (dockerd and
 * debootstrap live in /usr/sbin, which is not on a normal user's PATH); undefined when absent.
 */
export function findExecutable(name: string, path = process.env.PATH ?? ""): string | undefined {
  const dirs = [...path.split(delimiter).filter(Boolean), "/usr/local/sbin", "/usr/sbin", "/sbin"];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}
