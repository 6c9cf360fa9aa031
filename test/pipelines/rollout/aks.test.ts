import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AccessToken, TokenCredential } from "@azure/identity";
import { afterEach, describe, expect, it } from "vitest";
import { AKS_AAD_SERVER_APP_ID, credentialFor, injectAksToken, kubeloginServerId, selectIdentityMode } from "../../../pipelines/src/rollout/aks.js";
import { SlipwayError } from "../../../pipelines/src/errors.js";
import { DEFAULT_THRESHOLDS } from "../../../pipelines/src/rollout/health.js";
import { kubeClients, loadKubeConfig } from "../../../pipelines/src/rollout/kube.js";
import { verifyRollout } from "../../../pipelines/src/rollout/verify.js";
import { FakeCluster } from "../../standins/kubernetes/cluster.js";
import type { KubeStandin } from "../../standins/kubernetes/server.js";
import { startKubeStandin } from "../../standins/kubernetes/server.js";

/** A TokenCredential that records the scopes it was asked for; what @azure/identity credentials implement. */
class FakeCredential implements TokenCredential {
  readonly scopes: string[] = [];
  constructor(private readonly answer: () => AccessToken) {}
  async getToken(scopes: string | string[]): Promise<AccessToken> {
    this.scopes.push(...(Array.isArray(scopes) ? scopes : [scopes]));
    return this.answer();
  }
}

const TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.fake-aks-token.signature";
const KUBELOGIN_USER = {
  exec: {
    apiVersion: "client.authentication.k8s.io/v1beta1",
    command: "kubelogin",
    args: ["get-token", "--login", "devicecode", "--server-id", AKS_AAD_SERVER_APP_ID, "--client-id", "80faf920-1908-4b52-b5ef-a8e7bedfc67a", "--tenant-id", "tenant"],
  },
};

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function standin(token?: string): Promise<{ api: KubeStandin; dir: string }> {
  const api = await startKubeStandin({ token });
  const dir = mkdtempSync(join(tmpdir(), "slipway-aks-"));
  cleanups.push(() => api.close(), () => rmSync(dir, { recursive: true, force: true }));
  return { api, dir };
}

describe("pipelines/src/rollout/aks: identity mode selection", () => {
  it.each([
    ["explicit mode wins over the environment", "azure-cli", { ACTIONS_ID_TOKEN_REQUEST_URL: "u", ACTIONS_ID_TOKEN_REQUEST_TOKEN: "t" }, true, "azure-cli"],
    ["none by default when the kubeconfig has its own credentials", undefined, { AZURE_CLIENT_SECRET: "x" }, false, null],
    ["auto when the kubeconfig execs kubelogin: GitHub OIDC", undefined, { ACTIONS_ID_TOKEN_REQUEST_URL: "u", ACTIONS_ID_TOKEN_REQUEST_TOKEN: "t" }, true, "github-oidc"],
    ["auto: Azure DevOps workload identity federation", "auto", { SYSTEM_OIDCREQUESTURI: "u", AZURESUBSCRIPTION_SERVICE_CONNECTION_ID: "sc" }, false, "azure-pipelines"],
    ["auto: Kubernetes workload identity", "auto", { AZURE_FEDERATED_TOKEN_FILE: "/var/run/secrets/azure/tokens/azure-identity-token" }, false, "workload-identity"],
    ["auto: client secret", "auto", { AZURE_CLIENT_SECRET: "x" }, false, "client-secret"],
    ["auto: managed identity", "auto", { IDENTITY_ENDPOINT: "http://169.254.169.254" }, false, "managed-identity"],
    ["auto: Azure CLI login otherwise", "auto", {}, false, "azure-cli"],
    ["none stays none with kubelogin", "none", {}, true, null],
  ] as const)("%s", (_name, requested, env, kubelogin, expected) => {
    expect(selectIdentityMode(requested, env, kubelogin)).toBe(expected);
  });

  it("reads the server app id kubelogin would ask for", () => {
    expect(kubeloginServerId({ name: "u", ...KUBELOGIN_USER })).toBe(AKS_AAD_SERVER_APP_ID);
    expect(kubeloginServerId({ name: "u", exec: { command: "/usr/local/bin/kubelogin", args: ["get-token", "--server-id=legacy-server-app"] } })).toBe("legacy-server-app");
    expect(kubeloginServerId({ name: "u", exec: { command: "aws", args: ["eks", "get-token"] } })).toBeNull();
    expect(kubeloginServerId({ name: "u", token: "t" })).toBeNull();
  });

  it("names every missing variable of a mode, and no value", async () => {
    let error: unknown;
    try {
      await credentialFor("client-secret", { AZURE_CLIENT_ID: "client", AZURE_CLIENT_SECRET: "hunter2-do-not-print" });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SlipwayError);
    const e = error as SlipwayError;
    expect([e.code, e.exitCode]).toEqual(["SLIPWAY_AZURE_IDENTITY", 2]);
    expect(e.render()).toContain('identity mode "client-secret" needs AZURE_TENANT_ID, which is not set');
    expect(e.render()).not.toContain("hunter2");
  });

  it.each([
    ["workload-identity", ["AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_FEDERATED_TOKEN_FILE"]],
    ["github-oidc", ["AZURE_TENANT_ID", "AZURE_CLIENT_ID", "ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN"]],
    ["azure-pipelines", ["AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID", "SYSTEM_ACCESSTOKEN", "SYSTEM_OIDCREQUESTURI"]],
  ] as const)("%s lists what it needs", async (mode, vars) => {
    await expect(credentialFor(mode, {})).rejects.toThrow(`needs ${vars.join(", ")}`);
  });
});

describe("pipelines/src/rollout/aks: token injection", () => {
  it("asks for the AKS server app scope and verifies with the token as bearer, without running kubelogin", async () => {
    const { api, dir } = await standin(TOKEN);
    new FakeCluster(api).createRolledOut("api", "acr.example.io/shop/api:v1");
    const kc = loadKubeConfig(api.writeKubeconfig(join(dir, "kubeconfig"), { extraUser: KUBELOGIN_USER }));
    const credential = new FakeCredential(() => ({ token: TOKEN, expiresOnTimestamp: Date.now() + 3_600_000 }));

    const injected = await injectAksToken(kc, credential, "workload-identity");
    const result = await verifyRollout(
      kubeClients(kc),
      { namespace: "shop", deployments: ["api"], images: [], reconcile: false, timeoutMs: 10_000, thresholds: DEFAULT_THRESHOLDS },
      { progress: () => {} },
    );

    expect(credential.scopes).toEqual([`${AKS_AAD_SERVER_APP_ID}/.default`]);
    expect(injected.serverId).toBe(AKS_AAD_SERVER_APP_ID);
    expect(result.verdict).toBe("healthy");
    expect(api.requests.length).toBeGreaterThan(2);
    expect(api.requests.filter((r) => r.authorization !== `Bearer ${TOKEN}`)).toEqual([]);
  });

  it("without the token the API answers 401: retried, then verdict unknown naming the RBAC error, not a stack", async () => {
    const { api, dir } = await standin(TOKEN);
    new FakeCluster(api).createRolledOut("api", "acr.example.io/shop/api:v1");
    const kc = loadKubeConfig(api.writeKubeconfig(join(dir, "kubeconfig"), { token: "wrong-token-value" }));
    const result = await verifyRollout(
      kubeClients(kc),
      { namespace: "shop", deployments: ["api"], images: [], reconcile: false, timeoutMs: 1500, thresholds: DEFAULT_THRESHOLDS },
      { progress: () => {} },
    );
    expect(result.verdict).toBe("unknown");
    expect(result.reasons[0]).toMatch(/^deployments: SLIPWAY_KUBE_FORBIDDEN: the Kubernetes API refused to watch deployments.apps in namespace "shop" \(HTTP 401: /);
    expect(result.reasons.join("\n")).not.toContain("wrong-token-value");
  }, 30_000);

  it("a credential that fails gives SLIPWAY_AZURE_TOKEN (exit 1) and keeps the kubeconfig user untouched", async () => {
    const { api, dir } = await standin();
    const kc = loadKubeConfig(api.writeKubeconfig(join(dir, "kubeconfig"), { extraUser: KUBELOGIN_USER }));
    const credential = new FakeCredential(() => {
      throw new Error("AADSTS700016: Application with identifier 'client' was not found in the directory 'tenant'.\nTrace ID: 1");
    });
    const error = (await injectAksToken(kc, credential, "github-oidc").catch((e: unknown) => e)) as SlipwayError;
    expect([error.code, error.exitCode]).toEqual(["SLIPWAY_AZURE_TOKEN", 1]);
    expect(error.render()).toContain("AADSTS700016: Application with identifier 'client' was not found in the directory 'tenant'.");
    expect(error.render()).not.toContain("Trace ID");
    expect(kc.getCurrentUser()?.exec).toMatchObject({ command: "kubelogin" });
  });

  it("fetches a new token shortly before the current one expires, so long waits outlive a token", async () => {
    const { api, dir } = await standin();
    const kc = loadKubeConfig(api.writeKubeconfig(join(dir, "kubeconfig"), { extraUser: KUBELOGIN_USER }));
    let clock = 1_000_000;
    let issued = 0;
    const credential = new FakeCredential(() => ({ token: `token-${++issued}`, expiresOnTimestamp: clock + 60 * 60_000 }));
    await injectAksToken(kc, credential, "managed-identity", () => clock);
    const header = async (): Promise<string | null> => new Headers((await kc.applyToFetchOptions({})).headers as Record<string, string>).get("authorization");

    expect(await header()).toBe("Bearer token-1");
    clock += 50 * 60_000; // 10 minutes left: keep it
    expect(await header()).toBe("Bearer token-1");
    clock += 6 * 60_000; // 4 minutes left: refresh
    expect(await header()).toBe("Bearer token-2");
    expect(credential.scopes).toEqual([`${AKS_AAD_SERVER_APP_ID}/.default`, `${AKS_AAD_SERVER_APP_ID}/.default`]);
  });
});
