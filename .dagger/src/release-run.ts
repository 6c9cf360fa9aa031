// `release` and `promote` after the gates: publish (or take the promoted digests) → migrate → GitOps bump
// and pending ledger entry in ONE commit → verify → mark verified; on a failed rollout, mark it failed,
// roll the environment back (Git and ledger: `slipway rollback --env`), revert this release's migrations,
// verify the restored release and mark it. Every decision is the CLI's (which release to return to, which
// verdict rolls back, which transitions the ledger allows); this file orders the steps and keeps what the
// Release object reports.
import { dag } from "@dagger.io/dagger";
import type { Container, Directory, Secret } from "@dagger.io/dagger";

import { cliFailure, namesIn } from "./cli.js";
import { cliStdout, fresh, runCommand } from "./exec.js";
import type { PlannedService } from "./plan.js";
import { migrateService, publishServices, verifyOutcome } from "./release.js";
import type { Published, PublishOptions, RolloutOutcome } from "./release.js";
import {
  beginCommand,
  envMarkCommand,
  envRollbackCommand,
  parseBegin,
  rolloutOf,
  parseEnvRollback,
  setsOf,
} from "./release-flow.js";
import type { ReleaseData, ResolvedEnvironment, StepRow } from "./release-flow.js";
import { stopwatch } from "./run-report.js";
import type { MigrationRow, Timing } from "./run-report.js";

export type ReleaseInput = {
  kind: "release" | "promote";
  env: ResolvedEnvironment;
  sourceSha: string;
  /** The toolkit with the source mounted at SRC (slipway.yaml is read from there) and the GitOps token. */
  cli: Container;
  toolkit: Container;
  source: Directory;
  /** A service's build container after its toolchain's install: its migrations run there, with its own TypeORM. */
  installedOf: (service: PlannedService) => Container;
  /** A service's build command from its toolchain (the plan's), run before its migrations. */
  buildOf: (service: PlannedService) => string[];
  services: PlannedService[];
  /** release: publish these; promote: the verified images of the source environment. */
  publish?: { identity: Container; image: Parameters<typeof publishServices>[3]; options: PublishOptions };
  promoted?: { sets: string[]; from: string };
  kubeconfig: Secret;
  kubeIdentity: (ctr: Container) => Container;
  databaseUrls?: Secret;
  steps: StepRow[];
  /** When the steps already in `steps` ran (same order); the run report's timeline. */
  timings?: Array<Partial<Timing>>;
};

/** What the run report adds to the Release report: when each step ran (same order as `steps`) and the migrations per service. */
export type ReleaseOutcome = ReleaseData & { diagnostics: Directory; timings?: Array<Partial<Timing>>; migrations?: MigrationRow[] };

type Migrated = { service: PlannedService; applied: string[]; report: string };


function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export async function runRelease(input: ReleaseInput): Promise<ReleaseOutcome> {
  const { env, steps } = input;
  const out: ReleaseOutcome = {
    kind: input.kind,
    environment: env.name,
    status: "failed",
    sourceSha: input.sourceSha,
    ledgerId: "",
    gitopsCommit: "",
    images: [],
    promotedFrom: input.promoted?.from ?? "",
    steps,
    failure: "",
    rollback: "",
    unreleasedImages: [],
    diagnostics: dag.directory(),
    timings: [...(input.timings ?? [])],
    migrations: [],
  };
  while ((out.timings as Array<Partial<Timing>>).length < steps.length) out.timings?.push({});
  // The steps run one after another: each began when the one before it ended.
  let since = stopwatch();
  const step = (name: string, status: StepRow["status"], detail: string) => {
    steps.push({ step: name, status, detail });
    out.timings?.push(since());
    since = stopwatch();
  };

  // 1. Images: published now (release) or the source environment's verified digests (promote).
  let sets: string[];
  if (input.publish) {
    let published: Published[];
    try {
      published = await publishServices(input.toolkit, input.source, input.services, input.publish.image, input.publish.identity, input.publish.options);
    } catch (error) {
      step("publish", "failed", message(error));
      out.failure = `publish: ${message(error)}`;
      return out;
    }
    sets = setsOf(published);
    step("publish", "passed", published.map((p) => `${p.service} ${p.reused ? "reused" : "pushed"} ${p.digest.slice(0, 19)}`).join(", "));
  } else {
    sets = input.promoted?.sets ?? [];
    step("publish", "skipped", `promoted by digest, not rebuilt: ${input.promoted?.from ?? ""}`);
  }
  out.images = sets;

  // 2. Migrations of the services that migrate in this environment, each with its own TypeORM (the CLI
  //    takes the DataSource from slipway.yaml migrate.services.<name>, else the service's dist/data-source.js).
  const migrated: Migrated[] = [];
  const migrationRow = (m: Migrated): MigrationRow => {
    const rows = out.migrations as MigrationRow[];
    const found = rows.find((r) => r.service === m.service.name);
    if (found) return found;
    const row: MigrationRow = { service: m.service.name, applied: m.applied, reverted: [], outcome: "passed", detail: "" };
    rows.push(row);
    return row;
  };
  const revertMigrations = async (): Promise<string> => {
    const lines: string[] = [];
    for (const m of [...migrated].reverse()) {
      if (m.applied.length === 0) continue;
      try {
        await migrateService(input.toolkit, input.installedOf(m.service), m.service, { urls: input.databaseUrls as Secret }, { action: "revert", count: m.applied.length }, input.buildOf(m.service));
        lines.push(`${m.service.name}: reverted ${[...m.applied].reverse().join(", ")}`);
        migrationRow(m).reverted = [...m.applied].reverse();
      } catch (error) {
        lines.push(`${m.service.name}: REVERT FAILED, still applied: ${m.applied.join(", ")}: ${message(error)}`);
        Object.assign(migrationRow(m), { outcome: "failed", detail: `revert failed: ${message(error)}` });
      }
    }
    return lines.join("\n");
  };
  for (const target of env.migrate) {
    const service = input.services.find((s) => s.name === target.service);
    if (!service) {
      out.failure = `migrate: environment ${env.name} migrates ${JSON.stringify(target.service)}, which is not a service of this repository`;
      step("migrate", "failed", out.failure);
      out.rollback = await revertMigrations();
      out.unreleasedImages = input.publish ? sets : [];
      return out;
    }
    try {
      const report = await migrateService(input.toolkit, input.installedOf(service), service, { urls: input.databaseUrls as Secret }, { action: "run" }, input.buildOf(service));
      migrated.push({ service, applied: namesIn(report, "applied"), report });
      migrationRow(migrated[migrated.length - 1] as Migrated);
    } catch (error) {
      out.migrations?.push({ service: service.name, applied: [], reverted: [], outcome: "failed", detail: message(error) });
      // The failed run reverted what it applied itself (slipway migrate run); earlier services are reverted here.
      step("migrate", "failed", `${service.name}: ${message(error)}`);
      out.failure = `migrate ${service.name}: ${message(error)}`;
      out.rollback = await revertMigrations();
      out.unreleasedImages = input.publish ? sets : [];
      return out;
    }
  }
  if (env.migrate.length > 0) step("migrate", "passed", migrated.map((m) => `${m.service.name}: ${m.applied.length ? m.applied.join(", ") : "nothing pending"}`).join("; "));
  else step("migrate", "skipped", `environment ${env.name} migrates no service`);

  // 3. One commit: the environment's folder bumped and the release recorded pending.
  const reports = migrated.map((m) => ({ service: m.service.name, file: `/tmp/slipway-migrated-${m.service.name}.json`, report: m.report }));
  const begin = beginCommand({
    environment: env.name,
    sourceSha: input.sourceSha,
    set: sets,
    migrated: reports.map((r) => ({ service: r.service, file: r.file })),
    ...(input.promoted ? { promotedFrom: input.promoted.from } : {}),
  });
  let ledgerId: string;
  let commit: string;
  try {
    const ctr = reports.reduce((c, r) => c.withNewFile(r.file, r.report), fresh(input.cli));
    const begun = parseBegin(begin, await cliStdout(ctr, begin));
    ledgerId = begun.entry.id;
    commit = begun.commit;
  } catch (error) {
    step("bump + ledger", "failed", message(error));
    out.failure = `bump + ledger: ${message(error)}`;
    out.rollback = await revertMigrations();
    out.unreleasedImages = input.publish ? sets : [];
    return out;
  }
  out.ledgerId = ledgerId;
  out.gitopsCommit = commit;
  step("bump + ledger", "passed", `release ${ledgerId} pending in ${env.ledger}, commit ${commit.slice(0, 12)} in ${env.gitops.path || "."}`);

  // 4. Verify the rollout of our commit.
  const check = (images: string[], revision: string): Promise<RolloutOutcome> =>
    verifyOutcome(
      input.toolkit,
      input.kubeconfig,
      input.kubeIdentity,
      rolloutOf(env, images, revision),
      input.source,
    );
  const mark = async (id: string, status: "verified" | "failed") => cliStdout(fresh(input.cli), envMarkCommand(env.name, id, status));
  const outcome = await check(sets, commit);
  if (outcome.healthy) {
    step("verify", "passed", "rollout healthy");
    await mark(ledgerId, "verified");
    step("mark", "passed", `release ${ledgerId} verified`);
    out.status = "verified";
    return out;
  }
  out.diagnostics = outcome.diagnostics;
  out.failure = outcome.text;
  step("verify", "failed", `verdict ${outcome.verdict}`);
  if (!outcome.rollsBack) {
    // Timed out, could not check, or paused: the release may be healthy. Nothing is rolled back.
    out.status = "unknown";
    out.rollback = `not rolled back: verdict ${outcome.verdict} does not prove the release failed. Release ${ledgerId} stays pending; check the cluster, then \`slipway ledger mark --env ${env.name} --id ${ledgerId} --status verified|failed\` (or run rollback).`;
    return out;
  }

  // 5. Failed: mark it, roll the environment back, revert this release's migrations, verify what is restored.
  await mark(ledgerId, "failed");
  const rollbackCmd = envRollbackCommand(env.name);
  const { run } = await runCommand(fresh(input.cli), rollbackCmd);
  if (run.exitCode !== 0) {
    const reverted = await revertMigrations();
    out.rollback = `rollback not possible: ${cliFailure(rollbackCmd, run).message}${reverted ? `\nmigrations: ${reverted}` : ""}`;
    step("rollback", "failed", out.rollback);
    return out;
  }
  const rolled = parseEnvRollback(rollbackCmd, run.stdout);
  const reverted = await revertMigrations();
  const restoredSets = rolled.restored.images.map((i) => `${i.image}=${i.tag}@${i.digest}`);
  const restoredId = rolled.entry?.id ?? "";
  const lines = [`rolled back to release ${rolled.restored.id} in commit ${rolled.commit.slice(0, 12)} (release ${ledgerId} is rolled-back)`];
  if (reverted) lines.push(`migrations: ${reverted}`);
  const again = await check(restoredSets, rolled.commit);
  if (again.healthy) {
    if (restoredId) await mark(restoredId, "verified");
    lines.push(`the restored release${restoredId ? ` (${restoredId})` : ""} is healthy and verified`);
    out.status = "rolled-back";
    step("rollback", "passed", lines.join("; "));
  } else {
    if (restoredId && again.rollsBack) await mark(restoredId, "failed");
    lines.push(`the restored release is NOT healthy (verdict ${again.verdict}): ${again.text.split("\n")[0] ?? ""}`);
    out.status = "failed";
    step("rollback", "failed", lines.join("; "));
  }
  out.rollback = lines.join("\n");
  return out;
}
