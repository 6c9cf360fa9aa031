// The pure part of the on-demand rollback (.dagger/src/rollback-run.ts): the argv it gives the CLI and the
// database reverts it derives from the plan. The plans here are the real CLI's (describeRollback over a
// ledger through planRollback, then JSON as `slipway rollback --json` prints it), not hand-written shapes.
import { describe, expect, it } from "vitest";
import { kubectlUndoRollout, parseRollbackPlan, REVERT_CONFIG, revertJobs, rollbackCliCommand } from "../../.dagger/src/rollback-run.js";
import { rolloutCommand } from "../../.dagger/src/release-cli.js";
import { rolloutVerify } from "../../pipelines/src/rollout/commands.js";
import type { ResolvedEnvironment } from "../../.dagger/src/release-flow.js";
import { parseFlags } from "../../pipelines/src/cli/command.js";
import { rollbackCommand as cliRollback } from "../../pipelines/src/ledger/commands.js";
import { planRollback } from "../../pipelines/src/ledger/ledger.js";
import { describeRollback, renderRollbackPlan } from "../../pipelines/src/ledger/rollback.js";
import type { MigrateSettings } from "../../pipelines/src/migrate/schema.js";
import { migrateRevert } from "../../pipelines/src/migrate/commands.js";
import type { LedgerEntry, LedgerFile } from "../../pipelines/src/ledger/schema.js";

const IMAGE = "acme.azurecr.io/shop/api";
const digest = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;

function entry(id: number, migrated: LedgerEntry["migrated"], status: LedgerEntry["status"] = "verified"): LedgerEntry {
  return { id: String(id), sourceSha: String(id).repeat(40).slice(0, 40), images: [{ image: IMAGE, tag: `sha-${id}`, digest: digest(id) }], status, at: "2026-12-01T10:00:00.000Z", ...(migrated ? { migrated } : {}) };
}

const env: ResolvedEnvironment = {
  name: "prod",
  gitops: { repository: "https://git.example/gitops.git", branch: "main", path: "clusters/prod" },
  ledger: ".slipway/ledger/prod.json",
  registry: "acme.azurecr.io",
  identity: {},
  kubernetes: { namespace: "shop", selector: null, deployments: ["api"], fluxKustomization: null, fluxHelmRelease: null, reconcile: false, argocdApplication: null, timeout: null },
  migrate: [{ service: "api", dataSource: "dist/db.js" }],
  promoteFrom: null,
};

/** `slipway rollback --dry-run --json` as the CLI prints it for this ledger. */
function planView(ledger: LedgerFile, to?: string, migrate?: MigrateSettings) {
  const plan = planRollback(ledger, to);
  const view = describeRollback({ environment: ledger.environment, branch: "main", path: "clusters/prod", head: "f".repeat(40), ledger, ledgerFile: ".slipway/ledger/prod.json", plan, record: null, ...(migrate ? { migrate } : {}) });
  return { plan, view };
}

function planJson(ledger: LedgerFile, to?: string, migrate?: MigrateSettings): string {
  const { plan, view } = planView(ledger, to, migrate);
  return JSON.stringify({ environment: ledger.environment, dryRun: true, alreadyAt: plan.alreadyAt, commit: "f".repeat(40), pushed: false, restored: plan.target, abandoned: plan.abandoned, plan: view });
}

describe(".dagger/src/rollback-run", () => {
  it("asks the CLI for the plan (--dry-run --json), then for the commit (--json), flags the real CLI accepts", () => {
    const dry = rollbackCliCommand({ environment: "prod", to: "3", force: true }, true);
    expect(dry).toEqual(["slipway", "rollback", "--env", "prod", "--to", "3", "--force", "--dry-run", "--json"]);
    expect(parseFlags(cliRollback, dry.slice(2)).values).toMatchObject({ env: "prod", to: "3", force: true, "dry-run": true, json: true });
    expect(rollbackCliCommand({ environment: "prod", force: false }, false)).toEqual(["slipway", "rollback", "--env", "prod", "--json"]);
  });

  it("--to two releases back: one revert per service with the NEWEST abandoned image, down to the target's head, flags migrate revert accepts", () => {
    const ledger: LedgerFile = {
      version: 1,
      environment: "prod",
      entries: [
        entry(1, [{ service: "api", status: "applied", applied: ["A1"], head: "A1", image: `${IMAGE}@${digest(1)}` }]),
        entry(2, [{ service: "api", status: "applied", applied: ["B1", "B2"], head: "B2", image: `${IMAGE}@${digest(2)}` }]),
        entry(3, [{ service: "api", status: "applied", applied: ["C1"], head: "C1", image: `${IMAGE}@${digest(3)}` }]),
      ],
    };
    const command = ["slipway", "rollback", "--dry-run", "--json"];
    const { jobs, problems } = revertJobs(parseRollbackPlan(command, planJson(ledger, "1")).plan, env);
    expect(problems).toEqual([]);
    expect(jobs).toEqual([
      {
        service: "api",
        image: `${IMAGE}@${digest(3)}`,
        releases: ["3", "2"],
        migrations: ["C1", "B2", "B1"],
        args: ["migrate", "revert", "--service", "api", "--data-source", "dist/db.js", "--to", "A1", "--config", REVERT_CONFIG, "--json"],
        order: "git-first",
      },
    ]);
    expect(parseFlags(migrateRevert, jobs[0]?.args.slice(2) ?? []).values).toMatchObject({ service: "api", "data-source": "dist/db.js", to: "A1", config: REVERT_CONFIG, json: true });
  });

  it("a target that recorded no head reverts by count; a service the environment does not declare uses dist/data-source.js", () => {
    const ledger: LedgerFile = {
      version: 1,
      environment: "prod",
      entries: [entry(1, undefined), entry(2, [{ service: "worker", status: "applied", applied: ["W1", "W2"], head: "W2", image: `${IMAGE}@${digest(2)}` }])],
    };
    const { jobs, problems } = revertJobs(parseRollbackPlan(["slipway"], planJson(ledger)).plan, env);
    expect(problems).toEqual([]);
    expect(jobs[0]?.args).toEqual(["migrate", "revert", "--service", "worker", "--data-source", "dist/data-source.js", "--count", "2", "--config", REVERT_CONFIG, "--json"]);
  });

  it("what cannot be reverted is named before anything is written: no migration report, no image, no service", () => {
    const ledger: LedgerFile = {
      version: 1,
      environment: "prod",
      entries: [
        entry(1, [{ service: "api", status: "applied", applied: ["A1"], head: "A1" }]),
        { ...entry(2, undefined), migrations: { status: "applied", applied: ["OLD1"], head: "OLD1" } },
        entry(3, undefined),
      ],
    };
    // Release 2 recorded the old single summary (no service); release 3 recorded nothing.
    const { jobs, problems } = revertJobs(parseRollbackPlan(["slipway"], planJson(ledger, "1")).plan, env);
    expect(jobs).toEqual([]);
    expect(problems).toEqual([
      "release 3 recorded no migration report: what it applied is unknown (check with `slipway migrate status`)",
      "releases 2 applied OLD1 without naming the service (an old ledger entry)",
    ]);
  });

  it("slipway.yaml's rollbackOrder and allowDestructiveRevert reach the plan (text and JSON) and the reverts; allowDestructiveRevert passes the flag migrate revert accepts", () => {
    const ledger: LedgerFile = {
      version: 1,
      environment: "prod",
      entries: [
        entry(1, [
          { service: "api", status: "applied", applied: ["A1"], head: "A1", image: `${IMAGE}@${digest(1)}` },
          { service: "worker", status: "applied", applied: ["W1"], head: "W1", image: `${IMAGE}@${digest(1)}` },
        ]),
        entry(2, [
          { service: "api", status: "applied", applied: ["A2"], head: "A2", image: `${IMAGE}@${digest(2)}` },
          { service: "worker", status: "applied", applied: ["W2"], head: "W2", image: `${IMAGE}@${digest(2)}` },
        ], "failed"),
      ],
    };
    const migrate: MigrateSettings = { services: { api: { rollbackOrder: "database-first", allowDestructiveRevert: ["A2"] } } };
    const text = renderRollbackPlan(planView(ledger, undefined, migrate).view, true);
    expect(text).toContain(
      [
        "     api: release 2 applied A2  (down() in acme.azurecr.io/shop/api@" + digest(2) + ")",
        "       then api is back at A1, release 1's newest",
        "       run: slipway migrate revert --service api --to A1   (with the code of acme.azurecr.io/shop/api@" + digest(2) + ")",
        "       order: this database FIRST, before the Git commit (rollbackOrder: database-first)",
      ].join("\n"),
    );
    expect(text).toContain("(allowDestructiveRevert: allowed: A2)");
    expect(text).toContain("       order: Git first, then this database (default)");
    expect(text).toContain("(allowDestructiveRevert: none allowed)");

    const plan = parseRollbackPlan(["slipway"], planJson(ledger, undefined, migrate)).plan;
    const { jobs } = revertJobs(plan, env, { allowDestructiveRevert: true });
    expect(jobs.map((j) => [j.service, j.order])).toEqual([
      ["api", "database-first"],
      ["worker", "git-first"],
    ]);
    expect(parseFlags(migrateRevert, jobs[0]?.args.slice(2) ?? []).values).toMatchObject({ "allow-destructive-revert": true, config: REVERT_CONFIG });
    // Without the Dagger argument, slipway.yaml (mounted at REVERT_CONFIG) decides in the image.
    expect(revertJobs(plan, env).jobs[0]?.args).not.toContain("--allow-destructive-revert");
  });

  it("kubectlUndo: rollout verify sets the restored images by digest and waits for no GitOps controller (flags the real CLI accepts)", () => {
    const argo = { ...env, kubernetes: { ...env.kubernetes, argocdApplication: "argocd/shop", argocdSync: true } };
    const argv = rolloutCommand(kubectlUndoRollout(argo, [`${IMAGE}=sha-1@${digest(1)}`], "a".repeat(40)));
    const values = parseFlags(rolloutVerify, argv.slice(3)).values;
    expect(values).toMatchObject({ "set-images": true, deployment: ["api"], image: [`${IMAGE}=${digest(1)}`], namespace: "shop" });
    expect(values["argocd-app"]).toBeUndefined();
    expect(values.revision).toBeUndefined();
    expect(values.reconcile).toBeUndefined();
    expect(values["argocd-sync"]).toBeUndefined();
  });

  it("a malformed plan names the field", () => {
    expect(() => parseRollbackPlan(["slipway", "rollback"], JSON.stringify({ alreadyAt: false, plan: { target: {} } }))).toThrow(/plan: expected/);
  });
});
