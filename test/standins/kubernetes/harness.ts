import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { FakeCluster } from "./cluster.js";
import type { Marks, Scenario, Timing } from "./scenarios.js";
import type { KubeStandin } from "./server.js";
import { startKubeStandin } from "./server.js";

export const KUBECTL = process.env.KUBECTL ?? "/usr/bin/kubectl";

/** kubectl is a system component (Debian package `kubectl`): in CI its absence is a failure, locally a visible skip. */
export function kubectlAvailable(): boolean {
  if (existsSync(KUBECTL)) return true;
  if (process.env.CI === "true") throw new Error(`${KUBECTL} is missing: install the Debian package kubectl (test/bootstrap.sh)`);
  console.warn(`SKIPPED kubectl cross-checks: ${KUBECTL} not found (apt-get install kubectl)`);
  return false;
}

export interface ProcessResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Wall-clock time the process ended (ms since epoch). */
  endedAt: number;
}

/** `kubectl rollout status` of `workload`: `KIND/NAME`, or a Deployment's bare name. */
export function runKubectl(kubeconfig: string, cacheDir: string, namespace: string, workload: string, timeout: string): Promise<ProcessResult> {
  return new Promise((resolve) => {
    execFile(
      KUBECTL,
      ["--kubeconfig", kubeconfig, "--cache-dir", cacheDir, "-n", namespace, "rollout", "status", workload.includes("/") ? workload : `deployment/${workload}`, `--timeout=${timeout}`],
      { env: { PATH: process.env.PATH ?? "", HOME: cacheDir } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout, stderr, endedAt: Date.now() });
      },
    );
  });
}

export interface ScenarioRun {
  api: KubeStandin;
  cluster: FakeCluster;
  dir: string;
  kubeconfig: string;
  marks: Marks;
  /** When the scripted timeline started (both clients watching). */
  startedAt: number;
  timeline: Promise<void>;
  cleanup: () => Promise<void>;
}

/** A fresh stand-in with the scenario's initial state and a kubeconfig for it (plain http on 127.0.0.1). */
export async function prepare(s: Scenario): Promise<Omit<ScenarioRun, "timeline" | "startedAt">> {
  const api = await startKubeStandin();
  const cluster = new FakeCluster(api);
  s.setup(cluster);
  const dir = mkdtempSync(join(tmpdir(), "slipway-rollout-"));
  const kubeconfig = api.writeKubeconfig(join(dir, "kubeconfig"));
  return {
    api,
    cluster,
    dir,
    kubeconfig,
    marks: {},
    cleanup: async () => {
      await api.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Starts the scripted timeline once `watchers()` clients are watching the scenario's kind, so no client misses
 * the decisive event by starting late. `watchers` is re-read: a client that already answered stops counting.
 */
export async function startTimeline(run: Omit<ScenarioRun, "timeline" | "startedAt">, s: Scenario, t: Timing, watchers: () => number): Promise<ScenarioRun> {
  const until = Date.now() + 15_000;
  const plural = `${s.kind ?? "deployment"}s`;
  const watching = (): number => [...run.api.store.watchers].filter((w) => w.plural === plural).length;
  while (watching() < watchers() && Date.now() < until) await sleep(20);
  const startedAt = Date.now();
  return { ...run, startedAt, timeline: s.run(run.cluster, t, run.marks) };
}
