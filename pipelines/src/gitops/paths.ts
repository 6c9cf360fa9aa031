import { lstatSync, readdirSync, readlinkSync, realpathSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve as resolvePath, sep } from "node:path";
import { gitopsSymlinkEscape } from "../errors.js";

/** Links resolved in one path before we call it a loop (Linux's own limit, MAXSYMLINKS). */
const MAX_LINKS = 40;

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

function repoRelative(root: string, path: string): string {
  return relative(root, path).split(sep).join("/") || ".";
}

/**
 * The real repo-relative path of `file` (repo-relative, `/`-separated) in the checkout at `root`, with
 * every symbolic link on the way resolved by hand, one component at a time, so that no link is ever
 * followed out of the repository: a link whose target lies outside `root` (or inside its `.git`) is
 * refused with SLIPWAY_GITOPS_SYMLINK_ESCAPE naming the link and its target as the repository stores it,
 * before anything reads or writes through it. Components that do not exist yet (a ledger to create) are
 * taken as written. A fresh clone is attacker-controlled content: `apps -> /`, `.slipway -> /home/runner`
 * or `prod.json -> /etc/passwd` must neither be walked, written, nor read and printed.
 */
export function realInside(root: string, file: string): { real: string; links: string[] } {
  const top = realpathSync(root);
  const parts = file.split(/[\\/]/).filter((p) => p !== "" && p !== ".");
  const links: string[] = [];
  let current = top;
  let hops = 0;
  while (parts.length > 0) {
    const part = parts.shift() as string;
    const next = part === ".." ? dirname(current) : join(current, part);
    if (!isInside(top, next)) throw gitopsSymlinkEscape(file, part, "outside");
    let isLink = false;
    try {
      isLink = lstatSync(next).isSymbolicLink();
    } catch {
      // Not there (yet): the rest is a path to create, as written.
    }
    if (!isLink) {
      current = next;
      continue;
    }
    const link = repoRelative(top, next);
    const text = readlinkSync(next);
    if (++hops > MAX_LINKS) throw gitopsSymlinkEscape(link, text, "loop");
    // `current` holds no link (each component was checked), so resolving `..` lexically is what the kernel does.
    const target = resolvePath(current, text);
    if (!isInside(top, target)) throw gitopsSymlinkEscape(link, text, "outside");
    const inside = relative(top, target).split(sep).filter((p) => p !== "");
    if (inside[0] === ".git") throw gitopsSymlinkEscape(link, text, "git");
    links.push(link);
    parts.unshift(...inside);
    current = top;
  }
  return { real: repoRelative(top, current), links };
}

/** Folders a walk skips, as the manifest glob does: git's own, dependencies, dot folders. */
function skipped(name: string): boolean {
  return name === "node_modules" || name.startsWith(".");
}

/**
 * Every symbolic link under `dir` (repo-relative to `root`), without following any: the manifest glob
 * does not follow links (a link to `/` would walk the whole filesystem), so the links it skips are
 * listed here and each is resolved with `realInside`.
 */
export function symlinksUnder(root: string, dir: string): string[] {
  const top = realpathSync(root);
  const found: string[] = [];
  const visit = (absolute: string): void => {
    for (const entry of readdirSync(absolute, { withFileTypes: true })) {
      if (entry.name.startsWith(".")) continue;
      const path = join(absolute, entry.name);
      if (entry.isSymbolicLink()) found.push(repoRelative(top, path));
      else if (entry.isDirectory() && !skipped(entry.name)) visit(path);
    }
  };
  visit(join(top, dir));
  return found.sort();
}
