import { existsSync, statSync } from "node:fs";
import { simpleGit } from "simple-git";
import { COMMIT_SHA } from "./argv.js";
import { baseRefNotFound, gitFailed, shallowHistory, sinceNeedsHistory, sourceNotFound, usageError } from "../errors.js";

/**
 * TruffleHog's `--since-commit`, resolved by us. TruffleHog resolves a name with go-git, not git, in
 * the repository it scans, trying only `REF`, `refs/heads/REF` and `refs/remotes/origin/REF`
 * (trufflesecurity/trufflehog pkg/sources/git/git.go `TryAdditionalBaseRefs`, `normalizeConfig`).
 * Which repository that is depends on the URI and the version: `PrepareRepo` scans a `file://` path in
 * place but clones other URIs to a temporary folder, where the CI's remote-tracking refs (origin/main)
 * do not exist. A full SHA (`plumbing.IsHash`) is looked up as a commit object directly, the same in a
 * clone and in place. So the toolkit, which has git and the same source mounted, turns the ref into
 * the commit with real git first, and says clearly when it cannot (a shallow CI checkout).
 */

/** A git ref that is safe to hand to git as one argument: never an option (no leading '-'), no shell specials. */
const REF = /^(?!-)[A-Za-z0-9._/@{}^~-]{1,200}$/;

/** Checks the shape of a `--since` ref before it reaches git. */
export function checkSinceRef(ref: string, usage: string): void {
  if (!REF.test(ref)) {
    throw usageError(`--since ${JSON.stringify(ref)} is not a git ref (a branch, tag or commit; it must not start with '-')`, usage);
  }
}

/**
 * The full commit SHA that `ref` names in the repository at `sourceDir` (`git rev-parse --verify
 * REF^{commit}`: branches, remote-tracking refs such as origin/main, tags peeled to their commit,
 * abbreviated SHAs). Throws SLIPWAY_BASE_NOT_FOUND (exit 2, hints at fetch-depth 0) when it does not exist.
 */
export async function resolveSinceCommit(sourceDir: string, ref: string, usage: string): Promise<string> {
  checkSinceRef(ref, usage);
  if (!existsSync(sourceDir) || !statSync(sourceDir).isDirectory()) throw sourceNotFound(sourceDir);
  const git = simpleGit({ baseDir: sourceDir });
  let isRepo: boolean;
  try {
    isRepo = await git.checkIsRepo();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // No git binary at all is not the user's repository's fault.
    if (/ENOENT/.test(message)) throw gitFailed("rev-parse", message, error);
    isRepo = false;
  }
  if (!isRepo) throw sinceNeedsHistory(sourceDir);
  let sha: string;
  try {
    sha = (await git.raw(["rev-parse", "--verify", "--quiet", `${ref}^{commit}`])).trim();
  } catch {
    throw baseRefNotFound(ref);
  }
  if (!COMMIT_SHA.test(sha)) throw baseRefNotFound(ref);
  return sha;
}

/**
 * Refuses a whole-history scan of a shallow clone (SLIPWAY_SHALLOW_HISTORY, exit 2). A folder that is not
 * a git repository is left to the scanner (TruffleHog then reports it), and so is a repository git cannot
 * read: only a clone that git itself calls shallow is refused.
 */
export async function assertFullHistory(sourceDir: string): Promise<void> {
  if (!existsSync(sourceDir) || !statSync(sourceDir).isDirectory()) return;
  let shallow: string;
  try {
    shallow = (await simpleGit({ baseDir: sourceDir }).raw(["rev-parse", "--is-shallow-repository"])).trim();
  } catch {
    return;
  }
  if (shallow === "true") throw shallowHistory(sourceDir);
}
