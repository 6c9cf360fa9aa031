// The run report (schemaVersion 1, pipelines/src/report/schema.ts; README "Run reports") built from what
// `ci`, `release` and `promote` know, and the argv that renders it with `slipway report` in the toolkit.
// The schema and every rendering are the CLI's; this file only gathers the facts. No Dagger API here;
// tested in test/dagger/run-report.test.ts against the CLI's own schema.
import type { GateRow, RunData } from "./report.js";
import { gatePassed, servicePassed, STEP } from "./report.js";
import type { ReleaseData, StepRow } from "./release-flow.js";

export const RUN_REPORT_VERSION = 1;

/** When a step started and how long it took, as measured by the module around the step's execution. */
export type Timing = { startedAt: string; durationMs: number };

/** Timings keyed by `service/step`, `install/<toolchain>`, `gate/<name>`. */
export type Timings = Record<string, Timing>;

/** A step's timing: start now, stop when `done` is called. */
export function stopwatch(): () => Timing {
  const start = Date.now();
  return () => ({ startedAt: new Date(start).toISOString(), durationMs: Math.max(0, Date.now() - start) });
}

type Step = { name: string; outcome: string; startedAt: string | null; durationMs: number | null; detail: string };
type Finding = { gate: string; tool: string; severity: string; id: string; title: string; target: string; blocking: boolean };

/** The module's step statuses in the report's words (`built` is an image that passed, `not run` is `not-run`). */
export function outcomeOf(status: string): string {
  if (status === "built") return "passed";
  if (status === "not run") return "not-run";
  return status;
}

function step(name: string, status: string, timing: Timing | undefined, detail = ""): Step {
  return { name, outcome: outcomeOf(status), startedAt: timing?.startedAt ?? null, durationMs: timing?.durationMs ?? null, detail };
}

/** Findings listed per gate in a run report; the rest are counted in a warning (the gate's SARIF keeps them all). */
export const FINDINGS_PER_GATE = 500;

const TOOL_OF_DRIVER: Record<string, string> = { Trivy: "trivy", TruffleHog: "trufflehog", "npm audit": "npm-audit", "OSV-Scanner": "osv-scanner" };
const SEVERITIES = new Set(["critical", "high", "medium", "low", "unknown"]);

type SarifLike = {
  runs?: Array<{
    tool?: { driver?: { name?: string; rules?: Array<{ id?: string; shortDescription?: { text?: string } }> } };
    results?: Array<{ ruleId?: string; properties?: { severity?: string; decision?: string }; locations?: Array<{ physicalLocation?: { artifactLocation?: { uri?: string } } }> }>;
  }>;
};

/**
 * A gate's findings from the SARIF `slipway scan gate` wrote (pipelines/src/scan/reports/sarif.ts): the
 * tool from the driver, severity and decision from each result's properties, the title from its rule.
 * A finding the gate decided `fail` is blocking. Fails closed: a result without a known severity is kept
 * as `unknown`, never dropped.
 */
export function findingsFromSarif(gate: string, sarif: string, limit = FINDINGS_PER_GATE): { findings: Finding[]; omitted: number } {
  const log = JSON.parse(sarif) as SarifLike;
  const all: Finding[] = [];
  for (const run of log.runs ?? []) {
    const driver = run.tool?.driver?.name ?? "unknown";
    const titles = new Map((run.tool?.driver?.rules ?? []).map((r) => [r.id ?? "", r.shortDescription?.text ?? ""]));
    for (const r of run.results ?? []) {
      const severity = (r.properties?.severity ?? "UNKNOWN").toLowerCase();
      all.push({
        gate,
        tool: TOOL_OF_DRIVER[driver] ?? driver,
        severity: SEVERITIES.has(severity) ? severity : "unknown",
        id: r.ruleId || "unknown",
        title: titles.get(r.ruleId ?? "") ?? "",
        target: decodeURIComponent(r.locations?.[0]?.physicalLocation?.artifactLocation?.uri ?? ""),
        blocking: r.properties?.decision === "fail",
      });
    }
  }
  // Blocking first, so a cut never hides what failed the gate.
  all.sort((a, b) => Number(b.blocking) - Number(a.blocking));
  return { findings: all.slice(0, limit), omitted: Math.max(0, all.length - limit) };
}

export type CiFacts = {
  run: RunData;
  timings: Timings;
  startedAt: string;
  durationMs: number;
  sourceSha: string;
  /** Each install (one per toolchain), how it ended and when. */
  installs: Array<{ label: string; status: string; timing?: Timing; failure: string }>;
  /** Findings of every gate that decided (gate name → its SARIF's findings). */
  findings: Array<{ gate: string; findings: Finding[]; omitted: number }>;
};

/** The gates of a ci run: the repository-wide ones, then each checked service's image gate. */
export function ciGates(run: RunData): GateRow[] {
  return [
    ...run.gates,
    ...run.services.filter((s) => s.scan !== "not run").map((s) => ({ name: `image ${s.name}`, status: s.scan, failure: s.failures.find((f) => f.startsWith("image scan:")) ?? "" })),
  ];
}

export function ciRunReport(facts: CiFacts): object {
  const { run, timings } = facts;
  const gates = ciGates(run);
  const failing = gates.find((g) => !gatePassed(g));
  const failedServices = run.services.filter((s) => !servicePassed(s)).map((s) => s.name);
  const failure = run.passed
    ? ""
    : [
        run.install === STEP.failed ? `install failed:\n${run.installFailure}` : "",
        failedServices.length ? `${failedServices.length} of ${run.services.length} service(s) failed: ${failedServices.join(", ")}` : "",
        ...gates.filter((g) => !gatePassed(g)).map((g) => `${g.name} gate ${g.status}`),
      ]
        .filter(Boolean)
        .join("\n");
  const stepDetail = (failures: string[], name: string) => failures.find((f) => f.startsWith(`${name}:`)) ?? "";
  return {
    schemaVersion: RUN_REPORT_VERSION,
    kind: "ci",
    outcome: run.passed ? "passed" : "failed",
    environment: null,
    sourceSha: /^[0-9a-f]{7,64}$/.test(facts.sourceSha) ? facts.sourceSha : null,
    base: run.base || null,
    startedAt: facts.startedAt,
    durationMs: facts.durationMs,
    steps: facts.installs.map((i) => step(`install ${i.label}`, i.status, i.timing, i.failure)),
    services: run.services.map((s) => ({
      name: s.name,
      ...(s.toolchain ? { toolchain: s.toolchain } : {}),
      steps: (
        [
          ["lint", s.lint],
          ["test", s.test],
          ["build", s.build],
          ["image", s.image],
          ["image scan", s.scan],
        ] as const
      ).map(([name, status]) => step(name, status, timings[`${s.name}/${name}`], stepDetail(s.failures, name))),
    })),
    gates: gates.map((g) => ({ name: g.name, outcome: outcomeOf(g.status), detail: g.failure })),
    failingGate: failing ? failing.name : null,
    findings: facts.findings.flatMap((f) => f.findings),
    failure,
    images: [],
    migrations: [],
    gitops: null,
    rollback: null,
    warnings: [
      ...(run.warnings ?? []),
      ...facts.findings.filter((f) => f.omitted > 0).map((f) => `${f.gate} gate: ${f.omitted} more finding(s) than the report lists (${FINDINGS_PER_GATE}); its SARIF has them all`),
    ],
  };
}

/** IMAGE=TAG@sha256:DIGEST → the report's image. */
export function imageOf(set: string): { service?: string; repository: string; tag: string; digest: string } | null {
  const m = /^(.+?)=([^@=]+)@(sha256:[0-9a-f]{64})$/.exec(set);
  if (!m) return null;
  const repository = m[1] as string;
  return { service: repository.slice(repository.lastIndexOf("/") + 1), repository, tag: m[2] as string, digest: m[3] as string };
}

export type MigrationRow = { service: string; applied: string[]; reverted: string[]; outcome: "passed" | "failed"; detail: string };

export type ReleaseFacts = {
  data: ReleaseData;
  steps: Array<StepRow & Partial<Timing>>;
  migrations: MigrationRow[];
  startedAt: string;
  durationMs: number;
};

/** The automatic rollback's lines (release-run.ts) as steps: the Git commit, the migrations, the restored release's verification. */
function rollbackSteps(text: string, status: string, timing: Timing | undefined): Step[] {
  const lines = text.split("\n").filter(Boolean);
  return lines.map((line, i) => {
    const name = /^rolled back to/.test(line) ? "git" : /^migrations:/.test(line) ? "migrations" : /^the restored release/.test(line) ? "verify restored" : /^rollback not possible/.test(line) ? "git" : "rollback";
    const failed = /NOT healthy|REVERT FAILED|not possible/.test(line) || (status === "failed" && i === lines.length - 1);
    return step(name, failed ? "failed" : "passed", i === 0 ? timing : undefined, line);
  });
}

export function releaseRunReport(facts: ReleaseFacts): object {
  const { data } = facts;
  const rollbackStep = facts.steps.find((s) => s.step === "rollback");
  const timingOf = (s: Partial<Timing>): Timing | undefined => (s.startedAt !== undefined && s.durationMs !== undefined ? { startedAt: s.startedAt, durationMs: s.durationMs } : undefined);
  return {
    schemaVersion: RUN_REPORT_VERSION,
    kind: data.kind,
    outcome: data.status,
    environment: data.environment,
    sourceSha: /^[0-9a-f]{7,64}$/.test(data.sourceSha) ? data.sourceSha : null,
    base: null,
    startedAt: facts.startedAt,
    durationMs: facts.durationMs,
    steps: facts.steps.filter((s) => s.step !== "rollback").map((s) => step(s.step, s.status, timingOf(s), s.detail)),
    services: [],
    gates: [],
    failingGate: null,
    findings: [],
    failure: data.status === "verified" ? "" : data.failure,
    images: data.images.map(imageOf).filter((i) => i !== null),
    migrations: facts.migrations,
    gitops: data.gitopsCommit ? { commit: data.gitopsCommit, ledgerId: data.ledgerId || null, promotedFrom: data.promotedFrom || null } : null,
    rollback: rollbackStep
      ? { outcome: rollbackStep.status === "passed" ? "done" : "incomplete", restored: /rolled back to release (\S+)/.exec(data.rollback)?.[1] ?? null, steps: rollbackSteps(data.rollback, rollbackStep.status, timingOf(rollbackStep)) }
      : null,
    warnings: data.unreleasedImages.length ? [`pushed but not released (no GitOps commit references them): ${data.unreleasedImages.join(", ")}`] : [],
  };
}

/**
 * A release's run report with the checks that ran before publishing: their services (steps per service),
 * gates, findings and the failing gate; their warnings are added to the release's.
 */
export function withCiPart(release: object, ci: Record<string, unknown>): object {
  const r = release as Record<string, unknown>;
  return {
    ...r,
    services: ci.services ?? [],
    gates: ci.gates ?? [],
    failingGate: ci.failingGate ?? null,
    findings: ci.findings ?? [],
    warnings: [...((r.warnings as string[] | undefined) ?? []), ...((ci.warnings as string[] | undefined) ?? [])],
  };
}

/** Where the report and its renderings are written in the toolkit container (/tmp: the toolkit's user can write there). */
export const REPORT_IN = "/tmp/slipway-run-report.json";

export const RENDERINGS = { md: "report.md", html: "report.html", junit: "junit.xml", sarif: "report.sarif" } as const;

/** `slipway report` of the run report into /tmp/<file>. */
export function renderCommand(format: keyof typeof RENDERINGS): string[] {
  return ["slipway", "report", "--in", REPORT_IN, "--format", format, "--out", `/tmp/${RENDERINGS[format]}`];
}

/** The release event `slipway notify` posts for a release's status: verified, rolled-back, or failed (failed and unknown). */
export function notifyEventOf(status: string): "verified" | "rolled-back" | "failed" {
  return status === "verified" ? "verified" : status === "rolled-back" ? "rolled-back" : "failed";
}

/** What an on-demand rollback (`rollbackRun`) did, as its report lines say it (.dagger/src/rollback-run.ts runRollback). */
export type RollbackFacts = {
  environment: string;
  /** Every step done (runRollback's `ok`). */
  ok: boolean;
  /** runRollback's report: a header line, then one `git:`/`database:`/`verify:`/`registry:`/`cluster:` line each. */
  report: string;
  startedAt: string;
  durationMs: number;
};

/** The ledger release a rollback report returns to (its header line), or null. */
export function rollbackTarget(report: string): string | null {
  return /(?:^|\n)rollback of \S+ to release (\S+?)[,:\s]/.exec(report)?.[1] ?? /already at release (\S+)/.exec(report)?.[1] ?? null;
}

/**
 * One step per line of the rollback's report, named by its prefix. A line saying NOT (not reverted, not
 * healthy, not marked, not done because the run stopped), FAILED, STOPPED or BLOCKS failed; `not done (no
 * kubeconfig)` and `nothing to` were skipped; the rest passed.
 */
export function rollbackReportSteps(report: string): Step[] {
  const lines = report.split("\n").filter(Boolean);
  return lines.map((line) => {
    // `database check:` (each down() tried first) and `database (database-first, before Git):` are steps of their own.
    // `notify:` is a notification's post (started, then the outcome): NOT delivered fails that step only, never the rollback.
    const prefix = /^(git|database(?: check| \([^)]*\))?|verify|registry|cluster|notify):/.exec(line)?.[1];
    const name = prefix ?? "rollback";
    const outcome = /\bNOT\b|FAILED|STOPPED|\bBLOCKS\b/.test(line) ? "failed" : /not done|nothing to|nothing left to/.test(line) ? "skipped" : "passed";
    return step(name, outcome, undefined, line);
  });
}

/**
 * The run report (kind rollback) of an on-demand rollback: `verified` once the restored release was verified
 * (or there was nothing to do: the environment already runs the verified target), `failed` when a step failed
 * or was left undone, `unknown` when every step done left it unverified (no kubeconfig).
 */
export function rollbackRunReport(facts: RollbackFacts): object {
  const steps = rollbackReportSteps(facts.report);
  const nothing = /nothing to do, already at release/.test(facts.report);
  const verified = nothing || /(?:^|\n)verify: .* is healthy and verified/.test(facts.report);
  const outcome = !facts.ok ? "failed" : verified ? "verified" : "unknown";
  const commit = /(?:^|\n)git: commit ([0-9a-f]{7,64})/.exec(facts.report)?.[1];
  return {
    schemaVersion: RUN_REPORT_VERSION,
    kind: "rollback",
    outcome,
    environment: facts.environment,
    sourceSha: null,
    base: null,
    startedAt: facts.startedAt,
    durationMs: facts.durationMs,
    steps,
    services: [],
    gates: [],
    failingGate: null,
    findings: [],
    failure: facts.ok ? "" : steps.filter((s) => s.outcome === "failed").map((s) => s.detail).join("\n"),
    images: [],
    migrations: [],
    gitops: commit ? { commit, ledgerId: null, promotedFrom: null } : null,
    rollback: { outcome: facts.ok ? "done" : "incomplete", restored: rollbackTarget(facts.report), steps },
    warnings: [],
  };
}
