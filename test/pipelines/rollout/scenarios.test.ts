import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cli } from "../../helpers/cli.js";
import type { ProcessResult } from "../../standins/kubernetes/harness.js";
import { kubectlAvailable, prepare, runKubectl, startTimeline } from "../../standins/kubernetes/harness.js";
import type { KubectlVerdict, Timing } from "../../standins/kubernetes/scenarios.js";
import { SCENARIOS, SECRET_ENV_VALUE } from "../../standins/kubernetes/scenarios.js";

const TIMING: Timing = { stepMs: 150, deadlineMs: 2000 };
const HAS_KUBECTL = kubectlAvailable();

/** What each kubectl verdict looks like (kubectl rollout status: exit code and message). */
const KUBECTL_SAYS: Record<KubectlVerdict, { code: number; output: RegExp }> = {
  success: { code: 0, output: /deployment "api" successfully rolled out/ },
  deadline: { code: 1, output: /error: deployment "api" exceeded its progress deadline/ },
  timeout: { code: 1, output: /error: timed out waiting for the condition/ },
  unsupported: { code: 1, output: /error: rollout status is only available for RollingUpdate strategy type/ },
};
/** Our exit code for the same verdict. */
const OURS_FOR: Record<KubectlVerdict, number> = { success: 0, deadline: 1, timeout: 3, unsupported: 1 };
/** The flag that names the workload, and the heading of its section in the diagnostics text. */
const KIND = {
  deployment: { flag: "--deployment", section: "Deployments" },
  statefulset: { flag: "--statefulset", section: "StatefulSets" },
  daemonset: { flag: "--daemonset", section: "DaemonSets" },
} as const;

describe("pipelines/src/rollout: scenarios on the Kubernetes stand-in, cross-checked with kubectl rollout status", () => {
  it.each(SCENARIOS)("$name", async (s) => {
    const prepared = await prepare(s);
    try {
      const diagnostics = join(prepared.dir, "diagnostics");
      const config = join(prepared.dir, "slipway.yaml");
      if (s.config !== undefined) writeFileSync(config, s.config);
      const kind = s.kind ?? "deployment";
      const argv = ["rollout", "verify", "--kubeconfig", prepared.kubeconfig, "--namespace", "shop", KIND[kind].flag, s.workload, ...s.flags, ...(s.config !== undefined ? ["--config", config] : []), "--diagnostics", diagnostics];
      let oursEnded = false;
      const oursPromise = cli(argv).then((r) => {
        oursEnded = true;
        return { ...r, endedAt: Date.now() };
      });
      const kubectlTimeout = s.kubectl.verdict === "timeout" ? "1s" : "30s";
      const kubectlPromise: Promise<ProcessResult | null> = HAS_KUBECTL ? runKubectl(prepared.kubeconfig, prepared.dir, "shop", `${kind}/${s.workload}`, kubectlTimeout) : Promise.resolve(null);
      let kubectlEnded = false;
      void kubectlPromise.then(() => (kubectlEnded = true));
      // A client that already answered (both do at once on an OnDelete StatefulSet) is not waited for.
      const run = await startTimeline(prepared, s, TIMING, () => (HAS_KUBECTL && !kubectlEnded ? 1 : 0) + (oursEnded ? 0 : 1));
      const [ours, kubectl] = await Promise.all([oursPromise, kubectlPromise]);
      await run.timeline;

      expect(`${ours.code}\n${ours.stderr}`).toMatch(new RegExp(`^${s.ours.exit}\\n`));
      if (s.ours.reason) expect(ours.stderr).toMatch(s.ours.reason);
      if (s.ours.exit === 0) expect(ours.stdout).toMatch(new RegExp(`^rollout healthy in [\\d.]+m?s: ${kind}/${s.workload}\\n$`));

      if (kubectl) {
        const says = KUBECTL_SAYS[s.kubectl.verdict];
        expect({ code: kubectl.code, output: kubectl.stdout + kubectl.stderr }).toMatchObject({ code: says.code, output: expect.stringMatching(s.kubectl.output ?? says.output) });
        // Where kubectl decides, ours reaches the same verdict.
        if (s.kubectl.decides) expect(ours.code).toBe(OURS_FOR[s.kubectl.verdict]);
        // Fail fast: where kubectl waits for the progress deadline, ours answers well before it.
        if (s.kubectl.verdict === "deadline" && !/ProgressDeadlineExceeded/.test(s.ours.reason?.source ?? "")) {
          expect(kubectl.endedAt - ours.endedAt).toBeGreaterThan(TIMING.deadlineMs / 2);
        }
      }
      if (run.marks.failureVisible && s.ours.exit === 1) expect(ours.endedAt - run.marks.failureVisible).toBeLessThan(1500);
      // A first OOMKilled is tolerated (failOn.oomKilledRestarts defaults to 2).
      if (run.marks.tolerated) expect(ours.endedAt - run.marks.tolerated).toBeGreaterThan(TIMING.stepMs * 3);
      // With a GitOps target, healthy only once the commit is applied.
      if (run.marks.applied && s.ours.exit === 0) expect(ours.endedAt).toBeGreaterThanOrEqual(run.marks.applied);

      // Progress: one line per change, none repeated.
      const progress = ours.stderr.split("\n").filter((l) => /^\[\s*[\d.]+m?s\] /.test(l)).map((l) => l.replace(/^\[[^\]]*\] /, ""));
      expect(progress.length).toBeGreaterThan(0);
      const consecutive = progress.filter((l, i) => {
        const key = l.split(": ")[0];
        const prev = progress.slice(0, i).reverse().find((p) => p.split(": ")[0] === key);
        return prev === l;
      });
      expect(consecutive).toEqual([]);

      const text = existsSync(join(diagnostics, "rollout-diagnostics.txt")) ? readFileSync(join(diagnostics, "rollout-diagnostics.txt"), "utf8") : "";
      const json = existsSync(join(diagnostics, "rollout-diagnostics.json")) ? readFileSync(join(diagnostics, "rollout-diagnostics.json"), "utf8") : "";
      if (s.ours.exit === 0) expect(text).toBe("");
      else {
        expect(text).toContain(kind === "deployment" ? "Deployments:\n  api (revision" : `${KIND[kind].section}:\n  ${s.workload} (`);
        expect(JSON.parse(json)).toMatchObject({ namespace: "shop", verdict: s.ours.verdict ?? (s.ours.exit === 1 ? "failed" : "timeout") });
      }
      for (const out of [ours.stdout, ours.stderr, text, json]) expect(out).not.toContain(SECRET_ENV_VALUE);
    } finally {
      await prepared.cleanup();
    }
  }, 90_000);
});
