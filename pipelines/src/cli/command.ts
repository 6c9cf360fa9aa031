import type { ParseArgsConfig } from "node:util";
import { parseArgs } from "node:util";
import { usageError } from "../errors.js";

export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  cwd: string;
  env: NodeJS.ProcessEnv;
}

type Options = NonNullable<ParseArgsConfig["options"]>;

export interface CommandContext<O extends Options = Options> {
  values: { [K in keyof O]?: O[K] extends { multiple: true } ? string[] : O[K] extends { type: "boolean" } ? boolean : string };
  positionals: string[];
  io: Io;
}

/** One CLI command. `path` is the words that select it, e.g. ["config", "check"]. */
export interface Command<O extends Options = Options> {
  path: string[];
  summary: string;
  usage: string;
  options: O;
  positionals?: boolean;
  run: (ctx: CommandContext<O>) => Promise<number>;
}

export function defineCommand<O extends Options>(command: Command<O>): Command {
  return command as unknown as Command;
}

/** Parses flags strictly: an unknown flag or a missing value is a usage error naming it. */
export function parseFlags(command: Command, argv: string[]): { values: Record<string, unknown>; positionals: string[] } {
  try {
    const parsed = parseArgs({
      args: argv,
      options: { ...command.options, help: { type: "boolean", short: "h" } },
      allowPositionals: command.positionals ?? false,
      strict: true,
    });
    return { values: parsed.values as Record<string, unknown>, positionals: parsed.positionals };
  } catch (error) {
    const message = error instanceof Error ? error.message.split("\n")[0] ?? String(error) : String(error);
    throw usageError(message, command.usage);
  }
}
