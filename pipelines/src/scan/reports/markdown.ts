import { KINDS, NO_FIX_STATUSES, SEVERITIES } from "../model.js";
import type { DecidedFinding, GateResult } from "../policy.js";
import { decisionText, fixText, subject, where } from "./text.js";

/** A Markdown summary for a PR comment, a GitHub job summary or an Azure DevOps summary tab. */

const cell = (text: string): string => text.replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
const MAX_ROWS = 200;

function findingRows(findings: readonly DecidedFinding[]): string[] {
  const rows = [
    "| Severity | Kind | Id | Package / location | Fixed in | Found by | Fingerprint |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...findings.slice(0, MAX_ROWS).map(
      (f) =>
        `| ${f.severity} | ${f.kind}${f.verification ? ` (${f.verification})` : ""}${f.malicious ? " (malicious package)" : ""} | ${cell(f.url ? `[${f.id}](${f.url})` : f.id)} | ${cell(f.kind === "vulnerability" ? `${subject(f)} — ${where(f)}` : where(f))} | ${cell(fixText(f))} | ${f.tools.join(", ")} | \`${f.fingerprint}\` |`,
    ),
  ];
  if (findings.length > MAX_ROWS) rows.push("", `… and ${findings.length - MAX_ROWS} more (see the SARIF or JSON report).`);
  return rows;
}

export function renderMarkdown(gate: GateResult): string {
  const out: string[] = [`## Security gate: ${gate.passed ? "passed ✅" : "failed ❌"}`, ""];
  out.push(`| Kind | ${SEVERITIES.join(" | ")} |`, `| --- | ${SEVERITIES.map(() => "---:").join(" | ")} |`);
  for (const kind of KINDS) out.push(`| ${kind} | ${SEVERITIES.map((s) => gate.counts[kind][s]).join(" | ")} |`);
  out.push("");
  if (gate.failing.length > 0) out.push(`### ${gate.failing.length} finding${gate.failing.length === 1 ? "" : "s"} over the policy`, "", ...findingRows(gate.failing), "");
  const noFix = gate.failing.filter((f) => f.kind === "vulnerability" && f.status !== undefined && NO_FIX_STATUSES.has(f.status)).length;
  if (noFix > 0) out.push(`${noFix} of them ha${noFix === 1 ? "s" : "ve"} no fix coming (vendor status will_not_fix, fix_deferred or end_of_life, under "Fixed in"): the risk stays until the package or base image is replaced.`, "");
  if (gate.expired.length > 0) {
    out.push("### Expired exceptions (each fails the gate)", "");
    for (const e of gate.expired) out.push(`- \`scan.exceptions[${e.index}]\` ${cell(e.exception.id ?? e.exception.fingerprint ?? "")} — owner ${cell(e.exception.owner)}, expired ${e.exception.expires}: ${cell(e.exception.reason)}`);
    out.push("");
  }
  if (gate.excepted.length > 0) {
    out.push(`### Excepted (${gate.excepted.length})`, "");
    for (const f of gate.excepted.slice(0, MAX_ROWS)) out.push(`- ${f.severity} ${cell(f.id)} ${cell(subject(f))}: ${cell(decisionText(f))}`);
    out.push("");
  }
  if (gate.notAffected.length > 0) {
    out.push(`### Not counted: not affected per VEX or the vendor (${gate.notAffected.length})`, "");
    for (const f of gate.notAffected.slice(0, MAX_ROWS)) out.push(`- ${cell(f.id)} ${cell(subject(f))} — ${cell(where(f))}: ${cell(f.notAffected ?? "")}`);
    out.push("");
  }
  if (gate.stale.length > 0) {
    out.push("### Stale exceptions (match nothing; remove them)", "");
    for (const e of gate.stale) out.push(`- \`scan.exceptions[${e.index}]\` ${cell(e.exception.id ?? e.exception.fingerprint ?? "")} — owner ${cell(e.exception.owner)}`);
    out.push("");
  }
  return `${out.join("\n")}\n`;
}
