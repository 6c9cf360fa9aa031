import type { V1ContainerStatus, V1Deployment, V1Pod, V1PodTemplateSpec, V1ReplicaSet } from "@kubernetes/client-node";
import type { ImageExpectation } from "./images.js";
import { imageMismatches } from "./images.js";

/** When to stop waiting and call the rollout failed (slipway.yaml `rollout.failOn`). */
export interface FailFastThresholds {
  /** restartCount at which a container whose last termination was OOMKilled fails the rollout. */
  oomKilledRestarts: number;
  /** restartCount at which a container in CrashLoopBackOff fails the rollout. */
  crashLoopRestarts: number;
  /**
   * How long a pod may stay unschedulable, or the ReplicaSet unable to create pods (ReplicaFailure, e.g. a
   * ResourceQuota), before the rollout fails. Both can clear by themselves (the cluster autoscaler adds a
   * node, old pods leave and free quota), so they fail after a grace, not at once.
   */
  unschedulableGraceMs: number;
}

/**
 * 5 minutes: a cluster autoscaler scale-up (AKS node provisioning) usually completes within it, and it is
 * still half the default progress deadline (600 s) that `kubectl rollout status` waits for.
 */
export const DEFAULT_THRESHOLDS: FailFastThresholds = { oomKilledRestarts: 2, crashLoopRestarts: 1, unschedulableGraceMs: 300_000 };

/**
 * How long a state has been seen, counted by the verifier from the first evaluation that saw it (our own
 * clock: the API server's timestamps may be skewed from ours). `seenFor` registers the key on first call.
 */
export interface GraceClock {
  seenFor: (key: string) => number;
}

/** A clock for one-shot evaluations: every state has just been seen. */
export const NO_GRACE_CLOCK: GraceClock = { seenFor: () => 0 };

/** A state that fails the rollout if it lasts: what it is and when it will fail. */
export interface Pending {
  object: string;
  reason: string;
  message: string;
  failInMs: number;
}

/** Waiting reasons that never fix themselves without a change to the manifest, the image or a Secret. */
const FAIL_AT_ONCE = new Set(["ImagePullBackOff", "ErrImagePull", "InvalidImageName", "CreateContainerConfigError"]);

/** One reason the rollout failed, named with its object and container. */
export interface Problem {
  /** The workload it belongs to: `deployment/NAME`, `statefulset/NAME` or `daemonset/NAME`. */
  workload: string;
  /** The workload itself or `pod/NAME`. */
  object: string;
  container?: string;
  reason: string;
  message: string;
}

export function renderProblem(p: Problem): string {
  const where = p.object === p.workload ? p.object : `${p.workload} ${p.object}`;
  return `${where}${p.container ? ` container ${p.container}` : ""}: ${p.reason}${p.message ? ` (${p.message})` : ""}`;
}

export type DeploymentState = "waiting" | "healthy" | "failed" | "paused";

export interface DeploymentVerdict {
  name: string;
  state: DeploymentState;
  /** What a user reads in the progress line: kubectl's wording where kubectl has one. */
  message: string;
  problems: Problem[];
  /** States that fail the rollout if they last (Unschedulable, ReplicaFailure); empty otherwise. */
  pending: Pending[];
}

const REVISION = "deployment.kubernetes.io/revision";

/**
 * The verdict of `kubectl rollout status deployment/NAME`, rule for rule (kubectl
 * pkg/polymorphichelpers/rollout_status.go, DeploymentStatusViewer), so ours agrees with kubectl
 * wherever kubectl decides.
 */
export function kubectlRolloutStatus(d: V1Deployment): { done: boolean; message: string; deadlineExceeded: boolean } {
  const name = d.metadata?.name ?? "";
  const generation = d.metadata?.generation ?? 0;
  const status = d.status ?? {};
  if (generation > (status.observedGeneration ?? 0)) {
    return { done: false, deadlineExceeded: false, message: "Waiting for deployment spec update to be observed..." };
  }
  const progressing = status.conditions?.find((c) => c.type === "Progressing");
  if (progressing?.reason === "ProgressDeadlineExceeded") {
    return { done: false, deadlineExceeded: true, message: `deployment "${name}" exceeded its progress deadline` };
  }
  const updated = status.updatedReplicas ?? 0;
  const available = status.availableReplicas ?? 0;
  const total = status.replicas ?? 0;
  const wanted = d.spec?.replicas;
  if (wanted !== undefined && updated < wanted) {
    return { done: false, deadlineExceeded: false, message: `Waiting for deployment "${name}" rollout to finish: ${updated} out of ${wanted} new replicas have been updated...` };
  }
  if (total > updated) {
    return { done: false, deadlineExceeded: false, message: `Waiting for deployment "${name}" rollout to finish: ${total - updated} old replicas are pending termination...` };
  }
  if (available < updated) {
    return { done: false, deadlineExceeded: false, message: `Waiting for deployment "${name}" rollout to finish: ${available} of ${updated} updated replicas are available...` };
  }
  return { done: true, deadlineExceeded: false, message: `deployment "${name}" successfully rolled out` };
}

export function ownedBy(owner: { metadata?: { uid?: string; name?: string } }, kind: string, obj: { metadata?: { ownerReferences?: { kind: string; name: string; uid: string }[] } }): boolean {
  return (obj.metadata?.ownerReferences ?? []).some(
    (ref) => ref.kind === kind && (owner.metadata?.uid ? ref.uid === owner.metadata.uid : ref.name === owner.metadata?.name),
  );
}

/**
 * The Deployment's current ReplicaSet: owned by it and carrying the Deployment's revision annotation
 * (the deployment controller stamps both with the same number). Undefined until the controller created it.
 */
export function currentReplicaSet(d: V1Deployment, replicaSets: readonly V1ReplicaSet[]): V1ReplicaSet | undefined {
  const owned = replicaSets.filter((rs) => ownedBy(d, "Deployment", rs));
  const revision = d.metadata?.annotations?.[REVISION];
  if (revision !== undefined) return owned.find((rs) => rs.metadata?.annotations?.[REVISION] === revision);
  return undefined;
}

export function podsOf(rs: V1ReplicaSet, pods: readonly V1Pod[]): V1Pod[] {
  return pods.filter((p) => ownedBy(rs, "ReplicaSet", p) && !p.metadata?.deletionTimestamp);
}

function lastTermination(cs: V1ContainerStatus): string {
  const t = cs.lastState?.terminated ?? cs.state?.terminated;
  if (!t) return "";
  return `last exit ${t.exitCode}${t.reason ? ` ${t.reason}` : ""}`;
}

/** Terminated with a non-zero exit now, or not running again yet after one: restarting after an error. */
function crashedAgain(cs: V1ContainerStatus): boolean {
  if (cs.state?.terminated) return cs.state.terminated.exitCode !== 0;
  if (cs.state?.running) return false;
  const waiting = cs.state?.waiting?.reason;
  return (waiting === undefined || waiting === "ContainerCreating" || waiting === "PodInitializing") && (cs.lastState?.terminated?.exitCode ?? 0) !== 0;
}

/**
 * A state that fails once it lasted `graceMs`: a problem then, else one more pending state (with the time
 * left, so the verifier can look again without waiting for an event).
 */
export function afterGrace(problem: Problem, key: string, graceMs: number, clock: GraceClock, problems: Problem[], pending: Pending[]): void {
  const seen = clock.seenFor(key);
  if (seen >= graceMs) problems.push(problem);
  else pending.push({ object: problem.object, reason: problem.reason, message: problem.message, failInMs: graceMs - seen });
}

/**
 * Fail-fast reasons visible on one pod (init containers included). `pending` collects states that fail
 * after the grace (`failOn.unschedulableGrace`), with the time left.
 */
export function podProblems(workload: string, pod: V1Pod, thresholds: FailFastThresholds, clock: GraceClock = NO_GRACE_CLOCK, pending: Pending[] = []): Problem[] {
  const object = `pod/${pod.metadata?.name ?? ""}`;
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  const problems: Problem[] = [];
  // The scheduler writes PodScheduled=False, reason Unschedulable, with its FitError as the message
  // ("0/3 nodes are available: 3 Insufficient cpu.") when no node fits (kubernetes
  // pkg/scheduler/schedule_one.go, handleSchedulingFailure -> updatePod). It is retried on every cluster
  // change, so it may clear: it fails after the grace.
  const scheduled = pod.status?.conditions?.find((c) => c.type === "PodScheduled");
  if (scheduled?.status === "False" && scheduled.reason === "Unschedulable") {
    afterGrace({ workload, object, reason: "Unschedulable", message: scheduled.message ?? "" }, `${object} Unschedulable`, thresholds.unschedulableGraceMs, clock, problems, pending);
  }
  for (const cs of statuses) {
    const waiting = cs.state?.waiting?.reason;
    const base = { workload, object, container: cs.name };
    const oom = cs.lastState?.terminated?.reason === "OOMKilled" || cs.state?.terminated?.reason === "OOMKilled";
    if (waiting && FAIL_AT_ONCE.has(waiting)) {
      problems.push({ ...base, reason: waiting, message: cs.state?.waiting?.message ?? "" });
    } else if (oom) {
      // The OOM threshold governs a container killed for memory, even once it backs off: users tolerate
      // a first OOM (warm-up spike) with `failOn.oomKilledRestarts`, and CrashLoopBackOff must not undo that.
      if (cs.restartCount >= thresholds.oomKilledRestarts) {
        problems.push({ ...base, reason: "OOMKilled", message: `killed for memory, restarts ${cs.restartCount}` });
      }
    } else if (waiting === "CrashLoopBackOff" && cs.restartCount >= thresholds.crashLoopRestarts) {
      const last = lastTermination(cs);
      problems.push({ ...base, reason: "CrashLoopBackOff", message: `restarts ${cs.restartCount}${last ? `, ${last}` : ""}` });
    } else if (crashedAgain(cs) && cs.restartCount >= thresholds.crashLoopRestarts) {
      // Between two starts the kubelet shows the container terminated (or waiting with no reason yet)
      // before it reports CrashLoopBackOff (kubelet pkg/kubelet/kuberuntime: the back-off starts after the
      // 2nd failure); the same restart count decides, so the verdict does not wait for the kubelet's wording.
      problems.push({ ...base, reason: "RestartingAfterError", message: `restarts ${cs.restartCount}, ${lastTermination(cs)}` });
    }
  }
  return problems;
}

/** A short, stable description of a pod for progress lines: changes only when something a user cares about changes. */
export function podState(pod: V1Pod): string {
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  const scheduled = pod.status?.conditions?.find((c) => c.type === "PodScheduled");
  if (statuses.length === 0 && scheduled?.status === "False") return `${pod.status?.phase ?? "Pending"}: ${scheduled.reason ?? "not scheduled"}${scheduled.message ? ` (${scheduled.message})` : ""}`;
  if (statuses.length === 0) return pod.status?.phase ?? "Pending";
  return statuses
    .map((cs) => {
      const s = cs.state?.waiting ? cs.state.waiting.reason ?? "Waiting" : cs.state?.terminated ? `Terminated ${cs.state.terminated.reason ?? cs.state.terminated.exitCode}` : cs.ready ? "Ready" : "Running";
      return `${cs.name} ${s}${cs.restartCount ? ` (restarts ${cs.restartCount})` : ""}`;
    })
    .join(", ");
}

export function templateImages(d: { spec?: { template?: V1PodTemplateSpec } }): string[] {
  const spec = d.spec?.template?.spec;
  return [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])].map((c) => c.image ?? "");
}

export function podImages(p: V1Pod): string[] {
  return [...(p.spec?.initContainers ?? []), ...(p.spec?.containers ?? [])].map((c) => c.image ?? "");
}

/**
 * One Deployment's verdict: failed on the first sign of a fail-fast reason in its current ReplicaSet's
 * pods or a progress deadline; healthy when kubectl would say so and the template and those pods run
 * the expected images; waiting otherwise.
 */
export function evaluateDeployment(
  d: V1Deployment,
  replicaSets: readonly V1ReplicaSet[],
  pods: readonly V1Pod[],
  expectations: ImageExpectation[],
  thresholds: FailFastThresholds,
  clock: GraceClock = NO_GRACE_CLOCK,
): DeploymentVerdict {
  const name = d.metadata?.name ?? "";
  const status = kubectlRolloutStatus(d);
  // Until the controller observed the new spec, the "current" ReplicaSet is the previous release's:
  // its pods are not ours to judge.
  const observed = (d.status?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0);
  const rs = observed ? currentReplicaSet(d, replicaSets) : undefined;
  const current = rs ? podsOf(rs, pods) : [];
  const pending: Pending[] = [];
  const workload = `deployment/${name}`;
  const problems = current.flatMap((p) => podProblems(workload, p, thresholds, clock, pending));
  // ReplicaFailure=True (reason FailedCreate, e.g. "exceeded quota: ..."): the ReplicaSet controller could
  // not create pods (pkg/controller/replicaset/replica_set_utils.go, calculateStatus) and the deployment
  // controller copies the condition onto the Deployment (pkg/controller/deployment/progress.go,
  // getReplicaFailures). Quota freed by old pods leaving can clear it: it fails after the grace.
  if (observed) {
    const failure = d.status?.conditions?.find((c) => c.type === "ReplicaFailure" && c.status === "True") ?? rs?.status?.conditions?.find((c) => c.type === "ReplicaFailure" && c.status === "True");
    if (failure) {
      const message = `${failure.reason ?? "ReplicaFailure"}${failure.message ? `: ${failure.message}` : ""}`;
      afterGrace({ workload, object: workload, reason: "ReplicaFailure", message }, `${workload} ReplicaFailure`, thresholds.unschedulableGraceMs, clock, problems, pending);
    }
  }
  if (status.deadlineExceeded) {
    const cond = d.status?.conditions?.find((c) => c.type === "Progressing");
    problems.unshift({ workload, object: workload, reason: "ProgressDeadlineExceeded", message: cond?.message ?? "" });
  }
  if (problems.length > 0) return { name, state: "failed", message: failedMessage(problems), problems, pending };
  const templateWrong = imageMismatches(templateImages(d), expectations);
  if (templateWrong.length > 0) return { name, state: "waiting", message: `template ${templateWrong.join("; ")} (GitOps change not applied yet?)`, problems, pending };
  if (!status.done) {
    // spec.paused: the deployment controller stops rolling out (it still observes the generation), so
    // waiting longer cannot help. kubectl's DeploymentStatusViewer does not look at it and waits.
    if (d.spec?.paused) return { name, state: "paused", message: `paused (spec.paused: true): ${status.message}`, problems, pending };
    return { name, state: "waiting", message: `${status.message}${pendingNote(pending)}`, problems, pending };
  }
  const podWrong = current.flatMap((p) => imageMismatches(podImages(p), expectations).map((m) => `pod/${p.metadata?.name ?? ""} ${m}`));
  if (podWrong.length > 0) return { name, state: "waiting", message: podWrong.join("; "), problems, pending };
  return { name, state: "healthy", message: status.message, problems, pending: [] };
}

/** The progress line of a failed workload: each reason with its object. */
export function failedMessage(problems: Problem[]): string {
  return `failed: ${problems.map((p) => `${p.reason} in ${p.object}${p.container ? ` container ${p.container}` : ""}`).join("; ")}`;
}

/** States that fail if they last, appended to a waiting line (without the grace's end: it would change the line on every evaluation). */
export function pendingNote(pending: Pending[]): string {
  return pending.map((p) => `; ${p.reason} in ${p.object}${p.message ? ` (${p.message})` : ""}, fails if it lasts`).join("");
}
