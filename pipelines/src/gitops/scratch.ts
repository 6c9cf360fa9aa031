import { setMaxListeners } from "node:events";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Prefixes of the scratch folders (clone, askpass helper) that GitOps and ledger commands make in TMPDIR. */
export const SCRATCH_PREFIXES = ["slipway-gitops-", "slipway-ledger-"] as const;
export type ScratchPrefix = (typeof SCRATCH_PREFIXES)[number];

/** The file in each scratch folder that names the process owning it. */
export const OWNER_FILE = "owner.pid";
/** A scratch folder older than this whose owner is gone is left over from a killed run. */
export const STALE_AFTER_MS = 60 * 60 * 1000;

const live = new Set<string>();
// Aborting kills the git processes simple-git started (its abort plugin sends them SIGINT), so a killed run
// leaves no git behind, e.g. one waiting forever on a server that never answers.
const children = new AbortController();
// One listener per running git process; many run at once in concurrent pushes.
setMaxListeners(0, children.signal);
const EXIT_BY_SIGNAL = { SIGINT: 130, SIGTERM: 143 } as const;

/** The signal that stops every git process of this run; pass it to simple-git as `abort`. */
export function gitAbortSignal(): AbortSignal {
  return children.signal;
}

function remove(dir: string): void {
  rmSync(dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 50 });
}

function onSignal(signal: NodeJS.Signals): void {
  children.abort();
  for (const dir of live) {
    try {
      remove(dir);
    } catch {
      // Best effort: the next run removes what is left (its owner is gone then).
    }
  }
  process.exit(EXIT_BY_SIGNAL[signal as keyof typeof EXIT_BY_SIGNAL] ?? 1);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but is someone else's.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function ownerOf(dir: string): number | null {
  try {
    const pid = Number(readFileSync(join(dir, OWNER_FILE), "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/**
 * Removes scratch folders that runs killed with SIGKILL (or a crashed machine) left in `base`: older than
 * STALE_AFTER_MS and owned by no live process. A young folder may still be being set up, and an old one
 * whose owner lives belongs to a long run; both are kept. Returns the folders removed.
 */
export function removeStaleScratch(base: string = tmpdir(), now: number = Date.now()): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(base);
  } catch {
    return removed;
  }
  for (const name of names) {
    if (!SCRATCH_PREFIXES.some((p) => name.startsWith(p))) continue;
    const dir = join(base, name);
    try {
      const stat = statSync(dir);
      if (!stat.isDirectory() || now - stat.mtimeMs < STALE_AFTER_MS) continue;
      const owner = ownerOf(dir);
      if (owner !== null && isAlive(owner)) continue;
      remove(dir);
      removed.push(dir);
    } catch {
      // Another run removed it first, or it is not ours to remove: leave it.
    }
  }
  return removed;
}

/**
 * A scratch folder in TMPDIR for one command: stale ones from killed runs are removed first; this one
 * records its owner pid and, until `releaseScratch`, is removed on SIGINT/SIGTERM (the process then exits
 * with 130/143, as a shell reports a run stopped by that signal).
 */
export function makeScratch(prefix: ScratchPrefix): string {
  removeStaleScratch();
  const dir = mkdtempSync(join(tmpdir(), prefix));
  writeFileSync(join(dir, OWNER_FILE), `${process.pid}\n`);
  if (live.size === 0) {
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  }
  live.add(dir);
  return dir;
}

/** Removes a scratch folder made by `makeScratch`; the signal handlers go once no scratch folder is left. */
export function releaseScratch(dir: string): void {
  remove(dir);
  if (!live.delete(dir) || live.size > 0) return;
  process.off("SIGINT", onSignal);
  process.off("SIGTERM", onSignal);
}
