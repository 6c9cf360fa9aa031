import { runSucceeded, SEVERITIES } from "./schema.js";
import type { Finding, Gate, RunReport, Severity, Step, StepOutcome } from "./schema.js";

/**
 * What every rendering of a run report shows, computed once: the headline, the failing gate with its
 * findings, counts by severity and tool, and the timeline. Pure; string in (the parsed report), data out.
 */

const CREDENTIAL_IN_URL = /\b([a-z][a-z0-9+.-]*:\/\/)[^/\s@"'<>]+@/gi;

/**
 * Userinfo in any URL of the report (`https://user:token@host`) is replaced by `***`: a producer that
 * pasted a GitOps URL with a token into a detail must not publish it in a job summary or an artifact.
 * Values the process knows to be secret are masked again when the output is written (cli/secrets.ts).
 */
export function redactReport(report: RunReport): RunReport {
  const walk = (value: unknown): unknown => {
    if (typeof value === "string") return value.replace(CREDENTIAL_IN_URL, "$1***@");
    if (Array.isArray(value)) return value.map(walk);
    if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v)]));
    return value;
  };
  return walk(report) as RunReport;
}

export const SEVERITY_RANK: Record<Severity, number> = { critical: 0, high: 1, medium: 2, low: 3, unknown: 4 };

/** Blocking findings first, then worst severity, then tool and id: the order people triage in. */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort(
    (a, b) =>
      Number(b.blocking) - Number(a.blocking) ||
      SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] ||
      a.tool.localeCompare(b.tool) ||
      a.id.localeCompare(b.id) ||
      a.target.localeCompare(b.target),
  );
}

export function severityCounts(findings: readonly Finding[]): Record<Severity, number> {
  const counts = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  for (const f of findings) counts[f.severity] += 1;
  return counts;
}

/** Per tool (in first-seen order), its findings counted by severity. */
export function toolCounts(findings: readonly Finding[]): Array<{ tool: string; counts: Record<Severity, number>; total: number }> {
  const byTool = new Map<string, Finding[]>();
  for (const f of findings) byTool.set(f.tool, [...(byTool.get(f.tool) ?? []), f]);
  return [...byTool].map(([tool, list]) => ({ tool, counts: severityCounts(list), total: list.length }));
}

export interface FailingGate {
  gate: Gate;
  findings: Finding[];
}

/** The gate that failed the run (the report's failingGate, else the first failed or undecided gate) and its findings. */
export function failingGate(report: RunReport): FailingGate | null {
  const gate =
    report.gates.find((g) => g.name === report.failingGate) ??
    (runSucceeded(report) ? undefined : report.gates.find((g) => g.outcome === "failed" || g.outcome === "error"));
  if (!gate) return null;
  return { gate, findings: sortFindings(report.findings.filter((f) => f.gate === gate.name)) };
}

export const FAILED_OUTCOMES: ReadonlySet<StepOutcome> = new Set(["failed", "error", "blocked"]);

/** Every step that failed, could not decide or was blocked, named by service. */
export function failedSteps(report: RunReport): Array<{ service: string | null; step: Step }> {
  return [
    ...report.steps.filter((s) => FAILED_OUTCOMES.has(s.outcome)).map((step) => ({ service: null, step })),
    ...report.services.flatMap((svc) => svc.steps.filter((s) => FAILED_OUTCOMES.has(s.outcome)).map((step) => ({ service: svc.name, step }))),
  ];
}

export function headline(report: RunReport): string {
  const where = report.environment ? ` to ${report.environment}` : "";
  const what = report.kind === "ci" ? "ci" : report.kind === "rollback" ? `rollback of ${report.environment ?? "?"}` : `${report.kind}${where}`;
  return `${what}: ${report.outcome.toUpperCase()}`;
}

export interface TimelineRow {
  /** The service, or null for a step of the whole run. */
  lane: string | null;
  step: Step;
  /** Milliseconds since the run's first step started. */
  offsetMs: number;
}

/** The timed steps (run-wide, per service, the rollback's) against the earliest start; untimed steps are left out. */
export function timeline(report: RunReport): { rows: TimelineRow[]; spanMs: number; untimed: number } {
  const all: Array<{ lane: string | null; step: Step }> = [
    ...report.steps.map((step) => ({ lane: null, step })),
    ...report.services.flatMap((svc) => svc.steps.map((step) => ({ lane: svc.name, step }))),
    ...(report.rollback?.steps ?? []).map((step) => ({ lane: "rollback", step })),
  ];
  const timed = all.filter((r) => r.step.startedAt !== null && r.step.durationMs !== null);
  if (timed.length === 0) return { rows: [], spanMs: 0, untimed: all.length };
  const start = Math.min(...timed.map((r) => Date.parse(r.step.startedAt as string)));
  const rows = timed.map((r) => ({ ...r, offsetMs: Date.parse(r.step.startedAt as string) - start }));
  const spanMs = Math.max(1, ...rows.map((r) => r.offsetMs + (r.step.durationMs as number)));
  return { rows, spanMs, untimed: all.length - timed.length };
}

/** 850 ms, 12.3 s, 4 min 05 s. */
export function formatDuration(ms: number | null): string {
  if (ms === null) return "";
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
}

/** 2026-12-07 01:31:05 UTC: the same in every renderer and every time zone. */
export function formatTime(iso: string | null): string {
  if (iso === null) return "";
  return `${new Date(Date.parse(iso)).toISOString().slice(0, 19).replace("T", " ")} UTC`;
}
