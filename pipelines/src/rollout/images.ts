import type { ImageRef } from "../image/reference.js";
import { isValidDigest, isValidName, isValidTag, normalizeName, splitImageRef } from "../image/reference.js";

/** `--image IMAGE=TAG`: the containers running IMAGE must run TAG (a tag, or a digest `sha256:...`). */
export interface ImageExpectation {
  image: string;
  tag: string;
}

/** Parses `IMAGE=TAG`; null when malformed. */
export function parseImageExpectation(text: string): ImageExpectation | null {
  const eq = text.lastIndexOf("=");
  if (eq <= 0) return null;
  const image = text.slice(0, eq);
  const tag = text.slice(eq + 1);
  if (!isValidName(image)) return null;
  if (!isValidTag(tag) && !isValidDigest(tag)) return null;
  return { image, tag };
}

/**
 * Does the container image belong to the expectation's repository? `api` matches `myacr.azurecr.io/team/api`;
 * Docker Hub spellings are one image (`docker.io/library/nginx` matches a pod running `nginx`).
 */
export function sameRepository(ref: ImageRef, image: string): boolean {
  return normalizeName(ref.name) === normalizeName(image) || ref.name.endsWith(`/${image}`);
}

export function runsExpected(ref: ImageRef, expected: ImageExpectation): boolean {
  if (expected.tag.startsWith("sha256:")) return ref.digest === expected.tag;
  return ref.tag === expected.tag;
}

/**
 * Which expectations the given container images break: for each container image of a matching
 * repository that runs another tag or digest, a message naming both. Pod images are split, not
 * judged: a malformed one is the kubelet's InvalidImageName, which health reports on its own.
 */
export function imageMismatches(images: string[], expectations: ImageExpectation[]): string[] {
  const out: string[] = [];
  for (const image of images) {
    const ref = splitImageRef(image);
    for (const expected of expectations) {
      if (sameRepository(ref, expected.image) && !runsExpected(ref, expected)) out.push(`runs ${image}, expected ${expected.image} at ${expected.tag}`);
    }
  }
  return out;
}
