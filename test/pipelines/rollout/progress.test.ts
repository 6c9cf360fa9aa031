import { afterEach, describe, expect, it } from "vitest";
import { cli } from "../../helpers/cli.js";
import { prepare, startTimeline } from "../../standins/kubernetes/harness.js";
import type { Timing } from "../../standins/kubernetes/scenarios.js";
import { scenario, SECRET_ENV_VALUE } from "../../standins/kubernetes/scenarios.js";
import { clearSecrets, registerSecret } from "../../../pipelines/src/cli/secrets.js";
import type { ProgressClock, ProgressSetting, ProgressUpdate } from "../../../pipelines/src/rollout/progress.js";
import { blockingReason, isLive, parseProgressSetting, progressDisplay } from "../../../pipelines/src/rollout/progress.js";

const UP = (n: number): string => `\x1b[${n}A`;
const CLEAR = "\x1b[2K";

/** A clock the test moves: timers fire in order when `advance` passes their time. */
function fakeClock(): ProgressClock & { advance: (ms: number) => void; pending: () => number } {
  let now = 0;
  let next = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  return {
    now: () => now,
    setTimeout: (fn, ms) => {
      timers.set(++next, { at: now + ms, fn });
      return next;
    },
    clearTimeout: (handle) => void timers.delete(handle as number),
    advance: (ms) => {
      const end = now + ms;
      for (;;) {
        const due = [...timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        timers.delete(due[0]);
        now = due[1].at;
        due[1].fn();
      }
      now = end;
    },
    pending: () => timers.size,
  };
}

/** A terminal as the display sees it: isTTY, a width, and every write kept. */
function fakeTty(columns = 120): { isTTY: boolean; columns: number; writes: string[]; write: (text: string) => void } {
  const writes: string[] = [];
  return { isTTY: true, columns, writes, write: (text) => void writes.push(text) };
}

const FLUX: ProgressUpdate = { key: "kustomization/flux-system/apps", text: "applied main@sha1:2222222", state: "applied" };
const api = (updated: number, ready: number, pods: ProgressUpdate["pods"] = []): ProgressUpdate => ({
  key: "deployment/api",
  text: `Waiting for deployment "api" rollout to finish: ${updated} out of 3 new replicas have been updated...`,
  state: "waiting",
  counts: { ready, updated, desired: 3 },
  problems: [],
  pending: [],
  pods,
});
const DB: ProgressUpdate = { key: "statefulset/db", text: "Waiting for 1 pods to be ready...", state: "waiting", counts: { ready: 2, updated: 3, desired: 3 }, pods: [] };
const AGENT: ProgressUpdate = { key: "daemonset/agent", text: 'daemon set "agent" successfully rolled out', state: "healthy", counts: { ready: 4, updated: 4, desired: 4 }, pods: [] };

afterEach(() => clearSecrets());

describe("pipelines/src/rollout/progress: live lines on a TTY", () => {
  it("draws one line per workload and GitOps object, then rewrites them in place (cursor up, clear line)", () => {
    const clock = fakeClock();
    const tty = fakeTty(140);
    const display = progressDisplay(tty, {}, { clock });
    display.update(FLUX);
    clock.advance(100);
    display.update(api(1, 2, [{ name: "api-7d9f-x2k4p", ready: false, state: "app ContainerCreating" }]));
    display.update(DB);
    display.update(AGENT);
    clock.advance(100);
    display.update(api(2, 3));
    clock.advance(150);

    expect(tty.writes).toEqual([
      `${CLEAR}✓ kustomization/flux-system/apps    0ms  applied main@sha1:2222222\n`,
      UP(1) +
        `${CLEAR}✓ kustomization/flux-system/apps    0ms  applied main@sha1:2222222\n` +
        `${CLEAR}· deployment/api                  100ms  ready 2/3  updated 1/3  waiting: 1 of 3 updated; api-7d9f-x2k4p: app ContainerCreating\n` +
        `${CLEAR}· statefulset/db                  100ms  ready 2/3  updated 3/3  waiting: 1 pods not ready\n` +
        `${CLEAR}✓ daemonset/agent                 100ms  ready 4/4  updated 4/4  rolled out\n`,
      UP(4) +
        `${CLEAR}✓ kustomization/flux-system/apps    0ms  applied main@sha1:2222222\n` +
        `${CLEAR}· deployment/api                  200ms  ready 3/3  updated 2/3  waiting: 2 of 3 updated\n` +
        `${CLEAR}· statefulset/db                  200ms  ready 2/3  updated 3/3  waiting: 1 pods not ready\n` +
        // Done at 100 ms: its time stops there.
        `${CLEAR}✓ daemonset/agent                 100ms  ready 4/4  updated 4/4  rolled out\n`,
    ]);
  });

  it("throttles: many updates within 100 ms make one frame, with the newest state", () => {
    const clock = fakeClock();
    const tty = fakeTty();
    const display = progressDisplay(tty, {}, { clock, tickMs: 0 });
    display.update(api(0, 3));
    clock.advance(0);
    expect(tty.writes).toHaveLength(1);
    for (let i = 0; i < 50; i++) {
      clock.advance(1);
      display.update(api(i % 3, 3));
    }
    display.update(api(2, 3));
    clock.advance(49);
    expect(tty.writes).toHaveLength(1);
    clock.advance(1);
    expect(tty.writes).toEqual([expect.any(String), `${UP(1)}${CLEAR}· deployment/api  100ms  ready 3/3  updated 2/3  waiting: 2 of 3 updated\n`]);
  });

  it("writes no frame that would repeat the one on screen (every line done: the times stand still)", () => {
    const clock = fakeClock();
    const tty = fakeTty();
    const display = progressDisplay(tty, {}, { clock });
    display.update(FLUX);
    display.update(AGENT);
    clock.advance(500);
    display.update(FLUX);
    display.update(AGENT);
    clock.advance(3000);
    expect(tty.writes).toHaveLength(1);
  });

  it("keeps the elapsed time moving while a line waits (one frame a second without events)", () => {
    const clock = fakeClock();
    const tty = fakeTty();
    const display = progressDisplay(tty, {}, { clock });
    display.update(api(1, 2));
    clock.advance(3000);
    expect(tty.writes.map((w) => /(\S+) {2}ready/.exec(w)?.[1])).toEqual(["0ms", "1s", "2s", "3s"]);
    display.end();
  });

  it("end() draws the final state at once, even inside the throttle window, then erases the block and stops every timer", () => {
    const clock = fakeClock();
    const tty = fakeTty(140);
    const display = progressDisplay(tty, {}, { clock });
    display.update(api(1, 2));
    clock.advance(30);
    const failed: ProgressUpdate = {
      ...api(1, 2),
      state: "failed",
      text: "failed: CrashLoopBackOff in pod/api-7d9f-x2k4p container app",
      problems: [{ workload: "deployment/api", object: "pod/api-7d9f-x2k4p", container: "app", reason: "CrashLoopBackOff", message: "restarts 2, last exit 1 Error" }],
    };
    display.update(failed);
    display.end();
    expect(tty.writes.at(-2)).toBe(`${UP(1)}${CLEAR}✗ deployment/api   30ms  ready 2/3  updated 1/3  CrashLoopBackOff in api-7d9f-x2k4p container app (restarts 2, last exit 1 Error)\n`);
    // Up over the block's one line, erased to the end of the screen: the verdict takes its place.
    expect(tty.writes.at(-1)).toBe(`${UP(1)}\x1b[J`);
    expect(clock.pending()).toBe(0);
    display.update(api(3, 3));
    display.end();
    clock.advance(5000);
    expect(tty.writes).toHaveLength(3);
  });

  it("cuts each line to the terminal width (a wrapped line would break the cursor-up count)", () => {
    const clock = fakeClock();
    const tty = fakeTty(40);
    const display = progressDisplay(tty, {}, { clock });
    display.update(api(1, 2, [{ name: "api-7d9f-x2k4p", ready: false, state: "app ContainerCreating" }]));
    display.end();
    const line = tty.writes[0]?.replace(CLEAR, "").replace("\n", "") ?? "";
    expect(line).toBe("· deployment/api    0ms  ready 2/3  up…");
    expect([...line]).toHaveLength(39);
  });

  it("masks a credential before cutting the line, so no prefix of it shows", () => {
    const token = "ghp_Zx81kQv0c9TmR2wLpY7sDfGhJ4nBvC6e";
    registerSecret(token);
    const tty = fakeTty(60);
    const display = progressDisplay(tty, {}, { clock: fakeClock() });
    display.update({ key: "watch pods", text: `token ${token} expired` });
    display.end();
    // Unmasked, the line would be cut 31 characters into the token.
    expect(tty.writes[0]).toBe(`${CLEAR}· watch pods    0ms  token *** expired\n`);
    expect(tty.writes[0]).not.toContain(token.slice(0, 8));
  });
});

describe("pipelines/src/rollout/progress: one line per state change without a TTY", () => {
  it("writes exactly the verifier's lines, and nothing for the live updates", () => {
    const out: string[] = [];
    const display = progressDisplay({ isTTY: false, columns: 80, write: (t) => void out.push(t) }, {});
    const lines = ["[   0ms] kustomization/flux-system/apps: applied main@sha1:2222222", '[ 28ms] deployment/api: Waiting for deployment "api" rollout to finish: 1 out of 3 new replicas have been updated...'];
    display.update(FLUX);
    display.line(lines[0] as string);
    display.update(api(1, 2));
    display.line(lines[1] as string);
    display.end();
    expect(out.join("")).toBe(`${lines.join("\n")}\n`);
    expect(display.live).toBe(false);
  });

  it.each<[string, boolean, NodeJS.ProcessEnv, ProgressSetting, boolean]>([
    ["a TTY", true, {}, "auto", true],
    ["not a TTY", false, {}, "auto", false],
    ["a TTY in CI (CI=true)", true, { CI: "true" }, "auto", false],
    ["a TTY in Azure Pipelines (TF_BUILD)", true, { TF_BUILD: "True" }, "auto", false],
    ["a TTY with CI=false", true, { CI: "false" }, "auto", true],
    ["a TTY with NO_COLOR (about colour: the lines have none)", true, { NO_COLOR: "1" }, "auto", true],
    ["a TTY with TERM=dumb", true, { TERM: "dumb" }, "auto", false],
    ["not a TTY, SLIPWAY_PROGRESS=tty", false, { CI: "true" }, "tty", true],
    ["a TTY, SLIPWAY_PROGRESS=lines", true, {}, "lines", false],
  ])("%s: live %#", (_name, isTTY, env, setting, live) => {
    expect(isLive(setting, { isTTY }, env)).toBe(live);
  });

  it("an unknown SLIPWAY_PROGRESS is bad input, reported with the flags' problems", async () => {
    const r = await cli(["rollout", "verify", "--kubeconfig", "k", "-n", "shop"], undefined, { ...process.env, SLIPWAY_PROGRESS: "fancy" });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('- give the workloads: --deployment, --statefulset, --daemonset NAME (each repeatable) or --selector LABELS\n  - SLIPWAY_PROGRESS "fancy": expected auto | tty | lines\n');
  });

  it.each([
    [undefined, "auto"],
    ["", "auto"],
    ["TTY", "tty"],
    ["lines", "lines"],
    ["fancy", undefined],
  ])("SLIPWAY_PROGRESS=%j is %j", (value, setting) => {
    expect(parseProgressSetting(value)).toBe(setting);
  });
});

describe("pipelines/src/rollout/progress: blockingReason", () => {
  it.each<[string, ProgressUpdate, string]>([
    ["kubectl's message in short, with the first pod not ready", api(1, 2, [{ name: "api-7d9f-a", ready: true, state: "app Ready" }, { name: "api-7d9f-b", ready: false, state: "app Running" }]), "waiting: 1 of 3 updated; api-7d9f-b: app Running"],
    [
      "old replicas terminating",
      { key: "deployment/api", state: "waiting", text: 'Waiting for deployment "api" rollout to finish: 1 old replicas are pending termination...' },
      "waiting: 1 old replicas terminating",
    ],
    [
      "a DaemonSet's available pods",
      { key: "daemonset/agent", state: "waiting", text: 'Waiting for daemon set "agent" rollout to finish: 2 of 4 updated pods are available...' },
      "waiting: 2 of 4 available",
    ],
    ["the spec not observed yet", { key: "deployment/api", state: "waiting", text: "Waiting for deployment spec update to be observed..." }, "waiting: new spec not observed yet"],
    [
      "a pending state counts down to its failure",
      {
        key: "deployment/api",
        state: "waiting",
        text: 'Waiting for deployment "api" rollout to finish: 0 out of 3 new replicas have been updated...; Unschedulable in pod/api-7d9f-b (0/3 nodes are available: 3 Insufficient cpu.), fails if it lasts',
        pending: [{ object: "pod/api-7d9f-b", reason: "Unschedulable", message: "0/3 nodes are available: 3 Insufficient cpu.", failInMs: 240_000 }],
        pods: [{ name: "api-7d9f-b", ready: false, state: "Pending: Unschedulable" }],
      },
      "waiting: 0 of 3 updated; Unschedulable in api-7d9f-b, fails in 3m50s",
    ],
    [
      "a failure names its reason, pod and how many more",
      {
        key: "deployment/api",
        state: "failed",
        text: "failed: ...",
        problems: [
          { workload: "deployment/api", object: "pod/api-7d9f-b", container: "app", reason: "ImagePullBackOff", message: 'Back-off pulling image "acr.example.io/shop/api:sha-2"' },
          { workload: "deployment/api", object: "pod/api-7d9f-c", container: "app", reason: "ImagePullBackOff", message: "" },
        ],
      },
      'ImagePullBackOff in api-7d9f-b container app (Back-off pulling image "acr.example.io/shop/api:sha-2") (+1 more)',
    ],
    [
      "a failure of the workload itself",
      { key: "deployment/api", state: "failed", text: "", problems: [{ workload: "deployment/api", object: "deployment/api", reason: "ProgressDeadlineExceeded", message: 'ReplicaSet "api-7d9f" has timed out progressing.' }] },
      'ProgressDeadlineExceeded (ReplicaSet "api-7d9f" has timed out progressing.)',
    ],
    ["a GitOps object says its own message", { key: "kustomization/flux-system/apps", state: "waiting", text: "at main@sha1:1111111, waiting for 2222222" }, "at main@sha1:1111111, waiting for 2222222"],
  ])("%s", (_name, update, reason) => {
    expect(blockingReason(update, 10_000)).toBe(reason);
  });
});

const TIMING: Timing = { stepMs: 150, deadlineMs: 2000 };
const STAMPED = /^\[\s*[\d.]+m?s\] /;

/** `slipway rollout verify` on a scenario of the Kubernetes stand-in, with SLIPWAY_PROGRESS set. */
async function verify(name: string, progress: "tty" | "lines"): Promise<{ code: number; stdout: string; stderr: string }> {
  const s = scenario(name);
  const prepared = await prepare(s);
  try {
    let ended = false;
    const argv = ["rollout", "verify", "--kubeconfig", prepared.kubeconfig, "--namespace", "shop", "--deployment", s.workload, ...s.flags];
    const ours = cli(argv, prepared.dir, { ...process.env, SLIPWAY_PROGRESS: progress, COLUMNS: "200" }).finally(() => (ended = true));
    const run = await startTimeline(prepared, s, TIMING, () => (ended ? 0 : 1));
    const result = await ours;
    await run.timeline;
    return result;
  } finally {
    await prepared.cleanup();
  }
}

describe("pipelines/src/rollout/commands: SLIPWAY_PROGRESS=tty through the CLI, on the Kubernetes stand-in", () => {
  it.each([
    ["healthy rollout", /^✓ deployment\/api +[\d.]+m?s {2}ready 2\/2 {2}updated 2\/2 {2}rolled out$/],
    ["crash loop", /^✗ deployment\/api +[\d.]+m?s {2}ready \d\/2 {2}updated 1\/2 {2}CrashLoopBackOff in api-\w+-\w+ container app \(restarts 1, last exit 1 Error\)$/],
  ])("%s: live frames rewritten in place, erased before the same verdict and exit code as the line log", async (name, finalLine) => {
    const live = await verify(name, "tty");
    const lines = await verify(name, "lines");

    expect(lines.stderr.split("\n").filter((l) => STAMPED.test(l)).length).toBeGreaterThan(1);
    expect(live.stderr.split("\n").filter((l) => STAMPED.test(l))).toEqual([]);
    // The block is erased once, after the last frame (up over its line, erase below): the verdict replaces it.
    const [drawn, verdict, ...more] = live.stderr.split(`${UP(1)}\x1b[J`);
    expect(more).toEqual([]);
    // Several frames of the one line: each after the first moves up over it and clears it.
    const frames = (drawn ?? "").split(CLEAR).slice(1);
    expect(frames.length).toBeGreaterThan(1);
    expect(live.stderr.startsWith(CLEAR)).toBe(true);
    // One line on screen: every cursor-up is by one line.
    const ups = (drawn ?? "").split("\x1b[").slice(1).map((seq) => /^\d*[A-Za-z]/.exec(seq)?.[0]);
    expect(new Set(ups)).toEqual(new Set(["2K", "1A"]));
    const last = frames.at(-1) ?? "";
    expect(last.endsWith("\n")).toBe(true);
    expect(last.slice(0, -1)).toMatch(finalLine);

    // After the erased block: the verdict, exactly as without a TTY; the same exit code and stdout.
    const durations = (t: string): string => t.replace(/in [\d.]+m?s/, "in <t>");
    expect({ code: live.code, stdout: durations(live.stdout), verdict }).toEqual({
      code: lines.code,
      stdout: durations(lines.stdout),
      verdict: lines.stderr.split("\n").filter((l) => !STAMPED.test(l)).join("\n"),
    });
    expect(live.code).toBe(name === "crash loop" ? 1 : 0);
    for (const out of [live.stdout, live.stderr]) expect(out).not.toContain(SECRET_ENV_VALUE);
  }, 60_000);
});
