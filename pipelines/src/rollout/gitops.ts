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

/** Ready=False reasons after which Flux will not apply this revision without a new commit or a retry interval. */
const FLUX_FAILED_REASONS = new Set(["BuildFailed", "ReconciliationFailed", "HealthCheckFailed", "PruneFailed", "ArtifactFailed"]);

type FluxKustomization = KubernetesObject & {
  spec?: { suspend?: boolean };
  status?: { observedGeneration?: number; lastAppliedRevision?: string; lastAttemptedRevision?: string; conditions?: Condition[] };
};

/** Flux: applied when Ready=True for this generation and lastAppliedRevision is the commit. */
export function fluxApplied(obj: FluxKustomization | undefined, sha: string): GitopsVerdict {
  if (!obj) return { state: "waiting", message: "not found yet" };
  const status = obj.status ?? {};
  const ready = status.conditions?.find((c) => c.type === "Ready");
  const observed = status.lastAppliedRevision;
  if (obj.spec?.suspend) return { state: "failed", observed, message: "is suspended, so Flux will never apply the commit (flux resume kustomization)" };
  const current = (status.observedGeneration ?? -1) >= (obj.metadata?.generation ?? 0);
  if (revisionMatches(observed, sha) && ready?.status === "True" && current) return { state: "applied", observed, message: `applied ${observed}` };
  if (ready?.status === "False" && revisionMatches(status.lastAttemptedRevision, sha) && FLUX_FAILED_REASONS.has(ready.reason ?? "")) {
    return { state: "failed", observed, message: `failed to apply ${status.lastAttemptedRevision}: ${ready.reason}: ${ready.message ?? ""}`.trim() };
  }
  const readiness = ready ? `Ready=${ready.status}${ready.reason ? ` ${ready.reason}` : ""}` : "no Ready condition";
  return { state: "waiting", observed, message: `at ${observed ?? "(nothing applied)"}, ${readiness}, waiting for ${sha}` };
}

type ArgoApplication = KubernetesObject & {
  status?: {
    sync?: { status?: string; revision?: string };
    health?: { status?: string; message?: string };
    operationState?: { phase?: string; message?: string; syncResult?: { revision?: string }; operation?: { sync?: { revision?: string } } };
  };
};

/** Argo CD: applied when status.sync.revision is the commit, sync Synced and health Healthy. */
export function argoApplied(obj: ArgoApplication | undefined, sha: string): GitopsVerdict {
  if (!obj) return { state: "waiting", message: "not found yet" };
  const sync = obj.status?.sync ?? {};
  const health = obj.status?.health ?? {};
  const op = obj.status?.operationState;
  const observed = sync.revision;
  const opRevision = op?.syncResult?.revision ?? op?.operation?.sync?.revision;
  if ((op?.phase === "Failed" || op?.phase === "Error") && revisionMatches(opRevision, sha)) {
    return { state: "failed", observed, message: `sync of ${opRevision} ${op.phase}: ${op.message ?? ""}`.trim() };
  }
  if (revisionMatches(observed, sha)) {
    if (sync.status === "Synced" && health.status === "Healthy") return { state: "applied", observed, message: `synced ${observed}, Healthy` };
    if (sync.status === "Synced" && health.status === "Degraded") {
      return { state: "failed", observed, message: `synced ${observed} but health is Degraded${health.message ? `: ${health.message}` : ""}` };
    }
  }
  return { state: "waiting", observed, message: `at ${observed ?? "(no revision)"}, sync ${sync.status ?? "Unknown"}, health ${health.status ?? "Unknown"}, waiting for ${sha}` };
}
