import type { Log, ReportingDescriptor, Result, Run } from "sarif";
import type { Finding, RunReport } from "./schema.js";
import { sortFindings } from "./view.js";

/**
 * SARIF 2.1.0 of a run's findings, one run per tool, for GitHub code scanning and Azure DevOps' SARIF
 * viewer. The gate's own SARIF (`slipway scan gate`, `ScanReport.sarif`) carries the scanners' full
 * locations; this one is built from the run report alone, so a `release` or a stored report can be
 * uploaded too. A finding that failed its gate is `error`; critical and high are `warning`; the rest
 * `note`. With no findings, one empty run (an empty run closes fixed alerts in code scanning).
 * https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html
 */

const SECURITY_SEVERITY: Record<Finding["severity"], string> = { critical: "9.5", high: "8.0", medium: "5.5", low: "2.0", unknown: "0.0" };

function level(f: Finding): Result.level {
  if (f.blocking) return "error";
  return f.severity === "critical" || f.severity === "high" ? "warning" : "note";
}

/** A target (a lockfile path, an image name with spaces) as a relative URI reference. */
function toUri(target: string): string {
  return encodeURI(target.replace(/^\/+/, "")).replace(/[?#]/g, encodeURIComponent);
}

/** The scanners' names and home pages as the gate's SARIF gives them (scan/reports/sarif.ts). */
const DRIVERS: Record<string, { name: string; informationUri: string }> = {
  trivy: { name: "Trivy", informationUri: "https://trivy.dev" },
  trufflehog: { name: "TruffleHog", informationUri: "https://github.com/trufflesecurity/trufflehog" },
  "npm-audit": { name: "npm audit", informationUri: "https://docs.npmjs.com/cli/commands/npm-audit" },
  "osv-scanner": { name: "OSV-Scanner", informationUri: "https://google.github.io/osv-scanner/" },
};

function runOf(tool: string, findings: Finding[]): Run {
  const rules = new Map<string, ReportingDescriptor>();
  const results: Result[] = findings.map((f) => {
    if (!rules.has(f.id)) {
      rules.set(f.id, {
        id: f.id,
        ...(f.title ? { shortDescription: { text: f.title } } : {}),
        properties: { "security-severity": SECURITY_SEVERITY[f.severity], tags: ["security", f.severity] },
      });
    }
    return {
      ruleId: f.id,
      level: level(f),
      message: { text: `${f.severity.toUpperCase()} ${f.id}${f.title ? `: ${f.title}` : ""}${f.blocking ? ` (fails the ${f.gate} gate)` : ""}` },
      ...(f.target ? { locations: [{ physicalLocation: { artifactLocation: { uri: toUri(f.target) } } }] } : {}),
      properties: { gate: f.gate, severity: f.severity, blocking: f.blocking },
    };
  });
  return { tool: { driver: { ...(DRIVERS[tool] ?? { name: tool }), rules: [...rules.values()] } }, results };
}

export function renderSarif(report: RunReport): string {
  const byTool = new Map<string, Finding[]>();
  for (const f of sortFindings(report.findings)) byTool.set(f.tool, [...(byTool.get(f.tool) ?? []), f]);
  const runs = byTool.size ? [...byTool].map(([tool, list]) => runOf(tool, list)) : [runOf("slipway", [])];
  const log: Log = { version: "2.1.0", $schema: "https://json.schemastore.org/sarif-2.1.0.json", runs };
  return `${JSON.stringify(log, null, 2)}\n`;
}
