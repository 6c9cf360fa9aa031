import { simpleGit } from "simple-git";
import { gitFailed, notAGitRepository } from "../errors.js";

/** What we read from the repository to tag and label an image. */
export interface SourceInfo {
  sha: string;
  gitTags: string[];
  branch: string | null;
  /** Committer date of HEAD (RFC 3339): images built from the same commit get the same `created`. */
  committedAt: string;
  /** Web URL of the origin remote without credentials, or null. */
  sourceUrl: string | null;
}

/**
 * A remote URL as a browsable https URL, with any user info dropped (CI checkouts embed tokens:
 * https://x-access-token:ghs_...@github.com/o/r). `git@host:o/r.git` becomes `https://host/o/r`.
 */
export function publicSourceUrl(remote: string): string | null {
  const value = remote.trim();
  const scp = /^[^@/]+@([^:/]+):(.+?)(?:\.git)?\/?$/.exec(value);
  if (scp) return `https://${scp[1]}/${scp[2]}`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if (!["https:", "http:", "ssh:", "git:"].includes(url.protocol)) return null;
  return `https://${url.hostname}${url.pathname.replace(/\.git\/?$/, "").replace(/\/$/, "")}`;
}

/** CI checkouts are detached: the branch comes from the CI's own variables then. */
function branchFromEnv(env: NodeJS.ProcessEnv): string | null {
  if (env.GITHUB_REF?.startsWith("refs/heads/")) return env.GITHUB_REF.slice("refs/heads/".length);
  if (env.BUILD_SOURCEBRANCH?.startsWith("refs/heads/")) return env.BUILD_SOURCEBRANCH.slice("refs/heads/".length);
  return null;
}

export async function readSource(dir: string, env: NodeJS.ProcessEnv = {}): Promise<SourceInfo> {
  const git = simpleGit({ baseDir: dir });
  let isRepo: boolean;
  try {
    isRepo = await git.checkIsRepo();
  } catch {
    isRepo = false;
  }
  if (!isRepo) throw notAGitRepository(dir);
  try {
    const sha = (await git.revparse(["HEAD"])).trim();
    const tagsText = await git.raw(["tag", "--points-at", "HEAD"]);
    const branchText = (await git.raw(["rev-parse", "--abbrev-ref", "HEAD"])).trim();
    const committedAt = new Date((await git.raw(["show", "-s", "--format=%cI", "HEAD"])).trim()).toISOString();
    const remotes = await git.getRemotes(true);
    const origin = remotes.find((r) => r.name === "origin") ?? remotes[0];
    return {
      sha,
      gitTags: tagsText.split("\n").map((t) => t.trim()).filter(Boolean),
      branch: branchText === "HEAD" ? branchFromEnv(env) : branchText,
      committedAt,
      sourceUrl: origin ? publicSourceUrl(origin.refs.fetch) : null,
    };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw gitFailed("rev-parse HEAD", message, error);
  }
}

/** OCI image annotations (image-spec annotations.md); the same keys are used as Docker labels. */
export function ociAnnotations(input: { source: SourceInfo; service: string; version: string | null }): Record<string, string> {
  const annotations: Record<string, string> = {
    "org.opencontainers.image.revision": input.source.sha,
    "org.opencontainers.image.created": input.source.committedAt,
    "org.opencontainers.image.version": input.version ?? `sha-${input.source.sha.slice(0, 12)}`,
    "org.opencontainers.image.title": input.service,
  };
  if (input.source.sourceUrl) annotations["org.opencontainers.image.source"] = input.source.sourceUrl;
  return annotations;
}
