import { ContainerRegistryClient, ContainerRegistryContentClient } from "@azure/container-registry";
import type { TokenCredential } from "@azure/identity";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ResolvedIdentity } from "../../../pipelines/src/acr/identity.js";
import { createCredential, resolveIdentity } from "../../../pipelines/src/acr/identity.js";
import type { RegistryAccess } from "../../../pipelines/src/acr/verify.js";
import { markImage, preflight, resolveTags, verifyPublished } from "../../../pipelines/src/acr/verify.js";
import { join } from "node:path";
import { REPO_ROOT } from "../../helpers/cli.js";
import type { RunningRegistry } from "./registry-server.js";
import { registryAvailable, startRegistry } from "./registry-server.js";
import type { World } from "./world.js";
import { CLIENT, pushImage, READER_CLIENT, startWorld, tagImage, TENANT } from "./world.js";
import { rejected } from "../../helpers/errors.js";

const run = registryAvailable();
let world: World;

beforeAll(async () => {
  if (run) world = await startWorld();
});
afterAll(async () => {
  if (run) await world.stop();
});

/** The plain registry allows anonymous access: the SDK never asks this credential. */
const ANONYMOUS: TokenCredential = { getToken: () => Promise.reject(new Error("no token expected")) };
const STATIC: ResolvedIdentity = { mode: "static", username: "ci", password: "unused-by-an-open-registry" };

describe.skipIf(!run)("pipelines/src/acr/verify on a real OCI registry (docker-registry, TLS, relativeurls)", () => {
  const access = (): RegistryAccess => ({ registry: world.registry.host, identity: STATIC, options: { tlsOptions: { ca: world.tls.ca } } });
  const endpoint = () => `https://${world.registry.host}`;

  it("resolves tags to the digest the push returned, and verification passes", async () => {
    const digest = await pushImage(endpoint(), "shop/api", ANONYMOUS, "sha-aaaaaaaaaaaa", { ca: world.tls.ca });
    await tagImage(endpoint(), "shop/api", ANONYMOUS, digest, "1.0.0", world.tls.ca);
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await resolveTags(access(), "shop/api", ["sha-aaaaaaaaaaaa", "1.0.0", "nope"])).toEqual([
      { tag: "sha-aaaaaaaaaaaa", digest },
      { tag: "1.0.0", digest },
      { tag: "nope", digest: null },
    ]);
    const result = await verifyPublished(access(), { repository: "shop/api", digest, tags: ["sha-aaaaaaaaaaaa", "1.0.0"] });
    expect(result.tags.map((t) => t.digest)).toEqual([digest, digest]);
    expect(result.locked).toEqual({ manifest: false, tags: [] });
  });

  it("fails when a tag was moved to another image after our push", async () => {
    const ours = await pushImage(endpoint(), "shop/worker", ANONYMOUS, "2.0", { ca: world.tls.ca, content: "ours\n" });
    const theirs = await pushImage(endpoint(), "shop/worker", ANONYMOUS, "2.0", { ca: world.tls.ca, content: "a concurrent pipeline\n" });
    expect(theirs).not.toBe(ours);
    const error = await rejected(verifyPublished(access(), { repository: "shop/worker", digest: ours, tags: ["2.0"] }));
    expect(error.code).toBe("SLIPWAY_ACR_DIGEST_MISMATCH");
    expect(error.message).toBe(`${world.registry.host}/shop/worker:2.0 resolves to ${theirs}, not to the pushed ${ours}`);
    expect(error.exitCode).toBe(1);
  });

  it("fails when the manifest was deleted", async () => {
    const digest = await pushImage(endpoint(), "shop/gone", ANONYMOUS, "sha-bbbbbbbbbbbb", { ca: world.tls.ca });
    const content = new ContainerRegistryContentClient(endpoint(), "shop/gone", ANONYMOUS, { tlsOptions: { ca: world.tls.ca } });
    await content.deleteManifest(digest);
    const error = await rejected(verifyPublished(access(), { repository: "shop/gone", digest, tags: ["sha-bbbbbbbbbbbb"] }));
    expect(error.code).toBe("SLIPWAY_ACR_TAG_NOT_FOUND");
  });

  it("refuses to lock on a registry that is not ACR", async () => {
    const error = await rejected(verifyPublished(access(), { repository: "shop/api", digest: `sha256:${"0".repeat(64)}`, tags: ["x"], lock: true }));
    expect(error.code).toBe("SLIPWAY_ACR_LOCK_UNSUPPORTED");
  });

  it("refuses a digest that is not sha256:<64 hex>", async () => {
    const error = await rejected(verifyPublished(access(), { repository: "shop/api", digest: "sha256:abc", tags: ["x"] }));
    expect(error.code).toBe("SLIPWAY_ACR_DIGEST_INVALID");
    expect(error.exitCode).toBe(2);
  });
});

describe.skipIf(!run)("pipelines/src/acr/verify on a real registry with basic auth (static mode)", () => {
  const htpasswd = join(REPO_ROOT, "test", "fixtures", "acr", "htpasswd");
  const user = { username: "ci-bot", password: "canary-registry-password-7f3a9c" };
  let secured: RunningRegistry;
  beforeAll(async () => {
    secured = await startRegistry(world.tls, { htpasswd });
  });
  afterAll(async () => {
    await secured?.stop();
  });

  it("sends the username and password and verifies; a wrong password is a clear error without the password", async () => {
    const digest = await pushImage(`https://${secured.host}`, "shop/api", ANONYMOUS, "sha-ffffffffffff", { ca: world.tls.ca, basic: user });
    const access = (password: string): RegistryAccess => ({
      registry: secured.host,
      identity: { mode: "static", username: user.username, password },
      options: { tlsOptions: { ca: world.tls.ca } },
    });
    const result = await verifyPublished(access(user.password), { repository: "shop/api", digest, tags: ["sha-ffffffffffff"] });
    expect(result.tags).toEqual([{ tag: "sha-ffffffffffff", digest }]);

    const error = await rejected(verifyPublished(access("wrong-password-5e1d"), { repository: "shop/api", digest, tags: ["sha-ffffffffffff"] }));
    expect(error.code).toBe("SLIPWAY_ACR_STATIC_REJECTED");
    expect(error.message).toBe(`${secured.host} refused username "ci-bot" and its password (HTTP 401)`);
    expect(error.render()).not.toContain("wrong-password-5e1d");
  });
});

describe.skipIf(!run)("pipelines/src/acr/verify on ACR (stand-in with Entra ID token exchange, in front of the real registry)", () => {
  const options = () => ({ tlsOptions: { ca: world.tls.ca } });
  const identity = (): ResolvedIdentity =>
    resolveIdentity({ mode: "github-oidc", tenantId: TENANT, clientId: CLIENT, authorityHost: world.azure.authorityHost }, undefined, {
      ACTIONS_ID_TOKEN_REQUEST_URL: world.azure.githubRequestUrl,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: world.azure.githubRequestToken,
    });
  const access = (): RegistryAccess => ({ registry: world.azure.registry, identity: identity(), options: options() });
  const endpoint = () => `https://${world.azure.registry}`;

  it("pushes through the SDK's challenge → exchange → token flow, verifies, locks, and the lock holds", async () => {
    const credential = createCredential(identity(), options()).credential;
    const digest = await pushImage(endpoint(), "shop/api", credential, "sha-cccccccccccc", { ca: world.tls.ca });
    await tagImage(endpoint(), "shop/api", credential, digest, "3.0.0", world.tls.ca);
    await tagImage(endpoint(), "shop/api", credential, digest, "3.0", world.tls.ca);
    const paths = world.azure.requests.filter((r) => r.server === "acr").map((r) => r.path);
    expect(paths).toContain("/oauth2/exchange");
    expect(paths).toContain("/oauth2/token");

    const result = await verifyPublished(access(), {
      repository: "shop/api",
      digest,
      tags: ["sha-cccccccccccc", "3.0.0", "3.0"],
      lock: true,
      lockTags: ["sha-cccccccccccc", "3.0.0"],
    });
    expect(result.locked).toEqual({ manifest: true, tags: ["sha-cccccccccccc", "3.0.0"] });
    expect(result.tags).toEqual([
      { tag: "sha-cccccccccccc", digest, canWrite: false, canDelete: false },
      { tag: "3.0.0", digest, canWrite: false, canDelete: false },
      { tag: "3.0", digest, canWrite: true, canDelete: true },
    ]);

    // What a user notices: a locked release tag cannot be overwritten, a moving tag can.
    await expect(pushImage(endpoint(), "shop/api", credential, "3.0.0", { ca: world.tls.ca, content: "overwrite\n" })).rejects.toThrow(/disallowed/);
    const client = new ContainerRegistryClient(endpoint(), credential, options());
    expect((await client.getArtifact("shop/api", "3.0.0").getTagProperties("3.0.0")).digest).toBe(digest);
    await pushImage(endpoint(), "shop/api", credential, "3.0", { ca: world.tls.ca, content: "3.0.1\n" });
  });

  it("preflight: a re-run of the same commit is recognised; a release tag never moves to a new commit", async () => {
    const credential = createCredential(identity(), options()).credential;
    const digest = await pushImage(endpoint(), "shop/web", credential, "sha-dddddddddddd", { ca: world.tls.ca });
    await tagImage(endpoint(), "shop/web", credential, digest, "4.0.0", world.tls.ca);

    expect(await preflight(access(), "shop/web", ["sha-dddddddddddd", "4.0.0"])).toMatchObject({ publish: false, digest });
    expect(await preflight(access(), "shop/web", ["sha-eeeeeeeeeeee"])).toEqual({ publish: true, digest: null, existing: [] });
    const error = await rejected(preflight(access(), "shop/web", ["sha-eeeeeeeeeeee", "4.0.0"]));
    expect(error.code).toBe("SLIPWAY_ACR_TAG_IMMUTABLE");
    expect(error.message).toContain(`${world.azure.registry}/shop/web:4.0.0 already points to ${digest}`);
    expect(error.details.join(" ")).toContain("Nothing was pushed");
  });

  it("markImage puts failed-<id> on an abandoned release's digest: the tag names those bytes, a rerun writes nothing, an existing tag never moves", async () => {
    const credential = createCredential(identity(), options()).credential;
    const abandoned = await pushImage(endpoint(), "shop/mark", credential, "sha-aaaaaaaaaaaa", { ca: world.tls.ca });
    const other = await pushImage(endpoint(), "shop/mark", credential, "sha-bbbbbbbbbbbb", { ca: world.tls.ca, content: "other\n" });

    expect(await markImage(access(), { repository: "shop/mark", digest: abandoned, tag: "failed-4" })).toEqual({
      registry: world.azure.registry, repository: "shop/mark", digest: abandoned, tag: "failed-4", created: true,
    });
    const client = new ContainerRegistryClient(endpoint(), credential, options());
    expect((await client.getArtifact("shop/mark", "failed-4").getTagProperties("failed-4")).digest).toBe(abandoned);
    expect((await client.getArtifact("shop/mark", "sha-aaaaaaaaaaaa").getTagProperties("sha-aaaaaaaaaaaa")).digest).toBe(abandoned);
    // Again: already so, nothing written.
    expect(await markImage(access(), { repository: "shop/mark", digest: abandoned, tag: "failed-4" })).toMatchObject({ created: false });
    // failed-4 on another image: refused, the tag still names the first.
    const moved = await rejected(markImage(access(), { repository: "shop/mark", digest: other, tag: "failed-4" }));
    expect(moved.code).toBe("SLIPWAY_ACR_TAG_IMMUTABLE");
    expect((await client.getArtifact("shop/mark", "failed-4").getTagProperties("failed-4")).digest).toBe(abandoned);
    // A digest the registry does not have: nothing to tag.
    const missing = await rejected(markImage(access(), { repository: "shop/mark", digest: `sha256:${"9".repeat(64)}`, tag: "failed-5" }));
    expect(missing.code).toBe("SLIPWAY_ACR_IMAGE_MISSING");
    expect(missing.message).toContain(`${world.azure.registry}/shop/mark@sha256:${"9".repeat(64)} is not in the registry`);
  });

  it("an identity without AcrPush fails verification naming the role, not with a bare 401", async () => {
    const reader = resolveIdentity({ mode: "github-oidc", tenantId: TENANT, clientId: READER_CLIENT, authorityHost: world.azure.authorityHost }, undefined, {
      ACTIONS_ID_TOKEN_REQUEST_URL: world.azure.githubRequestUrl,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: world.azure.githubRequestToken,
    });
    const error = await rejected(resolveTags({ registry: world.azure.registry, identity: reader, options: options() }, "shop/api", ["sha-cccccccccccc"]));
    expect(error.code).toBe("SLIPWAY_ACR_EXCHANGE_DENIED");
    expect(error.message).toContain("AcrPush");
  });

  it("an identity that cannot get a token fails verification with the identity error, not a bare 401", async () => {
    world.azure.githubSubject = "repo:acme/shop:pull_request";
    try {
      const error = await rejected(resolveTags(access(), "shop/api", ["sha-cccccccccccc"]));
      expect(error.code).toBe("SLIPWAY_ACR_AAD_REJECTED");
      expect(error.message).toContain("AADSTS700213");
    } finally {
      world.azure.githubSubject = "repo:acme/shop:ref:refs/heads/main";
    }
  });
});
