// The registry policy of a rollback (issue 12): environments.<name>.rollback.registry in slipway.yaml decides
// what the plan says the registry step does to abandoned images; an image the restored release runs is never
// named, whatever the policy.
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../../pipelines/src/config/load.js";
import { planRollback } from "../../../pipelines/src/ledger/ledger.js";
import { describeRollback, renderRollbackPlan } from "../../../pipelines/src/ledger/rollback.js";
import type { LedgerFile } from "../../../pipelines/src/ledger/schema.js";

const digest = (c: string): string => `sha256:${c.repeat(64)}`;
const API = "myacr.azurecr.io/shop/api";
const WORKER = "myacr.azurecr.io/shop/worker";

// Release 1 verified (api a, worker d); release 2 failed (api b, worker still d).
const ledger: LedgerFile = {
  version: 1,
  environment: "prod",
  entries: [
    { id: "1", sourceSha: "1".repeat(40), images: [{ image: API, tag: "sha-111111111111", digest: digest("a") }, { image: WORKER, tag: "sha-111111111111", digest: digest("d") }], status: "verified", at: "2026-03-01T00:00:00.000Z" },
    { id: "2", sourceSha: "2".repeat(40), images: [{ image: API, tag: "sha-222222222222", digest: digest("b") }, { image: WORKER, tag: "sha-111111111111", digest: digest("d") }], status: "failed", at: "2026-03-02T00:00:00.000Z" },
  ],
};

function plan(registryPolicy?: "failed-tag" | "lock" | "delete-tags") {
  return describeRollback({ environment: "prod", branch: "main", path: "clusters/prod", head: "f".repeat(40), ledger, ledgerFile: ".slipway/ledger/prod.json", plan: planRollback(ledger), record: null, ...(registryPolicy ? { registryPolicy } : {}) });
}

describe("pipelines/src/ledger/rollback registry policy", () => {
  it.each([
    [undefined, "failed-tag", `${API}:failed-2 -> ${digest("b")}`],
    ["failed-tag", "failed-tag", `${API}:failed-2 -> ${digest("b")}`],
    ["lock", "lock", `lock ${API}@${digest("b")} (writeEnabled and deleteEnabled false: nobody overwrites or deletes it)`],
    ["delete-tags", "delete-tags", `delete the mutable tags of ${API}@${digest("b")} (latest, branch-*, extra; sha-<12>, semver and failed-<id> stay; still pullable by digest)`],
  ] as const)("policy %s: the plan names only the abandoned api image (the worker digest is restored) and says what happens to it", (given, policy, line) => {
    const view = plan(given);
    expect(view.registry).toEqual([{ release: "2", image: API, digest: digest("b"), tag: "failed-2", policy, action: line }]);
    const text = renderRollbackPlan(view, true);
    expect(text).toContain(`3. Registry: what a later step does to abandoned images, policy ${policy} (NOT done by this command)\n     ${line}\n`);
  });

  it("slipway.yaml accepts the three policies per environment and refuses anything else, naming the path", () => {
    const yaml = (policy: string) =>
      ["environments:", "  prod:", "    gitops: { repository: https://example.com/gitops.git, path: clusters/prod }", "    kubernetes: { namespace: shop, deployments: [api] }", `    rollback: { registry: ${policy} }`, ""].join("\n");
    for (const policy of ["failed-tag", "lock", "delete-tags"]) expect(parseConfig(yaml(policy), "slipway.yaml").environments?.prod?.rollback?.registry).toBe(policy);
    let error: unknown;
    try {
      parseConfig(yaml("delete"), "slipway.yaml");
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ code: "SLIPWAY_CONFIG_INVALID" });
    expect((error as { render(): string }).render()).toMatch(/environments\.prod\.rollback\.registry/);
  });
});
