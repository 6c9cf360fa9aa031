/**
 * Container image references: `[registry/]path[:tag][@sha256:digest]`.
 *
 * Written by hand: the grammar is small (distribution/reference `reference.go`) and none of our
 * dependencies exports a parser (`@azure/container-registry` works with repository names only).
 */

export interface ImageRef {
  /** The repository as written, e.g. `myacr.azurecr.io/team/api` or `nginx`. */
  name: string;
  tag?: string;
  digest?: string;
}

// distribution/reference: tag = [\w][\w.-]{0,127}; digest = algorithm ":" hex.
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
// Lowercase path components separated by '/', with an optional registry host[:port] first.
const NAME = /^(?:[a-zA-Z0-9.-]+(?::[0-9]+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;

export function isValidTag(tag: string): boolean {
  return TAG.test(tag);
}

export function isValidDigest(digest: string): boolean {
  return DIGEST.test(digest);
}

export function isValidName(name: string): boolean {
  return NAME.test(name);
}

/** Parses a reference; returns null when it is not one (so callers can skip non-image strings). */
export function parseImageRef(text: string): ImageRef | null {
  let rest = text.trim();
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!isValidDigest(digest)) return null;
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  // A colon before the last '/' is a registry port (`localhost:5000/api`), not a tag.
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!isValidTag(tag)) return null;
  }
  if (!isValidName(rest)) return null;
  return { name: rest, ...(tag === undefined ? {} : { tag }), ...(digest === undefined ? {} : { digest }) };
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
