import { describe, expect, it } from "vitest";
import { formatDuration, parseDuration } from "../../../pipelines/src/rollout/duration.js";
import { argoApplied, fluxApplied, revisionMatches } from "../../../pipelines/src/rollout/gitops.js";
import { DEFAULT_THRESHOLDS, evaluateDeployment, kubectlRolloutStatus, podProblems } from "../../../pipelines/src/rollout/health.js";
import { imageMismatches, parseImageExpectation } from "../../../pipelines/src/rollout/images.js";

// client-node lives in pipelines/node_modules (not hoisted): take its types from our functions' signatures.
type V1Deployment = Parameters<typeof kubectlRolloutStatus>[0];
type V1ReplicaSet = Parameters<typeof evaluateDeployment>[1][number];
type V1Pod = Parameters<typeof podProblems>[1];
type V1ContainerStatus = NonNullable<NonNullable<V1Pod["status"]>["containerStatuses"]>[number];

const SHA = "0123456789abcdef0123456789abcdef01234567";

function deployment(over: { generation?: number; observed?: number; replicas?: number; updated?: number; total?: number; available?: number; deadline?: boolean; image?: string } = {}): V1Deployment {
  return {
    metadata: { name: "api", uid: "d-1", generation: over.generation ?? 2, annotations: { "deployment.kubernetes.io/revision": "2" } },
    spec: { replicas: over.replicas ?? 2, selector: {}, template: { spec: { containers: [{ name: "app", image: over.image ?? "acr.io/shop/api:v2" }] } } },
    status: {
      observedGeneration: over.observed ?? 2,
      updatedReplicas: over.updated ?? 2,
      replicas: over.total ?? 2,
      availableReplicas: over.available ?? 2,
      conditions: over.deadline ? [{ type: "Progressing", status: "False", reason: "ProgressDeadlineExceeded", message: 'ReplicaSet "api-2" has timed out progressing.' }] : [],
    },
  };
}

const rs = (revision: string, name: string): V1ReplicaSet => ({
  metadata: { name, uid: `rs-${revision}`, annotations: { "deployment.kubernetes.io/revision": revision }, ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name: "api", uid: "d-1" }] },
});

function pod(owner: V1ReplicaSet, cs: Partial<V1ContainerStatus>, image = "acr.io/shop/api:v2", init = false): V1Pod {
  const status = { name: "app", image, imageID: "", ready: false, restartCount: 0, ...cs };
  return {
    metadata: { name: `${owner.metadata?.name}-x`, ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: owner.metadata?.name ?? "", uid: owner.metadata?.uid ?? "" }] },
    spec: { containers: [{ name: "app", image }] },
    status: init ? { initContainerStatuses: [{ ...status, name: "migrate" }] } : { containerStatuses: [status] },
  };
}

describe("pipelines/src/rollout/health: kubectlRolloutStatus (kubectl's DeploymentStatusViewer rules)", () => {
  it.each([
    ["spec not observed", deployment({ generation: 3, observed: 2 }), false, "Waiting for deployment spec update to be observed..."],
    ["deadline exceeded", deployment({ updated: 1, deadline: true }), false, 'deployment "api" exceeded its progress deadline'],
    ["replicas not updated", deployment({ updated: 1 }), false, 'Waiting for deployment "api" rollout to finish: 1 out of 2 new replicas have been updated...'],
    ["old replicas left", deployment({ total: 3 }), false, 'Waiting for deployment "api" rollout to finish: 1 old replicas are pending termination...'],
    ["not available", deployment({ available: 1 }), false, 'Waiting for deployment "api" rollout to finish: 1 of 2 updated replicas are available...'],
    ["rolled out", deployment(), true, 'deployment "api" successfully rolled out'],
  ])("%s", (_name, d, done, message) => {
    expect(kubectlRolloutStatus(d)).toMatchObject({ done, message });
  });
});

describe("pipelines/src/rollout/health: podProblems (fail-fast reasons)", () => {
  const current = rs("2", "api-2");
  const waiting = (reason: string, message = "") => ({ state: { waiting: { reason, message } } });
  it.each([
    ["ErrImagePull at once", waiting("ErrImagePull", "not found"), DEFAULT_THRESHOLDS, "ErrImagePull (not found)"],
    ["ImagePullBackOff at once", waiting("ImagePullBackOff"), DEFAULT_THRESHOLDS, "ImagePullBackOff"],
    ["InvalidImageName at once", waiting("InvalidImageName"), DEFAULT_THRESHOLDS, "InvalidImageName"],
    ["CreateContainerConfigError at once", waiting("CreateContainerConfigError", 'secret "db" not found'), DEFAULT_THRESHOLDS, 'CreateContainerConfigError (secret "db" not found)'],
    [
      "CrashLoopBackOff at the first back-off",
      { ...waiting("CrashLoopBackOff"), restartCount: 1, lastState: { terminated: { exitCode: 1, reason: "Error" } } },
      DEFAULT_THRESHOLDS,
      "CrashLoopBackOff (restarts 1, last exit 1 Error)",
    ],
    ["CrashLoopBackOff under a higher threshold", { ...waiting("CrashLoopBackOff"), restartCount: 2 }, { ...DEFAULT_THRESHOLDS, crashLoopRestarts: 3 }, null],
    ["a first OOMKilled is tolerated, even backing off", { ...waiting("CrashLoopBackOff"), restartCount: 1, lastState: { terminated: { exitCode: 137, reason: "OOMKilled" } } }, DEFAULT_THRESHOLDS, null],
    ["a second OOMKilled fails", { state: { running: {} }, restartCount: 2, lastState: { terminated: { exitCode: 137, reason: "OOMKilled" } } }, DEFAULT_THRESHOLDS, "OOMKilled (killed for memory, restarts 2)"],
    // Issue 14: restarting after an error before the kubelet says CrashLoopBackOff.
    [
      "terminated with an error after a restart, before CrashLoopBackOff",
      { state: { terminated: { exitCode: 1, reason: "Error" } }, restartCount: 1, lastState: { terminated: { exitCode: 1, reason: "Error" } } },
      DEFAULT_THRESHOLDS,
      "RestartingAfterError (restarts 1, last exit 1 Error)",
    ],
    [
      "waiting (no reason yet) to start again after an error",
      { state: { waiting: {} }, restartCount: 2, lastState: { terminated: { exitCode: 2, reason: "Error" } } },
      DEFAULT_THRESHOLDS,
      "RestartingAfterError (restarts 2, last exit 2 Error)",
    ],
    ["a first termination (no restart yet) waits", { state: { terminated: { exitCode: 1, reason: "Error" } }, restartCount: 0 }, DEFAULT_THRESHOLDS, null],
    ["restarting after an error under a higher threshold waits", { state: { terminated: { exitCode: 1, reason: "Error" } }, restartCount: 2 }, { ...DEFAULT_THRESHOLDS, crashLoopRestarts: 3 }, null],
    ["running again after an error waits (readiness and the deadline decide)", { state: { running: {} }, restartCount: 1, lastState: { terminated: { exitCode: 1, reason: "Error" } } }, DEFAULT_THRESHOLDS, null],
    ["exit 0 (Completed) is not an error", { state: { terminated: { exitCode: 0, reason: "Completed" } }, restartCount: 1 }, DEFAULT_THRESHOLDS, null],
    ["ContainerCreating is not a failure", waiting("ContainerCreating"), DEFAULT_THRESHOLDS, null],
    ["running is not a failure", { state: { running: {} }, ready: true }, DEFAULT_THRESHOLDS, null],
  ])("%s", (_name, cs, thresholds, expected) => {
    const problems = podProblems("deployment/api", pod(current, cs as Partial<V1ContainerStatus>), thresholds);
    expect(problems.map((p) => `${p.reason}${p.message ? ` (${p.message})` : ""}`)).toEqual(expected ? [expected] : []);
    if (expected) expect(problems[0]).toMatchObject({ workload: "deployment/api", object: "pod/api-2-x", container: "app" });
  });

  it("names the init container that fails", () => {
    const problems = podProblems("deployment/api", pod(current, { state: { waiting: { reason: "CreateContainerConfigError" } } }, undefined, true), DEFAULT_THRESHOLDS);
    expect(problems).toEqual([{ workload: "deployment/api", object: "pod/api-2-x", container: "migrate", reason: "CreateContainerConfigError", message: "" }]);
  });
});

describe("pipelines/src/rollout/health: evaluateDeployment", () => {
  const old = rs("1", "api-1");
  const current = rs("2", "api-2");
  const crashing = { state: { waiting: { reason: "CrashLoopBackOff" } }, restartCount: 4 };

  it("fails on a crash-looping pod of the current ReplicaSet, naming pod and container", () => {
    const v = evaluateDeployment(deployment({ updated: 1 }), [old, current], [pod(current, crashing)], [], DEFAULT_THRESHOLDS);
    expect(v).toMatchObject({ state: "failed", message: "failed: CrashLoopBackOff in pod/api-2-x container app" });
  });

  it("does not blame the new release for the previous release's pods", () => {
    const v = evaluateDeployment(deployment({ updated: 1 }), [old, current], [pod(old, crashing, "acr.io/shop/api:v1")], [], DEFAULT_THRESHOLDS);
    expect(v.state).toBe("waiting");
  });

  it("does not judge any pod before the controller observed the new spec", () => {
    const d = deployment({ generation: 3, observed: 2 });
    const v = evaluateDeployment(d, [old, current], [pod(current, crashing)], [], DEFAULT_THRESHOLDS);
    expect(v).toMatchObject({ state: "waiting", message: "Waiting for deployment spec update to be observed..." });
  });

  it("fails on ProgressDeadlineExceeded with the controller's message", () => {
    const v = evaluateDeployment(deployment({ updated: 1, deadline: true }), [current], [], [], DEFAULT_THRESHOLDS);
    expect(v.problems).toEqual([{ workload: "deployment/api", object: "deployment/api", reason: "ProgressDeadlineExceeded", message: 'ReplicaSet "api-2" has timed out progressing.' }]);
  });

  it("waits while the template runs another tag than --image, even when kubectl would call it rolled out", () => {
    const v = evaluateDeployment(deployment({ image: "acr.io/shop/api:v1" }), [current], [], [{ image: "acr.io/shop/api", tag: "v2" }], DEFAULT_THRESHOLDS);
    expect(v).toMatchObject({ state: "waiting", message: "template runs acr.io/shop/api:v1, expected acr.io/shop/api at v2 (GitOps change not applied yet?)" });
  });

  it("waits while a pod of the current ReplicaSet runs another image", () => {
    const v = evaluateDeployment(deployment(), [current], [pod(current, { ready: true, state: { running: {} } }, "acr.io/shop/api:v1")], [{ image: "api", tag: "v2" }], DEFAULT_THRESHOLDS);
    expect(v).toMatchObject({ state: "waiting", message: "pod/api-2-x runs acr.io/shop/api:v1, expected api at v2" });
  });

  // Issue 14: Unschedulable and ReplicaFailure fail after failOn.unschedulableGrace, counted on the verifier's clock.
  const unschedulable = (): V1Pod => ({
    metadata: { name: "api-2-x", ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "api-2", uid: "rs-2" }] },
    spec: { containers: [{ name: "app", image: "acr.io/shop/api:v2" }] },
    // As the scheduler writes it: no container statuses, no optional fields beyond the condition.
    status: { phase: "Pending", conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable", message: "0/3 nodes are available: 3 Insufficient cpu." }] },
  });
  const seen = (ms: number) => ({ seenFor: () => ms });
  const grace = { ...DEFAULT_THRESHOLDS, unschedulableGraceMs: 60_000 };

  it.each([
    ["within the grace: waiting, with the time left", 20_000, "waiting", 40_000],
    ["at the grace: failed with the scheduler's message", 60_000, "failed", undefined],
  ])("an unschedulable pod %s", (_name, ms, state, failInMs) => {
    const v = evaluateDeployment(deployment({ updated: 1, available: 1 }), [current], [unschedulable()], [], grace, seen(ms));
    expect(v.state).toBe(state);
    if (failInMs !== undefined) {
      expect(v.pending).toEqual([{ object: "pod/api-2-x", reason: "Unschedulable", message: "0/3 nodes are available: 3 Insufficient cpu.", failInMs }]);
      expect(v.message).toContain("Unschedulable in pod/api-2-x (0/3 nodes are available: 3 Insufficient cpu.), fails if it lasts");
    } else expect(v.problems).toEqual([{ workload: "deployment/api", object: "pod/api-2-x", reason: "Unschedulable", message: "0/3 nodes are available: 3 Insufficient cpu." }]);
  });

  it("fails on ReplicaFailure (quota) after the grace, from the Deployment's condition or the ReplicaSet's", () => {
    const cond = { type: "ReplicaFailure", status: "True", reason: "FailedCreate", message: 'pods "api-2-abcde" is forbidden: exceeded quota: compute' };
    const d = deployment({ updated: 0, available: 2 });
    d.status!.conditions = [cond];
    expect(evaluateDeployment(d, [current], [], [], grace, seen(60_000)).problems).toEqual([
      { workload: "deployment/api", object: "deployment/api", reason: "ReplicaFailure", message: 'FailedCreate: pods "api-2-abcde" is forbidden: exceeded quota: compute' },
    ]);
    const onRs = { ...current, status: { replicas: 0, conditions: [cond] } };
    expect(evaluateDeployment(deployment({ updated: 0 }), [onRs], [], [], grace, seen(60_000)).state).toBe("failed");
    expect(evaluateDeployment(d, [current], [], [], grace, seen(1000)).state).toBe("waiting");
  });

  it("is healthy when rolled out and every pod runs the expected image", () => {
    const v = evaluateDeployment(deployment(), [old, current], [pod(current, { ready: true, state: { running: {} } })], [{ image: "api", tag: "v2" }], DEFAULT_THRESHOLDS);
    expect(v).toMatchObject({ state: "healthy", message: 'deployment "api" successfully rolled out' });
  });
});

describe("pipelines/src/rollout/images", () => {
  it.each([
    ["acr.io/shop/api=sha-0123456789ab", { image: "acr.io/shop/api", tag: "sha-0123456789ab" }],
    [`api=sha256:${"a".repeat(64)}`, { image: "api", tag: `sha256:${"a".repeat(64)}` }],
    ["api", null],
    ["=v1", null],
    ["Api=v1", null],
    ["api=", null],
    ["api=sha256:short", null],
    ["localhost:5000/api=v1", { image: "localhost:5000/api", tag: "v1" }],
    ["api:5000=v1", null],
    ["api:v1=v2", null],
  ])("parseImageExpectation(%s)", (text, expected) => {
    expect(parseImageExpectation(text)).toEqual(expected);
  });

  it("matches by repository suffix and compares digests when the expectation is one", () => {
    const digest = `sha256:${"b".repeat(64)}`;
    expect(imageMismatches(["acr.io/shop/api@" + digest, "acr.io/shop/worker:v1"], [{ image: "shop/api", tag: digest }])).toEqual([]);
    expect(imageMismatches(["acr.io/shop/api:v1"], [{ image: "shop/api", tag: digest }])).toEqual([`runs acr.io/shop/api:v1, expected shop/api at ${digest}`]);
    expect(imageMismatches(["acr.io/shop/apiserver:v1"], [{ image: "api", tag: "v2" }])).toEqual([]);
  });

  it("treats Docker Hub spellings of one image as the same repository", () => {
    expect(imageMismatches(["nginx:1.25"], [{ image: "docker.io/library/nginx", tag: "1.26" }])).toEqual(["runs nginx:1.25, expected docker.io/library/nginx at 1.26"]);
    expect(imageMismatches(["docker.io/library/nginx:1.26"], [{ image: "nginx", tag: "1.26" }])).toEqual([]);
    expect(imageMismatches(["acr.io/team/nginx:1.25"], [{ image: "library/nginx", tag: "1.26" }])).toEqual([]);
  });
});

describe("pipelines/src/rollout/gitops", () => {
  it.each([
    [`main@sha1:${SHA}`, SHA, true],
    [`main/${SHA}`, SHA, true],
    [SHA, SHA.slice(0, 12), true],
    [`main@sha1:${SHA}`, "0123456", true],
    [`main@sha1:${SHA}`, "1123456", false],
    [undefined, SHA, false],
  ])("revisionMatches(%s, %s) = %s", (observed, sha, expected) => {
    expect(revisionMatches(observed, sha)).toBe(expected);
  });

  const ks = (status: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ apiVersion: "kustomize.toolkit.fluxcd.io/v1", kind: "Kustomization", metadata: { name: "apps", generation: 2 }, ...extra, status: { observedGeneration: 2, ...status } });
  const ready = (s: string, reason: string, message = "") => [{ type: "Ready", status: s, reason, message }];

  it.each([
    ["applied", ks({ lastAppliedRevision: `main@sha1:${SHA}`, conditions: ready("True", "ReconciliationSucceeded") }), "applied"],
    ["older revision", ks({ lastAppliedRevision: "main@sha1:ffffffffffffffffffffffffffffffffffffffff", conditions: ready("True", "ReconciliationSucceeded") }), "waiting"],
    ["new generation not observed", ks({ observedGeneration: 1, lastAppliedRevision: `main@sha1:${SHA}`, conditions: ready("True", "ReconciliationSucceeded") }), "waiting"],
    ["in progress", ks({ lastAttemptedRevision: `main@sha1:${SHA}`, conditions: ready("Unknown", "Progressing") }), "waiting"],
    ["build failed for our revision", ks({ lastAttemptedRevision: `main@sha1:${SHA}`, conditions: ready("False", "BuildFailed", "kustomize build failed") }), "failed"],
    ["failure of an older revision", ks({ lastAttemptedRevision: "main@sha1:ffffffffffffffffffffffffffffffffffffffff", conditions: ready("False", "BuildFailed") }), "waiting"],
    ["suspended", ks({}, { spec: { suspend: true } }), "failed"],
    ["missing", undefined, "waiting"],
    // Issue 14, item 5 (fluxcd/kustomize-controller kustomization_controller.go; kstatus generic.go).
    ["no observedGeneration (kstatus skips the check), applied", { apiVersion: "kustomize.toolkit.fluxcd.io/v1", kind: "Kustomization", metadata: { name: "apps", generation: 2 }, status: { lastAppliedRevision: `main@sha1:${SHA}`, conditions: ready("True", "ReconciliationSucceeded") } }, "applied"],
    ["no status at all", { apiVersion: "kustomize.toolkit.fluxcd.io/v1", kind: "Kustomization", metadata: { name: "apps", generation: 1 } }, "waiting"],
    ["ArtifactFailed before any attempt with our revision", ks({ lastAttemptedRevision: "main@sha1:ffffffffffffffffffffffffffffffffffffffff", conditions: ready("False", "ArtifactFailed", "kustomization path not found: stat /tmp/kustomization-1/apps/prod: no such file or directory") }), "failed"],
    ["ArtifactFailed while source-controller has no artifact yet (the controller requeues)", ks({ conditions: ready("False", "ArtifactFailed", "Source artifact not found, retrying in 30s") }), "waiting"],
    ["HealthCheckFailed for our revision", ks({ lastAttemptedRevision: `main@sha1:${SHA}`, conditions: ready("False", "HealthCheckFailed", "health check failed after 5m0s: timeout waiting for: [Deployment/shop/api status: 'InProgress']") }), "failed"],
    ["ReconciliationFailed for our revision", ks({ lastAttemptedRevision: `main@sha1:${SHA}`, conditions: ready("False", "ReconciliationFailed", "Deployment/shop/api dry-run failed: spec.replicas: Invalid value") }), "failed"],
    ["Stalled=True (kstatus: Failed)", ks({ conditions: [...ready("False", "InvalidCELExpression", "terminal error"), { type: "Stalled", status: "True", reason: "InvalidCELExpression", message: "terminal error" }] }), "failed"],
    ["DependencyNotReady, dependency not seen", ks({ conditions: ready("False", "DependencyNotReady", "dependency 'flux-system/infra' is not ready") }), "waiting"],
  ])("fluxApplied: %s", (_name, obj, state) => {
    expect(fluxApplied(obj, SHA).state).toBe(state);
  });

  it("fluxApplied: DependencyNotReady fails when the dependency failed, naming it and its message; waits when it is only slow", () => {
    const apps = { ...ks({ conditions: ready("False", "DependencyNotReady", "dependency 'flux-system/infra' is not ready") }), spec: { dependsOn: [{ name: "infra" }] } };
    const failedInfra = ks({ lastAttemptedRevision: `main@sha1:${SHA}`, conditions: ready("False", "BuildFailed", "kustomize build failed: missing Resource metadata") });
    const slowInfra = ks({ conditions: ready("Unknown", "Progressing", "Reconciliation in progress") });
    expect(fluxApplied(apps, SHA, (ns, name) => (ns === "flux-system" && name === "infra" ? failedInfra : undefined))).toMatchObject({
      state: "failed",
      message: "waits for dependency flux-system/infra, which failed: BuildFailed: kustomize build failed: missing Resource metadata",
    });
    expect(fluxApplied(apps, SHA, () => slowInfra).state).toBe("waiting");
  });

  const app = (status: Record<string, unknown>) => ({ apiVersion: "argoproj.io/v1alpha1", kind: "Application", metadata: { name: "shop" }, status });
  it.each([
    ["synced and healthy", app({ sync: { status: "Synced", revision: SHA }, health: { status: "Healthy" } }), "applied"],
    ["synced, still progressing", app({ sync: { status: "Synced", revision: SHA }, health: { status: "Progressing" } }), "waiting"],
    ["out of sync at an older revision", app({ sync: { status: "OutOfSync", revision: "f".repeat(40) }, health: { status: "Healthy" } }), "waiting"],
    ["sync operation failed for our revision", app({ sync: { status: "OutOfSync" }, operationState: { phase: "Failed", message: "one or more objects failed to apply", syncResult: { revision: SHA } } }), "failed"],
    ["synced but Degraded", app({ sync: { status: "Synced", revision: SHA }, health: { status: "Degraded", message: "Deployment exceeded its progress deadline" } }), "failed"],
    // Issue 14, item 6 (argo-cd types.go; gitops-engine pkg/health/health.go).
    ["synced but Suspended", app({ sync: { status: "Synced", revision: SHA }, health: { status: "Suspended" } }), "failed"],
    ["synced but Missing", app({ sync: { status: "Synced", revision: SHA }, health: { status: "Missing" } }), "failed"],
    ["Missing before the sync (OutOfSync, no operation yet)", app({ sync: { status: "OutOfSync", revision: SHA }, health: { status: "Missing" } }), "waiting"],
    ["Missing after a succeeded sync of our revision", app({ sync: { status: "OutOfSync", revision: SHA }, health: { status: "Missing" }, operationState: { phase: "Succeeded", syncResult: { revision: SHA } } }), "failed"],
    ["sync operation Error for our revision, only in operation.sync", app({ sync: { status: "OutOfSync" }, operationState: { phase: "Error", message: "ComparisonError", operation: { sync: { revision: SHA } } } }), "failed"],
    ["operation Failed for an older revision", app({ sync: { status: "Synced", revision: "f".repeat(40) }, health: { status: "Healthy" }, operationState: { phase: "Failed", syncResult: { revision: "f".repeat(40) } } }), "waiting"],
    ["multi-source: synced, one of status.sync.revisions is ours", app({ sync: { status: "Synced", revisions: ["v1.4.2", SHA] }, health: { status: "Healthy" } }), "applied"],
    ["multi-source: sync Failed with ours in syncResult.revisions", app({ sync: { status: "OutOfSync", revisions: ["v1.4.2", "f".repeat(40)] }, operationState: { phase: "Failed", message: "one or more objects failed to apply", syncResult: { revisions: ["v1.4.2", SHA] } } }), "failed"],
    ["multi-source: at older revisions", app({ sync: { status: "Synced", revisions: ["v1.4.2", "f".repeat(40)] }, health: { status: "Healthy" } }), "waiting"],
    ["no status at all", app({}), "waiting"],
  ])("argoApplied: %s", (_name, obj, state) => {
    expect(argoApplied(obj, SHA).state).toBe(state);
  });
});

describe("pipelines/src/rollout/duration", () => {
  it.each([
    ["90s", 90_000],
    ["10m", 600_000],
    ["1h30m", 5_400_000],
    ["500ms", 500],
    ["0s", null],
    ["10", null],
    ["1.5m", null],
    ["-1m", null],
  ])("parseDuration(%s) = %s", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });
  it("formats for humans", () => {
    expect([formatDuration(850), formatDuration(1250), formatDuration(90_000), formatDuration(600_000)]).toEqual(["850ms", "1.3s", "1m30s", "10m"]);
  });
});
