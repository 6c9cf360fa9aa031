import { createHash } from "node:crypto";
import type { KubeStandin } from "./server.js";
import type { KObject } from "./store.js";

/**
 * What the deployment controller, the ReplicaSet controller and the kubelet would write, as small
 * steps a scenario calls in order. Field names and reasons are the ones the real controllers use
 * (kubernetes pkg/controller/deployment/util, kubelet container states).
 */

export type ContainerState =
  | { running: true; ready: boolean }
  | { waiting: string; message?: string }
  | { terminated: string; exitCode: number };

interface ContainerStatusInput {
  state: ContainerState;
  restartCount?: number;
  lastTerminated?: { reason: string; exitCode: number };
}

const now = (): string => new Date().toISOString().replace(/\.\d+Z$/, "Z");

function hash(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 10);
}

function stateJson(s: ContainerState): Record<string, unknown> {
  if ("running" in s) return { running: { startedAt: now() } };
  if ("waiting" in s) return { waiting: { reason: s.waiting, message: s.message } };
  return { terminated: { reason: s.terminated, exitCode: s.exitCode, startedAt: now(), finishedAt: now() } };
}

export class FakeCluster {
  constructor(
    readonly api: KubeStandin,
    readonly namespace = "shop",
  ) {
    api.store.put("namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } });
  }

  private get store() {
    return this.api.store;
  }

  deployment(name: string): KObject {
    const d = this.store.get("deployments", this.namespace, name);
    if (!d) throw new Error(`no deployment ${name}`);
    return d;
  }

  private image(d: KObject): string {
    return (d.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers[0]?.image ?? "";
  }

  /** A Deployment already rolled out at `image` (revision 1), with its ReplicaSet and ready pods. */
  createRolledOut(name: string, image: string, opts: { replicas?: number; progressDeadlineSeconds?: number; env?: Record<string, string> } = {}): void {
    const replicas = opts.replicas ?? 2;
    this.store.put("deployments", {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name, namespace: this.namespace, generation: 1, labels: { app: name, "app.kubernetes.io/part-of": "shop" }, annotations: { "deployment.kubernetes.io/revision": "1" } },
      spec: {
        replicas,
        progressDeadlineSeconds: opts.progressDeadlineSeconds ?? 600,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: { containers: [{ name: "app", image, env: Object.entries(opts.env ?? {}).map(([k, v]) => ({ name: k, value: v })) }] },
        },
      },
      status: {},
    });
    const rs = this.createReplicaSet(name, 1, replicas);
    for (let i = 0; i < replicas; i++) this.createPod(rs, i, { state: { running: true, ready: true } });
    this.setStatus(name, { replicas, updatedReplicas: replicas, readyReplicas: replicas, availableReplicas: replicas }, "NewReplicaSetAvailable");
  }

  /** What GitOps applying a new image does: the spec changes, generation goes up, nothing observed yet. */
  applyImage(name: string, image: string): void {
    this.store.update("deployments", this.namespace, name, (d) => {
      (d.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers[0]!.image = image;
      d.metadata.generation = (d.metadata.generation ?? 1) + 1;
    });
  }

  /**
   * `kubectl rollout pause`: spec.paused, a new generation. The deployment controller still observes it
   * (status.observedGeneration) but creates no new ReplicaSet (pkg/controller/deployment: sync, not rollout).
   */
  pause(name: string): void {
    this.store.update("deployments", this.namespace, name, (d) => {
      (d.spec as { paused?: boolean }).paused = true;
      d.metadata.generation = (d.metadata.generation ?? 1) + 1;
    });
    this.store.update("deployments", this.namespace, name, (d) => {
      const status = d.status as Record<string, unknown>;
      status.observedGeneration = d.metadata.generation;
      status.updatedReplicas = 0;
      status.conditions = [
        ...((status.conditions as { type: string }[] | undefined) ?? []).filter((c) => c.type !== "Progressing"),
        progressing("Unknown", "DeploymentPaused", "Deployment is paused"),
      ];
    });
  }

  /** The deployment controller observes the new generation and creates the new ReplicaSet (0 replicas). */
  observe(name: string): KObject {
    const d = this.deployment(name);
    const revision = Number(d.metadata.annotations?.["deployment.kubernetes.io/revision"] ?? "1") + 1;
    const rs = this.createReplicaSet(name, revision, 0);
    this.store.update("deployments", this.namespace, name, (o) => {
      o.metadata.annotations = { ...o.metadata.annotations, "deployment.kubernetes.io/revision": String(revision) };
      const status = o.status as Record<string, unknown>;
      status.observedGeneration = o.metadata.generation;
      status.updatedReplicas = 0;
      status.conditions = [progressing("True", "NewReplicaSetCreated", `Created new replica set "${rs.metadata.name}"`)];
    });
    return rs;
  }

  currentReplicaSet(name: string): KObject {
    const d = this.deployment(name);
    const revision = d.metadata.annotations?.["deployment.kubernetes.io/revision"];
    const rs = this.store.list("replicasets", this.namespace).find((r) => r.metadata.ownerReferences?.[0]?.uid === d.metadata.uid && r.metadata.annotations?.["deployment.kubernetes.io/revision"] === revision);
    if (!rs) throw new Error(`no current replicaset for ${name}`);
    return rs;
  }

  private createReplicaSet(name: string, revision: number, replicas: number): KObject {
    const d = this.deployment(name);
    const image = this.image(d);
    const podHash = hash(`${name}:${image}:${revision}`);
    return this.store.put("replicasets", {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: {
        name: `${name}-${podHash}`,
        namespace: this.namespace,
        labels: { app: name, "pod-template-hash": podHash },
        annotations: { "deployment.kubernetes.io/revision": String(revision) },
        ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name, uid: d.metadata.uid ?? "", controller: true }],
      },
      spec: { replicas, selector: { matchLabels: { app: name, "pod-template-hash": podHash } }, template: structuredClone((d.spec as { template: unknown }).template) },
      status: { replicas, readyReplicas: replicas, availableReplicas: replicas },
    });
  }

  /** The ReplicaSet controller creates pod `i` of a ReplicaSet; the kubelet reports `status`. */
  createPod(rs: KObject, i: number, status: ContainerStatusInput): string {
    const name = `${rs.metadata.name}-${hash(`${rs.metadata.name}-${i}`).slice(0, 5)}`;
    return this.putPod(name, rs, { "pod-template-hash": rs.metadata.labels?.["pod-template-hash"] ?? "" }, "aks-nodepool1-0", status);
  }

  /** A pod created by `owner`'s controller from its template, with the controller's own labels; the kubelet reports `status`. */
  private putPod(name: string, owner: KObject, labels: Record<string, string>, node: string, status: ContainerStatusInput): string {
    const template = structuredClone((owner.spec as { template: { spec: Record<string, unknown>; metadata: { labels: Record<string, string> } } }).template);
    this.store.put("pods", {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name,
        namespace: this.namespace,
        labels: { ...template.metadata.labels, ...labels },
        ownerReferences: [{ apiVersion: "apps/v1", kind: owner.kind, name: owner.metadata.name, uid: owner.metadata.uid ?? "", controller: true }],
      },
      spec: { ...template.spec, nodeName: node },
      status: {},
    });
    this.setPod(name, status);
    return name;
  }

  // ---- StatefulSets (pkg/controller/statefulset): pods NAME-<ordinal>, owned by the StatefulSet, labelled
  // controller-revision-hash with the ControllerRevision they were made from; status.updateRevision names
  // the newest, status.currentRevision the one all pods ran before the update.

  statefulSet(name: string): KObject {
    const o = this.store.get("statefulsets", this.namespace, name);
    if (!o) throw new Error(`no statefulset ${name}`);
    return o;
  }

  /** A StatefulSet rolled out at `image`: every pod at one revision, ready. `partition` or `onDelete` set the update strategy. */
  createStatefulSet(name: string, image: string, opts: { replicas?: number; partition?: number; onDelete?: boolean } = {}): void {
    const replicas = opts.replicas ?? 3;
    const sts = this.store.put("statefulsets", {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: { name, namespace: this.namespace, generation: 1, labels: { app: name, "app.kubernetes.io/part-of": "shop" } },
      spec: {
        replicas,
        serviceName: name,
        selector: { matchLabels: { app: name } },
        // The API server defaults RollingUpdate to `rollingUpdate: {partition: 0}` (apps/v1 SetDefaults_StatefulSet).
        updateStrategy: opts.onDelete ? { type: "OnDelete" } : { type: "RollingUpdate", rollingUpdate: { partition: opts.partition ?? 0 } },
        podManagementPolicy: "OrderedReady",
        template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: "app", image }] } },
      },
      status: {},
    });
    const revision = `${name}-${hash(`${name}:${image}`)}`;
    for (let i = 0; i < replicas; i++) this.putPod(`${name}-${i}`, sts, { "controller-revision-hash": revision, "statefulset.kubernetes.io/pod-name": `${name}-${i}` }, `aks-nodepool1-${i}`, { state: { running: true, ready: true } });
    this.setStatefulSetStatus(name, { ready: replicas, current: replicas, updated: replicas, currentRevision: revision, updateRevision: revision });
  }

  applyStatefulSetImage(name: string, image: string): void {
    this.store.update("statefulsets", this.namespace, name, (o) => {
      (o.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers[0]!.image = image;
      o.metadata.generation = (o.metadata.generation ?? 1) + 1;
    });
  }

  /** The controller observes the new template: a new ControllerRevision becomes status.updateRevision. */
  observeStatefulSet(name: string): string {
    const sts = this.statefulSet(name);
    const revision = `${name}-${hash(`${name}:${this.image(sts)}`)}`;
    this.store.update("statefulsets", this.namespace, name, (o) => {
      Object.assign(o.status as Record<string, unknown>, { observedGeneration: o.metadata.generation, updateRevision: revision, updatedReplicas: 0 });
    });
    return revision;
  }

  /** The controller deletes pod `ordinal` and creates it again at the update revision. */
  replaceStatefulSetPod(name: string, ordinal: number, status: ContainerStatusInput): string {
    const sts = this.statefulSet(name);
    const pod = `${name}-${ordinal}`;
    this.store.delete("pods", this.namespace, pod);
    const revision = (sts.status as { updateRevision: string }).updateRevision;
    return this.putPod(pod, sts, { "controller-revision-hash": revision, "statefulset.kubernetes.io/pod-name": pod }, `aks-nodepool1-${ordinal}`, status);
  }

  setStatefulSetStatus(name: string, c: { ready: number; current: number; updated: number; currentRevision?: string; updateRevision?: string }): void {
    this.store.update("statefulsets", this.namespace, name, (o) => {
      const status = o.status as Record<string, unknown>;
      Object.assign(status, {
        observedGeneration: o.metadata.generation,
        replicas: (o.spec as { replicas: number }).replicas,
        readyReplicas: c.ready,
        availableReplicas: c.ready,
        currentReplicas: c.current,
        updatedReplicas: c.updated,
        collisionCount: 0,
        ...(c.currentRevision ? { currentRevision: c.currentRevision } : {}),
        ...(c.updateRevision ? { updateRevision: c.updateRevision } : {}),
      });
    });
  }

  // ---- DaemonSets (pkg/controller/daemon): one pod per node, owned by the DaemonSet, labelled
  // pod-template-generation (the template generation the API server keeps in the
  // deprecated.daemonset.template.generation annotation) and controller-revision-hash.

  daemonSet(name: string): KObject {
    const o = this.store.get("daemonsets", this.namespace, name);
    if (!o) throw new Error(`no daemonset ${name}`);
    return o;
  }

  private daemonPodName(name: string, node: number, generation: string): string {
    return `${name}-${hash(`${name}-${node}-${generation}`).slice(0, 5)}`;
  }

  /** A DaemonSet rolled out at `image` on `nodes` nodes. */
  createDaemonSet(name: string, image: string, opts: { nodes?: number; onDelete?: boolean } = {}): void {
    const nodes = opts.nodes ?? 3;
    const ds = this.store.put("daemonsets", {
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      metadata: { name, namespace: this.namespace, generation: 1, labels: { app: name, "app.kubernetes.io/part-of": "shop" }, annotations: { "deprecated.daemonset.template.generation": "1" } },
      spec: {
        selector: { matchLabels: { app: name } },
        updateStrategy: opts.onDelete ? { type: "OnDelete" } : { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
        template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: "app", image }] } },
      },
      status: {},
    });
    for (let i = 0; i < nodes; i++) {
      this.putPod(this.daemonPodName(name, i, "1"), ds, { "pod-template-generation": "1", "controller-revision-hash": hash(`${name}:${image}`) }, `aks-nodepool1-${i}`, { state: { running: true, ready: true } });
    }
    this.setDaemonSetStatus(name, { desired: nodes, updated: nodes, available: nodes });
  }

  /** A new template: generation and the template generation go up (pkg/registry/apps/daemonset/strategy.go, PrepareForUpdate). */
  applyDaemonSetImage(name: string, image: string): void {
    this.store.update("daemonsets", this.namespace, name, (o) => {
      (o.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers[0]!.image = image;
      o.metadata.generation = (o.metadata.generation ?? 1) + 1;
      const annotations = o.metadata.annotations ?? {};
      annotations["deprecated.daemonset.template.generation"] = String(Number(annotations["deprecated.daemonset.template.generation"] ?? "1") + 1);
      o.metadata.annotations = annotations;
    });
  }

  /** The controller replaces the pod on node `node` with one of the current template. */
  replaceDaemonSetPod(name: string, node: number, status: ContainerStatusInput): string {
    const ds = this.daemonSet(name);
    const generation = ds.metadata.annotations?.["deprecated.daemonset.template.generation"] ?? "1";
    for (const p of this.store.list("pods", this.namespace)) {
      if (p.metadata.ownerReferences?.[0]?.uid === ds.metadata.uid && (p.spec as { nodeName?: string }).nodeName === `aks-nodepool1-${node}`) this.store.delete("pods", this.namespace, p.metadata.name);
    }
    return this.putPod(this.daemonPodName(name, node, generation), ds, { "pod-template-generation": generation, "controller-revision-hash": hash(`${name}:${this.image(ds)}`) }, `aks-nodepool1-${node}`, status);
  }

  setDaemonSetStatus(name: string, c: { desired: number; updated: number; available: number }): void {
    this.store.update("daemonsets", this.namespace, name, (o) => {
      Object.assign(o.status as Record<string, unknown>, {
        observedGeneration: o.metadata.generation,
        desiredNumberScheduled: c.desired,
        currentNumberScheduled: c.desired,
        numberMisscheduled: 0,
        numberReady: c.available,
        numberAvailable: c.available,
        updatedNumberScheduled: c.updated,
        ...(c.available < c.desired ? { numberUnavailable: c.desired - c.available } : {}),
      });
    });
  }

  /** The kubelet's view of the pod's one container `app`. */
  setPod(pod: string, s: ContainerStatusInput): void {
    this.store.update("pods", this.namespace, pod, (p) => {
      const image = (p.spec as { containers: { image: string }[] }).containers[0]?.image ?? "";
      const running = "running" in s.state;
      const ready = running && (s.state as { ready: boolean }).ready;
      p.status = {
        phase: "waiting" in s.state && s.restartCount === undefined ? "Pending" : "Running",
        conditions: [{ type: "Ready", status: ready ? "True" : "False" }],
        containerStatuses: [
          {
            name: "app",
            image,
            imageID: "",
            ready,
            started: running,
            restartCount: s.restartCount ?? 0,
            state: stateJson(s.state),
            lastState: s.lastTerminated ? { terminated: { reason: s.lastTerminated.reason, exitCode: s.lastTerminated.exitCode, startedAt: now(), finishedAt: now() } } : {},
          },
        ],
      };
    });
  }

  /**
   * The scheduler finds no node (pkg/scheduler/schedule_one.go, handleSchedulingFailure): the pod stays
   * Pending with PodScheduled=False, reason Unschedulable, the FitError as message; no container statuses.
   */
  unschedulable(pod: string, message: string): void {
    this.store.update("pods", this.namespace, pod, (p) => {
      p.status = { phase: "Pending", conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable", message, lastProbeTime: null, lastTransitionTime: now() }] };
    });
  }

  /**
   * The ReplicaSet controller cannot create pods (a ResourceQuota): ReplicaFailure=True, reason FailedCreate,
   * the API server's refusal as message, on the ReplicaSet (pkg/controller/replicaset/replica_set_utils.go)
   * and copied onto the Deployment by the deployment controller (pkg/controller/deployment/progress.go).
   */
  replicaFailure(name: string, message: string): void {
    const condition = { type: "ReplicaFailure", status: "True", reason: "FailedCreate", message, lastTransitionTime: now() };
    const rs = this.currentReplicaSet(name);
    this.store.update("replicasets", this.namespace, rs.metadata.name, (o) => {
      const status = o.status as { conditions?: Record<string, unknown>[] };
      status.conditions = [{ ...condition }];
    });
    this.store.update("deployments", this.namespace, name, (d) => {
      const status = d.status as { conditions?: Record<string, unknown>[] };
      status.conditions = [...(status.conditions ?? []).filter((c) => c.type !== "ReplicaFailure"), { ...condition, lastUpdateTime: now() }];
    });
  }

  /** Deployment status counters, as the deployment controller recomputes them. */
  setStatus(name: string, counts: { replicas: number; updatedReplicas: number; readyReplicas: number; availableReplicas: number }, reason = "ReplicaSetUpdated"): void {
    this.store.update("deployments", this.namespace, name, (d) => {
      const status = d.status as Record<string, unknown>;
      Object.assign(status, counts, { observedGeneration: d.metadata.generation, unavailableReplicas: Math.max(0, counts.replicas - counts.availableReplicas) });
      const message = reason === "NewReplicaSetAvailable" ? `ReplicaSet has successfully progressed.` : `ReplicaSet is progressing.`;
      status.conditions = [
        { type: "Available", status: counts.availableReplicas > 0 ? "True" : "False", reason: "MinimumReplicasAvailable", lastUpdateTime: now(), lastTransitionTime: now() },
        progressing("True", reason, message),
      ];
    });
  }

  /** The old ReplicaSet scaled to 0 and its pods gone: what finishing a rolling update leaves. */
  retireOldReplicaSets(name: string): void {
    const current = this.currentReplicaSet(name);
    for (const rs of this.store.list("replicasets", this.namespace)) {
      if (rs.metadata.labels?.app !== name || rs.metadata.name === current.metadata.name) continue;
      for (const p of this.store.list("pods", this.namespace)) {
        if (p.metadata.ownerReferences?.[0]?.name === rs.metadata.name) this.store.delete("pods", this.namespace, p.metadata.name);
      }
      this.store.update("replicasets", this.namespace, rs.metadata.name, (o) => {
        (o.spec as { replicas: number }).replicas = 0;
        o.status = { replicas: 0 };
      });
    }
  }

  /** The deployment controller gives up: Progressing=False, ProgressDeadlineExceeded. */
  exceedProgressDeadline(name: string): void {
    const rs = this.currentReplicaSet(name);
    this.store.update("deployments", this.namespace, name, (d) => {
      const status = d.status as { conditions?: Record<string, unknown>[] };
      status.conditions = [
        ...(status.conditions ?? []).filter((c) => c.type !== "Progressing"),
        progressing("False", "ProgressDeadlineExceeded", `ReplicaSet "${rs.metadata.name}" has timed out progressing.`),
      ];
    });
  }

  event(kind: string, objectName: string, type: "Normal" | "Warning", reason: string, message: string): void {
    const stamp = now();
    this.store.put("events", {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name: `${objectName}.${hash(`${reason}${message}${Math.random()}`)}`, namespace: this.namespace },
      involvedObject: { kind, name: objectName, namespace: this.namespace },
      type,
      reason,
      message,
      count: 1,
      firstTimestamp: stamp,
      lastTimestamp: stamp,
      source: { component: kind === "Pod" ? "kubelet" : "deployment-controller" },
    });
  }

  log(pod: string, lines: string[], previous = false): void {
    this.api.logs.set(`${this.namespace}/${pod}/app${previous ? "/previous" : ""}`, lines);
  }

  /** A Flux Kustomization as kustomize-controller reports it. */
  kustomization(
    name: string,
    ns: string,
    status: { applied?: string; attempted?: string; ready: "True" | "False" | "Unknown"; reason: string; message?: string; suspend?: boolean; dependsOn?: string[]; withoutObservedGeneration?: boolean },
  ): void {
    const existing = this.store.get("kustomizations", ns, name);
    this.store.put("kustomizations", {
      apiVersion: "kustomize.toolkit.fluxcd.io/v1",
      kind: "Kustomization",
      metadata: { name, namespace: ns, generation: 1, annotations: existing?.metadata.annotations },
      spec: {
        interval: "10m",
        path: "./apps/prod",
        prune: true,
        sourceRef: { kind: "GitRepository", name: "gitops" },
        suspend: status.suspend ?? false,
        ...(status.dependsOn ? { dependsOn: status.dependsOn.map((d) => ({ name: d })) } : {}),
      },
      status: {
        // `observedGeneration,omitempty` in the API types: absent until the controller first finished.
        ...(status.withoutObservedGeneration ? {} : { observedGeneration: 1 }),
        lastAppliedRevision: status.applied,
        lastAttemptedRevision: status.attempted ?? status.applied,
        conditions: [{ type: "Ready", status: status.ready, reason: status.reason, message: status.message ?? "", lastTransitionTime: now(), observedGeneration: 1 }],
      },
    });
  }

  /**
   * A Flux HelmRelease as helm-controller v2 writes it (api/v2 HelmReleaseStatus, Snapshot): `generation` is
   * what the API server counts (raised by the Kustomization's apply of new values); the status is the
   * controller's last write. Conditions carry the generation they were set against (metav1.Condition).
   * `bare`: a HelmRelease the controller never reconciled (status `{observedGeneration: -1}`, the CRD default).
   */
  helmRelease(
    name: string,
    ns: string,
    s: {
      generation: number;
      observed?: number;
      attempted?: number;
      conditions?: { type: string; status: "True" | "False" | "Unknown"; reason: string; message: string; generation?: number }[];
      history?: { version: number; status: string; values: string }[];
      attemptedValues?: string;
      bare?: boolean;
    },
  ): void {
    const digest = (values: string): string => `sha256:${createHash("sha256").update(values).digest("hex")}`;
    const stamp = now();
    this.store.put("helmreleases", {
      apiVersion: "helm.toolkit.fluxcd.io/v2",
      kind: "HelmRelease",
      metadata: { name, namespace: ns, generation: s.generation, labels: { "kustomize.toolkit.fluxcd.io/name": "apps", "kustomize.toolkit.fluxcd.io/namespace": "flux-system" } },
      spec: {
        interval: "10m",
        chart: { spec: { chart: "api", version: "1.4.x", sourceRef: { kind: "HelmRepository", name: "shop-charts" } } },
        upgrade: { remediation: { retries: 1, strategy: "rollback" } },
        values: { image: { repository: "acr.example.io/shop/api", tag: `generation-${s.generation}` } },
      },
      status: s.bare
        ? { observedGeneration: -1 }
        : {
            observedGeneration: s.observed ?? s.generation,
            lastAttemptedGeneration: s.attempted ?? s.observed ?? s.generation,
            lastAttemptedReleaseAction: "upgrade",
            lastAttemptedRevision: "1.4.2",
            ...(s.attemptedValues ? { lastAttemptedConfigDigest: digest(s.attemptedValues) } : {}),
            helmChart: `${ns}-${name}`,
            storageNamespace: this.namespace,
            conditions: (s.conditions ?? []).map((c) => ({
              type: c.type,
              status: c.status,
              reason: c.reason,
              message: c.message,
              lastTransitionTime: stamp,
              observedGeneration: c.generation ?? s.attempted ?? s.generation,
            })),
            history: (s.history ?? []).map((h) => ({
              digest: digest(`${name}.v${h.version}`),
              name,
              namespace: this.namespace,
              version: h.version,
              status: h.status,
              chartName: "api",
              chartVersion: "1.4.2",
              configDigest: digest(h.values),
              firstDeployed: stamp,
              lastDeployed: stamp,
            })),
          },
    });
  }

  /** An Argo CD Application as the application controller reports it. */
  application(
    name: string,
    ns: string,
    status: { revision: string; sync: string; health: string; healthMessage?: string; operation?: { phase: string; message: string; revision: string }; helmChartRevision?: string },
  ): void {
    // With helmChartRevision: a multi-source application (spec.sources: a Helm chart and the GitOps repo),
    // whose status has `revisions` (one per source) and no `revision`.
    const multi = status.helmChartRevision !== undefined;
    this.store.put("applications", {
      apiVersion: "argoproj.io/v1alpha1",
      kind: "Application",
      metadata: { name, namespace: ns },
      spec: multi
        ? {
            project: "default",
            sources: [
              { repoURL: "https://charts.example.invalid", chart: "api", targetRevision: status.helmChartRevision, helm: { valueFiles: ["$values/apps/prod/values.yaml"] } },
              { repoURL: "https://example.invalid/gitops.git", targetRevision: "main", ref: "values" },
            ],
          }
        : { project: "default", source: { repoURL: "https://example.invalid/gitops.git", path: "apps/prod", targetRevision: "main" } },
      status: {
        sync: multi ? { status: status.sync, revisions: [status.helmChartRevision, status.revision] } : { status: status.sync, revision: status.revision },
        health: status.healthMessage ? { status: status.health, message: status.healthMessage } : { status: status.health },
        operationState: status.operation
          ? { phase: status.operation.phase, message: status.operation.message, syncResult: { revision: status.operation.revision } }
          : undefined,
      },
    });
  }
}

/**
 * The Argo CD application controller's answer to a refresh request, for one Application (argo-cd v2/v3
 * controller/appcontroller.go): a client sets the annotation argocd.argoproj.io/refresh ("normal" or
 * "hard"; `argocd app get --refresh` does it with a merge patch, util/argo/argo.go RefreshApp); the
 * controller compares the Application with Git at once (instead of at its next poll), writes
 * status.sync.revision = the revision it compared to, whether Synced or not, and status.reconciledAt, and
 * REMOVES the annotation when it persists the status (persistAppStatus; documented on AnnotationKeyRefresh in
 * pkg/apis/application/v1alpha1/application_annotations.go: "Removed by application controller after app is
 * refreshed"). With automated sync it then syncs that revision (operationState Succeeded, Synced).
 * Without a refresh request nothing changes: the poll interval is longer than any test.
 *
 * And its answer to a requested operation (`argocd app sync`: the API server sets `.operation`, util/argo/argo.go
 * SetAppOperation): processRequestedAppOperations records status.operationState { operation, phase Running,
 * startedAt }, runs the sync (sync.go SyncAppState; `operationMs` here), then setOperationState writes phase
 * Succeeded with syncResult.revision and finishedAt and sets `.operation` to null in the same merge patch (so an
 * operation written over a running one is lost), and the refresh that follows
 * shows status.sync Synced at that revision. An operation already present when the controller starts is run too.
 * `head()` is the branch tip the controller would resolve (the GitOps repository's); `ran` receives the
 * revision of each sync operation it finished. Returns a stop function.
 */
export function argoController(
  api: KubeStandin,
  app: { namespace: string; name: string },
  opts: { head: () => string; automated: boolean; delayMs?: number; operationMs?: number; ran?: string[] },
): () => void {
  const store = api.store;
  let pending = false;
  let running = false;
  let stopped = false;
  const refresh = (): void => {
    pending = false;
    const obj = store.get("applications", app.namespace, app.name);
    if (!obj?.metadata.annotations?.["argocd.argoproj.io/refresh"]) return;
    const revision = opts.head();
    store.update("applications", app.namespace, app.name, (a) => {
      const annotations = { ...a.metadata.annotations };
      delete annotations["argocd.argoproj.io/refresh"];
      a.metadata.annotations = annotations;
      const status = (a.status ?? {}) as Record<string, unknown>;
      const before = status.sync as { status?: string; revision?: string } | undefined;
      const synced = opts.automated || before?.revision === revision;
      status.sync = { status: synced ? "Synced" : "OutOfSync", revision };
      status.reconciledAt = now();
      if (opts.automated && before?.revision !== revision) {
        status.operationState = { phase: "Succeeded", message: "successfully synced (all tasks run)", operation: { sync: { revision } }, syncResult: { revision }, startedAt: now(), finishedAt: now() };
      }
      a.status = status;
    });
  };
  type Operation = { sync?: { revision?: string }; initiatedBy?: { username?: string } };
  const operate = (): void => {
    const obj = store.get("applications", app.namespace, app.name) as (KObject & { operation?: Operation }) | undefined;
    if (stopped || running || !obj?.operation) return;
    running = true;
    const operation = obj.operation;
    const revision = operation.sync?.revision || opts.head();
    const startedAt = now();
    store.update("applications", app.namespace, app.name, (a) => {
      const status = (a.status ?? {}) as Record<string, unknown>;
      status.operationState = { operation, phase: "Running", message: "one or more tasks are running", startedAt };
      a.status = status;
    });
    setTimeout(() => {
      running = false;
      if (stopped) return;
      store.update("applications", app.namespace, app.name, (a) => {
        delete (a as KObject & { operation?: Operation }).operation;
        const status = (a.status ?? {}) as Record<string, unknown>;
        status.operationState = { operation, phase: "Succeeded", message: "successfully synced (all tasks run)", syncResult: { revision }, startedAt, finishedAt: now() };
        status.sync = { status: "Synced", revision };
        status.reconciledAt = now();
        a.status = status;
      });
      opts.ran?.push(revision);
      operate();
    }, opts.operationMs ?? 50);
  };
  const watcher = {
    plural: "applications",
    namespace: app.namespace,
    matches: (o: KObject) => o.metadata.name === app.name,
    send: (_type: string, o: unknown) => {
      if ((o as { operation?: unknown }).operation && !running) setTimeout(operate, opts.delayMs ?? 50);
      if (pending || !(o as KObject).metadata.annotations?.["argocd.argoproj.io/refresh"]) return;
      pending = true;
      setTimeout(refresh, opts.delayMs ?? 50);
    },
  };
  store.watchers.add(watcher);
  setTimeout(operate, opts.delayMs ?? 50);
  return () => {
    stopped = true;
    store.watchers.delete(watcher);
  };
}

function progressing(statusValue: "True" | "False" | "Unknown", reason: string, message: string): Record<string, unknown> {
  return { type: "Progressing", status: statusValue, reason, message, lastUpdateTime: now(), lastTransitionTime: now() };
}
