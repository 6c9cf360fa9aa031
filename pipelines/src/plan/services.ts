import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, join, posix, resolve, sep } from "node:path";
import picomatch from "picomatch";
import { globSync } from "tinyglobby";
import type { SlipwayConfig } from "../config/schema.js";
import { SERVICE_NAME_PATTERN } from "../config/schema.js";
import {
  noServicesFolder,
  noServicesMatched,
  pathEscapesSource,
  serviceDockerfileMissing,
  serviceFolderMissing,
  serviceNameDuplicate,
  serviceNameInvalid,
  servicePackageMissing,
} from "../errors.js";

export const PACKAGE_MANAGERS = ["npm", "pnpm", "yarn"] as const;
export type PackageManager = (typeof PACKAGE_MANAGERS)[number];

export const LIFECYCLE_SCRIPTS = ["lint", "test", "build"] as const;
export type LifecycleScript = (typeof LIFECYCLE_SCRIPTS)[number];

/** A service as the pipeline builds it. Paths are posix and relative to the source root. */
export interface Service {
  name: string;
  path: string;
  dockerfile: string;
  context: string;
  packageName: string | null;
  /** package.json `version`, for the OCI version label; null when absent. */
  version: string | null;
  packageManager: PackageManager;
  scripts: Record<LifecycleScript, boolean>;
  /** Workspace packages this service depends on, directly or through other workspace packages. */
  dependsOn: string[];
}

/** A package of the repository's workspaces (npm/yarn `workspaces`, pnpm-workspace.yaml). */
export interface WorkspacePackage {
  name: string;
  path: string;
  dependencies: string[];
}

interface PackageJson {
  name?: string;
  version?: string;
  packageManager?: string;
  workspaces?: string[] | { packages?: string[] };
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

const LOCKFILES: Record<string, PackageManager> = {
  "package-lock.json": "npm",
  "npm-shrinkwrap.json": "npm",
  "pnpm-lock.yaml": "pnpm",
  "yarn.lock": "yarn",
};

export const DEFAULT_SERVICE_GLOBS = ["services/*"];

function toPosix(path: string): string {
  return path.split(sep).join("/");
}

function isDir(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

function isFile(path: string): boolean {
  return existsSync(path) && statSync(path).isFile();
}

export function readPackageJson(dir: string): PackageJson | null {
  const file = join(dir, "package.json");
  if (!isFile(file)) return null;
  return JSON.parse(readFileSync(file, "utf8")) as PackageJson;
}

function allDependencyNames(pkg: PackageJson): string[] {
  return [
    ...Object.keys(pkg.dependencies ?? {}),
    ...Object.keys(pkg.devDependencies ?? {}),
    ...Object.keys(pkg.peerDependencies ?? {}),
    ...Object.keys(pkg.optionalDependencies ?? {}),
  ];
}

function hasLockfile(dir: string): PackageManager | null {
  for (const [file, manager] of Object.entries(LOCKFILES)) {
    if (isFile(join(dir, file))) return manager;
  }
  return null;
}

/** `packageManager: "pnpm@9.1.0"` (corepack) wins; then the nearest lockfile; npm otherwise. */
export function detectPackageManager(root: string, servicePath: string): PackageManager {
  for (const dir of [join(root, servicePath), root]) {
    const declared = readPackageJson(dir)?.packageManager?.split("@")[0];
    if (declared && (PACKAGE_MANAGERS as readonly string[]).includes(declared)) return declared as PackageManager;
    const byLock = hasLockfile(dir);
    if (byLock) return byLock;
  }
  return "npm";
}

/** Workspace globs of the root: package.json `workspaces` (npm, yarn) or pnpm-workspace.yaml `packages`. */
function workspaceGlobs(root: string): string[] {
  const pkg = readPackageJson(root);
  const fromPkg = Array.isArray(pkg?.workspaces) ? pkg.workspaces : (pkg?.workspaces?.packages ?? []);
  const pnpmFile = join(root, "pnpm-workspace.yaml");
  if (isFile(pnpmFile)) {
    // Only the `packages:` list is read; a tiny line scan avoids a second YAML parse path for one list.
    const lines = readFileSync(pnpmFile, "utf8").split(/\r?\n/);
    const start = lines.findIndex((l) => /^packages:\s*$/.test(l));
    if (start >= 0) {
      for (const line of lines.slice(start + 1)) {
        const m = /^\s+-\s+['"]?([^'"#]+?)['"]?\s*$/.exec(line);
        if (!m) break;
        fromPkg.push(m[1] as string);
      }
    }
  }
  return fromPkg;
}

export function discoverWorkspacePackages(root: string): WorkspacePackage[] {
  const globs = workspaceGlobs(root).filter((g) => !g.startsWith("!"));
  if (globs.length === 0) return [];
  const dirs = globSync(
    globs.map((g) => g.replace(/\/+$/, "")),
    { cwd: root, onlyDirectories: true, ignore: ["**/node_modules/**"], expandDirectories: false },
  );
  const packages: WorkspacePackage[] = [];
  for (const dir of dirs.sort()) {
    const pkg = readPackageJson(join(root, dir));
    if (!pkg?.name) continue;
    packages.push({ name: pkg.name, path: toPosix(dir).replace(/\/$/, ""), dependencies: allDependencyNames(pkg) });
  }
  return packages;
}

/** Workspace packages reachable from `deps` through workspace dependencies, sorted. */
function workspaceClosure(deps: string[], byName: Map<string, WorkspacePackage>, self: string | null): string[] {
  const seen = new Set<string>();
  const queue = deps.filter((d) => byName.has(d));
  while (queue.length > 0) {
    const name = queue.shift() as string;
    if (seen.has(name) || name === self) continue;
    seen.add(name);
    for (const dep of byName.get(name)?.dependencies ?? []) if (byName.has(dep)) queue.push(dep);
  }
  return [...seen].sort();
}

function insideRoot(root: string, rel: string): boolean {
  const abs = resolve(root, rel);
  return abs === root || abs.startsWith(root + sep);
}

interface Candidate {
  name: string;
  path: string;
  dockerfile?: string;
  context?: string;
  where: string;
}

function candidatesFromGlob(root: string, pattern: string): Candidate[] {
  const dirs = globSync(pattern.replace(/\/+$/, ""), {
    cwd: root,
    onlyDirectories: true,
    ignore: ["**/node_modules/**", "**/.git/**"],
    expandDirectories: false,
  });
  return dirs
    .map((d) => toPosix(d).replace(/\/$/, ""))
    .filter((d) => isFile(join(root, d, "package.json")) && isFile(join(root, d, "Dockerfile")))
    .sort()
    .map((d) => ({ name: basename(d), path: d, where: `matched by ${JSON.stringify(pattern)}` }));
}

/**
 * Resolves the services of a repository from its config. Globs select folders that have a
 * package.json and a Dockerfile; explicit entries must be complete or fail with a clear error.
 */
export function discoverServices(sourceDir: string, config: SlipwayConfig): Service[] {
  const root = resolve(sourceDir);
  const entries = config.services;
  const candidates: Candidate[] = [];
  if (entries === undefined || entries.length === 0) {
    if (!isDir(join(root, "services"))) throw noServicesFolder(sourceDir);
    candidates.push(...candidatesFromGlob(root, DEFAULT_SERVICE_GLOBS[0] as string));
    if (candidates.length === 0) throw noServicesMatched(DEFAULT_SERVICE_GLOBS);
  } else {
    const globs: string[] = [];
    for (const [i, entry] of entries.entries()) {
      if (typeof entry === "string") {
        globs.push(entry);
        candidates.push(...candidatesFromGlob(root, entry));
      } else {
        const path = posix.normalize(entry.path).replace(/\/$/, "");
        candidates.push({
          name: entry.name ?? basename(path),
          path,
          dockerfile: entry.dockerfile,
          context: entry.context,
          where: `services[${i}] in slipway.yaml`,
        });
      }
    }
    if (candidates.length === 0) throw noServicesMatched(globs);
  }

  const workspace = discoverWorkspacePackages(root);
  const byName = new Map(workspace.map((p) => [p.name, p]));
  const seenPaths = new Map<string, string>();
  const services: Service[] = [];
  for (const c of candidates) {
    if (!SERVICE_NAME_PATTERN.test(c.name)) throw serviceNameInvalid(c.name, c.where);
    // The same folder matched by two globs is one service; two folders with one name is a conflict.
    const previous = seenPaths.get(c.name);
    if (previous !== undefined) {
      if (previous === c.path) continue;
      throw serviceNameDuplicate(c.name, [previous, c.path]);
    }
    for (const [field, value] of [["path", c.path], ["dockerfile", c.dockerfile], ["context", c.context]] as const) {
      if (value !== undefined && !insideRoot(root, value)) throw pathEscapesSource(c.name, field, value);
    }
    if (!isDir(join(root, c.path))) throw serviceFolderMissing(c.name, c.path);
    const pkg = readPackageJson(join(root, c.path));
    if (pkg === null) throw servicePackageMissing(c.name, c.path);
    const dockerfile = posix.normalize(c.dockerfile ?? posix.join(c.path, "Dockerfile"));
    if (!isFile(join(root, dockerfile))) throw serviceDockerfileMissing(c.name, dockerfile);
    // A service with its own lockfile builds from its folder; a workspace member needs the root lockfile.
    const context = posix.normalize(c.context ?? (hasLockfile(join(root, c.path)) ? c.path : "."));
    seenPaths.set(c.name, c.path);
    services.push({
      name: c.name,
      path: c.path,
      dockerfile,
      context,
      packageName: pkg.name ?? null,
      version: typeof pkg.version === "string" ? pkg.version : null,
      packageManager: detectPackageManager(root, c.path),
      scripts: {
        lint: Boolean(pkg.scripts?.lint),
        test: Boolean(pkg.scripts?.test),
        build: Boolean(pkg.scripts?.build),
      },
      dependsOn: workspaceClosure(allDependencyNames(pkg), byName, pkg.name ?? null),
    });
  }
  return services.sort((a, b) => a.name.localeCompare(b.name));
}

/** Matches repo-relative posix paths against globs (dotfiles included, as in .github/). */
export function globMatcher(globs: string[]): (path: string) => boolean {
  if (globs.length === 0) return () => false;
  return picomatch(globs, { dot: true });
}

