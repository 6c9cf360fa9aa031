// What a rollback does in the registry to an image it abandons (issue 12), per environment in slipway.yaml
// (`environments.<name>.rollback.registry`):
// - failed-tag (default): tag it `failed-<release>` (markImage), so everyone sees which images did not hold;
// - lock: ACR changeableAttributes writeEnabled/deleteEnabled false on its manifest, what
//   `az acr repository update --image repo@sha256:... --write-enabled false --delete-enabled false` does
//   (docs: "Lock a container image in an Azure container registry"), and on its immutable tags (sha-<12>,
//   semver, failed-<id>), as `acr verify --lock` does: nobody deletes it or pushes other bytes under those
//   names. Its mutable tags (latest, branch-*) stay writable: locking them would block the next release;
// - delete-tags: delete its mutable tags (latest, branch-*, extra tags), so nothing pulls it by a moving
//   name again; the immutable ones (sha-<12>, semver, failed-<id>, the tag a ledger recorded) stay, and the
//   manifest itself is never deleted: it stays pullable by digest (a ledger still references it).
import { acrAbandonPolicyInvalid, acrLockUnsupported, acrMarkImageMissing } from "../errors.js";
import { isAcrMode } from "./registry.js";
import type { RegistryAccess } from "./verify.js";
import { acrClient, checkDigest, guarded, markImage } from "./verify.js";

export const ABANDON_POLICIES = ["failed-tag", "lock", "delete-tags"] as const;
export type AbandonPolicy = (typeof ABANDON_POLICIES)[number];

export function abandonPolicy(value: string): AbandonPolicy {
  if (!(ABANDON_POLICIES as readonly string[]).includes(value)) throw acrAbandonPolicyInvalid(value, ABANDON_POLICIES);
  return value as AbandonPolicy;
}

export interface AbandonResult {
  registry: string;
  repository: string;
  digest: string;
  release: string;
  policy: AbandonPolicy;
  /** False when the registry already was so (a rerun): nothing was written. */
  changed: boolean;
  /** failed-tag: the tag put on it. */
  tag: string | null;
  /** lock: the manifest's lock, read back after the change. */
  locked: boolean | null;
  /** lock: the immutable tags locked with it (read back). */
  lockedTags: string[];
  /** delete-tags: the tags deleted, and the ones left (immutable, or named by --keep-tag). */
  deletedTags: string[];
  keptTags: string[];
}

/** sha-<12 hex>, a semver version or its X.Y / X prefixes, failed-<id>: tags that name one image for good. */
export function isImmutableTag(tag: string): boolean {
  return /^sha-[0-9a-f]{12}$/.test(tag) || /^v?\d+(\.\d+){0,2}([-+][0-9A-Za-z.+-]+)?$/.test(tag) || /^failed-\d+$/.test(tag);
}

export async function abandonImage(
  access: RegistryAccess,
  input: { repository: string; digest: string; release: string; policy: AbandonPolicy; keepTags?: string[] },
): Promise<AbandonResult> {
  checkDigest(input.digest);
  const base = { registry: access.registry, repository: input.repository, digest: input.digest, release: input.release, policy: input.policy };
  if (input.policy === "failed-tag") {
    const marked = await markImage(access, { repository: input.repository, digest: input.digest, tag: `failed-${input.release}` });
    return { ...base, changed: marked.created, tag: marked.tag, locked: null, lockedTags: [], deletedTags: [], keptTags: [] };
  }
  if (!isAcrMode(access.identity.mode)) throw acrLockUnsupported(access.registry);
  const artifact = acrClient(access).getArtifact(input.repository, input.digest);
  const ref = `${access.registry}/${input.repository}@${input.digest}`;
  const before = await guarded(access, `reading ${ref}`, (abortSignal) => artifact.getManifestProperties({ abortSignal }));
  if (!before) throw acrMarkImageMissing(ref);

  if (input.policy === "lock") {
    let changed = false;
    if (!(before.canWrite === false && before.canDelete === false)) {
      await guarded(access, `locking ${ref}`, (abortSignal) => artifact.updateManifestProperties({ canWrite: false, canDelete: false, abortSignal }));
      changed = true;
    }
    const immutable = [...before.tags].filter(isImmutableTag).sort();
    for (const tag of immutable) {
      const props = await guarded(access, `reading tag ${input.repository}:${tag}`, (abortSignal) => artifact.getTagProperties(tag, { abortSignal }));
      if (props?.canWrite === false && props.canDelete === false) continue;
      await guarded(access, `locking tag ${input.repository}:${tag}`, (abortSignal) => artifact.updateTagProperties(tag, { canWrite: false, canDelete: false, abortSignal }));
      changed = true;
    }
    // Read back: a lock we cannot see is not a lock.
    const after = await guarded(access, `reading ${ref}`, (abortSignal) => artifact.getManifestProperties({ abortSignal }));
    const lockedTags: string[] = [];
    for (const tag of immutable) {
      const props = await guarded(access, `reading tag ${input.repository}:${tag}`, (abortSignal) => artifact.getTagProperties(tag, { abortSignal }));
      if (props?.canWrite === false && props.canDelete === false && props.digest === input.digest) lockedTags.push(tag);
    }
    const locked = after?.canWrite === false && after.canDelete === false && lockedTags.length === immutable.length;
    return { ...base, changed, tag: null, locked, lockedTags, deletedTags: [], keptTags: [] };
  }

  const keep = new Set(input.keepTags ?? []);
  const tags = [...before.tags].sort();
  const doomed = tags.filter((t) => !isImmutableTag(t) && !keep.has(t));
  for (const tag of doomed) {
    await guarded(access, `deleting tag ${input.repository}:${tag}`, (abortSignal) => artifact.deleteTag(tag, { abortSignal }));
  }
  // The manifest must still be there, pullable by digest.
  const after = await guarded(access, `reading ${ref}`, (abortSignal) => artifact.getManifestProperties({ abortSignal }));
  if (!after) throw acrMarkImageMissing(ref);
  return { ...base, changed: doomed.length > 0, tag: null, locked: null, lockedTags: [], deletedTags: doomed, keptTags: tags.filter((t) => !doomed.includes(t)) };
}
