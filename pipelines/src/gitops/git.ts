import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { isAbsolute, join, resolve as resolvePath } from "node:path";
import { pathToFileURL } from "node:url";
import type { SimpleGit } from "simple-git";
import { simpleGit } from "simple-git";
import { gitFailed, gitopsBranchNotFound, gitopsConflict, gitopsCredentialsInUrl, gitopsPushFailed, gitopsPushRejected, gitopsVerifyFailed, gitTimedOut, gitopsBadUrl, isSlipwayError, hasCredentialUserinfo, redactUserinfo } from "../errors.js";
import { parseDuration } from "../rollout/duration.js";
import type { BumpInput } from "./bump.js";
import { maskSecrets, registerSecret } from "../cli/secrets.js";
import type { FORMATS } from "./formats/registry.js";
import type { ChangeRecord } from "./record.js";
import { flatten, isEmpty, renderCommitMessage } from "./record.js";
import { gitopsCommitIncomplete } from "../errors.js";
import { realInside } from "./paths.js";
import { gitAbortSignal, makeScratch, releaseScratch } from "./scratch.js";

export interface GitAuth {
  /** HTTPS token, handed to git through GIT_ASKPASS: never in a URL, argv, .git/config or a log. */
  token?: string;
  /** Username sent with the token (GitHub: x-access-token; Azure DevOps accepts any). */
  username?: string;
  /** SSH private key file for ssh:// or scp-like URLs. */
  sshKey?: string;
  /** known_hosts file; without it the host key is accepted on first use. */
  knownHosts?: string;
}

export interface CommitPushInput extends Omit<BumpInput, "root" | "dryRun"> {
  /** Clone URL, or a local directory (a bare repository or a checkout). */
  repo: string;
  branch: string;
  auth: GitAuth;
  author: { name: string; email: string };
  sourceSha?: string;
  messageTemplate?: string;
  maxAttempts: number;
  /** Clone here and keep it (debugging, tests); default: a temporary folder removed at the end. */
  workdir?: string;
  log: (line: string) => void;
  /** The CLI's live status line (../cli/status.ts): what the push waits for, null when done. */
  status?: (text: string | null) => void;
  /** Test seam: runs before each push attempt (e.g. to let another writer win the race). */
  beforePush?: (dir: string, attempt: number) => Promise<void>;
  /** Backoff base in ms (full jitter, capped); tests may lower it. */
  backoffMs?: number;
  /**
   * More files to change in the same commit (the release ledger): runs on the clone after the bump and
   * returns the repo-relative files it wrote. With it a rejected push never rebases: the clone is reset
   * to the remote tip and bump + alsoWrite run again, since git can merge a read-modify-write JSON file
   * "cleanly" and still wrongly (two appends, duplicate ids).
   */
  alsoWrite?: (dir: string) => string[];
}

export interface CommitPushResult {
  /** The commit now at the tip of the branch that carries the change (ours, or the one that already had it). */
  commit: string;
  pushed: boolean;
  attempts: number;
  record: ChangeRecord;
}

// Messages git prints when the remote moved under us: retry after fetch + rebase. Not "failed to push some
// refs": git prints that after every refused push, a hook's or a protection rule's too.
const RACE = /\[rejected\][^\n]*\((?:fetch first|non-fast-forward)\)|cannot lock ref|stale info|incorrect old value/i;
// The server said no for good: "[remote rejected] ... (pre-receive hook declined)" and other reasons than a
// lost ref update, protected branches (GitHub GH006, Azure Repos TF402455), permission and authentication.
const REFUSED =
  /\[remote rejected\](?![^\n]*(?:failed to update ref|cannot lock ref|incorrect old value))|hook declined|protected branch|GH00\d|TF4\d{5}|permission|denied|\b403\b|Authentication failed|could not read Username/i;

/** How a failed push ended: another writer won the race (retry), the server refused (stop), or unclear. */
export function classifyPushFailure(stderr: string): "race" | "refused" | "unknown" {
  if (REFUSED.test(stderr)) return "refused";
  if (RACE.test(stderr)) return "race";
  return "unknown";
}

/** Rejects URLs carrying credentials; returns the clone source git should use. */
export function cloneSource(repo: string, cwd: string): string {
  // Before any parsing: an address that does not parse (a `/` or `#` in the password, port 99999, `[::1`)
  // still carries its credential, and a parse error must not print it.
  if (hasCredentialUserinfo(repo)) throw gitopsCredentialsInUrl(redactUserinfo(repo));
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(repo);
  if (scheme) {
    let url: URL;
    try {
      url = new URL(repo);
    } catch {
      throw gitopsBadUrl(repo);
    }
    // ssh://git@host/... names a login, not a secret; over http(s) a user part may itself be a token.
    const isSsh = url.protocol === "ssh:" || url.protocol === "git+ssh:";
    if (url.password || (url.username && !isSsh)) {
      url.username = url.username ? "***" : "";
      url.password = url.password ? "***" : "";
      throw gitopsCredentialsInUrl(url.toString());
    }
    return repo;
  }
  // scp-like `git@host:org/repo.git` is SSH; anything else is a local path. file:// makes --depth work locally.
  if (/^[^/\\]+@[^/\\]+:/.test(repo)) return repo;
  const absolute = isAbsolute(repo) ? repo : resolvePath(cwd, repo);
  return pathToFileURL(absolute).toString();
}

/** The process's one masker (../cli/secrets.ts); the token is registered there too, for every output. */
export { maskSecrets } from "../cli/secrets.js";

/** CA settings passed through to git: its own and OpenSSL's. */
const CA_VARIABLES = ["GIT_SSL_CAINFO", "GIT_SSL_CAPATH", "SSL_CERT_FILE", "SSL_CERT_DIR"];

/**
 * A minimal environment for git: simple-git refuses ambient GIT_* variables we did not ask for, and a
 * token must only reach the askpass helper. The helper is a tiny script that prints an env var, so
 * the token is never written to disk.
 */
export function gitEnvironment(
  auth: GitAuth,
  scratch: string,
  ambient: NodeJS.ProcessEnv = process.env,
): { env: Record<string, string>; allow: string[] } {
  const env: Record<string, string> = { GIT_TERMINAL_PROMPT: "0", LC_ALL: "C" };
  for (const name of ["PATH", "HOME", "TMPDIR", "SSH_AUTH_SOCK", "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "https_proxy", "http_proxy", "no_proxy", ...CA_VARIABLES]) {
    const value = ambient[name];
    if (value !== undefined) env[name] = value;
  }
  // Git servers behind a private CA (corporate proxies, self-hosted Azure DevOps Server, GitLab) need
  // the CA settings the user already gave git and OpenSSL; they carry no secret.
  const allow = ["GIT_TERMINAL_PROMPT", ...CA_VARIABLES.filter((n) => n.startsWith("GIT_") && env[n] !== undefined)];
  if (auth.token) {
    const script = join(scratch, "askpass.sh");
    writeFileSync(
      script,
      '#!/bin/sh\ncase "$1" in\n  Username*) printf \'%s\\n\' "${SLIPWAY_GIT_USERNAME:-x-access-token}" ;;\n  *) printf \'%s\\n\' "$SLIPWAY_GIT_TOKEN" ;;\nesac\n',
    );
    chmodSync(script, 0o700);
    env.GIT_ASKPASS = script;
    env.SLIPWAY_GIT_TOKEN = auth.token;
    env.SLIPWAY_GIT_USERNAME = auth.username ?? "x-access-token";
    allow.push("GIT_ASKPASS");
  }
  if (auth.sshKey) {
    // git runs GIT_SSH_COMMAND through `sh -c`, so every path is single-quoted for the shell: JSON quotes
    // would leave `$(...)` and backticks live. (ssh also expands %-tokens in -o values: `%` is doubled.)
    const hostCheck = auth.knownHosts
      ? ["-o", shellQuote(`UserKnownHostsFile=${auth.knownHosts.replaceAll("%", "%%")}`), "-o", "StrictHostKeyChecking=yes"]
      : ["-o", "StrictHostKeyChecking=accept-new"];
    env.GIT_SSH_COMMAND = ["ssh", "-i", shellQuote(auth.sshKey.replaceAll("%", "%%")), "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", ...hostCheck].join(" ");
    allow.push("GIT_SSH_COMMAND");
  }
  return { env, allow };
}

/**
 * One POSIX shell word: the value in single quotes, each `'` closed, escaped and reopened. Hand-written
 * because GIT_SSH_COMMAND is the one place git insists on a shell string; nothing else here builds one.
 */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** How long one network git command (clone, fetch, push) may take (SLIPWAY_GIT_TIMEOUT, e.g. `10m`). */
export const GIT_TIMEOUT_ENV = "SLIPWAY_GIT_TIMEOUT";
const DEFAULT_GIT_TIMEOUT_MS = 300_000;

/** The limit in ms, or null when SLIPWAY_GIT_TIMEOUT is set to something else than a duration. */
export function gitTimeoutMs(env: NodeJS.ProcessEnv = process.env): number | null {
  const text = env[GIT_TIMEOUT_ENV];
  if (text === undefined || text === "") return DEFAULT_GIT_TIMEOUT_MS;
  return parseDuration(text);
}

/**
 * Runs one network git command under a deadline. A server that accepts the connection and never answers
 * would hold git, and us, forever: git has no overall timeout of its own (http.lowSpeedTime only covers a
 * transfer that has started). The deadline aborts the command's own simple-git client, which kills its
 * process. (Not simple-git's `timeout.block` option: its output listeners switched git's streams to flowing
 * before simple-git read them, so under load stderr was lost and failed pushes read as successes.)
 */
export async function withGitDeadline<T>(command: string, repo: string, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ms = gitTimeoutMs() ?? DEFAULT_GIT_TIMEOUT_MS;
  const signal = AbortSignal.timeout(ms);
  try {
    return await run(signal);
  } catch (error) {
    if (signal.aborted) throw gitTimedOut(command, repo, ms);
    throw error;
  }
}

export function client(baseDir: string, env: Record<string, string>, allow: string[], author?: { name: string; email: string }, deadline?: AbortSignal): SimpleGit {
  return simpleGit({
    baseDir,
    allowEnvironment: allow,
    // Empty credential.helper: a global `store` helper would otherwise save the token to ~/.git-credentials.
    config: ["credential.helper=", ...(author ? [`user.name=${author.name}`, `user.email=${author.email}`] : [])],
    unsafe: { allowUnsafeAskPass: true, allowUnsafeSshCommand: true, allowUnsafeCredentialHelper: true },
    // SIGINT/SIGTERM stop our git processes too (scratch.ts), before their folder is removed.
    abort: deadline ? AbortSignal.any([gitAbortSignal(), deadline]) : gitAbortSignal(),
    // simple-git's defaults finish a command 50 ms after the process exits even if its output is still in the
    // pipes, and count a non-zero exit as success when no stderr arrived: on a loaded machine a rejected push
    // then read as `pushed` and `rev-parse HEAD` as "". Wait for the streams to close, and fail on any exit != 0.
    // (Up to 5 s after the exit, not forever: a killed clone's git-remote-https child can hold the pipes open.)
    completion: { onClose: true, onExit: 5_000 },
    errors: (error, result) => {
      if (error) return error;
      if (result.exitCode !== 0) {
        const said = Buffer.concat(result.stdErr).toString("utf8").trim() || Buffer.concat(result.stdOut).toString("utf8").trim();
        return new Error(said || `git exited with code ${result.exitCode} and printed nothing`);
      }
      return undefined;
    },
  }).env(env);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Clone (shallow), bump, ONE commit for every service, push. On a rejected push: fetch, rebase,
 * re-verify, retry with jittered backoff (bounded). When the rebase conflicts, start again from the
 * remote tip, unless another commit set a field we change to a third value: that is a real conflict,
 * reported with the file, and nothing is pushed.
 */
export async function commitPush(input: CommitPushInput): Promise<CommitPushResult> {
  const source = cloneSource(input.repo, process.cwd());
  const secrets = [input.auth.token];
  registerSecret(input.auth.token);
  const scratch = makeScratch("slipway-gitops-");
  const dir = input.workdir ? resolvePath(input.workdir) : join(scratch, "repo");
  if (input.workdir && existsSync(dir) && readdirSync(dir).length > 0) {
    releaseScratch(scratch);
    throw gitFailed("clone", `--workdir ${dir} is not empty`);
  }
  const { env, allow } = gitEnvironment(input.auth, scratch);
  const mask = (text: string): string => maskSecrets(text, secrets);
  const status = input.status ?? (() => undefined);
  const where = redactUserinfo(input.repo);
  // The bump engine and its formats load with commit-push, not with this module (`ledger show` and `acr prune`
  // only clone and read: issue 16); asked for before the clone, so they load while git works.
  const engine = Promise.all([import("./bump.js"), import("./formats/registry.js")]);
  try {
    status(`gitops: cloning ${input.branch} of ${where}`);
    try {
      await withGitDeadline("clone", input.repo, (deadline) =>
        client(scratch, env, allow, undefined, deadline).clone(source, dir, ["--depth", "1", "--branch", input.branch, "--single-branch", "--no-tags"]),
      );
    } catch (error) {
      if (isSlipwayError(error)) throw error;
      throw gitopsBranchNotFound(input.repo, input.branch, mask(message(error)));
    }
    const git = client(dir, env, allow, input.author);
    const [{ bump }, { FORMATS: formats }] = await engine;
    const bumpInput: BumpInput = { ...input, root: dir };
    let { record, written } = await bump(bumpInput);
    let also = input.alsoWrite?.(dir) ?? [];
    if (isEmpty(record) && also.length === 0) {
      return { commit: (await git.revparse(["HEAD"])).trim(), pushed: false, attempts: 0, record };
    }
    const commitMessage = (r: ChangeRecord): string => renderCommitMessage(r, input.sourceSha, input.messageTemplate);
    await commitChecked(git, commitMessage(record), [...written, ...also]);

    let lastError = "";
    for (let attempt = 1; attempt <= input.maxAttempts; attempt++) {
      await input.beforePush?.(dir, attempt);
      status(attempt === 1 ? `gitops: pushing ${input.branch} to ${where}` : `gitops: another writer moved ${input.branch}; pushing again (attempt ${attempt}/${input.maxAttempts})`);
      const remote = `origin/${input.branch}`;
      try {
        // raw: git's own stderr (" ! [rejected] ... (fetch first)") becomes the error message.
        await withGitDeadline("push", input.repo, (deadline) =>
          client(dir, env, allow, input.author, deadline).raw(["push", "origin", `HEAD:refs/heads/${input.branch}`]),
        );
        return { commit: (await git.revparse(["HEAD"])).trim(), pushed: true, attempts: attempt, record };
      } catch (error) {
        if (isSlipwayError(error)) throw error;
        lastError = mask(message(error));
      }
      const failure = classifyPushFailure(lastError);
      if (failure === "refused") throw gitopsPushRejected(input.branch, lastError);
      const before = (await git.revparse([remote])).trim();
      status(`gitops: push to ${input.branch} not accepted (attempt ${attempt}/${input.maxAttempts}); fetching and retrying`);
      const cap = Math.min(2000, (input.backoffMs ?? 100) * 2 ** (attempt - 1));
      await sleep(Math.floor(Math.random() * cap));
      try {
        await withGitDeadline("fetch", input.repo, (deadline) => client(dir, env, allow, input.author, deadline).fetch("origin", input.branch));
      } catch (error) {
        if (isSlipwayError(error)) throw error;
        throw gitFailed("fetch", mask(message(error)));
      }
      // Transient only when the branch really moved (or git says so): a refused token, a protected
      // branch or a failing hook stay failures and are reported at once.
      const moved = (await git.revparse([remote])).trim() !== before;
      if (!moved && failure !== "race") throw gitFailed("push", lastError);
      input.log(`push rejected (attempt ${attempt}/${input.maxAttempts}): another writer moved ${input.branch}; rebasing`);
      let rebased = input.alsoWrite === undefined;
      if (rebased) {
        try {
          await git.rebase([remote]);
        } catch {
          rebased = false;
          await git.rebase(["--abort"]).catch(() => undefined);
        }
      }
      if (rebased) {
        // The remote may already carry the same change: the rebase then drops our commit.
        if ((await git.revparse(["HEAD"])).trim() === (await git.revparse([remote])).trim()) {
          return { commit: (await git.revparse(["HEAD"])).trim(), pushed: false, attempts: attempt, record };
        }
        reverify(dir, record, bumpInput, formats);
        continue;
      }
      input.log(input.alsoWrite ? `re-applying the change on ${remote}` : `rebase onto ${remote} conflicted; re-applying the bump on the new tip`);
      await git.reset(["--hard", remote]);
      checkRealConflicts(dir, record, bumpInput, formats);
      ({ record, written } = await bump(bumpInput));
      also = input.alsoWrite?.(dir) ?? [];
      if (isEmpty(record) && also.length === 0) {
        return { commit: (await git.revparse(["HEAD"])).trim(), pushed: false, attempts: attempt, record };
      }
      await commitChecked(git, commitMessage(record), [...written, ...also]);
    }
    throw gitopsPushFailed(input.maxAttempts, lastError);
  } finally {
    status(null);
    releaseScratch(scratch);
  }
}

/**
 * Adds and commits `files`, then checks the new commit changes every one of them: a change that landed
 * where git does not look (through a link, in an ignored path) would otherwise be pushed as an empty or
 * partial commit and reported as `pushed`, a lost update dressed as success.
 */
async function commitChecked(git: SimpleGit, commitMessage: string, files: string[]): Promise<void> {
  await git.add(["--", ...files]);
  // git exits 1 with "nothing to commit" on stdout when the staged files hold no change: no commit.
  let commit = "";
  try {
    ({ commit } = await git.commit(commitMessage));
  } catch (error) {
    if (!/nothing to commit|nothing added to commit|no changes added to commit/.test(message(error))) throw error;
  }
  const changed = commit ? (await git.raw(["diff-tree", "-r", "-z", "--name-only", "--no-commit-id", "--no-renames", "HEAD"])).split("\0") : [];
  const missing = [...new Set(files)].filter((f) => !changed.includes(f));
  if (missing.length > 0) throw gitopsCommitIncomplete(missing, commit ? (await git.revparse(["HEAD"])).trim() : "");
}

/** The value now at each field we changed, read with the format that changed it. */
function currentValues(dir: string, record: ChangeRecord, input: BumpInput, formats: typeof FORMATS): Array<{ change: ReturnType<typeof flatten>[number]; now: string | undefined }> {
  const cache = new Map<string, string | null>();
  return flatten(record).map((change) => {
    if (!cache.has(change.file)) {
      const path = join(dir, realInside(dir, change.file).real);
      cache.set(change.file, existsSync(path) ? readFileSync(path, "utf8") : null);
    }
    const content = cache.get(change.file);
    if (content === null || content === undefined) return { change, now: undefined };
    const found = formats.get(change.format)?.extract(content, change.file, input.options) ?? [];
    return { change, now: found.find((o) => o.object === change.object && o.field === change.field)?.value };
  });
}

/** After a clean rebase every field we changed must still read as we set it. */
function reverify(dir: string, record: ChangeRecord, input: BumpInput, formats: typeof FORMATS): void {
  for (const { change, now } of currentValues(dir, record, input, formats)) {
    if (now !== change.new) throw gitopsVerifyFailed(change.file, change.object, change.field, change.new, now ?? "(field no longer found)");
  }
}

/** On the remote tip: a field we change that someone set to a third value is a real conflict. */
function checkRealConflicts(dir: string, record: ChangeRecord, input: BumpInput, formats: typeof FORMATS): void {
  for (const { change, now } of currentValues(dir, record, input, formats)) {
    if (now !== undefined && now !== change.old && now !== change.new) throw gitopsConflict(change.file, `${change.object} ${change.field}`, change.new, now);
  }
}
