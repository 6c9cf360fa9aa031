import { AzureCliCredential, ClientAssertionCredential, ClientSecretCredential, ManagedIdentityCredential } from "@azure/identity";
import { describe, expect, it } from "vitest";
import { IDENTITY_MODES as ACR_MODES } from "../../../pipelines/src/acr/schema.js";
import type { EntraMode } from "../../../pipelines/src/azure/identity.js";
import { createCredential, ENTRA_MODES, parseMode, resolveEntraIdentity } from "../../../pipelines/src/azure/identity.js";
import { IDENTITY_MODES as ROLLOUT_MODES } from "../../../pipelines/src/rollout/aks.js";

const TENANT = "11111111-1111-1111-1111-111111111111";
const CLIENT = "22222222-2222-2222-2222-222222222222";

describe("pipelines/src/azure/identity", () => {
  it("publishing and AKS verification take the same Entra ID modes, each with its own extras", () => {
    expect(ACR_MODES.filter((m) => m !== "static")).toEqual([...ENTRA_MODES]);
    expect(ROLLOUT_MODES.filter((m) => m !== "none" && m !== "auto")).toEqual([...ENTRA_MODES]);
  });

  it.each([
    ["azure-pipelines", ACR_MODES, "azure-pipelines"],
    ["azure-devops", ACR_MODES, "azure-pipelines"],
    ["azure-devops", ROLLOUT_MODES, "azure-pipelines"],
    ["static", ACR_MODES, "static"],
    ["static", ROLLOUT_MODES, undefined],
    ["none", ROLLOUT_MODES, "none"],
    ["kubelogin", ROLLOUT_MODES, undefined],
  ] as const)("parseMode(%j) among an area's modes is %j", (value, modes, expected) => {
    expect(parseMode(value, modes)).toBe(expected);
  });

  it.each([
    ["github-oidc", ["AZURE_TENANT_ID", "AZURE_CLIENT_ID", "ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN"]],
    ["azure-pipelines", ["AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID", "SYSTEM_ACCESSTOKEN", "SYSTEM_OIDCREQUESTURI"]],
    ["workload-identity", ["AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_FEDERATED_TOKEN_FILE"]],
    ["client-secret", ["AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"]],
    ["managed-identity", []],
    ["azure-cli", []],
  ] as const)("%s with an empty environment misses %j", (mode, vars) => {
    expect(resolveEntraIdentity(mode, {}, {}).missing.map((m) => m.env)).toEqual(vars);
  });

  it("explicit values win over the environment; empty variables count as unset", () => {
    const { identity, missing } = resolveEntraIdentity("client-secret", { tenantId: TENANT }, { AZURE_TENANT_ID: "from-env", AZURE_CLIENT_ID: "", AZURE_CLIENT_SECRET: "s" });
    expect(identity).toMatchObject({ tenantId: TENANT, clientSecret: "s" });
    expect(missing).toEqual([{ env: "AZURE_CLIENT_ID", flag: "--client-id" }]);
  });

  it("azure-pipelines reads AzureCLI@2's tenantId, servicePrincipalId and idToken, and then needs no service connection", () => {
    const { identity, missing } = resolveEntraIdentity("azure-pipelines", {}, { tenantId: TENANT, servicePrincipalId: CLIENT, idToken: "jwt" });
    expect(missing).toEqual([]);
    expect(identity).toMatchObject({ mode: "azure-pipelines", tenantId: TENANT, clientId: CLIENT, idToken: "jwt" });
  });

  it("without idToken, azure-pipelines names the service connection flag and the alternative", () => {
    const { missing } = resolveEntraIdentity("azure-pipelines", { tenantId: TENANT, clientId: CLIENT }, { SYSTEM_ACCESSTOKEN: "t", SYSTEM_OIDCREQUESTURI: "u" });
    expect(missing).toEqual([{ env: "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID", flag: "--service-connection-id", or: "idToken" }]);
  });

  it.each([
    ["github-oidc", { ACTIONS_ID_TOKEN_REQUEST_URL: "https://gh.example/token", ACTIONS_ID_TOKEN_REQUEST_TOKEN: "t" }, ClientAssertionCredential],
    ["azure-pipelines", { idToken: "jwt" }, ClientAssertionCredential],
    ["workload-identity", { AZURE_FEDERATED_TOKEN_FILE: "/var/run/secrets/azure/tokens/azure-identity-token" }, ClientAssertionCredential],
    ["client-secret", { AZURE_CLIENT_SECRET: "s" }, ClientSecretCredential],
    ["managed-identity", {}, ManagedIdentityCredential],
    ["azure-cli", {}, AzureCliCredential],
    // (azure-pipelines with a service connection: AzurePipelinesCredential reads process.env itself; test/pipelines/acr/cli.test.ts runs it.)
  ] as const)("%s builds the @azure/identity credential for it (%j)", (mode: EntraMode, env, type) => {
    const { identity, missing } = resolveEntraIdentity(mode, {}, { AZURE_TENANT_ID: TENANT, AZURE_CLIENT_ID: CLIENT, ...env });
    expect(missing).toEqual([]);
    expect(createCredential(identity).credential).toBeInstanceOf(type);
  });
});
