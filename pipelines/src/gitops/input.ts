import { gitopsConflictingTargets, gitopsPolicyInvalid, gitopsSetInvalid } from "../errors.js";
import { formatImageRef, isValidDigest, isValidName, isValidTag, parseImageRef, sameImage } from "../image/reference.js";
import type { ImageTarget, PolicyTarget } from "./types.js";

/** `IMAGE=TAG[@sha256:DIGEST]` */
export function parseSet(value: string): ImageTarget {
  const eq = value.indexOf("=");
  if (eq <= 0) throw gitopsSetInvalid(value, "expected IMAGE=TAG");
  const image = value.slice(0, eq);
  const rest = value.slice(eq + 1);
  if (!isValidName(image)) {
    const ref = parseImageRef(image);
    throw gitopsSetInvalid(value, ref && (ref.tag || ref.digest) ? `IMAGE ${JSON.stringify(image)} must not carry a tag or digest` : `${JSON.stringify(image)} is not an image name`);
  }
  const at = rest.indexOf("@");
  const tag = at < 0 ? rest : rest.slice(0, at);
  const digest = at < 0 ? undefined : rest.slice(at + 1);
  if (!isValidTag(tag)) throw gitopsSetInvalid(value, `${JSON.stringify(tag)} is not a valid tag (letters, digits, '_', '.', '-'; at most 128)`);
  if (digest !== undefined && !isValidDigest(digest)) throw gitopsSetInvalid(value, `${JSON.stringify(digest)} is not a digest (sha256: and 64 lowercase hex digits)`);
  return { image, tag, ...(digest ? { digest } : {}) };
}

const POLICY = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?:[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** `NS:NAME=IMAGE:TAG[@sha256:DIGEST]` */
export function parsePolicy(value: string): PolicyTarget {
  const eq = value.indexOf("=");
  if (eq <= 0) throw gitopsPolicyInvalid(value, "expected NAMESPACE:NAME=IMAGE:TAG");
  const policy = value.slice(0, eq);
  if (!POLICY.test(policy)) throw gitopsPolicyInvalid(value, `${JSON.stringify(policy)} is not NAMESPACE:NAME of an ImagePolicy`);
  const ref = parseImageRef(value.slice(eq + 1));
  if (!ref || !ref.tag) throw gitopsPolicyInvalid(value, `${JSON.stringify(value.slice(eq + 1))} is not IMAGE:TAG[@sha256:DIGEST]`);
  return { policy, image: ref.name, tag: ref.tag, ...(ref.digest ? { digest: ref.digest } : {}) };
}

/** Parses every flag; the same image (or policy) twice with different values is an error. */
export function parseTargets(sets: string[], policies: string[]): { images: ImageTarget[]; policies: PolicyTarget[] } {
  const images: ImageTarget[] = [];
  for (const value of sets) {
    const target = parseSet(value);
    const previous = images.find((t) => sameImage(t.image, target.image));
    const show = (t: ImageTarget): string => formatImageRef({ name: t.image, tag: t.tag, digest: t.digest });
    if (previous && show(previous) !== show(target)) throw gitopsConflictingTargets(target.image, show(previous), show(target));
    if (!previous) images.push(target);
  }
  const parsedPolicies: PolicyTarget[] = [];
  for (const value of policies) {
    const target = parsePolicy(value);
    const previous = parsedPolicies.find((p) => p.policy === target.policy);
    const show = (p: PolicyTarget): string => formatImageRef({ name: p.image, tag: p.tag, digest: p.digest });
    if (previous && show(previous) !== show(target)) throw gitopsConflictingTargets(target.policy, show(previous), show(target));
    if (!previous) parsedPolicies.push(target);
  }
  return { images, policies: parsedPolicies };
}
