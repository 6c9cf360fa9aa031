import { describe, expect, it } from "vitest";
import { DEFAULT_THRESHOLDS, renderProblem } from "../../../pipelines/src/rollout/health.js";
import { daemonSetPods, evaluateDaemonSet, evaluateStatefulSet, kubectlDaemonSetStatus, kubectlStatefulSetStatus, statefulSetPods } from "../../../pipelines/src/rollout/workloads.js";

// client-node lives in pipelines/node_modules (not hoisted): take its types from our functions' signatures.
type V1StatefulSet = Parameters<typeof kubectlStatefulSetStatus>[0];
type V1DaemonSet = Parameters<typeof kubectlDaemonSetStatus>[0];
type V1Pod = Parameters<typeof statefulSetPods>[1][number];

const IMAGE = [{ image: "acr.io/shop/cache", tag: "v2" }];

function sts(over: {
  generation?: number;
  observed?: number;
  replicas?: number;
  ready?: number;
  updated?: number;
  current?: number;
  strategy?: NonNullable<V1StatefulSet["spec"]>["updateStrategy"];
  updateRevision?: string;
  currentRevision?: string;
} = {}): V1StatefulSet {
  return {
    metadata: { name: "cache", uid: "s-1", generation: over.generation ?? 2 },
    spec: {
      replicas: over.replicas ?? 3,
      serviceName: "cache",
      selector: {},
      updateStrategy: "strategy" in over ? over.strategy : { type: "RollingUpdate", rollingUpdate: { partition: 0 } },
      template: { spec: { containers: [{ name: "app", image: "acr.io/shop/cache:v2" }] } },
    },
    status: {
      observedGeneration: over.observed ?? 2,
      replicas: over.replicas ?? 3,
      readyReplicas: over.ready ?? 3,
      updatedReplicas: over.updated ?? 3,
      currentReplicas: over.current ?? 3,
      updateRevision: over.updateRevision ?? "cache-b",
      currentRevision: over.currentRevision ?? "cache-b",
    },
  };
}

function ds(over: { generation?: number; observed?: number; desired?: number; updated?: number; available?: number; type?: string; templateGeneration?: string } = {}): V1DaemonSet {
  return {
    metadata: { name: "agent", uid: "d-1", generation: over.generation ?? 2, annotations: over.templateGeneration === "" ? {} : { "deprecated.daemonset.template.generation": over.templateGeneration ?? "2" } },
    spec: { selector: {}, updateStrategy: { type: over.type ?? "RollingUpdate" }, template: { spec: { containers: [{ name: "app", image: "acr.io/shop/cache:v2" }] } } },
    status: {
      observedGeneration: over.observed ?? 2,
      desiredNumberScheduled: over.desired ?? 3,
      currentNumberScheduled: over.desired ?? 3,
      numberMisscheduled: 0,
      numberReady: over.available ?? 3,
      updatedNumberScheduled: over.updated ?? 3,
      numberAvailable: over.available ?? 3,
    },
  };
}

function pod(name: string, owner: { kind: string; uid: string }, labels: Record<string, string>, waiting?: string, restarts = 0): V1Pod {
  return {
    metadata: { name, labels, ownerReferences: [{ apiVersion: "apps/v1", kind: owner.kind, name: "x", uid: owner.uid }] },
    spec: { containers: [{ name: "app", image: "acr.io/shop/cache:v2" }] },
    status: { containerStatuses: [{ name: "app", image: "acr.io/shop/cache:v2", imageID: "", ready: !waiting, restartCount: restarts, state: waiting ? { waiting: { reason: waiting } } : { running: {} } }] },
  };
}

describe("pipelines/src/rollout/workloads: kubectlStatefulSetStatus (kubectl's StatefulSetStatusViewer rules)", () => {
  it.each([
    ["OnDelete", sts({ strategy: { type: "OnDelete" } }), false, "rollout status is only available for RollingUpdate strategy type", "updateStrategy OnDelete"],
    ["no strategy (kubectl compares the type to RollingUpdate)", sts({ strategy: undefined }), false, "rollout status is only available for RollingUpdate strategy type", "updateStrategy (none)"],
    ["observedGeneration 0", sts({ observed: 0, generation: 1 }), false, "Waiting for statefulset spec update to be observed...", undefined],
    ["spec not observed", sts({ generation: 3 }), false, "Waiting for statefulset spec update to be observed...", undefined],
    ["pods not ready", sts({ ready: 1 }), false, "Waiting for 2 pods to be ready...", undefined],
    ["partition not reached", sts({ updated: 0, strategy: { type: "RollingUpdate", rollingUpdate: { partition: 2 } } }), false, "Waiting for partitioned roll out to finish: 0 out of 1 new pods have been updated...", undefined],
    ["partition reached", sts({ updated: 1, strategy: { type: "RollingUpdate", rollingUpdate: { partition: 2 } } }), true, "partitioned roll out complete: 1 new pods have been updated...", undefined],
    // rollingUpdate set without a partition: kubectl checks nothing more, whatever the revisions.
    ["rollingUpdate without partition", sts({ updated: 0, updateRevision: "cache-b", currentRevision: "cache-a", strategy: { type: "RollingUpdate", rollingUpdate: {} } }), true, "partitioned roll out complete: 0 new pods have been updated...", undefined],
    ["no rollingUpdate, revisions differ", sts({ updated: 1, updateRevision: "cache-b", currentRevision: "cache-a", strategy: { type: "RollingUpdate" } }), false, "waiting for statefulset rolling update to complete 1 pods at revision cache-b...", undefined],
    ["no rollingUpdate, revisions equal", sts({ strategy: { type: "RollingUpdate" } }), true, "statefulset rolling update complete 3 pods at revision cache-b...", undefined],
  ])("%s", (_name, s, done, message, unsupported) => {
    expect(kubectlStatefulSetStatus(s)).toEqual({ done, message, ...(unsupported ? { unsupported } : {}) });
  });
});

describe("pipelines/src/rollout/workloads: kubectlDaemonSetStatus (kubectl's DaemonSetStatusViewer rules)", () => {
  it.each([
    ["OnDelete", ds({ type: "OnDelete" }), false, "rollout status is only available for RollingUpdate strategy type"],
    ["spec not observed", ds({ generation: 3 }), false, "Waiting for daemon set spec update to be observed..."],
    ["a node not updated", ds({ updated: 2 }), false, 'Waiting for daemon set "agent" rollout to finish: 2 out of 3 new pods have been updated...'],
    ["a pod not available", ds({ available: 2 }), false, 'Waiting for daemon set "agent" rollout to finish: 2 of 3 updated pods are available...'],
    ["rolled out", ds(), true, 'daemon set "agent" successfully rolled out'],
  ])("%s", (_name, d, done, message) => {
    expect(kubectlDaemonSetStatus(d)).toMatchObject({ done, message });
  });
});

describe("pipelines/src/rollout/workloads: the new pods and the pod-level fail-fast rules", () => {
  const S = { kind: "StatefulSet", uid: "s-1" };
  const D = { kind: "DaemonSet", uid: "d-1" };

  it("a StatefulSet's new pods carry controller-revision-hash = status.updateRevision; none before the spec is observed", () => {
    const pods = [pod("cache-2", S, { "controller-revision-hash": "cache-b" }), pod("cache-1", S, { "controller-revision-hash": "cache-a" }), pod("other-0", { kind: "StatefulSet", uid: "s-2" }, { "controller-revision-hash": "cache-b" })];
    expect(statefulSetPods(sts(), pods).map((p) => p.metadata?.name)).toEqual(["cache-2"]);
    expect(statefulSetPods(sts({ generation: 3 }), pods)).toEqual([]);
  });

  it("a DaemonSet's new pods carry pod-template-generation = the template generation annotation, not metadata.generation", () => {
    const pods = [pod("agent-a", D, { "pod-template-generation": "2" }), pod("agent-b", D, { "pod-template-generation": "1" })];
    expect(daemonSetPods(ds(), pods).map((p) => p.metadata?.name)).toEqual(["agent-a"]);
    // A strategy change raised metadata.generation to 3 without a new template: the generation-2 pods are current.
    expect(daemonSetPods(ds({ generation: 3, observed: 3 }), pods).map((p) => p.metadata?.name)).toEqual(["agent-a"]);
    expect(daemonSetPods(ds({ templateGeneration: "" }), pods)).toEqual([]);
  });

  it("fails on a crash-looping new pod of a StatefulSet, naming workload, pod and container; ignores the old revision's pods", () => {
    const v = evaluateStatefulSet(sts({ ready: 2, updated: 1, currentRevision: "cache-a" }), [pod("cache-2", S, { "controller-revision-hash": "cache-b" }, "CrashLoopBackOff", 1), pod("cache-1", S, { "controller-revision-hash": "cache-a" }, "ImagePullBackOff")], IMAGE, DEFAULT_THRESHOLDS);
    expect(v.state).toBe("failed");
    expect(v.problems.map(renderProblem)).toEqual(["statefulset/cache pod/cache-2 container app: CrashLoopBackOff (restarts 1)"]);
  });

  it("fails at once on ImagePullBackOff in a DaemonSet's new pod", () => {
    const v = evaluateDaemonSet(ds({ updated: 1, available: 2 }), [pod("agent-a", D, { "pod-template-generation": "2" }, "ImagePullBackOff")], IMAGE, DEFAULT_THRESHOLDS);
    expect(v.problems.map(renderProblem)).toEqual(["daemonset/agent pod/agent-a container app: ImagePullBackOff"]);
  });

  it("OnDelete is unverifiable, saying why; healthy needs kubectl's done and the expected images", () => {
    expect(evaluateStatefulSet(sts({ strategy: { type: "OnDelete" } }), [], IMAGE, DEFAULT_THRESHOLDS)).toMatchObject({
      state: "unverifiable",
      message: "rollout status is only available for RollingUpdate strategy type (updateStrategy OnDelete: the controller replaces a pod only when it is deleted)",
    });
    expect(evaluateDaemonSet(ds(), [pod("agent-a", D, { "pod-template-generation": "2" })], IMAGE, DEFAULT_THRESHOLDS)).toMatchObject({ state: "healthy", message: 'daemon set "agent" successfully rolled out' });
    expect(evaluateDaemonSet(ds(), [], [{ image: "acr.io/shop/cache", tag: "v3" }], DEFAULT_THRESHOLDS)).toMatchObject({ state: "waiting", message: "template runs acr.io/shop/cache:v2, expected acr.io/shop/cache at v3 (GitOps change not applied yet?)" });
  });
});
