import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { EXIT, isSlipwayError, unknownCommand, usageError } from "../errors.js";
import type { Command, Io } from "./command.js";
import { parseFlags } from "./command.js";
import { AREAS, commandIndex, loadCommands } from "./commands.js";
import { cliVersion, commandHelp, globalHelp, groupHelp } from "./help.js";
import { loadConfigModule } from "./output.js";
import { printError, printResult } from "./print.js";
import { maskSecrets, registerEnvSecrets } from "./secrets.js";
import { liveEnabled, parseProgressSetting, statusLine } from "./status.js";
import { closestCommand } from "./suggest.js";

/*
 * Our own dispatch rather than a CLI library. Measured whole-process (`node X plan --help`, one command
 * defined, 11 interleaved rounds, medians, on a shared 2-core machine, issue 16): node -e 0 185 ms,
 * node:util parseArgs alone 218 ms, citty 0.2 225 ms, commander 14 257 ms, clipanion 3.2 273 ms; this
 * dispatcher with every command: `slipway --help` 239 ms, `slipway plan --help` 201 ms. A library would add
 * its own load to every invocation and still need our lazy areas and command index; parseArgs is in Node
 * already and its strict parsing is what every command relies on.
 */

/** Commands that are the dispatcher's own, not an area's. */
const BUILTINS = ["help", "version"];

/** The longest command path that prefixes `argv`, from the index (no area loaded). */
function indexedCommand(argv: string[]): string | null {
  let best: string | null = null;
  for (const { words } of commandIndex()) {
    const path = words.split(" ");
    if (argv.length >= path.length && path.every((w, i) => argv[i] === w) && (!best || path.length > best.split(" ").length)) best = words;
  }
  return best;
}

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

function notACommand(argv: string[]): never {
  const words = argv.filter((a) => !a.startsWith("-"));
  const known = commandIndex().map((c) => c.words);
  const groups = [...new Set(AREAS.flatMap((a) => Object.keys(a.commands).map((w) => w.split(" ")[0] as string)))];
  throw unknownCommand(words.slice(0, 2).join(" ") || (argv[0] ?? ""), known, closestCommand(words, [...known, ...groups, ...BUILTINS]));
}

/** `slipway help [words...]`, `slipway <group> --help`, `slipway <command> --help`. */
async function help(words: string[], io: Io, given?: Command[]): Promise<number> {
  if (words.length === 0) {
    io.stdout(globalHelp());
    return EXIT.ok;
  }
  if (words.length === 1 && BUILTINS.includes(words[0] as string)) {
    io.stdout(words[0] === "version" ? "Print the version of slipway\n\nUsage:\n  slipway version [--json]\n  slipway --version\n" : "Print the help of a command\n\nUsage:\n  slipway help [COMMAND...]\n");
    return EXIT.ok;
  }
  const group = words.length === 1 ? groupHelp(words[0] as string) : null;
  if (group !== null) {
    io.stdout(group);
    return EXIT.ok;
  }
  const found = findCommand(words, given ?? (await loadCommands(words)));
  if (!found || found.rest.some((w) => !w.startsWith("-"))) notACommand(words);
  io.stdout(commandHelp(found.command));
  return EXIT.ok;
}

/** `slipway --version`: the version alone, for scripts. `slipway version [--json]`: also the runtime. */
function version(argv: string[], io: Io, short: boolean): number {
  const extra = argv.filter((a) => a !== "--json");
  if (extra.length > 0) throw usageError(`slipway version takes only --json, not ${JSON.stringify(extra[0])}`, "slipway version [--json]");
  const value = { version: cliVersion(), node: process.version, platform: `${process.platform}/${process.arch}` };
  printResult(io, argv.includes("--json"), value, () => (short ? `slipway ${value.version}\n` : `slipway ${value.version}\nnode ${value.node}, ${value.platform}\n`));
  return EXIT.ok;
}

/** Runs one CLI invocation; returns the exit code. Never throws for expected errors. */
export async function run(argv: string[], rawIo: Io, given?: Command[]): Promise<number> {
  // Every byte the command writes passes the one masker, whatever produced the text (ours, a user's
  // DataSource module, a server's error body): see ./secrets.ts.
  registerEnvSecrets(rawIo.env);
  // Decided on the raw words: an error in parsing the flags themselves is reported in the form asked for.
  const json = argv.includes("--json");
  // One live status line per command (./status.ts): any output erases it first, and it is gone when the
  // command ends, so the normal output replaces it. An unknown SLIPWAY_PROGRESS is rollout verify's
  // bad input; for the status line it counts as auto.
  const status = statusLine(
    {
      write: (t) => rawIo.stderr(t),
      get columns() {
        return rawIo.columns;
      },
    },
    liveEnabled(parseProgressSetting(rawIo.env.SLIPWAY_PROGRESS) ?? "auto", rawIo.stderrIsTTY, rawIo.env, json),
  );
  const io: Io = {
    ...rawIo,
    stdout: (t) => status.around(maskSecrets(t), rawIo.stdout),
    stderr: (t) => status.around(maskSecrets(t), rawIo.stderr),
    status: (text, startedAt) => (text === null ? status.clear() : status.show(text, startedAt)),
  };
  try {
    const first = argv[0];
    if (first === undefined) {
      io.stdout(globalHelp());
      return EXIT.badInput;
    }
    if (first === "--help" || first === "-h") return await help([], io);
    if (first === "--version") return version(argv.slice(1), io, true);
    if (first === "version") return version(argv.slice(1), io, false);
    if (first === "help") return await help(argv.slice(1), io, given);
    const words = given ? null : indexedCommand(argv);
    if (!given && words === null) {
      // A group alone (`slipway scan`, `slipway scan --help`) lists its commands.
      const group = first.startsWith("-") ? null : groupHelp(first);
      if (group !== null && (argv.length === 1 || argv[1]?.startsWith("-"))) {
        io.stdout(group);
        return argv.length === 1 ? EXIT.badInput : EXIT.ok;
      }
      notACommand(argv);
    }
    const found = findCommand(argv, given ?? (await loadCommands(argv)));
    if (!found) notACommand(argv);
    if (found.rest.includes("--help") || found.rest.includes("-h")) {
      io.stdout(commandHelp(found.command));
      return EXIT.ok;
    }
    const { values, positionals } = parseFlags(found.command, found.rest, io);
    await loadConfigModule(io, values);
    return await found.command.run({ values: values as never, positionals, io });
  } catch (error) {
    status.clear();
    printError(io, json, error);
    return isSlipwayError(error) ? error.exitCode : EXIT.failed;
  } finally {
    status.end();
  }
}

export function processIo(): Io {
  return {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    cwd: process.cwd(),
    env: process.env,
    isTTY: process.stdout.isTTY === true,
    stderrIsTTY: process.stderr.isTTY === true,
    get columns() {
      return process.stderr.columns || Number(process.env.COLUMNS) || undefined;
    },
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
