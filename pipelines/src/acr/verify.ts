import type { PipelinePolicy } from "@azure/core-rest-pipeline";
import { isRestError, RestError } from "@azure/core-rest-pipeline";
import { ContainerRegistryClient, ContainerRegistryContentClient } from "@azure/container-registry";
import type { TokenCredential } from "@azure/identity";
import { acrDigestInvalid, acrDigestMismatch, acrMarkImageMissing, acrExchangeDenied, acrLockUnsupported, acrRegistryRequestFailed, acrRegistryTimedOut, acrStaticCredentialsRejected, acrTagImmutable, acrTagNotFound, isSlipwayError } from "../errors.js";
import { isValidDigest } from "../image/reference.js";
import { parseDuration } from "../rollout/duration.js";
import { aadTokenForAcr } from "./exchange.js";
import type { ClientOptions } from "../azure/http.js";
import type { IdentityCredential } from "../azure/identity.js";
import type { ResolvedIdentity } from "./identity.js";
import { createCredential } from "./identity.js";
import { isAcrMode } from "./registry.js";

/** How we reach a registry after the push: ACR through Entra ID (the SDK does the token exchange), or basic auth. */
export interface RegistryAccess {
  registry: string;
  identity: ResolvedIdentity;
  options?: ClientOptions;
  /** Injected in tests; built from `identity` otherwise. */
  credential?: IdentityCredential;
  /** The CLI's live status line (../cli/status.ts): told what a registry request waits for. */
  status?: (text: string | null) => void;
}

export interface TagState {
  tag: string;
  digest: string | null;
  /** ACR only: false once the tag is locked. */
  canWrite?: boolean;
  canDelete?: boolean;
}

export interface VerifyResult {
  registry: string;
  repository: string;
  digest: string;
  tags: TagState[];
  locked: { manifest: boolean; tags: string[] };
}

export function checkDigest(digest: string): string {
  if (!isValidDigest(digest)) throw acrDigestInvalid(digest);
  return digest;
}

/**
 * Basic auth on every request, for generic registries (static mode). Placed after the retry phase, so it
 * sits inside the SDK's bearer-challenge policy: a 401 with a Basic challenge (wrong password) becomes a
 * RestError here instead of reaching that policy, which only understands ACR's Bearer challenge.
 */
function basicAuthPolicy(username: string, password: string): PipelinePolicy {
  const value = `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
  return {
    name: "slipwayBasicAuth",
    async sendRequest(request, next) {
      if (!request.headers.has("Authorization")) request.headers.set("Authorization", value);
      const response = await next(request);
      if (response.status === 401 && /^basic/i.test(response.headers.get("WWW-Authenticate") ?? "")) {
        throw new RestError("the registry refused the username and password", { statusCode: 401, code: "Unauthorized" });
      }
      return response;
    },
  };
}

const NO_TOKEN: TokenCredential = {
  getToken: () => Promise.reject(new Error("this registry asked for a bearer token; static mode only sends a username and password")),
};

function clientOptions(access: RegistryAccess) {
  const policies =
    access.identity.mode === "static" && access.identity.username && access.identity.password
      ? [{ policy: basicAuthPolicy(access.identity.username, access.identity.password), position: "perRetry" as const }]
      : [];
  return { tlsOptions: access.options?.tlsOptions, additionalPolicies: policies, retryOptions: { maxRetries: 2 } };
}

function identityOf(access: RegistryAccess): IdentityCredential {
  return access.credential ?? createCredential(access.identity, access.options);
}

/** The SDK's client for ACR's /acr/v1 (listing, properties, locks, deletes): an Entra ID mode only. */
export function acrClient(access: RegistryAccess): ContainerRegistryClient {
  return new ContainerRegistryClient(`https://${access.registry}`, identityOf(access).credential, clientOptions(access));
}

/**
 * How long one registry request (with the SDK's retries) may take. The SDK has no deadline of its own: a
 * registry that accepts the connection and never answers held `acr check` and `acr verify` forever.
 */
const REGISTRY_TIMEOUT_MS = 60_000;

export function registryTimeoutMs(): number {
  // SLIPWAY_REGISTRY_TIMEOUT (a duration such as 3m) for a slow registry or proxy.
  return parseDuration(process.env.SLIPWAY_REGISTRY_TIMEOUT ?? "") ?? REGISTRY_TIMEOUT_MS;
}

/**
 * Turns an SDK failure into a catalog error; a 404 means "no such tag". Each request runs under a deadline:
 * the signal goes to the SDK (which aborts the socket) and is raced as well, since the bearer-challenge
 * policy's own token requests are not all bound to it.
 */
export async function guarded<T>(access: RegistryAccess, what: string, run: (abortSignal: AbortSignal) => Promise<T>): Promise<T | null> {
  const limit = registryTimeoutMs();
  const deadline = AbortSignal.timeout(limit);
  access.status?.(`registry: ${what} at ${access.registry} (up to ${Math.round(limit / 1000)}s, SLIPWAY_REGISTRY_TIMEOUT)`);
  try {
    const expired = new Promise<never>((_, reject) => deadline.addEventListener("abort", () => reject(new Error("deadline")), { once: true }));
    return await Promise.race([run(deadline), expired]);
  } catch (error) {
    if (isSlipwayError(error)) throw error;
    if (deadline.aborted) throw acrRegistryTimedOut(access.registry, what, limit);
    if (isRestError(error) && error.statusCode === 404) return null;
    const status = isRestError(error) ? (error.statusCode ?? error.code ?? "error") : "error";
    if (isAcrMode(access.identity.mode)) {
      // Explain identity failures (AADSTS...) the same way `acr login` does; if Entra ID is fine, a 401/403
      // comes from the exchange or the registry: the identity lacks a role on the registry.
      await aadTokenForAcr(access.identity, identityOf(access));
      if (status === 401 || status === 403) throw acrExchangeDenied(access.registry, status, access.identity.mode);
    } else if (status === 401 || status === 403) {
      throw acrStaticCredentialsRejected(access.registry, access.identity.username ?? "", status);
    }
    const message = error instanceof Error ? error.message : String(error);
    throw acrRegistryRequestFailed(access.registry, what, status, message);
  } finally {
    access.status?.(null);
  }
}

/** Where each tag points now (null: the tag does not exist). */
export async function resolveTags(access: RegistryAccess, repository: string, tags: string[]): Promise<TagState[]> {
  const endpoint = `https://${access.registry}`;
  if (isAcrMode(access.identity.mode)) {
    const client = new ContainerRegistryClient(endpoint, identityOf(access).credential, clientOptions(access));
    const artifact = client.getArtifact(repository, tags[0] ?? "latest");
    return Promise.all(
      tags.map(async (tag) => {
        const props = await guarded(access, `reading tag ${repository}:${tag}`, (abortSignal) => artifact.getTagProperties(tag, { abortSignal }));
        return props ? { tag, digest: props.digest, canWrite: props.canWrite, canDelete: props.canDelete } : { tag, digest: null };
      }),
    );
  }
  const content = new ContainerRegistryContentClient(endpoint, repository, NO_TOKEN, clientOptions(access));
  const states: TagState[] = [];
  // One at a time: generic registries throttle anonymous pulls.
  for (const tag of tags) {
    const manifest = await guarded(access, `reading manifest ${repository}:${tag}`, (abortSignal) => content.getManifest(tag, { abortSignal }));
    states.push({ tag, digest: manifest ? manifest.digest : null });
  }
  return states;
}

export interface PreflightResult {
  /** False when this commit's image is already published (a re-run): skip the push, reuse `digest`. */
  publish: boolean;
  digest: string | null;
  existing: TagState[];
}

/**
 * Before pushing: immutable tags never move. `sha-<12>` already present means this commit was published
 * (idempotent re-run); a release tag present without it means the version was published from another commit.
 */
export async function preflight(access: RegistryAccess, repository: string, immutable: string[]): Promise<PreflightResult> {
  const states = await resolveTags(access, repository, immutable);
  const [sha, ...releases] = states;
  if (sha?.digest) {
    for (const release of releases) {
      if (release.digest && release.digest !== sha.digest) {
        throw acrTagImmutable(`${access.registry}/${repository}:${release.tag}`, release.digest, sha.digest);
      }
    }
    return { publish: false, digest: sha.digest, existing: states.filter((s) => s.digest) };
  }
  for (const release of releases) {
    if (release.digest) throw acrTagImmutable(`${access.registry}/${repository}:${release.tag}`, release.digest, `a new image from ${sha?.tag ?? "this commit"}`);
  }
  return { publish: true, digest: null, existing: [] };
}

/**
 * After the push: every tag must resolve to the digest the push returned; then, on request, lock the
 * manifest and the immutable tags (ACR canDelete/canWrite false) and read the lock back.
 */
export async function verifyPublished(
  access: RegistryAccess,
  input: { repository: string; digest: string; tags: string[]; lockTags?: string[]; lock?: boolean },
): Promise<VerifyResult> {
  checkDigest(input.digest);
  if (input.lock && !isAcrMode(access.identity.mode)) throw acrLockUnsupported(access.registry);
  const states = await resolveTags(access, input.repository, input.tags);
  for (const state of states) {
    const ref = `${access.registry}/${input.repository}:${state.tag}`;
    if (state.digest === null) throw acrTagNotFound(ref);
    if (state.digest !== input.digest) throw acrDigestMismatch(ref, input.digest, state.digest);
  }
  const result: VerifyResult = { registry: access.registry, repository: input.repository, digest: input.digest, tags: states, locked: { manifest: false, tags: [] } };
  if (!input.lock) return result;

  const client = new ContainerRegistryClient(`https://${access.registry}`, identityOf(access).credential, clientOptions(access));
  const artifact = client.getArtifact(input.repository, input.digest);
  const lockTags = input.lockTags ?? input.tags;
  for (const tag of lockTags) {
    await guarded(access, `locking tag ${input.repository}:${tag}`, (abortSignal) => artifact.updateTagProperties(tag, { canDelete: false, canWrite: false, abortSignal }));
  }
  const manifest = await guarded(access, `locking manifest ${input.repository}@${input.digest}`, (abortSignal) =>
    artifact.updateManifestProperties({ canDelete: false, canWrite: false, abortSignal }),
  );
  // Read back: a lock we cannot see is not a lock.
  const after = await resolveTags(access, input.repository, lockTags);
  result.locked = {
    manifest: manifest?.canDelete === false && manifest.canWrite === false,
    tags: after.filter((s) => s.canDelete === false && s.canWrite === false && s.digest === input.digest).map((s) => s.tag),
  };
  result.tags = states.map((s) => after.find((a) => a.tag === s.tag) ?? s);
  return result;
}

export interface MarkResult {
  registry: string;
  repository: string;
  digest: string;
  tag: string;
  /** False when the tag already pointed at this digest (a rerun): nothing was written. */
  created: boolean;
}

/**
 * Puts `tag` on an image already in the registry, by digest, without pulling or rebuilding it: the manifest
 * is read by digest and written back under the tag, so the tag names exactly those bytes (e.g. `failed-<id>`
 * on an abandoned release's image after a rollback). A tag that already names another digest is never moved
 * (SLIPWAY_ACR_TAG_IMMUTABLE); the tag is read back before the result is returned.
 */
export async function markImage(access: RegistryAccess, input: { repository: string; digest: string; tag: string }): Promise<MarkResult> {
  checkDigest(input.digest);
  const ref = `${access.registry}/${input.repository}`;
  const [before] = await resolveTags(access, input.repository, [input.tag]);
  if (before?.digest === input.digest) return { registry: access.registry, repository: input.repository, digest: input.digest, tag: input.tag, created: false };
  if (before?.digest) throw acrTagImmutable(`${ref}:${input.tag}`, before.digest, input.digest);
  const credential = isAcrMode(access.identity.mode) ? identityOf(access).credential : NO_TOKEN;
  const content = new ContainerRegistryContentClient(`https://${access.registry}`, input.repository, credential, clientOptions(access));
  const manifest = await guarded(access, `reading manifest ${input.repository}@${input.digest}`, (abortSignal) => content.getManifest(input.digest, { abortSignal }));
  if (!manifest) throw acrMarkImageMissing(`${ref}@${input.digest}`);
  await guarded(access, `tagging ${input.repository}@${input.digest} as ${input.tag}`, (abortSignal) =>
    content.setManifest(manifest.content, { tag: input.tag, mediaType: manifest.mediaType, abortSignal }),
  );
  const [after] = await resolveTags(access, input.repository, [input.tag]);
  if (after?.digest !== input.digest) throw acrDigestMismatch(`${ref}:${input.tag}`, input.digest, after?.digest ?? "(no such tag)");
  return { registry: access.registry, repository: input.repository, digest: input.digest, tag: input.tag, created: true };
}
