import { z } from "zod";

/**
 * The run report: one versioned JSON document for what `ci`, `release`, `promote` and `rollback` did,
 * written by the Dagger module (`CiRun.runReport`, `Release.runReport`) and read by `slipway report`,
 * which renders it as Markdown (job summaries), one self-contained HTML page, JUnit and SARIF.
 *
 * schemaVersion 1. Adding an optional field keeps the version; renaming, removing or changing the meaning
 * of one raises it, and `slipway report` refuses a version it does not know (SLIPWAY_REPORT_INVALID).
 * Times are ISO 8601 with an offset; durations are milliseconds. Field reference: README "Run reports".
 */
export const RUN_REPORT_SCHEMA_VERSION = 1;

export const RUN_KINDS = ["ci", "release", "promote", "rollback"] as const;
export type RunKind = (typeof RUN_KINDS)[number];

/** How a run ended: ci passes or fails; a release is verified, rolled back, failed or unknown; a rollback is verified, failed or unknown. */
export const RUN_OUTCOMES = ["passed", "failed", "verified", "rolled-back", "unknown"] as const;
export type RunOutcome = (typeof RUN_OUTCOMES)[number];

const OUTCOMES_OF: Record<RunKind, readonly RunOutcome[]> = {
  ci: ["passed", "failed"],
  release: ["verified", "rolled-back", "failed", "unknown"],
  promote: ["verified", "rolled-back", "failed", "unknown"],
  rollback: ["verified", "failed", "unknown"],
};

/** A step's outcome. `blocked`: an earlier step it needs failed; `error`: it could not decide (a gate without a readable scanner report). */
export const STEP_OUTCOMES = ["passed", "failed", "error", "blocked", "skipped", "not-run"] as const;
export type StepOutcome = (typeof STEP_OUTCOMES)[number];

/** Findings' severities, worst first (the scan model's, in lower case). */
export const SEVERITIES = ["critical", "high", "medium", "low", "unknown"] as const;
export type Severity = (typeof SEVERITIES)[number];

const text = z.string().max(200_000);
const name = z.string().min(1).max(200);
const time = z.iso.datetime({ offset: true });

export const Step = z.object({
  name,
  outcome: z.enum(STEP_OUTCOMES),
  /** When it started; null when it did not run or the producer did not time it. */
  startedAt: time.nullable().default(null),
  durationMs: z.number().int().nonnegative().nullable().default(null),
  /** What it did, or why it failed (the command, its exit code and the end of its output). */
  detail: text.default(""),
});
export type Step = z.infer<typeof Step>;

export const ServiceRun = z.object({
  name,
  /** Which package manager, version and Node.js the service ran with (the plan's toolchain label). */
  toolchain: z.string().max(200).optional(),
  steps: z.array(Step),
});
export type ServiceRun = z.infer<typeof ServiceRun>;

export const Gate = z.object({
  /** secrets, dependencies, image <service>. */
  name,
  outcome: z.enum(["passed", "failed", "error", "blocked", "not-run"]),
  detail: text.default(""),
});
export type Gate = z.infer<typeof Gate>;

export const Finding = z.object({
  /** The gate that decided on it (a name in `gates`). */
  gate: name,
  tool: name,
  severity: z.enum(SEVERITIES),
  /** CVE-…, GHSA-…, a Trivy check id, a secret detector. Never a secret's value. */
  id: name,
  title: text.default(""),
  /** What was scanned: an image, a lockfile, a file of the repository. */
  target: text.default(""),
  /** True when this finding failed its gate (not excepted, over the policy's threshold). */
  blocking: z.boolean().default(false),
});
export type Finding = z.infer<typeof Finding>;

export const Image = z.object({
  service: z.string().max(200).optional(),
  /** The repository in the registry, e.g. acme.azurecr.io/shop/api. */
  repository: name.max(500),
  tag: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, "an OCI tag (letters, digits, _ . -, at most 128)"),
  digest: z.string().regex(/^sha256:[0-9a-f]{64}$/, "sha256: and 64 lower-case hex digits"),
});
export type Image = z.infer<typeof Image>;

export const Migration = z.object({
  service: name,
  /** Migrations this run applied, in order. */
  applied: z.array(name).default([]),
  /** Migrations this run (or its rollback) reverted, in the order they were reverted. */
  reverted: z.array(name).default([]),
  outcome: z.enum(STEP_OUTCOMES),
  detail: text.default(""),
});
export type Migration = z.infer<typeof Migration>;

export const RunReport = z
  .object({
    schemaVersion: z.literal(RUN_REPORT_SCHEMA_VERSION, { error: `schemaVersion must be ${RUN_REPORT_SCHEMA_VERSION} (this slipway reads run reports of version ${RUN_REPORT_SCHEMA_VERSION})` }),
    kind: z.enum(RUN_KINDS),
    outcome: z.enum(RUN_OUTCOMES),
    /** The environment of slipway.yaml (release, promote, rollback); null for ci. */
    environment: z.string().max(200).nullable().default(null),
    /** The source commit the run built or released. */
    sourceSha: z.string().regex(/^[0-9a-f]{7,64}$/, "a hex commit SHA").nullable().default(null),
    /** ci: the ref the affected services were computed against. */
    base: z.string().max(500).nullable().default(null),
    startedAt: time.nullable().default(null),
    durationMs: z.number().int().nonnegative().nullable().default(null),
    /** Steps of the whole run (installs, the release's publish, migrate, bump, verify, rollback...). */
    steps: z.array(Step).default([]),
    /** Steps per service (lint, test, build, image, image scan), in plan order. */
    services: z.array(ServiceRun).default([]),
    gates: z.array(Gate).default([]),
    /** The gate that failed the run, shown first with its findings; null when no gate failed. */
    failingGate: z.string().max(200).nullable().default(null),
    findings: z.array(Finding).default([]),
    /** Why the run did not pass, in a few lines; empty when it passed. */
    failure: text.default(""),
    images: z.array(Image).default([]),
    migrations: z.array(Migration).default([]),
    gitops: z
      .object({
        commit: z.string().regex(/^[0-9a-f]{7,64}$/, "a hex commit SHA"),
        /** The ledger entry of the release. */
        ledgerId: z.string().max(200).nullable().default(null),
        /** promote: ENV:ID of the release whose images were promoted. */
        promotedFrom: z.string().max(200).nullable().default(null),
      })
      .nullable()
      .default(null),
    /** What a rollback did (the automatic one of a failed release, or the rollback run itself); null when none ran. */
    rollback: z
      .object({
        outcome: z.enum(["done", "incomplete"]),
        /** The ledger release returned to. */
        restored: z.string().max(200).nullable().default(null),
        steps: z.array(Step),
      })
      .nullable()
      .default(null),
    warnings: z.array(text).default([]),
  })
  .superRefine((report, ctx) => {
    const allowed = OUTCOMES_OF[report.kind];
    if (!allowed.includes(report.outcome)) {
      ctx.addIssue({ code: "custom", path: ["outcome"], message: `${JSON.stringify(report.outcome)} is not an outcome of a ${report.kind} run (one of ${allowed.join(", ")})` });
    }
    const gates = new Set(report.gates.map((g) => g.name));
    if (report.failingGate !== null && !gates.has(report.failingGate)) {
      ctx.addIssue({ code: "custom", path: ["failingGate"], message: `${JSON.stringify(report.failingGate)} is not one of the gates (${[...gates].join(", ") || "none"})` });
    }
    report.findings.forEach((f, i) => {
      if (!gates.has(f.gate)) ctx.addIssue({ code: "custom", path: ["findings", i, "gate"], message: `${JSON.stringify(f.gate)} is not one of the gates (${[...gates].join(", ") || "none"})` });
    });
    if (report.kind !== "ci" && report.environment === null) ctx.addIssue({ code: "custom", path: ["environment"], message: `a ${report.kind} run names its environment` });
  });
export type RunReport = z.infer<typeof RunReport>;

/** Whether the run is a success: ci passed, a release, promote or rollback verified. */
export function runSucceeded(report: Pick<RunReport, "outcome">): boolean {
  return report.outcome === "passed" || report.outcome === "verified";
}
