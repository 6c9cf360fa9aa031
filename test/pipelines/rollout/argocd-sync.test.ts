import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cli } from "../../helpers/cli.js";
import { argoController, FakeCluster } from "../../standins/kubernetes/cluster.js";
import { KUBECTL, kubectlAvailable } from "../../standins/kubernetes/harness.js";
import { NEW_SHA, NEW_TAG, OLD_SHA, REGISTRY } from "../../standins/kubernetes/scenarios.js";
import { startKubeStandin } from "../../standins/kubernetes/server.js";

// Issue 12: an Application without automated sync stays OutOfSync after a refresh; `--argocd-sync` requests
// the sync of our commit as `argocd app sync --revision SHA` does (the Application's .operation), never over
// an operation in progress.
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

type App = { operation?: unknown; status?: Record<string, unknown> };

async function world(opts: { operationMs?: number; running?: string } = {}) {
  const api = await startKubeStandin();
  cleanups.push(() => api.close());
  const dir = mkdtempSync(join(tmpdir(), "slipway-argo-sync-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const c = new FakeCluster(api);
  c.createRolledOut("api", `${REGISTRY}:${NEW_TAG}`);
  c.application("shop", "argocd", { revision: OLD_SHA, sync: "OutOfSync", health: "Healthy" });
  if (opts.running) {
    // Someone's sync (another pipeline, a user in the UI) was requested and the controller is running it.
    api.store.update("applications", "argocd", "shop", (a) => {
      (a as App).operation = { initiatedBy: { username: "admin" }, sync: { revision: opts.running } };
    });
  }
  const ran: string[] = [];
  cleanups.push(argoController(api, { namespace: "argocd", name: "shop" }, { head: () => NEW_SHA, automated: false, operationMs: opts.operationMs, ran }));
  const kubeconfig = api.writeKubeconfig(join(dir, "kubeconfig"));
  const app = () => api.store.get("applications", "argocd", "shop") as (ReturnType<typeof api.store.get> & App) | undefined;
  const verify = ["rollout", "verify", "--kubeconfig", kubeconfig, "-n", "shop", "--deployment", "api", "--argocd-app", "argocd/shop", "--revision", NEW_SHA];
  return { api, dir, kubeconfig, app, verify, ran };
}

function kubectl(kubeconfig: string, dir: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(KUBECTL, ["--kubeconfig", kubeconfig, "--cache-dir", join(dir, "cache"), ...args], { env: { PATH: process.env.PATH ?? "", HOME: dir } }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

describe("pipelines/src/rollout/verify: Argo CD sync (--argocd-sync)", () => {
  it("a manual-sync Application becomes Synced at the commit only with --argocd-sync; the operation is the one `argocd app sync --revision` writes", async () => {
    const { api, app, verify, ran } = await world();

    const refreshed = await cli([...verify, "--reconcile", "--timeout", "2s"]);
    expect(refreshed.code).toBe(3);
    expect(refreshed.stderr).toContain("OutOfSync");
    expect(ran).toEqual([]);

    const synced = await cli([...verify, "--argocd-sync", "--timeout", "20s", "--json"]);
    expect(synced.code, synced.stderr).toBe(0);
    expect(JSON.parse(synced.stdout)).toMatchObject({ verdict: "healthy", gitops: { state: "applied", observed: NEW_SHA } });
    expect(synced.stderr).toContain(`sync of ${NEW_SHA.slice(0, 12)} requested`);
    expect(ran).toEqual([NEW_SHA]);
    // The controller ran it and cleared .operation, as the real one does; who asked stays in operationState.
    expect(app()?.operation).toBeUndefined();
    expect(app()?.status).toMatchObject({
      sync: { status: "Synced", revision: NEW_SHA },
      operationState: { phase: "Succeeded", syncResult: { revision: NEW_SHA }, operation: { initiatedBy: { username: "slipway" }, sync: { revision: NEW_SHA } } },
    });
    const patches = api.requests.filter((r) => r.method === "PATCH").map((r) => r.path);
    // One refresh (the first run), one sync request (the second).
    expect(patches).toEqual(["/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/shop", "/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/shop"]);
  });

  it("an operation already running is not overwritten: it finishes, then our sync is requested", async () => {
    const { app, verify, ran } = await world({ running: OLD_SHA, operationMs: 1500 });
    const r = await cli([...verify, "--argocd-sync", "--timeout", "20s"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("an operation is in progress");
    expect(r.stderr).toContain("not overwritten");
    // Admin's sync ran to its end, then ours: both, in that order.
    expect(ran).toEqual([OLD_SHA, NEW_SHA]);
    expect(app()?.status).toMatchObject({ sync: { status: "Synced", revision: NEW_SHA } });
  });

  it("--argocd-sync needs the Application and the full commit SHA, and says so before any request", async () => {
    const { api, verify } = await world();
    const short = await cli([...verify.slice(0, -1), NEW_SHA.slice(0, 12), "--argocd-sync"]);
    expect(short.code).toBe(2);
    expect(short.stderr).toContain("SLIPWAY_");
    expect(short.stderr).toContain(`--revision "${NEW_SHA.slice(0, 12)}"`);
    expect(short.stderr).toContain("full commit SHA");
    const noApp = await cli(["rollout", "verify", "--kubeconfig", verify[3] as string, "-n", "shop", "--deployment", "api", "--argocd-sync"]);
    expect(noApp.code).toBe(2);
    expect(noApp.stderr).toContain("--argocd-sync needs --argocd-app");
    expect(api.requests).toEqual([]);
  });

  it.runIf(kubectlAvailable())("the real kubectl agrees: it reads the operation slipway requested, and a `kubectl patch` of the same operation is run alike", async () => {
    const { kubeconfig, dir, verify } = await world();
    const r = await cli([...verify, "--argocd-sync", "--timeout", "20s"]);
    expect(r.code, r.stderr).toBe(0);
    const seen = await kubectl(kubeconfig, dir, [
      "get",
      "applications",
      "-n",
      "argocd",
      "shop",
      "-o",
      "jsonpath={.status.operationState.operation.initiatedBy.username} {.status.operationState.operation.sync.revision} {.status.operationState.phase} {.status.sync.status}",
    ]);
    expect(seen.code, seen.stderr).toBe(0);
    expect(seen.stdout.split(" ")).toEqual(["slipway", NEW_SHA, "Succeeded", "Synced"]);

    // The same request by hand, as a merge patch from a file (no shell string): the controller runs it the same way.
    const patch = join(dir, "op.json");
    writeFileSync(patch, JSON.stringify({ operation: { initiatedBy: { username: "admin" }, sync: { revision: OLD_SHA } } }));
    const patched = await kubectl(kubeconfig, dir, ["patch", "-n", "argocd", "applications.argoproj.io/shop", "--type", "merge", "--patch-file", patch]);
    expect(patched.code, patched.stderr).toBe(0);
    let after = "";
    for (let i = 0; i < 50 && !after.startsWith(`${OLD_SHA} Succeeded`); i++) {
      after = (await kubectl(kubeconfig, dir, ["get", "applications", "-n", "argocd", "shop", "-o", "jsonpath={.status.sync.revision} {.status.operationState.phase} {.operation}"])).stdout;
    }
    expect(after.trim()).toBe(`${OLD_SHA} Succeeded`);
  });
});
