import { describe, expect, it } from "vitest";
import type { RunData, ServiceRow } from "../../.dagger/src/report.js";
import {
  describeFailure,
  exitMeaning,
  gatePassed,
  IMAGE,
  renderReport,
  renderSummary,
  runPassed,
  SCAN,
  servicePassed,
  STEP,
  tail,
} from "../../.dagger/src/report.js";

function row(name: string, extra: Partial<ServiceRow> = {}): ServiceRow {
  return {
    name,
    path: `services/${name}`,
    lint: STEP.passed,
    test: STEP.passed,
    build: STEP.passed,
    image: IMAGE.built,
    scan: SCAN.notRun,
    failures: [],
    ...extra,
  };
}

function run(services: ServiceRow[], extra: Partial<RunData> = {}): RunData {
  const install = extra.install ?? STEP.passed;
  const gates = extra.gates ?? [];
  return { base: "origin/main", install, installFailure: "", services, unaffected: [], gates, passed: runPassed(install, services, gates), ...extra };
}

describe(".dagger/src/report verdicts", () => {
  it.each([
    [row("api"), true],
    [row("api", { lint: STEP.skipped, build: STEP.notRun, image: IMAGE.notRun }), true],
    [row("api", { test: STEP.failed }), false],
    [row("api", { lint: STEP.blocked }), false],
    [row("api", { image: IMAGE.failed }), false],
    [row("api", { scan: SCAN.passed }), true],
    [row("api", { scan: SCAN.failed }), false],
    [row("api", { scan: SCAN.error }), false],
  ])("servicePassed(%o) is %s", (r, expected) => {
    expect(servicePassed(r)).toBe(expected);
  });

  it("a failed npm ci fails the run even without services", () => {
    expect(runPassed(STEP.failed, [])).toBe(false);
    expect(runPassed(STEP.notRun, [])).toBe(true);
  });
});

describe(".dagger/src/report describeFailure", () => {
  it.each([
    [1, ""],
    [127, "command not found"],
    [137, "killed (SIGKILL), usually out of memory"],
    [143, "terminated (SIGTERM)"],
    [134, "killed by signal 6"],
  ])("exit %i means %j", (code, meaning) => {
    expect(exitMeaning(code)).toBe(meaning);
  });

  it("names the step, the command, the exit code and keeps the end of both outputs", () => {
    const stdout = Array.from({ length: 40 }, (_, i) => `line ${i + 1}`).join("\n");
    const text = describeFailure("test", ["npm", "run", "test", "-w", "services/api"], 137, stdout, "npm ERR! code 137\n");
    expect(text).toBe(
      [
        "test: `npm run test -w services/api` exited with 137 (killed (SIGKILL), usually out of memory)",
        "--- stdout (end) ---",
        "… (10 earlier lines)",
        ...Array.from({ length: 30 }, (_, i) => `line ${i + 11}`),
        "--- stderr (end) ---",
        "npm ERR! code 137",
      ].join("\n"),
    );
  });

  it("tail keeps short output whole", () => {
    expect(tail("a\nb\n\n", 5)).toBe("a\nb");
  });
});

describe(".dagger/src/report renderSummary", () => {
  it("tabulates every service, then failures, then the verdict", () => {
    const failure = "test: `npm run test -w services/worker` exited with 1\n--- stdout (end) ---\nFAIL src/x.test.ts";
    const summary = renderSummary(
      run(
        [row("api", { lint: STEP.skipped }), row("worker", { test: STEP.failed, build: STEP.passed, failures: [failure] })],
        { unaffected: ["billing"] },
      ),
    );
    expect(summary).toBe(
      [
        "service | lint    | test   | build  | image",
        "--------|---------|--------|--------|------",
        "api     | skipped | passed | passed | built",
        "worker  | passed  | failed | passed | built",
        "",
        "Not affected since origin/main: billing",
        "",
        `[worker] ${failure}`,
        "",
        "FAILED: 1 of 2 service(s) failed (worker)",
        "",
      ].join("\n"),
    );
  });

  it("shows the plan's warnings before the verdict, and they do not fail the run", () => {
    const warning = 'service "api": services/api/Dockerfile:3 COPY "src" does not exist in the build context "."; set `context` for it in slipway.yaml, or fix the Dockerfile';
    const summary = renderSummary(run([row("api")], { warnings: [warning] }));
    expect(summary).toContain(`\nwarning: ${warning}\n`);
    expect(summary.trimEnd().endsWith("PASSED: 1 service(s) checked")).toBe(true);
  });

  it("says so when nothing is affected, and passes", () => {
    expect(renderSummary(run([], { unaffected: ["api"], install: STEP.notRun }))).toBe(
      "No service affected since origin/main.\n\nNot affected since origin/main: api\n\nPASSED: 0 service(s) checked\n",
    );
  });

  it("explains a failed npm ci once, not per service", () => {
    const summary = renderSummary(
      run([row("api", { lint: STEP.blocked, test: STEP.blocked, build: STEP.blocked })], {
        install: STEP.failed,
        installFailure: "npm ci: `npm ci --no-audit --no-fund` exited with 1",
      }),
    );
    expect(summary).toContain("install failed, so its services could not be linted, tested or built:\nnpm ci: `npm ci --no-audit --no-fund` exited with 1");
    expect(summary).toContain("api     | blocked | blocked | blocked | built");
    expect(summary.trimEnd().endsWith("FAILED: 1 of 1 service(s) failed (api)")).toBe(true);
  });
});

describe(".dagger/src/report security gates", () => {
  it.each([
    [SCAN.passed, true],
    [SCAN.notRun, true],
    [SCAN.failed, false],
    [SCAN.error, false],
  ])("a repository gate that is %s passes: %s", (status, expected) => {
    expect(gatePassed({ status })).toBe(expected);
    expect(runPassed(STEP.passed, [row("api")], [{ name: "secrets", status, failure: "" }])).toBe(expected);
  });

  it("shows the image scan column, each gate, a gate that could not decide, and names failed gates in the verdict", () => {
    const summary = renderSummary(
      run([row("api", { scan: SCAN.passed }), row("worker", { image: IMAGE.failed, scan: SCAN.blocked, failures: ["image: boom"] })], {
        gates: [
          { name: "secrets", status: SCAN.passed, failure: "" },
          { name: "dependencies", status: SCAN.error, failure: "SLIPWAY_SCAN_ERROR: the dependencies gate could not decide." },
        ],
      }),
    );
    expect(summary).toBe(
      [
        "service | lint   | test   | build  | image  | image scan",
        "--------|--------|--------|--------|--------|-----------",
        "api     | passed | passed | passed | built  | passed",
        "worker  | passed | passed | passed | failed | blocked",
        "",
        "secrets gate: passed\ndependencies gate: error",
        "",
        "[dependencies gate] SLIPWAY_SCAN_ERROR: the dependencies gate could not decide.",
        "",
        "[worker] image: boom",
        "",
        "FAILED: 1 of 2 service(s) failed (worker); dependencies gate error",
        "",
      ].join("\n"),
    );
  });

  it("fails a run whose services all pass when a gate failed, and says which", () => {
    const summary = renderSummary(run([row("api", { scan: SCAN.passed })], { gates: [{ name: "secrets", status: SCAN.failed, failure: "secrets gate failed: 1 finding(s)" }] }));
    expect(summary.trimEnd().split("\n").at(-1)).toBe("FAILED: 0 of 1 service(s) failed; secrets gate failed");
    const report = JSON.parse(renderReport(run([row("api")], { gates: [{ name: "secrets", status: SCAN.failed, failure: "x" }] })));
    expect(report.passed).toBe(false);
    expect(report.gates).toEqual([{ name: "secrets", status: "failed", passed: false, failure: "x" }]);
  });
});

describe(".dagger/src/report renderReport", () => {
  it("is JSON with the verdict and every service's statuses", () => {
    const report = JSON.parse(renderReport(run([row("api"), row("worker", { image: IMAGE.failed, failures: ["image: x"] })])));
    expect(report).toEqual({
      passed: false,
      base: "origin/main",
      install: { status: "passed", failure: null },
      services: [
        { name: "api", path: "services/api", passed: true, lint: "passed", test: "passed", build: "passed", image: "built", scan: "not run", failures: [] },
        { name: "worker", path: "services/worker", passed: false, lint: "passed", test: "passed", build: "passed", image: "failed", scan: "not run", failures: ["image: x"] },
      ],
      gates: [],
      unaffected: [],
      warnings: [],
    });
  });

  it("reports a run without base as base null", () => {
    expect(JSON.parse(renderReport(run([row("api")], { base: "" }))).base).toBeNull();
  });
});
