import type { KubernetesObject, V1Deployment, V1Pod, V1ReplicaSet } from "@kubernetes/client-node";
import { ListWatch, PatchStrategy, setHeaderOptions, Watch } from "@kubernetes/client-node";
import type { SlipwayError } from "../errors.js";
import { isSlipwayError, kubeServerError } from "../errors.js";
import { formatDuration } from "./duration.js";
import type { GitopsTarget, GitopsVerdict } from "./gitops.js";
import { argoApplied, fluxApplied, GITOPS_API, gitopsLabel } from "./gitops.js";
import type { DeploymentVerdict, FailFastThresholds, GraceClock, Problem } from "./health.js";
import { currentReplicaSet, evaluateDeployment, podsOf, podState, renderProblem } from "./health.js";
import type { ImageExpectation } from "./images.js";
import type { KubeClients } from "./kube.js";
import { classifyKubeError, httpStatus, isUnavailable } from "./kube.js";

export interface VerifyRequest {
  namespace: string;
  /** Deployment names, or a label selector: exactly one of the two. */
  deployments?: string[];
  selector?: string;
  images: ImageExpectation[];
  gitops?: GitopsTarget;
  revision?: string;
  /** Ask Flux to reconcile now (reconcile.fluxcd.io/requestedAt). */
  reconcile: boolean;
  timeoutMs: number;
  thresholds: FailFastThresholds;
}

/**
 * healthy (exit 0); failed (1: a reason seen, roll back); paused (1: spec.paused, resume it); timeout (3:
 * still waiting); unknown (4: the API could not be read until the timeout — never a reason to roll back).
 */
export type Verdict = "healthy" | "failed" | "paused" | "timeout" | "unknown";

export interface Snapshot {
  deployments: V1Deployment[];
  replicaSets: V1ReplicaSet[];
  pods: V1Pod[];
}

export interface VerifyResult {
  verdict: Verdict;
  namespace: string;
  elapsedMs: number;
  gitops?: { target: string; state: GitopsVerdict["state"]; message: string; observed?: string };
  deployments: { name: string; state: DeploymentVerdict["state"] | "missing"; message: string }[];
  problems: Problem[];
  /** Human-readable reasons: failures for `failed`, what was still pending for `timeout`. */
  reasons: string[];
  /** The objects of the selected Deployments at the verdict, for diagnostics. */
  snapshot: Snapshot;
}

export interface VerifyHooks {
  /** One line per change of an object's state. */
  progress: (line: string) => void;
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
  const say = (key: string, text: string): void => {
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
  const deployments = add(
    "deployments",
    "deployments.apps",
    new ListWatch<V1Deployment>(
      `/apis/apps/v1/namespaces/${ns}/deployments`,
      watch,
      () => clients.apps.listNamespacedDeployment({ namespace, labelSelector: req.selector }),
      false,
      req.selector,
    ),
  );
  const replicaSets = add(
    "replicasets",
    "replicasets.apps",
    new ListWatch<V1ReplicaSet>(`/apis/apps/v1/namespaces/${ns}/replicasets`, watch, () => clients.apps.listNamespacedReplicaSet({ namespace }), false),
  );
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

  return await new Promise<VerifyResult>((resolve, reject) => {
    let finished = false;
    let ready = false;
    let gitopsVerdict: GitopsVerdict | undefined;
    let verdicts: VerifyResult["deployments"] = [];
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
      const selected = selectedDeployments().filter((d): d is V1Deployment => d !== undefined);
      const uids = new Set(selected.map((d) => d.metadata?.uid ?? d.metadata?.name));
      const rsList = replicaSets.list(namespace).filter((rs) => (rs.metadata?.ownerReferences ?? []).some((o) => o.kind === "Deployment" && uids.has(o.uid)));
      const podList = rsList.flatMap((rs) => podsOf(rs, pods.list(namespace)));
      return { deployments: selected, replicaSets: rsList, pods: podList };
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
        deployments: verdicts,
        problems,
        reasons,
        snapshot: snapshot(),
      });
    };

    function selectedDeployments(): (V1Deployment | undefined)[] {
      if (req.deployments) return req.deployments.map((name) => deployments.get(name, namespace));
      return [...deployments.list(namespace)].sort((a, b) => (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? ""));
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
        say(gitopsLabel(t), gitopsVerdict.message);
        if (gitopsVerdict.state === "failed") return finish("failed", [`${gitopsLabel(t)}: ${gitopsVerdict.message}`]);
        // Deployments are judged only once our commit is applied: before that they run the previous release.
        if (gitopsVerdict.state !== "applied") return;
      }
      const rsList = [...replicaSets.list(namespace)];
      const podList = [...pods.list(namespace)];
      const selected = selectedDeployments();
      problems = [];
      verdicts = [];
      let nearest = Infinity;
      if (req.selector && selected.length === 0) {
        verdicts.push({ name: `(selector ${req.selector})`, state: "missing", message: "no deployment matches the selector yet" });
        say(`selector ${req.selector}`, "no deployment matches yet");
        return;
      }
      selected.forEach((d, i) => {
        const name = d?.metadata?.name ?? req.deployments?.[i] ?? "";
        if (!d) {
          verdicts.push({ name, state: "missing", message: "not found" });
          say(`deployment/${name}`, "not found (yet)");
          return;
        }
        const v = evaluateDeployment(d, rsList, podList, req.images, req.thresholds, clock);
        for (const p of v.pending) nearest = Math.min(nearest, p.failInMs);
        verdicts.push({ name, state: v.state, message: v.message });
        problems.push(...v.problems);
        say(`deployment/${name}`, v.message);
        // Pods of the new ReplicaSet only, once the controller has observed the new spec.
        const observed = (d.status?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0);
        const rs = observed ? currentReplicaSet(d, rsList) : undefined;
        for (const pod of rs ? podsOf(rs, podList) : []) say(`pod/${pod.metadata?.name ?? ""}`, podState(pod));
      });
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
      const paused = verdicts.filter((v) => v.state === "paused");
      if (paused.length > 0) return finish("paused", paused.map((v) => `deployment/${v.name}: ${v.message}`));
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
        ...verdicts.filter((v) => v.state !== "healthy").map((v) => `deployment/${v.name}: ${v.message}`),
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

    const feeds: Feed[] = informers.map(({ label, resource, informer }) => ({ label, resource, informer, connected: false, failedThisAttempt: false, attempts: 0 }));
    for (const feed of feeds) {
      feed.informer.on("change", evaluate);
      feed.informer.on("error", (error: unknown) => onError(feed, error));
    }

    if (req.gitops?.kind === "flux" && req.reconcile) {
      const t = req.gitops;
      let attempts = 0;
      const reconcile = (): void => {
        requestFluxReconcile(clients, t, now).then(
          () => undefined,
          (error: unknown) => {
            if (finished) return;
            const api = GITOPS_API.flux;
            const coded = classifyKubeError(error, "patch", `${api.plural}.${api.group}`, t.namespace, clients.server);
            if (!isUnavailable(error)) return finish(coded ?? (error instanceof Error ? error : new Error(String(error))));
            // Flux reconciles at its interval anyway: a request that cannot be made delays, it decides nothing.
            say(`reconcile ${gitopsLabel(t)}`, `could not ask Flux to reconcile (${describeKubeError(coded ?? error)}), retrying`);
            later(backoffMs(attempts++), reconcile);
          },
        );
      };
      reconcile();
    }
    for (const feed of feeds) void connect(feed);
  });
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
