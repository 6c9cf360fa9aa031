import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { cli } from "../../helpers/cli.js";
import { FakeCluster } from "../../standins/kubernetes/cluster.js";
import { KUBECTL, kubectlAvailable } from "../../standins/kubernetes/harness.js";
import { NEW_TAG, OLD_TAG, REGISTRY } from "../../standins/kubernetes/scenarios.js";
import { startKubeStandin } from "../../standins/kubernetes/server.js";

// Issue 12, `--kubectl-undo`: when the GitOps controller is down, the rollback sets the restored images
// straight into the Deployments (rollout verify --set-images) and verifies them.
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function world() {
  const api = await startKubeStandin();
  cleanups.push(() => api.close());
  const dir = mkdtempSync(join(tmpdir(), "slipway-set-images-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const c = new FakeCluster(api);
  // The abandoned release runs; nothing will apply Git's restored manifests.
  c.createRolledOut("api", `${REGISTRY}:${NEW_TAG}`);
  return { api, c, dir, kubeconfig: api.writeKubeconfig(join(dir, "kubeconfig")) };
}

/**
 * The deployment controller's part once the template changed: a new ReplicaSet rolled out. It waits for the
 * patch as long as verify's --timeout (20 s): the first run of the file also loads the Kubernetes client, which
 * a loaded machine can stretch past the 5 s it waited before (it would then roll out the old template, and
 * verify time out).
 */
async function controller(c: FakeCluster, generation: number): Promise<void> {
  for (let i = 0; i < 800 && (c.deployment("api").metadata.generation ?? 1) < generation; i++) await sleep(25);
  const rs = c.observe("api");
  c.createPod(rs, 0, { state: { running: true, ready: true } });
  c.createPod(rs, 1, { state: { running: true, ready: true } });
  c.retireOldReplicaSets("api");
  c.setStatus("api", { replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 }, "NewReplicaSetAvailable");
}

describe("pipelines/src/rollout/set-images: rollout verify --set-images (a rollback's --kubectl-undo)", () => {
  it("sets the Deployment's container to the restored image by digest, then verifies it healthy; a second run changes nothing", async () => {
    const { api, c, kubeconfig, dir } = await world();
    const digest = `sha256:${"b".repeat(64)}`;
    const args = ["rollout", "verify", "--kubeconfig", kubeconfig, "-n", "shop", "--deployment", "api", "--image", `${REGISTRY}=${digest}`, "--set-images", "--timeout", "20s"];
    const rolled = controller(c, 2);
    const r = await cli(args);
    await rolled;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`set image: deployment/api container app: ${REGISTRY}:${NEW_TAG} -> ${REGISTRY}@${digest}`);
    expect(api.requests.filter((q) => q.method !== "GET").map((q) => `${q.method} ${q.path}`)).toEqual(["PATCH /apis/apps/v1/namespaces/shop/deployments/api"]);
    expect(c.deployment("api").metadata.generation).toBe(2);

    // What a user sees with the real kubectl.
    if (kubectlAvailable()) {
      const image = await new Promise<string>((resolve) =>
        execFile(KUBECTL, ["--kubeconfig", kubeconfig, "--cache-dir", join(dir, "cache"), "-n", "shop", "get", "deployment", "api", "-o", "jsonpath={.spec.template.spec.containers[0].image}"], { env: { PATH: process.env.PATH ?? "", HOME: dir } }, (_e, out) => resolve(out)),
      );
      expect(image).toBe(`${REGISTRY}@${digest}`);
    }

    const again = await cli(args);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain("set image: every Deployment already runs these images");
    expect(api.requests.filter((q) => q.method === "PATCH")).toHaveLength(1);
  });

  it("a Deployment changed between the read and the patch is not overwritten: 409 from the API server", async () => {
    const { api } = await world();
    const before = api.store.get("deployments", "shop", "api");
    // Someone edits the Deployment after our read: the patch carries the old resourceVersion.
    api.store.update("deployments", "shop", "api", (d) => void (d.metadata.labels = { ...d.metadata.labels, edited: "yes" }));
    const res = await fetch(`${api.url}/apis/apps/v1/namespaces/shop/deployments/api`, {
      method: "PATCH",
      headers: { "Content-Type": "application/merge-patch+json" },
      body: JSON.stringify({ metadata: { resourceVersion: before?.metadata.resourceVersion }, spec: { template: { spec: { containers: [{ name: "app", image: `${REGISTRY}:${OLD_TAG}` }] } } } }),
    });
    expect(res.status).toBe(409);
    expect(api.store.get("deployments", "shop", "api")?.spec).toEqual(before?.spec);
  });

  it("bad input: --set-images needs --image and Deployments (exit 2, nothing contacted)", async () => {
    const r = await cli(["rollout", "verify", "--kubeconfig", "k", "-n", "shop", "--statefulset", "db", "--set-images"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--set-images needs --image IMAGE=TAG (or =sha256:DIGEST): the images to set");
    expect(r.stderr).toContain("--set-images sets Deployments only: name them with --deployment (or --selector)");
  });
});
