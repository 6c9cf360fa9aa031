import { describe, expect, it } from "vitest";
import { helmReleaseApplied } from "../../../pipelines/src/rollout/gitops.js";

type HelmRelease = NonNullable<Parameters<typeof helmReleaseApplied>[0]>;
type Status = NonNullable<HelmRelease["status"]>;

const UPGRADED = "Helm upgrade succeeded for release shop/api.v3 with chart api@1.4.2";
const FAILED = "Helm upgrade failed for release shop/api with chart api@1.4.2: context deadline exceeded";
const ROLLED_BACK = "Helm rollback to previous release shop/api.v2 with chart api@1.4.2 succeeded";

/** A HelmRelease at metadata.generation 3 with the given status, as helm-controller v2 writes it. */
function hr(status: Status | undefined, spec: HelmRelease["spec"] = {}): HelmRelease {
  return { apiVersion: "helm.toolkit.fluxcd.io/v2", kind: "HelmRelease", metadata: { name: "api", namespace: "shop", generation: 3 }, spec, ...(status ? { status } : {}) };
}
const cond = (type: string, status: string, reason: string, message: string, observedGeneration = 3) => ({ type, status, reason, message, observedGeneration });
const snap = (version: number, status: string, configDigest: string) => ({ version, status, chartName: "api", chartVersion: "1.4.2", configDigest });

describe("pipelines/src/rollout/gitops: helmReleaseApplied (helm-controller v2 status, generation 3 carries the commit)", () => {
  it.each([
    ["not found", undefined, "waiting", "not found yet"],
    ["no status at all", hr(undefined), "waiting", "no generation observed yet, no Ready condition, waiting for generation 3 to be released"],
    ["never reconciled (observedGeneration -1, the CRD default)", hr({ observedGeneration: -1 }), "waiting", "no generation observed yet, no Ready condition, waiting for generation 3 to be released"],
    [
      "the previous generation released",
      hr({ observedGeneration: 2, conditions: [cond("Ready", "True", "UpgradeSucceeded", UPGRADED, 2), cond("Released", "True", "UpgradeSucceeded", UPGRADED, 2)], history: [snap(2, "deployed", "sha256:b")] }),
      "waiting",
      "observed generation 2, Ready=True UpgradeSucceeded, release v2 api@1.4.2 deployed, waiting for generation 3 to be released",
    ],
    [
      "our generation being upgraded",
      hr({ observedGeneration: 2, lastAttemptedGeneration: 3, conditions: [cond("Ready", "Unknown", "Progressing", "Running 'upgrade' action with timeout of 5m0s")] }),
      "waiting",
      "observed generation 2, Ready=Unknown Progressing, waiting for generation 3 to be released",
    ],
    [
      "released, every field",
      hr({
        observedGeneration: 3,
        lastAttemptedGeneration: 3,
        lastAttemptedRevision: "1.4.2",
        lastAttemptedConfigDigest: "sha256:c",
        conditions: [cond("Ready", "True", "UpgradeSucceeded", UPGRADED), cond("Released", "True", "UpgradeSucceeded", UPGRADED), cond("TestSuccess", "True", "TestSucceeded", "Helm test succeeded")],
        history: [snap(2, "superseded", "sha256:b"), snap(3, "deployed", "sha256:c")],
      }),
      "applied",
      "released generation 3 (release v3 api@1.4.2 deployed)",
    ],
    // Without lastAttemptedGeneration (older controllers), history, digests, Released or the conditions' observedGeneration.
    ["released, only the required fields", hr({ observedGeneration: 3, conditions: [{ type: "Ready", status: "True", reason: "ReconciliationSucceeded", message: "" }] }), "applied", "released generation 3"],
    [
      "Ready=True but the latest release carries other values than attempted (a rollback)",
      hr({ observedGeneration: 3, lastAttemptedConfigDigest: "sha256:c", conditions: [cond("Ready", "True", "UpgradeSucceeded", UPGRADED)], history: [snap(4, "deployed", "sha256:b"), snap(3, "failed", "sha256:c")] }),
      "waiting",
      "observed generation 3, Ready=True UpgradeSucceeded, release v4 api@1.4.2 deployed, waiting for generation 3 to be released",
    ],
    [
      "upgrade failed, no retries left (Stalled RetriesExceeded)",
      hr({ observedGeneration: 3, conditions: [cond("Stalled", "True", "RetriesExceeded", "Failed to upgrade after 1 attempt(s)"), cond("Ready", "False", "UpgradeFailed", FAILED), cond("Released", "False", "UpgradeFailed", FAILED)] }),
      "failed",
      `is stalled (RetriesExceeded: Failed to upgrade after 1 attempt(s)); UpgradeFailed: ${FAILED}`,
    ],
    [
      "upgrade failed and rolled back (Remediated)",
      hr({ observedGeneration: 3, conditions: [cond("Ready", "False", "RollbackSucceeded", ROLLED_BACK), cond("Released", "False", "UpgradeFailed", FAILED), cond("Remediated", "True", "RollbackSucceeded", ROLLED_BACK)] }),
      "failed",
      `release of generation 3 failed and was remediated (RollbackSucceeded: ${ROLLED_BACK}); UpgradeFailed: ${FAILED}`,
    ],
    [
      "upgrade failed, retrying (Released=False, Ready not yet summarised)",
      hr({ observedGeneration: 2, lastAttemptedGeneration: 3, conditions: [cond("Ready", "Unknown", "ProgressingWithRetry", FAILED), cond("Released", "False", "UpgradeFailed", FAILED)] }),
      "failed",
      `failed for generation 3: UpgradeFailed: ${FAILED}`,
    ],
    [
      "install failed",
      hr({ observedGeneration: 3, conditions: [cond("Ready", "False", "InstallFailed", "Helm install failed for release shop/api with chart api@1.4.2: admission webhook denied")] }),
      "failed",
      "failed for generation 3: InstallFailed: Helm install failed for release shop/api with chart api@1.4.2: admission webhook denied",
    ],
    [
      "tests failed",
      hr({ observedGeneration: 3, conditions: [cond("Ready", "False", "TestFailed", "Helm test failed for release shop/api.v3: 1 test failed"), cond("Released", "True", "UpgradeSucceeded", UPGRADED), cond("TestSuccess", "False", "TestFailed", "Helm test failed for release shop/api.v3: 1 test failed")] }),
      "failed",
      "failed for generation 3: TestFailed: Helm test failed for release shop/api.v3: 1 test failed",
    ],
    [
      "the chart cannot be fetched for our generation",
      hr({ observedGeneration: 2, lastAttemptedGeneration: 3, conditions: [cond("Ready", "False", "ArtifactFailed", "HelmChart 'flux-system/shop-api' is not ready: chart \"api\" version \"1.9.x\" not found")] }),
      "failed",
      "failed for generation 3: ArtifactFailed: HelmChart 'flux-system/shop-api' is not ready: chart \"api\" version \"1.9.x\" not found",
    ],
    [
      "a failure of the previous generation says nothing of ours",
      hr({ observedGeneration: 2, conditions: [cond("Stalled", "True", "RetriesExceeded", "Failed to upgrade after 1 attempt(s)", 2), cond("Ready", "False", "UpgradeFailed", FAILED, 2)] }),
      "waiting",
      "observed generation 2, Ready=False UpgradeFailed, waiting for generation 3 to be released",
    ],
    ["suspended", hr({ observedGeneration: 2 }, { suspend: true }), "failed", "is suspended, so helm-controller will never release the commit (flux resume helmrelease)"],
  ])("%s", (_name, obj, state, message) => {
    expect(helmReleaseApplied(obj, 3)).toMatchObject({ state, message });
  });
});
