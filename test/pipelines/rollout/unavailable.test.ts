// Issue 14: "could not check" is not "failed". An API server that is unreachable, refuses us (401/403) or
// keeps erroring (429, 5xx) is retried with backoff until the timeout; then the verdict is `unknown`, exit 4
// (EXIT.unavailable), never 1 (failed: the wrappers roll back on it) nor 3 (timed out while watching).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cli } from "../../helpers/cli.js";
import { FakeCluster } from "../../standins/kubernetes/cluster.js";
import { NEW_TAG, OLD_TAG, REGISTRY } from "../../standins/kubernetes/scenarios.js";
import type { KubeStandin } from "../../standins/kubernetes/server.js";
import { startKubeStandin } from "../../standins/kubernetes/server.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function cluster(options: Parameters<typeof startKubeStandin>[0] = {}, token?: string): Promise<{ api: KubeStandin; c: FakeCluster; kubeconfig: string }> {
  const api = await startKubeStandin(options);
  cleanups.push(() => api.close());
  const dir = mkdtempSync(join(tmpdir(), "slipway-rollout-unavailable-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return { api, c: new FakeCluster(api), kubeconfig: api.writeKubeconfig(join(dir, "kubeconfig"), token ? { token } : {}) };
}

const verify = (kubeconfig: string, ...extra: string[]) =>
  cli(["rollout", "verify", "--kubeconfig", kubeconfig, "-n", "shop", "--deployment", "api", "--image", `${REGISTRY}=${NEW_TAG}`, ...extra]);

function lists(api: KubeStandin, plural: string): number {
  return api.requests.filter((r) => r.path.endsWith(`/${plural}`) && r.query.watch !== "true").length;
}

describe("pipelines/src/rollout/verify: an API server that cannot be read is verdict unknown (exit 4)", () => {
  it.each([
    [500, /HTTP 500: Internal error occurred: etcdserver: request timed out/],
    [503, /HTTP 503: ServiceUnavailable/],
    [429, /HTTP 429: TooManyRequests/],
  ])("HTTP %i on every request: retried with backoff, then exit 4 with the server's message, no stack", async (code, message) => {
    const { api, c, kubeconfig } = await cluster();
    c.createRolledOut("api", `${REGISTRY}:${NEW_TAG}`);
    api.outage = { status: code };
    // 3 s: the backoff (250 ms, 500 ms, 1 s, 2 s) lists at about 0, 0.25, 0.75 and 1.75 s; a loaded machine
    // (the first test of the file also loads the Kubernetes client) drew only 3 lists in 2 s.
    const r = await verify(kubeconfig, "--timeout", "3s", "--json");
    expect(r.code, r.stderr).toBe(4);
    const report = JSON.parse(r.stdout) as { verdict: string; reasons: string[] };
    expect(report.verdict).toBe("unknown");
    expect(report.reasons.map((x) => x.split(":")[0])).toEqual(["deployments", "replicasets", "pods"]);
    for (const reason of report.reasons) expect(reason).toMatch(message);
    expect(r.stderr).toMatch(/SLIPWAY_ROLLOUT_UNKNOWN: could not check the rollout in namespace "shop" within 3s: the Kubernetes API could not be read\n/);
    expect(r.stderr).toContain("SLIPWAY_KUBE_SERVER_ERROR: the Kubernetes API failed to watch deployments.apps in namespace \"shop\"");
    expect(r.stderr).toContain("This is not a failed rollout: nothing was rolled back.");
    expect(r.stderr).not.toContain("SLIPWAY_INTERNAL");
    expect(r.stderr).not.toMatch(/\n\s+at /);
    // Retried, with backoff: more than once, far fewer times than a busy loop would in 3 s.
    expect(lists(api, "deployments")).toBeGreaterThanOrEqual(3);
    expect(lists(api, "deployments")).toBeLessThan(12);
  }, 30_000);

  it("a passing outage (503 on the first requests) is ridden out: healthy, exit 0", async () => {
    const { api, c, kubeconfig } = await cluster();
    c.createRolledOut("api", `${REGISTRY}:${NEW_TAG}`);
    api.outage = { status: 503, remaining: 8 };
    const r = await verify(kubeconfig, "--timeout", "20s");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/watch (deployments|replicasets|pods): could not check \(SLIPWAY_KUBE_SERVER_ERROR: .*HTTP 503.*\), retrying/);
    expect(r.stdout).toMatch(/^rollout healthy in /);
  }, 30_000);

  it("an outage after the first list, until the timeout, is unknown rather than timed out", async () => {
    const { api, c, kubeconfig } = await cluster();
    c.createRolledOut("api", `${REGISTRY}:${OLD_TAG}`);
    c.applyImage("api", `${REGISTRY}:${NEW_TAG}`);
    // 3 s: the outage must come while verify still waits, after its three watches are up (up to 0.5 s measured
    // at load 9 in a file's first test).
    const verdict = verify(kubeconfig, "--timeout", "3s");
    while ([...api.store.watchers].length < 3) await new Promise((r) => setTimeout(r, 20));
    api.outage = { status: 500 };
    api.dropWatches();
    const r = await verdict;
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toContain("SLIPWAY_ROLLOUT_UNKNOWN");
  }, 30_000);

  it("a token the API refuses (401): exit 4 naming SLIPWAY_KUBE_FORBIDDEN and HTTP 401, without the token", async () => {
    const { c, kubeconfig } = await cluster({ token: "the-right-token" }, "wrong-token-value");
    c.createRolledOut("api", `${REGISTRY}:${NEW_TAG}`);
    const r = await verify(kubeconfig, "--timeout", "1500ms");
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toContain('- deployments: SLIPWAY_KUBE_FORBIDDEN: the Kubernetes API refused to watch deployments.apps in namespace "shop" (HTTP 401: ');
    expect(r.stderr).not.toContain("wrong-token-value");
  }, 30_000);

  it("RBAC refusal (403 on pods): exit 4, naming what was refused", async () => {
    const { c, kubeconfig } = await cluster({ forbid: ["pods"] });
    c.createRolledOut("api", `${REGISTRY}:${NEW_TAG}`);
    const r = await verify(kubeconfig, "--timeout", "1500ms");
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toContain('- pods: SLIPWAY_KUBE_FORBIDDEN: the Kubernetes API refused to watch pods in namespace "shop" (HTTP 403: pods is forbidden: User "slipway-test" cannot list resource "pods"');
  }, 30_000);

  it("an API server that does not answer (connection refused): exit 4, SLIPWAY_KUBE_UNREACHABLE in the reasons", async () => {
    const { api, kubeconfig } = await cluster();
    await api.close();
    const r = await verify(kubeconfig, "--timeout", "1500ms");
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toMatch(/- deployments: SLIPWAY_KUBE_UNREACHABLE: the Kubernetes API at "http:\/\/127\.0\.0\.1:\d+" did not answer: .*ECONNREFUSED/);
  }, 30_000);

  it("a failed rollout stays exit 1 after a passing outage", async () => {
    const { api, c, kubeconfig } = await cluster();
    c.createRolledOut("api", `${REGISTRY}:${OLD_TAG}`);
    c.applyImage("api", `${REGISTRY}:${NEW_TAG}`);
    c.createPod(c.observe("api"), 0, { state: { waiting: "ImagePullBackOff", message: "Back-off pulling image" } });
    api.outage = { status: 500, remaining: 4 };
    const r = await verify(kubeconfig, "--timeout", "20s");
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain("SLIPWAY_ROLLOUT_FAILED");
  }, 30_000);
});
