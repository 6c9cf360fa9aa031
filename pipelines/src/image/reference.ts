/**
 * Container image references: `[registry[:port]/]path[:tag][@sha256:digest]`, the grammar of
 * distribution/reference (`reference/regexp.go`). One module for every area that reads or checks
 * references: GitOps manifests, rollout expectations and pod images, ACR tags and repositories.
 *
 * Written by hand: the grammar is small and none of our dependencies exports a parser
 * (`@azure/container-registry` works with repository names only).
 */

export interface ImageRef {
  /** The repository as written, e.g. `myacr.azurecr.io/team/api` or `nginx`. */
  name: string;
  tag?: string;
  digest?: string;
}

// tag = [\w][\w.-]{0,127}; digest = algorithm ":" hex (we only write and accept sha256).
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
// A path component: lowercase alphanumerics joined by '.', '_', '__' or any run of '-'.
const COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
// Lowercase path components separated by '/' (an ACR repository), without a registry host.
const REPOSITORY_PATH = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
// The same with an optional registry host[:port] first (a host may hold capitals; the path may not).
const NAME = new RegExp(`^(?:[a-zA-Z0-9.-]+(?::[0-9]+)?/)?${COMPONENT}(?:/${COMPONENT})*$`);

export function isValidTag(tag: string): boolean {
  return TAG.test(tag);
}

export function isValidDigest(digest: string): boolean {
  return DIGEST.test(digest);
}

/** An image name without tag or digest: `nginx`, `team/api`, `localhost:5000/team/api`. */
export function isValidName(name: string): boolean {
  return NAME.test(name);
}

/** A repository path inside one registry: `team/api` (no host, no tag). */
export function isValidRepositoryPath(path: string): boolean {
  return REPOSITORY_PATH.test(path);
}

/**
 * Splits a reference at its digest ('@') and tag (the last ':' after the last '/') without judging
 * the parts: for references someone else already accepted, such as the images of a running pod
 * (the kubelet reports a bad one as InvalidImageName; we only compare).
 */
export function splitImageRef(text: string): ImageRef {
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  // A colon before the last '/' is a registry port (`localhost:5000/api`), not a tag.
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  return { name: rest, ...(tag === undefined ? {} : { tag }), ...(digest === undefined ? {} : { digest }) };
}

/** Parses and checks a reference; returns null when it is not one (so callers can skip non-image strings). */
export function parseImageRef(text: string): ImageRef | null {
  const ref = splitImageRef(text.trim());
  if (ref.digest !== undefined && !isValidDigest(ref.digest)) return null;
  if (ref.tag !== undefined && !isValidTag(ref.tag)) return null;
  if (!isValidName(ref.name)) return null;
  return ref;
}

export function formatImageRef(ref: ImageRef): string {
  return `${ref.name}${ref.tag ? `:${ref.tag}` : ""}${ref.digest ? `@${ref.digest}` : ""}`;
}

/**
 * The name Docker would resolve: `nginx`, `library/nginx` and `docker.io/library/nginx` are one image.
 * Used only to compare names; what we write keeps the spelling found in the file.
 */
export function normalizeName(name: string): string {
  let n = name;
  for (const prefix of ["index.docker.io/", "registry-1.docker.io/", "docker.io/"]) {
    if (n.startsWith(prefix)) n = n.slice(prefix.length);
  }
  if (n.startsWith("library/")) n = n.slice("library/".length);
  return n;
}

export function sameImage(a: string, b: string): boolean {
  return normalizeName(a) === normalizeName(b);
}

/**
 * The part of a name that every spelling of it contains (no registry host), used to screen files
 * cheaply before parsing: Helm values often split `registry:` and `repository:`.
 */
export function screenToken(name: string): string {
  const n = normalizeName(name);
  const slash = n.indexOf("/");
  if (slash < 0) return n;
  const first = n.slice(0, slash);
  const isHost = first.includes(".") || first.includes(":") || first === "localhost";
  return isHost ? n.slice(slash + 1) : n;
}
