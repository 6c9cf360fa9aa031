// The registry hygiene of the module (issue 12): the argv `prune` gives `slipway acr prune`, and the argv the
// rollback gives `slipway acr abandon` for each abandoned image of a real plan (describeRollback over a
// ledger, as `slipway rollback --json` prints it), each parsed by the real CLI's flag parser.
import { describe, expect, it } from "vitest";
import { pruneCliCommand } from "../../.dagger/src/prune.js";
import { abandonCommand, parseRollbackPlan } from "../../.dagger/src/rollback-run.js";
import { acrAbandon, acrPrune } from "../../pipelines/src/acr/commands.js";
import { parseFlags } from "../../pipelines/src/cli/command.js";
import { planRollback } from "../../pipelines/src/ledger/ledger.js";
import { describeRollback } from "../../pipelines/src/ledger/rollback.js";
import type { LedgerFile } from "../../pipelines/src/ledger/schema.js";

const REGISTRY = "acme.azurecr.io";
const IMAGE = `${REGISTRY}/shop/api`;
const digest = (c: string) => `sha256:${c.repeat(64)}`;

describe(".dagger/src/prune and the rollback's registry step", () => {
  it("prune: every input becomes one argv element the CLI parses back (no shell string)", () => {
    const command = pruneCliCommand({ repository: "shop/api", keep: 5, dryRun: true, registry: REGISTRY, mode: "github-oidc", minAge: "2h", gitopsRepository: "https://git.example/gitops.git", branch: "main" }, "/src");
    expect(command.slice(0, 3)).toEqual(["slipway", "acr", "prune"]);
    expect(parseFlags(acrPrune, command.slice(3)).values).toEqual({
      repository: "shop/api", keep: "5", registry: REGISTRY, mode: "github-oidc", "min-age": "2h", repo: "https://git.example/gitops.git", branch: "main", "dry-run": true, source: "/src",
    });
    expect(pruneCliCommand({ repository: "shop/api; rm -rf /", keep: 1, dryRun: false }, "/src")).toEqual(["slipway", "acr", "prune", "--repository", "shop/api; rm -rf /", "--keep", "1", "--source", "/src"]);
  });

  it.each(["failed-tag", "lock", "delete-tags"] as const)("rollback with policy %s: acr abandon of the abandoned image only, with the release and the policy", (policy) => {
    const ledger: LedgerFile = {
      version: 1,
      environment: "prod",
      entries: [
        { id: "1", sourceSha: "1".repeat(40), images: [{ image: IMAGE, tag: "sha-111111111111", digest: digest("a") }], status: "verified", at: "2026-12-01T10:00:00.000Z" },
        { id: "2", sourceSha: "2".repeat(40), images: [{ image: IMAGE, tag: "sha-222222222222", digest: digest("b") }], status: "failed", at: "2026-12-02T10:00:00.000Z" },
      ],
    };
    const plan = planRollback(ledger);
    const view = describeRollback({ environment: "prod", branch: "main", path: "clusters/prod", head: "f".repeat(40), ledger, ledgerFile: ".slipway/ledger/prod.json", plan, record: null, registryPolicy: policy });
    const json = JSON.stringify({ environment: "prod", dryRun: true, alreadyAt: false, commit: "f".repeat(40), pushed: false, restored: plan.target, abandoned: plan.abandoned, plan: view });
    const marks = parseRollbackPlan(["slipway", "rollback"], json).plan.registry;
    expect(marks).toHaveLength(1);
    const command = abandonCommand(REGISTRY, "github-oidc", marks[0] as (typeof marks)[number]);
    expect(command.slice(0, 3)).toEqual(["slipway", "acr", "abandon"]);
    expect(parseFlags(acrAbandon, command.slice(3)).values).toEqual({
      registry: REGISTRY, mode: "github-oidc", source: "/src", repository: "shop/api", digest: digest("b"), release: "2", policy,
    });
  });
});
