import { ContainerRegistryClient, ContainerRegistryContentClient } from "@azure/container-registry";
import type { TokenCredential } from "@azure/identity";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { abandonImage, isImmutableTag } from "../../../pipelines/src/acr/abandon.js";
import type { ResolvedIdentity } from "../../../pipelines/src/acr/identity.js";
import { createCredential, resolveIdentity } from "../../../pipelines/src/acr/identity.js";
import type { RegistryAccess } from "../../../pipelines/src/acr/verify.js";
import { run as slipwayRun } from "../../../pipelines/src/cli/main.js";
import { rejected } from "../../helpers/errors.js";
import { registryAvailable } from "./registry-server.js";
import type { World } from "./world.js";
import { CLIENT, pushImage, startWorld, tagImage, TENANT } from "./world.js";

const run = registryAvailable();
let world: World;
let credential: TokenCredential;

const githubVars = () => ({ ACTIONS_ID_TOKEN_REQUEST_URL: world.azure.githubRequestUrl, ACTIONS_ID_TOKEN_REQUEST_TOKEN: world.azure.githubRequestToken });
const identity = (): ResolvedIdentity => resolveIdentity({ mode: "github-oidc", tenantId: TENANT, clientId: CLIENT, authorityHost: world.azure.authorityHost }, undefined, githubVars());
const access = (): RegistryAccess => ({ registry: world.azure.registry, identity: identity(), options: { tlsOptions: { ca: world.tls.ca } } });
const endpoint = () => `https://${world.azure.registry}`;
const client = () => new ContainerRegistryClient(endpoint(), credential, { tlsOptions: { ca: world.tls.ca } });
const content = (repository: string) => new ContainerRegistryContentClient(endpoint(), repository, credential, { tlsOptions: { ca: world.tls.ca } });
const tagDigest = async (repository: string, tag: string): Promise<string | null> => {
  try {
    return (await client().getArtifact(repository, tag).getTagProperties(tag)).digest;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return null;
    throw error;
  }
};

beforeAll(async () => {
  if (!run) return;
  world = await startWorld();
  credential = createCredential(identity(), { tlsOptions: { ca: world.tls.ca } }).credential;
});
afterAll(async () => {
  if (run) await world.stop();
});

describe("pipelines/src/acr/abandon isImmutableTag", () => {
  it.each([
    ["sha-0123456789ab", true],
    ["1.4.0", true],
    ["1.4", true],
    ["v2", true],
    ["1.4.0-rc.1", true],
    ["failed-12", true],
    ["latest", false],
    ["branch-main", false],
    ["canary", false],
    ["sha-main", false],
  ])("%s -> %s", (tag, immutable) => expect(isImmutableTag(tag)).toBe(immutable));
});

describe.skipIf(!run)("pipelines/src/acr/abandon: the rollback registry policy on ACR (stand-in in front of docker-registry)", () => {
  it("lock: the registry then refuses to overwrite its immutable tags or delete the manifest; its mutable tags still move; a rerun changes nothing", async () => {
    const digest = await pushImage(endpoint(), "shop/locked", credential, "sha-aaaaaaaaaaaa", { ca: world.tls.ca, content: "abandoned\n" });
    await tagImage(endpoint(), "shop/locked", credential, digest, "2.1.0", world.tls.ca);
    await tagImage(endpoint(), "shop/locked", credential, digest, "latest", world.tls.ca);
    const result = await abandonImage(access(), { repository: "shop/locked", digest, release: "4", policy: "lock" });
    expect(result).toMatchObject({ policy: "lock", changed: true, locked: true, lockedTags: ["2.1.0", "sha-aaaaaaaaaaaa"], deletedTags: [] });
    const props = await client().getArtifact("shop/locked", digest).getManifestProperties();
    expect([props.canWrite, props.canDelete]).toEqual([false, false]);

    // What a user notices: no push over its release tags and no delete goes through; the image is intact.
    for (const tag of ["sha-aaaaaaaaaaaa", "2.1.0"]) {
      await expect(pushImage(endpoint(), "shop/locked", credential, tag, { ca: world.tls.ca, content: "overwrite\n" })).rejects.toThrow(/disallowed/);
      expect(await tagDigest("shop/locked", tag)).toBe(digest);
    }
    await expect(content("shop/locked").deleteManifest(digest)).rejects.toThrow(/disallowed/);
    expect((await content("shop/locked").getManifest(digest)).digest).toBe(digest);
    // The next release can still take `latest`.
    const next = await pushImage(endpoint(), "shop/locked", credential, "latest", { ca: world.tls.ca, content: "the next release\n" });
    expect(await tagDigest("shop/locked", "latest")).toBe(next);

    expect(await abandonImage(access(), { repository: "shop/locked", digest, release: "4", policy: "lock" })).toMatchObject({ changed: false, locked: true });
  });

  it("delete-tags: the mutable tags go, immutable ones stay, the digest stays pullable by digest; a rerun deletes nothing", async () => {
    const digest = await pushImage(endpoint(), "shop/untag", credential, "sha-bbbbbbbbbbbb", { ca: world.tls.ca, content: "abandoned too\n" });
    for (const tag of ["1.5.0", "latest", "branch-main", "canary"]) await tagImage(endpoint(), "shop/untag", credential, digest, tag, world.tls.ca);
    const result = await abandonImage(access(), { repository: "shop/untag", digest, release: "5", policy: "delete-tags", keepTags: ["canary"] });
    expect(result).toMatchObject({ changed: true, deletedTags: ["branch-main", "latest"], keptTags: ["1.5.0", "canary", "sha-bbbbbbbbbbbb"] });
    expect(await tagDigest("shop/untag", "latest")).toBeNull();
    expect(await tagDigest("shop/untag", "branch-main")).toBeNull();
    expect(await tagDigest("shop/untag", "sha-bbbbbbbbbbbb")).toBe(digest);
    expect((await content("shop/untag").getManifest(digest)).digest).toBe(digest);
    expect(await abandonImage(access(), { repository: "shop/untag", digest, release: "5", policy: "delete-tags", keepTags: ["canary"] })).toMatchObject({ changed: false, deletedTags: [] });
  });

  it("failed-tag through the CLI: failed-<release> names the digest; a missing digest is a coded error", async () => {
    const digest = await pushImage(endpoint(), "shop/failed", credential, "sha-cccccccccccc", { ca: world.tls.ca, content: "failed\n" });
    let stdout = "";
    let stderr = "";
    const env = world.childEnv({ GITHUB_ACTIONS: "true", AZURE_TENANT_ID: TENANT, AZURE_CLIENT_ID: CLIENT, AZURE_AUTHORITY_HOST: world.azure.authorityHost, ...githubVars(), SLIPWAY_CA_FILE: world.tls.caFile, NODE_OPTIONS: undefined });
    const argv = ["acr", "abandon", "--registry", world.azure.registry, "--repository", "shop/failed", "--digest", digest, "--release", "6", "--policy", "failed-tag"];
    const code = await slipwayRun(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), cwd: world.tls.dir, env });
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ policy: "failed-tag", tag: "failed-6", changed: true, digest });
    expect(await tagDigest("shop/failed", "failed-6")).toBe(digest);

    const missing = await rejected(abandonImage(access(), { repository: "shop/failed", digest: `sha256:${"7".repeat(64)}`, release: "6", policy: "lock" }));
    expect(missing.code).toBe("SLIPWAY_ACR_IMAGE_MISSING");
  });
});
