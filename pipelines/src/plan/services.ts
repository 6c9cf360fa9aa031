import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, join, posix, resolve, sep } from "node:path";
import picomatch from "picomatch";
import { globSync } from "tinyglobby";
import { parseDocument } from "yaml";
import type { SlipwayConfig } from "../config/schema.js";
import { SERVICE_NAME_PATTERN } from "../config/constants.js";
import {
  noServicesFolder,
  noServicesMatched,
  pathEscapesSource,
  serviceDockerfileMissing,
  serviceFolderMissing,
  serviceNameDuplicate,
  serviceNameInvalid,
  servicePackageMissing,
  workspaceFileInvalid,
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

/**
 * Workspace globs of the root: package.json `workspaces` (npm, yarn; the array or `{ packages }` form) and
 * pnpm-workspace.yaml `packages`, parsed as the YAML it is (comments, flow sequences, quoting): pnpm reads it
 * with a YAML parser too (pnpm `workspace/read-manifest`). A `!glob` excludes what an earlier glob matched.
 */
export function workspaceGlobs(root: string): string[] {
  const pkg = readPackageJson(root);
  const fromPkg = Array.isArray(pkg?.workspaces) ? pkg.workspaces : (pkg?.workspaces?.packages ?? []);
  const globs = fromPkg.filter((g): g is string => typeof g === "string");
  const pnpmFile = join(root, "pnpm-workspace.yaml");
  if (isFile(pnpmFile)) {
    const text = readFileSync(pnpmFile, "utf8");
    const doc = parseDocument(text, { prettyErrors: false });
    if (doc.errors.length > 0) throw workspaceFileInvalid("pnpm-workspace.yaml", doc.errors[0]?.message ?? "invalid YAML");
    const manifest: unknown = doc.toJS();
    const packages = manifest !== null && typeof manifest === "object" ? (manifest as { packages?: unknown }).packages : undefined;
    if (packages !== undefined && packages !== null) {
      if (!Array.isArray(packages) || packages.some((g) => typeof g !== "string")) {
        throw workspaceFileInvalid("pnpm-workspace.yaml", "`packages` must be a list of glob strings");
      }
      globs.push(...(packages as string[]));
    }
  }
  return globs;
}

/** Does `path` (posix, relative to the root) belong to the workspace the globs describe? Later globs win. */
export function inWorkspace(globs: string[], path: string): boolean {
  let member = false;
  for (const glob of globs) {
    const negated = glob.startsWith("!");
    const pattern = glob.replace(/^!/, "").replace(/^\.\//, "").replace(/\/+$/, "");
    if (picomatch(pattern, { dot: true })(path)) member = !negated;
  }
  return member;
}

export function discoverWorkspacePackages(root: string): WorkspacePackage[] {
  const all = workspaceGlobs(root);
  const globs = all.filter((g) => !g.startsWith("!"));
  if (globs.length === 0) return [];
  const dirs = globSync(
    globs.map((g) => g.replace(/^\.\//, "").replace(/\/+$/, "")),
    { cwd: root, onlyDirectories: true, ignore: ["**/node_modules/**"], expandDirectories: false },
  );
  const packages: WorkspacePackage[] = [];
  for (const dir of dirs.map((d) => toPosix(d).replace(/\/$/, "")).filter((d) => inWorkspace(all, d)).sort()) {
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

/**
 * The build context follows how the repository installs the service. A workspace member is installed from
 * the workspace root's lockfile, so its Dockerfile needs the root (`COPY package-lock.json`, the shared
 * packages). Anything else is a project of its own (docker-compose style repositories: each service with its
 * own package.json, lockfile or none) and builds from its own folder, whatever the root holds. A service with
 * its own lockfile inside a workspace is installed on its own too.
 */
function defaultContext(root: string, path: string, workspace: { globs: string[] }): string {
  if (hasLockfile(join(root, path))) return path;
  return inWorkspace(workspace.globs, path) ? "." : path;
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

  const workspace = { globs: workspaceGlobs(root), packages: discoverWorkspacePackages(root) };
  const byName = new Map(workspace.packages.map((p) => [p.name, p]));
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
    const context = posix.normalize(c.context ?? defaultContext(root, c.path, workspace));
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
  // Names are [a-z0-9-] (checked above), where code-unit order is the collation order: localeCompare
  // would load ICU's collator, 25-100 ms of `plan`'s start-up for one sort (issue 16, measured).
  return services.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Matches repo-relative posix paths against globs (dotfiles included, as in .github/). */
export function globMatcher(globs: string[]): (path: string) => boolean {
  if (globs.length === 0) return () => false;
  return picomatch(globs, { dot: true });
}

