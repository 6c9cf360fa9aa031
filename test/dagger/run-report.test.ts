import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { RunData, ServiceRow } from "../../.dagger/src/report.js";
import { IMAGE, runPassed, SCAN, STEP } from "../../.dagger/src/report.js";
import type { ReleaseData } from "../../.dagger/src/release-flow.js";
import { ciRunReport, findingsFromSarif, imageOf, notifyEventOf, releaseRunReport, renderCommand, rollbackRunReport, withCiPart } from "../../.dagger/src/run-report.js";
import { runGate } from "../../pipelines/src/scan/gate.js";
import { renderSarif } from "../../pipelines/src/scan/reports/sarif.js";
import type { Tool } from "../../pipelines/src/scan/model.js";
import { renderMarkdown } from "../../pipelines/src/report/markdown.js";
import { RunReport } from "../../pipelines/src/report/schema.js";
import { REPO_ROOT } from "../helpers/cli.js";

// What the module writes must be what `slipway report` reads: every report built here is parsed with the CLI's schema.
const SCAN_FIXTURES = join(REPO_ROOT, "test", "fixtures", "scan");

/** The SARIF the real gate writes for the real scanner fixtures (trivy image, npm audit, OSV). */
function gateSarif(): string {
  const files: [Tool, string][] = [
    ["trivy", "trivy-image.json"],
    ["npm-audit", "npm-audit.json"],
    ["osv-scanner", "osv.json"],
  ];
  const { gate } = runGate(files.map(([tool, file]) => ({ tool, file, path: join(SCAN_FIXTURES, file) })), undefined, new Date("2025-03-01T12:00:00Z"));
  return renderSarif(gate, ["trivy", "npm-audit", "osv-scanner"]);
}

function row(name: string, extra: Partial<ServiceRow> = {}): ServiceRow {
  return { name, path: `services/${name}`, lint: STEP.passed, test: STEP.passed, build: STEP.passed, image: IMAGE.built, scan: SCAN.passed, failures: [], toolchain: "npm 10.9.2, Node 20", ...extra };
}

const T = (startedAt: string, durationMs: number) => ({ startedAt, durationMs });

describe(".dagger/src/run-report", () => {
  it("reads a gate's findings from the SARIF the gate wrote: tool, severity, title, target, and what failed it", () => {
    const { findings, omitted } = findingsFromSarif("dependencies", gateSarif());
    expect(omitted).toBe(0);
    expect(findings.length).toBeGreaterThan(5);
    expect(new Set(findings.map((f) => f.tool))).toEqual(new Set(["trivy", "npm-audit", "osv-scanner"]));
    expect(findings.every((f) => ["critical", "high", "medium", "low", "unknown"].includes(f.severity))).toBe(true);
    const blocking = findings.filter((f) => f.blocking);
    expect(blocking.length).toBeGreaterThan(0);
    // Blocking first, so a cut never hides what failed the gate.
    expect(findings.slice(0, blocking.length).every((f) => f.blocking)).toBe(true);
    expect(findingsFromSarif("dependencies", gateSarif(), 2)).toMatchObject({ omitted: findings.length - 2 });
  });

  it("builds a failing ci's run report that the CLI's schema accepts, with the failing gate, timings and findings", () => {
    const services = [
      row("api", { scan: SCAN.failed, failures: ["image scan: SLIPWAY_GATE_FAILED: 1 critical vulnerability in image api"] }),
      row("worker", { test: STEP.failed, failures: ["test: `npm run test -w services/worker` exited with 1"] }),
    ];
    const gates = [
      { name: "secrets", status: SCAN.passed, failure: "" },
      { name: "dependencies", status: SCAN.passed, failure: "" },
    ];
    const run: RunData = { base: "origin/main", install: STEP.passed, installFailure: "", services, unaffected: [], gates, passed: runPassed(STEP.passed, services, gates), warnings: [] };
    const built = ciRunReport({
      run,
      timings: { "api/lint": T("2026-12-07T01:00:05.000Z", 1200), "worker/test": T("2026-12-07T01:00:05.000Z", 9000) },
      installs: [{ label: "npm 10.9.2, Node 20", status: STEP.passed, failure: "", timing: T("2026-12-07T01:00:00.000Z", 5000) }],
      startedAt: "2026-12-07T01:00:00.000Z",
      durationMs: 60000,
      sourceSha: "3f9c2a1b7d4e5f60718293a4b5c6d7e8f9012345",
      findings: [{ gate: "image api", ...findingsFromSarif("image api", gateSarif()) }],
    });
    const report = RunReport.parse(built);
    expect(report).toMatchObject({ kind: "ci", outcome: "failed", failingGate: "image api", base: "origin/main" });
    expect(report.gates.map((g) => [g.name, g.outcome])).toEqual([
      ["secrets", "passed"],
      ["dependencies", "passed"],
      ["image api", "failed"],
      ["image worker", "passed"],
    ]);
    expect(report.steps).toEqual([{ name: "install npm 10.9.2, Node 20", outcome: "passed", startedAt: "2026-12-07T01:00:00.000Z", durationMs: 5000, detail: "" }]);
    const worker = report.services.find((s) => s.name === "worker");
    expect(worker?.steps.find((s) => s.name === "test")).toEqual({ name: "test", outcome: "failed", startedAt: "2026-12-07T01:00:05.000Z", durationMs: 9000, detail: "test: `npm run test -w services/worker` exited with 1" });
    expect(worker?.steps.find((s) => s.name === "image")?.outcome).toBe("passed");
    expect(report.failure).toBe("2 of 2 service(s) failed: api, worker\nimage api gate failed");
    // The Markdown leads with the gate that failed.
    expect(renderMarkdown(report)).toMatch(/^# ❌ ci: FAILED\n[\s\S]*?\n## Failing gate: image api \(failed\)/);
  });

  it("builds a rolled-back release's run report: timed steps, images, migrations, the GitOps commit and the rollback's steps", () => {
    const digest = `sha256:${"a".repeat(64)}`;
    const data: ReleaseData = {
      kind: "release",
      environment: "dev",
      status: "rolled-back",
      sourceSha: "8e1d0c4f2a3b5c6d7e8f90a1b2c3d4e5f6a7b8c9",
      ledgerId: "7",
      gitopsCommit: "5d2e7a9c1b3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b",
      images: [`acme.azurecr.io/shop/api=sha-8e1d0c4f2a3b@${digest}`],
      promotedFrom: "",
      steps: [],
      failure: "SLIPWAY_ROLLOUT_FAILED: deployment/api: CrashLoopBackOff",
      rollback: "rolled back to release 6 in commit a1b2c3d4e5f6 (release 7 is rolled-back)\nmigrations: api: reverted AddOrderStatus1733500000000\nthe restored release (8) is healthy and verified",
      unreleasedImages: [],
    };
    const steps = [
      { step: "ci", status: "passed" as const, detail: "api: lint, test, build, image, gates", ...T("2026-12-07T02:10:00.000Z", 150000) },
      { step: "publish", status: "passed" as const, detail: "api pushed", ...T("2026-12-07T02:12:30.000Z", 20000) },
      { step: "verify", status: "failed" as const, detail: "verdict failed", ...T("2026-12-07T02:12:50.000Z", 180000) },
      { step: "rollback", status: "passed" as const, detail: "rolled back", ...T("2026-12-07T02:15:50.000Z", 90000) },
    ];
    const report = RunReport.parse(
      releaseRunReport({
        data,
        steps,
        migrations: [{ service: "api", applied: ["AddOrderStatus1733500000000"], reverted: ["AddOrderStatus1733500000000"], outcome: "passed", detail: "" }],
        startedAt: "2026-12-07T02:10:00.000Z",
        durationMs: 440000,
      }),
    );
    expect(report).toMatchObject({ kind: "release", outcome: "rolled-back", environment: "dev", gitops: { commit: data.gitopsCommit, ledgerId: "7", promotedFrom: null } });
    expect(report.images).toEqual([{ service: "api", repository: "acme.azurecr.io/shop/api", tag: "sha-8e1d0c4f2a3b", digest }]);
    expect(report.steps.map((s) => s.name)).toEqual(["ci", "publish", "verify"]);
    expect(report.rollback).toEqual({
      outcome: "done",
      restored: "6",
      steps: [
        { name: "git", outcome: "passed", startedAt: "2026-12-07T02:15:50.000Z", durationMs: 90000, detail: "rolled back to release 6 in commit a1b2c3d4e5f6 (release 7 is rolled-back)" },
        { name: "migrations", outcome: "passed", startedAt: null, durationMs: null, detail: "migrations: api: reverted AddOrderStatus1733500000000" },
        { name: "verify restored", outcome: "passed", startedAt: null, durationMs: null, detail: "the restored release (8) is healthy and verified" },
      ],
    });
  });

  it("puts a release's checks (services, gates, findings, the failing gate) into its run report", () => {
    const services = [row("api", { scan: SCAN.failed, failures: ["image scan: SLIPWAY_GATE_FAILED: 1 critical vulnerability in image api"] })];
    const run: RunData = { base: "", install: STEP.passed, installFailure: "", services, unaffected: [], gates: [], passed: false, warnings: ["a plan warning"] };
    const ci = ciRunReport({ run, timings: {}, installs: [], startedAt: "2026-12-07T01:00:00.000Z", durationMs: 1, sourceSha: "", findings: [{ gate: "image api", ...findingsFromSarif("image api", gateSarif()) }] }) as Record<string, unknown>;
    const data: ReleaseData = { kind: "release", environment: "dev", status: "failed", sourceSha: "", ledgerId: "", gitopsCommit: "", images: [], promotedFrom: "", steps: [], failure: "ci failed", rollback: "", unreleasedImages: [] };
    const release = releaseRunReport({ data, steps: [{ step: "ci", status: "failed", detail: "lint, test, build, image or a security gate failed" }], migrations: [], startedAt: "2026-12-07T01:00:00.000Z", durationMs: 2 });
    const report = RunReport.parse(withCiPart(release, ci));
    expect(report).toMatchObject({ kind: "release", outcome: "failed", failingGate: "image api", warnings: ["a plan warning"] });
    expect(report.services.map((s) => s.name)).toEqual(["api"]);
    expect(report.findings.length).toBeGreaterThan(0);
    expect(renderMarkdown(report)).toContain("## Failing gate: image api (failed)");
  });

  it("maps a release's status to the notify event and IMAGE=TAG@DIGEST to an image; renders in the toolkit's /tmp", () => {
    expect(["verified", "rolled-back", "failed", "unknown"].map(notifyEventOf)).toEqual(["verified", "rolled-back", "failed", "failed"]);
    expect(imageOf("acme.azurecr.io/api=v1")).toBeNull();
    expect(renderCommand("html")).toEqual(["slipway", "report", "--in", "/tmp/slipway-run-report.json", "--format", "html", "--out", "/tmp/report.html"]);
  });
});

// The on-demand rollback's run report (rollbackRun) from its report lines, in the shapes runRollback writes
// (.dagger/src/rollback-run.ts); the e2e (release.e2e.ts) reads the real one through the Dagger stand-in.
describe("rollbackRunReport", () => {
  const at = { environment: "prod", startedAt: "2026-12-07T03:00:00.000Z", durationMs: 42000 };
  const digest = `sha256:${"a".repeat(64)}`;

  it("a rollback done and verified: outcome verified, one step per line, the commit and the release returned to", () => {
    const report = [
      "rollback of prod to release 6",
      "git: commit 0123456789ab in clusters/prod; release 7 rolled-back; release 8 restores 6",
      `database: api: reverted AddOrderNote1795400000000 with acme.azurecr.io/shop/api@${digest} (release 7)`,
      "verify: release 8 (release 6's images) is healthy and verified",
      "registry: acme.azurecr.io/shop/api:failed-7 -> " + digest,
      "",
    ].join("\n");
    const run = RunReport.parse(rollbackRunReport({ ...at, ok: true, report }));
    expect(run).toMatchObject({ kind: "rollback", outcome: "verified", environment: "prod", failure: "", gitops: { commit: "0123456789ab" }, rollback: { outcome: "done", restored: "6" } });
    expect(run.steps.map((s) => [s.name, s.outcome])).toEqual([["rollback", "passed"], ["git", "passed"], ["database", "passed"], ["verify", "passed"], ["registry", "passed"]]);
    expect(run.rollback?.steps).toEqual(run.steps);
  });

  it("stopped after Git (gitOnly): failed, naming what is left; no kubeconfig is a skipped verify", () => {
    const report = [
      "rollback of dev to release 3",
      "git: commit 89abcdef0123 in clusters/dev; release 4 rolled-back; release 5 restores 3",
      "database: NOT reverted (gitOnly): svc still has AddItemNote1795309200000",
      "verify: not done (no kubeconfig): release 5 stays pending until `slipway ledger mark --env dev --id 5 --status verified|failed`",
      "registry: NOT marked (gitOnly): acme.azurecr.io/shop/svc:failed-4",
      "",
    ].join("\n");
    const run = RunReport.parse(rollbackRunReport({ ...at, environment: "dev", ok: false, report }));
    expect(run).toMatchObject({ kind: "rollback", outcome: "failed", rollback: { outcome: "incomplete", restored: "3" } });
    expect(run.steps.map((s) => [s.name, s.outcome])).toEqual([["rollback", "passed"], ["git", "passed"], ["database", "failed"], ["verify", "skipped"], ["registry", "failed"]]);
    expect(run.failure).toBe("database: NOT reverted (gitOnly): svc still has AddItemNote1795309200000\nregistry: NOT marked (gitOnly): acme.azurecr.io/shop/svc:failed-4");
  });

  it("every step done without a kubeconfig: unknown (not verified); resumed and already-there reports", () => {
    const unverified = "rollback of prod to release 6\ngit: commit 0123456789ab in clusters/prod; release 7 rolled-back; release 8 restores 6\ndatabase: nothing to revert\nverify: not done (no kubeconfig): release 8 stays pending\n";
    expect(RunReport.parse(rollbackRunReport({ ...at, ok: true, report: unverified })).outcome).toBe("unknown");
    const resumed = "rollback of prod to release 6, RESUMED: release 8 (pending) already restores it\ngit: already done (branch tip 0123456789ab; release 7 rolled-back by it)\nverify: release 8 (release 6's images) is healthy and verified\n";
    expect(RunReport.parse(rollbackRunReport({ ...at, ok: true, report: resumed }))).toMatchObject({ outcome: "verified", gitops: null, rollback: { restored: "6" } });
    const nothing = RunReport.parse(rollbackRunReport({ ...at, ok: true, report: "rollback of prod: nothing to do, already at release 6\n" }));
    expect(nothing).toMatchObject({ outcome: "verified", rollback: { outcome: "done", restored: "6" } });
    const stopped = RunReport.parse(rollbackRunReport({ ...at, ok: false, report: "rollback of prod to release 6: STOPPED before the Git commit\ndatabase check: api: AddOrderNote1795400000000: down() BLOCKS: drops column orders.note (holds data)\ndatabase check: api: CreateOrders1795309200000: down() ok\ngit: NOT done: nothing pushed; the ledger is unchanged\n" }));
    expect(stopped).toMatchObject({ outcome: "failed", rollback: { outcome: "incomplete", restored: "6" } });
    expect(stopped.steps.map((s) => [s.name, s.outcome])).toEqual([["rollback", "failed"], ["database check", "failed"], ["database check", "passed"], ["git", "failed"]]);
  });
});
