import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { CoreV1Event, V1ContainerState, V1DaemonSet, V1Deployment, V1Pod, V1ReplicaSet, V1StatefulSet } from "@kubernetes/client-node";
import type { Problem } from "./health.js";
import type { KubeClients } from "./kube.js";
import type { VerifyResult } from "./verify.js";
import { maskSecrets } from "../cli/secrets.js";

/**
 * The bundle a user reads when a rollout failed or timed out. Built from our own summaries of the
 * objects, never from the raw objects: container `env`/`envFrom`, volumes and Secrets are never read
 * into it, so they cannot leak into CI logs or artifacts.
 */
export interface Diagnostics {
  namespace: string;
  verdict: VerifyResult["verdict"];
  reasons: string[];
  deployments: {
    name: string;
    generation?: number;
    observedGeneration?: number;
    revision?: string;
    replicas: { desired?: number; current?: number; updated?: number; ready?: number; available?: number };
    conditions: { type: string; status: string; reason?: string; message?: string }[];
    images: { container: string; image: string }[];
  }[];
  replicaSets: { name: string; revision?: string; desired?: number; ready?: number; available?: number; images: string[] }[];
  /** StatefulSets and DaemonSets: their strategy, revisions and counters as their controllers report them. */
  statefulSets: {
    name: string;
    generation?: number;
    observedGeneration?: number;
    strategy?: string;
    partition?: number;
    currentRevision?: string;
    updateRevision?: string;
    replicas: { desired?: number; current?: number; updated?: number; ready?: number; available?: number };
    images: { container: string; image: string }[];
  }[];
  daemonSets: {
    name: string;
    generation?: number;
    observedGeneration?: number;
    strategy?: string;
    nodes: { desired?: number; current?: number; updated?: number; ready?: number; available?: number; misscheduled?: number };
    images: { container: string; image: string }[];
  }[];
  pods: {
    name: string;
    phase?: string;
    node?: string;
    containers: { name: string; image: string; ready: boolean; restartCount: number; state: string; lastState?: string }[];
  }[];
  events: { lastSeen?: string; type?: string; reason?: string; object: string; message?: string; count?: number }[];
  logs: { pod: string; container: string; previous: boolean; lines: string[]; error?: string }[];
}

function describeState(s: V1ContainerState | undefined): string | undefined {
  if (!s) return undefined;
  if (s.waiting) return `waiting ${s.waiting.reason ?? ""}${s.waiting.message ? `: ${s.waiting.message}` : ""}`.trim();
  if (s.terminated) return `terminated ${s.terminated.reason ?? ""} (exit ${s.terminated.exitCode})`.replace("  ", " ");
  if (s.running) return `running since ${s.running.startedAt?.toISOString?.() ?? s.running.startedAt ?? "?"}`;
  return undefined;
}

function summarizeDeployment(d: V1Deployment): Diagnostics["deployments"][number] {
  const spec = d.spec?.template?.spec;
  return {
    name: d.metadata?.name ?? "",
    generation: d.metadata?.generation,
    observedGeneration: d.status?.observedGeneration,
    revision: d.metadata?.annotations?.["deployment.kubernetes.io/revision"],
    replicas: {
      desired: d.spec?.replicas,
      current: d.status?.replicas,
      updated: d.status?.updatedReplicas,
      ready: d.status?.readyReplicas,
      available: d.status?.availableReplicas,
    },
    conditions: (d.status?.conditions ?? []).map((c) => ({ type: c.type, status: c.status, reason: c.reason, message: c.message })),
    images: [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])].map((c) => ({ container: c.name, image: c.image ?? "" })),
  };
}

function containerImages(o: V1Deployment | V1StatefulSet | V1DaemonSet): { container: string; image: string }[] {
  const spec = o.spec?.template?.spec;
  return [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])].map((c) => ({ container: c.name, image: c.image ?? "" }));
}

function summarizeStatefulSet(s: V1StatefulSet): Diagnostics["statefulSets"][number] {
  return {
    name: s.metadata?.name ?? "",
    generation: s.metadata?.generation,
    observedGeneration: s.status?.observedGeneration,
    strategy: s.spec?.updateStrategy?.type,
    partition: s.spec?.updateStrategy?.rollingUpdate?.partition,
    currentRevision: s.status?.currentRevision,
    updateRevision: s.status?.updateRevision,
    replicas: { desired: s.spec?.replicas, current: s.status?.currentReplicas, updated: s.status?.updatedReplicas, ready: s.status?.readyReplicas, available: s.status?.availableReplicas },
    images: containerImages(s),
  };
}

function summarizeDaemonSet(d: V1DaemonSet): Diagnostics["daemonSets"][number] {
  const st = d.status;
  return {
    name: d.metadata?.name ?? "",
    generation: d.metadata?.generation,
    observedGeneration: st?.observedGeneration,
    strategy: d.spec?.updateStrategy?.type,
    nodes: { desired: st?.desiredNumberScheduled, current: st?.currentNumberScheduled, updated: st?.updatedNumberScheduled, ready: st?.numberReady, available: st?.numberAvailable, misscheduled: st?.numberMisscheduled },
    images: containerImages(d),
  };
}

function summarizeReplicaSet(rs: V1ReplicaSet): Diagnostics["replicaSets"][number] {
  return {
    name: rs.metadata?.name ?? "",
    revision: rs.metadata?.annotations?.["deployment.kubernetes.io/revision"],
    desired: rs.spec?.replicas,
    ready: rs.status?.readyReplicas,
    available: rs.status?.availableReplicas,
    images: (rs.spec?.template?.spec?.containers ?? []).map((c) => c.image ?? ""),
  };
}

function summarizePod(p: V1Pod): Diagnostics["pods"][number] {
  const specs = [...(p.spec?.initContainers ?? []), ...(p.spec?.containers ?? [])];
  const statuses = [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])];
  return {
    name: p.metadata?.name ?? "",
    phase: p.status?.phase,
    node: p.spec?.nodeName,
    containers: specs.map((c) => {
      const cs = statuses.find((s) => s.name === c.name);
      return {
        name: c.name,
        image: c.image ?? "",
        ready: cs?.ready ?? false,
        restartCount: cs?.restartCount ?? 0,
        state: describeState(cs?.state) ?? "not started",
        lastState: describeState(cs?.lastState),
      };
    }),
  };
}

function eventTime(e: CoreV1Event): string | undefined {
  const t = e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp;
  return t === undefined ? undefined : new Date(t as unknown as string).toISOString();
}

const MAX_EVENTS = 50;

/** Lists Events and fetches the failing containers' logs; a failure to read either is recorded, not thrown. */
export async function collectDiagnostics(clients: KubeClients, result: VerifyResult, logLines: number): Promise<Diagnostics> {
  const { namespace, snapshot } = result;
  const names = new Set([...snapshot.deployments, ...snapshot.replicaSets, ...snapshot.statefulSets, ...snapshot.daemonSets, ...snapshot.pods].map((o) => o.metadata?.name ?? ""));
  let events: Diagnostics["events"] = [];
  try {
    const list = await clients.core.listNamespacedEvent({ namespace });
    events = list.items
      .filter((e) => names.has(e.involvedObject?.name ?? ""))
      .map((e) => ({
        lastSeen: eventTime(e),
        type: e.type,
        reason: e.reason,
        object: `${(e.involvedObject?.kind ?? "").toLowerCase()}/${e.involvedObject?.name ?? ""}`,
        message: e.message,
        count: e.count,
      }))
      .sort((a, b) => (a.lastSeen ?? "").localeCompare(b.lastSeen ?? ""))
      .slice(-MAX_EVENTS);
  } catch (error) {
    events = [{ object: "(events)", message: `could not list events: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}` }];
  }
  const logs = await Promise.all(uniqueContainers(result.problems).map((p) => containerLog(clients, namespace, snapshot.pods, p, logLines)));
  return {
    namespace,
    verdict: result.verdict,
    reasons: result.reasons,
    deployments: snapshot.deployments.map(summarizeDeployment),
    replicaSets: snapshot.replicaSets.map(summarizeReplicaSet),
    statefulSets: snapshot.statefulSets.map(summarizeStatefulSet),
    daemonSets: snapshot.daemonSets.map(summarizeDaemonSet),
    pods: snapshot.pods.map(summarizePod),
    events,
    logs,
  };
}

function uniqueContainers(problems: Problem[]): { pod: string; container: string }[] {
  const seen = new Map<string, { pod: string; container: string }>();
  for (const p of problems) {
    if (!p.object.startsWith("pod/") || !p.container) continue;
    const pod = p.object.slice(4);
    seen.set(`${pod}/${p.container}`, { pod, container: p.container });
  }
  return [...seen.values()];
}

async function containerLog(
  clients: KubeClients,
  namespace: string,
  pods: V1Pod[],
  target: { pod: string; container: string },
  tailLines: number,
): Promise<Diagnostics["logs"][number]> {
  const pod = pods.find((p) => p.metadata?.name === target.pod);
  const cs = [...(pod?.status?.initContainerStatuses ?? []), ...(pod?.status?.containerStatuses ?? [])].find((s) => s.name === target.container);
  // A crashed container's useful output is in its previous instance; one that never started has none.
  const previous = (cs?.restartCount ?? 0) > 0 && cs?.lastState?.terminated !== undefined;
  if (!previous && !cs?.state?.running && !cs?.state?.terminated) {
    return { ...target, previous, lines: [], error: "the container never started, so it has no logs" };
  }
  try {
    const text = await clients.core.readNamespacedPodLog({ name: target.pod, namespace, container: target.container, tailLines, previous });
    const lines = String(text).split("\n");
    if (lines.at(-1) === "") lines.pop();
    return { ...target, previous, lines: lines.slice(-tailLines) };
  } catch (error) {
    return { ...target, previous, lines: [], error: `could not read logs: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}` };
  }
}

export function renderDiagnosticsText(d: Diagnostics): string {
  const out: string[] = [`Rollout diagnostics for namespace ${d.namespace}: ${d.verdict}`, ""];
  if (d.reasons.length) out.push("Reasons:", ...d.reasons.map((r) => `  - ${r}`), "");
  out.push("Deployments:");
  for (const dep of d.deployments) {
    const r = dep.replicas;
    out.push(`  ${dep.name} (revision ${dep.revision ?? "?"}, generation ${dep.generation ?? "?"}/${dep.observedGeneration ?? "?"} observed)`);
    out.push(`    replicas desired ${r.desired ?? "?"}, current ${r.current ?? 0}, updated ${r.updated ?? 0}, ready ${r.ready ?? 0}, available ${r.available ?? 0}`);
    for (const c of dep.conditions) out.push(`    ${c.type}=${c.status}${c.reason ? ` ${c.reason}` : ""}${c.message ? `: ${c.message}` : ""}`);
    for (const i of dep.images) out.push(`    container ${i.container}: ${i.image}`);
  }
  out.push("", "ReplicaSets:");
  for (const rs of d.replicaSets) out.push(`  ${rs.name} (revision ${rs.revision ?? "?"}): desired ${rs.desired ?? 0}, ready ${rs.ready ?? 0}, available ${rs.available ?? 0}; ${rs.images.join(", ")}`);
  if (d.statefulSets.length > 0) out.push("", "StatefulSets:");
  for (const s of d.statefulSets) {
    const r = s.replicas;
    out.push(`  ${s.name} (${s.strategy ?? "?"}${s.partition ? ` partition ${s.partition}` : ""}, generation ${s.generation ?? "?"}/${s.observedGeneration ?? "?"} observed)`);
    out.push(`    revisions current ${s.currentRevision ?? "?"}, update ${s.updateRevision ?? "?"}`);
    out.push(`    replicas desired ${r.desired ?? "?"}, current ${r.current ?? 0}, updated ${r.updated ?? 0}, ready ${r.ready ?? 0}, available ${r.available ?? 0}`);
    for (const i of s.images) out.push(`    container ${i.container}: ${i.image}`);
  }
  if (d.daemonSets.length > 0) out.push("", "DaemonSets:");
  for (const ds of d.daemonSets) {
    const n = ds.nodes;
    out.push(`  ${ds.name} (${ds.strategy ?? "?"}, generation ${ds.generation ?? "?"}/${ds.observedGeneration ?? "?"} observed)`);
    out.push(`    nodes desired ${n.desired ?? 0}, current ${n.current ?? 0}, updated ${n.updated ?? 0}, ready ${n.ready ?? 0}, available ${n.available ?? 0}, misscheduled ${n.misscheduled ?? 0}`);
    for (const i of ds.images) out.push(`    container ${i.container}: ${i.image}`);
  }
  out.push("", "Pods:");
  for (const p of d.pods) {
    out.push(`  ${p.name} ${p.phase ?? ""}${p.node ? ` on ${p.node}` : ""}`);
    for (const c of p.containers) {
      out.push(`    ${c.name} (${c.image}): ${c.state}, ready ${c.ready}, restarts ${c.restartCount}${c.lastState ? `, last ${c.lastState}` : ""}`);
    }
  }
  out.push("", "Events:");
  for (const e of d.events) {
    const head = [e.lastSeen, e.type, e.reason, `${e.object}:`].filter(Boolean).join(" ");
    out.push(`  ${head} ${e.message ?? ""}${e.count && e.count > 1 ? ` (x${e.count})` : ""}`);
  }
  for (const l of d.logs) {
    out.push("", `Logs of pod/${l.pod} container ${l.container}${l.previous ? " (previous instance)" : ""}:`);
    if (l.error) out.push(`  (${l.error})`);
    out.push(...l.lines.map((line) => `  | ${line}`));
  }
  return `${out.join("\n")}\n`;
}

/** Writes rollout-diagnostics.json and .txt into `dir`, each through a temp file and a rename (never half-written). */
export function writeDiagnostics(dir: string, d: Diagnostics): { json: string; text: string } {
  mkdirSync(dir, { recursive: true });
  const json = join(dir, "rollout-diagnostics.json");
  const text = join(dir, "rollout-diagnostics.txt");
  for (const [path, content] of [
    [json, `${JSON.stringify(d, null, 2)}\n`],
    [text, renderDiagnosticsText(d)],
  ] as const) {
    // Logs and events may quote a token the pods or the API server saw: masked like stdout (../cli/secrets.ts).
    writeFileSync(`${path}.tmp`, maskSecrets(content));
    renameSync(`${path}.tmp`, path);
  }
  return { json, text };
}
