import type { SimpleGit } from "simple-git";
import { simpleGit } from "simple-git";

/** The commit being built, for OCI labels (revision, created, source). */
export interface Revision {
  sha: string;
  /** Committer date, ISO 8601: reproducible, unlike the build time (images of one commit get one `created`). */
  committedAt: string;
  /** `origin` remote as a web URL, credentials removed; null without one. */
  sourceUrl: string | null;
}

/**
 * A remote URL fit for a public label: scp-style and ssh URLs become https, and any userinfo
 * (a token in `https://x-access-token:...@github.com/...`) is removed. CI checkouts embed tokens.
 */
export function publicSourceUrl(remote: string): string | null {
  const trimmed = remote.trim();
  if (!trimmed) return null;
  const scp = /^(?:[^@/]+@)?([^:/]+):(?!\/)(.+)$/.exec(trimmed);
  if (scp && !/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) return `https://${scp[1]}/${(scp[2] as string).replace(/\/$/, "").replace(/\.git$/, "")}`;
  try {
    const url = new URL(trimmed);
    if (!["https:", "http:", "ssh:", "git:"].includes(url.protocol)) return null;
    url.username = "";
    url.password = "";
    const protocol = url.protocol === "http:" ? "http:" : "https:";
    // An ssh port is not the web server's; an http(s) one is.
    const port = url.protocol === "ssh:" ? "" : url.port ? `:${url.port}` : "";
    return `${protocol}//${url.hostname}${port}${url.pathname.replace(/\/$/, "").replace(/\.git$/, "")}`;
  } catch {
    return null;
  }
}

/** Whether git sees a work tree there; false also when git cannot tell (a missing directory). */
export async function isGitRepository(git: SimpleGit): Promise<boolean> {
  try {
    return await git.checkIsRepo();
  } catch {
    return false;
  }
}

/** HEAD's commit, committer date and public origin URL; throws what git says when there is no commit. */
export async function readRevision(git: SimpleGit): Promise<Revision> {
  // Both git processes at once: each is a few ms of git's own, waited for by every plan and acr tags (issue 16).
  const [log, remote] = await Promise.all([git.raw(["log", "-1", "--format=%H%n%cI", "HEAD"]), git.raw(["remote", "get-url", "origin"]).catch(() => "")]);
  const [sha, committedAt] = log.trim().split("\n");
  if (!sha || !committedAt) throw new Error(`git log -1 HEAD printed no commit`);
  return { sha, committedAt: new Date(committedAt).toISOString(), sourceUrl: publicSourceUrl(remote.trim()) };
}

/** HEAD of the source, or null when it is not a git repository (a tarball, a Dagger directory without .git). */
export async function currentRevision(sourceDir: string): Promise<Revision | null> {
  try {
    // No `rev-parse --is-inside-work-tree` first: outside a work tree `git log` fails as well, and either
    // way there is no revision (one git process fewer on every plan, issue 16).
    return await readRevision(simpleGit({ baseDir: sourceDir }));
  } catch {
    // Not a repository, or no commit yet (fresh `git init`): there is no revision to label with.
    return null;
  }
}
