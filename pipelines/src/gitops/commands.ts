import { existsSync, readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { defineCommand } from "../cli/command.js";
import { commandConfig, printJson, printResult } from "../cli/output.js";
import type { Io } from "../cli/command.js";
import type { SlipwayConfig } from "../config/schema.js";
import { EXIT, usageError } from "../errors.js";
import type { CommitPushInput } from "./git.js";
import { parseTargets } from "./input.js";
import { renderRecord } from "./record.js";
import type { FormatOptions } from "./types.js";
import { checkInputFile, checkOutputDir } from "../cli/paths.js";
import { environmentIfDeclared } from "../release/environment.js";
import type { ResolvedEnvironment } from "../release/environment.js";

function outputDir(flag: string, value: string, path: string): string {
  checkOutputDir(flag, value, path);
  return path;
}

const bumpUsage =
  "slipway gitops bump --repo DIR [--path SUBDIR] [--set IMAGE=TAG[@sha256:DIGEST]]... [--policy NS:NAME=IMAGE:TAG[@sha256:DIGEST]]... [--allow-missing] [--allow-unedited] [--dry-run] [--json] [--config FILE]";
const pushUsage =
  "slipway gitops commit-push --repo URL|DIR --branch B [--path SUBDIR] [--set IMAGE=TAG[@sha256:DIGEST]]... [--policy NS:NAME=IMAGE:TAG[@sha256:DIGEST]]... [--message-from FILE] [--source-sha SHA] [--allow-missing] [--allow-unedited] [--max-attempts N] [--ssh-key FILE] [--known-hosts FILE] [--author 'Name <email>'] [--workdir DIR] [--json] [--config FILE]";

export const DEFAULT_AUTHOR = { name: "Slipway", email: "slipway@users.noreply.github.com" };
/** The environment variable holding an HTTPS token (Dagger: withSecretVariable). */
export const TOKEN_ENV = "SLIPWAY_GIT_TOKEN";

function gitopsConfig(io: Io, file: string | undefined): NonNullable<SlipwayConfig["gitops"]> {
  return commandConfig(io, file).config.gitops ?? {};
}

export function formatOptions(gitops: NonNullable<SlipwayConfig["gitops"]>): FormatOptions {
  return { helmKeyPaths: gitops.helm?.images ?? [], ...(gitops.helm?.valuesFiles ? { valuesGlobs: gitops.helm.valuesFiles } : {}) };
}

function requireTargets(sets: string[] | undefined, policies: string[] | undefined, usage: string): ReturnType<typeof parseTargets> {
  if ((sets ?? []).length === 0 && (policies ?? []).length === 0) throw usageError("give at least one --set or --policy", usage);
  return parseTargets(sets ?? [], policies ?? []);
}

export const gitopsBump = defineCommand({
  path: ["gitops", "bump"],
  summary: "Set image tags/digests in a GitOps checkout, editing YAML in place; print the change record",
  usage: bumpUsage,
  options: {
    repo: { type: "string", value: "DIR", describe: "the GitOps checkout to edit (required)", defaultText: "" },
    path: { type: "string" },
    set: { type: "string", multiple: true },
    policy: { type: "string", multiple: true },
    "allow-missing": { type: "boolean", describe: "an image found in no manifest is not an error" },
    "allow-unedited": { type: "boolean", describe: "a manifest that names the image in a form we cannot edit is not an error", defaultText: "gitops.allowUnedited in slipway.yaml, else off" },
    "dry-run": { type: "boolean", describe: "print the change record; write no file" },
    json: { type: "boolean" },
    config: { type: "string" },
  },
  examples: [
    "slipway gitops bump --repo ../gitops --path clusters/dev --set myacr.azurecr.io/shop/api=sha-0123456789ab@sha256:<64 hex>",
    "slipway gitops bump --repo . --policy flux-system:api=myacr.azurecr.io/shop/api:1.4.0 --dry-run --json",
  ],
  async run({ values, io }) {
    if (values.repo === undefined) throw usageError("--repo is required", bumpUsage);
    const targets = requireTargets(values.set, values.policy, bumpUsage);
    const gitops = gitopsConfig(io, values.config);
    // The formats and git are loaded here, not for `--help` (issue 16).
    const { bump } = await import("./bump.js");
    const result = await bump({
      root: resolve(io.cwd, values.repo),
      path: values.path ?? gitops.path,
      ...targets,
      options: formatOptions(gitops),
      allowMissing: values["allow-missing"] ?? false,
      allowUnedited: values["allow-unedited"] ?? gitops.allowUnedited ?? false,
      dryRun: values["dry-run"] ?? false,
    });
    const dryRun = values["dry-run"] ?? false;
    printResult(io, values.json, { dryRun, written: result.written, record: result.record }, () => renderRecord(result.record, dryRun));
    return EXIT.ok;
  },
});

function parseAuthor(value: string): { name: string; email: string } | null {
  const match = /^\s*([^<>]+?)\s*<([^\s<>@]+@[^\s<>]+)>\s*$/.exec(value);
  return match ? { name: match[1] as string, email: match[2] as string } : null;
}

/** Flags of every command that pushes to the GitOps repository (gitops commit-push, ledger, rollback). */
export const PUSH_OPTIONS = {
  repo: { type: "string" },
  branch: { type: "string" },
  "max-attempts": { type: "string" },
  "ssh-key": { type: "string" },
  "known-hosts": { type: "string" },
  author: { type: "string" },
  workdir: { type: "string" },
  json: { type: "boolean" },
  config: { type: "string" },
} as const; // Described once in cli/command.ts COMMON_FLAGS: they mean the same in every command that pushes.

type PushFlags = Partial<Record<"repo" | "branch" | "max-attempts" | "ssh-key" | "known-hosts" | "author" | "workdir" | "config", string>>;

/** Where and how to push: what `commitPush` needs besides the change itself. */
export type PushTarget = Pick<CommitPushInput, "repo" | "branch" | "auth" | "author" | "maxAttempts" | "workdir" | "log" | "status">;

function isFile(path: string): boolean {
  return existsSync(path) && statSync(path).isFile();
}

/**
 * Reads and checks the shared push flags (falling back to slipway.yaml `gitops:`); the token comes only
 * from SLIPWAY_GIT_TOKEN in the environment.
 */

/**
 * Where and how to push. With `envName` and `environments:` in slipway.yaml, the environment's repository
 * and branch are the defaults (flags still win) and `environment` says which folder is its own.
 */
export function pushTarget(
  values: PushFlags,
  io: Io,
  usage: string,
  envName?: string,
): { target: PushTarget; gitops: NonNullable<SlipwayConfig["gitops"]>; environment: ResolvedEnvironment | null } {
  const loaded = commandConfig(io, values.config);
  const gitops = loaded.config.gitops ?? {};
  const environment = environmentIfDeclared(loaded.config, envName, loaded.file);
  const repo = values.repo ?? environment?.gitops.repository ?? gitops.repository;
  if (repo === undefined) throw usageError("--repo is required (or set gitops.repository in slipway.yaml)", usage);
  const branch = values.branch ?? environment?.gitops.branch ?? gitops.branch;
  if (branch === undefined) throw usageError("--branch is required (or set gitops.branch in slipway.yaml)", usage);
  // A branch or SHA starting with '-' would be read by git as an option.
  if (branch === "" || branch.startsWith("-") || /[\s~^:?*[\\]/.test(branch)) throw usageError(`--branch ${JSON.stringify(branch)} is not a branch name`, usage);
  const maxAttempts = values["max-attempts"] === undefined ? 20 : Number(values["max-attempts"]);
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > 100) {
    throw usageError(`--max-attempts ${JSON.stringify(values["max-attempts"])} must be a whole number from 1 to 100`, usage);
  }
  const author = values.author === undefined ? (gitops.commit?.author ?? DEFAULT_AUTHOR) : parseAuthor(values.author);
  if (author === null) throw usageError(`--author ${JSON.stringify(values.author)} must look like 'Name <email>'`, usage);
  const sshKey = values["ssh-key"] === undefined ? undefined : resolve(io.cwd, values["ssh-key"]);
  if (sshKey !== undefined && !isFile(sshKey)) throw usageError(`--ssh-key ${JSON.stringify(values["ssh-key"])} is not a file`, usage);
  const knownHosts = values["known-hosts"] === undefined ? undefined : resolve(io.cwd, values["known-hosts"]);
  if (knownHosts !== undefined && !isFile(knownHosts)) throw usageError(`--known-hosts ${JSON.stringify(values["known-hosts"])} is not a file`, usage);
  const token = io.env[TOKEN_ENV] || undefined;
  const target: PushTarget = {
    repo: /^[a-z][a-z0-9+.-]*:\/\//i.test(repo) || /^[^/\\]+@[^/\\]+:/.test(repo) ? repo : resolve(io.cwd, repo),
    branch,
    auth: {
      ...(token ? { token, username: io.env.SLIPWAY_GIT_USERNAME || undefined } : {}),
      ...(sshKey ? { sshKey } : {}),
      ...(knownHosts ? { knownHosts } : {}),
    },
    author,
    maxAttempts,
    workdir: values.workdir === undefined ? undefined : outputDir("--workdir", values.workdir, resolve(io.cwd, values.workdir)),
    log: (line) => io.stderr(`${line}\n`),
    ...(io.status ? { status: io.status } : {}),
  };
  return { target, gitops, environment };
}

export const gitopsCommitPush = defineCommand({
  path: ["gitops", "commit-push"],
  summary: "Clone the GitOps repo, bump images, make one commit and push it, retrying on concurrent writers",
  usage: pushUsage,
  options: {
    ...PUSH_OPTIONS,
    path: { type: "string" },
    set: { type: "string", multiple: true },
    policy: { type: "string", multiple: true },
    "message-from": { type: "string", value: "FILE", describe: "the commit message template: {{summary}} and {{changes}} are filled from the change record", defaultText: "chore(gitops): bump <summary> and the changes" },
    "source-sha": { type: "string", describe: "the services' commit, named in the commit message", defaultText: "GITHUB_SHA, else BUILD_SOURCEVERSION" },
    "allow-missing": { type: "boolean", describe: "an image found in no manifest is not an error" },
    "allow-unedited": { type: "boolean", describe: "a manifest that names the image in a form we cannot edit is not an error", defaultText: "gitops.allowUnedited in slipway.yaml, else off" },
  },
  examples: [
    "SLIPWAY_GIT_TOKEN=... slipway gitops commit-push --repo https://github.com/org/gitops.git --branch main --path clusters/dev --set myacr.azurecr.io/shop/api=sha-0123456789ab@sha256:<64 hex>",
    "slipway gitops commit-push --repo git@github.com:org/gitops.git --branch main --ssh-key ~/.ssh/id_ed25519 --known-hosts known_hosts --set api=1.4.0 --json",
  ],
  async run({ values, io }) {
    const { target, gitops } = pushTarget(values, io, pushUsage);
    const sourceSha = values["source-sha"] ?? io.env.GITHUB_SHA ?? io.env.BUILD_SOURCEVERSION;
    if (sourceSha !== undefined && !/^[0-9a-f]{7,64}$/.test(sourceSha)) throw usageError(`--source-sha ${JSON.stringify(sourceSha)} is not a commit SHA`, pushUsage);
    let messageTemplate: string | undefined;
    if (values["message-from"] !== undefined) {
      const file = resolve(io.cwd, values["message-from"]);
      if (!existsSync(file)) throw usageError(`--message-from ${JSON.stringify(values["message-from"])} does not exist`, pushUsage);
      checkInputFile("--message-from", values["message-from"], file);
      messageTemplate = readFileSync(file, "utf8");
    }
    const targets = requireTargets(values.set, values.policy, pushUsage);
    const { commitPush } = await import("./git.js");
    const result = await commitPush({
      ...target,
      path: values.path ?? gitops.path,
      ...targets,
      options: formatOptions(gitops),
      allowMissing: values["allow-missing"] ?? false,
      allowUnedited: values["allow-unedited"] ?? gitops.allowUnedited ?? false,
      sourceSha,
      messageTemplate,
    });
    const branch = target.branch;
    if (values.json) {
      printJson(io, { branch, ...result });
    } else {
      io.stdout(renderRecord(result.record, false));
      io.stdout(
        result.pushed
          ? `pushed ${result.commit} to ${branch} (attempt ${result.attempts})\n`
          : `no commit: ${branch} is already at the requested images (${result.commit})\n`,
      );
    }
    return EXIT.ok;
  },
});

export const GITOPS_COMMANDS = [gitopsBump, gitopsCommitPush];
