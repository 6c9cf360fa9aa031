import type { KubernetesObject, V1DaemonSet, V1Deployment, V1Pod, V1ReplicaSet, V1StatefulSet } from "@kubernetes/client-node";
import { ListWatch, PatchStrategy, setHeaderOptions, Watch } from "@kubernetes/client-node";
import type { SlipwayError } from "../errors.js";
import { isSlipwayError, kubeServerError } from "../errors.js";
import { formatDuration } from "./duration.js";
import type { FluxHelmRelease, GitopsTarget, GitopsVerdict, ObjectRef } from "./gitops.js";
import { argoApplied, fluxApplied, GITOPS_API, gitopsLabel, HELM_RELEASE_API, helmReleaseApplied, helmReleaseLabel } from "./gitops.js";
import type { FailFastThresholds, GraceClock, Pending, Problem } from "./health.js";
import { currentReplicaSet, evaluateDeployment, podsOf, podState, renderProblem } from "./health.js";
import type { ImageExpectation } from "./images.js";
import type { KubeClients } from "./kube.js";
import { classifyKubeError, httpStatus, isUnavailable } from "./kube.js";
import type { ProgressUpdate } from "./progress.js";
import { podReady, workloadCounts } from "./progress.js";
import type { WorkloadState } from "./workloads.js";
import { daemonSetPods, evaluateDaemonSet, evaluateStatefulSet, statefulSetPods } from "./workloads.js";

/** The kinds `rollout verify` follows; each is judged as `kubectl rollout status KIND/NAME` judges it. */
export type WorkloadKind = "deployment" | "statefulset" | "daemonset";

export interface VerifyRequest {
  namespace: string;
  /**
   * Workload names by kind, or a label selector (which selects Deployments, StatefulSets and DaemonSets
   * alike): exactly one of the two. Only the kinds named (all three with a selector) are watched.
   */
  deployments?: string[];
  statefulSets?: string[];
  daemonSets?: string[];
  selector?: string;
  images: ImageExpectation[];
  gitops?: GitopsTarget;
  /**
   * A Flux HelmRelease that the Kustomization (`gitops`) applies and whose values our commit changes: after
   * the Kustomization applied the commit, helm-controller must release it (helmReleaseApplied).
   */
  helmRelease?: ObjectRef;
  revision?: string;
  /** Ask Flux to reconcile now (reconcile.fluxcd.io/requestedAt), or Argo CD to refresh (argocd.argoproj.io/refresh). */
  reconcile: boolean;
  /**
   * Argo CD only: request a sync of `revision` (the Application's .operation, as `argocd app sync --revision`),
   * for an Application without automated sync, which a refresh alone leaves OutOfSync. Needs a full commit SHA.
   */
  sync?: boolean;
  timeoutMs: number;
  thresholds: FailFastThresholds;
}

/**
 * healthy (exit 0); failed (1: a reason seen, roll back); paused (1: spec.paused, resume it); unverifiable
 * (1: a StatefulSet or DaemonSet with the OnDelete strategy, whose rollout no status can follow, as kubectl
 * says); timeout (3: still waiting); unknown (4: the API could not be read until the timeout — never a reason
 * to roll back).
 */
export type Verdict = "healthy" | "failed" | "paused" | "unverifiable" | "timeout" | "unknown";

export interface Snapshot {
  deployments: V1Deployment[];
  replicaSets: V1ReplicaSet[];
  statefulSets: V1StatefulSet[];
  daemonSets: V1DaemonSet[];
  pods: V1Pod[];
}

export interface WorkloadResult {
  kind: WorkloadKind;
  name: string;
  state: WorkloadState | "paused" | "missing";
  message: string;
}

export interface VerifyResult {
  verdict: Verdict;
  namespace: string;
  elapsedMs: number;
  gitops?: { target: string; state: GitopsVerdict["state"]; message: string; observed?: string };
  helmRelease?: { target: string; state: GitopsVerdict["state"]; message: string; observed?: string; generation?: number };
  workloads: WorkloadResult[];
  problems: Problem[];
  /** Human-readable reasons: failures for `failed`, what was still pending for `timeout`. */
  reasons: string[];
  /** The objects of the selected workloads at the verdict, for diagnostics. */
  snapshot: Snapshot;
}

export interface VerifyHooks {
  /** One line per change of an object's state. */
  progress: (line: string) => void;
  /**
   * Every object's state at every evaluation, changed or not, with the counts, problems and pods a live
   * display draws from (progress.ts). Pods are not sent on their own: they come with their workload.
   */
  update?: (update: ProgressUpdate) => void;
  now?: () => number;
}

type Informer<T extends KubernetesObject> = ListWatch<T>;

const BACKOFF_FIRST_MS = 250;
const BACKOFF_MAX_MS = 5000;

interface Feed {
  label: string;
  resource: string;
  informer: Informer<KubernetesObject>;
  /** Listed and watching (the last attempt to start succeeded). */
  connected: boolean;
  failedThisAttempt: boolean;
  attempts: number;
  lastError?: SlipwayError;
}

/**
 * Waits until the GitOps object applied the commit and every selected Deployment is healthy, or
 * fails on the first watch event that shows a fail-fast reason, or gives up at the timeout.
 * List + watch through client-node's ListWatch (resourceVersion, re-watch on close), so a verdict
 * follows the first event that decides it instead of a polling interval.
 */
export async function verifyRollout(clients: KubeClients, req: VerifyRequest, hooks: VerifyHooks): Promise<VerifyResult> {
  const now = hooks.now ?? Date.now;
  const started = now();
  const { namespace } = req;
  const stamp = (): string => `[${formatDuration(now() - started).padStart(6)}]`;
  const lastLine = new Map<string, string>();
  /** `detail` null: a line only (a pod's, which the live display shows with its workload). */
  const say = (key: string, text: string, detail: Omit<ProgressUpdate, "key" | "text"> | null = {}): void => {
    if (detail) hooks.update?.({ key, text, ...detail });
    if (lastLine.get(key) === text) return;
    lastLine.set(key, text);
    hooks.progress(`${stamp()} ${key}: ${text}`);
  };

  const watch = new Watch(clients.kc);
  const ns = encodeURIComponent(namespace);
  const informers: { label: string; resource: string; informer: Informer<KubernetesObject> }[] = [];
  const add = <T extends KubernetesObject>(label: string, resource: string, lw: Informer<T>): Informer<T> => {
    informers.push({ label, resource, informer: lw as unknown as Informer<KubernetesObject> });
    return lw;
  };
  // Only the kinds asked for are watched: each needs its own `list, watch` RBAC rule.
  const all = req.selector !== undefined;
  const labelSelector = req.selector;
  const deployments =
    all || req.deployments
      ? add(
          "deployments",
          "deployments.apps",
          new ListWatch<V1Deployment>(`/apis/apps/v1/namespaces/${ns}/deployments`, watch, () => clients.apps.listNamespacedDeployment({ namespace, labelSelector }), false, labelSelector),
        )
      : undefined;
  const replicaSets = deployments
    ? add("replicasets", "replicasets.apps", new ListWatch<V1ReplicaSet>(`/apis/apps/v1/namespaces/${ns}/replicasets`, watch, () => clients.apps.listNamespacedReplicaSet({ namespace }), false))
    : undefined;
  const statefulSets =
    all || req.statefulSets
      ? add(
          "statefulsets",
          "statefulsets.apps",
          new ListWatch<V1StatefulSet>(`/apis/apps/v1/namespaces/${ns}/statefulsets`, watch, () => clients.apps.listNamespacedStatefulSet({ namespace, labelSelector }), false, labelSelector),
        )
      : undefined;
  const daemonSets =
    all || req.daemonSets
      ? add(
          "daemonsets",
          "daemonsets.apps",
          new ListWatch<V1DaemonSet>(`/apis/apps/v1/namespaces/${ns}/daemonsets`, watch, () => clients.apps.listNamespacedDaemonSet({ namespace, labelSelector }), false, labelSelector),
        )
      : undefined;
  const pods = add("pods", "pods", new ListWatch<V1Pod>(`/api/v1/namespaces/${ns}/pods`, watch, () => clients.core.listNamespacedPod({ namespace }), false));
  let gitopsInformer: Informer<KubernetesObject> | undefined;
  if (req.gitops) {
    const t = req.gitops;
    const api = GITOPS_API[t.kind];
    // Flux: every Kustomization of the namespace, so a failed dependency (spec.dependsOn) is seen too;
    // Argo CD: the one Application.
    const fieldSelector = t.kind === "flux" ? undefined : `metadata.name=${t.name}`;
    gitopsInformer = add(
      gitopsLabel(t),
      `${api.plural}.${api.group}`,
      new ListWatch<KubernetesObject>(
        `/apis/${api.group}/${api.version}/namespaces/${encodeURIComponent(t.namespace)}/${api.plural}`,
        watch,
        () => clients.custom.listNamespacedCustomObject({ group: api.group, version: api.version, namespace: t.namespace, plural: api.plural, fieldSelector }),
        false,
        undefined,
        fieldSelector,
      ),
    );
  }

  let helmInformer: Informer<KubernetesObject> | undefined;
  if (req.helmRelease) {
    const r = req.helmRelease;
    const api = HELM_RELEASE_API;
    const fieldSelector = `metadata.name=${r.name}`;
    helmInformer = add(
      helmReleaseLabel(r),
      `${api.plural}.${api.group}`,
      new ListWatch<KubernetesObject>(
        `/apis/${api.group}/${api.version}/namespaces/${encodeURIComponent(r.namespace)}/${api.plural}`,
        watch,
        () => clients.custom.listNamespacedCustomObject({ group: api.group, version: api.version, namespace: r.namespace, plural: api.plural, fieldSelector }),
        false,
        undefined,
        fieldSelector,
      ),
    );
  }

  return await new Promise<VerifyResult>((resolve, reject) => {
    let finished = false;
    let ready = false;
    let gitopsVerdict: GitopsVerdict | undefined;
    let helmVerdict: GitopsVerdict | undefined;
    // The HelmRelease generation that carries our commit: read once the Kustomization applied it (helmBaseline()).
    let helmGeneration: number | undefined;
    let helmReading = false;
    let helmAttempts = 0;
    let verdicts: WorkloadResult[] = [];
    let problems: Problem[] = [];
    const timers = new Set<NodeJS.Timeout>();
    // States that fail after a grace (Unschedulable, ReplicaFailure): when each was first seen, kept while
    // each evaluation still sees it; and one timer to evaluate again when the nearest grace ends, so the
    // verdict does not wait for an unrelated event.
    const firstSeen = new Map<string, number>();
    let seenNow = new Set<string>();
    const clock: GraceClock = {
      seenFor: (key) => {
        seenNow.add(key);
        const at = firstSeen.get(key) ?? now();
        firstSeen.set(key, at);
        return now() - at;
      },
    };
    let recheck: NodeJS.Timeout | undefined;

    const snapshot = (): Snapshot => {
      const selected = select();
      const found = <T>(list: (T | undefined)[]): T[] => list.filter((o): o is T => o !== undefined);
      const deploymentList = found(selected.deployments);
      const statefulSetList = found(selected.statefulSets);
      const daemonSetList = found(selected.daemonSets);
      const uids = new Set(deploymentList.map((d) => d.metadata?.uid ?? d.metadata?.name));
      const rsList = (replicaSets?.list(namespace) ?? []).filter((rs) => (rs.metadata?.ownerReferences ?? []).some((o) => o.kind === "Deployment" && uids.has(o.uid)));
      const all = pods.list(namespace);
      const podList = [
        ...rsList.flatMap((rs) => podsOf(rs, all)),
        ...statefulSetList.flatMap((sts) => statefulSetPods(sts, all)),
        ...daemonSetList.flatMap((ds) => daemonSetPods(ds, all)),
      ];
      return { deployments: deploymentList, replicaSets: rsList, statefulSets: statefulSetList, daemonSets: daemonSetList, pods: podList };
    };

    const finish = (verdict: Verdict | Error, reasons: string[] = []): void => {
      if (finished) return;
      finished = true;
      for (const t of timers) clearTimeout(t);
      for (const { informer } of informers) void informer.stop();
      if (verdict instanceof Error) return reject(verdict);
      const t = req.gitops;
      resolve({
        verdict,
        namespace,
        elapsedMs: now() - started,
        gitops: t && gitopsVerdict ? { target: gitopsLabel(t), state: gitopsVerdict.state, message: gitopsVerdict.message, observed: gitopsVerdict.observed } : undefined,
        helmRelease:
          req.helmRelease && helmVerdict
            ? { target: helmReleaseLabel(req.helmRelease), state: helmVerdict.state, message: helmVerdict.message, observed: helmVerdict.observed, generation: helmGeneration }
            : undefined,
        workloads: verdicts,
        problems,
        reasons,
        snapshot: snapshot(),
      });
    };

    /** The selected workloads by kind; a named one not seen (yet) is undefined, in the order named. */
    function select(): { deployments: (V1Deployment | undefined)[]; statefulSets: (V1StatefulSet | undefined)[]; daemonSets: (V1DaemonSet | undefined)[] } {
      const pick = <T extends KubernetesObject>(informer: Informer<T> | undefined, names: string[] | undefined): (T | undefined)[] => {
        if (!informer) return [];
        if (names) return names.map((name) => informer.get(name, namespace));
        return [...informer.list(namespace)].sort((a, b) => (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? ""));
      };
      return { deployments: pick(deployments, req.deployments), statefulSets: pick(statefulSets, req.statefulSets), daemonSets: pick(daemonSets, req.daemonSets) };
    }

    const evaluate = (): void => {
      if (finished || !ready) return;
      for (const key of firstSeen.keys()) if (!seenNow.has(key)) firstSeen.delete(key);
      seenNow = new Set();
      if (recheck) {
        clearTimeout(recheck);
        timers.delete(recheck);
        recheck = undefined;
      }
      if (req.gitops && req.revision) {
        const t = req.gitops;
        const obj = gitopsInformer?.get(t.name, t.namespace);
        gitopsVerdict = t.kind === "flux" ? fluxApplied(obj, req.revision, (ns, name) => gitopsInformer?.get(name, ns)) : argoApplied(obj, req.revision);
        say(gitopsLabel(t), gitopsVerdict.message, { state: gitopsVerdict.state });
        if (gitopsVerdict.state === "failed") return finish("failed", [`${gitopsLabel(t)}: ${gitopsVerdict.message}`]);
        // Deployments are judged only once our commit is applied: before that they run the previous release.
        if (gitopsVerdict.state !== "applied") return;
      }
      if (req.helmRelease) {
        const label = helmReleaseLabel(req.helmRelease);
        if (helmGeneration === undefined) {
          helmVerdict = { state: "waiting", message: "reading the generation that carries the commit" };
          say(label, helmVerdict.message, { state: helmVerdict.state });
          helmBaseline(req.helmRelease);
          return;
        }
        helmVerdict = helmReleaseApplied(helmInformer?.get(req.helmRelease.name, req.helmRelease.namespace) as FluxHelmRelease | undefined, helmGeneration);
        say(label, helmVerdict.message, { state: helmVerdict.state });
        if (helmVerdict.state === "failed") return finish("failed", [`${label}: ${helmVerdict.message}`]);
        // Helm creates the new pods: the workloads are judged once helm-controller released our values.
        if (helmVerdict.state !== "applied") return;
      }
      const rsList = [...(replicaSets?.list(namespace) ?? [])];
      const podList = [...pods.list(namespace)];
      const selected = select();
      problems = [];
      verdicts = [];
      let nearest = Infinity;
      if (req.selector && selected.deployments.length + selected.statefulSets.length + selected.daemonSets.length === 0) {
        verdicts.push({ kind: "deployment", name: `(selector ${req.selector})`, state: "missing", message: "no Deployment, StatefulSet or DaemonSet matches the selector yet" });
        say(`selector ${req.selector}`, "no workload matches yet");
        return;
      }
      /** Records one workload's verdict and its new pods' states; `judge` runs only for an object that exists. */
      const record = <T extends KubernetesObject>(
        kind: WorkloadKind,
        list: (T | undefined)[],
        names: string[] | undefined,
        judge: (obj: T) => { state: WorkloadResult["state"]; message: string; problems: Problem[]; pending: Pending[] },
        newPods: (obj: T) => V1Pod[],
      ): void => {
        list.forEach((obj, i) => {
          const name = obj?.metadata?.name ?? names?.[i] ?? "";
          if (!obj) {
            verdicts.push({ kind, name, state: "missing", message: "not found" });
            say(`${kind}/${name}`, "not found (yet)", { state: "missing" });
            return;
          }
          const v = judge(obj);
          for (const p of v.pending) nearest = Math.min(nearest, p.failInMs);
          verdicts.push({ kind, name, state: v.state, message: v.message });
          problems.push(...v.problems);
          const fresh = newPods(obj);
          say(`${kind}/${name}`, v.message, {
            state: v.state,
            counts: workloadCounts(kind, obj),
            problems: v.problems,
            pending: v.pending,
            pods: fresh.map((pod) => ({ name: pod.metadata?.name ?? "", ready: podReady(pod), state: podState(pod) })),
          });
          for (const pod of fresh) say(`pod/${pod.metadata?.name ?? ""}`, podState(pod), null);
        });
      };
      record(
        "deployment",
        selected.deployments,
        req.deployments,
        (d) => evaluateDeployment(d, rsList, podList, req.images, req.thresholds, clock),
        (d) => {
          // Pods of the new ReplicaSet only, once the controller has observed the new spec.
          const observed = (d.status?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0);
          const rs = observed ? currentReplicaSet(d, rsList) : undefined;
          return rs ? podsOf(rs, podList) : [];
        },
      );
      record("statefulset", selected.statefulSets, req.statefulSets, (s) => evaluateStatefulSet(s, podList, req.images, req.thresholds, clock), (s) => statefulSetPods(s, podList));
      record("daemonset", selected.daemonSets, req.daemonSets, (d) => evaluateDaemonSet(d, podList, req.images, req.thresholds, clock), (d) => daemonSetPods(d, podList));
      if (problems.length > 0) return finish("failed", problems.map(renderProblem));
      if (nearest !== Infinity) {
        const timer = setTimeout(() => {
          timers.delete(timer);
          if (recheck === timer) recheck = undefined;
          evaluate();
        }, nearest + 5);
        recheck = timer;
        timers.add(timer);
      }
      const unverifiable = verdicts.filter((v) => v.state === "unverifiable");
      if (unverifiable.length > 0) return finish("unverifiable", unverifiable.map((v) => `${v.kind}/${v.name}: ${v.message}`));
      const paused = verdicts.filter((v) => v.state === "paused");
      if (paused.length > 0) return finish("paused", paused.map((v) => `${v.kind}/${v.name}: ${v.message}`));
      if (verdicts.every((v) => v.state === "healthy")) finish("healthy");
    };

    const timeout = setTimeout(() => {
      // Could not look (never listed, or the API failing right now): `unknown`, not `timeout` — the
      // rollout may well be done. Only a verdict seen through a working API is a "no".
      const blind = feeds.filter((f) => !f.connected && (f.lastError !== undefined || !ready));
      if (!ready || blind.length > 0) {
        const why = blind.map((f) => `${f.label}: ${f.lastError ? describeKubeError(f.lastError) : "the first list did not complete (no answer)"}`);
        return finish("unknown", why.length > 0 ? why : ["the first list of objects did not complete"]);
      }
      const pending = [
        ...(req.gitops && gitopsVerdict?.state !== "applied" ? [`${gitopsLabel(req.gitops)}: ${gitopsVerdict?.message ?? "not read yet"}`] : []),
        ...(req.helmRelease && gitopsVerdict?.state === "applied" && helmVerdict?.state !== "applied" ? [`${helmReleaseLabel(req.helmRelease)}: ${helmVerdict?.message ?? "not read yet"}`] : []),
        ...verdicts.filter((v) => v.state !== "healthy").map((v) => `${v.kind}/${v.name}: ${v.message}`),
      ];
      finish("timeout", pending.length > 0 ? pending : ["the first list of objects did not complete"]);
    }, req.timeoutMs);
    timers.add(timeout);

    const later = (ms: number, fn: () => void): void => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (!finished) fn();
      }, ms);
      timers.add(timer);
    };

    /** Errors of one attempt to list + watch: "could not check" is retried with backoff until the timeout. */
    const onError = (feed: Feed, error: unknown): void => {
      if (finished) return;
      feed.failedThisAttempt = true;
      feed.connected = false;
      // Already one of ours (an Entra token that cannot be had): its own answer, as before.
      if (isSlipwayError(error)) return finish(error);
      const coded = classifyKubeError(error, "watch", feed.resource, namespace, clients.server);
      if (!isUnavailable(error) && !ready) return finish(coded ?? (error instanceof Error ? error : new Error(String(error))));
      feed.lastError = coded ?? kubeServerError("watch", feed.resource, namespace, httpStatus(error) ?? 0, error instanceof Error ? error.message : String(error));
      say(`watch ${feed.label}`, `could not check (${describeKubeError(feed.lastError)}), retrying`);
      later(backoffMs(feed.attempts++), () => void connect(feed));
    };

    const connect = async (feed: Feed): Promise<void> => {
      feed.failedThisAttempt = false;
      try {
        await feed.informer.start();
      } catch (error) {
        onError(feed, error);
        return;
      }
      // ListWatch reports a failed list or watch through its error callback and still resolves start().
      if (finished || feed.failedThisAttempt) return;
      feed.connected = true;
      feed.attempts = 0;
      if (feed.lastError) say(`watch ${feed.label}`, "reading again");
      feed.lastError = undefined;
      if (!ready && feeds.every((f) => f.connected)) ready = true;
      evaluate();
    };

    /**
     * A fresh GET (a quorum read, after the Kustomization's status said our revision is applied) gives a
     * generation at least the one the apply produced; the watch cache of the HelmRelease may lag behind the
     * Kustomization's. Not found yet, or the API failing: tried again with backoff.
     */
    function helmBaseline(r: ObjectRef): void {
      if (helmReading || finished) return;
      helmReading = true;
      const api = HELM_RELEASE_API;
      clients.custom.getNamespacedCustomObject({ group: api.group, version: api.version, namespace: r.namespace, plural: api.plural, name: r.name }).then(
        (obj: unknown) => {
          helmReading = false;
          helmGeneration = (obj as FluxHelmRelease).metadata?.generation ?? 1;
          helmAttempts = 0;
          evaluate();
        },
        (error: unknown) => {
          helmReading = false;
          if (finished) return;
          const status = httpStatus(error);
          if (status !== 404 && !isUnavailable(error)) {
            return finish(classifyKubeError(error, "get", `${api.plural}.${api.group}`, r.namespace, clients.server) ?? (error instanceof Error ? error : new Error(String(error))));
          }
          say(helmReleaseLabel(r), status === 404 ? "not found yet" : `could not read it (${describeKubeError(classifyKubeError(error, "get", `${api.plural}.${api.group}`, r.namespace, clients.server) ?? error)}), retrying`);
          later(backoffMs(helmAttempts++), evaluate);
        },
      );
    }

    const feeds: Feed[] = informers.map(({ label, resource, informer }) => ({ label, resource, informer, connected: false, failedThisAttempt: false, attempts: 0 }));
    for (const feed of feeds) {
      feed.informer.on("change", evaluate);
      feed.informer.on("error", (error: unknown) => onError(feed, error));
    }

    if (req.gitops && req.reconcile) {
      const t = req.gitops;
      const controller = t.kind === "flux" ? "Flux to reconcile" : "Argo CD to refresh";
      let attempts = 0;
      const reconcile = (): void => {
        (t.kind === "flux" ? requestFluxReconcile(clients, t, now) : requestArgoRefresh(clients, t)).then(
          () => undefined,
          (error: unknown) => {
            if (finished) return;
            const api = GITOPS_API[t.kind];
            const coded = classifyKubeError(error, "patch", `${api.plural}.${api.group}`, t.namespace, clients.server);
            if (!isUnavailable(error)) return finish(coded ?? (error instanceof Error ? error : new Error(String(error))));
            // Flux and Argo CD reconcile at their interval anyway: a request that cannot be made delays, it decides nothing.
            say(`reconcile ${gitopsLabel(t)}`, `could not ask ${controller} (${describeKubeError(coded ?? error)}), retrying`);
            later(backoffMs(attempts++), reconcile);
          },
        );
      };
      reconcile();
    }
    if (req.gitops?.kind === "argocd" && req.sync && req.revision) {
      const t = req.gitops;
      const revision = req.revision;
      const api = GITOPS_API.argocd;
      const label = `sync ${gitopsLabel(t)}`;
      let attempts = 0;
      let told = "";
      const sync = (): void => {
        requestArgoSync(clients, t, revision).then(
          (outcome) => {
            if (finished) return;
            if (outcome.state === "requested" || outcome.state === "done") return say(label, outcome.message);
            // Another operation runs (or Argo CD syncs on its own): never overwritten; asked again when it ends.
            if (outcome.message !== told) say(label, outcome.message);
            told = outcome.message;
            if (outcome.state === "busy") later(backoffMs(attempts++), sync);
          },
          (error: unknown) => {
            if (finished) return;
            // 409: the Application changed between our read and our patch (its resourceVersion is the patch's precondition): read again.
            if (httpStatus(error) === 409) return later(backoffMs(attempts++), sync);
            const coded = classifyKubeError(error, "patch", `${api.plural}.${api.group}`, t.namespace, clients.server);
            if (!isUnavailable(error)) return finish(coded ?? (error instanceof Error ? error : new Error(String(error))));
            say(label, `could not request the sync (${describeKubeError(coded ?? error)}), retrying`);
            later(backoffMs(attempts++), sync);
          },
        );
      };
      sync();
    }
    for (const feed of feeds) void connect(feed);
  });
}

/**
 * `argocd app get --refresh` does exactly this (argo-cd util/argo/argo.go RefreshApp): a merge patch setting
 * the annotation argocd.argoproj.io/refresh to "normal"; the application controller then compares the
 * Application with Git at once instead of at its next poll (timeout.reconciliation, 3 minutes by default),
 * syncs it when automated sync is on, and removes the annotation when it has refreshed
 * (pkg/apis/application/v1alpha1/application_annotations.go AnnotationKeyRefresh). No `.operation` is
 * written: an Application without automated sync stays OutOfSync, and the wait for our revision says so.
 */
async function requestArgoRefresh(clients: KubeClients, t: GitopsTarget): Promise<void> {
  const api = GITOPS_API.argocd;
  await clients.custom.patchNamespacedCustomObject(
    { group: api.group, version: api.version, namespace: t.namespace, plural: api.plural, name: t.name, body: { metadata: { annotations: { [ARGO_REFRESH]: "normal" } } } },
    setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
  );
}

/** An Application's fields that decide whether a sync may be requested (argo-cd pkg/apis/application/v1alpha1/types.go). */
type ArgoSyncView = KubernetesObject & {
  operation?: unknown;
  spec?: { sources?: unknown[]; syncPolicy?: { automated?: unknown } };
  status?: { sync?: { status?: string; revision?: string }; operationState?: { phase?: string } };
};

export type ArgoSyncOutcome = { state: "requested" | "done" | "busy" | "automated" | "unsupported"; message: string };

/**
 * What `argocd app sync APP --revision SHA` amounts to, written through the Kubernetes API: argo-cd's API
 * server (server/application/application.go Sync) builds Operation{ Sync: { Revision }, InitiatedBy: {
 * Username } } and util/argo/argo.go SetAppOperation stores it: it refuses when `.operation` is already set
 * ("another operation is already in progress"), otherwise sets `.operation` and clears
 * status.operationState, in one update carrying the resourceVersion it read. We do the same with a merge
 * patch whose metadata.resourceVersion is a precondition (409 if the Application changed since our read).
 * The application controller then runs it (controller/appcontroller.go processRequestedAppOperations):
 * status.operationState phase Running, then Succeeded / Failed / Error with syncResult.revision, status.sync
 * updated, `.operation` removed. Never overwritten: an existing `.operation`, or an operationState still
 * Running. Not requested: when Argo CD syncs on its own (spec.syncPolicy.automated; the API server refuses a
 * revision other than targetRevision then), when status.sync already shows the revision Synced, and for a
 * multi-source Application (spec.sources: its sync takes one revision per source; not built).
 */
export async function requestArgoSync(clients: KubeClients, t: GitopsTarget, revision: string): Promise<ArgoSyncOutcome> {
  const api = GITOPS_API.argocd;
  const ref = { group: api.group, version: api.version, namespace: t.namespace, plural: api.plural, name: t.name };
  const app = (await clients.custom.getNamespacedCustomObject(ref)) as ArgoSyncView;
  const phase = app.status?.operationState?.phase;
  if (app.operation || phase === "Running") {
    return { state: "busy", message: `an operation is in progress (${phase ?? "requested"}): not overwritten; the sync of ${revision.slice(0, 12)} is requested when it ends` };
  }
  if (app.status?.sync?.revision === revision && app.status.sync.status === "Synced") return { state: "done", message: `already synced at ${revision.slice(0, 12)}: no sync requested` };
  if (app.spec?.syncPolicy?.automated) return { state: "automated", message: "automated sync is on: Argo CD syncs the commit itself, no sync operation written" };
  if (app.spec?.sources) return { state: "unsupported", message: "a multi-source Application (spec.sources): a sync operation is not requested for it (not built); waiting for Argo CD" };
  await clients.custom.patchNamespacedCustomObject(
    {
      ...ref,
      body: {
        metadata: { resourceVersion: app.metadata?.resourceVersion },
        operation: { initiatedBy: { username: "slipway" }, sync: { revision } },
        status: { operationState: null },
      },
    },
    setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
  );
  return { state: "requested", message: `sync of ${revision.slice(0, 12)} requested (operation initiated by slipway)` };
}

/** 250 ms, doubling, at most 5 s between attempts (client-go's rest client backs off the same way, capped). */
export function backoffMs(attempt: number): number {
  return Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** Math.min(attempt, 10));
}

function describeKubeError(error: unknown): string {
  if (!isSlipwayError(error)) return error instanceof Error ? error.message : String(error);
  const http = error.details.find((d) => d.startsWith("HTTP "));
  return `${error.code}: ${error.message}${http ? ` (${http})` : ""}`;
}

/**
 * `flux reconcile kustomization` does exactly this: set reconcile.fluxcd.io/requestedAt to a new
 * value; the controller reconciles at once instead of at its next interval.
 */
export const ARGO_REFRESH = "argocd.argoproj.io/refresh";

async function requestFluxReconcile(clients: KubeClients, t: GitopsTarget, now: () => number): Promise<void> {
  const api = GITOPS_API.flux;
  await clients.custom.patchNamespacedCustomObject(
    {
      group: api.group,
      version: api.version,
      namespace: t.namespace,
      plural: api.plural,
      name: t.name,
      body: { metadata: { annotations: { "reconcile.fluxcd.io/requestedAt": new Date(now()).toISOString() } } },
    },
    setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
  );
}
