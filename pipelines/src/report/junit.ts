import type { RunReport, Step } from "./schema.js";
import { failingGate, headline } from "./view.js";

/**
 * JUnit XML of a run, for the CI systems' test tabs (Azure DevOps PublishTestResults, GitHub test
 * reporters): one testsuite for the run's own steps, one per service, one for the gates and one for the
 * rollback; a step is a testcase, failed → <failure>, error/blocked → <error>, skipped/not-run → <skipped>.
 * The de facto schema (Ant/Surefire, as read by Jenkins and Azure DevOps):
 * https://github.com/testmoapp/junitxml
 */

/** XML text: escaped, and without the characters XML 1.0 cannot carry at all. */
export function xml(value: string): string {
  return value
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

type Case = { name: string; outcome: Step["outcome"]; detail: string; durationMs: number | null };

function suite(name: string, cases: Case[]): string {
  const count = (pred: (c: Case) => boolean) => cases.filter(pred).length;
  const failures = count((c) => c.outcome === "failed");
  const errors = count((c) => c.outcome === "error" || c.outcome === "blocked");
  const skipped = count((c) => c.outcome === "skipped" || c.outcome === "not-run");
  const time = cases.reduce((t, c) => t + (c.durationMs ?? 0), 0) / 1000;
  const body = cases
    .map((c) => {
      const open = `    <testcase classname="${xml(name)}" name="${xml(c.name)}" time="${((c.durationMs ?? 0) / 1000).toFixed(3)}"`;
      const message = xml(c.detail.split("\n")[0] ?? "");
      if (c.outcome === "failed") return `${open}>\n      <failure message="${message}" type="${xml(c.outcome)}">${xml(c.detail)}</failure>\n    </testcase>`;
      if (c.outcome === "error" || c.outcome === "blocked") return `${open}>\n      <error message="${message}" type="${xml(c.outcome)}">${xml(c.detail)}</error>\n    </testcase>`;
      if (c.outcome === "skipped" || c.outcome === "not-run") return `${open}>\n      <skipped message="${xml(c.outcome)}"/>\n    </testcase>`;
      return `${open}/>`;
    })
    .join("\n");
  return `  <testsuite name="${xml(name)}" tests="${cases.length}" failures="${failures}" errors="${errors}" skipped="${skipped}" time="${time.toFixed(3)}">\n${body}\n  </testsuite>`;
}

const asCase = (s: Step): Case => ({ name: s.name, outcome: s.outcome, detail: s.detail, durationMs: s.durationMs });

export function renderJunit(report: RunReport): string {
  const suites: Array<[string, Case[]]> = [];
  if (report.steps.length) suites.push([report.kind, report.steps.map(asCase)]);
  for (const svc of report.services) suites.push([svc.name, svc.steps.map(asCase)]);
  if (report.gates.length) {
    const failing = failingGate(report);
    suites.push([
      "gates",
      report.gates.map((g) => {
        const findings = failing?.gate.name === g.name ? failing.findings.filter((f) => f.blocking).map((f) => `${f.severity} ${f.tool} ${f.id} ${f.target} ${f.title}`.trim()) : [];
        return { name: g.name, outcome: g.outcome, detail: [g.detail, ...findings].filter(Boolean).join("\n"), durationMs: null };
      }),
    ]);
  }
  if (report.rollback) suites.push(["rollback", report.rollback.steps.map(asCase)]);
  const all = suites.flatMap(([, cases]) => cases);
  const tests = all.length;
  const failures = all.filter((c) => c.outcome === "failed").length;
  const errors = all.filter((c) => c.outcome === "error" || c.outcome === "blocked").length;
  const skipped = all.filter((c) => c.outcome === "skipped" || c.outcome === "not-run").length;
  const time = report.durationMs !== null ? report.durationMs / 1000 : all.reduce((t, c) => t + (c.durationMs ?? 0), 0) / 1000;
  const name = `slipway ${headline(report)}`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="${xml(name)}" tests="${tests}" failures="${failures}" errors="${errors}" skipped="${skipped}" time="${time.toFixed(3)}">
${suites.map(([n, cases]) => suite(n, cases)).join("\n")}
</testsuites>
`;
}
