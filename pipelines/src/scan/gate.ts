import { existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { scanOutputFailed, scanReportNotFound } from "../errors.js";
import { dedupe } from "./dedupe.js";
import type { RawFinding, Tool } from "./model.js";
import { KINDS, SEVERITIES } from "./model.js";
import { PARSERS } from "./parsers/index.js";
import type { GateResult } from "./policy.js";
import { decide } from "./policy.js";
import { renderJunit } from "./reports/junit.js";
import { renderMarkdown } from "./reports/markdown.js";
import { renderSarif } from "./reports/sarif.js";
import { subject, where } from "./reports/text.js";
import type { ScanSettings } from "./schema.js";

export interface ReportFile {
  tool: Tool;
  /** Path as the user gave it (for messages). */
  file: string;
  /** Absolute path to read. */
  path: string;
}

export interface GateRun {
  gate: GateResult;
  tools: Tool[];
}

/** Reads and parses every report first: one bad report fails the whole run before anything is written. */
export function runGate(reports: readonly ReportFile[], settings: ScanSettings | undefined, now: Date): GateRun {
  const raw: RawFinding[] = [];
  for (const report of reports) {
    if (!existsSync(report.path) || !statSync(report.path).isFile()) throw scanReportNotFound(report.tool, report.file);
    const parse = PARSERS.get(report.tool);
    if (!parse) throw new Error(`no parser for ${report.tool}`);
    for (const f of parse({ text: readFileSync(report.path, "utf8"), file: report.file })) raw.push(f);
  }
  const tools = [...new Set(reports.map((r) => r.tool))];
  return { gate: decide(dedupe(raw), settings, now), tools };
}

/** The `--json` document: { passed, counts, failing, exceptions }. */
export function gateJson(gate: GateResult): object {
  return {
    passed: gate.passed,
    counts: gate.counts,
    failing: gate.failing.map(({ decision: _decision, ...finding }) => finding),
    exceptions: {
      expired: gate.expired.map((e) => ({ index: e.index, ...e.exception })),
      stale: gate.stale.map((e) => ({ index: e.index, ...e.exception })),
    },
  };
}

/** The plain-text summary on stdout. */
export function gateText(gate: GateResult): string {
  const lines = [`security gate ${gate.passed ? "passed" : "FAILED"}`, ""];
  const width = Math.max(...KINDS.map((k) => k.length));
  lines.push(`${"".padEnd(width)}  ${SEVERITIES.map((s) => s.padStart(8)).join(" ")}`);
  for (const kind of KINDS) lines.push(`${kind.padEnd(width)}  ${SEVERITIES.map((s) => String(gate.counts[kind][s]).padStart(8)).join(" ")}`);
  if (gate.failing.length > 0) {
    lines.push("", `failing (${gate.failing.length}):`);
    for (const f of gate.failing.slice(0, 50)) lines.push(`  ${f.severity.padEnd(8)} ${f.kind.padEnd(16)} ${f.id}  ${f.kind === "vulnerability" ? `${subject(f)}  ${where(f)}` : where(f)}${f.verification ? `  (${f.verification})` : ""}  [${f.fingerprint}]`);
    if (gate.failing.length > 50) lines.push(`  ... and ${gate.failing.length - 50} more (use --json or the reports)`);
  }
  for (const e of gate.expired) lines.push(`expired exception scan.exceptions[${e.index}] ${e.exception.id ?? e.exception.fingerprint} (owner ${e.exception.owner}) expired on ${e.exception.expires}: fails the gate`);
  for (const e of gate.stale) lines.push(`stale exception scan.exceptions[${e.index}] ${e.exception.id ?? e.exception.fingerprint} (owner ${e.exception.owner}) matches no finding: remove it`);
  if (gate.excepted.length > 0) lines.push(`${gate.excepted.length} finding${gate.excepted.length === 1 ? "" : "s"} excepted by slipway.yaml scan.exceptions`);
  return `${lines.join("\n")}\n`;
}

export interface Outputs {
  sarif?: string;
  junit?: string;
  markdown?: string;
}

/** Renders every report, then writes each to a temporary file and renames: none is left half-written. */
export function writeReports(run: GateRun, outputs: Outputs): void {
  const pending: [string, string][] = [];
  if (outputs.sarif) pending.push([outputs.sarif, renderSarif(run.gate, run.tools)]);
  if (outputs.junit) pending.push([outputs.junit, renderJunit(run.gate)]);
  if (outputs.markdown) pending.push([outputs.markdown, renderMarkdown(run.gate)]);
  const written: string[] = [];
  try {
    for (const [path, text] of pending) {
      const tmp = `${path}.${process.pid}.tmp`;
      written.push(tmp);
      writeFileSync(tmp, text);
    }
  } catch (error) {
    for (const tmp of written) rmSync(tmp, { force: true });
    throw scanOutputFailed(pending[written.length - 1]?.[0] ?? "", error);
  }
  for (const [path] of pending) renameSync(`${path}.${process.pid}.tmp`, path);
}
