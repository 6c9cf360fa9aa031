/**
 * Image references as they appear in pod specs: `[registry/]path[:tag][@digest]`.
 * Hand-written: no installed library parses OCI references, and we need only the split into
 * repository, tag and digest (the distribution/reference grammar, without normalising docker.io).
 */
export interface ImageRef {
  repository: string;
  tag?: string;
  digest?: string;
}

export function parseImageRef(ref: string): ImageRef {
  const at = ref.indexOf("@");
  const digest = at >= 0 ? ref.slice(at + 1) : undefined;
  const rest = at >= 0 ? ref.slice(0, at) : ref;
  const colon = rest.lastIndexOf(":");
  // A ':' before the last '/' is a registry port (localhost:5000/api), not a tag.
  if (colon > rest.lastIndexOf("/")) return { repository: rest.slice(0, colon), tag: rest.slice(colon + 1), digest };
  return { repository: rest, digest };
}

/** `--image IMAGE=TAG`: the containers running IMAGE must run TAG (a tag, or a digest `sha256:...`). */
export interface ImageExpectation {
  image: string;
  tag: string;
}

const TAG_PATTERN = /^[\w][\w.-]{0,127}$/;
const DIGEST_PATTERN = /^sha256:[a-f0-9]{64}$/;
const REPOSITORY_PATTERN = /^[a-z0-9]+(?:[._-][a-z0-9]+|[:]\d+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;

/** Parses `IMAGE=TAG`; null when malformed. */
export function parseImageExpectation(text: string): ImageExpectation | null {
  const eq = text.lastIndexOf("=");
  if (eq <= 0) return null;
  const image = text.slice(0, eq);
  const tag = text.slice(eq + 1);
  if (!REPOSITORY_PATTERN.test(image)) return null;
  if (!TAG_PATTERN.test(tag) && !DIGEST_PATTERN.test(tag)) return null;
  return { image, tag };
}

/** Does the container image belong to the expectation's repository? `api` matches `myacr.azurecr.io/team/api`. */
export function sameRepository(ref: ImageRef, image: string): boolean {
  return ref.repository === image || ref.repository.endsWith(`/${image}`);
}

export function runsExpected(ref: ImageRef, expected: ImageExpectation): boolean {
  if (expected.tag.startsWith("sha256:")) return ref.digest === expected.tag;
  return ref.tag === expected.tag;
}

/**
 * Which expectations the given container images break: for each container image of a matching
 * repository that runs another tag or digest, a message naming both.
 */
export function imageMismatches(images: string[], expectations: ImageExpectation[]): string[] {
  const out: string[] = [];
  for (const image of images) {
    const ref = parseImageRef(image);
    for (const expected of expectations) {
      if (sameRepository(ref, expected.image) && !runsExpected(ref, expected)) out.push(`runs ${image}, expected ${expected.image} at ${expected.tag}`);
    }
  }
  return out;
}
