import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach } from "vitest";
import { git, removeTree, tempRepo } from "./repo.js";

export interface Scratch {
  /** A throwaway directory. */
  tmp(prefix: string): string;
  /** A bare repository (what GitHub or Azure Repos hold) whose main branch has `files`. */
  bareRemote(files: Record<string, string>): string;
}

/** Throwaway directories and GitOps remotes, removed after each test. Call once at the top of a test file. */
export function useScratch(): Scratch {
  const dirs: string[] = [];
  afterEach(() => {
    while (dirs.length) removeTree(dirs.pop() as string);
  });
  function tmp(prefix: string): string {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(dir);
    return dir;
  }
  function bareRemote(files: Record<string, string>): string {
    const work = tempRepo(files);
    dirs.push(work);
    const bare = join(tmp("slipway-remote-"), "gitops.git");
    git(work, "clone", "-q", "--bare", work, bare);
    return bare;
  }
  return { tmp, bareRemote };
}

/** The commit at the tip of the remote's main. */
export function remoteTip(bare: string): string {
  return git(bare, "rev-parse", "main").trim();
}

/** Reads a file at the tip of the remote's main. */
export function remoteFile(bare: string, path: string): string {
  return git(bare, "show", `main:${path}`);
}

/** The remote's main, newest first, one `commit parents...` line a commit. */
export function remoteLog(bare: string): string[] {
  return git(bare, "log", "--format=%H %P", "main").trim().split("\n");
}
