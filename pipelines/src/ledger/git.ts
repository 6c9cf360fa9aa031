import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { gitopsBranchNotFound, isSlipwayError } from "../errors.js";
import type { CommitPushInput, CommitPushResult } from "../gitops/git.js";
import { client, cloneSource, commitPush, gitEnvironment, maskSecrets, withGitDeadline } from "../gitops/git.js";
import type { PushTarget } from "../gitops/commands.js";
import { realInside } from "../gitops/paths.js";
import { makeScratch, releaseScratch } from "../gitops/scratch.js";
import { parseLedger, renderLedger } from "./ledger.js";
import type { LedgerFile } from "./schema.js";

/**
 * The ledger's real repo-relative path: a link on the way that leaves the repository (`.slipway -> /tmp`,
 * `prod.json -> /etc/passwd`) is refused before anything is read through it or written.
 */
function realLedgerPath(dir: string, file: string): string {
  return realInside(dir, file).real;
}

function readAt(dir: string, file: string, environment: string): LedgerFile {
  const path = join(dir, realLedgerPath(dir, file));
  return parseLedger(existsSync(path) ? readFileSync(path, "utf8") : null, file, environment);
}

/**
 * Shallow-clones the branch (same credentials and environment as commit-push), reads the ledger at its tip
 * and hands the clone to `use` (e.g. a dry-run bump for a rollback plan); the clone is removed afterwards.
 */
export async function inLedgerClone<T>(
  target: PushTarget,
  file: string,
  environment: string,
  use: (clone: { dir: string; ledger: LedgerFile; head: string }) => Promise<T>,
): Promise<T> {
  const scratch = makeScratch("slipway-ledger-");
  const dir = join(scratch, "repo");
  try {
    const { env, allow } = gitEnvironment(target.auth, scratch);
    try {
      const source = cloneSource(target.repo, process.cwd());
      await withGitDeadline("clone", target.repo, (deadline) =>
        client(scratch, env, allow, undefined, deadline).clone(source, dir, ["--depth", "1", "--branch", target.branch, "--single-branch", "--no-tags"]),
      );
    } catch (error) {
      if (isSlipwayError(error)) throw error;
      throw gitopsBranchNotFound(target.repo, target.branch, maskSecrets(error instanceof Error ? error.message : String(error), [target.auth.token]));
    }
    const head = (await client(dir, env, allow).revparse(["HEAD"])).trim();
    return await use({ dir, ledger: readAt(dir, file, environment), head });
  } finally {
    releaseScratch(scratch);
  }
}

/** The ledger at the branch tip, and that commit. */
export async function readLedger(target: PushTarget, file: string, environment: string): Promise<{ ledger: LedgerFile; head: string }> {
  return inLedgerClone(target, file, environment, async ({ ledger, head }) => ({ ledger, head }));
}

/**
 * Every environment's ledger at the branch tip (`.slipway/ledger/*.json`), each parsed and checked like the
 * others are (a file that does not parse is SLIPWAY_LEDGER_INVALID, a link out of the repository refused):
 * what `acr prune` must read completely before it may delete anything.
 */
export async function readAllLedgers(target: PushTarget): Promise<{ ledgers: LedgerFile[]; head: string }> {
  return inLedgerClone(target, ".slipway/ledger/.none.json", "none", async ({ dir, head }) => {
    const folder = join(dir, realLedgerPath(dir, ".slipway/ledger"));
    if (!existsSync(folder) || !statSync(folder).isDirectory()) return { ledgers: [], head };
    const names = readdirSync(folder).filter((name) => name.endsWith(".json")).sort();
    return { ledgers: names.map((name) => readAt(dir, `.slipway/ledger/${name}`, name.slice(0, -".json".length))), head };
  });
}

export type LedgerChange<T> = (ledger: LedgerFile) => { ledger: LedgerFile; result: T };

/**
 * One commit that changes the ledger (and, for a rollback, the manifests through the bump in `push`),
 * pushed by gitops commitPush: same fetch/retry and credentials. `change` runs on the ledger at the
 * branch tip, again after every rejected push, so concurrent writers never lose an entry. Returns what
 * the last successful `change` returned.
 */
export async function changeLedger<T>(
  push: Omit<CommitPushInput, "alsoWrite">,
  file: string,
  environment: string,
  change: LedgerChange<T>,
): Promise<{ push: CommitPushResult; result: T }> {
  let result: T | undefined;
  const pushed = await commitPush({
    ...push,
    alsoWrite: (dir) => {
      const before = readAt(dir, file, environment);
      const after = change(before);
      result = after.result;
      const text = renderLedger(after.ledger);
      // A link inside the repository is written at its real path, which is what git commits.
      const real = realLedgerPath(dir, file);
      const path = join(dir, real);
      if (existsSync(path) && readFileSync(path, "utf8") === text) return [];
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, text);
      return [real];
    },
  });
  return { push: pushed, result: result as T };
}
