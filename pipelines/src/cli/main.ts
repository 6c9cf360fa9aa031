import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { EXIT, isSlipwayError, unknownCommand } from "../errors.js";
import type { Command, Io } from "./command.js";
import { parseFlags } from "./command.js";
import { loadCommands } from "./commands.js";
import { maskSecrets, registerEnvSecrets } from "./secrets.js";

function findCommand(argv: string[], commands: Command[]): { command: Command; rest: string[] } | null {
  let best: { command: Command; rest: string[] } | null = null;
  for (const command of commands) {
    const n = command.path.length;
    if (argv.length >= n && command.path.every((word, i) => argv[i] === word)) {
      if (!best || n > best.command.path.length) best = { command, rest: argv.slice(n) };
    }
  }
  return best;
}

function help(commands: Command[]): string {
  const width = Math.max(...commands.map((c) => c.path.join(" ").length));
  return [
    "slipway: the functional core of the Slipway pipeline",
    "",
    "Commands:",
    ...commands.map((c) => `  slipway ${c.path.join(" ").padEnd(width)}  ${c.summary}`),
    "",
    "Exit codes: 0 ok, 1 failed (gate, rollout), 2 bad input, 3 timed out.",
    "",
  ].join("\n");
}

/** Runs one CLI invocation; returns the exit code. Never throws for expected errors. */
export async function run(argv: string[], rawIo: Io, given?: Command[]): Promise<number> {
  // Every byte the command writes passes the one masker, whatever produced the text (ours, a user's
  // DataSource module, a server's error body): see ./secrets.ts.
  registerEnvSecrets(rawIo.env);
  const io: Io = { ...rawIo, stdout: (t) => rawIo.stdout(maskSecrets(t)), stderr: (t) => rawIo.stderr(maskSecrets(t)) };
  const commands = given ?? (await loadCommands(argv));
  if (argv.length === 0 || argv[0] === "--help" || argv[0] === "-h" || argv[0] === "help") {
    io.stdout(help(commands));
    return argv.length === 0 ? EXIT.badInput : EXIT.ok;
  }
  try {
    const found = findCommand(argv, commands);
    if (!found) {
      const words = argv.filter((a) => !a.startsWith("-")).slice(0, 2).join(" ");
      throw unknownCommand(words || (argv[0] ?? ""), commands.map((c) => c.path.join(" ")));
    }
    const { values, positionals } = parseFlags(found.command, found.rest);
    if (values.help) {
      io.stdout(`${found.command.summary}\n\nUsage:\n  ${found.command.usage}\n`);
      return EXIT.ok;
    }
    return await found.command.run({ values: values as never, positionals, io });
  } catch (error) {
    if (isSlipwayError(error)) {
      io.stderr(`${error.render()}\n`);
      return error.exitCode;
    }
    // Unexpected: keep the stack so it can be reported and fixed.
    io.stderr(`SLIPWAY_INTERNAL: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return EXIT.failed;
  }
}

export function processIo(): Io {
  return {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    cwd: process.cwd(),
    env: process.env,
  };
}

function isMain(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

/**
 * Masks whatever reaches the process's own streams too: a user's DataSource module or a library that logs
 * with console.log never goes through `Io`.
 */
function maskStream(stream: NodeJS.WriteStream): void {
  const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
  stream.write = ((chunk: unknown, ...rest: unknown[]) =>
    write(typeof chunk === "string" ? maskSecrets(chunk) : chunk instanceof Uint8Array ? maskSecrets(Buffer.from(chunk).toString("utf8")) : chunk, ...rest)) as typeof stream.write;
}

function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => stream.write("", () => resolve()));
}

/**
 * Runs the CLI as a process and ends it once its output is written. A peer that accepted a connection
 * and never answers (a hung API server, registry or git host) keeps a socket, and with it Node, alive
 * after the command has already decided and printed its verdict; nothing is left to wait for then.
 */
export async function main(argv: string[]): Promise<never> {
  maskStream(process.stdout);
  maskStream(process.stderr);
  const code = await run(argv, processIo());
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  process.exit(code);
}

if (isMain()) await main(process.argv.slice(2));
