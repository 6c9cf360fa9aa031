import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCredential, resolveIdentity } from "../../../pipelines/src/acr/identity.js";
import type { CliResult } from "../../helpers/cli.js";
import { cli, cliProcess, REPO_ROOT } from "../../helpers/cli.js";
import { git, tempRepo } from "../../helpers/repo.js";
import { registryAvailable } from "./registry-server.js";
import type { World } from "./world.js";
import { ADO_CONNECTION, CLIENT, pushImage, READER_CLIENT, startWorld, TENANT } from "./world.js";

const run = registryAvailable();
let world: World;
let work: string;
let digest: string;
let shaTag: string;

// Recognisable fake secrets: none may appear in any output or file but the token file.
const CANARY_PASSWORD = "canary-registry-password-7f3a9c";
const CANARY_ID_TOKEN_PREFIX = "canary";

beforeAll(async () => {
  if (!run) return;
  world = await startWorld();
  // The repo being published; the remote URL carries a credential, as CI checkouts do.
  work = tempRepo({ "slipway.yaml": "publish:\n  repositoryPrefix: shop\n  lock: release\n", "README.md": "x\n" });
  git(work, "remote", "add", "origin", `https://x-access-token:${CANARY_PASSWORD}@github.com/acme/shop.git`);
  git(work, "tag", "v5.0.0");
  shaTag = `sha-${git(work, "rev-parse", "HEAD").trim().slice(0, 12)}`;
  const identity = resolveIdentity({ mode: "github-oidc", tenantId: TENANT, clientId: CLIENT, authorityHost: world.azure.authorityHost }, undefined, {
    ACTIONS_ID_TOKEN_REQUEST_URL: world.azure.githubRequestUrl,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: world.azure.githubRequestToken,
  });
  const credential = createCredential(identity, { tlsOptions: { ca: world.tls.ca } }).credential;
  digest = await pushImage(`https://${world.azure.registry}`, "shop/api", credential, shaTag, { ca: world.tls.ca });
});
afterAll(async () => {
  if (!run) return;
  await world.stop();
  rmSync(work, { recursive: true, force: true });
});

function githubEnv(clientId = CLIENT): NodeJS.ProcessEnv {
  return world.childEnv({
    GITHUB_ACTIONS: "true",
    AZURE_TENANT_ID: TENANT,
    AZURE_CLIENT_ID: clientId,
    AZURE_AUTHORITY_HOST: world.azure.authorityHost,
    ACTIONS_ID_TOKEN_REQUEST_URL: world.azure.githubRequestUrl,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: world.azure.githubRequestToken,
  });
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile());
}

describe.skipIf(!run)("slipway acr (real processes, stand-ins, real registry)", () => {
  const results: { name: string; result: CliResult }[] = [];
  const tokenFiles: string[] = [];

  /**
   * In-process by default (fast; the test CA comes in through SLIPWAY_CA_FILE). `process: true` runs the real
   * CLI process with NODE_EXTRA_CA_CERTS, as a user would. Either way from the Slipway repo (where tsx
   * resolves), with --source pointing at the repo being published.
   */
  async function slipway(name: string, argv: string[], env: NodeJS.ProcessEnv, opts: { process?: boolean } = {}): Promise<CliResult> {
    const result = opts.process
      ? await cliProcess([...argv, "--source", work], REPO_ROOT, env)
      : await cli([...argv, "--source", work], REPO_ROOT, { ...env, NODE_OPTIONS: undefined, SLIPWAY_CA_FILE: world.tls.caFile });
    results.push({ name, result });
    return result;
  }

  it("acr login as real processes (github-oidc; azure-pipelines via SYSTEM_OIDCREQUESTURI): token only in --out, mode 0600", async () => {
    writeFileSync(join(work, ".gitignore"), ".slipway/\n");
    mkdirSync(join(work, ".slipway"), { recursive: true });
    const githubOut = join(work, ".slipway", "acr.token");
    const adoOut = join(work, ".slipway", "ado.token");
    tokenFiles.push(githubOut, adoOut);
    const adoEnv = world.childEnv({
      TF_BUILD: "True",
      AZURE_TENANT_ID: TENANT,
      AZURE_CLIENT_ID: CLIENT,
      AZURE_AUTHORITY_HOST: world.azure.authorityHost,
      AZURESUBSCRIPTION_SERVICE_CONNECTION_ID: ADO_CONNECTION,
      SYSTEM_OIDCREQUESTURI: world.azure.adoOidcRequestUri,
      SYSTEM_ACCESSTOKEN: world.azure.adoAccessToken,
    });
    // Two processes at once: each pays tsx's start-up, in parallel.
    const [github, ado] = await Promise.all([
      slipway("login github-oidc", ["acr", "login", "--registry", world.azure.registry, "--out", githubOut], githubEnv(), { process: true }),
      slipway("login azure-pipelines", ["acr", "login", "--registry", world.azure.registry, "--out", adoOut], adoEnv, { process: true }),
    ]);
    expect(github.stderr).toBe("");
    expect(github.code).toBe(0);
    expect(JSON.parse(github.stdout)).toEqual({
      schemaVersion: 1,
      registry: world.azure.registry,
      mode: "github-oidc",
      username: "00000000-0000-0000-0000-000000000000",
      passwordFile: githubOut,
      expiresOn: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    const token = readFileSync(githubOut, "utf8");
    expect(world.azure.isValidRefreshToken(token)).toBe(true);
    expect(statSync(githubOut).mode & 0o777).toBe(0o600);
    expect(github.stdout).not.toContain(token);

    expect(ado.stderr).toBe("");
    expect(ado.code).toBe(0);
    expect(JSON.parse(ado.stdout)).toMatchObject({ mode: "azure-pipelines" });
    expect(world.azure.isValidRefreshToken(readFileSync(adoOut, "utf8"))).toBe(true);
    expect(statSync(adoOut).mode & 0o777).toBe(0o600);
  });

  it("acr login (static) stores the password for any registry, never printing it", async () => {
    const out = join(work, ".slipway", "static.token");
    tokenFiles.push(out);
    const env = world.childEnv({ SLIPWAY_REGISTRY_USERNAME: "ci-bot", SLIPWAY_REGISTRY_PASSWORD: CANARY_PASSWORD });
    const result = await slipway("login static", ["acr", "login", "--mode", "static", "--registry", world.registry.host, "--out", out], env);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ username: "ci-bot", mode: "static" });
    expect(readFileSync(out, "utf8")).toBe(CANARY_PASSWORD);
  });

  it("acr login without AcrPush: exit 2, names the role, writes no token file", async () => {
    const out = join(work, ".slipway", "denied.token");
    const result = await slipway("login denied", ["acr", "login", "--registry", world.azure.registry, "--out", out], githubEnv(READER_CLIENT));
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^SLIPWAY_ACR_EXCHANGE_DENIED: .* the identity needs the AcrPush role on this registry/);
    expect(result.stdout).toBe("");
    expect(() => statSync(out)).toThrow();
  });

  it("acr login with a wrong-audience token file: exit 2 with the audience hint", async () => {
    const bad = join(work, ".slipway", "federated-token");
    writeFileSync(bad, world.azure.mintFederatedToken({ iss: "https://oidc.prod-aks.azure.com/cluster-issuer/", sub: `${CANARY_ID_TOKEN_PREFIX}-subject`, aud: "api://wrong" }));
    const env = world.childEnv({ AZURE_TENANT_ID: TENANT, AZURE_CLIENT_ID: CLIENT, AZURE_AUTHORITY_HOST: world.azure.authorityHost, AZURE_FEDERATED_TOKEN_FILE: bad });
    const result = await slipway("login wrong audience", ["acr", "login", "--registry", world.azure.registry], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("SLIPWAY_ACR_OIDC_TOKEN");
    expect(result.stderr).toContain("not api://AzureADTokenExchange");
    rmSync(bad);
  });

  it("acr login with --out in a missing folder: exit 2 before any token is requested", async () => {
    const before = world.azure.requests.length;
    const result = await slipway("login bad out", ["acr", "login", "--registry", world.azure.registry, "--out", join(work, "nope", "token")], githubEnv());
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("SLIPWAY_USAGE: --out");
    expect(result.stderr).toContain("does not exist");
    expect(world.azure.requests.length).toBe(before);
  });

  it("acr login to a registry that is not ACR in an ACR mode: exit 2, no network", async () => {
    const before = world.azure.requests.length;
    const result = await slipway("login not acr", ["acr", "login", "--registry", "ghcr.io"], githubEnv());
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('SLIPWAY_ACR_REGISTRY_INVALID: registry "ghcr.io" is not an Azure Container Registry');
    expect(world.azure.requests.length).toBe(before);
  });

  it("acr tags, check and verify --lock: the whole publish bookkeeping around a push", async () => {
    const tags = await slipway("tags", ["acr", "tags", "--service", "api", "--registry", world.azure.registry], githubEnv());
    expect(tags.code).toBe(0);
    const plan = JSON.parse(tags.stdout) as { tags: string[]; immutable: string[]; lock: boolean; repository: string; annotations: Record<string, string> };
    expect(plan).toMatchObject({ repository: "shop/api", tags: [shaTag, "5.0.0", "5.0", "5"], immutable: [shaTag, "5.0.0"], lock: true });
    expect(plan.annotations["org.opencontainers.image.source"]).toBe("https://github.com/acme/shop");

    const check = await slipway("check", ["acr", "check", "--registry", world.azure.registry, "--repository", "shop/api", ...plan.immutable.flatMap((t) => ["--tag", t])], githubEnv());
    expect(check.stderr).toBe("");
    expect(JSON.parse(check.stdout)).toMatchObject({ publish: false, digest });

    const verify = await slipway(
      "verify",
      ["acr", "verify", "--registry", world.azure.registry, "--repository", "shop/api", "--digest", digest, "--tag", shaTag, "--lock"],
      githubEnv(),
    );
    expect(verify.stderr).toBe("");
    expect(verify.code).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ digest, locked: { manifest: true, tags: [shaTag] } });

    const wrong = `sha256:${"1".repeat(64)}`;
    const mismatch = await slipway("verify mismatch", ["acr", "verify", "--registry", world.azure.registry, "--repository", "shop/api", "--digest", wrong, "--tag", shaTag], githubEnv());
    expect(mismatch.code).toBe(1);
    expect(mismatch.stderr).toContain(`SLIPWAY_ACR_DIGEST_MISMATCH: ${world.azure.registry}/shop/api:${shaTag} resolves to ${digest}, not to the pushed ${wrong}`);
  });

  it("acr verify in static mode against the plain registry", async () => {
    const env = world.childEnv({ SLIPWAY_REGISTRY_USERNAME: "ci-bot", SLIPWAY_REGISTRY_PASSWORD: CANARY_PASSWORD });
    const result = await slipway("verify static", ["acr", "verify", "--mode", "static", "--registry", world.registry.host, "--repository", "shop/api", "--digest", digest, "--tag", shaTag], env);
    // The image was pushed through the ACR stand-in, which stores into this very registry.
    expect(result.stderr).toBe("");
    expect(JSON.parse(result.stdout)).toMatchObject({ digest, tags: [{ tag: shaTag, digest }] });
  });

  it("canary: no secret appears in any stdout, stderr or file except the token files", () => {
    expect(results.length).toBeGreaterThanOrEqual(10);
    const secrets = [
      CANARY_PASSWORD,
      world.azure.githubRequestToken,
      world.azure.adoAccessToken,
      // Every token the stand-ins minted: GitHub/ADO federated tokens, Entra ID access tokens, ACR refresh and access tokens.
      ...world.azure.issued,
    ];
    for (const { name, result } of results) {
      for (const secret of secrets) {
        expect(result.stdout.includes(secret), `${name}: stdout holds a secret`).toBe(false);
        expect(result.stderr.includes(secret), `${name}: stderr holds a secret`).toBe(false);
      }
    }
    const written = filesUnder(work).filter((f) => !f.includes(`${join(work, ".git")}/`) && !tokenFiles.includes(f));
    expect(written.length).toBeGreaterThan(1);
    for (const file of written) {
      const text = readFileSync(file, "utf8");
      for (const secret of secrets) expect(text.includes(secret), `${file} holds a secret`).toBe(false);
    }
    // No stray temp files next to the token files (written atomically, renamed into place).
    expect(filesUnder(join(work, ".slipway")).sort()).toEqual([...tokenFiles].sort());
  });
});
