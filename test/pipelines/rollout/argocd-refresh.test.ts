import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { cli } from "../../helpers/cli.js";
import { argoController, FakeCluster } from "../../standins/kubernetes/cluster.js";
import { KUBECTL, kubectlAvailable } from "../../standins/kubernetes/harness.js";
import { NEW_SHA, NEW_TAG, OLD_SHA, REGISTRY } from "../../standins/kubernetes/scenarios.js";
import { startKubeStandin } from "../../standins/kubernetes/server.js";

// Issue 12: a rollback (and a release, with rollout.argocd.refresh) asks Argo CD to refresh the
// Application, as `argocd app get --refresh` does, instead of waiting for its next poll (3 minutes by default).
const REFRESH = "argocd.argoproj.io/refresh";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function world(automated: boolean) {
  const api = await startKubeStandin();
  cleanups.push(() => api.close());
  const dir = mkdtempSync(join(tmpdir(), "slipway-argo-refresh-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const c = new FakeCluster(api);
  // The workloads already run the commit's images; only the Application has not compared with Git yet.
  c.createRolledOut("api", `${REGISTRY}:${NEW_TAG}`);
  c.application("shop", "argocd", { revision: OLD_SHA, sync: "Synced", health: "Healthy" });
  cleanups.push(argoController(api, { namespace: "argocd", name: "shop" }, { head: () => NEW_SHA, automated }));
  const kubeconfig = api.writeKubeconfig(join(dir, "kubeconfig"));
  const app = () => api.store.get("applications", "argocd", "shop");
  const verify = ["rollout", "verify", "--kubeconfig", kubeconfig, "-n", "shop", "--deployment", "api", "--argocd-app", "argocd/shop", "--revision", NEW_SHA.slice(0, 12)];
  return { api, dir, kubeconfig, app, verify };
}

function kubectl(kubeconfig: string, dir: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(KUBECTL, ["--kubeconfig", kubeconfig, "--cache-dir", join(dir, "cache"), ...args], { env: { PATH: process.env.PATH ?? "", HOME: dir } }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

describe("pipelines/src/rollout/verify: Argo CD refresh (--reconcile with --argocd-app)", () => {
  it("without --reconcile only reads and times out at the old revision; with it the Application is refreshed, synced to the commit and verified", async () => {
    const { api, app, verify } = await world(true);

    const waited = await cli([...verify, "--timeout", "2s"]);
    expect(waited.code).toBe(3);
    expect(new Set(api.requests.map((r) => r.method))).toEqual(new Set(["GET"]));
    expect(app()?.status).toMatchObject({ sync: { revision: OLD_SHA } });

    const asked = await cli([...verify, "--reconcile", "--timeout", "20s", "--json"]);
    expect(asked.code, asked.stderr).toBe(0);
    expect(JSON.parse(asked.stdout)).toMatchObject({ verdict: "healthy" });
    expect(api.requests.filter((r) => r.method !== "GET").map((r) => `${r.method} ${r.path}`)).toEqual(["PATCH /apis/argoproj.io/v1alpha1/namespaces/argocd/applications/shop"]);
    // The controller refreshed, synced our commit and removed the request, as the real one does.
    expect(app()?.metadata.annotations?.[REFRESH]).toBeUndefined();
    expect(app()?.status).toMatchObject({ sync: { status: "Synced", revision: NEW_SHA }, operationState: { phase: "Succeeded", syncResult: { revision: NEW_SHA } } });
  });

  it("an Application without automated sync is refreshed but stays OutOfSync: verify waits and says so at the timeout", async () => {
    const { app, verify } = await world(false);
    const r = await cli([...verify, "--reconcile", "--timeout", "2s"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/application\/argocd\/shop/);
    expect(r.stderr).toContain("OutOfSync");
    expect(app()?.status).toMatchObject({ sync: { status: "OutOfSync", revision: NEW_SHA } });
    expect(app()?.metadata.annotations?.[REFRESH]).toBeUndefined();
  });

  it.runIf(kubectlAvailable())("the real kubectl agrees: `kubectl annotate` requests the same refresh, `kubectl get applications` sees it answered", async () => {
    const { kubeconfig, dir } = await world(true);
    const before = await kubectl(kubeconfig, dir, ["get", "applications", "-n", "argocd", "shop", "-o", "jsonpath={.status.sync.revision}"]);
    expect(before.stdout).toBe(OLD_SHA);

    const annotated = await kubectl(kubeconfig, dir, ["annotate", "-n", "argocd", "applications.argoproj.io/shop", `${REFRESH}=normal`]);
    expect(annotated.code, annotated.stderr).toBe(0);
    expect(annotated.stdout).toContain("application.argoproj.io/shop annotated");

    let seen = { code: 1, stdout: "", stderr: "" };
    for (let i = 0; i < 50; i++) {
      seen = await kubectl(kubeconfig, dir, ["get", "applications", "-n", "argocd", "shop", "-o", `jsonpath={.status.sync.revision} {.status.sync.status} {.metadata.annotations}`]);
      if (seen.stdout.startsWith(NEW_SHA)) break;
      await sleep(100);
    }
    expect(seen.stdout.split(" ").slice(0, 2)).toEqual([NEW_SHA, "Synced"]);
    expect(seen.stdout).not.toContain(REFRESH);
  });
});
