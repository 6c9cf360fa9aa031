import type { KubernetesObject } from "@kubernetes/client-node";

/** The GitOps object that applies the commit: a Flux Kustomization or an Argo CD Application. */
export interface GitopsTarget {
  kind: "flux" | "argocd";
  namespace: string;
  name: string;
}

/** API coordinates of each kind (Flux kustomize.toolkit.fluxcd.io/v1, Argo CD argoproj.io/v1alpha1). */
export const GITOPS_API = {
  flux: { group: "kustomize.toolkit.fluxcd.io", version: "v1", plural: "kustomizations", kind: "Kustomization" },
  argocd: { group: "argoproj.io", version: "v1alpha1", plural: "applications", kind: "Application" },
} as const;

export function gitopsLabel(t: GitopsTarget): string {
  return `${GITOPS_API[t.kind].kind.toLowerCase()}/${t.namespace}/${t.name}`;
}

export interface GitopsVerdict {
  state: "applied" | "waiting" | "failed";
  message: string;
  /** The revision the object reports as applied (synced), for the report. */
  observed?: string;
}

/**
 * Does a revision string name the commit? Flux writes `main@sha1:<sha>` (v2) or `main/<sha>` (v1),
 * Argo CD the bare SHA. `sha` may be abbreviated (at least 7 hex digits).
 */
export function revisionMatches(observed: string | undefined, sha: string): boolean {
  if (!observed) return false;
  const found = /([0-9a-f]{7,64})$/i.exec(observed)?.[1]?.toLowerCase();
  return found !== undefined && found.startsWith(sha.toLowerCase());
}

interface Condition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
}

/**
 * Ready=False reasons the kustomize-controller sets after it recorded `lastAttemptedRevision` (it fetched
 * the artifact and tried it): a failure of our commit when that revision is ours (fluxcd/kustomize-controller
 * internal/controller/kustomization_controller.go, reconcile(): BuildFailed, ReconciliationFailed,
 * PruneFailed, HealthCheckFailed). Of an older revision they say nothing about ours: Flux retries with
 * the new artifact.
 */
const FLUX_FAILED_AFTER_ATTEMPT = new Set(["BuildFailed", "ReconciliationFailed", "HealthCheckFailed", "PruneFailed"]);

/**
 * ArtifactFailed is set before `lastAttemptedRevision` is (the download failed, or `spec.path` is not in the
 * artifact), so no attempt with our revision can exist: it fails whatever revision is recorded. Two of its
 * messages are the controller waiting for source-controller and requeueing ("Source artifact not found,
 * retrying in 30s", "Source is not ready, artifact not found, retrying in 30s"): those wait.
 */
const FLUX_ARTIFACT_WAITING = /artifact not found, retrying in /i;

export type FluxKustomization = KubernetesObject & {
  spec?: { suspend?: boolean; dependsOn?: { name: string; namespace?: string }[] };
  status?: { observedGeneration?: number; lastAppliedRevision?: string; lastAttemptedRevision?: string; conditions?: Condition[] };
};

/** Finds another Kustomization (a dependency) among those the verifier watches; undefined when not seen. */
export type FluxLookup = (namespace: string, name: string) => FluxKustomization | undefined;

/**
 * kstatus (sigs.k8s.io/cli-utils pkg/kstatus/status/generic.go, checkGeneration): a status without
 * `observedGeneration` skips the generation check ("Resource does not have this field, so we can't do
 * this check"); present and different from metadata.generation is in progress.
 */
export function generationObserved(obj: { metadata?: { generation?: number }; status?: { observedGeneration?: number } }): boolean {
  const generation = obj.metadata?.generation;
  const observed = obj.status?.observedGeneration;
  return generation === undefined || observed === undefined || observed === generation;
}

/**
 * Why a Kustomization cannot become Ready without a change, whatever revision it tried: suspended, kstatus
 * Stalled=True (generic.go: FailedStatus), ArtifactFailed (not the requeue-while-source-is-not-ready
 * messages), or DependencyNotReady because a dependency itself failed (followed through `lookup`).
 */
function fluxBlocked(obj: FluxKustomization, lookup: FluxLookup | undefined, depth: number): string | undefined {
  const conditions = obj.status?.conditions ?? [];
  if (obj.spec?.suspend) return "is suspended, so Flux will never apply the commit (flux resume kustomization)";
  const stalled = conditions.find((c) => c.type === "Stalled" && c.status === "True");
  if (stalled) return `is stalled: ${stalled.reason ?? ""}: ${stalled.message ?? ""}`.trim();
  const ready = conditions.find((c) => c.type === "Ready");
  if (ready?.status !== "False") return undefined;
  if (ready.reason === "ArtifactFailed" && !FLUX_ARTIFACT_WAITING.test(ready.message ?? "")) return `cannot use the source artifact: ArtifactFailed: ${ready.message ?? ""}`.trim();
  // checkDependencies: "dependency 'NS/NAME' is not ready" (kustomization_controller.go); a dependency
  // that is only slow is waited for, one that failed fails us with its own message.
  if (ready.reason === "DependencyNotReady" && lookup && depth < 8) {
    const deps = obj.spec?.dependsOn ?? [];
    const named = /dependency '([^/']+)\/([^']+)'/.exec(ready.message ?? "");
    const candidates = named ? [{ namespace: named[1] as string, name: named[2] as string }] : deps.map((d) => ({ namespace: d.namespace ?? obj.metadata?.namespace ?? "", name: d.name }));
    for (const ref of candidates) {
      const dep = lookup(ref.namespace, ref.name);
      if (!dep) continue;
      const depReady = dep.status?.conditions?.find((c) => c.type === "Ready");
      const why =
        fluxBlocked(dep, lookup, depth + 1) ??
        (depReady?.status === "False" && FLUX_FAILED_AFTER_ATTEMPT.has(depReady.reason ?? "") ? `${depReady.reason}: ${depReady.message ?? ""}`.trim() : undefined);
      if (why) return `waits for dependency ${ref.namespace}/${ref.name}, which failed: ${why}`;
    }
  }
  return undefined;
}

/**
 * Flux: applied when Ready=True for this generation and lastAppliedRevision is the commit; failed when the
 * controller failed on our revision, or is blocked whatever revision it tried (fluxBlocked).
 */
export function fluxApplied(obj: FluxKustomization | undefined, sha: string, lookup?: FluxLookup): GitopsVerdict {
  if (!obj) return { state: "waiting", message: "not found yet" };
  const status = obj.status ?? {};
  const ready = status.conditions?.find((c) => c.type === "Ready");
  const observed = status.lastAppliedRevision;
  const current = generationObserved(obj);
  if (revisionMatches(observed, sha) && ready?.status === "True" && current) return { state: "applied", observed, message: `applied ${observed}` };
  const blocked = fluxBlocked(obj, lookup, 0);
  if (blocked) return { state: "failed", observed, message: blocked };
  if (ready?.status === "False" && revisionMatches(status.lastAttemptedRevision, sha) && FLUX_FAILED_AFTER_ATTEMPT.has(ready.reason ?? "")) {
    return { state: "failed", observed, message: `failed to apply ${status.lastAttemptedRevision}: ${ready.reason}: ${ready.message ?? ""}`.trim() };
  }
  const readiness = ready ? `Ready=${ready.status}${ready.reason ? ` ${ready.reason}` : ""}` : "no Ready condition";
  return { state: "waiting", observed, message: `at ${observed ?? "(nothing applied)"}, ${readiness}${current ? "" : ", new generation not observed yet"}, waiting for ${sha}` };
}

/**
 * As the Argo CD application controller writes it (argo-cd pkg/apis/application/v1alpha1/types.go:
 * SyncStatus.revision / revisions, SyncOperationResult.revision / revisions, SyncOperation.revision /
 * revisions); `revisions` instead of `revision` for multi-source applications (spec.sources). Health
 * statuses are gitops-engine pkg/health/health.go's: Healthy, Progressing, Degraded, Suspended, Missing, Unknown.
 */
type ArgoApplication = KubernetesObject & {
  status?: {
    sync?: { status?: string; revision?: string; revisions?: string[] };
    health?: { status?: string; message?: string };
    operationState?: {
      phase?: string;
      message?: string;
      syncResult?: { revision?: string; revisions?: string[] };
      operation?: { sync?: { revision?: string; revisions?: string[] } };
    };
  };
};

/** One source's revision, or a multi-source application's list: is our commit among them? */
function anyRevisionMatches(revision: string | undefined, revisions: string[] | undefined, sha: string): string | undefined {
  return [revision, ...(revisions ?? [])].find((r) => revisionMatches(r, sha));
}

/**
 * Argo CD: applied when the synced revision (or one of a multi-source application's revisions) is the commit,
 * sync Synced and health Healthy. Fails at once on a sync operation Failed/Error for our revision, and, at
 * our revision, on health Degraded, Suspended (a paused resource: resume it) or Missing (synced, yet a
 * resource is not there).
 */
export function argoApplied(obj: ArgoApplication | undefined, sha: string): GitopsVerdict {
  if (!obj) return { state: "waiting", message: "not found yet" };
  const sync = obj.status?.sync ?? {};
  const health = obj.status?.health ?? {};
  const op = obj.status?.operationState;
  const observed = sync.revision ?? (sync.revisions && sync.revisions.length > 0 ? sync.revisions.join(",") : undefined);
  const opRevision = anyRevisionMatches(op?.syncResult?.revision, op?.syncResult?.revisions, sha) ?? anyRevisionMatches(op?.operation?.sync?.revision, op?.operation?.sync?.revisions, sha);
  if ((op?.phase === "Failed" || op?.phase === "Error") && opRevision) {
    return { state: "failed", observed, message: `sync of ${opRevision} ${op.phase}: ${op.message ?? ""}`.trim() };
  }
  const ours = anyRevisionMatches(sync.revision, sync.revisions, sha);
  const detail = health.message ? `: ${health.message}` : "";
  if (ours) {
    const synced = sync.status === "Synced";
    if (synced && health.status === "Healthy") return { state: "applied", observed, message: `synced ${ours}, Healthy` };
    if (synced && health.status === "Degraded") return { state: "failed", observed, message: `synced ${ours} but health is Degraded${detail}` };
    if (synced && health.status === "Suspended") return { state: "failed", observed, message: `synced ${ours} but health is Suspended (a resource is paused or suspended; resume it)${detail}` };
    if (health.status === "Missing" && (synced || (op?.phase === "Succeeded" && opRevision))) {
      return { state: "failed", observed, message: `synced ${ours} but health is Missing (a resource of the application does not exist)${detail}` };
    }
  }
  return { state: "waiting", observed, message: `at ${observed ?? "(no revision)"}, sync ${sync.status ?? "Unknown"}, health ${health.status ?? "Unknown"}, waiting for ${sha}` };
}
