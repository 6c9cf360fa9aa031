import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { simpleGit } from "simple-git";
import type { SlipwayConfig } from "../config/schema.js";
import type { Revision } from "../git/revision.js";
import { currentRevision, isGitRepository } from "../git/revision.js";
import { baseRefNotFound, gitFailed, notAGitRepository, sourceNotFound, unknownServices } from "../errors.js";
import type { Service, WorkspacePackage } from "./services.js";
import { dockerfileWarnings } from "./dockerfile.js";
import { discoverServices, discoverWorkspacePackages, globMatcher } from "./services.js";
import type { Toolchain } from "./toolchain.js";
import { resolveToolchains } from "./toolchain.js";

/** Root files whose change affects every service: the dependency graph itself. */
export const ROOT_FILES_AFFECTING_ALL = [
  "package.json",
  "package-lock.json",
  "npm-shrinkwrap.json",
  "pnpm-lock.yaml",
  "pnpm-workspace.yaml",
  "yarn.lock",
  ".npmrc",
];
export const DEFAULT_IGNORE = ["**/*.md", "docs/**"];

export interface Plan {
  source: string;
  base: string | null;
  revision: Revision | null;
  services: Service[];
  affected: string[];
  /** Why each affected service is affected: the changed paths, or a sentence when it is not about files. */
  reasons: Record<string, string[]>;
  /** Files changed since base (empty without base). */
  changed: string[];
  /** Problems the build will likely hit, e.g. a Dockerfile copying a path its build context lacks. */
  warnings: string[];
  /** How each service is installed and checked (by service name): manager, lockfile, Node major, commands. */
  toolchains: Record<string, Toolchain>;
}

export interface PlanOptions {
  base?: string;
  /** Restrict the affected set to these services (unknown names are an error). */
  only?: string[];
}

/** Files changed since `base`: committed since the merge-base, plus uncommitted and untracked work. */
export async function changedFilesSince(sourceDir: string, base: string): Promise<string[]> {
  const git = simpleGit({ baseDir: sourceDir });
  if (!(await isGitRepository(git))) throw notAGitRepository(sourceDir);
  let baseSha: string;
  try {
    baseSha = (await git.raw(["rev-parse", "--verify", "--quiet", `${base}^{commit}`])).trim();
  } catch {
    throw baseRefNotFound(base);
  }
  if (!baseSha) throw baseRefNotFound(base);
  try {
    // Three-dot semantics, as in a pull request: what HEAD changed since it forked from base.
    const mergeBase = (await git.raw(["merge-base", baseSha, "HEAD"])).trim();
    const diff = await git.raw(["diff", "--name-only", "--no-renames", "-z", mergeBase, "--"]);
    const untracked = await git.raw(["ls-files", "--others", "--exclude-standard", "-z"]);
    const files = new Set([...diff.split("\0"), ...untracked.split("\0")].filter(Boolean));
    return [...files].sort();
  } catch (error) {
    throw gitFailed("diff", error instanceof Error ? error.message : String(error), error);
  }
}

function within(path: string, dir: string): boolean {
  return dir === "." || dir === "" || path === dir || path.startsWith(`${dir}/`);
}

/**
 * Decides which services a change set affects. Pure: the inputs are the services, the workspace
 * packages and the changed paths.
 */
export function affectedServices(
  services: Service[],
  workspace: WorkspacePackage[],
  changed: string[],
  settings: SlipwayConfig["plan"] = {},
): { affected: string[]; reasons: Record<string, string[]> } {
  const ignored = globMatcher(settings.ignore ?? DEFAULT_IGNORE);
  const affectsAll = globMatcher([...ROOT_FILES_AFFECTING_ALL, ...(settings.affectsAll ?? [])]);
  const reasons: Record<string, string[]> = {};
  const add = (name: string, why: string): void => {
    (reasons[name] ??= []).push(why);
  };
  for (const file of changed) {
    if (ignored(file)) continue;
    if (affectsAll(file)) {
      for (const s of services) add(s.name, file);
      continue;
    }
    for (const s of services) {
      if (within(file, s.path) || file === s.dockerfile) {
        add(s.name, file);
        continue;
      }
      const pkg = workspace.find((p) => s.dependsOn.includes(p.name) && within(file, p.path));
      if (pkg) add(s.name, `${file} (workspace dependency ${pkg.name})`);
    }
  }
  const affected = services.map((s) => s.name).filter((n) => reasons[n] !== undefined);
  return { affected, reasons };
}

export async function plan(sourceDir: string, config: SlipwayConfig, options: PlanOptions = {}): Promise<Plan> {
  const source = resolve(sourceDir);
  if (!existsSync(source) || !statSync(source).isDirectory()) throw sourceNotFound(sourceDir);
  // git runs while the services are discovered (never rejects: null when there is no revision); one turn
  // of the event loop lets simple-git start the processes before the synchronous discovery below.
  const pendingRevision = currentRevision(source);
  await new Promise((resolveTurn) => setImmediate(resolveTurn));
  const services = discoverServices(source, config);
  const names = services.map((s) => s.name);
  if (options.only && options.only.length > 0) {
    const unknown = options.only.filter((n) => !names.includes(n));
    if (unknown.length > 0) throw unknownServices(unknown, names);
  }
  const selected = (n: string): boolean => !options.only || options.only.length === 0 || options.only.includes(n);
  const revision = await pendingRevision;
  const warnings = services.flatMap((s) => dockerfileWarnings(source, s));
  const toolchains = resolveToolchains(source, services, config.build);

  if (options.base === undefined) {
    const affected = names.filter(selected);
    return {
      source,
      base: null,
      revision,
      services,
      affected,
      reasons: Object.fromEntries(affected.map((n) => [n, ["no --base given: every service is built"]])),
      changed: [],
      warnings,
      toolchains,
    };
  }
  const changed = await changedFilesSince(source, options.base);
  const workspace = discoverWorkspacePackages(source);
  const result = affectedServices(services, workspace, changed, config.plan);
  const affected = result.affected.filter(selected);
  return {
    source,
    base: options.base,
    revision,
    services,
    affected,
    reasons: Object.fromEntries(affected.map((n) => [n, result.reasons[n] ?? []])),
    changed,
    warnings,
    toolchains,
  };
}

export function renderPlan(p: Plan): string {
  const rows = p.services.map((s) => [
    p.affected.includes(s.name) ? "*" : " ",
    s.name,
    s.path,
    p.toolchains[s.name]?.label ?? s.packageManager,
    (["lint", "test", "build"] as const).filter((k) => s.scripts[k]).join(",") || "-",
    s.dependsOn.join(",") || "-",
  ]);
  const header = ["", "SERVICE", "PATH", "TOOLCHAIN", "SCRIPTS", "DEPENDS ON"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ").trimEnd();
  const out = [line(header), ...rows.map(line), ""];
  out.push(
    p.base === null
      ? `No --base: all ${p.affected.length} services are affected.`
      : `${p.affected.length} of ${p.services.length} services affected since ${p.base} (${p.changed.length} files changed): ${p.affected.join(", ") || "none"}`,
  );
  for (const warning of p.warnings) out.push(`warning: ${warning}`);
  for (const [name, t] of Object.entries(p.toolchains)) if (t.problem) out.push(`${name}: ${t.problem}`);
  return `${out.join("\n")}\n`;
}

