// Pure rendering of a run: the human summary table, the JSON report and failure descriptions.
// No Dagger API here (see plan.ts for why); tested in test/dagger/report.test.ts.

/** Status of a step. `blocked`: the service's install failed so the step could not run; `not run`: not part of this function. */
export const STEP = {
  passed: "passed",
  failed: "failed",
  skipped: "skipped",
  blocked: "blocked",
  notRun: "not run",
} as const;

/** Status of a service image. */
export const IMAGE = { built: "built", failed: "failed", notRun: "not run" } as const;

/**
 * Status of a security gate. `error`: the gate could not decide (a scanner did not run or wrote no
 * readable report) and that fails the run like a failed gate; `blocked`: there was no image to scan.
 */
export const SCAN = { passed: "passed", failed: "failed", error: "error", blocked: "blocked", notRun: "not run" } as const;

/** What the summary and the report need to know about one service. */
export type ServiceRow = {
  name: string;
  path: string;
  lint: string;
  test: string;
  build: string;
  image: string;
  /** The image's security gate (SCAN). */
  scan: string;
  failures: string[];
  /** Which manager, version and Node the service was installed and checked with (the plan's toolchain label). */
  toolchain?: string;
};

/** A repository-wide security gate of a run (secrets, dependencies). */
export type GateRow = { name: string; status: string; failure: string };

/** What the summary and the report need to know about one run. */
export type RunData = {
  base: string;
  install: string;
  installFailure: string;
  services: ServiceRow[];
  unaffected: string[];
  /** The plan's warnings (slipway plan `warnings`). */
  warnings?: string[];
  /** Repository-wide security gates; empty when the run scanned nothing. */
  gates: GateRow[];
  passed: boolean;
};

const FAILED: ReadonlySet<string> = new Set([STEP.failed, STEP.blocked, IMAGE.failed, SCAN.error]);

/** A service passed when none of its steps (its image's security gate included) failed, errored or was blocked. */
export function servicePassed(row: Pick<ServiceRow, "lint" | "test" | "build" | "image" | "scan">): boolean {
  return ![row.lint, row.test, row.build, row.image, row.scan].some((status) => FAILED.has(status));
}

/** A gate passed when it ran and passed, or was not part of the run. */
export function gatePassed(gate: Pick<GateRow, "status">): boolean {
  return !FAILED.has(gate.status);
}

export function runPassed(install: string, rows: ServiceRow[], gates: GateRow[] = []): boolean {
  return install !== STEP.failed && rows.every(servicePassed) && gates.every(gatePassed);
}

/** What an exit code means, for codes that mean something beyond "the command failed". */
export function exitMeaning(code: number): string {
  switch (code) {
    case 126:
      return "command found but not executable";
    case 127:
      return "command not found";
    case 130:
      return "interrupted (SIGINT)";
    case 137:
      return "killed (SIGKILL), usually out of memory";
    case 139:
      return "segmentation fault (SIGSEGV)";
    case 143:
      return "terminated (SIGTERM)";
    default:
      return code > 128 && code < 160 ? `killed by signal ${code - 128}` : "";
  }
}

export function tail(text: string, lines: number): string {
  const all = text.replace(/\s+$/, "").split("\n");
  const kept = all.slice(-lines).join("\n");
  return all.length > lines ? `… (${all.length - lines} earlier lines)\n${kept}` : kept;
}

/**
 * One failure, explained: which step, the exact command, the exit code and what it means, and the end
 * of the output. Test runners report on stdout and npm on stderr, so both tails are kept.
 */
export function describeFailure(
  step: string,
  command: string[],
  exitCode: number,
  stdout: string,
  stderr: string,
): string {
  const meaning = exitMeaning(exitCode);
  const lines = [`${step}: \`${command.join(" ")}\` exited with ${exitCode}${meaning ? ` (${meaning})` : ""}`];
  if (stdout.trim()) lines.push(`--- stdout (end) ---\n${tail(stdout, 30)}`);
  if (stderr.trim()) lines.push(`--- stderr (end) ---\n${tail(stderr, 15)}`);
  return lines.join("\n");
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join(" | ")
      .trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("-|-"), ...rows.map(line)].join("\n");
}

/** The human-readable summary: one row per service, then every failure, then the verdict. */
export function renderSummary(run: RunData): string {
  const parts: string[] = [];
  if (run.services.length === 0) {
    parts.push(run.base ? `No service affected since ${run.base}.` : "No service to check.");
  } else {
    // The image scan column only when the run scanned (test and ci --scan=false do not).
    const scanned = run.services.some((s) => s.scan !== SCAN.notRun);
    const toolchains = run.services.some((s) => s.toolchain);
    parts.push(
      table(
        ["service", ...(toolchains ? ["toolchain"] : []), "lint", "test", "build", "image", ...(scanned ? ["image scan"] : [])],
        run.services.map((s) => [s.name, ...(toolchains ? [s.toolchain ?? ""] : []), s.lint, s.test, s.build, s.image, ...(scanned ? [s.scan] : [])]),
      ),
    );
  }
  if (run.gates.length > 0) parts.push(run.gates.map((g) => `${g.name} gate: ${g.status}`).join("\n"));
  if (run.unaffected.length > 0) {
    parts.push(`Not affected${run.base ? ` since ${run.base}` : ""}: ${run.unaffected.join(", ")}`);
  }
  for (const warning of run.warnings ?? []) parts.push(`warning: ${warning}`);
  if (run.install === STEP.failed) parts.push(`install failed, so its services could not be linted, tested or built:\n${run.installFailure}`);
  for (const gate of run.gates) if (gate.failure) parts.push(`[${gate.name} gate] ${gate.failure}`);
  for (const service of run.services) {
    for (const failure of service.failures) parts.push(`[${service.name}] ${failure}`);
  }
  const failed = run.services.filter((s) => !servicePassed(s)).map((s) => s.name);
  const failedGates = run.gates.filter((g) => !gatePassed(g)).map((g) => `${g.name} gate ${g.status}`);
  parts.push(
    run.passed
      ? `PASSED: ${run.services.length} service(s) checked`
      : [
          `FAILED: ${failed.length} of ${run.services.length} service(s) failed${failed.length ? ` (${failed.join(", ")})` : ""}`,
          ...failedGates,
        ].join("; "),
  );
  return parts.join("\n\n") + "\n";
}

/** The machine-readable report (ci-report.json). Stable key order; no timestamps, so it is reproducible. */
export function renderReport(run: RunData): string {
  const report = {
    passed: run.passed,
    base: run.base || null,
    install: { status: run.install, failure: run.installFailure || null },
    services: run.services.map((s) => ({
      name: s.name,
      path: s.path,
      ...(s.toolchain ? { toolchain: s.toolchain } : {}),
      passed: servicePassed(s),
      lint: s.lint,
      test: s.test,
      build: s.build,
      image: s.image,
      scan: s.scan,
      failures: s.failures,
    })),
    gates: run.gates.map((g) => ({ name: g.name, status: g.status, passed: gatePassed(g), failure: g.failure || null })),
    unaffected: run.unaffected,
    warnings: run.warnings ?? [],
  };
  return JSON.stringify(report, null, 2) + "\n";
}
