import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { aadTokenForAcr, exchangeForRefreshToken } from "../../../pipelines/src/acr/exchange.js";
import type { ResolvedIdentity } from "../../../pipelines/src/acr/identity.js";
import { createCredential, detectMode, resolveIdentity } from "../../../pipelines/src/acr/identity.js";
import { FEDERATION_AUDIENCE, GitHubOidcTokenSource } from "../../../pipelines/src/azure/identity.js";
import { SlipwayError } from "../../../pipelines/src/errors.js";
import { registryAvailable } from "./registry-server.js";
import type { World } from "./world.js";
import { ADO_CONNECTION, CLIENT, GITHUB_SUBJECT, READER_CLIENT, startWorld, TENANT } from "./world.js";
import { rejected } from "../../helpers/errors.js";

const run = registryAvailable();
let world: World;
let scratch: string;

beforeAll(async () => {
  if (!run) return;
  world = await startWorld();
  scratch = mkdtempSync(join(tmpdir(), "slipway-acr-id-"));
});
afterAll(async () => {
  if (!run) return;
  await world.stop();
  rmSync(scratch, { recursive: true, force: true });
});

function tokenFile(token: string): string {
  const file = join(scratch, `token-${Math.random().toString(16).slice(2)}`);
  writeFileSync(file, token);
  return file;
}

/** Login as `slipway acr login` does it, in-process with the test CA. */
async function login(identity: ResolvedIdentity): Promise<string> {
  const options = { tlsOptions: { ca: world.tls.ca } };
  const aad = await aadTokenForAcr(identity, createCredential(identity, options));
  return (await exchangeForRefreshToken(world.azure.registry, aad, identity.tenantId, identity.mode, options)).refreshToken;
}

function github(extra: Partial<ResolvedIdentity> = {}): ResolvedIdentity {
  return resolveIdentity(
    { mode: "github-oidc", tenantId: TENANT, clientId: CLIENT, authorityHost: world.azure.authorityHost, ...extra },
    undefined,
    { ACTIONS_ID_TOKEN_REQUEST_URL: world.azure.githubRequestUrl, ACTIONS_ID_TOKEN_REQUEST_TOKEN: world.azure.githubRequestToken },
  );
}

function workload(token: string, clientId = CLIENT): ResolvedIdentity {
  return resolveIdentity({ mode: "workload-identity" }, undefined, {
    AZURE_TENANT_ID: TENANT,
    AZURE_CLIENT_ID: clientId,
    AZURE_AUTHORITY_HOST: world.azure.authorityHost,
    AZURE_FEDERATED_TOKEN_FILE: tokenFile(token),
  });
}

const AKS_ISSUER = "https://oidc.prod-aks.azure.com/cluster-issuer/";
const AKS_SUBJECT = "system:serviceaccount:ci:slipway";

describe.skipIf(!run)("pipelines/src/acr/identity and exchange against the Entra ID and ACR stand-ins", () => {
  it("github-oidc: mints a GitHub token for api://AzureADTokenExchange and exchanges it for an ACR refresh token", async () => {
    const before = world.azure.requests.length;
    const refresh = await login(github());
    expect(world.azure.isValidRefreshToken(refresh)).toBe(true);
    const seen = world.azure.requests.slice(before);
    expect(seen.find((r) => r.path === "/github/idtoken")?.fields.audience).toBe(FEDERATION_AUDIENCE);
    const tokenRequest = seen.find((r) => r.server === "aad" && r.method === "POST");
    expect(tokenRequest?.fields).toMatchObject({ grant_type: "client_credentials", scope: "https://containerregistry.azure.net/.default", client_id: CLIENT });
    expect(seen.find((r) => r.path === "/oauth2/exchange")?.fields).toMatchObject({ grant_type: "access_token", service: world.azure.registry, tenant: TENANT });
  });

  it("github-oidc: keeps the token while it is fresh and mints again close to expiry", async () => {
    let clock = Date.now();
    const source = new GitHubOidcTokenSource(world.azure.githubRequestUrl, world.azure.githubRequestToken, { tlsOptions: { ca: world.tls.ca } }, () => clock);
    const first = await source.getToken();
    clock += 7 * 60_000;
    expect(await source.getToken()).toBe(first);
    expect(source.mints).toBe(1);
    clock += 2 * 60_000; // 9 minutes in: less than 2 minutes left of GitHub's 10
    const second = await source.getToken();
    expect(source.mints).toBe(2);
    expect(second).not.toBe(first);
  });

  it("workload-identity: reads AZURE_FEDERATED_TOKEN_FILE", async () => {
    const refresh = await login(workload(world.azure.mintFederatedToken({ iss: AKS_ISSUER, sub: AKS_SUBJECT })));
    expect(world.azure.isValidRefreshToken(refresh)).toBe(true);
  });

  it("azure-pipelines: uses the idToken that AzureCLI@2 exposes", async () => {
    const idToken = world.azure.mintFederatedToken({ iss: "https://vstoken.dev.azure.com/org-id", sub: `sc://acme/shop/${ADO_CONNECTION}` });
    const identity = resolveIdentity({ mode: "azure-pipelines", authorityHost: world.azure.authorityHost }, undefined, {
      tenantId: TENANT,
      servicePrincipalId: CLIENT,
      idToken,
    });
    expect(world.azure.isValidRefreshToken(await login(identity))).toBe(true);
  });

  it.each([
    ["expired", { exp: Math.floor(Date.now() / 1000) - 60 }, /the federated token from AZURE_FEDERATED_TOKEN_FILE ".*" expired at /],
    ["wrong audience", { aud: "api://something-else" }, /has audience "api:\/\/something-else", not api:\/\/AzureADTokenExchange/],
  ])("a %s federated token is refused before Entra ID is asked", async (_name, claims, message) => {
    const before = world.azure.requests.filter((r) => r.server === "aad" && r.method === "POST").length;
    const error = await rejected(login(workload(world.azure.mintFederatedToken({ iss: AKS_ISSUER, sub: AKS_SUBJECT, ...claims }))));
    expect(error.code).toBe("SLIPWAY_ACR_OIDC_TOKEN");
    expect(error.message).toMatch(message);
    expect(error.exitCode).toBe(2);
    expect(world.azure.requests.filter((r) => r.server === "aad" && r.method === "POST").length).toBe(before);
  });

  it.each([
    ["AADSTS700024", "not yet valid (clock skew)", { iss: AKS_ISSUER, sub: AKS_SUBJECT, nbf: Math.floor(Date.now() / 1000) + 3600 }, CLIENT, "expired or is not yet valid"],
    ["AADSTS700211", "issuer nobody trusts", { iss: "https://issuer.example.com", sub: AKS_SUBJECT }, CLIENT, "trusts the token's issuer"],
    ["AADSTS700213", "subject of a pull request", { iss: AKS_ISSUER, sub: "system:serviceaccount:other:app" }, CLIENT, "repo:OWNER/REPO:ref:refs/heads/main"],
    ["AADSTS700016", "client id not in the tenant", { iss: AKS_ISSUER, sub: AKS_SUBJECT }, "55555555-5555-5555-5555-555555555555", "check --client-id"],
  ])("Entra ID %s (%s) becomes a one-line hint", async (code, _name, claims, clientId, hint) => {
    const error = await rejected(login(workload(world.azure.mintFederatedToken(claims), clientId)));
    expect(error.code).toBe("SLIPWAY_ACR_AAD_REJECTED");
    expect(error.message).toContain(`(${code})`);
    expect(error.message).toContain(hint);
    expect(error.message).not.toContain("\n");
    expect(error.details.join("\n")).not.toContain("Trace ID");
  });

  it("github-oidc with a subject the federated credential does not list: AADSTS700213", async () => {
    world.azure.githubSubject = "repo:acme/shop:pull_request";
    try {
      const error = await rejected(login(github()));
      expect(error.code).toBe("SLIPWAY_ACR_AAD_REJECTED");
      expect(error.message).toContain("AADSTS700213");
      expect(error.details[0]).toContain("repo:acme/shop:pull_request");
    } finally {
      world.azure.githubSubject = GITHUB_SUBJECT;
    }
  });

  it("an identity without AcrPush gets a 401 on exchange that names the role", async () => {
    const error = await rejected(login(github({ clientId: READER_CLIENT })));
    expect(error.code).toBe("SLIPWAY_ACR_EXCHANGE_DENIED");
    expect(error.message).toContain("HTTP 401");
    expect(error.message).toContain("the identity needs the AcrPush role on this registry");
    expect(error.details[0]).toContain("--role AcrPush");
  });

  it("reports every missing input of a mode at once", () => {
    let error: unknown;
    try {
      resolveIdentity({ mode: "github-oidc" }, undefined, {});
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SlipwayError);
    expect((error as SlipwayError).message).toBe(
      'identity mode "github-oidc" needs --tenant-id (AZURE_TENANT_ID), --client-id (AZURE_CLIENT_ID), ACTIONS_ID_TOKEN_REQUEST_URL, ACTIONS_ID_TOKEN_REQUEST_TOKEN, which are not set',
    );
    expect((error as SlipwayError).details[1]).toContain("id-token: write");
  });

  it.each([
    [{ GITHUB_ACTIONS: "true" }, "github-oidc"],
    [{ TF_BUILD: "True" }, "azure-pipelines"],
    [{ AZURE_FEDERATED_TOKEN_FILE: "/var/run/secrets/azure/tokens/azure-identity-token" }, "workload-identity"],
    [{}, "azure-cli"],
  ])("detects the mode from %j", (env, mode) => {
    expect(detectMode(env)).toBe(mode);
  });
});
