import { runSucceeded, SEVERITIES } from "./schema.js";
import type { RunReport, Step } from "./schema.js";
import { failedSteps, failingGate, formatDuration, formatTime, headline, severityCounts, sortFindings, toolCounts } from "./view.js";

/**
 * GitHub-flavoured Markdown for job summaries ($GITHUB_STEP_SUMMARY, Azure DevOps task.uploadsummary):
 * what failed first, then the steps per service, findings by severity and tool, images, migrations, the
 * GitOps commit and the rollback. A job summary is limited to 1 MiB, so long finding lists are cut with a
 * line saying how many were left out (they are all in the HTML report and the SARIF).
 * https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-commands#adding-a-job-summary
 */

/** Findings listed in the Markdown; the rest are counted. */
export const MARKDOWN_FINDINGS = 50;

/** Text in a table cell: no line breaks, pipes escaped, and no HTML (GitHub renders inline HTML in summaries). */
export function cell(value: string): string {
  return value
    .replace(/\r?\n/g, " ")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/\|/g, "\\|")
    .trim();
}

/** Text in a fenced block: a run of backticks in it cannot close the fence. */
function fenced(value: string): string {
  const longest = Math.max(2, ...[...value.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = "`".repeat(longest + 1);
  return `${fence}text\n${value.replace(/\s+$/, "")}\n${fence}`;
}

const MARK: Record<string, string> = { passed: "✅", verified: "✅", failed: "❌", error: "⛔", blocked: "⏸️", "rolled-back": "↩️", unknown: "❔", skipped: "➖", "not-run": "➖", done: "✅", incomplete: "❌" };

function outcome(value: string): string {
  return `${MARK[value] ?? ""} ${value}`.trim();
}

function table(header: string[], rows: string[][]): string[] {
  return [`| ${header.join(" | ")} |`, `| ${header.map(() => "---").join(" | ")} |`, ...rows.map((r) => `| ${r.map(cell).join(" | ")} |`)];
}

function stepRows(steps: readonly Step[], lane?: string): string[][] {
  return steps.map((s) => [...(lane === undefined ? [] : [lane]), s.name, outcome(s.outcome), formatTime(s.startedAt), formatDuration(s.durationMs), s.outcome === "passed" ? s.detail : s.detail.split("\n")[0] ?? ""]);
}

export function renderMarkdown(report: RunReport): string {
  const out: string[] = [`# ${runSucceeded(report) ? "✅" : "❌"} ${cell(headline(report))}`, ""];
  const facts = [
    report.sourceSha ? `source \`${report.sourceSha.slice(0, 12)}\`` : "",
    report.base ? `base \`${cell(report.base)}\`` : "",
    report.startedAt ? `started ${formatTime(report.startedAt)}` : "",
    report.durationMs !== null ? `took ${formatDuration(report.durationMs)}` : "",
  ].filter(Boolean);
  if (facts.length) out.push(facts.join(" · "), "");

  const gate = failingGate(report);
  if (gate) {
    out.push(`## Failing gate: ${cell(gate.gate.name)} (${gate.gate.outcome})`, "");
    if (gate.gate.detail) out.push(cell(gate.gate.detail.split("\n")[0] ?? ""), "");
    const blocking = gate.findings.filter((f) => f.blocking);
    const shown = (blocking.length ? blocking : gate.findings).slice(0, MARKDOWN_FINDINGS);
    if (shown.length) {
      out.push(...table(["severity", "tool", "id", "target", "title"], shown.map((f) => [f.severity, f.tool, f.id, f.target, f.title])), "");
      const rest = (blocking.length ? blocking : gate.findings).length - shown.length;
      if (rest > 0) out.push(`…and ${rest} more (the HTML report and the SARIF list them all).`, "");
    }
  }
  if (!runSucceeded(report)) {
    const failed = failedSteps(report);
    if (report.failure || failed.length) {
      out.push("## What failed", "");
      for (const { service, step } of failed) out.push(`- **${cell(service ? `${service} ${step.name}` : step.name)}**: ${step.outcome}${step.detail ? ` — ${cell(step.detail.split("\n")[0] ?? "")}` : ""}`);
      if (failed.length) out.push("");
      if (report.failure) out.push(fenced(report.failure), "");
    }
  }

  if (report.rollback) {
    const r = report.rollback;
    out.push(`## Rollback: ${outcome(r.outcome)}${r.restored ? ` (restored release ${cell(r.restored)})` : ""}`, "", ...table(["step", "outcome", "started", "took", "detail"], stepRows(r.steps)), "");
  }
  if (report.steps.length) out.push("## Steps", "", ...table(["step", "outcome", "started", "took", "detail"], stepRows(report.steps)), "");
  if (report.services.length) {
    out.push("## Services", "");
    out.push(...table(["service", "step", "outcome", "started", "took", "detail"], report.services.flatMap((s) => stepRows(s.steps, s.toolchain ? `${s.name} (${s.toolchain})` : s.name))), "");
  }
  if (report.gates.length) out.push("## Gates", "", ...table(["gate", "outcome", "detail"], report.gates.map((g) => [g.name, outcome(g.outcome), g.detail.split("\n")[0] ?? ""])), "");

  if (report.findings.length) {
    const counts = severityCounts(report.findings);
    out.push("## Findings", "", SEVERITIES.filter((s) => counts[s] > 0).map((s) => `${s} ${counts[s]}`).join(" · "), "");
    out.push(...table(["tool", ...SEVERITIES, "total"], toolCounts(report.findings).map((t) => [t.tool, ...SEVERITIES.map((s) => String(t.counts[s])), String(t.total)])), "");
    const sorted = sortFindings(report.findings);
    const shown = sorted.slice(0, MARKDOWN_FINDINGS);
    out.push(...table(["severity", "blocking", "gate", "tool", "id", "target", "title"], shown.map((f) => [f.severity, f.blocking ? "yes" : "", f.gate, f.tool, f.id, f.target, f.title])), "");
    if (sorted.length > shown.length) out.push(`…and ${sorted.length - shown.length} more (the HTML report and the SARIF list them all).`, "");
  }

  if (report.images.length) {
    out.push("## Images", "", ...table(["service", "repository", "tag", "digest"], report.images.map((i) => [i.service ?? "", i.repository, i.tag, i.digest])), "");
  }
  if (report.migrations.length) {
    out.push("## Migrations", "", ...table(["service", "outcome", "applied", "reverted", "detail"], report.migrations.map((m) => [m.service, outcome(m.outcome), m.applied.join(", "), m.reverted.join(", "), m.detail])), "");
  }
  if (report.gitops) {
    const g = report.gitops;
    out.push("## GitOps", "", [`commit \`${g.commit}\``, g.ledgerId ? `ledger release ${cell(g.ledgerId)}` : "", g.promotedFrom ? `promoted from ${cell(g.promotedFrom)}` : ""].filter(Boolean).join(" · "), "");
  }
  if (report.warnings.length) out.push("## Warnings", "", ...report.warnings.map((w) => `- ${cell(w)}`), "");
  return `${out.join("\n").replace(/\n+$/, "")}\n`;
}
