import type { KubernetesObject, V1DaemonSet, V1Deployment, V1Pod, V1StatefulSet } from "@kubernetes/client-node";
import { maskSecrets } from "../cli/secrets.js";
import type { ProgressSetting } from "../cli/status.js";
import { liveEnabled } from "../cli/status.js";
import { formatDuration } from "./duration.js";
import type { Pending, Problem } from "./health.js";
import { pendingNote } from "./health.js";

/**
 * How `rollout verify` shows its progress on stderr. On a terminal: one live line per workload and GitOps
 * object, rewritten in place. Elsewhere (CI logs, a pipe, a file): one line per change of an object's state,
 * which a log keeps readable.
 */

// SLIPWAY_PROGRESS and when live output is drawn are the CLI's, shared with its status line (../cli/status.ts).
export { parseProgressSetting, PROGRESS_SETTINGS, type ProgressSetting } from "../cli/status.js";

/** Where the display writes: stderr's TTY facts and a write function (the CLI's masked `io.stderr`). */
export interface ProgressStream {
  isTTY?: boolean;
  /** Terminal width; read at every frame, so a resized terminal is followed. */
  columns?: number;
  write: (text: string) => void;
}

/** ready / updated / desired, as `kubectl get` shows them for each kind. */
export interface WorkloadCounts {
  ready: number;
  updated: number;
  desired: number;
}

/** One of a workload's new pods, for the live line's blocking reason. */
export interface PodStatus {
  name: string;
  ready: boolean;
  /** podState(): `app CrashLoopBackOff (restarts 1)`. */
  state: string;
}

/**
 * What the verifier knows about one object at an evaluation: the text of its progress line and, for
 * workloads and GitOps objects, the structured state the live line is drawn from. Sent at every evaluation
 * (not only on a change), so counts and pods stay current.
 */
export interface ProgressUpdate {
  /** `deployment/api`, `kustomization/flux-system/apps`, `watch pods`... */
  key: string;
  text: string;
  /** A workload's state (waiting, healthy, failed, paused, unverifiable, missing) or a GitOps object's (waiting, applied, failed). */
  state?: string;
  counts?: WorkloadCounts;
  problems?: Problem[];
  pending?: Pending[];
  pods?: PodStatus[];
}

export interface ProgressClock {
  now: () => number;
  setTimeout: (fn: () => void, ms: number) => unknown;
  clearTimeout: (handle: unknown) => void;
}

const SYSTEM_CLOCK: ProgressClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface ProgressOptions {
  /** SLIPWAY_PROGRESS, parsed. */
  setting?: ProgressSetting;
  /** --json: never live (stderr gets the per-change lines, stdout the document). */
  json?: boolean;
  clock?: ProgressClock;
  /** At most one frame per this many ms (a busy watch sends many updates a second). */
  frameMs?: number;
  /** Redraw at least this often while a line is still going, so its elapsed time moves. 0: never. */
  tickMs?: number;
}

export interface ProgressDisplay {
  /** True when drawing live lines (a TTY), false when writing one line per change. */
  live: boolean;
  /** A line of the per-change log, as verifyRollout's `progress` hook gives it. */
  line: (line: string) => void;
  update: (update: ProgressUpdate) => void;
  /** Draws the final state of every line, then erases them (live), and stops the timers, before the verdict is printed. */
  end: () => void;
}

export const FRAME_MS = 100;
const TICK_MS = 1000;
const DEFAULT_COLUMNS = 80;
const CLEAR_LINE = "\x1b[2K";
/** ED 0: erase from the cursor to the end of the screen. */
const ERASE_BELOW = "\x1b[J";
const up = (n: number): string => `\x1b[${n}A`;

/** States after which a line no longer changes: its elapsed time stops there. */
const FINAL = new Set(["healthy", "applied", "failed", "paused", "unverifiable"]);
const MARK: Record<string, string> = { healthy: "✓", applied: "✓", failed: "✗", paused: "‖", unverifiable: "?" };

/**
 * Live lines on a TTY outside CI, as the CLI's status line (../cli/status.ts): TERM=dumb and --json turn
 * them off, NO_COLOR does not (it is about colour, and the lines have none). SLIPWAY_PROGRESS=tty|lines overrides.
 */
export function isLive(setting: ProgressSetting, stream: Pick<ProgressStream, "isTTY">, env: NodeJS.ProcessEnv, json = false): boolean {
  return liveEnabled(setting, stream.isTTY, env, json);
}

/** The display `rollout verify` writes its progress through. */
export function progressDisplay(stream: ProgressStream, env: NodeJS.ProcessEnv, options: ProgressOptions = {}): ProgressDisplay {
  if (!isLive(options.setting ?? "auto", stream, env, options.json)) {
    return { live: false, line: (line) => stream.write(`${line}\n`), update: () => undefined, end: () => undefined };
  }
  return liveDisplay(stream, options);
}

interface Row {
  update: ProgressUpdate;
  /** When this update arrived (pending states count down from it). */
  seenAt: number;
  /** When the line reached a final state; its elapsed time stops there. */
  doneAt?: number;
}

function liveDisplay(stream: ProgressStream, options: ProgressOptions): ProgressDisplay {
  const clock = options.clock ?? SYSTEM_CLOCK;
  const frameMs = options.frameMs ?? FRAME_MS;
  const tickMs = options.tickMs ?? TICK_MS;
  const started = clock.now();
  const rows = new Map<string, Row>();
  let onScreen = 0;
  let lastFrameAt = -Infinity;
  let lastFrame = "";
  let timer: unknown;
  let ticker: unknown;
  let ended = false;

  const render = (): string[] => {
    const now = clock.now();
    const width = Math.max(20, (stream.columns ?? DEFAULT_COLUMNS) - 1);
    const all = [...rows.entries()];
    const labelWidth = Math.max(...all.map(([key]) => key.length));
    return all.map(([key, row]) => {
      const u = row.update;
      const elapsed = formatDuration((row.doneAt ?? now) - started);
      const counts = u.counts ? `ready ${u.counts.ready}/${u.counts.desired}  updated ${u.counts.updated}/${u.counts.desired}  ` : "";
      // The elapsed time before the reason: a line too long for the terminal loses the reason's tail, not the time.
      const text = `${MARK[u.state ?? ""] ?? "·"} ${key.padEnd(labelWidth)} ${elapsed.padStart(6)}  ${counts}${blockingReason(u, now - row.seenAt)}`;
      // Masked before it is cut to the width: a credential cut in half would no longer be recognised.
      return truncate(maskSecrets(text), width);
    });
  };

  const draw = (): void => {
    if (timer !== undefined) clock.clearTimeout(timer);
    timer = undefined;
    if (rows.size === 0) return;
    const lines = render();
    const frame = lines.join("\n");
    if (frame === lastFrame) return;
    // Up to the first line of the block, then each line cleared and written again; a new line extends it.
    stream.write(`${onScreen > 0 ? up(onScreen) : ""}${lines.map((l) => `${CLEAR_LINE}${l}\n`).join("")}`);
    onScreen = lines.length;
    lastFrame = frame;
    lastFrameAt = clock.now();
  };

  // Always through a timer, even a 0 ms one: one evaluation sends all its updates at once, and they make one
  // frame rather than a frame with the first line changed and another 100 ms later with the rest.
  const schedule = (): void => {
    if (ended || timer !== undefined) return;
    const wait = Math.max(0, lastFrameAt + frameMs - clock.now());
    timer = clock.setTimeout(() => {
      timer = undefined;
      draw();
    }, wait);
  };

  const tick = (): void => {
    if (tickMs <= 0 || ended) return;
    ticker = clock.setTimeout(() => {
      if ([...rows.values()].some((r) => r.doneAt === undefined)) schedule();
      tick();
    }, tickMs);
  };
  tick();

  return {
    live: true,
    // The live lines say the same: the per-change log would only scroll them away.
    line: () => undefined,
    update: (update) => {
      if (ended) return;
      const now = clock.now();
      const before = rows.get(update.key);
      const final = FINAL.has(update.state ?? "");
      rows.set(update.key, { update, seenAt: now, doneAt: final ? (before?.doneAt ?? now) : undefined });
      schedule();
    },
    end: () => {
      if (ended) return;
      // The final state is drawn, then the block erased (cursor up over it, erase to the end of the
      // screen): the verdict that follows replaces it, and no status text is left in the output (issue 16).
      draw();
      if (onScreen > 0) stream.write(`${up(onScreen)}${ERASE_BELOW}`);
      onScreen = 0;
      ended = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      if (ticker !== undefined) clock.clearTimeout(ticker);
    },
  };
}

function truncate(text: string, width: number): string {
  const chars = [...text];
  return chars.length <= width ? text : `${chars.slice(0, width - 1).join("")}…`;
}

/** kubectl's waiting messages, said in a few words (the counts are beside them). */
const SHORT: [RegExp, (m: RegExpExecArray) => string][] = [
  [/spec update to be observed/, () => "waiting: new spec not observed yet"],
  [/(\d+) out of (\d+) new (?:replicas|pods) have been updated/, (m) => `waiting: ${m[1]} of ${m[2]} updated`],
  [/(\d+) of (\d+) updated (?:replicas|pods) are available/, (m) => `waiting: ${m[1]} of ${m[2]} available`],
  [/(\d+) old replicas are pending termination/, (m) => `waiting: ${m[1]} old replicas terminating`],
  [/Waiting for (\d+) pods to be ready/, (m) => `waiting: ${m[1]} pods not ready`],
  [/rolling update to complete (\d+) pods at revision/, (m) => `waiting: ${m[1]} pods at the new revision`],
  [/successfully rolled out|roll out complete|rolling update complete/, () => "rolled out"],
];

const podName = (object: string): string => object.replace(/^pod\//, "");

/**
 * What a person watching wants to know about a line: why it is not done. A failure names its reason and
 * pod; a pending state (Unschedulable, ReplicaFailure) counts down to when it fails; a waiting workload gets
 * kubectl's message in short and its first pod that is not ready.
 */
export function blockingReason(u: ProgressUpdate, sinceUpdateMs = 0): string {
  const problems = u.problems ?? [];
  const first = problems[0];
  if (u.state === "failed" && first) {
    const where = first.object === u.key ? "" : ` in ${podName(first.object)}${first.container ? ` container ${first.container}` : ""}`;
    const more = problems.length > 1 ? ` (+${problems.length - 1} more)` : "";
    return `${first.reason}${where}${first.message ? ` (${first.message})` : ""}${more}`;
  }
  if (u.state !== "waiting") return u.state === "healthy" ? "rolled out" : u.text;
  // The pending states are said below, with the time left.
  const note = pendingNote(u.pending ?? []);
  const head = note && u.text.endsWith(note) ? u.text.slice(0, -note.length) : u.text;
  let reason = head;
  for (const [pattern, say] of SHORT) {
    const m = pattern.exec(head);
    if (m) {
      reason = say(m);
      break;
    }
  }
  const pending = (u.pending ?? []).map((p) => `; ${p.reason} in ${podName(p.object)}, fails in ${formatDuration(Math.max(0, Math.ceil((p.failInMs - sinceUpdateMs) / 1000) * 1000))}`);
  const stuck = (u.pods ?? []).find((p) => !p.ready);
  const pendingObjects = new Set((u.pending ?? []).map((p) => podName(p.object)));
  const pod = stuck && !pendingObjects.has(stuck.name) ? `; ${stuck.name}: ${stuck.state}` : "";
  return `${reason}${pending.join("")}${pod}`;
}

/** ready / updated / desired of a workload, from its status as its controller writes it. */
export function workloadCounts(kind: string, obj: KubernetesObject): WorkloadCounts | undefined {
  if (kind === "deployment") {
    const d = obj as V1Deployment;
    return { ready: d.status?.readyReplicas ?? 0, updated: d.status?.updatedReplicas ?? 0, desired: d.spec?.replicas ?? 1 };
  }
  if (kind === "statefulset") {
    const s = obj as V1StatefulSet;
    return { ready: s.status?.readyReplicas ?? 0, updated: s.status?.updatedReplicas ?? 0, desired: s.spec?.replicas ?? 1 };
  }
  if (kind === "daemonset") {
    const d = obj as V1DaemonSet;
    return { ready: d.status?.numberReady ?? 0, updated: d.status?.updatedNumberScheduled ?? 0, desired: d.status?.desiredNumberScheduled ?? 0 };
  }
  return undefined;
}

/** The pod's Ready condition, as `kubectl get pods` READY is computed from. */
export function podReady(pod: V1Pod): boolean {
  const ready = pod.status?.conditions?.find((c) => c.type === "Ready");
  if (ready) return ready.status === "True";
  const statuses = pod.status?.containerStatuses ?? [];
  return statuses.length > 0 && statuses.every((cs) => cs.ready);
}
