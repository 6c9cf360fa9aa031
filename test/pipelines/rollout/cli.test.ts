import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cli, cliProcess } from "../../helpers/cli.js";
import { FakeCluster } from "../../standins/kubernetes/cluster.js";
import { NEW_SHA, NEW_TAG, OLD_SHA, OLD_TAG, REGISTRY, SECRET_ENV_VALUE } from "../../standins/kubernetes/scenarios.js";
import type { KubeStandin } from "../../standins/kubernetes/server.js";
import { startKubeStandin } from "../../standins/kubernetes/server.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "slipway-rollout-cli-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function cluster(options: Parameters<typeof startKubeStandin>[0] = {}): Promise<{ api: KubeStandin; c: FakeCluster; dir: string; kubeconfig: string }> {
  const api = await startKubeStandin(options);
  cleanups.push(() => api.close());
  const dir = tempDir();
  return { api, c: new FakeCluster(api), dir, kubeconfig: api.writeKubeconfig(join(dir, "kubeconfig")) };
}

/** A Deployment whose new pod cannot pull its image: decided by the first list. */
function brokenRollout(c: FakeCluster): void {
  c.createRolledOut("api", `${REGISTRY}:${OLD_TAG}`, { env: { DATABASE_URL: SECRET_ENV_VALUE } });
  c.applyImage("api", `${REGISTRY}:${NEW_TAG}`);
  const rs = c.observe("api");
  c.createPod(rs, 0, { state: { waiting: "ImagePullBackOff", message: `Back-off pulling image "${REGISTRY}:${NEW_TAG}"` } });
}

describe("pipelines/src/rollout/commands: bad input (exit 2, every problem at once, nothing contacted)", () => {
  it("lists every missing flag at once", async () => {
    // Without KUBECONFIG, which --kubeconfig defaults to (issue 16).
    const r = await cli(["rollout", "verify"], undefined, { ...process.env, KUBECONFIG: "" });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("SLIPWAY_ROLLOUT_INPUT: rollout verify: 3 problems with the flags");
    expect(r.stderr).toContain("- --kubeconfig FILE is required (or KUBECONFIG in the environment)\n  - --namespace NS is required\n  - give the workloads: --deployment, --statefulset, --daemonset NAME (each repeatable) or --selector LABELS");
  });

  it("names each malformed value and the expected form", async () => {
    const r = await cli([
      "rollout", "verify", "--kubeconfig", "k", "--namespace", "Shop", "--deployment", "api", "--statefulset", "Cache", "--daemonset", "a_b", "--selector", "app=api",
      "--image", "api", "--timeout", "10", "--revision", "main", "--azure-identity", "kubelogin",
    ]);
    expect(r.code).toBe(2);
    for (const line of [
      '- --namespace "Shop": expected a namespace name',
      "- give either names (--deployment, --statefulset, --daemonset) or --selector, not both",
      '- --statefulset "Cache": expected a StatefulSet name',
      '- --daemonset "a_b": expected a DaemonSet name',
      '- --image "api": expected IMAGE=TAG',
      '- --revision "main": expected a git commit SHA',
      '- --azure-identity "kubelogin": expected none | auto | azure-cli',
      '- --timeout "10": expected a duration such as `90s`',
      "- --revision needs --flux-kustomization or --argocd-app",
    ]) {
      expect(r.stderr).toContain(line);
    }
  });

  it("needs --revision with a GitOps target, and one target only", async () => {
    const r = await cli(["rollout", "verify", "--kubeconfig", "k", "-n", "shop", "--deployment", "api", "--flux-kustomization", "flux-system/apps", "--argocd-app", "argocd/shop", "--reconcile"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("- give either --flux-kustomization or --argocd-app, not both");
    expect(r.stderr).toContain("- --revision SHA is required to check that Flux applied the commit");
  });

  it("--flux-helmrelease needs the Kustomization that applies it, and NAMESPACE/NAME", async () => {
    const r = await cli(["rollout", "verify", "--kubeconfig", "k", "-n", "shop", "--deployment", "api", "--argocd-app", "argocd/shop", "--flux-helmrelease", "shop/api", "--revision", NEW_SHA]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("- --flux-helmrelease needs the Flux Kustomization that applies it: --flux-kustomization NS/NAME (or rollout.flux.kustomization in slipway.yaml)");
    const bad = await cli(["rollout", "verify", "--kubeconfig", "k", "-n", "shop", "--deployment", "api", "--flux-kustomization", "flux-system/apps", "--flux-helmrelease", "api", "--revision", NEW_SHA]);
    expect(bad.stderr).toContain('- --flux-helmrelease "api": expected NAMESPACE/NAME');
  });

  it("a missing kubeconfig or unknown context is bad input", async () => {
    const missing = await cli(["rollout", "verify", "--kubeconfig", "/nonexistent/kubeconfig", "-n", "shop", "--deployment", "api"]);
    expect([missing.code, missing.stderr.split("\n")[0]]).toEqual([2, 'SLIPWAY_KUBECONFIG_NOT_FOUND: kubeconfig "/nonexistent/kubeconfig" does not exist or is not a file']);
    const { kubeconfig } = await cluster();
    const context = await cli(["rollout", "verify", "--kubeconfig", kubeconfig, "--context", "prod", "-n", "shop", "--deployment", "api"]);
    expect(context.code).toBe(2);
    expect(context.stderr).toContain('SLIPWAY_KUBE_CONTEXT_NOT_FOUND: context "prod" is not in the kubeconfig\n  Contexts in the file: "standin".');
  });

  it("an invalid rollout section in slipway.yaml is reported with its path", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "slipway.yaml"), "rollout:\n  timeout: soon\n  failOn:\n    oomKilledRestarts: 0\n  flux: { kustomization: apps }\n");
    const r = await cli(["rollout", "verify", "--kubeconfig", "k", "-n", "shop", "--deployment", "api"], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^SLIPWAY_CONFIG_INVALID: \S*slipway\.yaml has 3 problems\n/);
    expect(r.stderr).toContain('rollout.timeout: a duration such as `90s`, `10m` or `1h30m`, got "soon" (line 2)');
    expect(r.stderr).toContain("rollout.failOn.oomKilledRestarts:");
    expect(r.stderr).toContain("rollout.flux.kustomization: `namespace/name`");
  });
});

describe("pipelines/src/rollout/commands: against the Kubernetes stand-in", () => {
  it("checks several Deployments by selector and reports them as JSON", async () => {
    const { c, kubeconfig } = await cluster();
    c.createRolledOut("api", `${REGISTRY}:${NEW_TAG}`);
    c.createRolledOut("worker", `acr.example.io/shop/worker:${NEW_TAG}`);
    const r = await cli(["rollout", "verify", "--kubeconfig", kubeconfig, "-n", "shop", "--selector", "app.kubernetes.io/part-of=shop", "--image", `${REGISTRY}=${NEW_TAG}`, "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      verdict: "healthy",
      namespace: "shop",
      deployments: [
        { name: "api", state: "healthy", message: 'deployment "api" successfully rolled out' },
        { name: "worker", state: "healthy", message: 'deployment "worker" successfully rolled out' },
      ],
      problems: [],
    });
  });

  it("a selector selects StatefulSets and DaemonSets too; names watch only the kinds named (RBAC unchanged for Deployments)", async () => {
    const { api, c, kubeconfig } = await cluster();
    c.createRolledOut("api", `${REGISTRY}:${NEW_TAG}`);
    c.createStatefulSet("cache", `${REGISTRY}:${NEW_TAG}`);
    c.createDaemonSet("agent", `${REGISTRY}:${NEW_TAG}`);
    const r = await cli(["rollout", "verify", "--kubeconfig", kubeconfig, "-n", "shop", "--selector", "app.kubernetes.io/part-of=shop", "--image", `${REGISTRY}=${NEW_TAG}`, "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      verdict: "healthy",
      workloads: [
        { kind: "deployment", name: "api", state: "healthy", message: 'deployment "api" successfully rolled out' },
        { kind: "statefulset", name: "cache", state: "healthy", message: "partitioned roll out complete: 3 new pods have been updated..." },
        { kind: "daemonset", name: "agent", state: "healthy", message: 'daemon set "agent" successfully rolled out' },
      ],
      deployments: [{ name: "api", state: "healthy" }],
    });

    api.requests.length = 0;
    const named = await cli(["rollout", "verify", "--kubeconfig", kubeconfig, "-n", "shop", "--deployment", "api"]);
    expect([named.code, named.stdout]).toEqual([0, expect.stringMatching(/: deployment\/api\n$/)]);
    expect(new Set(api.requests.map((q) => q.path.split("/").at(-1)))).toEqual(new Set(["deployments", "replicasets", "pods"]));
    const sts = await cli(["rollout", "verify", "--kubeconfig", kubeconfig, "-n", "shop", "--statefulset", "cache", "--daemonset", "agent"]);
    expect([sts.code, sts.stdout]).toEqual([0, expect.stringMatching(/: statefulset\/cache, daemonset\/agent\n$/)]);
  });

  it("takes the HelmRelease from slipway.yaml (rollout.flux.helmRelease) and fails with Helm's message when no retries are left", async () => {
    const { c, kubeconfig, dir } = await cluster();
    c.createRolledOut("api", `${REGISTRY}:${OLD_TAG}`);
    c.kustomization("apps", "flux-system", { applied: `main@sha1:${NEW_SHA}`, ready: "True", reason: "ReconciliationSucceeded" });
    const failed = "Helm upgrade failed for release shop/api with chart api@1.4.2: Deployment.apps \"api\" is invalid";
    c.helmRelease("api", "shop", {
      generation: 3,
      conditions: [
        { type: "Stalled", status: "True", reason: "RetriesExceeded", message: "Failed to upgrade after 1 attempt(s)" },
        { type: "Ready", status: "False", reason: "UpgradeFailed", message: failed },
        { type: "Released", status: "False", reason: "UpgradeFailed", message: failed },
      ],
    });
    writeFileSync(join(dir, "slipway.yaml"), "rollout:\n  flux:\n    kustomization: flux-system/apps\n    helmRelease: shop/api\n");
    const r = await cli(["rollout", "verify", "--kubeconfig", kubeconfig, "-n", "shop", "--deployment", "api", "--revision", NEW_SHA, "--json"], dir);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({
      verdict: "failed",
      helmRelease: { target: "helmrelease/shop/api", state: "failed", generation: 3 },
      reasons: [`helmrelease/shop/api: is stalled (RetriesExceeded: Failed to upgrade after 1 attempt(s)); UpgradeFailed: ${failed}`],
    });
  });

  it("only reads (get, list, watch) unless asked to reconcile; --reconcile sets Flux's requestedAt annotation", async () => {
    const { api, c, kubeconfig } = await cluster();
    c.createRolledOut("api", `${REGISTRY}:${NEW_TAG}`);
    c.kustomization("apps", "flux-system", { applied: `main@sha1:${NEW_SHA}`, ready: "True", reason: "ReconciliationSucceeded" });
    const base = ["rollout", "verify", "--kubeconfig", kubeconfig, "-n", "shop", "--deployment", "api", "--flux-kustomization", "flux-system/apps", "--revision", NEW_SHA];
    expect((await cli(base)).code).toBe(0);
    expect(new Set(api.requests.map((r) => r.method))).toEqual(new Set(["GET"]));
    expect(api.store.get("kustomizations", "flux-system", "apps")?.metadata.annotations?.["reconcile.fluxcd.io/requestedAt"]).toBeUndefined();

    const before = Date.now();
    expect((await cli([...base, "--reconcile"])).code).toBe(0);
    expect(api.requests.filter((r) => r.method !== "GET").map((r) => `${r.method} ${r.path}`)).toEqual(["PATCH /apis/kustomize.toolkit.fluxcd.io/v1/namespaces/flux-system/kustomizations/apps"]);
    const requestedAt = api.store.get("kustomizations", "flux-system", "apps")?.metadata.annotations?.["reconcile.fluxcd.io/requestedAt"];
    expect(Date.parse(requestedAt ?? "")).toBeGreaterThanOrEqual(before - 1000);
  });

  it("takes the Flux target and timeout from slipway.yaml and times out (exit 3) naming the lagging revision", async () => {
    const { c, kubeconfig, dir } = await cluster();
    c.createRolledOut("api", `${REGISTRY}:${OLD_TAG}`);
    c.kustomization("apps", "flux-system", { applied: `main@sha1:${OLD_SHA}`, ready: "True", reason: "ReconciliationSucceeded" });
    // 2 s, not less: the Kustomization must be read before the timeout (about 0.1 s measured at load 9), or
    // the verdict is unknown (exit 4), not timed out.
    writeFileSync(join(dir, "slipway.yaml"), "rollout:\n  timeout: 2s\n  flux:\n    kustomization: flux-system/apps\n");
    const r = await cli(["rollout", "verify", "--kubeconfig", kubeconfig, "-n", "shop", "--deployment", "api", "--revision", NEW_SHA], dir);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(
      `SLIPWAY_ROLLOUT_TIMEOUT: rollout in namespace "shop" not done after 2s\n  - still waiting: kustomization/flux-system/apps: at main@sha1:${OLD_SHA}, Ready=True ReconciliationSucceeded, waiting for ${NEW_SHA}`,
    );
  });

  it("keeps its verdict through dropped watches: re-watches from the last resourceVersion", async () => {
    const { api, c, kubeconfig } = await cluster();
    c.createRolledOut("api", `${REGISTRY}:${OLD_TAG}`);
    c.applyImage("api", `${REGISTRY}:${NEW_TAG}`);
    const verdict = cli(["rollout", "verify", "--kubeconfig", kubeconfig, "-n", "shop", "--deployment", "api", "--image", `${REGISTRY}=${NEW_TAG}`, "--timeout", "20s"]);
    while ([...api.store.watchers].length < 3) await new Promise((r) => setTimeout(r, 20));
    expect(api.dropWatches()).toBeGreaterThanOrEqual(3);
    // The decisive changes happen while the client is reconnecting.
    const rs = c.observe("api");
    c.createPod(rs, 0, { state: { waiting: "CreateContainerConfigError", message: 'secret "api-db" not found' } });
    const r = await verdict;
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('container app: CreateContainerConfigError (secret "api-db" not found)');
    const watches = api.requests.filter((q) => q.query.watch === "true" && q.path.endsWith("/pods"));
    expect(watches.length).toBeGreaterThanOrEqual(2);
    expect(Number(watches.at(-1)?.query.resourceVersion)).toBeGreaterThan(0);
  });

  it("waits for a Deployment that does not exist yet, then times out naming it", async () => {
    const { kubeconfig } = await cluster();
    // 2 s, not 500 ms: the first list must complete before the timeout (else the verdict is unknown, exit 4);
    // it took 60 ms at load 9, and a pause of the test's process (a collection, a starved core) counts too.
    const r = await cli(["rollout", "verify", "--kubeconfig", kubeconfig, "-n", "shop", "--deployment", "payments", "--timeout", "2s"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/\] deployment\/payments: not found \(yet\)\n/);
    expect(r.stderr).toContain("- still waiting: deployment/payments: not found");
  });

  // RBAC refusal (403), a refused token (401) and an unreachable API server: test/pipelines/rollout/unavailable.test.ts
  // (retried until the timeout, then verdict unknown, exit 4).

  it.each([
    ["workload-identity", 'identity mode "workload-identity" needs AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_FEDERATED_TOKEN_FILE'],
    // The old name of the mode, from before publishing and rollout shared one list.
    ["azure-devops", 'identity mode "azure-pipelines" needs AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURESUBSCRIPTION_SERVICE_CONNECTION_ID'],
  ])("an identity mode without its environment is bad input before any request (--azure-identity %s)", async (mode, message) => {
    const { api, c, kubeconfig } = await cluster();
    c.createRolledOut("api", `${REGISTRY}:${NEW_TAG}`);
    const r = await cli(["rollout", "verify", "--kubeconfig", kubeconfig, "-n", "shop", "--deployment", "api", "--azure-identity", mode], undefined, { PATH: process.env.PATH });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`SLIPWAY_AZURE_IDENTITY: ${message}`);
    expect(api.requests).toEqual([]);
  });

  it("as a real process: exit 1, the JSON verdict on stdout, diagnostics without env values", async () => {
    const { c, kubeconfig, dir } = await cluster();
    brokenRollout(c);
    const diagnostics = join(dir, "out");
    const r = await cliProcess(["rollout", "verify", "--kubeconfig", kubeconfig, "-n", "shop", "--deployment", "api", "--json", "--diagnostics", diagnostics]);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as { verdict: string; problems: unknown[]; diagnostics: { json: string; text: string } };
    expect(report).toMatchObject({
      verdict: "failed",
      problems: [{ workload: "deployment/api", container: "app", reason: "ImagePullBackOff", message: `Back-off pulling image "${REGISTRY}:${NEW_TAG}"` }],
      diagnostics: { json: join(diagnostics, "rollout-diagnostics.json"), text: join(diagnostics, "rollout-diagnostics.txt") },
    });
    const { readFileSync } = await import("node:fs");
    const text = readFileSync(report.diagnostics.text, "utf8");
    expect(text).toContain("(the container never started, so it has no logs)");
    expect(text).toContain(`waiting ImagePullBackOff: Back-off pulling image "${REGISTRY}:${NEW_TAG}"`);
    for (const out of [r.stdout, r.stderr, text, readFileSync(report.diagnostics.json, "utf8")]) expect(out).not.toContain(SECRET_ENV_VALUE);
  });
});
