import { simpleGit } from "simple-git";
import { gitFailed, notAGitRepository } from "../errors.js";
import type { Revision } from "../git/revision.js";
import { isGitRepository, readRevision } from "../git/revision.js";

/** What we read from the repository to tag and label an image: the plan's revision, tags at HEAD and the branch. */
export interface SourceInfo extends Revision {
  gitTags: string[];
  branch: string | null;
}

/** CI checkouts are detached: the branch comes from the CI's own variables then. */
function branchFromEnv(env: NodeJS.ProcessEnv): string | null {
  if (env.GITHUB_REF?.startsWith("refs/heads/")) return env.GITHUB_REF.slice("refs/heads/".length);
  if (env.BUILD_SOURCEBRANCH?.startsWith("refs/heads/")) return env.BUILD_SOURCEBRANCH.slice("refs/heads/".length);
  return null;
}

export async function readSource(dir: string, env: NodeJS.ProcessEnv = {}): Promise<SourceInfo> {
  const git = simpleGit({ baseDir: dir });
  try {
    // The git processes at once rather than one after another, and whether this is a repository at all only
    // asked when they fail: one git process fewer in a row before every `acr tags` (issue 16, start-up).
    const [{ sha, committedAt, sourceUrl }, tagsText, branchOutput] = await Promise.all([
      readRevision(git),
      git.raw(["tag", "--points-at", "HEAD"]),
      git.raw(["rev-parse", "--abbrev-ref", "HEAD"]),
    ]);
    const branchText = branchOutput.trim();
    return {
      sha,
      gitTags: tagsText.split("\n").map((t) => t.trim()).filter(Boolean),
      branch: branchText === "HEAD" ? branchFromEnv(env) : branchText,
      committedAt,
      sourceUrl,
    };
  } catch (error) {
    if (!(await isGitRepository(git))) throw notAGitRepository(dir);
    const message = error instanceof Error ? error.message : String(error);
    throw gitFailed("log -1 HEAD", message, error);
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
