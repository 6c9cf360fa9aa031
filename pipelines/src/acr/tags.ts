import semver from "semver";
import { acrTagInvalid } from "../errors.js";
import { isValidTag } from "../image/reference.js";

/** Docker's tag grammar (what `docker push` and every registry accept); throws SLIPWAY_ACR_TAG_INVALID naming the tag and why. */
export function validateTag(tag: string): string {
  if (tag.length === 0) throw acrTagInvalid(tag, "is empty");
  if (tag.length > 128) throw acrTagInvalid(tag, `is ${tag.length} characters long (at most 128)`);
  if (!isValidTag(tag)) {
    const bad = [...new Set([...tag].filter((c) => !/[A-Za-z0-9_.-]/.test(c)))];
    throw acrTagInvalid(tag, bad.length > 0 ? `contains ${bad.map((c) => JSON.stringify(c)).join(", ")}` : "must not start with '.' or '-'");
  }
  return tag;
}

export interface TagInput {
  /** Full commit SHA of HEAD. */
  sha: string;
  /** Git tags pointing at HEAD. */
  gitTags: string[];
  service: string;
  /** Current branch name, when known and requested. */
  branch?: string;
  branchTag?: boolean;
  latest?: boolean;
  semver?: boolean;
  extra?: string[];
}

export interface TagPlan {
  /** Every tag to push, immutable first. */
  tags: string[];
  /** Tags that must never move once pushed: sha-<12> and the full release version. */
  immutable: string[];
  /** The release version when HEAD is at a semver tag, else null. */
  version: string | null;
}

/**
 * A git tag names a release of this service when it is `vX.Y.Z`, `X.Y.Z`, `<service>@X.Y.Z` or
 * `<service>/vX.Y.Z` (monorepos tag each service). Build metadata is dropped: Docker tags cannot hold '+'.
 */
export function releaseVersion(gitTags: string[], service: string): semver.SemVer | null {
  const versions: semver.SemVer[] = [];
  for (const tag of gitTags) {
    let rest = tag;
    for (const prefix of [`${service}@`, `${service}/`]) if (rest.startsWith(prefix)) rest = rest.slice(prefix.length);
    if (rest.includes("@") || rest.includes("/")) continue; // another service's tag
    const parsed = semver.parse(rest.startsWith("v") ? rest.slice(1) : rest);
    if (parsed) versions.push(parsed);
  }
  return versions.sort(semver.rcompare)[0] ?? null;
}

/** A branch name made into a tag; never one that could pass for a release, a commit or `latest`. */
export function branchTagFor(branch: string): string {
  let tag = branch
    .replace(/^refs\/heads\//, "")
    .toLowerCase()
    .replace(/[^a-z0-9_.-]+/g, "-")
    .replace(/^[.-]+/, "")
    .replace(/-+$/, "");
  if (tag === "" ) tag = "branch";
  if (tag === "latest" || /^sha-[0-9a-f]{12}$/.test(tag) || /^v?\d+(\.\d+){0,2}([-.].*)?$/.test(tag)) tag = `branch-${tag}`;
  return validateTag(tag.slice(0, 128));
}

/** The tags of one image: `sha-<12>` always; X.Y.Z, X.Y, X at a release; branch and latest only on request. */
export function computeTags(input: TagInput): TagPlan {
  if (!/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(input.sha)) throw acrTagInvalid(input.sha, "is not a full commit SHA");
  const shaTag = `sha-${input.sha.slice(0, 12)}`;
  const immutable = [shaTag];
  const moving: string[] = [];
  const version = input.semver === false ? null : releaseVersion(input.gitTags, input.service);
  if (version) {
    immutable.push(version.format());
    // Pre-releases get only their full version: `1.3` must not point at a release candidate.
    if (version.prerelease.length === 0) moving.push(`${version.major}.${version.minor}`, `${version.major}`);
  }
  if (input.branchTag && input.branch) moving.push(branchTagFor(input.branch));
  if (input.latest) moving.push("latest");
  for (const tag of input.extra ?? []) moving.push(validateTag(tag));
  const tags = [...new Set([...immutable, ...moving])];
  return { tags, immutable, version: version ? version.format() : null };
}
