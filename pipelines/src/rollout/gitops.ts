import type { KubernetesObject } from "@kubernetes/client-node";

/**
 * `namespace/name` of a Flux Kustomization or HelmRelease, or an Argo CD Application. Here, not with the
 * zod schema that uses it: `rollout verify` checks its flags with it without loading zod (issue 16).
 */
export const OBJECT_REF_PATTERN = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\/[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

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

/** `namespace/name` of one object. */
export interface ObjectRef {
  namespace: string;
  name: string;
}

/** Flux helm-controller's API (helm.toolkit.fluxcd.io/v2). */
export const HELM_RELEASE_API = { group: "helm.toolkit.fluxcd.io", version: "v2", plural: "helmreleases", kind: "HelmRelease" } as const;

export function helmReleaseLabel(r: ObjectRef): string {
  return `helmrelease/${r.namespace}/${r.name}`;
}

/** metav1.Condition: `observedGeneration` is the generation the controller set the condition against. */
interface HelmCondition extends Condition {
  observedGeneration?: number;
}

/**
 * A HelmRelease as helm-controller writes it (fluxcd/helm-controller api/v2/helmrelease_types.go,
 * HelmReleaseStatus; snapshot_types.go, Snapshot). Every status field is optional (`omitempty`);
 * `observedGeneration` defaults to -1 (`+kubebuilder:default`) until the first reconciliation.
 */
export type FluxHelmRelease = KubernetesObject & {
  spec?: { suspend?: boolean };
  status?: {
    observedGeneration?: number;
    lastAttemptedGeneration?: number;
    lastAttemptedRevision?: string;
    lastAttemptedConfigDigest?: string;
    conditions?: HelmCondition[];
    history?: { version?: number; status?: string; chartName?: string; chartVersion?: string; configDigest?: string }[];
  };
};

/**
 * Ready=False reasons that end an attempt at a release (api/v2/condition_types.go): the install, upgrade
 * or test failed, or the failure was remediated (rolled back, uninstalled) or its remediation failed.
 * ArtifactFailed (the chart cannot be fetched) and InitFailed (the Helm configuration, e.g. valuesFrom, cannot
 * be built) stop the release before any Helm action.
 */
const HELM_FAILED = new Set(["InstallFailed", "UpgradeFailed", "TestFailed", "RollbackSucceeded", "RollbackFailed", "UninstallSucceeded", "UninstallFailed", "ArtifactFailed", "InitFailed"]);

/**
 * Has helm-controller released the HelmRelease generation that carries our commit?
 *
 * Our GitOps commit changes the HelmRelease's values in Git; the Kustomization applies it, and the API server
 * raises metadata.generation. A HelmRelease's revisions are chart versions, never our Git SHA, so the link is
 * the generation: `generation` is the HelmRelease's metadata.generation read (a fresh GET) after the
 * Kustomization reported our revision applied, so it is that generation or a later one.
 *
 * - applied: status.observedGeneration >= generation, Ready=True (set against that generation or later),
 *   Released not False, and the latest history entry `deployed` with the config (values) digest the
 *   controller last attempted, when both digests are there (after a rollback the latest release carries
 *   the previous values).
 * - failed, for a condition set against our generation or later (its observedGeneration, else
 *   lastAttemptedGeneration, else status.observedGeneration): Remediated=True (the controller rolled back or
 *   uninstalled our release; Ready then mirrors the remediation, so Released's message, Helm's error, is
 *   quoted too), Stalled=True (RetriesExceeded: no attempts left), Ready=False with a reason of HELM_FAILED,
 *   Released=False (InstallFailed, UpgradeFailed). A suspended HelmRelease fails whatever the generation.
 * - waiting otherwise: a failure of an older generation says nothing of ours (the controller resets its
 *   failure counts for a new generation and tries again).
 * Reasons and conditions: fluxcd/helm-controller api/v2/condition_types.go; Stalled RetriesExceeded and the
 * Ready summary: internal/reconcile/atomic_release.go.
 */
export function helmReleaseApplied(obj: FluxHelmRelease | undefined, generation: number): GitopsVerdict {
  if (!obj) return { state: "waiting", message: "not found yet" };
  if (obj.spec?.suspend) return { state: "failed", message: "is suspended, so helm-controller will never release the commit (flux resume helmrelease)" };
  const status = obj.status ?? {};
  const observed = status.observedGeneration ?? -1;
  const attempted = status.lastAttemptedGeneration ?? observed;
  const conditions = status.conditions ?? [];
  const find = (type: string): HelmCondition | undefined => conditions.find((c) => c.type === type);
  const ours = (c: HelmCondition | undefined): c is HelmCondition => c !== undefined && (c.observedGeneration ?? attempted) >= generation;
  const latest = [...(status.history ?? [])].sort((a, b) => (b.version ?? 0) - (a.version ?? 0))[0];
  const chart = latest ? `${latest.chartName ?? "chart"}@${latest.chartVersion ?? "?"}` : undefined;
  const observedText = latest ? `release v${latest.version ?? "?"} ${chart} ${latest.status ?? ""}`.trim() : undefined;
  const text = (c: HelmCondition): string => `${c.reason ?? c.type ?? ""}: ${c.message ?? ""}`.trim();
  const ready = find("Ready");
  const released = find("Released");
  const releaseError = released?.status === "False" && ours(released) ? `; ${text(released)}` : "";

  const remediated = find("Remediated");
  if (remediated?.status === "True" && ours(remediated)) {
    return { state: "failed", observed: observedText, message: `release of generation ${generation} failed and was remediated (${text(remediated)})${releaseError}` };
  }
  const stalled = find("Stalled");
  if (stalled?.status === "True" && ours(stalled)) return { state: "failed", observed: observedText, message: `is stalled (${text(stalled)})${releaseError}` };
  if (ready?.status === "False" && ours(ready) && HELM_FAILED.has(ready.reason ?? "")) {
    const also = released && released !== ready && released.message !== ready.message ? releaseError : "";
    return { state: "failed", observed: observedText, message: `failed for generation ${generation}: ${text(ready)}${also}` };
  }
  if (released?.status === "False" && ours(released) && (released.reason === "InstallFailed" || released.reason === "UpgradeFailed")) {
    return { state: "failed", observed: observedText, message: `failed for generation ${generation}: ${text(released)}` };
  }

  const digestsAgree = !latest?.configDigest || !status.lastAttemptedConfigDigest || latest.configDigest === status.lastAttemptedConfigDigest;
  const deployed = latest === undefined || latest.status === "deployed";
  if (observed >= generation && ready?.status === "True" && ours(ready) && released?.status !== "False" && deployed && digestsAgree) {
    return { state: "applied", observed: observedText, message: `released generation ${generation}${observedText ? ` (${observedText})` : ""}` };
  }
  const readiness = ready ? `Ready=${ready.status}${ready.reason ? ` ${ready.reason}` : ""}` : "no Ready condition";
  const at = observed >= 0 ? `observed generation ${observed}` : "no generation observed yet";
  return { state: "waiting", observed: observedText, message: `${at}, ${readiness}${observedText ? `, ${observedText}` : ""}, waiting for generation ${generation} to be released` };
}
