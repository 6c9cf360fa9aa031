// Pure helpers of the security gates: read what `slipway scan argv` and `slipway scan gate --json`
// print, and build the gate's argv. The CLI decides which scanner runs how and what fails the gate;
// this file only checks and reshapes its answers. No Dagger API here; tested in test/dagger/scan-cli.test.ts.
import { isRecord, isStringArray, parseCliJson } from "./cli.js";

/** The scanners `slipway scan argv --scanner` knows (pipelines/src/scan/argv.ts SCANNERS). */
export type Scanner = "trivy-image" | "trivy-fs" | "trufflehog" | "npm-audit" | "osv";

const GATE_FLAGS = ["--trivy", "--trufflehog", "--npm-audit", "--osv"] as const;

/** What `slipway scan argv` prints: how to run one scanner (pipelines/src/scan/argv.ts ScannerRun). */
export type ScannerRun = {
  scanner: string;
  gateFlag: (typeof GATE_FLAGS)[number];
  image: string;
  argv: string[];
  workdir: string;
  /** Absolute path of the JSON report inside the scanner container, under the output folder. */
  output: string;
  redirectStdout: boolean;
  cache?: { volume: string; path: string };
};

/** Where scanners write their reports (`slipway scan argv --out`). */
export const SCAN_OUT = "/out";

export function parseScannerRun(command: string[], text: string): ScannerRun {
  return parseCliJson<ScannerRun>(command, text, (raw) => {
    const problems: string[] = [];
    for (const key of ["scanner", "image", "workdir", "output"] as const) {
      if (typeof raw[key] !== "string" || raw[key] === "") problems.push(`${key}: expected a non-empty string`);
    }
    if (!isStringArray(raw.argv) || raw.argv.length === 0) problems.push("argv: expected a non-empty array of strings");
    if (typeof raw.redirectStdout !== "boolean") problems.push("redirectStdout: expected a boolean");
    if (!GATE_FLAGS.includes(raw.gateFlag as (typeof GATE_FLAGS)[number])) problems.push(`gateFlag: expected one of ${GATE_FLAGS.join(", ")}`);
    if (typeof raw.output === "string" && !raw.output.startsWith(`${SCAN_OUT}/`)) {
      problems.push(`output: expected a file under ${SCAN_OUT} (the folder handed to the gate), got ${JSON.stringify(raw.output)}`);
    }
    if (raw.cache !== undefined) {
      if (!isRecord(raw.cache) || typeof raw.cache.volume !== "string" || typeof raw.cache.path !== "string") {
        problems.push("cache: expected { volume, path }");
      }
    }
    return problems;
  });
}

/** The argv of `slipway scan argv` for one scanner. */
export function scannerArgvCommand(scanner: Scanner, options: { source?: string; input?: string; since?: string } = {}): string[] {
  return [
    "slipway",
    "scan",
    "argv",
    "--scanner",
    scanner,
    "--out",
    SCAN_OUT,
    ...(options.source ? ["--source", options.source] : []),
    ...(options.input ? ["--input", options.input] : []),
    ...(options.since ? ["--since", options.since] : []),
  ];
}

/** Where the gate writes its reports in the toolkit container (writable by its unprivileged user). */
export const GATE_OUT = "/tmp/slipway-gate";

/** Folder where the i-th scanner's output folder is mounted for the gate. */
export function reportDir(index: number): string {
  return `/tmp/slipway-reports/${index}`;
}

/**
 * `slipway scan gate` over the reports of the given scanner runs: one `--<tool> FILE` per report, the
 * SARIF, JUnit and Markdown outputs in GATE_OUT, and the verdict as JSON on stdout.
 */
export function gateCommand(runs: readonly ScannerRun[]): string[] {
  return [
    "slipway",
    "scan",
    "gate",
    ...runs.flatMap((run, i) => [run.gateFlag, `${reportDir(i)}/${run.output.slice(SCAN_OUT.length + 1)}`]),
    "--sarif",
    `${GATE_OUT}/report.sarif`,
    "--junit",
    `${GATE_OUT}/junit.xml`,
    "--markdown",
    `${GATE_OUT}/summary.md`,
    "--json",
  ];
}

/** One finding over the policy, as `slipway scan gate --json` lists it (only the fields we show). */
export type FailingFinding = { severity: string; kind: string; id: string; package?: string; target?: string; file?: string };

/** The verdict of `slipway scan gate --json` (pipelines/src/scan/gate.ts gateJson). */
export type GateVerdict = {
  passed: boolean;
  counts: Record<string, Record<string, number>>;
  failing: FailingFinding[];
  exceptions: { expired: unknown[]; stale: unknown[] };
};

/**
 * Read the gate's verdict. Only exit 0 (passed) and 1 (failed) carry one; and the JSON must agree with
 * the exit code. Anything else means the gate could not decide, and the caller reports that.
 */
export function parseGate(command: string[], exitCode: number, text: string): GateVerdict {
  const verdict = parseCliJson<GateVerdict>(command, text, (raw) => {
    const problems: string[] = [];
    if (typeof raw.passed !== "boolean") problems.push("passed: expected a boolean");
    if (!isRecord(raw.counts) || !Object.values(raw.counts).every((c) => isRecord(c) && Object.values(c).every((n) => typeof n === "number"))) {
      problems.push("counts: expected { kind: { severity: number } }");
    }
    if (!Array.isArray(raw.failing) || !raw.failing.every((f) => isRecord(f) && typeof f.id === "string" && typeof f.severity === "string" && typeof f.kind === "string")) {
      problems.push("failing: expected an array of findings with id, kind and severity");
    }
    if (!isRecord(raw.exceptions) || !Array.isArray(raw.exceptions.expired) || !Array.isArray(raw.exceptions.stale)) {
      problems.push("exceptions: expected { expired: [], stale: [] }");
    }
    if (typeof raw.passed === "boolean" && raw.passed !== (exitCode === 0)) {
      problems.push(`passed is ${raw.passed} but the command exited with ${exitCode}`);
    }
    return problems;
  });
  return verdict;
}

/** Total findings per severity over every kind, worst first, e.g. "CRITICAL 1, HIGH 3". */
export function countLine(counts: GateVerdict["counts"]): string {
  const totals = new Map<string, number>();
  for (const bySeverity of Object.values(counts)) {
    for (const [severity, n] of Object.entries(bySeverity)) totals.set(severity, (totals.get(severity) ?? 0) + n);
  }
  const order = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"];
  const shown = [...totals].filter(([, n]) => n > 0).sort(([a], [b]) => order.indexOf(a) - order.indexOf(b));
  return shown.length === 0 ? "no findings" : shown.map(([severity, n]) => `${severity} ${n}`).join(", ");
}

/** Why a gate failed, in a few lines for the ci summary: counts, the first failing findings, expired exceptions. */
export function gateFailure(name: string, verdict: GateVerdict, shown = 10): string {
  const expired = verdict.exceptions.expired.length;
  const parts = [
    ...(verdict.failing.length > 0 ? [`${verdict.failing.length} finding(s) over the policy`] : []),
    ...(expired > 0 ? [`${expired} expired exception(s)`] : []),
  ];
  const lines = [`${name} gate failed: ${parts.join(", ") || "see the report"} (${countLine(verdict.counts)})`];
  for (const f of verdict.failing.slice(0, shown)) {
    const where = f.package ?? f.file ?? f.target;
    lines.push(`  ${f.severity} ${f.kind} ${f.id}${where ? ` in ${where}` : ""}`);
  }
  if (verdict.failing.length > shown) lines.push(`  … and ${verdict.failing.length - shown} more (see the ScanReport summary, SARIF or JUnit)`);
  return lines.join("\n");
}
