import type { ParseArgsConfig } from "node:util";
import { parseArgs } from "node:util";
import { SlipwayError, unknownFlag, usageError } from "../errors.js";
import { closest } from "./suggest.js";

export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** stdout is a terminal: colours on unless NO_COLOR (./style.ts). Unset (tests, the Dagger module): no colour unless FORCE_COLOR. */
  isTTY?: boolean;
  /** stderr is a terminal: the live status line and rollout verify's live lines (./status.ts). Unset: none. */
  stderrIsTTY?: boolean;
  /** stderr's terminal width, read when a live line is drawn. */
  columns?: number;
  /**
   * The live status line of a long wait (./status.ts): `status(text)` when a wait starts or changes,
   * `status(null)` when it ends; `startedAt` (Date.now() ms) when the wait began earlier. Set by the CLI's
   * `run`; a no-op off a terminal, with --json or in CI.
   */
  status?: (text: string | null, startedAt?: number) => void;
}

/**
 * One flag: what node:util parseArgs needs (type, short, multiple) and what `--help` shows. The help
 * fields are stripped before parseArgs sees the config. `defaultText` is text only: the command applies
 * its own default (often from slipway.yaml), so parseArgs' own `default` is not used.
 */
export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  multiple?: boolean;
  /** One line for `--help`. */
  describe?: string;
  /** The value's placeholder in `--help`: FILE, DIR, NAME... */
  value?: string;
  /** Read when the flag is not given (an empty variable counts as not set). */
  env?: string;
  /** What applies when neither the flag nor `env` gives a value, as `--help` shows it. */
  defaultText?: string;
  /** A deprecated spelling: the flag to use instead. Its value moves there, with a one-line warning on stderr. */
  deprecatedFor?: string;
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
  /** Command lines a user can copy, each shown under "Examples:" in `--help`. */
  examples?: string[];
  positionals?: boolean;
  run: (ctx: CommandContext<O>) => Promise<number>;
}

export function defineCommand<O extends Options>(command: Command<O>): Command {
  return command as unknown as Command;
}

/**
 * Flags that mean the same thing in every command, described once. A command's own fields win; a flag of
 * this name gets the rest (so `--config` reads SLIPWAY_CONFIG and `--kubeconfig` KUBECONFIG everywhere).
 */
export const COMMON_FLAGS: Record<string, Omit<OptionSpec, "type">> = {
  config: { describe: "slipway.yaml to read, relative to the working directory", value: "FILE", env: "SLIPWAY_CONFIG", defaultText: "slipway.yaml in the working directory, if any" },
  json: { describe: "print one JSON document on stdout (with \"schemaVersion\"); a failure also ends stderr with a JSON error object" },
  help: { describe: "print this help" },
  kubeconfig: { describe: "kubeconfig file of the cluster", value: "FILE", env: "KUBECONFIG" },
  source: { describe: "the repository of services", value: "DIR", defaultText: "the working directory" },
  "dry-run": { describe: "say what would change; change nothing" },
  repo: { describe: "the GitOps repository: a URL (token from SLIPWAY_GIT_TOKEN) or a local checkout", value: "URL|DIR", defaultText: "the --env environment's, else gitops.repository in slipway.yaml" },
  branch: { describe: "the GitOps branch to push to", value: "B", defaultText: "the --env environment's, else gitops.branch in slipway.yaml" },
  path: { describe: "only edit manifests under this folder of the GitOps repository", value: "SUBDIR", defaultText: "gitops.path in slipway.yaml, else the whole repository" },
  env: { describe: "the environment of slipway.yaml", value: "ENV" },
  "max-attempts": { describe: "push attempts against concurrent writers (fetch, rebase, retry)", value: "N", defaultText: "20" },
  "ssh-key": { describe: "private key for an SSH remote", value: "FILE" },
  "known-hosts": { describe: "known_hosts file for an SSH remote", value: "FILE" },
  author: { describe: "commit author", value: "'Name <email>'", defaultText: "gitops.commit.author in slipway.yaml, else Slipway <slipway@users.noreply.github.com>" },
  workdir: { describe: "folder to clone into (kept afterwards)", value: "DIR", defaultText: "a temporary folder, removed afterwards" },
  set: { describe: "an image and the tag (and digest) to set", value: "IMAGE=TAG[@sha256:DIGEST]" },
  "source-sha": { describe: "the commit of the services' repository being released", value: "SHA" },
  policy: { describe: "the value a Flux $imagepolicy marker names", value: "NS:NAME=IMAGE:TAG[@sha256:DIGEST]" },
  scan: { describe: "the security gate's report (`slipway scan gate --json`)", value: "GATE.json" },
  registry: { describe: "the Azure Container Registry", value: "HOST", defaultText: "publish.registry in slipway.yaml" },
  service: { describe: "a service name, as `slipway plan` lists it", value: "NAME" },
  tag: { describe: "an image tag", value: "TAG" },
  force: { describe: "with --to: allow a release that was never verified" },
  id: { describe: "a release id of the ledger", value: "ID" },
  status: { describe: "the release's status", value: "STATUS" },
  "gitops-commit": { describe: "the GitOps commit that deployed the release", value: "SHA" },
  migrations: { describe: "the `slipway migrate run --json` report of the release", value: "FILE" },
};

/** --json of a command whose output is JSON with or without it (the Dagger module calls it without). */
export const ALWAYS_JSON = { type: "boolean", describe: "accepted for consistency: the output is JSON either way" } as const;

/** The flags of `command` as `--help` shows them: its own fields over COMMON_FLAGS', plus --json and --help. */
export function flagSpecs(command: Command): [string, OptionSpec][] {
  const own = command.options as Record<string, OptionSpec>;
  const all: Record<string, OptionSpec> = { ...own, json: own.json ?? { type: "boolean" }, help: { type: "boolean", short: "h" } };
  return Object.entries(all).map(([name, spec]) => [name, { ...COMMON_FLAGS[name], ...definedOnly(spec) }]);
}

function definedOnly(spec: OptionSpec): OptionSpec {
  return Object.fromEntries(Object.entries(spec).filter(([, v]) => v !== undefined)) as unknown as OptionSpec;
}

/**
 * Parses flags strictly: an unknown flag (with the nearest known one) or a missing value is a usage error
 * naming it. Every command takes --json and --help. With `io`, flags not given are read from their
 * environment variable, and a deprecated spelling moves to its replacement with a warning on stderr.
 */
export function parseFlags(command: Command, argv: string[], io?: Pick<Io, "env" | "stderr">): { values: Record<string, unknown>; positionals: string[] } {
  const specs = flagSpecs(command);
  const options: Options = Object.fromEntries(
    specs.map(([name, s]) => [name, { type: s.type, ...(s.short ? { short: s.short } : {}), ...(s.multiple ? { multiple: true } : {}) }]),
  );
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: command.positionals ?? false, strict: true }) as typeof parsed;
  } catch (error) {
    if (error instanceof SlipwayError) throw error;
    const message = error instanceof Error ? (error.message.split("\n")[0] ?? String(error)) : String(error);
    const unknown = /^Unknown option '(-{1,2})([^'=]+)'/.exec(message);
    if (unknown) {
      // A typo of a deprecated spelling suggests its replacement.
      const guess = unknown[1] === "--" ? closest(unknown[2] as string, specs.map(([name]) => name)) : undefined;
      const meant = guess === undefined ? undefined : (specs.find(([name]) => name === guess)?.[1].deprecatedFor ?? guess);
      throw unknownFlag(`${unknown[1]}${unknown[2]}`, command.path.join(" "), meant === undefined ? undefined : `--${meant}`, command.usage);
    }
    throw usageError(message, command.usage);
  }
  const values = { ...parsed.values };
  for (const [name, spec] of specs) {
    if (spec.deprecatedFor === undefined || values[name] === undefined) continue;
    if (values[spec.deprecatedFor] !== undefined) throw usageError(`--${name} and --${spec.deprecatedFor} name the same thing: give --${spec.deprecatedFor} only`, command.usage);
    io?.stderr(`warning: --${name} is deprecated, use --${spec.deprecatedFor} (same meaning)\n`);
    values[spec.deprecatedFor] = values[name];
    delete values[name];
  }
  if (io) {
    for (const [name, spec] of specs) {
      const fromEnv = spec.env === undefined || spec.type !== "string" ? undefined : io.env[spec.env];
      if (values[name] === undefined && fromEnv) values[name] = spec.multiple ? [fromEnv] : fromEnv;
    }
  }
  return { values, positionals: parsed.positionals };
}
