// The plan of `slipway rollback` (issue 12): what it will do across Git, the database and the registry,
// computed before anything is pushed and printed first, so an on-call engineer reads it (with --dry-run,
// only it) before it happens. Pure: the caller reads the ledger and runs the bump in a scratch clone.
import type { ChangeRecord } from "../gitops/record.js";
import { flatten } from "../gitops/record.js";
import type { RollbackPlan } from "./ledger.js";
import type { MigrateSettings } from "../migrate/schema.js";
import type { LedgerEntry, LedgerFile, LedgerImage, MigrationsSummary } from "./schema.js";

export interface PlannedRelease {
  id: string;
  status: LedgerEntry["status"];
  sourceSha: string;
  at: string;
  images: LedgerImage[];
}

/** The migrations one abandoned release applied to one service, newest first, and the image carrying their down(). */
export interface RevertStep {
  release: string;
  /** `IMAGE@DIGEST` recorded with the migrations (`migrated[].image`), else the release's image of the service; null when unknown. */
  image: string | null;
  revert: string[];
}

export interface ServiceRevert {
  /** null: an old ledger entry's single `migrations` summary, which names no service. */
  service: string | null;
  /** Newest release first. */
  steps: RevertStep[];
  /** The newest migration the target release recorded for this service: where the database should end. */
  revertTo: string | null;
  /** The command that reverts them (run with the newest step's image, whose code has every down()). */
  command: string;
  /** What returns first in `dagger call rollback` (slipway.yaml `migrate.services.<name>.rollbackOrder`, default git-first). */
  order: "git-first" | "database-first";
  /** down()s that destroy data or cannot be checked may be reverted: all (true), those named, or none (false, the default). */
  allowDestructiveRevert: boolean | string[];
}

/** environments.<name>.rollback.registry in slipway.yaml (config/environments.ts ROLLBACK_REGISTRY_POLICIES). */
export type RegistryPolicy = "failed-tag" | "lock" | "delete-tags";

export interface RegistryMark {
  release: string;
  image: string;
  digest: string;
  /** failed-<release>: the tag the failed-tag policy puts on it. */
  tag: string;
  policy: RegistryPolicy;
  /** What the policy does to this image, as the plan prints it. */
  action: string;
}

export interface RollbackPlanView {
  environment: string;
  branch: string;
  /** The environment's folder the commit edits ("" for the repository root). */
  path: string;
  /** The branch tip the plan was computed at. */
  at: string;
  target: PlannedRelease;
  /** The target is not verified: `--force` allowed it. */
  forced: boolean;
  /** Newest first; each becomes rolled-back in the same commit. */
  abandoned: PlannedRelease[];
  alreadyAt: boolean;
  /** alreadyAt, and the rollback that got there is unfinished: its pending entry and the releases it abandoned. */
  resume: { entry: string; abandoned: PlannedRelease[] } | null;
  git: {
    /** Manifest lines the commit changes (the bump's change record, computed in a scratch clone). */
    changes: Array<{ file: string; object: string; field: string; old: string; new: string }>;
    ledger: { file: string; rolledBack: string[]; newRelease: string };
  };
  migrations: ServiceRevert[];
  /** Abandoned releases that recorded no migration report: what they applied is unknown. */
  migrationsUnknown: string[];
  /** Tags a later step would put on abandoned images; an image the target also runs is never marked. */
  registry: RegistryMark[];
  /** What this command does not do. */
  notDone: string[];
}

function release(entry: LedgerEntry): PlannedRelease {
  return { id: entry.id, status: entry.status, sourceSha: entry.sourceSha, at: entry.at, images: entry.images };
}

function shortName(image: string): string {
  return image.split("/").pop() ?? image;
}

/** Per service, what an entry recorded; the old single summary names no service. */
function recorded(entry: LedgerEntry): Array<MigrationsSummary & { service: string | null; image?: string }> {
  if (entry.migrated) return entry.migrated;
  return entry.migrations ? [{ ...entry.migrations, service: null }] : [];
}

function headOf(ledger: LedgerFile, target: LedgerEntry, service: string | null): string | null {
  // A restore entry records no migrations: the release it restored does.
  const source = target.migrated || target.migrations || !target.restoredFrom ? target : (ledger.entries.find((e) => e.id === target.restoredFrom) ?? target);
  const found = recorded(source).find((m) => m.service === service) ?? (service !== null ? recorded(source).find((m) => m.service === null) : undefined);
  return found?.head ?? null;
}

function migrationsOf(ledger: LedgerFile, plan: RollbackPlan, settings: MigrateSettings | undefined): { migrations: ServiceRevert[]; unknown: string[] } {
  const byService = new Map<string | null, RevertStep[]>();
  const unknown: string[] = [];
  for (const entry of plan.abandoned) {
    const summaries = recorded(entry);
    if (summaries.length === 0) unknown.push(entry.id);
    for (const m of summaries) {
      if (m.applied.length === 0) continue;
      const own = m.service === null ? undefined : entry.images.find((i) => shortName(i.image) === m.service);
      const image = m.image ?? (own ? `${own.image}@${own.digest}` : null);
      byService.set(m.service, [...(byService.get(m.service) ?? []), { release: entry.id, image, revert: [...m.applied].reverse() }]);
    }
  }
  const migrations = [...byService].map(([service, steps]) => {
    const revertTo = headOf(ledger, plan.target, service);
    const count = steps.reduce((n, s) => n + s.revert.length, 0);
    const command = `slipway migrate revert ${service === null ? "(--service NAME | --data-source PATH)" : `--service ${service}`} ${revertTo ? `--to ${revertTo}` : `--count ${count}`}`;
    const own = service === null ? undefined : settings?.services?.[service];
    const order = own?.rollbackOrder ?? settings?.rollbackOrder ?? "git-first";
    const allowDestructiveRevert = own?.allowDestructiveRevert ?? settings?.allowDestructiveRevert ?? false;
    return { service, steps, revertTo, command, order, allowDestructiveRevert };
  });
  return { migrations, unknown };
}

function policyAction(policy: RegistryPolicy, image: string, digest: string, tag: string): string {
  if (policy === "lock") return `lock ${image}@${digest} (writeEnabled and deleteEnabled false: nobody overwrites or deletes it)`;
  if (policy === "delete-tags") return `delete the mutable tags of ${image}@${digest} (latest, branch-*, extra; sha-<12>, semver and failed-<id> stay; still pullable by digest)`;
  return `${image}:${tag} -> ${digest}`;
}

function registryOf(plan: RollbackPlan, policy: RegistryPolicy): RegistryMark[] {
  const kept = new Set(plan.target.images.map((i) => i.digest));
  const marks: RegistryMark[] = [];
  for (const entry of plan.abandoned) {
    for (const i of entry.images) {
      // The restored release runs these bytes again: marking, locking or untagging them would be wrong.
      if (kept.has(i.digest)) continue;
      const tag = `failed-${entry.id}`;
      marks.push({ release: entry.id, image: i.image, digest: i.digest, tag, policy, action: policyAction(policy, i.image, i.digest, tag) });
    }
  }
  return marks;
}

export const NOT_DONE = [
  "database: migrations are not reverted (`dagger call rollback --source . --database-urls ...` reverts them with the image named)",
  "registry: no tag is marked",
  "reconcile: Flux/Argo CD is not asked to reconcile; it applies the commit at its next interval (`dagger call rollback --kubeconfig ...` asks Flux to reconcile, Argo CD to refresh)",
  "verify: the restored release is not checked; it stays pending until you mark it (`dagger call rollback --kubeconfig ...` verifies and marks it)",
] as const;

export function describeRollback(input: {
  environment: string;
  branch: string;
  path: string;
  head: string;
  ledger: LedgerFile;
  ledgerFile: string;
  plan: RollbackPlan;
  record: ChangeRecord | null;
  /** What the registry step does to abandoned images (default failed-tag). */
  registryPolicy?: RegistryPolicy;
  /** slipway.yaml `migrate:` (rollbackOrder, allowDestructiveRevert per service). */
  migrate?: MigrateSettings;
}): RollbackPlanView {
  const { plan, ledger } = input;
  // Resuming: what is left to undo is what the unfinished rollback abandoned.
  const undo = plan.resume ? { ...plan, abandoned: plan.resume.abandoned } : plan;
  const { migrations, unknown } = migrationsOf(ledger, undo, input.migrate);
  return {
    environment: input.environment,
    branch: input.branch,
    path: input.path,
    at: input.head,
    target: release(plan.target),
    forced: plan.forced,
    abandoned: plan.abandoned.map(release),
    alreadyAt: plan.alreadyAt,
    resume: plan.resume ? { entry: plan.resume.entry.id, abandoned: plan.resume.abandoned.map(release) } : null,
    git: {
      changes: input.record ? flatten(input.record).map((c) => ({ file: c.file, object: c.object, field: c.field, old: c.old, new: c.new })) : [],
      ledger: { file: input.ledgerFile, rolledBack: plan.abandoned.map((e) => e.id), newRelease: String(Number(plan.newest.id) + 1) },
    },
    migrations,
    migrationsUnknown: unknown,
    registry: registryOf(undo, input.registryPolicy ?? "failed-tag"),
    notDone: [...NOT_DONE],
  };
}

function releaseLine(r: PlannedRelease): string {
  return `release ${r.id} (${r.status}, recorded ${r.at}, source ${r.sourceSha.slice(0, 12)})`;
}

/**
 * How `dagger call rollback` treats one service's revert: which returns first, and the down() check. The
 * down() SQL is only known by running it (the abandoned image's code against the database), so the plan
 * names the check rather than its result; the Dagger function runs it before anything is written.
 */
function revertPolicyLines(s: ServiceRevert, indent: string): string[] {
  const allowed = s.allowDestructiveRevert === true ? "all allowed" : s.allowDestructiveRevert === false ? "none allowed" : `allowed: ${s.allowDestructiveRevert.join(", ")}`;
  return [
    `${indent}order: ${s.order === "git-first" ? "Git first, then this database (default)" : "this database FIRST, before the Git commit (rollbackOrder: database-first)"}`,
    `${indent}down() check: each down() is tried in a rolled-back transaction first; one that drops or empties a table or column holding data, or is missing, empty or failing, stops the revert before anything is reverted (allowDestructiveRevert: ${allowed}); see it with the image's \`${s.command} --dry-run\``,
  ];
}

/** The plan as an on-call engineer reads it: what returns, what is abandoned, then Git, database, registry. */
export function renderRollbackPlan(view: RollbackPlanView, dryRun: boolean): string {
  const lines: string[] = [];
  const folder = view.path === "" ? "the repository root" : view.path;
  lines.push(`ROLLBACK PLAN for ${view.environment} (ledger read at ${view.at.slice(0, 12)} on ${view.branch})`, "");
  if (view.forced) {
    lines.push(
      `!!! FORCED: release ${view.target.id} is ${view.target.status}, it was NEVER VERIFIED as it is now. You asked for it with --force.`,
      "!!! Nothing proves these images run well in this environment: watch the rollout closely.",
      "",
    );
  }
  lines.push(`Return to   ${releaseLine(view.target)}`);
  for (const i of view.target.images) lines.push(`              ${i.image}:${i.tag}@${i.digest}`);
  if (view.alreadyAt && view.resume) {
    const ids = view.resume.abandoned.map((r) => r.id);
    lines.push(
      "",
      `UNFINISHED ROLLBACK: release ${view.resume.entry} (pending) already restores release ${view.target.id} in Git${ids.length ? `; it abandoned release${ids.length === 1 ? "" : "s"} ${ids.join(", ")}` : ""}.`,
      "Git is done (no new commit). Left to do:",
    );
    for (const s of view.migrations) {
      for (const step of s.steps) lines.push(`  database: ${s.service ?? "(service not recorded)"}: release ${step.release} applied ${step.revert.join(", ")}  (down() in ${step.image ?? "an image not recorded"})`);
      lines.push(`    run: ${s.command}   (idempotent: what is already reverted stays so)`);
    }
    for (const id of view.migrationsUnknown) lines.push(`  database: release ${id} recorded no migration report: check its database by hand (slipway migrate status)`);
    lines.push(
      `  verify: check that release ${view.target.id}'s images are running, then: slipway ledger mark --env ${view.environment} --id ${view.resume.entry} --status verified   (or failed)`,
      "  (`dagger call rollback --source . --kubeconfig ... --database-urls ...` does both.)",
    );
    return `${lines.join("\n")}\n`;
  }
  if (view.alreadyAt) {
    lines.push("", `Nothing to do: already at release ${view.target.id}; the newest ${view.environment} release runs its images. No commit, nothing abandoned.`);
    return `${lines.join("\n")}\n`;
  }
  if (view.abandoned.length === 0) lines.push("Abandon     nothing");
  view.abandoned.forEach((r, n) => lines.push(`${n === 0 ? "Abandon    " : "           "} ${releaseLine(r)} -> rolled-back`));
  lines.push("");

  lines.push(`1. Git: one new commit on ${view.branch} (never a force-push), editing ${folder} only`);
  let file = "";
  for (const c of view.git.changes) {
    if (c.file !== file) lines.push(`     ${c.file}`);
    file = c.file;
    lines.push(`       ${c.object} ${c.field}:`, `         - ${c.old}`, `         + ${c.new}`);
  }
  if (view.git.changes.length === 0) lines.push("     no manifest line changes (the folder already has these images)");
  const rolled = view.git.ledger.rolledBack;
  lines.push(
    `     ${view.git.ledger.file}`,
    `       ${rolled.length > 0 ? `release${rolled.length === 1 ? "" : "s"} ${rolled.join(", ")} -> rolled-back; ` : ""}new release ${view.git.ledger.newRelease} (pending) restores release ${view.target.id}`,
  );

  lines.push("", "2. Database: migrations to revert, newest first (NOT done by this command)");
  for (const s of view.migrations) {
    const name = s.service ?? "(service not recorded)";
    for (const step of s.steps) lines.push(`     ${name}: release ${step.release} applied ${step.revert.join(", ")}  (down() in ${step.image ?? "an image not recorded"})`);
    lines.push(`       ${s.revertTo ? `then ${name} is back at ${s.revertTo}, release ${view.target.id}'s newest` : `release ${view.target.id} recorded no migration head for ${name}: check the count`}`);
    lines.push(`       run: ${s.command}   (with the code of ${s.steps[0]?.image ?? "the newest abandoned release"})`);
    lines.push(...revertPolicyLines(s, "       "));
  }
  for (const id of view.migrationsUnknown) lines.push(`     release ${id} recorded no migration report: check its database by hand (slipway migrate status)`);
  if (view.migrations.length === 0 && view.migrationsUnknown.length === 0) lines.push("     none: the abandoned releases applied no migrations");

  lines.push("", `3. Registry: what a later step does to abandoned images, policy ${view.registry[0]?.policy ?? "failed-tag"} (NOT done by this command)`);
  for (const m of view.registry) lines.push(`     ${m.action}`);
  if (view.registry.length === 0) lines.push("     none: the abandoned releases run no image the target does not");

  lines.push(
    "",
    `4. Afterwards: check that release ${view.target.id}'s images are running, then mark the new release:`,
    `     slipway ledger mark --env ${view.environment} --id ${view.git.ledger.newRelease} --status verified   (or failed)`,
    "",
    "Not done by this command:",
    ...view.notDone.map((n) => `  - ${n}`),
  );
  if (dryRun) lines.push("", "DRY RUN: nothing was pushed. Run the same command without --dry-run to make the commit (step 1).");
  return `${lines.join("\n")}\n`;
}
