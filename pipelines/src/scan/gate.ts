import { closeSync, existsSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { maskSecrets } from "../cli/secrets.js";
import type { Paint } from "../cli/style.js";
import { plain, verdict } from "../cli/style.js";
import { scanOutputFailed, scanReportNotFound } from "../errors.js";
import { dedupe } from "./dedupe.js";
import type { RawFinding, Tool } from "./model.js";
import { KINDS, NO_FIX_STATUSES, SEVERITIES } from "./model.js";
import { PARSERS } from "./parsers/index.js";
import type { GateResult } from "./policy.js";
import { decide } from "./policy.js";
import { renderJunit } from "./reports/junit.js";
import { renderMarkdown } from "./reports/markdown.js";
import { sarifChunks } from "./reports/sarif.js";
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
    notAffected: gate.notAffected.map((f) => ({ id: f.id, package: f.package, installedVersion: f.installedVersion, target: f.target, reason: f.notAffected })),
  };
}

/** How many failing vulnerabilities the vendor will not fix (will_not_fix, fix_deferred, end_of_life). */
function noFixCount(gate: GateResult): number {
  return gate.failing.filter((f) => f.kind === "vulnerability" && f.status !== undefined && NO_FIX_STATUSES.has(f.status)).length;
}

/** The plain-text summary on stdout; on a terminal the verdict, non-zero counts and severities in colour (issue 16). */
export function gateText(gate: GateResult, paint: Paint = plain): string {
  const lines = [`security gate ${verdict(paint, gate.passed ? "passed" : "FAILED")}`, ""];
  const width = Math.max(...KINDS.map((k) => k.length));
  lines.push(`${"".padEnd(width)}  ${SEVERITIES.map((s) => s.padStart(8)).join(" ")}`);
  for (const kind of KINDS) {
    const cells = SEVERITIES.map((s) => (gate.counts[kind][s] === 0 ? String(0).padStart(8) : verdict(paint, s, String(gate.counts[kind][s]).padStart(8))));
    lines.push(`${kind.padEnd(width)}  ${cells.join(" ")}`);
  }
  if (gate.failing.length > 0) {
    lines.push("", `failing (${gate.failing.length}):`);
    for (const f of gate.failing.slice(0, 50)) lines.push(`  ${verdict(paint, f.severity, f.severity.padEnd(8))} ${f.kind.padEnd(16)} ${f.id}  ${f.kind === "vulnerability" ? `${subject(f)}  ${where(f)}` : where(f)}${f.verification ? `  (${f.verification})` : ""}${f.malicious ? "  (malicious package: remove it)" : ""}${f.status !== undefined && NO_FIX_STATUSES.has(f.status) ? `  (no fix: ${f.status})` : ""}  [${f.fingerprint}]`);
    if (gate.failing.length > 50) lines.push(`  ... and ${gate.failing.length - 50} more (use --json or the reports)`);
  }
  const noFix = noFixCount(gate);
  if (noFix > 0) lines.push(`${noFix} failing vulnerabilit${noFix === 1 ? "y has" : "ies have"} no fix coming (vendor status will_not_fix, fix_deferred or end_of_life): the risk stays; replace the package or base image, or add an exception with an owner and expiry`);
  if (gate.notAffected.length > 0) {
    lines.push(`${gate.notAffected.length} vulnerabilit${gate.notAffected.length === 1 ? "y" : "ies"} not counted: not affected per VEX or the vendor`);
    for (const f of gate.notAffected.slice(0, 20)) lines.push(`  ${f.id}  ${subject(f)}  ${where(f)}  (${f.notAffected})`);
    if (gate.notAffected.length > 20) lines.push(`  ... and ${gate.notAffected.length - 20} more (use --json)`);
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

/**
 * Writes each report to a temporary file and renames them all at the end: none is left half-written,
 * and when one fails (an unwritable folder) the others are removed too. SARIF, the big one, goes to
 * its file piece by piece as it is rendered rather than as one string.
 */
export function writeReports(run: GateRun, outputs: Outputs): void {
  const pending: [string, () => Iterable<string>][] = [];
  if (outputs.sarif) pending.push([outputs.sarif, () => sarifChunks(run.gate, run.tools)]);
  if (outputs.junit) pending.push([outputs.junit, () => [renderJunit(run.gate)]]);
  if (outputs.markdown) pending.push([outputs.markdown, () => [renderMarkdown(run.gate)]]);
  const tmp = (path: string): string => `${path}.${process.pid}.tmp`;
  const started: string[] = [];
  try {
    for (const [path, render] of pending) {
      started.push(tmp(path));
      writeChunks(path, tmp(path), render());
    }
  } catch (error) {
    for (const file of started) rmSync(file, { force: true });
    throw error;
  }
  for (const [path] of pending) renameSync(tmp(path), path);
}

/** About 1 MB per write: few system calls, and no more of the report's text in memory than that. */
const WRITE_CHUNK = 1 << 20;

function writeChunks(path: string, file: string, chunks: Iterable<string>): void {
  let fd: number;
  try {
    fd = openSync(file, "w");
  } catch (error) {
    throw scanOutputFailed(path, error);
  }
  try {
    let parts: string[] = [];
    let size = 0;
    const flush = (): void => {
      // Reports are output like stdout: a credential of this process never reaches them (../cli/secrets.ts).
      const bytes = Buffer.from(maskSecrets(parts.join("")), "utf8");
      parts = [];
      size = 0;
      try {
        for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at);
      } catch (error) {
        throw scanOutputFailed(path, error);
      }
    };
    for (const chunk of chunks) {
      parts.push(chunk);
      size += chunk.length;
      if (size >= WRITE_CHUNK) flush();
    }
    flush();
  } finally {
    closeSync(fd);
  }
}
