// Pure helpers of the Dagger shell: read the plan the `slipway` CLI prints and turn it into the list
// of containers to compose. No Dagger API here, so the functions are unit-tested on the host
// (test/dagger/plan.test.ts) and the module itself needs no runtime dependency (DESIGN.md).
// Every decision stays in the CLI: this file only validates and reshapes what the CLI decided.
import { posix } from "node:path";
import type { PlannedToolchain } from "./toolchain.js";
import { legacyToolchain, toolchainProblems } from "./toolchain.js";

/**
 * One service as `slipway plan --json` describes it (pipelines/src/plan/services.ts `Service`).
 * Paths are posix, relative to the source root.
 */
export type PlannedService = {
  name: string;
  path: string;
  dockerfile: string;
  context: string;
  packageName: string;
  packageManager: string;
  scripts: { lint: boolean; test: boolean; build: boolean };
  dependsOn: string[];
  /** Optional: the service version for the OCI `version` label (e.g. its package.json version). */
  version?: string;
};

/** The source revision for OCI labels (`revision` in the plan; null outside a git repository). */
export type PlannedRevision = { sha?: string; committedAt?: string; sourceUrl?: string | null };

/** The output of `slipway plan --source /src [--base REF] --json`. */
export type Plan = {
  source: string;
  base: string | null;
  services: PlannedService[];
  affected: string[];
  reasons: Record<string, string[]>;
  revision?: PlannedRevision;
  /** What the plan warns about (a Dockerfile copying what its context lacks); [] from an older CLI. */
  warnings: string[];
  /** How each service is installed and checked, by service name (absent from a CLI before issue 19). */
  toolchains?: Record<string, PlannedToolchain>;
};

/** The toolchain the plan gives a service; a plan without one means what it meant before: npm at the root. */
export function toolchainOf(plan: Pick<Plan, "toolchains">, service: PlannedService): PlannedToolchain {
  return plan.toolchains?.[service.name] ?? legacyToolchain(service);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === "string");
}

/**
 * Parse and check the plan JSON. Reports every problem at once; a plan we cannot read is a
 * terminal error, never a partial run.
 */
export function parsePlan(text: string): Plan {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    const start = text.trim().slice(0, 200);
    throw new Error(
      `SLIPWAY_PLAN_INVALID: \`slipway plan --json\` did not print JSON (${(error as Error).message}); output starts with: ${JSON.stringify(start)}`,
    );
  }
  const problems: string[] = [];
  if (!isRecord(raw)) {
    throw new Error("SLIPWAY_PLAN_INVALID: the plan is not a JSON object");
  }
  if (typeof raw.source !== "string") problems.push("source: expected a string");
  if (raw.base !== null && raw.base !== undefined && typeof raw.base !== "string") {
    problems.push("base: expected a string or null");
  }
  if (!isStringArray(raw.affected)) problems.push("affected: expected an array of service names");
  if (raw.reasons !== undefined && !isRecord(raw.reasons)) problems.push("reasons: expected an object");
  if (raw.warnings !== undefined && !isStringArray(raw.warnings)) problems.push("warnings: expected an array of strings");
  if (!Array.isArray(raw.services)) {
    problems.push("services: expected an array");
  } else {
    raw.services.forEach((service: unknown, i) => {
      if (!isRecord(service)) {
        problems.push(`services[${i}]: expected an object`);
        return;
      }
      for (const key of ["name", "path", "dockerfile", "context"] as const) {
        if (typeof service[key] !== "string" || service[key] === "") {
          problems.push(`services[${i}].${key}: expected a non-empty string`);
        }
      }
      if (!isRecord(service.scripts)) problems.push(`services[${i}].scripts: expected an object`);
      if (service.version !== undefined && service.version !== null && typeof service.version !== "string") {
        problems.push(`services[${i}].version: expected a string or null`);
      }
    });
  }
  if (raw.toolchains !== undefined) {
    if (!isRecord(raw.toolchains)) problems.push("toolchains: expected an object");
    else for (const [name, toolchain] of Object.entries(raw.toolchains)) problems.push(...toolchainProblems(toolchain, `toolchains.${name}`));
  }
  if (problems.length === 0) {
    const names = new Set((raw.services as Array<{ name: string }>).map((s) => s.name));
    for (const name of raw.affected as string[]) {
      if (!names.has(name)) problems.push(`affected: "${name}" is not one of the planned services`);
    }
    // A plan that has toolchains has one for every service: none may fall back to the pre-issue-19 default.
    if (isRecord(raw.toolchains)) {
      for (const name of names) if (!(name in raw.toolchains)) problems.push(`toolchains: no toolchain for service "${name}"`);
    }
  }
  if (problems.length > 0) {
    throw new Error(`SLIPWAY_PLAN_INVALID: the plan printed by \`slipway plan --json\` is not usable:\n  - ${problems.join("\n  - ")}`);
  }
  const services = (raw.services as Array<Record<string, unknown>>).map((s): PlannedService => {
    const scripts = s.scripts as Record<string, unknown>;
    return {
      name: s.name as string,
      path: s.path as string,
      dockerfile: s.dockerfile as string,
      context: s.context as string,
      packageName: typeof s.packageName === "string" ? s.packageName : "",
      packageManager: typeof s.packageManager === "string" ? s.packageManager : "npm",
      scripts: { lint: scripts.lint === true, test: scripts.test === true, build: scripts.build === true },
      dependsOn: isStringArray(s.dependsOn) ? s.dependsOn : [],
      ...(typeof s.version === "string" ? { version: s.version } : {}),
    };
  });
  return {
    source: raw.source as string,
    base: typeof raw.base === "string" ? raw.base : null,
    services,
    affected: raw.affected as string[],
    reasons: isRecord(raw.reasons) ? (raw.reasons as Record<string, string[]>) : {},
    warnings: isStringArray(raw.warnings) ? raw.warnings : [],
    ...(isRecord(raw.toolchains) ? { toolchains: raw.toolchains as Record<string, PlannedToolchain> } : {}),
    ...(isRecord(raw.revision) ? { revision: raw.revision as PlannedRevision } : {}),
  };
}

/** Which planned services a run covers, and which planned services it leaves out as unaffected. */
export type Selection = { selected: PlannedService[]; unaffected: string[] };

/**
 * Narrow the plan to the services a run should cover.
 *
 * - scope "affected" (ci): the services the CLI marked affected since the base;
 * - scope "all" (test, build): every planned service.
 * `requested`, when given, further narrows to those names; a name the plan does not know is an error
 * that lists the known names (a typo must not turn into a green run that checked nothing).
 */
export function selectServices(plan: Plan, scope: "affected" | "all", requested?: string[]): Selection {
  const known = plan.services.map((s) => s.name);
  const wanted = requested && requested.length > 0 ? [...new Set(requested)] : undefined;
  if (wanted) {
    const unknown = wanted.filter((name) => !known.includes(name));
    if (unknown.length > 0) {
      // Same code and wording as the CLI's catalog (pipelines/src/errors.ts), which normally reports it first.
      const list = unknown.map((n) => `"${n}"`).join(", ");
      throw new Error(
        `SLIPWAY_UNKNOWN_SERVICE: unknown service${unknown.length === 1 ? "" : "s"} ${list}\nKnown services: ${known.join(", ") || "(none)"}.`,
      );
    }
  }
  const inScope = (s: PlannedService) => scope === "all" || plan.affected.includes(s.name);
  const considered = plan.services.filter((s) => !wanted || wanted.includes(s.name));
  return {
    selected: considered.filter(inScope),
    unaffected: considered.filter((s) => !inScope(s)).map((s) => s.name),
  };
}

/**
 * The Dockerfile path as `Directory.dockerBuild` wants it: relative to the build context.
 * The plan gives both relative to the source root.
 */
export function dockerfileInContext(service: PlannedService): string {
  const context = posix.normalize(service.context);
  const dockerfile = posix.normalize(service.dockerfile);
  const relative = posix.relative(context, dockerfile);
  if (relative === "" || relative.startsWith("../") || relative === ".." || posix.isAbsolute(relative)) {
    throw new Error(
      `SLIPWAY_SERVICE_INVALID: service "${service.name}": Dockerfile ${dockerfile} is not inside its build context ${context}`,
    );
  }
  return relative;
}

/** Build arguments every service image receives (a Dockerfile may ignore them). */
export function serviceBuildArgs(service: PlannedService): Array<{ name: string; value: string }> {
  return [
    { name: "SERVICE_NAME", value: service.name },
    { name: "SERVICE_PATH", value: service.path },
    { name: "SERVICE_PACKAGE", value: service.packageName },
  ];
}

/**
 * OCI image labels (https://github.com/opencontainers/image-spec/blob/main/annotations.md).
 * Values come from the plan only; a fact the plan does not carry is left out rather than guessed.
 * A source URL never keeps credentials (`https://token@host/...`).
 */
export function ociLabels(plan: Plan, service: PlannedService): Array<{ name: string; value: string }> {
  const revision = plan.revision ?? {};
  const labels: Array<[string, string | null | undefined]> = [
    ["org.opencontainers.image.title", service.name],
    ["org.opencontainers.image.version", service.version],
    ["org.opencontainers.image.revision", revision.sha],
    ["org.opencontainers.image.created", revision.committedAt],
    ["org.opencontainers.image.source", revision.sourceUrl ? stripCredentials(revision.sourceUrl) : undefined],
  ];
  return labels
    .filter((entry): entry is [string, string] => typeof entry[1] === "string" && entry[1] !== "")
    .map(([name, value]) => ({ name, value }));
}

export function stripCredentials(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/]*@/i, "$1");
}
