// The security gates (issue 3): run the pinned scanners that `slipway scan argv` describes, then let
// `slipway scan gate` decide from their JSON. Scanner exit codes are never read as a verdict.
import { CacheSharingMode, dag, func, object, ReturnType } from "@dagger.io/dagger";
import type { Container, Directory, File } from "@dagger.io/dagger";

import { cliFailure } from "./cli.js";
import { isExecError } from "./errors.js";
import { cliStdout, fresh, runCommand, SRC, TOOLKIT_USER } from "./exec.js";
import { describeFailure, tail } from "./report.js";
import { GATE_OUT, gateCommand, gateFailure, parseGate, parseScannerRun, reportDir, SCAN_OUT, scannerArgvCommand } from "./scan-cli.js";
import type { GateVerdict, Scanner, ScannerRun } from "./scan-cli.js";

/** Where `scanImage` mounts the image tarball in the Trivy container. */
const IMAGE_TAR = "/scan/image.tar";

/** The verdict of one security gate and its reports, decided by `slipway scan gate` from the scanners' JSON. */
@object()
export class ScanReport {
  /** What was scanned: secrets, dependencies, or image <service>. */
  @func()
  name!: string;

  /** True when no finding is over the policy in slipway.yaml and no exception has expired. */
  @func()
  passed!: boolean;

  /** Findings per kind and severity after deduplication, as JSON: {"vulnerability":{"CRITICAL":n,...},...}. */
  @func()
  counts!: string;

  /** How many findings fail the gate. */
  @func()
  failing!: number;

  /** How many exceptions in slipway.yaml have expired (each fails the gate). */
  @func()
  expiredExceptions!: number;

  /** Why the gate failed in a few lines (counts, first failing findings); empty when it passed. */
  @func()
  failure!: string;

  /** The gate's output folder: summary.md, report.sarif, junit.xml, gate.json (private state). */
  reports!: Directory;

  /** The Markdown summary: counts, failing findings, expired and stale exceptions. */
  @func()
  async summary(): Promise<string> {
    return this.reports.file("summary.md").contents();
  }

  /**
   * The Markdown summary, or an error carrying it when the gate failed: the call for CI
   * (`dagger call scan-dependencies --source . verdict`).
   */
  @func()
  async verdict(): Promise<string> {
    const text = await this.summary();
    if (!this.passed) throw new Error(text);
    return text;
  }

  /** SARIF 2.1.0, one run per tool: upload it to GitHub code scanning or Azure DevOps. */
  @func()
  sarif(): File {
    return this.reports.file("report.sarif");
  }

  /** JUnit XML, one failing test case per failing finding, for the GitHub and Azure DevOps test tabs. */
  @func()
  junit(): File {
    return this.reports.file("junit.xml");
  }

  /** The gate's verdict as JSON (`slipway scan gate --json`): passed, counts, failing findings, exceptions. */
  @func()
  report(): File {
    return this.reports.file("gate.json");
  }
}

/** What to scan: the repository (policy, pins and exceptions come from its slipway.yaml) and options. */
export type ScanInput = { source: Directory; since?: string; image?: Container };

/** A scanner that ran: how it was described, and its container after the run. */
type ScannerResult = { run: ScannerRun; container: Container };

/** Ask the CLI how to run one scanner (pinned image, argv, output, cache). */
async function describeScanner(toolkit: Container, input: ScanInput, scanner: Scanner): Promise<ScannerRun> {
  const command = scannerArgvCommand(scanner, {
    source: SRC,
    ...(scanner === "trivy-image" ? { input: IMAGE_TAR } : {}),
    ...(scanner === "trufflehog" && input.since ? { since: input.since } : {}),
  });
  const stdout = await cliStdout(toolkit.withMountedDirectory(SRC, input.source).withWorkdir(SRC), command);
  return parseScannerRun(command, stdout);
}

/**
 * Run one scanner in its pinned image. Its exit code is not read (npm audit and OSV-Scanner exit 1 when
 * they find something): only its JSON report is. A scanner killed by a signal (OOM) is an error.
 */
async function runScanner(run: ScannerRun, input: ScanInput): Promise<ScannerResult> {
  let ctr = fresh(dag.container().from(run.image)).withDirectory(SCAN_OUT, dag.directory());
  // Only TruffleHog reads history. The others get the tree without .git: a checkout's .git/config can
  // hold the CI token (actions/checkout persists it), and `ci` passes its source with .git.
  if (run.scanner === "trufflehog") ctr = ctr.withMountedDirectory(SRC, input.source);
  else if (run.scanner !== "trivy-image") ctr = ctr.withMountedDirectory(SRC, dag.directory().withDirectory(".", input.source, { exclude: [".git"] }));
  if (run.scanner === "trivy-image" && input.image) ctr = ctr.withMountedFile(IMAGE_TAR, input.image.asTarball());
  // LOCKED: Trivy's database is a bolt file with a lock; concurrent Trivy runs on one cache time out.
  if (run.cache) ctr = ctr.withMountedCache(run.cache.path, dag.cacheVolume(run.cache.volume), { sharing: CacheSharingMode.Locked });
  const ran = ctr
    // The mounted source belongs to another uid than the scanner (root in these images); git >= 2.35.2
    // refuses such a repository ("dubious ownership") and TruffleHog shells out to git. Marking every
    // directory safe through the environment works for any image, without writing its gitconfig.
    .withEnvVariable("GIT_CONFIG_COUNT", "1")
    .withEnvVariable("GIT_CONFIG_KEY_0", "safe.directory")
    .withEnvVariable("GIT_CONFIG_VALUE_0", "*")
    .withWorkdir(run.workdir)
    .withExec(run.argv, { expect: ReturnType.Any, ...(run.redirectStdout ? { redirectStdout: run.output } : {}) });
  try {
    return { run, container: await ran.sync() };
  } catch (error) {
    if (isExecError(error)) {
      throw new Error(`SLIPWAY_SCAN_ERROR: ${describeFailure(run.scanner, run.argv, error.exitCode, "", error.stderr)}`);
    }
    throw error;
  }
}

/**
 * Run the scanners and the gate over their reports. Throws SLIPWAY_SCAN_ERROR when the gate cannot
 * decide (a scanner wrote no report or one the gate cannot read): a scan that did not run never passes.
 */
export async function scanGate(toolkit: Container, name: string, input: ScanInput, scanners: Scanner[]): Promise<ScanReport> {
  const runs = await Promise.all(scanners.map((scanner) => describeScanner(toolkit, input, scanner)));
  const results = await Promise.all(runs.map((run) => runScanner(run, input)));
  const gate = results.reduce(
    (ctr, result, i) => ctr.withDirectory(reportDir(i), result.container.directory(SCAN_OUT), { owner: TOOLKIT_USER }),
    fresh(toolkit)
      .withMountedDirectory(SRC, input.source)
      .withWorkdir(SRC)
      .withDirectory(GATE_OUT, dag.directory(), { owner: TOOLKIT_USER }),
  );
  const command = gateCommand(results.map((r) => r.run));
  const { run, container } = await runCommand(gate, command);
  if (run.exitCode !== 0 && run.exitCode !== 1) {
    const scannerLogs = await Promise.all(results.map(scannerLog));
    const error = cliFailure(command, run);
    throw new Error(`SLIPWAY_SCAN_ERROR: the ${name} gate could not decide.\n${error.message}\n${scannerLogs.join("\n")}`);
  }
  const verdict: GateVerdict = parseGate(command, run.exitCode, run.stdout);
  const report = new ScanReport();
  report.name = name;
  report.passed = verdict.passed;
  report.counts = JSON.stringify(verdict.counts);
  report.failing = verdict.failing.length;
  report.expiredExceptions = verdict.exceptions.expired.length;
  report.failure = verdict.passed ? "" : gateFailure(name, verdict);
  report.reports = container.directory(GATE_OUT).withNewFile("gate.json", run.stdout);
  return report;
}

/** A scanner's exit code and the end of its stderr, to explain a report that is missing or unreadable. */
async function scannerLog(result: ScannerResult): Promise<string> {
  const [exitCode, stderr] = await Promise.all([result.container.exitCode(), result.container.stderr()]);
  return `--- ${result.run.scanner} (${result.run.image}) exited with ${exitCode}, stderr (end) ---\n${tail(stderr, 15)}`;
}

/** The secrets gate: TruffleHog over the git history (since a ref when given). */
export function secretsGate(toolkit: Container, source: Directory, since?: string): Promise<ScanReport> {
  return scanGate(toolkit, "secrets", { source, ...(since ? { since } : {}) }, ["trufflehog"]);
}

/** The dependency gate: npm audit, OSV-Scanner and a Trivy filesystem scan under one policy. */
export function dependenciesGate(toolkit: Container, source: Directory): Promise<ScanReport> {
  return scanGate(toolkit, "dependencies", { source }, ["npm-audit", "osv", "trivy-fs"]);
}

/** The image gate: Trivy on the image tarball (vulnerabilities, secrets, misconfigurations). */
export function imageGate(toolkit: Container, image: Container, source: Directory, name = "image"): Promise<ScanReport> {
  return scanGate(toolkit, name, { source, image }, ["trivy-image"]);
}
