import { describe, expect, it } from "vitest";
import { cliFailure, optional, parseCliJson, repeat, runId } from "../../.dagger/src/cli.js";
import { countLine, gateCommand, gateFailure, parseGate, parseScannerRun, scannerArgvCommand } from "../../.dagger/src/scan-cli.js";
import type { GateVerdict, ScannerRun } from "../../.dagger/src/scan-cli.js";

describe(".dagger/src/cli", () => {
  it("names the command when its output is not JSON or not usable", () => {
    expect(() => parseCliJson(["slipway", "acr", "tags", "--service", "api"], "oops", () => [])).toThrow(
      /^SLIPWAY_CLI_OUTPUT: `slipway acr tags` did not print JSON .*output starts with: "oops"/,
    );
    expect(() => parseCliJson(["slipway", "acr", "tags"], "[]", () => [])).toThrow("printed JSON that is not an object");
    expect(() => parseCliJson(["slipway", "acr", "tags"], "{}", () => ["a: missing", "b: missing"])).toThrow(
      "SLIPWAY_CLI_OUTPUT: the JSON printed by `slipway acr tags` is not usable:\n  - a: missing\n  - b: missing",
    );
  });

  it("explains a failed command with the CLI's stderr and the exit code's meaning, stdout only when asked", () => {
    const run = { exitCode: 2, stdout: '{"status":"failed"}', stderr: "SLIPWAY_USAGE: --to needs a migration name\n" };
    const message = cliFailure(["slipway", "migrate", "run", "--to", ""], run).message;
    expect(message).toBe("slipway migrate run: `slipway migrate run --to ` exited with 2\n--- stderr (end) ---\nSLIPWAY_USAGE: --to needs a migration name");
    expect(cliFailure(["slipway", "migrate", "run"], run, true).message).toContain('--- stdout (end) ---\n{"status":"failed"}');
  });

  it("repeats flags and leaves out empty optional values", () => {
    expect(repeat("--tag", ["a", "b"])).toEqual(["--tag", "a", "--tag", "b"]);
    expect(repeat("--tag", undefined)).toEqual([]);
    expect(optional("--path", "")).toEqual([]);
    expect(optional("--path", undefined)).toEqual([]);
    expect(optional("--path", "clusters/prod")).toEqual(["--path", "clusters/prod"]);
  });

  it("gives a different run id every call", () => {
    const now = new Date("2026-01-02T03:04:05Z");
    expect(runId(now, () => 0.5)).toBe("2026-01-02T03:04:05.000Z-8");
    expect(runId()).not.toBe(runId());
  });
});

// What `slipway scan argv --scanner npm-audit --out /out --source /src` prints (pipelines/src/scan/argv.ts).
const npmAudit: ScannerRun = {
  scanner: "npm-audit",
  gateFlag: "--npm-audit",
  image: "node:20.19.0-bookworm-slim",
  argv: ["npm", "audit", "--json", "--package-lock-only"],
  workdir: "/src",
  output: "/out/npm-audit.json",
  redirectStdout: true,
};
const trivyFs: ScannerRun = {
  scanner: "trivy-fs",
  gateFlag: "--trivy",
  image: "aquasec/trivy:0.57.1",
  argv: ["trivy", "fs", "."],
  workdir: "/src",
  output: "/out/trivy-fs.json",
  redirectStdout: false,
  cache: { volume: "slipway-trivy-0.57.1", path: "/cache/trivy" },
};

describe(".dagger/src/scan-cli", () => {
  it("asks the CLI for a scanner's run with the module's mount points", () => {
    expect(scannerArgvCommand("trufflehog", { source: "/src", since: "abc123" })).toEqual([
      "slipway", "scan", "argv", "--scanner", "trufflehog", "--out", "/out", "--source", "/src", "--since", "abc123",
    ]);
    expect(scannerArgvCommand("trivy-image", { source: "/src", input: "/scan/image.tar" })).toEqual([
      "slipway", "scan", "argv", "--scanner", "trivy-image", "--out", "/out", "--source", "/src", "--input", "/scan/image.tar",
    ]);
  });

  it("reads a scanner run and refuses one it cannot execute, listing every problem", () => {
    const command = scannerArgvCommand("npm-audit");
    expect(parseScannerRun(command, JSON.stringify({ ...npmAudit, tool: "npm-audit" }))).toMatchObject(npmAudit);
    expect(parseScannerRun(command, JSON.stringify(trivyFs)).cache).toEqual(trivyFs.cache);
    const bad = { ...npmAudit, argv: [], gateFlag: "--grype", output: "/tmp/x.json", cache: "yes" };
    expect(() => parseScannerRun(command, JSON.stringify(bad))).toThrow(
      /argv: expected a non-empty array[\s\S]*gateFlag: expected one of[\s\S]*output: expected a file under \/out[\s\S]*cache: expected/,
    );
  });

  it("hands every report to the gate under its own folder, with the outputs and --json", () => {
    expect(gateCommand([npmAudit, trivyFs])).toEqual([
      "slipway", "scan", "gate",
      "--npm-audit", "/tmp/slipway-reports/0/npm-audit.json",
      "--trivy", "/tmp/slipway-reports/1/trivy-fs.json",
      "--sarif", "/tmp/slipway-gate/report.sarif",
      "--junit", "/tmp/slipway-gate/junit.xml",
      "--markdown", "/tmp/slipway-gate/summary.md",
      "--json",
    ]);
  });

  const counts = {
    vulnerability: { CRITICAL: 1, HIGH: 2, MEDIUM: 0, LOW: 4, UNKNOWN: 0 },
    secret: { CRITICAL: 0, HIGH: 1, MEDIUM: 0, LOW: 0, UNKNOWN: 0 },
    misconfiguration: { CRITICAL: 0, HIGH: 0, MEDIUM: 0, LOW: 0, UNKNOWN: 0 },
  };
  const failed: GateVerdict = {
    passed: false,
    counts,
    failing: [
      { severity: "CRITICAL", kind: "vulnerability", id: "CVE-2024-1", package: "lodash", target: "package-lock.json" },
      { severity: "HIGH", kind: "secret", id: "AWS", file: "src/config.ts", target: "file:///src" },
    ],
    exceptions: { expired: [{ index: 0 }], stale: [] },
  };

  it("reads the gate's verdict only when it agrees with the exit code", () => {
    const command = gateCommand([npmAudit]);
    expect(parseGate(command, 1, JSON.stringify(failed))).toEqual(failed);
    expect(parseGate(command, 0, JSON.stringify({ ...failed, passed: true, failing: [] })).passed).toBe(true);
    expect(() => parseGate(command, 0, JSON.stringify(failed))).toThrow("passed is false but the command exited with 0");
    expect(() => parseGate(command, 1, JSON.stringify({ passed: false, counts: { secret: { HIGH: "1" } }, failing: [{}] }))).toThrow(
      /counts: expected[\s\S]*failing: expected[\s\S]*exceptions: expected/,
    );
  });

  it("summarises a failed gate: counts worst first, the first findings, expired exceptions", () => {
    expect(countLine(counts)).toBe("CRITICAL 1, HIGH 3, LOW 4");
    expect(countLine({ secret: { HIGH: 0 } })).toBe("no findings");
    expect(gateFailure("dependencies", failed)).toBe(
      [
        "dependencies gate failed: 2 finding(s) over the policy, 1 expired exception(s) (CRITICAL 1, HIGH 3, LOW 4)",
        "  CRITICAL vulnerability CVE-2024-1 in lodash",
        "  HIGH secret AWS in src/config.ts",
      ].join("\n"),
    );
    expect(gateFailure("secrets", failed, 1).split("\n").at(-1)).toBe("  … and 1 more (see the ScanReport summary, SARIF or JUnit)");
  });
});
