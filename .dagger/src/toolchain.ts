// Pure helpers of the Dagger shell for installs: read the toolchains `slipway plan --json` decided
// (pipelines/src/plan/toolchain.ts) and word an install's failure. No Dagger API here (see plan.ts), so
// they are unit-tested on the host (test/dagger/toolchain.test.ts).
import { describeFailure } from "./report.js";

/** How one service is installed and checked, as the plan says (pipelines/src/plan/toolchain.ts `Toolchain`). */
export type PlannedToolchain = {
  installRoot: string;
  manager: string;
  version: string | null;
  lockfile: string;
  node: { major: number };
  image: string;
  install: string[];
  scripts: { lint: string[]; test: string[]; build: string[] };
  env: Record<string, string>;
  caches: Array<{ volume: string; path: string }>;
  key: string;
  staleMarkers: string[];
  stale: string;
  problem: string | null;
  label: string;
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isArgv(value: unknown): value is string[] {
  return Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === "string" && v !== "");
}

/**
 * Check one toolchain of the plan; every problem is listed with its path. An install command must be an
 * argv array: it runs as is, never through a shell.
 */
export function toolchainProblems(value: unknown, where: string): string[] {
  if (!isRecord(value)) return [`${where}: expected an object`];
  const problems: string[] = [];
  for (const key of ["installRoot", "manager", "lockfile", "image", "key", "label", "stale"] as const) {
    if (typeof value[key] !== "string" || value[key] === "") problems.push(`${where}.${key}: expected a non-empty string`);
  }
  if (!isArgv(value.install)) problems.push(`${where}.install: expected a command (array of strings)`);
  if (!isRecord(value.scripts) || !["lint", "test", "build"].every((s) => isArgv((value.scripts as Record<string, unknown>)[s]))) {
    problems.push(`${where}.scripts: expected lint, test and build commands`);
  }
  if (!isRecord(value.node) || typeof value.node.major !== "number") problems.push(`${where}.node.major: expected a number`);
  if (!isRecord(value.env) || !Object.values(value.env).every((v) => typeof v === "string")) problems.push(`${where}.env: expected string values`);
  if (!Array.isArray(value.caches) || !value.caches.every((c) => isRecord(c) && typeof c.volume === "string" && typeof c.path === "string" && c.path.startsWith("/"))) {
    problems.push(`${where}.caches: expected [{ volume, path (absolute) }]`);
  }
  if (!Array.isArray(value.staleMarkers) || !value.staleMarkers.every((m) => typeof m === "string" && m !== "")) problems.push(`${where}.staleMarkers: expected strings`);
  if (value.problem !== null && typeof value.problem !== "string") problems.push(`${where}.problem: expected a string or null`);
  if (value.version !== null && typeof value.version !== "string") problems.push(`${where}.version: expected a string or null`);
  if (typeof value.installRoot === "string" && (value.installRoot.startsWith("/") || value.installRoot.split("/").includes(".."))) {
    problems.push(`${where}.installRoot: must stay inside the source`);
  }
  return problems;
}

/** The working directory of the install and the scripts inside the build container. */
export function installDir(src: string, toolchain: Pick<PlannedToolchain, "installRoot">): string {
  return toolchain.installRoot === "." ? src : `${src}/${toolchain.installRoot}`;
}

/** The services of the run grouped by install (one per root, manager, version and Node major), in plan order. */
export function installGroups<S extends { name: string }>(services: S[], toolchainOf: (s: S) => PlannedToolchain): Array<{ toolchain: PlannedToolchain; services: S[] }> {
  const groups = new Map<string, { toolchain: PlannedToolchain; services: S[] }>();
  for (const service of services) {
    const toolchain = toolchainOf(service);
    const group = groups.get(toolchain.key) ?? { toolchain, services: [] };
    group.services.push(service);
    groups.set(toolchain.key, group);
  }
  return [...groups.values()];
}

/**
 * Why an install failed, for the summary: where it ran and with what, the plan's SLIPWAY_LOCKFILE_STALE
 * message first when the manager refused an out-of-date lockfile, then the command, exit code and output.
 */
export function installFailure(t: PlannedToolchain, exitCode: number, stdout: string, stderr: string): string {
  const stale = t.staleMarkers.some((m) => stdout.includes(m) || stderr.includes(m));
  const step = `install in ${t.installRoot === "." ? "the repository root" : t.installRoot} (${t.label})`;
  return [...(stale ? [t.stale] : []), describeFailure(step, t.install, exitCode, stdout, stderr)].join("\n");
}

/** The failure of an install that could not start (the plan's problem, e.g. SLIPWAY_LOCKFILE_MISSING). */
export function installNotStarted(t: PlannedToolchain): string {
  return `install in ${t.installRoot === "." ? "the repository root" : t.installRoot} (${t.label}) not started:\n${t.problem ?? ""}`;
}

/**
 * What a plan without toolchains (a CLI from before issue 19) meant: one `npm ci` at the source root on
 * Node 20, scripts with `npm run <script> -w <path>`.
 */
export function legacyToolchain(service: { path: string }): PlannedToolchain {
  return {
    installRoot: ".",
    manager: "npm",
    version: null,
    lockfile: "package-lock.json",
    node: { major: 20 },
    image: "node:20-bookworm-slim",
    install: ["npm", "ci", "--no-audit", "--no-fund"],
    scripts: {
      lint: ["npm", "run", "lint", "-w", service.path],
      test: ["npm", "run", "test", "-w", service.path],
      build: ["npm", "run", "build", "-w", service.path],
    },
    env: { CI: "true" },
    caches: [{ volume: "slipway-npm-node20", path: "/home/node/.npm" }],
    key: ".|npm@default|node20",
    staleMarkers: ["are in sync. Please update your lock file"],
    stale: "SLIPWAY_LOCKFILE_STALE: package-lock.json is out of date with the package.json files it locks",
    problem: null,
    label: "npm (the image's), Node 20 (default)",
  };
}
