import type { V1DaemonSet, V1Pod, V1StatefulSet } from "@kubernetes/client-node";
import type { FailFastThresholds, GraceClock, Pending, Problem } from "./health.js";
import { failedMessage, NO_GRACE_CLOCK, ownedBy, pendingNote, podImages, podProblems, templateImages } from "./health.js";
import type { ImageExpectation } from "./images.js";
import { imageMismatches } from "./images.js";

/**
 * StatefulSets and DaemonSets, judged as `kubectl rollout status` judges them (kubectl
 * pkg/polymorphichelpers/rollout_status.go: StatefulSetStatusViewer, DaemonSetStatusViewer), plus the
 * pod-level fail-fast rules of Deployments applied to the pods of their new revision.
 */

export type WorkloadState = "waiting" | "healthy" | "failed" | "unverifiable";

export interface WorkloadVerdict {
  name: string;
  state: WorkloadState;
  /** kubectl's wording where kubectl has one. */
  message: string;
  problems: Problem[];
  pending: Pending[];
}

export interface KubectlStatus {
  done: boolean;
  message: string;
  /**
   * kubectl refuses to tell (exit 1): only the RollingUpdate strategy can be followed. With OnDelete the
   * controller replaces a pod only when someone deletes it, so no status says when the rollout ends.
   */
  unsupported?: string;
}

/** kubectl's text for a strategy it cannot follow (it names the RollingUpdate type for DaemonSets too). */
const ONLY_ROLLING_UPDATE = "rollout status is only available for RollingUpdate strategy type";

/**
 * `kubectl rollout status statefulset/NAME`, rule for rule (StatefulSetStatusViewer.Status): OnDelete (any
 * strategy but RollingUpdate) unsupported; observedGeneration 0 or behind; readyReplicas < replicas;
 * with `rollingUpdate` set (the API server defaults it to `{partition: 0}`), done once updatedReplicas >=
 * replicas - partition ("partitioned roll out complete"); without it, done once updateRevision == currentRevision.
 */
export function kubectlStatefulSetStatus(sts: V1StatefulSet): KubectlStatus {
  const spec = sts.spec;
  const status = sts.status;
  const strategy = spec?.updateStrategy;
  if (strategy?.type !== "RollingUpdate") return { done: false, message: ONLY_ROLLING_UPDATE, unsupported: `updateStrategy ${strategy?.type ?? "(none)"}` };
  const observed = status?.observedGeneration ?? 0;
  if (observed === 0 || (sts.metadata?.generation ?? 0) > observed) return { done: false, message: "Waiting for statefulset spec update to be observed..." };
  const replicas = spec?.replicas;
  const ready = status?.readyReplicas ?? 0;
  if (replicas !== undefined && ready < replicas) return { done: false, message: `Waiting for ${replicas - ready} pods to be ready...` };
  const updated = status?.updatedReplicas ?? 0;
  if (strategy.rollingUpdate !== undefined) {
    const partition = strategy.rollingUpdate.partition;
    if (replicas !== undefined && partition !== undefined && updated < replicas - partition) {
      return { done: false, message: `Waiting for partitioned roll out to finish: ${updated} out of ${replicas - partition} new pods have been updated...` };
    }
    return { done: true, message: `partitioned roll out complete: ${updated} new pods have been updated...` };
  }
  if (status?.updateRevision !== status?.currentRevision) {
    return { done: false, message: `waiting for statefulset rolling update to complete ${updated} pods at revision ${status?.updateRevision ?? ""}...` };
  }
  return { done: true, message: `statefulset rolling update complete ${status?.currentReplicas ?? 0} pods at revision ${status?.currentRevision ?? ""}...` };
}

/**
 * `kubectl rollout status daemonset/NAME`, rule for rule (DaemonSetStatusViewer.Status): OnDelete
 * unsupported; generation <= observedGeneration, then updatedNumberScheduled and numberAvailable against
 * desiredNumberScheduled.
 */
export function kubectlDaemonSetStatus(ds: V1DaemonSet): KubectlStatus {
  const name = ds.metadata?.name ?? "";
  const strategy = ds.spec?.updateStrategy;
  if (strategy?.type !== "RollingUpdate") return { done: false, message: ONLY_ROLLING_UPDATE, unsupported: `updateStrategy ${strategy?.type ?? "(none)"}` };
  const status = ds.status;
  if ((ds.metadata?.generation ?? 0) > (status?.observedGeneration ?? 0)) return { done: false, message: "Waiting for daemon set spec update to be observed..." };
  const desired = status?.desiredNumberScheduled ?? 0;
  const updated = status?.updatedNumberScheduled ?? 0;
  const available = status?.numberAvailable ?? 0;
  if (updated < desired) return { done: false, message: `Waiting for daemon set "${name}" rollout to finish: ${updated} out of ${desired} new pods have been updated...` };
  if (available < desired) return { done: false, message: `Waiting for daemon set "${name}" rollout to finish: ${available} of ${desired} updated pods are available...` };
  return { done: true, message: `daemon set "${name}" successfully rolled out` };
}

const REVISION_HASH = "controller-revision-hash";
const POD_TEMPLATE_GENERATION = "pod-template-generation";
const TEMPLATE_GENERATION = "deprecated.daemonset.template.generation";

function observedNow(obj: { metadata?: { generation?: number }; status?: { observedGeneration?: number } }): boolean {
  const observed = obj.status?.observedGeneration ?? 0;
  return observed > 0 && observed >= (obj.metadata?.generation ?? 0);
}

/**
 * The StatefulSet's pods of its update revision: owned by it directly, labelled `controller-revision-hash`
 * = status.updateRevision (the StatefulSet controller stamps each pod with the revision it was created
 * from). None until the controller observed the new spec: before that updateRevision is the previous release's.
 */
export function statefulSetPods(sts: V1StatefulSet, pods: readonly V1Pod[]): V1Pod[] {
  const revision = sts.status?.updateRevision;
  if (!observedNow(sts) || !revision) return [];
  return pods.filter((p) => ownedBy(sts, "StatefulSet", p) && !p.metadata?.deletionTimestamp && p.metadata?.labels?.[REVISION_HASH] === revision);
}

/**
 * The DaemonSet's pods of its current template: owned by it directly, labelled `pod-template-generation`
 * = the DaemonSet's template generation. The daemon controller counts a pod as updated when that label
 * matches the template generation or `controller-revision-hash` matches the newest ControllerRevision
 * (kubernetes pkg/controller/daemon/util/daemonset_util.go, IsPodUpdated; CreatePodTemplate sets both).
 * The template generation is the `deprecated.daemonset.template.generation` annotation (GetTemplateGeneration),
 * which the API server raises only when the template changes, unlike metadata.generation; using it spares
 * watching ControllerRevisions (another RBAC rule). Without the annotation no pod is judged: waiting, as kubectl.
 */
export function daemonSetPods(ds: V1DaemonSet, pods: readonly V1Pod[]): V1Pod[] {
  const generation = ds.metadata?.annotations?.[TEMPLATE_GENERATION];
  if (!observedNow(ds) || generation === undefined) return [];
  return pods.filter((p) => ownedBy(ds, "DaemonSet", p) && !p.metadata?.deletionTimestamp && p.metadata?.labels?.[POD_TEMPLATE_GENERATION] === generation);
}

/** Shared by both kinds: fail-fast on the new pods, then kubectl's verdict, then the images. */
function judge(
  kind: "statefulset" | "daemonset",
  obj: V1StatefulSet | V1DaemonSet,
  status: KubectlStatus,
  current: V1Pod[],
  expectations: ImageExpectation[],
  thresholds: FailFastThresholds,
  clock: GraceClock,
): WorkloadVerdict {
  const name = obj.metadata?.name ?? "";
  const workload = `${kind}/${name}`;
  if (status.unsupported) {
    return { name, state: "unverifiable", message: `${status.message} (${status.unsupported}: the controller replaces a pod only when it is deleted)`, problems: [], pending: [] };
  }
  const pending: Pending[] = [];
  const problems = current.flatMap((p) => podProblems(workload, p, thresholds, clock, pending));
  if (problems.length > 0) return { name, state: "failed", message: failedMessage(problems), problems, pending };
  const templateWrong = imageMismatches(templateImages(obj), expectations);
  if (templateWrong.length > 0) return { name, state: "waiting", message: `template ${templateWrong.join("; ")} (GitOps change not applied yet?)`, problems, pending };
  if (!status.done) return { name, state: "waiting", message: `${status.message}${pendingNote(pending)}`, problems, pending };
  const podWrong = current.flatMap((p) => imageMismatches(podImages(p), expectations).map((m) => `pod/${p.metadata?.name ?? ""} ${m}`));
  if (podWrong.length > 0) return { name, state: "waiting", message: podWrong.join("; "), problems, pending };
  return { name, state: "healthy", message: status.message, problems, pending: [] };
}

export function evaluateStatefulSet(
  sts: V1StatefulSet,
  pods: readonly V1Pod[],
  expectations: ImageExpectation[],
  thresholds: FailFastThresholds,
  clock: GraceClock = NO_GRACE_CLOCK,
): WorkloadVerdict {
  return judge("statefulset", sts, kubectlStatefulSetStatus(sts), statefulSetPods(sts, pods), expectations, thresholds, clock);
}

export function evaluateDaemonSet(
  ds: V1DaemonSet,
  pods: readonly V1Pod[],
  expectations: ImageExpectation[],
  thresholds: FailFastThresholds,
  clock: GraceClock = NO_GRACE_CLOCK,
): WorkloadVerdict {
  return judge("daemonset", ds, kubectlDaemonSetStatus(ds), daemonSetPods(ds, pods), expectations, thresholds, clock);
}
