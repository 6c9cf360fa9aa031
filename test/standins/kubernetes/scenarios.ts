import { setTimeout as sleep } from "node:timers/promises";
import type { FakeCluster } from "./cluster.js";

/**
 * Scripted rollouts for the stand-in. `setup` is the state when the clients start (the GitOps change
 * usually already applied to the Deployment spec, as right after `kubectl apply`); `run` is what the
 * controllers and the kubelet do next. `marks` records when a decisive state became visible.
 */
export const REGISTRY = "acr.example.io/shop/api";
export const OLD_TAG = "sha-111111111111";
export const NEW_TAG = "sha-222222222222";
export const OLD_SHA = "1111111111111111111111111111111111111111";
export const NEW_SHA = "2222222222222222222222222222222222222222";
/** A secret value in the Deployment's env: it must never reach a report, a log line or the diagnostics. */
export const SECRET_ENV_VALUE = "postgres://app:s3cr3t-Pa55w0rd@db.internal:5432/app";

export interface Timing {
  /** Time between two controller steps. */
  stepMs: number;
  /** progressDeadlineSeconds as the deployment controller would apply it, counted from the last progress. */
  deadlineMs: number;
}

export interface Marks {
  /** When the state that decides a failure (for us) became visible through the API. */
  failureVisible?: number;
  /** When a tolerated earlier failure (the first OOMKilled) became visible. */
  tolerated?: number;
  /** When the GitOps object reported our commit as applied. */
  applied?: number;
  /** When the Deployment became available with the new release (the controller's last status write). */
  available?: number;
}

/** `unsupported`: kubectl refuses to follow the workload (an OnDelete update strategy), exit 1. */
export type KubectlVerdict = "success" | "deadline" | "timeout" | "unsupported";

export interface Scenario {
  name: string;
  /** The workload's kind (default deployment) and name. */
  kind?: "deployment" | "statefulset" | "daemonset";
  workload: string;
  setup: (c: FakeCluster) => void;
  run: (c: FakeCluster, t: Timing, marks: Marks) => Promise<void>;
  /** Extra flags for `slipway rollout verify`. */
  flags: string[];
  /** slipway.yaml for the run (passed with --config), when the scenario needs settings. */
  config?: string;
  /** `verdict` when it is not the one the exit code implies (1 = failed, 3 = timeout). */
  ours: { exit: 0 | 1 | 3; reason?: RegExp; verdict?: string };
  /**
   * kubectl's verdict; `decides: false` where kubectl cannot see the question (GitOps revision) or only
   * waits (a StatefulSet has no progress deadline). `output` when it is not the Deployment's wording.
   */
  kubectl: { verdict: KubectlVerdict; decides: boolean; output?: RegExp };
}

const IMAGE_FLAG = ["--image", `${REGISTRY}=${NEW_TAG}`];

function startRollout(c: FakeCluster, name = "api"): void {
  c.createRolledOut(name, `${REGISTRY}:${OLD_TAG}`, { env: { DATABASE_URL: SECRET_ENV_VALUE } });
  c.applyImage(name, `${REGISTRY}:${NEW_TAG}`);
}

/** The rolling update goes well: one new pod at a time, old pods retired, all available. */
async function rollWell(c: FakeCluster, t: Timing, name = "api"): Promise<void> {
  await sleep(t.stepMs);
  const rs = c.observe(name);
  c.setStatus(name, { replicas: 3, updatedReplicas: 1, readyReplicas: 2, availableReplicas: 2 });
  const p0 = c.createPod(rs, 0, { state: { waiting: "ContainerCreating" } });
  await sleep(t.stepMs);
  c.setPod(p0, { state: { running: true, ready: true } });
  c.setStatus(name, { replicas: 3, updatedReplicas: 1, readyReplicas: 3, availableReplicas: 3 });
  await sleep(t.stepMs);
  c.createPod(rs, 1, { state: { running: true, ready: true } });
  c.setStatus(name, { replicas: 3, updatedReplicas: 2, readyReplicas: 3, availableReplicas: 3 });
  await sleep(t.stepMs);
  c.retireOldReplicaSets(name);
  c.setStatus(name, { replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 }, "NewReplicaSetAvailable");
}

/** A new pod that never becomes ready; the controller times out after the deadline. */
async function failingPod(c: FakeCluster, t: Timing, marks: Marks, kubelet: (pod: string) => Promise<void>): Promise<void> {
  await sleep(t.stepMs);
  const rs = c.observe("api");
  c.setStatus("api", { replicas: 3, updatedReplicas: 1, readyReplicas: 2, availableReplicas: 2 });
  const pod = c.createPod(rs, 0, { state: { waiting: "ContainerCreating" } });
  await sleep(t.stepMs);
  await kubelet(pod);
  marks.failureVisible ??= Date.now();
  await sleep(t.deadlineMs);
  c.exceedProgressDeadline("api");
}

/** A HelmRelease whose generation `generation` helm-controller released as Helm release v`version`. */
function released(generation: number, version: number): { attempted: number; attemptedValues: string; conditions: { type: string; status: "True"; reason: string; message: string }[]; history: { version: number; status: string; values: string }[] } {
  const message = `Helm upgrade succeeded for release shop/api.v${version} with chart api@1.4.2`;
  return {
    attempted: generation,
    attemptedValues: `values-${generation}`,
    conditions: [
      { type: "Ready", status: "True", reason: "UpgradeSucceeded", message },
      { type: "Released", status: "True", reason: "UpgradeSucceeded", message },
    ],
    history: [
      { version, status: "deployed", values: `values-${generation}` },
      ...(version > 1 ? [{ version: version - 1, status: "superseded", values: `values-${generation - 1}` }] : []),
    ],
  };
}

export const SCENARIOS: Scenario[] = [
  {
    name: "healthy rollout",
    workload: "api",
    setup: (c) => startRollout(c),
    run: async (c, t, marks) => {
      await rollWell(c, t);
      marks.available = Date.now();
    },
    flags: IMAGE_FLAG,
    ours: { exit: 0 },
    kubectl: { verdict: "success", decides: true },
  },
  {
    name: "slow rollout (past the timeout)",
    workload: "api",
    // The first new replica is already up when the verifiers start, and the rest waits far past their
    // timeout: the state they time out in does not depend on how loaded the machine is.
    setup: (c) => {
      startRollout(c);
      const rs = c.observe("api");
      c.createPod(rs, 0, { state: { running: true, ready: true } });
      c.setStatus("api", { replicas: 3, updatedReplicas: 1, readyReplicas: 3, availableReplicas: 3 });
    },
    run: async (c, t) => {
      await sleep(t.deadlineMs * 2);
      const rs = c.observe("api");
      c.createPod(rs, 1, { state: { running: true, ready: true } });
      c.retireOldReplicaSets("api");
      c.setStatus("api", { replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 }, "NewReplicaSetAvailable");
    },
    flags: [...IMAGE_FLAG, "--timeout", "1s"],
    ours: { exit: 3, reason: /not done after 1s\n {2}- still waiting: deployment\/api: Waiting for deployment "api" rollout to finish: 1 out of 2 new replicas have been updated/ },
    kubectl: { verdict: "timeout", decides: true },
  },
  {
    name: "crash loop",
    workload: "api",
    setup: (c) => startRollout(c),
    run: (c, t, marks) =>
      failingPod(c, t, marks, async (pod) => {
        c.setPod(pod, { state: { running: true, ready: false } });
        await sleep(t.stepMs);
        c.log(pod, ["listening on :8080", "Error: connect ECONNREFUSED 10.0.0.5:5432", "    at TCPConnectWrap.afterConnect"], true);
        c.setPod(pod, { state: { waiting: "CrashLoopBackOff", message: `back-off 10s restarting failed container=app pod=${pod}` }, restartCount: 1, lastTerminated: { reason: "Error", exitCode: 1 } });
        c.event("Pod", pod, "Warning", "BackOff", "Back-off restarting failed container app in pod");
      }),
    flags: IMAGE_FLAG,
    ours: { exit: 1, reason: /deployment\/api pod\/api-\w+-\w+ container app: CrashLoopBackOff \(restarts 1, last exit 1 Error\)/ },
    kubectl: { verdict: "deadline", decides: true },
  },
  {
    // Issue 14: the container exits with an error and is restarted; the kubelet has not said CrashLoopBackOff
    // yet (it shows Terminated between starts). failOn.crashLoopRestarts (1) decides, as for CrashLoopBackOff.
    name: "restarting after an error, before CrashLoopBackOff",
    workload: "api",
    setup: (c) => startRollout(c),
    run: (c, t, marks) =>
      failingPod(c, t, marks, async (pod) => {
        c.setPod(pod, { state: { running: true, ready: false } });
        await sleep(t.stepMs);
        c.setPod(pod, { state: { terminated: "Error", exitCode: 1 } });
        await sleep(t.stepMs);
        c.log(pod, ["Error: connect ECONNREFUSED 10.0.0.5:5432"], true);
        c.setPod(pod, { state: { terminated: "Error", exitCode: 1 }, restartCount: 1, lastTerminated: { reason: "Error", exitCode: 1 } });
        marks.failureVisible = Date.now();
      }),
    flags: IMAGE_FLAG,
    ours: { exit: 1, reason: /deployment\/api pod\/api-\w+-\w+ container app: RestartingAfterError \(restarts 1, last exit 1 Error\)/ },
    kubectl: { verdict: "deadline", decides: true },
  },
  {
    name: "image pull error",
    workload: "api",
    setup: (c) => startRollout(c),
    run: (c, t, marks) =>
      failingPod(c, t, marks, async (pod) => {
        const msg = `failed to pull and unpack image "${REGISTRY}:${NEW_TAG}": not found`;
        c.setPod(pod, { state: { waiting: "ErrImagePull", message: msg } });
        c.event("Pod", pod, "Warning", "Failed", `Failed to pull image "${REGISTRY}:${NEW_TAG}": not found`);
        marks.failureVisible = Date.now();
        await sleep(t.stepMs);
        c.setPod(pod, { state: { waiting: "ImagePullBackOff", message: `Back-off pulling image "${REGISTRY}:${NEW_TAG}"` } });
      }),
    flags: IMAGE_FLAG,
    ours: { exit: 1, reason: /container app: ErrImagePull \(failed to pull and unpack image/ },
    kubectl: { verdict: "deadline", decides: true },
  },
  {
    name: "repeated OOMKilled",
    workload: "api",
    setup: (c) => startRollout(c),
    run: (c, t, marks) =>
      failingPod(c, t, marks, async (pod) => {
        c.setPod(pod, { state: { running: true, ready: false } });
        await sleep(t.stepMs);
        c.setPod(pod, { state: { waiting: "CrashLoopBackOff" }, restartCount: 1, lastTerminated: { reason: "OOMKilled", exitCode: 137 } });
        marks.tolerated = Date.now();
        await sleep(t.stepMs * 3);
        c.setPod(pod, { state: { running: true, ready: false }, restartCount: 1, lastTerminated: { reason: "OOMKilled", exitCode: 137 } });
        await sleep(t.stepMs);
        c.log(pod, ["loading catalogue into memory", "heap 480MiB"], true);
        c.setPod(pod, { state: { waiting: "CrashLoopBackOff" }, restartCount: 2, lastTerminated: { reason: "OOMKilled", exitCode: 137 } });
      }),
    flags: IMAGE_FLAG,
    ours: { exit: 1, reason: /container app: OOMKilled \(killed for memory, restarts 2\)/ },
    kubectl: { verdict: "deadline", decides: true },
  },
  {
    name: "config error",
    workload: "api",
    setup: (c) => startRollout(c),
    run: (c, t, marks) =>
      failingPod(c, t, marks, async (pod) => {
        c.setPod(pod, { state: { waiting: "CreateContainerConfigError", message: 'secret "api-db" not found' } });
        c.event("Pod", pod, "Warning", "Failed", 'Error: secret "api-db" not found');
      }),
    flags: IMAGE_FLAG,
    ours: { exit: 1, reason: /container app: CreateContainerConfigError \(secret "api-db" not found\)/ },
    kubectl: { verdict: "deadline", decides: true },
  },
  {
    name: "progress deadline (unschedulable pod)",
    workload: "api",
    setup: (c) => startRollout(c),
    run: (c, t, marks) =>
      failingPod(c, t, marks, async (pod) => {
        c.api.store.update("pods", c.namespace, pod, (p) => {
          p.status = { phase: "Pending", conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable", message: "0/3 nodes are available: 3 Insufficient cpu." }] };
        });
        c.event("Pod", pod, "Warning", "FailedScheduling", "0/3 nodes are available: 3 Insufficient cpu.");
        marks.failureVisible = Date.now() + t.deadlineMs;
      }),
    flags: IMAGE_FLAG,
    ours: { exit: 1, reason: /deployment\/api: ProgressDeadlineExceeded \(ReplicaSet "api-\w+" has timed out progressing.\)/ },
    kubectl: { verdict: "deadline", decides: true },
  },
  {
    // Issue 14: the scheduler finds no node for the new pod. kubectl waits for the progress deadline; ours
    // fails once failOn.unschedulableGrace (500ms here) has passed, with the scheduler's message.
    name: "unschedulable pod past failOn.unschedulableGrace",
    workload: "api",
    setup: (c) => startRollout(c),
    run: async (c, t, marks) => {
      await sleep(t.stepMs);
      const rs = c.observe("api");
      c.setStatus("api", { replicas: 3, updatedReplicas: 1, readyReplicas: 2, availableReplicas: 2 });
      const pod = c.createPod(rs, 0, { state: { waiting: "ContainerCreating" } });
      c.unschedulable(pod, "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.");
      c.event("Pod", pod, "Warning", "FailedScheduling", "0/3 nodes are available: 3 Insufficient cpu.");
      marks.failureVisible = Date.now() + 500;
      await sleep(t.deadlineMs);
      c.exceedProgressDeadline("api");
    },
    flags: IMAGE_FLAG,
    config: "rollout:\n  failOn:\n    unschedulableGrace: 500ms\n",
    ours: { exit: 1, reason: /deployment\/api pod\/api-\w+-\w+: Unschedulable \(0\/3 nodes are available: 3 Insufficient cpu\. preemption/ },
    kubectl: { verdict: "deadline", decides: true },
  },
  {
    // Issue 14: unschedulable for a moment (a node being added), then scheduled: within the grace, tolerated.
    name: "unschedulable within the grace, then scheduled",
    workload: "api",
    setup: (c) => startRollout(c),
    run: async (c, t) => {
      await sleep(t.stepMs);
      const rs = c.observe("api");
      c.setStatus("api", { replicas: 3, updatedReplicas: 1, readyReplicas: 2, availableReplicas: 2 });
      const pod = c.createPod(rs, 0, { state: { waiting: "ContainerCreating" } });
      c.unschedulable(pod, "0/3 nodes are available: 3 Insufficient memory.");
      await sleep(t.stepMs * 3);
      c.setPod(pod, { state: { running: true, ready: true } });
      c.setStatus("api", { replicas: 3, updatedReplicas: 1, readyReplicas: 3, availableReplicas: 3 });
      await sleep(t.stepMs);
      c.createPod(rs, 1, { state: { running: true, ready: true } });
      c.retireOldReplicaSets("api");
      c.setStatus("api", { replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 }, "NewReplicaSetAvailable");
    },
    flags: IMAGE_FLAG,
    config: "rollout:\n  failOn:\n    unschedulableGrace: 5s\n",
    ours: { exit: 0 },
    kubectl: { verdict: "success", decides: true },
  },
  {
    // Issue 14: a ResourceQuota refuses the new pods; the ReplicaSet controller reports ReplicaFailure
    // (FailedCreate) and the deployment controller copies it onto the Deployment. kubectl waits for the deadline.
    name: "ReplicaFailure (quota) past failOn.unschedulableGrace",
    workload: "api",
    setup: (c) => startRollout(c),
    run: async (c, t, marks) => {
      await sleep(t.stepMs);
      const rs = c.observe("api");
      c.replicaFailure(
        "api",
        `pods "${rs.metadata.name}-x7k2p" is forbidden: exceeded quota: compute-resources, requested: limits.cpu=2, used: limits.cpu=4, limited: limits.cpu=4`,
      );
      c.event("ReplicaSet", rs.metadata.name, "Warning", "FailedCreate", "Error creating: pods is forbidden: exceeded quota: compute-resources");
      marks.failureVisible = Date.now() + 500;
      await sleep(t.deadlineMs);
      c.exceedProgressDeadline("api");
    },
    flags: IMAGE_FLAG,
    config: "rollout:\n  failOn:\n    unschedulableGrace: 500ms\n",
    ours: { exit: 1, reason: /deployment\/api: ReplicaFailure \(FailedCreate: pods "api-\w+-x7k2p" is forbidden: exceeded quota: compute-resources/ },
    kubectl: { verdict: "deadline", decides: true },
  },
  {
    // Issue 14: `kubectl rollout pause` left on (or spec.paused in Git): the controller never rolls out the
    // new template. kubectl's DeploymentStatusViewer does not look at spec.paused and waits; ours answers.
    name: "paused Deployment",
    workload: "api",
    setup: (c) => {
      startRollout(c);
      c.pause("api");
    },
    run: async (c, t, marks) => {
      marks.failureVisible = Date.now();
      await sleep(t.stepMs);
    },
    flags: IMAGE_FLAG,
    ours: {
      exit: 1,
      verdict: "paused",
      reason: /SLIPWAY_ROLLOUT_PAUSED: rollout in namespace "shop" cannot finish: deployment\/api is paused\n {2}- deployment\/api: paused \(spec.paused: true\): Waiting for deployment "api" rollout to finish: 0 out of 2 new replicas have been updated\.\.\.\n {2}Resume with `kubectl -n shop rollout resume deployment\/api`/,
    },
    kubectl: { verdict: "timeout", decides: false },
  },
  {
    name: "Flux revision lagging, then applied",
    workload: "api",
    setup: (c) => {
      c.createRolledOut("api", `${REGISTRY}:${OLD_TAG}`);
      c.kustomization("apps", "flux-system", { applied: `main@sha1:${OLD_SHA}`, ready: "True", reason: "ReconciliationSucceeded" });
    },
    run: async (c, t, marks) => {
      await sleep(t.stepMs * 3);
      c.kustomization("apps", "flux-system", { applied: `main@sha1:${OLD_SHA}`, attempted: `main@sha1:${NEW_SHA}`, ready: "Unknown", reason: "Progressing", message: "Reconciliation in progress" });
      await sleep(t.stepMs * 3);
      c.applyImage("api", `${REGISTRY}:${NEW_TAG}`);
      c.kustomization("apps", "flux-system", { applied: `main@sha1:${NEW_SHA}`, ready: "True", reason: "ReconciliationSucceeded", message: `Applied revision: main@sha1:${NEW_SHA}` });
      marks.applied = Date.now();
      await rollWell(c, t);
    },
    flags: [...IMAGE_FLAG, "--flux-kustomization", "flux-system/apps", "--revision", NEW_SHA],
    ours: { exit: 0 },
    // kubectl sees only the Deployment, which still runs the previous release when it starts: it
    // reports that release as rolled out. This is the question it cannot answer and ours must.
    kubectl: { verdict: "success", decides: false },
  },
  {
    name: "Flux failed to apply the commit",
    workload: "api",
    setup: (c) => {
      c.createRolledOut("api", `${REGISTRY}:${OLD_TAG}`);
      c.kustomization("apps", "flux-system", { applied: `main@sha1:${OLD_SHA}`, ready: "True", reason: "ReconciliationSucceeded" });
    },
    run: async (c, t, marks) => {
      await sleep(t.stepMs);
      c.kustomization("apps", "flux-system", {
        applied: `main@sha1:${OLD_SHA}`,
        attempted: `main@sha1:${NEW_SHA}`,
        ready: "False",
        reason: "BuildFailed",
        message: "kustomize build failed: accumulating resources: 'apps/prod/api.yaml' does not exist",
      });
      marks.failureVisible = Date.now();
    },
    flags: [...IMAGE_FLAG, "--flux-kustomization", "flux-system/apps", "--revision", NEW_SHA],
    ours: { exit: 1, reason: /kustomization\/flux-system\/apps: failed to apply main@sha1:2{40}: BuildFailed: kustomize build failed/ },
    kubectl: { verdict: "success", decides: false },
  },
  {
    // Issue 14, item 5: the kustomize-controller cannot use the artifact (spec.path missing from our
    // commit) and says so before it records lastAttemptedRevision: no attempt with our revision exists.
    name: "Flux ArtifactFailed before any attempt with our revision",
    workload: "api",
    setup: (c) => {
      c.createRolledOut("api", `${REGISTRY}:${OLD_TAG}`);
      c.kustomization("apps", "flux-system", { applied: `main@sha1:${OLD_SHA}`, ready: "True", reason: "ReconciliationSucceeded" });
    },
    run: async (c, t, marks) => {
      await sleep(t.stepMs);
      c.kustomization("apps", "flux-system", {
        applied: `main@sha1:${OLD_SHA}`,
        ready: "False",
        reason: "ArtifactFailed",
        message: "kustomization path not found: stat /tmp/kustomization-2749031285/apps/prod: no such file or directory",
      });
      marks.failureVisible = Date.now();
    },
    // A bounded wait: without the rule, ours would wait for the commit until the timeout (exit 3).
    flags: [...IMAGE_FLAG, "--flux-kustomization", "flux-system/apps", "--revision", NEW_SHA, "--timeout", "20s"],
    ours: { exit: 1, reason: /kustomization\/flux-system\/apps: cannot use the source artifact: ArtifactFailed: kustomization path not found/ },
    kubectl: { verdict: "success", decides: false },
  },
  {
    // Issue 14, item 5: our Kustomization waits for `infra` (DependencyNotReady), and `infra` failed to
    // build: Flux will not apply ours until someone fixes infra. Fresh objects without observedGeneration.
    name: "Flux DependencyNotReady on a failed dependency",
    workload: "api",
    setup: (c) => {
      c.createRolledOut("api", `${REGISTRY}:${OLD_TAG}`);
      c.kustomization("infra", "flux-system", { ready: "Unknown", reason: "Progressing", message: "Reconciliation in progress", withoutObservedGeneration: true });
      c.kustomization("apps", "flux-system", { ready: "False", reason: "DependencyNotReady", message: "dependency 'flux-system/infra' is not ready", dependsOn: ["infra"], withoutObservedGeneration: true });
    },
    run: async (c, t, marks) => {
      await sleep(t.stepMs * 2);
      c.kustomization("infra", "flux-system", {
        attempted: `main@sha1:${NEW_SHA}`,
        ready: "False",
        reason: "BuildFailed",
        message: "kustomize build failed: accumulating resources from 'cert-manager.yaml': no such file",
      });
      marks.failureVisible = Date.now();
    },
    flags: [...IMAGE_FLAG, "--flux-kustomization", "flux-system/apps", "--revision", NEW_SHA, "--timeout", "20s"],
    ours: { exit: 1, reason: /kustomization\/flux-system\/apps: waits for dependency flux-system\/infra, which failed: BuildFailed: kustomize build failed/ },
    kubectl: { verdict: "success", decides: false },
  },
  {
    name: "Argo CD sync lagging, then Synced and Healthy",
    workload: "api",
    setup: (c) => {
      c.createRolledOut("api", `${REGISTRY}:${OLD_TAG}`);
      c.application("shop", "argocd", { revision: OLD_SHA, sync: "Synced", health: "Healthy" });
    },
    run: async (c, t, marks) => {
      await sleep(t.stepMs * 2);
      c.application("shop", "argocd", { revision: OLD_SHA, sync: "OutOfSync", health: "Healthy" });
      await sleep(t.stepMs * 2);
      c.applyImage("api", `${REGISTRY}:${NEW_TAG}`);
      c.application("shop", "argocd", { revision: NEW_SHA, sync: "Synced", health: "Progressing" });
      await rollWell(c, t);
      c.application("shop", "argocd", { revision: NEW_SHA, sync: "Synced", health: "Healthy" });
      marks.applied = Date.now();
    },
    flags: [...IMAGE_FLAG, "--argocd-app", "argocd/shop", "--revision", NEW_SHA.slice(0, 12)],
    ours: { exit: 0 },
    kubectl: { verdict: "success", decides: false },
  },
  {
    // Issue 14, item 6: a multi-source application (status.sync.revisions, no revision) synced to our
    // commit, whose resource is suspended (health Suspended): fails at once with a hint, kubectl cannot see it.
    name: "Argo CD multi-source application Suspended at our revision",
    workload: "api",
    setup: (c) => {
      c.createRolledOut("api", `${REGISTRY}:${OLD_TAG}`);
      c.application("shop", "argocd", { revision: OLD_SHA, sync: "Synced", health: "Healthy", helmChartRevision: "1.4.2" });
    },
    run: async (c, t, marks) => {
      await sleep(t.stepMs * 2);
      c.application("shop", "argocd", { revision: NEW_SHA, sync: "Synced", health: "Suspended", healthMessage: "CronJob is suspended", helmChartRevision: "1.4.2" });
      marks.failureVisible = Date.now();
    },
    flags: [...IMAGE_FLAG, "--argocd-app", "argocd/shop", "--revision", NEW_SHA.slice(0, 12), "--timeout", "20s"],
    ours: { exit: 1, reason: /application\/argocd\/shop: synced 2{40} but health is Suspended \(a resource is paused or suspended; resume it\): CronJob is suspended/ },
    kubectl: { verdict: "success", decides: false },
  },
  // ---- Issue 14: a Flux HelmRelease whose values our commit changes, applied by the Kustomization.
  {
    name: "Flux HelmRelease released by helm-controller, then healthy",
    workload: "api",
    setup: (c) => {
      c.createRolledOut("api", `${REGISTRY}:${OLD_TAG}`);
      c.kustomization("apps", "flux-system", { applied: `main@sha1:${OLD_SHA}`, ready: "True", reason: "ReconciliationSucceeded" });
      c.helmRelease("api", "shop", { generation: 2, ...released(2, 2) });
    },
    run: async (c, t, marks) => {
      await sleep(t.stepMs * 2);
      // The kustomize-controller applies the new values (generation 3), then records the revision.
      c.helmRelease("api", "shop", { generation: 3, observed: 2, ...released(2, 2) });
      c.kustomization("apps", "flux-system", { applied: `main@sha1:${NEW_SHA}`, ready: "True", reason: "ReconciliationSucceeded", message: `Applied revision: main@sha1:${NEW_SHA}` });
      await sleep(t.stepMs * 2);
      c.helmRelease("api", "shop", {
        generation: 3,
        observed: 2,
        attempted: 3,
        attemptedValues: "values-3",
        conditions: [
          { type: "Reconciling", status: "True", reason: "Progressing", message: "Running 'upgrade' action with timeout of 5m0s" },
          { type: "Ready", status: "Unknown", reason: "Progressing", message: "Running 'upgrade' action with timeout of 5m0s" },
          { type: "Released", status: "True", reason: "UpgradeSucceeded", message: "Helm upgrade succeeded for release shop/api.v2 with chart api@1.4.2", generation: 2 },
        ],
        history: [{ version: 2, status: "deployed", values: "values-2" }],
      });
      c.applyImage("api", `${REGISTRY}:${NEW_TAG}`);
      await rollWell(c, t);
      c.helmRelease("api", "shop", { generation: 3, ...released(3, 3) });
      marks.applied = Date.now();
    },
    flags: [...IMAGE_FLAG, "--flux-kustomization", "flux-system/apps", "--flux-helmrelease", "shop/api", "--revision", NEW_SHA],
    ours: { exit: 0 },
    kubectl: { verdict: "success", decides: false },
  },
  {
    // The upgrade of our values fails (a hook times out); helm-controller rolls back (upgrade.remediation)
    // and Ready mirrors the rollback: ours fails at once with Helm's own error, kubectl sees a healthy
    // Deployment at the previous release.
    name: "Flux HelmRelease upgrade failed and rolled back",
    workload: "api",
    setup: (c) => {
      c.createRolledOut("api", `${REGISTRY}:${OLD_TAG}`);
      c.kustomization("apps", "flux-system", { applied: `main@sha1:${OLD_SHA}`, ready: "True", reason: "ReconciliationSucceeded" });
      c.helmRelease("api", "shop", { generation: 2, ...released(2, 2) });
    },
    run: async (c, t, marks) => {
      await sleep(t.stepMs * 2);
      c.helmRelease("api", "shop", { generation: 3, observed: 2, ...released(2, 2) });
      c.kustomization("apps", "flux-system", { applied: `main@sha1:${NEW_SHA}`, ready: "True", reason: "ReconciliationSucceeded", message: `Applied revision: main@sha1:${NEW_SHA}` });
      await sleep(t.stepMs * 2);
      const failed = "Helm upgrade failed for release shop/api with chart api@1.4.2: failed pre-upgrade: timed out waiting for the condition";
      const rolledBack = "Helm rollback to previous release shop/api.v2 with chart api@1.4.2 succeeded";
      c.helmRelease("api", "shop", {
        generation: 3,
        observed: 3,
        attemptedValues: "values-3",
        conditions: [
          { type: "Reconciling", status: "True", reason: "ProgressingWithRetry", message: rolledBack },
          { type: "Ready", status: "False", reason: "RollbackSucceeded", message: rolledBack },
          { type: "Released", status: "False", reason: "UpgradeFailed", message: failed },
          { type: "Remediated", status: "True", reason: "RollbackSucceeded", message: rolledBack },
        ],
        history: [
          { version: 4, status: "deployed", values: "values-2" },
          { version: 3, status: "failed", values: "values-3" },
          { version: 2, status: "superseded", values: "values-2" },
        ],
      });
      marks.failureVisible = Date.now();
    },
    flags: [...IMAGE_FLAG, "--flux-kustomization", "flux-system/apps", "--flux-helmrelease", "shop/api", "--revision", NEW_SHA, "--timeout", "20s"],
    ours: {
      exit: 1,
      reason:
        /helmrelease\/shop\/api: release of generation 3 failed and was remediated \(RollbackSucceeded: Helm rollback to previous release shop\/api\.v2 with chart api@1\.4\.2 succeeded\); UpgradeFailed: Helm upgrade failed for release shop\/api with chart api@1\.4\.2: failed pre-upgrade: timed out waiting for the condition/,
    },
    kubectl: { verdict: "success", decides: false },
  },
  // ---- Issue 14: StatefulSets and DaemonSets, judged by kubectl's StatefulSetStatusViewer / DaemonSetStatusViewer.
  {
    // Ordinals are replaced from the highest down (pkg/controller/statefulset, updateStatefulSet), each
    // once the one before is ready. rollingUpdate {partition: 0} (the API default): kubectl's partition wording.
    name: "StatefulSet healthy rollout",
    kind: "statefulset",
    workload: "cache",
    setup: (c) => {
      c.createStatefulSet("cache", `${REGISTRY}:${OLD_TAG}`);
      c.applyStatefulSetImage("cache", `${REGISTRY}:${NEW_TAG}`);
    },
    run: async (c, t) => {
      await sleep(t.stepMs);
      const revision = c.observeStatefulSet("cache");
      for (const [i, ordinal] of [2, 1, 0].entries()) {
        const pod = c.replaceStatefulSetPod("cache", ordinal, { state: { waiting: "ContainerCreating" } });
        c.setStatefulSetStatus("cache", { ready: 2, current: 2 - i, updated: i });
        await sleep(t.stepMs);
        c.setPod(pod, { state: { running: true, ready: true } });
        c.setStatefulSetStatus("cache", { ready: 3, current: 2 - i, updated: i + 1 });
        await sleep(t.stepMs);
      }
      c.setStatefulSetStatus("cache", { ready: 3, current: 3, updated: 3, currentRevision: revision });
    },
    flags: IMAGE_FLAG,
    ours: { exit: 0 },
    kubectl: { verdict: "success", decides: true, output: /partitioned roll out complete: 3 new pods have been updated\.\.\./ },
  },
  {
    // partition 2 of 3: only ordinal 2 moves to the new revision (a canary); kubectl is done once it has.
    name: "StatefulSet partitioned update",
    kind: "statefulset",
    workload: "cache",
    setup: (c) => {
      c.createStatefulSet("cache", `${REGISTRY}:${OLD_TAG}`, { partition: 2 });
      c.applyStatefulSetImage("cache", `${REGISTRY}:${NEW_TAG}`);
    },
    run: async (c, t) => {
      await sleep(t.stepMs);
      c.observeStatefulSet("cache");
      const pod = c.replaceStatefulSetPod("cache", 2, { state: { waiting: "ContainerCreating" } });
      c.setStatefulSetStatus("cache", { ready: 2, current: 2, updated: 0 });
      await sleep(t.stepMs);
      c.setPod(pod, { state: { running: true, ready: true } });
      c.setStatefulSetStatus("cache", { ready: 3, current: 2, updated: 1 });
    },
    flags: IMAGE_FLAG,
    ours: { exit: 0 },
    kubectl: { verdict: "success", decides: true, output: /partitioned roll out complete: 1 new pods have been updated\.\.\./ },
  },
  {
    // updateStrategy OnDelete: the controller replaces a pod only when someone deletes it. kubectl refuses
    // at once; so do we, saying why (verdict unverifiable, not a failed release: no rollback).
    name: "StatefulSet with the OnDelete strategy",
    kind: "statefulset",
    workload: "cache",
    setup: (c) => {
      c.createStatefulSet("cache", `${REGISTRY}:${OLD_TAG}`, { onDelete: true });
      c.applyStatefulSetImage("cache", `${REGISTRY}:${NEW_TAG}`);
    },
    run: async (c, t, marks) => {
      marks.failureVisible = Date.now();
      await sleep(t.stepMs);
      c.observeStatefulSet("cache");
    },
    flags: IMAGE_FLAG,
    ours: {
      exit: 1,
      verdict: "unverifiable",
      reason: /SLIPWAY_ROLLOUT_UNVERIFIABLE: rollout in namespace "shop" cannot be verified: a workload uses the OnDelete update strategy\n {2}- statefulset\/cache: rollout status is only available for RollingUpdate strategy type \(updateStrategy OnDelete: /,
    },
    kubectl: { verdict: "unsupported", decides: true, output: /error: rollout status is only available for RollingUpdate strategy type/ },
  },
  {
    // A StatefulSet has no progress deadline: kubectl waits for ever on a crash loop; ours fails at once.
    name: "StatefulSet pod crash-looping",
    kind: "statefulset",
    workload: "cache",
    setup: (c) => {
      c.createStatefulSet("cache", `${REGISTRY}:${OLD_TAG}`);
      c.applyStatefulSetImage("cache", `${REGISTRY}:${NEW_TAG}`);
    },
    run: async (c, t, marks) => {
      await sleep(t.stepMs);
      c.observeStatefulSet("cache");
      const pod = c.replaceStatefulSetPod("cache", 2, { state: { running: true, ready: false } });
      c.setStatefulSetStatus("cache", { ready: 2, current: 2, updated: 1 });
      await sleep(t.stepMs);
      c.log(pod, ["redis: loading RDB", "FATAL: Can't handle RDB format version 12"], true);
      c.setPod(pod, { state: { waiting: "CrashLoopBackOff", message: `back-off 10s restarting failed container=app pod=${pod}` }, restartCount: 1, lastTerminated: { reason: "Error", exitCode: 1 } });
      marks.failureVisible = Date.now();
    },
    flags: IMAGE_FLAG,
    ours: { exit: 1, reason: /statefulset\/cache pod\/cache-2 container app: CrashLoopBackOff \(restarts 1, last exit 1 Error\)/ },
    kubectl: { verdict: "timeout", decides: false },
  },
  {
    name: "DaemonSet healthy rollout",
    kind: "daemonset",
    workload: "agent",
    setup: (c) => {
      c.createDaemonSet("agent", `${REGISTRY}:${OLD_TAG}`);
      c.applyDaemonSetImage("agent", `${REGISTRY}:${NEW_TAG}`);
    },
    run: async (c, t) => {
      await sleep(t.stepMs);
      c.setDaemonSetStatus("agent", { desired: 3, updated: 0, available: 3 });
      for (const node of [0, 1, 2]) {
        const pod = c.replaceDaemonSetPod("agent", node, { state: { waiting: "ContainerCreating" } });
        c.setDaemonSetStatus("agent", { desired: 3, updated: node + 1, available: 2 });
        await sleep(t.stepMs);
        c.setPod(pod, { state: { running: true, ready: true } });
        c.setDaemonSetStatus("agent", { desired: 3, updated: node + 1, available: 3 });
        await sleep(t.stepMs);
      }
    },
    flags: IMAGE_FLAG,
    ours: { exit: 0 },
    kubectl: { verdict: "success", decides: true, output: /daemon set "agent" successfully rolled out/ },
  },
  {
    // Two nodes run the new template, the third not yet (maxUnavailable 1, its old pod still terminating):
    // both time out, naming it. The third node is updated only long after both gave up.
    name: "DaemonSet with a node not yet updated",
    kind: "daemonset",
    workload: "agent",
    setup: (c) => {
      c.createDaemonSet("agent", `${REGISTRY}:${OLD_TAG}`);
      c.applyDaemonSetImage("agent", `${REGISTRY}:${NEW_TAG}`);
      c.replaceDaemonSetPod("agent", 0, { state: { running: true, ready: true } });
      c.replaceDaemonSetPod("agent", 1, { state: { running: true, ready: true } });
      c.setDaemonSetStatus("agent", { desired: 3, updated: 2, available: 3 });
    },
    run: async (c, t) => {
      await sleep(t.deadlineMs * 2);
      c.replaceDaemonSetPod("agent", 2, { state: { running: true, ready: true } });
      c.setDaemonSetStatus("agent", { desired: 3, updated: 3, available: 3 });
    },
    flags: [...IMAGE_FLAG, "--timeout", "1s"],
    ours: { exit: 3, reason: /not done after 1s\n {2}- still waiting: daemonset\/agent: Waiting for daemon set "agent" rollout to finish: 2 out of 3 new pods have been updated\.\.\./ },
    kubectl: { verdict: "timeout", decides: true },
  },
];

export function scenario(name: string): Scenario {
  const found = SCENARIOS.find((s) => s.name === name);
  if (!found) throw new Error(`no scenario ${name}`);
  return found;
}
