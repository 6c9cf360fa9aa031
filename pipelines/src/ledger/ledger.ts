import { ledgerEntryNotFound, ledgerInvalid, ledgerMoved, ledgerNotVerified, ledgerNothingVerified, ledgerTransitionInvalid, releaseGateFailed } from "../errors.js";
import type { Paint } from "../cli/style.js";
import { plain, table, verdict } from "../cli/style.js";
import type { LedgerEntry, LedgerFile, LedgerImage, LedgerStatus } from "./schema.js";
import { LedgerFile as LedgerFileSchema } from "./schema.js";

// ledgerPath and DEFAULT_KEEP live in ./path.ts, which loads no zod: release/environment.ts (and with it
// the gitops and ledger commands' modules) needs the path, not the schema (issue 16, start-up).
export { DEFAULT_KEEP, ledgerPath } from "./path.js";

export function emptyLedger(environment: string): LedgerFile {
  return { version: 1, environment, entries: [] };
}

function issuePath(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>((out, key) => (typeof key === "number" ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)), "") || "(root)";
}

/**
 * Parses a ledger; `null` content (no file yet) is an empty ledger. Anything else that does not parse is
 * an error naming the file and every bad field: a ledger is never silently reset.
 */
export function parseLedger(content: string | null, file: string, environment: string): LedgerFile {
  if (content === null) return emptyLedger(environment);
  let raw: unknown;
  try {
    raw = JSON.parse(content);
  } catch (error) {
    throw ledgerInvalid(file, [`not JSON: ${error instanceof Error ? error.message : String(error)}`]);
  }
  const parsed = LedgerFileSchema.safeParse(raw);
  if (!parsed.success) throw ledgerInvalid(file, parsed.error.issues.map((i) => `${issuePath(i.path)}: ${i.message}`));
  if (parsed.data.environment !== environment) {
    throw ledgerInvalid(file, [`environment: ${JSON.stringify(parsed.data.environment)} in a file named for ${JSON.stringify(environment)}`]);
  }
  return parsed.data;
}

/** Stable, diff-friendly text: one key order, two-space indent, trailing newline. */
export function renderLedger(ledger: LedgerFile): string {
  return `${JSON.stringify(ledger, null, 2)}\n`;
}

export type NewEntry = Omit<LedgerEntry, "id" | "at">;

/** Appends an entry with the next id, keeping the newest `keep`. Returns the new ledger and entry. */
export function appendEntry(ledger: LedgerFile, entry: NewEntry, keep: number, now: Date): { ledger: LedgerFile; entry: LedgerEntry } {
  const last = ledger.entries.at(-1);
  const id = String(last ? Number(last.id) + 1 : 1);
  const at = now.toISOString();
  const added: LedgerEntry = { id, ...entry, at, history: [{ status: entry.status, at }] };
  return { ledger: { ...ledger, entries: [...ledger.entries, added].slice(-keep) }, entry: added };
}

export function findEntry(ledger: LedgerFile, id: string): LedgerEntry {
  const entry = ledger.entries.find((e) => e.id === id);
  if (!entry) throw ledgerEntryNotFound(ledger.environment, id, ledger.entries.map((e) => e.id));
  return entry;
}

/**
 * A release's life cycle: pending until its rollout is checked, then verified or failed; rolled-back when
 * a rollback abandons it, which is final. A release that failed, or was rolled back, never becomes
 * verified again: rollback returns to verified releases, and must not return to one that did not hold.
 * pending -> rolled-back is allowed too: a rollback may abandon a release whose check never finished
 * (a crashed pipeline, or a restored release that did not come up).
 */
export const TRANSITIONS: Readonly<Record<LedgerStatus, readonly LedgerStatus[]>> = {
  pending: ["verified", "failed", "rolled-back"],
  verified: ["rolled-back"],
  failed: ["rolled-back"],
  "rolled-back": [],
};

/**
 * Sets a release's status along TRANSITIONS, adding the change to its history; the status it already has
 * is a no-op (a retried `mark`). A release whose security gate failed never becomes verified.
 */
export function setStatus(ledger: LedgerFile, id: string, status: LedgerStatus, now: Date = new Date()): LedgerFile {
  const entry = findEntry(ledger, id);
  const current = entry.status;
  if (current === status) return ledger;
  if (!TRANSITIONS[current].includes(status)) throw ledgerTransitionInvalid(ledger.environment, id, current, status, TRANSITIONS[current]);
  if (status === "verified" && entry.scan?.passed === false) throw releaseGateFailed(ledger.environment, id);
  // An entry of an old ledger has no history: start it with the status it had when it was recorded.
  const history = [...(entry.history ?? [{ status: current, at: entry.at }]), { status, at: now.toISOString() }];
  return { ...ledger, entries: ledger.entries.map((e) => (e.id === id ? { ...e, status, history } : e)) };
}

function imageKey(images: LedgerImage[]): string {
  return images
    .map((i) => `${i.image}=${i.tag}@${i.digest}`)
    .sort()
    .join("\n");
}

export interface RollbackPlan {
  /** The release to return to. */
  target: LedgerEntry;
  /**
   * Every release newer than the target that is not rolled-back already, newest first: each becomes
   * rolled-back in the rollback's commit (a `--to` two releases back abandons both).
   */
  abandoned: LedgerEntry[];
  /** The newest entry when the plan was made: the rollback is applied only while it still is the newest. */
  newest: LedgerEntry;
  /** The newest entry already runs the target's images: nothing to do. */
  alreadyAt: boolean;
  /** The target is not verified and `--force` allowed it anyway. */
  forced: boolean;
  /**
   * With alreadyAt: a rollback whose commit is made but whose restored entry is still pending (it stopped
   * after Git, or its verification could not tell). Its entry, and the releases that commit abandoned
   * (newest first), whose migrations a resumed rollback still reverts (`migrate revert --to` is idempotent).
   */
  resume?: { entry: LedgerEntry; abandoned: LedgerEntry[] };
}

/**
 * Default: the newest verified entry older than the newest entry; `to` picks one, which must be verified
 * unless `force` (an on-call decision the plan then states loudly).
 */
export function planRollback(ledger: LedgerFile, to?: string, force = false): RollbackPlan {
  const newest = ledger.entries.at(-1);
  if (!newest) throw ledgerNothingVerified(ledger.environment, 0);
  let target: LedgerEntry | undefined;
  if (to !== undefined) {
    target = findEntry(ledger, to);
    if (target.status !== "verified" && !force) throw ledgerNotVerified(ledger.environment, to, target.status, true);
  } else {
    target = ledger.entries.slice(0, -1).findLast((e) => e.status === "verified");
    if (!target) throw ledgerNothingVerified(ledger.environment, ledger.entries.length);
  }
  // Already there (a repeated rollback): nothing is committed, so nothing is abandoned either.
  const alreadyAt = imageKey(target.images) === imageKey(newest.images);
  const abandoned = alreadyAt
    ? []
    : ledger.entries
        .slice(ledger.entries.indexOf(target) + 1)
        .filter((e) => e.status !== "rolled-back")
        .reverse();
  const forced = target.status !== "verified";
  if (alreadyAt && newest.status === "pending" && newest.restoredFrom !== undefined) {
    // One rollback commit gives the abandoned releases' rolled-back and the new entry the same time.
    const byIt = ledger.entries.filter((e) => e.status === "rolled-back" && e.history?.some((h) => h.status === "rolled-back" && h.at === newest.at)).reverse();
    return { target, abandoned, newest, alreadyAt, forced, resume: { entry: newest, abandoned: byIt } };
  }
  return { target, abandoned, newest, alreadyAt, forced };
}

/**
 * The ledger side of a rollback, applied to the ledger as it is on the branch tip (again after each
 * rejected push): every abandoned release becomes rolled-back and a new pending entry records the restored
 * images; pending until `rollout verify` passes and the caller marks it verified.
 */
export function applyRollback(ledger: LedgerFile, plan: RollbackPlan, keep: number, now: Date): { ledger: LedgerFile; entry: LedgerEntry } {
  const newest = ledger.entries.at(-1);
  if (newest?.id !== plan.newest.id) throw ledgerMoved(ledger.environment, plan.newest.id, newest?.id ?? "(none)");
  // Oldest first, so the history reads in the order the releases were made; a release a concurrent writer
  // marked rolled-back meanwhile is a no-op, one trimmed out of the ledger (keep) is skipped.
  const marked = [...plan.abandoned]
    .reverse()
    .filter((a) => ledger.entries.some((e) => e.id === a.id))
    .reduce((l, a) => setStatus(l, a.id, "rolled-back", now), ledger);
  const { target } = plan;
  return appendEntry(
    marked,
    {
      sourceSha: target.sourceSha,
      images: target.images,
      ...(target.path !== undefined ? { path: target.path } : {}),
      ...(target.scan ? { scan: target.scan } : {}),
      status: "pending",
      restoredFrom: target.id,
    },
    keep,
    now,
  );
}

/** `slipway ledger show` text: one line per release, newest last. */
/** `slipway ledger show`: one row per release, newest last, the status coloured on a terminal (issue 16). */
export function renderEntries(ledger: LedgerFile, paint: Paint = plain): string {
  if (ledger.entries.length === 0) return `${ledger.environment}: no releases recorded\n`;
  const rows = ledger.entries.map((e) => {
    const images = e.images.map((i) => `${i.image.split("/").pop() ?? i.image}:${i.tag}`).join(", ");
    const migrated = [...(e.migrations?.applied ?? []), ...(e.migrated ?? []).flatMap((m) => m.applied)];
    const notes = [
      e.restoredFrom ? `restores ${e.restoredFrom}` : "",
      e.promotedFrom ? `promoted from ${e.promotedFrom.environment} ${e.promotedFrom.id}` : "",
      migrated.length ? `migrations ${migrated.join(", ")}` : "",
    ].filter(Boolean);
    return [e.id, e.status, e.at, e.sourceSha.slice(0, 12), images, notes.join("; ")];
  });
  return table(["ID", "STATUS", "RECORDED", "SOURCE", "IMAGES", "NOTES"], rows, (column, cell, padded) => (column === 1 ? verdict(paint, cell, padded) : padded));
}
