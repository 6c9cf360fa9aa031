// How each service is installed and checked: where the install runs, with which package manager at which
// version, from which lockfile, on which Node.js major, with which commands and caches. Decided here, from
// the repository's own files, so the Dagger module only runs what `slipway plan --json` says (DESIGN.md).
import { existsSync, readFileSync, statSync } from "node:fs";
import { join, posix } from "node:path";
import semver from "semver";
import { parseDocument } from "yaml";
import type { BuildSettings, NodeMajor } from "../config/schema.js";
import { NODE_MAJORS } from "../config/constants.js";
import {
  buildServicesUnknown,
  lockfileMissing,
  lockfileStale,
  nodeVersionInvalid,
  nodeVersionUnsupported,
  packageManagerInvalid,
  workspaceMemberUnnamed,
  yarnBerryUnpinned,
} from "../errors.js";
import type { LifecycleScript, PackageManager, Service } from "./services.js";
import { detectPackageManager, inWorkspace, LIFECYCLE_SCRIPTS, readPackageJson, workspaceGlobs } from "./services.js";

export { NODE_MAJORS };

/** What a service is built on when nothing names a Node.js version: the Dockerfiles' `ARG NODE_IMAGE` default. */
export const DEFAULT_NODE_MAJOR: NodeMajor = 20;

/** The manager as it behaves: Yarn 1 and Yarn 2+ differ in flags, lockfile format and cache. */
export type ManagerFlavor = "npm" | "pnpm" | "yarn-classic" | "yarn-berry";

/** Where the Node.js major came from, in order of precedence (README "Supported repositories"). */
export type NodeSource = "slipway.yaml build.services" | "engines.node" | ".nvmrc" | ".node-version" | "volta.node" | "slipway.yaml build.node" | "default";

export interface Toolchain {
  /** Where the install and the scripts run, relative to the source root: "." for workspace members, else the service folder. */
  installRoot: string;
  /** workspace: a member of the install root's workspace; standalone: a project of its own. */
  layout: "workspace" | "standalone";
  manager: PackageManager;
  flavor: ManagerFlavor;
  /** The version `packageManager` pins (corepack); null when the image's npm or corepack's default is used. */
  version: string | null;
  /** The lockfile the install is frozen to, relative to the source root. */
  lockfile: string;
  node: { major: NodeMajor; source: NodeSource; file: string | null; value: string | null };
  /** The official base image of the build container. */
  image: string;
  /** argv of the frozen install, run in installRoot. */
  install: string[];
  /** argv per lifecycle script, run in installRoot (whether the script exists is `Service.scripts`). */
  scripts: Record<LifecycleScript, string[]>;
  /** Environment of every command (corepack: no prompt, never pin by itself). */
  env: Record<string, string>;
  /** Cache volumes: one per manager and Node major, so one engine shared by many repositories reuses them safely. */
  caches: Array<{ volume: string; path: string }>;
  /** Services with the same key share one install (same root, manager, version and Node major). */
  key: string;
  /** When the install fails and its output carries one of these, the lockfile is out of date: `stale` is the message. */
  staleMarkers: string[];
  stale: string;
  /** Why the install cannot even start (no lockfile): it fails with this message, naming the file. Null when it can. */
  problem: string | null;
  /** What people read: "pnpm 9.15.9, Node 22 (services/worker/.nvmrc)". */
  label: string;
}

/** The build container's home: the official images' unprivileged `node` user. */
const HOME = "/home/node";

const LOCKFILES: Record<ManagerFlavor, string[]> = {
  npm: ["package-lock.json", "npm-shrinkwrap.json"],
  pnpm: ["pnpm-lock.yaml"],
  "yarn-classic": ["yarn.lock"],
  "yarn-berry": ["yarn.lock"],
};

/** The frozen install: each manager refuses to create or rewrite the lockfile and fails naming it. */
const INSTALL: Record<ManagerFlavor, string[]> = {
  npm: ["ci", "--no-audit", "--no-fund"],
  pnpm: ["install", "--frozen-lockfile"],
  "yarn-classic": ["install", "--frozen-lockfile", "--non-interactive"],
  "yarn-berry": ["install", "--immutable"],
};

/**
 * Each download cache is a folder directly under the home, so that mounting it creates no root-owned
 * parent folder the `node` user would later need to write in (pnpm's ~/.local/state, Yarn's ~/.yarn).
 * npm's default (~/.npm) is already there; the others are told by flag or by their documented variable.
 */
const CACHES: Record<ManagerFlavor, { path: string; installFlags: string[]; env: Record<string, string> }> = {
  npm: { path: `${HOME}/.npm`, installFlags: [], env: {} },
  pnpm: { path: `${HOME}/.pnpm-store`, installFlags: ["--store-dir", `${HOME}/.pnpm-store`], env: {} },
  "yarn-classic": { path: `${HOME}/.yarn-cache`, installFlags: ["--cache-folder", `${HOME}/.yarn-cache`], env: {} },
  // Yarn 2+ reads every setting from YARN_<NAME> (yarnpkg.com/configuration/yarnrc): its global cache lives in globalFolder.
  "yarn-berry": { path: `${HOME}/.yarn-berry`, installFlags: [], env: { YARN_GLOBAL_FOLDER: `${HOME}/.yarn-berry` } },
};
const COREPACK_HOME = `${HOME}/.corepack`;

/** What a developer runs to bring the lockfile up to date. */
const UPDATE: Record<ManagerFlavor, string[]> = {
  npm: ["npm", "install"],
  pnpm: ["pnpm", "install"],
  "yarn-classic": ["yarn", "install"],
  "yarn-berry": ["yarn", "install"],
};

/**
 * What each manager prints when the lockfile does not match the package.json files, in frozen mode:
 * npm `ci` (lib/commands/ci.js), pnpm ERR_PNPM_OUTDATED_LOCKFILE, Yarn 1 (src/cli/commands/install.js),
 * Yarn 2+ YN0028 FROZEN_LOCKFILE_EXCEPTION.
 */
const STALE_MARKERS: Record<ManagerFlavor, string[]> = {
  npm: ["are in sync. Please update your lock file"],
  pnpm: ["ERR_PNPM_OUTDATED_LOCKFILE"],
  "yarn-classic": ["Your lockfile needs to be updated"],
  "yarn-berry": ["YN0028"],
};

/** nvm's LTS codenames (nodejs/Release schedule.json). */
const LTS_CODENAMES: Record<string, NodeMajor> = { hydrogen: 18, iron: 20, jod: 22, krypton: 24 };

function isFile(path: string): boolean {
  return existsSync(path) && statSync(path).isFile();
}

function rel(dir: string, file: string): string {
  return dir === "." ? file : posix.join(dir, file);
}

/** `packageManager: "pnpm@9.15.9+sha512.…"` as corepack reads it: name, exact version, optional hash. */
export function parsePackageManagerField(value: string, file: string): { manager: PackageManager; version: string } {
  const match = /^(npm|pnpm|yarn)@([^+]+)(\+[a-z0-9]+\.[a-f0-9]+)?$/.exec(value);
  if (!match || semver.valid(match[2]) === null) throw packageManagerInvalid(file, value);
  return { manager: match[1] as PackageManager, version: match[2] as string };
}

/**
 * The highest supported Node.js major a version, range or nvm alias allows; null when none does.
 * Ranges are semver's (engines.node is one: docs.npmjs.com/cli/configuring-npm/package-json#engines).
 */
export function nodeMajorFor(value: string): NodeMajor | null | "invalid" {
  const text = value.trim().toLowerCase();
  const descending = [...NODE_MAJORS].sort((a, b) => b - a);
  if (["node", "stable", "latest", "current", "lts/*", "lts"].includes(text)) return descending[0] as NodeMajor;
  if (text.startsWith("lts/")) return LTS_CODENAMES[text.slice(4)] ?? "invalid";
  const range = semver.validRange(text.replace(/^v(?=\d)/, ""));
  if (range === null) return "invalid";
  for (const major of descending) {
    if (semver.intersects(range, `>=${major}.0.0 <${major + 1}.0.0`)) return major;
  }
  return null;
}

type Declared = { source: NodeSource; file: string; value: string };

/** The Node.js versions a folder declares, in precedence order: engines.node, .nvmrc, .node-version, volta.node. */
function declaredNode(root: string, dir: string): Declared[] {
  const found: Declared[] = [];
  const pkg = readPackageJson(join(root, dir)) as { engines?: { node?: unknown }; volta?: { node?: unknown } } | null;
  if (typeof pkg?.engines?.node === "string") found.push({ source: "engines.node", file: rel(dir, "package.json"), value: pkg.engines.node });
  for (const name of [".nvmrc", ".node-version"] as const) {
    const path = join(root, dir, name);
    if (!isFile(path)) continue;
    // Both hold one version on their first line; nvm allows comments after it.
    const value = (readFileSync(path, "utf8").split("\n")[0] ?? "").replace(/#.*/, "").trim();
    if (value) found.push({ source: name, file: rel(dir, name), value });
  }
  if (typeof pkg?.volta?.node === "string") found.push({ source: "volta.node", file: rel(dir, "package.json"), value: pkg.volta.node });
  return found;
}

/**
 * The Node.js major of a service, first found wins:
 * 1. slipway.yaml `build.services.<name>.node`;
 * 2. the service folder's engines.node, .nvmrc, .node-version, volta.node (in that order);
 * 3. the same in the install root (the workspace root), then in the repository root;
 * 4. slipway.yaml `build.node`; 5. Node.js 20.
 * `packageManager` pins the manager, never Node.js.
 */
export function resolveNode(root: string, service: Service, installRoot: string, settings: BuildSettings = {}): Toolchain["node"] {
  const override = settings.services?.[service.name]?.node;
  if (override !== undefined) return { major: override, source: "slipway.yaml build.services", file: "slipway.yaml", value: String(override) };
  for (const dir of [...new Set([service.path, installRoot, "."])]) {
    const [first] = declaredNode(root, dir);
    if (!first) continue;
    const where = first.source === "engines.node" || first.source === "volta.node" ? `${first.file} ${first.source}` : first.file;
    const major = nodeMajorFor(first.value);
    if (major === "invalid") throw nodeVersionInvalid(where, first.value, service.name);
    if (major === null) throw nodeVersionUnsupported(where, first.value, NODE_MAJORS, service.name);
    return { major, source: first.source, file: first.file, value: first.value };
  }
  if (settings.node !== undefined) return { major: settings.node, source: "slipway.yaml build.node", file: "slipway.yaml", value: String(settings.node) };
  return { major: DEFAULT_NODE_MAJOR, source: "default", file: null, value: null };
}

/** Workspace members install from the workspace root; a folder with its own lockfile, or outside any workspace, from itself. */
export function installRootOf(root: string, path: string, globs: string[]): { installRoot: string; layout: Toolchain["layout"] } {
  const ownLock = Object.values(LOCKFILES).flat().some((f) => isFile(join(root, path, f)));
  if (!ownLock && readPackageJson(root) !== null && inWorkspace(globs, path)) return { installRoot: ".", layout: "workspace" };
  return { installRoot: path, layout: "standalone" };
}

/** Yarn 2+ writes YAML with a `__metadata` block; Yarn 1 its own format with a `# yarn lockfile v1` header. */
function isBerryLockfile(path: string): boolean {
  return isFile(path) && /^__metadata:/m.test(readFileSync(path, "utf8"));
}

function yarnPathOf(root: string, dir: string): string | null {
  const file = join(root, dir, ".yarnrc.yml");
  if (!isFile(file)) return null;
  const doc = parseDocument(readFileSync(file, "utf8"), { prettyErrors: false });
  const value: unknown = doc.errors.length === 0 ? (doc.toJS() as { yarnPath?: unknown } | null)?.yarnPath : undefined;
  return typeof value === "string" ? value : null;
}

function managerAt(root: string, installRoot: string): { manager: PackageManager; version: string | null; problem: string | null; flavor: ManagerFlavor } {
  const file = rel(installRoot, "package.json");
  const field = readPackageJson(join(root, installRoot))?.packageManager;
  const pinned = typeof field === "string" ? parsePackageManagerField(field, file) : null;
  const manager = pinned?.manager ?? detectPackageManager(root, installRoot);
  if (manager !== "yarn") return { manager, version: pinned?.version ?? null, problem: null, flavor: manager };
  const lockPath = join(root, installRoot, "yarn.lock");
  if (pinned) return { manager, version: pinned.version, problem: null, flavor: semver.major(pinned.version) >= 2 ? "yarn-berry" : "yarn-classic" };
  const berry = isBerryLockfile(lockPath) || isFile(join(root, installRoot, ".yarnrc.yml"));
  if (!berry) return { manager, version: null, problem: null, flavor: "yarn-classic" };
  // Unpinned Yarn 2+: only a checked-in release (yarnPath) tells which Yarn to run; corepack's default is Yarn 1.
  const yarnPath = yarnPathOf(root, installRoot);
  const version = yarnPath ? (/yarn-(\d+\.\d+\.\d+[^/]*?)\.c?js$/.exec(yarnPath)?.[1] ?? null) : null;
  const problem = yarnPath ? null : yarnBerryUnpinned(file, rel(installRoot, "yarn.lock")).render();
  return { manager, version, problem, flavor: "yarn-berry" };
}

/** The command that runs the manager: npm from the image unless pinned, pnpm and Yarn always through corepack. */
function runner(manager: PackageManager, version: string | null): string[] {
  return manager === "npm" && version === null ? ["npm"] : ["corepack", manager];
}

function scriptCommand(flavor: ManagerFlavor, run: string[], layout: Toolchain["layout"], service: Service, script: LifecycleScript): string[] {
  if (layout === "standalone") return [...run, "run", script];
  if (flavor === "npm") return [...run, "run", script, "-w", service.path];
  if (flavor === "pnpm") return [...run, "--filter", service.packageName ?? `./${service.path}`, "run", script];
  return [...run, "workspace", service.packageName as string, "run", script];
}

/** The toolchain of each service, by service name. Throws on a Node.js version no supported major satisfies. */
export function resolveToolchains(root: string, services: Service[], settings: BuildSettings = {}): Record<string, Toolchain> {
  const unknown = Object.keys(settings.services ?? {}).filter((name) => !services.some((s) => s.name === name));
  if (unknown.length > 0) throw buildServicesUnknown(unknown, services.map((s) => s.name));
  const globs = workspaceGlobs(root);
  const out: Record<string, Toolchain> = {};
  for (const service of services) {
    const { installRoot, layout } = installRootOf(root, service.path, globs);
    const { manager, version, flavor, problem: pinProblem } = managerAt(root, installRoot);
    if (layout === "workspace" && manager === "yarn" && !service.packageName) throw workspaceMemberUnnamed(service.name, service.path, "yarn");
    const node = resolveNode(root, service, installRoot, settings);
    const lockfile = LOCKFILES[flavor].find((f) => isFile(join(root, installRoot, f))) ?? (LOCKFILES[flavor][0] as string);
    const lockfilePath = rel(installRoot, lockfile);
    const missing = isFile(join(root, installRoot, lockfile)) ? null : lockfileMissing(lockfilePath, manager, installRoot, UPDATE[flavor]).render();
    const run = runner(manager, version);
    const cacheKey = `${flavor === "yarn-classic" || flavor === "yarn-berry" ? flavor : manager}-node${node.major}`;
    const toolchain: Omit<Toolchain, "label"> = {
      installRoot,
      layout,
      manager,
      flavor,
      version,
      lockfile: lockfilePath,
      node,
      image: `node:${node.major}-bookworm-slim`,
      install: [...run, ...INSTALL[flavor], ...CACHES[flavor].installFlags],
      scripts: Object.fromEntries(LIFECYCLE_SCRIPTS.map((s) => [s, scriptCommand(flavor, run, layout, service, s)])) as Record<LifecycleScript, string[]>,
      env: {
        CI: "true",
        COREPACK_HOME,
        COREPACK_ENABLE_DOWNLOAD_PROMPT: "0",
        COREPACK_ENABLE_AUTO_PIN: "0",
        // A mirror for the managers themselves (Yarn 2+ otherwise comes from repo.yarnpkg.com).
        ...(run[0] === "corepack" && settings.corepackRegistry ? { COREPACK_NPM_REGISTRY: settings.corepackRegistry } : {}),
        ...CACHES[flavor].env,
      },
      caches: [
        { volume: `slipway-${cacheKey}`, path: CACHES[flavor].path },
        ...(run[0] === "corepack" ? [{ volume: `slipway-corepack-node${node.major}`, path: COREPACK_HOME }] : []),
      ],
      key: `${installRoot}|${flavor}@${version ?? "default"}|node${node.major}`,
      staleMarkers: STALE_MARKERS[flavor],
      stale: lockfileStale(lockfilePath, installRoot, UPDATE[flavor]).render(),
      problem: pinProblem ?? missing,
    };
    out[service.name] = { ...toolchain, label: describeToolchain(toolchain) };
  }
  return out;
}

/** One line for people: "pnpm 9.15.9, Node 22 (services/worker/.nvmrc)". */
export function describeToolchain(t: Omit<Toolchain, "label">): string {
  const version = t.version ?? (t.manager === "npm" ? "(the image's)" : t.flavor === "yarn-classic" ? "1 (corepack's default)" : "(corepack's default)");
  const from = t.node.file === null ? "default" : t.node.file === "slipway.yaml" ? `slipway.yaml ${t.node.source.replace("slipway.yaml ", "")}` : t.node.source === "engines.node" || t.node.source === "volta.node" ? `${t.node.file} ${t.node.source}` : t.node.file;
  return `${t.manager} ${version}, Node ${t.node.major} (${from})`;
}
