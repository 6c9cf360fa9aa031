// The on-demand `rollback` across Git, the database and the cluster (issue 12): the CLI plans (which release
// returns, which are abandoned, which migrations each applied and the image carrying their down()), then
// ONE Git commit restores the target and marks the abandoned releases rolled-back, then the migrations the
// abandoned releases applied are reverted with the newest abandoned image's own code, then the restored
// release is verified and marked. Every decision is the CLI's; this file orders the steps and says what
// was done and what was not.
//
// Order rule (README "Rolling back"): Git first, then the database. The restored (older) code must run on
// the newer schema for the minutes between the two, which expand-then-contract migrations guarantee; the
// other order would run the abandoned code on a schema it has never seen, which nothing guarantees.
import { dag } from "@dagger.io/dagger";
import type { Container, Directory, Secret } from "@dagger.io/dagger";

import { cliFailure, isRecord, namesIn, optional, parseCliJson } from "./cli.js";
import { fresh, runCommand, SRC } from "./exec.js";
import { verifyOutcome } from "./release.js";
import { DATABASE_URLS_FILE, envMarkCommand, parseEnvRollback, rolloutOf } from "./release-flow.js";
import type { ResolvedEnvironment } from "./release-flow.js";
import type { RolloutInput } from "./release-cli.js";

/** `plan.migrations[]` of `slipway rollback --json` (pipelines/src/ledger/rollback.ts ServiceRevert). */
export type ServiceRevert = {
  service: string | null;
  steps: Array<{ release: string; image: string | null; revert: string[] }>;
  revertTo: string | null;
  /** slipway.yaml `migrate.services.<name>.rollbackOrder` (absent from an older CLI's plan: git-first). */
  order?: "git-first" | "database-first";
};

export type RollbackPlanJson = {
  alreadyAt: boolean;
  plan: {
    target: { id: string; status: string; images: Array<{ image: string; tag: string; digest: string }> };
    /** The branch tip the plan was read at. */
    at: string;
    /** alreadyAt, and the rollback that got there stopped before it was verified (pipelines/src/ledger/ledger.ts). */
    resume: { entry: string; abandoned: Array<{ id: string }> } | null;
    abandoned: Array<{ id: string }>;
    migrations: ServiceRevert[];
    migrationsUnknown: string[];
    /** policy: environments.<name>.rollback.registry (absent from an older CLI: failed-tag). */
    registry: Array<{ image: string; tag: string; digest: string; release?: string; policy?: string }>;
  };
};

export type RollbackRequest = { environment: string; to?: string; force: boolean };

export function rollbackCliCommand(request: RollbackRequest, dryRun: boolean): string[] {
  return [
    "slipway", "rollback", "--env", request.environment,
    ...optional("--to", request.to),
    ...(request.force ? ["--force"] : []),
    ...(dryRun ? ["--dry-run"] : []),
    "--json",
  ];
}

export function parseRollbackPlan(command: string[], text: string): RollbackPlanJson {
  return parseCliJson<RollbackPlanJson>(command, text, (raw) => {
    const problems: string[] = [];
    if (typeof raw.alreadyAt !== "boolean") problems.push("alreadyAt: expected a boolean");
    const plan = raw.plan;
    if (!isRecord(plan) || !isRecord(plan.target) || !Array.isArray(plan.abandoned) || !Array.isArray(plan.migrations) || !Array.isArray(plan.migrationsUnknown)) {
      problems.push("plan: expected { target, abandoned, migrations, migrationsUnknown, registry }");
    }
    return problems;
  });
}

/** One database revert: the service, the image whose code reverts, and the CLI's arguments. */
export type RevertJob = { service: string; image: string; releases: string[]; migrations: string[]; args: string[]; order: "git-first" | "database-first" };

/**
 * Where the repository's slipway.yaml is mounted (read-only) in the abandoned image for the revert: its
 * `migrate:` settings apply there as on the host (allowDestructiveRevert, transaction, lockTimeout).
 */
export const REVERT_CONFIG = "/opt/slipway-config/slipway.yaml";

/**
 * The reverts the plan asks for, or why they cannot be done (checked before anything is written): a
 * migration report nobody recorded, a service or image the ledger does not name, a service whose
 * DataSource the environment does not declare.
 */
export function revertJobs(plan: RollbackPlanJson["plan"], env: ResolvedEnvironment, options: { allowDestructiveRevert?: boolean } = {}): { jobs: RevertJob[]; problems: string[] } {
  const problems: string[] = [];
  for (const id of plan.migrationsUnknown) problems.push(`release ${id} recorded no migration report: what it applied is unknown (check with \`slipway migrate status\`)`);
  const jobs: RevertJob[] = [];
  for (const m of plan.migrations) {
    const newest = m.steps[0];
    if (!newest) continue;
    const migrations = m.steps.flatMap((s) => s.revert);
    if (m.service === null) {
      problems.push(`releases ${m.steps.map((s) => s.release).join(", ")} applied ${migrations.join(", ")} without naming the service (an old ledger entry)`);
      continue;
    }
    if (newest.image === null) {
      problems.push(`${m.service}: the ledger names no image for release ${newest.release}, whose code carries the down() of ${migrations.join(", ")}`);
      continue;
    }
    const declared = env.migrate.find((d) => d.service === m.service);
    const count = migrations.length;
    jobs.push({
      service: m.service,
      image: newest.image,
      releases: m.steps.map((s) => s.release),
      migrations,
      args: [
        "migrate", "revert", "--service", m.service,
        // Resolved from the image's working directory (README "Rolling back"): as slipway.yaml names it, else the service's compiled default.
        "--data-source", declared?.dataSource ?? "dist/data-source.js",
        ...(m.revertTo ? ["--to", m.revertTo] : ["--count", String(count)]),
        "--config", REVERT_CONFIG,
        ...(options.allowDestructiveRevert ? ["--allow-destructive-revert"] : []),
        "--json",
      ],
      order: m.order ?? "git-first",
    });
  }
  return { jobs, problems };
}

export type RollbackRunInput = {
  env: ResolvedEnvironment;
  request: RollbackRequest;
  /** The toolkit with the source mounted at SRC and the GitOps token. */
  cli: Container;
  toolkit: Container;
  source: Directory;
  kubeconfig?: Secret;
  kubeIdentity: (ctr: Container) => Container;
  databaseUrls?: Secret;
  /** Registry credentials for pulling the abandoned images (ACR), applied before `from`. */
  pullAuth: (ctr: Container) => Promise<Container>;
  /** Restore Git and the ledger only; the plan's migrations stay applied (the report says so). */
  gitOnly: boolean;
  /** The toolkit with the registry identity and the source mounted (slipway.yaml): runs `slipway acr mark`. */
  registryCli: Container;
  /** Revert down()s that destroy data or cannot be checked (`migrate revert --allow-destructive-revert`). */
  allowDestructiveRevert?: boolean;
  /** The GitOps controller is down: set the restored images in the Deployments directly, then verify (no wait for the controller). */
  kubectlUndo?: boolean;
};

/** `restored`: the release returned to, its images (IMAGE=TAG@DIGEST), the GitOps commit and the ledger entry that restores it (for the rollback's notification). */
export type RollbackOutcome = { ok: boolean; report: string; diagnostics: Directory; restored?: { id: string; images: string[]; commit: string; entry: string } };

/** Where the toolkit keeps the CLI; mounted read-only into the abandoned image for the revert. */
const TOOLKIT_CLI = "/opt/slipway";

export async function runRollback(input: RollbackRunInput): Promise<RollbackOutcome> {
  const { env, request } = input;
  const lines: string[] = [];
  let ok = true;
  let diagnostics = dag.directory();
  const setsOf = (images: Array<{ image: string; tag: string; digest: string }>) => images.map((i) => `${i.image}=${i.tag}@${i.digest}`);

  // 1. The plan, computed at the branch tip; nothing is written if a step could not be done.
  const planCommand = rollbackCliCommand(request, true);
  const planned = await runCommand(fresh(input.cli), planCommand);
  if (planned.run.exitCode !== 0) throw cliFailure(planCommand, planned.run);
  const { alreadyAt, plan } = parseRollbackPlan(planCommand, planned.run.stdout);
  if (alreadyAt && !plan.resume) {
    return { ok: true, report: `rollback of ${env.name}: nothing to do, already at release ${plan.target.id}\n`, diagnostics, restored: { id: plan.target.id, images: setsOf(plan.target.images ?? []), commit: "", entry: "" } };
  }
  const before = revertJobs(plan, env, { allowDestructiveRevert: input.allowDestructiveRevert === true });
  if (!input.gitOnly) {
    const { jobs, problems } = before;
    if (problems.length > 0) {
      throw new Error(`SLIPWAY_ROLLBACK_DATABASE: the database cannot be returned to release ${plan.target.id}: ${problems.join("; ")}. Nothing was changed. Revert by hand and run again with gitOnly, or fix the ledger.`);
    }
    if (jobs.length > 0 && !input.databaseUrls) {
      const what = jobs.map((j) => `${j.service}: ${j.migrations.join(", ")}`).join("; ");
      throw new Error(`SLIPWAY_ROLLBACK_DATABASE: the abandoned release(s) applied migrations (${what}); pass databaseUrls (one SERVICE=URL line each) to revert them with their own image, or gitOnly to restore Git alone and leave them applied. Nothing was changed.`);
    }
  }
  // Before anything is written: every down() tried, and the services whose database returns first.
  const early = input.gitOnly ? { ok: true, lines: [], done: new Set<string>() } : await databaseBeforeGit(input, before.jobs, plan.target.id, Boolean(plan.resume));
  if (!early.ok) {
    return { ok: false, report: `${[`rollback of ${env.name} to release ${plan.target.id}: STOPPED before the Git commit`, ...early.lines, "git: NOT done: nothing pushed; the ledger is unchanged"].join("\n")}\n`, diagnostics };
  }

  // 2. Git and the ledger: one commit; a resumed rollback made it already.
  let rolled: { commit: string; restored: { id: string; images: Array<{ image: string; tag: string; digest: string }> } };
  let entryId: string;
  let jobs: RevertJob[];
  let problems: string[];
  let registry = plan.registry;
  if (plan.resume) {
    rolled = { commit: plan.at, restored: plan.target };
    entryId = plan.resume.entry;
    ({ jobs, problems } = before);
    const ids = plan.resume.abandoned.map((a) => a.id);
    lines.push(
      `rollback of ${env.name} to release ${plan.target.id}, RESUMED: release ${entryId} (pending) already restores it`,
      `git: already done (branch tip ${plan.at.slice(0, 12)}; release${ids.length === 1 ? "" : "s"} ${ids.join(", ") || "(none)"} rolled-back by it)`,
    );
  } else {
    const gitCommand = rollbackCliCommand(request, false);
    const { run } = await runCommand(fresh(input.cli), gitCommand);
    if (run.exitCode !== 0) throw cliFailure(gitCommand, run);
    const done = parseEnvRollback(gitCommand, run.stdout);
    rolled = done;
    // The commit's own plan: the ledger may have moved since the dry run (the CLI re-plans at the tip it pushes onto).
    const committed = parseRollbackPlan(gitCommand, run.stdout).plan;
    ({ jobs, problems } = revertJobs(committed, env, { allowDestructiveRevert: input.allowDestructiveRevert === true }));
    registry = committed.registry;
    entryId = done.entry?.id ?? "";
    const abandoned = plan.abandoned.map((a) => a.id);
    lines.push(
      `rollback of ${env.name} to release ${done.restored.id}`,
      `git: commit ${done.commit.slice(0, 12)} in ${env.gitops.path || "."}; release${abandoned.length === 1 ? "" : "s"} ${abandoned.join(", ")} rolled-back; release ${entryId} restores ${done.restored.id}`,
    );
  }

  lines.splice(1, 0, ...early.lines);
  // The services reverted before the commit (rollbackOrder: database-first) are done.
  jobs = jobs.filter((j) => !early.done.has(j.service));

  // 3. The database, with the newest abandoned image's code (it has every down() to revert).
  if (input.gitOnly && (jobs.length > 0 || problems.length > 0)) {
    ok = false;
    lines.push(`database: NOT reverted (gitOnly): ${[...jobs.map((j) => `${j.service} still has ${j.migrations.join(", ")}`), ...problems].join("; ")}`);
  } else if (jobs.length === 0) {
    lines.push("database: nothing to revert");
  } else {
    const reverted = await revertDatabases(input, jobs, Boolean(plan.resume));
    ok &&= reverted.ok;
    lines.push(...reverted.lines);
  }

  // 4. The restored release, verified and marked; without a kubeconfig it stays pending.
  if (!input.kubeconfig) {
    lines.push(`verify: not done (no kubeconfig): release ${entryId} stays pending until \`slipway ledger mark --env ${env.name} --id ${entryId} --status verified|failed\``);
  } else {
    const restoredSets = rolled.restored.images.map((i) => `${i.image}=${i.tag}@${i.digest}`);
    const outcome = await verifyOutcome(
      input.toolkit,
      input.kubeconfig,
      input.kubeIdentity,
      // A rollback is urgent: Flux is asked to reconcile (Argo CD to refresh) now whatever the environment's setting.
      input.kubectlUndo ? kubectlUndoRollout(env, restoredSets, rolled.commit) : rolloutOf(env, restoredSets, rolled.commit, Boolean(env.kubernetes.fluxKustomization || env.kubernetes.argocdApplication)),
      input.source,
    );
    const mark = (status: "verified" | "failed") => runCommand(fresh(input.cli), envMarkCommand(env.name, entryId, status));
    if (outcome.healthy) {
      await mark("verified");
      lines.push(`verify: release ${entryId} (release ${rolled.restored.id}'s images) is healthy and verified`);
      if (input.kubectlUndo) {
        lines.push(`cluster: kubectlUndo: the images were set in the Deployments directly (the GitOps controller was not waited for); Git holds the same images (commit ${rolled.commit.slice(0, 12)}), so the controller agrees when it returns`);
      }
    } else {
      ok = false;
      diagnostics = outcome.diagnostics;
      if (outcome.rollsBack) await mark("failed");
      lines.push(`verify: the restored release is NOT healthy (verdict ${outcome.verdict}); release ${entryId} ${outcome.rollsBack ? "marked failed" : "stays pending"}: ${outcome.text.split("\n")[0] ?? ""}`);
    }
  }
  // 5. The registry: the environment's policy on each abandoned image, failed-<id> tag by default (never an image the restored release runs).
  const markResult = input.gitOnly ? { ok: false, lines: [`registry: NOT marked (gitOnly): ${marksOf(registry).join(", ") || "nothing to mark"}`] } : await markRegistry(input, registry);
  ok &&= markResult.ok || (input.gitOnly && registry.length === 0);
  lines.push(...markResult.lines);
  return { ok, report: `${lines.join("\n")}\n`, diagnostics, restored: { id: rolled.restored.id, images: setsOf(rolled.restored.images), commit: rolled.commit, entry: entryId } };
}

type Mark = RollbackPlanJson["plan"]["registry"][number];

function marksOf(marks: Mark[]): string[] {
  return marks.map((m) => `${m.image}:${m.tag}`);
}

/** The `slipway acr abandon` command of one abandoned image: the environment's registry policy (issue 12). */
export function abandonCommand(registry: string, mode: string | undefined, m: Mark): string[] {
  const release = m.release ?? m.tag.replace(/^failed-/, "");
  return [
    "slipway", "acr", "abandon", "--registry", registry, ...optional("--mode", mode),
    "--source", SRC, "--repository", m.image.slice(registry.length + 1), "--digest", m.digest, "--release", release, "--policy", m.policy ?? "failed-tag",
  ];
}

/** What `slipway acr abandon` did, as one report line. */
function abandonLine(m: Mark, stdout: string): string {
  const r = JSON.parse(stdout) as { changed?: boolean; deletedTags?: string[]; keptTags?: string[] };
  const again = r.changed === false ? " (already so)" : "";
  if (m.policy === "lock") return `registry: ${m.image}@${m.digest} locked (no overwrite, no delete)${again}`;
  if (m.policy === "delete-tags") return `registry: ${m.image}@${m.digest}: mutable tags deleted: ${r.deletedTags?.join(", ") || "none"}; kept ${r.keptTags?.join(", ") || "none"}; pullable by digest${again}`;
  return `registry: ${m.image}:${m.tag} -> ${m.digest}${again}`;
}

/** `slipway acr abandon` per abandoned image of the environment's registry; an image elsewhere is named, not touched. */
async function markRegistry(input: RollbackRunInput, marks: Mark[]): Promise<{ ok: boolean; lines: string[] }> {
  if (marks.length === 0) return { ok: true, lines: ["registry: nothing to mark (the abandoned releases run no image the restored one does not)"] };
  const registry = input.env.registry;
  const lines: string[] = [];
  let ok = true;
  for (const m of marks) {
    if (!registry || !m.image.startsWith(`${registry}/`)) {
      ok = false;
      lines.push(`registry: ${m.image}:${m.tag} NOT marked: the image is not in the environment's registry (${registry ?? "none configured"})`);
      continue;
    }
    const command = abandonCommand(registry, input.env.identity.mode, m);
    const { run } = await runCommand(fresh(input.registryCli), command);
    if (run.exitCode === 0) {
      lines.push(abandonLine(m, run.stdout));
    } else {
      ok = false;
      lines.push(`registry: ${m.image}@${m.digest} NOT done (${m.policy ?? "failed-tag"}): ${cliFailure(command, run, true).message.split("\n")[0] ?? ""}`);
    }
  }
  return { ok, lines };
}


/** The user the image runs as (its config), so the mounted URLs file is readable by it and nobody else. */
async function imageUser(image: string, input: RollbackRunInput): Promise<string> {
  const user = await (await input.pullAuth(dag.container())).from(image).user();
  return user || "0";
}

// ---- the database: the down() check and the reverts (issue 12) ------------------------------------

/** The abandoned image with the toolkit's CLI, the URLs file and slipway.yaml mounted read-only. */
async function revertContainer(input: RollbackRunInput, job: RevertJob): Promise<Container> {
  return fresh(
    (await input.pullAuth(dag.container()))
      .from(job.image)
      .withMountedDirectory(TOOLKIT_CLI, input.toolkit.directory(TOOLKIT_CLI), { readOnly: true })
      .withMountedFile(REVERT_CONFIG, input.source.file("slipway.yaml"))
      .withMountedSecret(DATABASE_URLS_FILE, input.databaseUrls as Secret, { owner: await imageUser(job.image, input) })
      .withEnvVariable("SLIPWAY_DATABASE_URLS_FILE", DATABASE_URLS_FILE),
  );
}

type RevertCheckJson = {
  migration: string;
  findings: Array<{ kind: string; table: string; column?: string; holdsData: boolean | null }>;
  problem: { reason: string } | null;
  blocks: boolean;
  allowed: boolean;
};

/**
 * The report lines and the blocking migrations of one service's `migrate revert --dry-run --json`
 * (pipelines/src/migrate/engine.ts RevertSafety): what each down() would do, newest first.
 */
export function revertCheckLines(service: string, report: string): { lines: string[]; blocked: string[] } {
  let safety: { migrations?: RevertCheckJson[]; blocked?: string[] } | undefined;
  try {
    safety = (JSON.parse(report) as { revertSafety?: typeof safety }).revertSafety;
  } catch {
    return { lines: [`database check: ${service}: the CLI printed no report`], blocked: ["(unknown)"] };
  }
  if (!safety?.migrations) return { lines: [`database check: ${service}: nothing to revert`], blocked: [] };
  const lines = safety.migrations.map((c) => {
    const verdict = !c.blocks ? "ok" : c.allowed ? "ALLOWED" : "BLOCKS";
    const what = c.findings.map((f) => `${f.kind} ${f.column ? `${f.table}.${f.column}` : f.table} (${f.holdsData === null ? "data unknown" : f.holdsData ? "holds data" : "empty"})`);
    return `database check: ${service}: ${c.migration}: down() ${verdict}${c.problem ? `: ${c.problem.reason}` : ""}${what.length ? `; ${what.join(", ")}` : ""}`;
  });
  return { lines, blocked: safety.blocked ?? [] };
}

/**
 * Before the Git commit: every down() to revert tried in a rolled-back transaction (`migrate revert
 * --dry-run` in the abandoned image); any that destroys data or cannot be checked and is not allowed stops
 * the rollback with nothing written. Then the services whose slipway.yaml says `rollbackOrder:
 * database-first` are reverted; a failure there stops the rollback before Git.
 */
async function databaseBeforeGit(input: RollbackRunInput, jobs: RevertJob[], target: string, resumed: boolean): Promise<{ ok: boolean; lines: string[]; done: Set<string> }> {
  const lines: string[] = [];
  const blocked: string[] = [];
  if (jobs.length === 0 || !input.databaseUrls) return { ok: true, lines, done: new Set() };
  for (const job of jobs) {
    const command = ["node", `${TOOLKIT_CLI}/pipelines/bin/slipway.js`, ...job.args, "--dry-run"];
    const { run } = await runCommand(await revertContainer(input, job), command);
    if (run.exitCode !== 0) {
      throw new Error(`SLIPWAY_ROLLBACK_DATABASE: checking the revert of ${job.service} with ${job.image} failed, so the database cannot be returned to release ${target}: ${cliFailure(command, run, true).message}. Nothing was changed.`);
    }
    const checked = revertCheckLines(job.service, run.stdout);
    lines.push(...checked.lines);
    blocked.push(...checked.blocked.map((m) => `${job.service}: ${m}`));
  }
  if (blocked.length > 0) {
    throw new Error(
      [
        `SLIPWAY_ROLLBACK_DESTRUCTIVE: reverting ${blocked.join(", ")} would destroy data or cannot be checked. Nothing was changed (each down() was tried in a transaction that was rolled back).`,
        ...lines,
        "Allow it in slipway.yaml (migrate.services.<name>.allowDestructiveRevert: true or a list of migration names) or with allowDestructiveRevert after backing the data up; or roll back with gitOnly and leave the migrations applied.",
      ].join("\n"),
    );
  }
  const first = jobs.filter((j) => j.order === "database-first");
  if (first.length === 0) return { ok: true, lines, done: new Set() };
  const reverted = await revertDatabases(input, first, resumed, "(database-first, before Git)");
  return { ok: reverted.ok, lines: [...lines, ...reverted.lines], done: new Set(first.map((j) => j.service)) };
}

/**
 * Each service's revert with its newest abandoned image; the first failure stops the step, and the
 * report names what that service reverted and still has, and every service after it.
 */
async function revertDatabases(input: RollbackRunInput, jobs: RevertJob[], resumed: boolean, when = ""): Promise<{ ok: boolean; lines: string[] }> {
  const lines: string[] = [];
  const label = when ? ` ${when}` : "";
  for (const [n, job] of jobs.entries()) {
    const command = ["node", `${TOOLKIT_CLI}/pipelines/bin/slipway.js`, ...job.args];
    const reverted = await runCommand(await revertContainer(input, job), command);
    const done = namesIn(reverted.run.stdout, "reverted");
    if (reverted.run.exitCode === 0) {
      lines.push(
        done.length > 0 || !resumed
          ? `database${label}: ${job.service}: reverted ${done.length > 0 ? done.join(", ") : "nothing (already at the target)"} with ${job.image} (release ${job.releases[0]})`
          : `database${label}: ${job.service}: nothing left to revert (${job.migrations.join(", ")} already reverted)`,
      );
      continue;
    }
    const left = namesIn(reverted.run.stdout, "left");
    lines.push(
      `database${label}: ${job.service}: REVERT FAILED with ${job.image}: ${cliFailure(command, reverted.run, true).message}`,
      `database${label}: ${job.service}: reverted ${done.length > 0 ? done.join(", ") : "nothing"}; still applied ${left.length > 0 ? left.join(", ") : job.migrations.join(", ")}`,
      ...jobs.slice(n + 1).map((rest) => `database${label}: ${rest.service}: NOT reverted (stopped after the failure): still applied ${rest.migrations.join(", ")}`),
    );
    return { ok: false, lines };
  }
  return { ok: true, lines };
}

/**
 * `kubectlUndo` (issue 12): the GitOps controller is down, so nothing would apply the restored manifests.
 * The restored images are set in the Deployments directly (`rollout verify --set-images`) and verified
 * without waiting for the controller. Git was restored all the same: when the controller returns it
 * applies the same images, so it agrees with the cluster instead of undoing the fix.
 */
export function kubectlUndoRollout(env: ResolvedEnvironment, sets: string[], commit: string): RolloutInput {
  const { fluxKustomization: _flux, fluxHelmRelease: _helm, argocdApp: _argo, argocdSync: _sync, revision: _revision, ...direct } = rolloutOf(env, sets, commit, false);
  return { ...direct, setImages: true };
}
