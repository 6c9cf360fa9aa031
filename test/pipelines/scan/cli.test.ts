import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cli, cliProcess, REPO_ROOT } from "../../helpers/cli.js";
import { commitAll, git, removeTree, tempRepo, tempTree } from "../../helpers/repo.js";

const F = join(REPO_ROOT, "test", "fixtures", "scan");
const ALL = ["--trivy", `${F}/trivy-image.json`, "--trivy", `${F}/trivy-fs.json`, "--trufflehog", `${F}/trufflehog.jsonl`, "--npm-audit", `${F}/npm-audit.json`, "--osv", `${F}/osv.json`];

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) removeTree(d);
  dirs = [];
});
function workdir(files: Record<string, string> = {}): string {
  const dir = tempTree(files, "slipway-scan-");
  dirs.push(dir);
  return dir;
}

describe("slipway scan gate", () => {
  it("exits 1 with --json giving the verdict, the counts after deduplication and every failing finding", async () => {
    const dir = workdir();
    const result = await cli(["scan", "gate", ...ALL, "--json"], dir);
    expect(result.code).toBe(1);
    const out = JSON.parse(result.stdout) as { passed: boolean; counts: Record<string, Record<string, number>>; failing: { id: string; kind: string; severity: string; fingerprint: string }[] };
    expect(out.passed).toBe(false);
    expect(out.counts).toEqual({
      vulnerability: { CRITICAL: 1, HIGH: 4, MEDIUM: 3, LOW: 2, UNKNOWN: 1 },
      secret: { CRITICAL: 2, HIGH: 1, MEDIUM: 1, LOW: 0, UNKNOWN: 0 },
      misconfiguration: { CRITICAL: 0, HIGH: 1, MEDIUM: 0, LOW: 1, UNKNOWN: 0 },
    });
    expect(out.failing).toHaveLength(9);
    expect(out.failing[0]).toMatchObject({ kind: "vulnerability", id: "CVE-2024-0001", severity: "CRITICAL", package: "libssl3", tool: "trivy" });
    expect(result.stderr).toMatch(/^SLIPWAY_GATE_FAILED: security gate failed: 9 findings over the policy/);
    for (const secret of ["AKIAIOSFODNN7EXAMPLE", "hunter2", "XXXXSLACKFAKE"]) expect(result.stdout + result.stderr).not.toContain(secret);
  });

  it("exits 0 and writes SARIF, JUnit and Markdown when the policy in slipway.yaml passes", async () => {
    const dir = workdir({
      "slipway.yaml": "scan:\n  policy:\n    vulnerability: { failOn: [CRITICAL], ignoreUnfixed: true }\n    secret: { failOn: [], failOnSeverity: [] }\n    misconfiguration: { failOn: [] }\n  exceptions:\n    - { id: CVE-2024-0001, reason: 'base image bump scheduled', owner: platform, expires: '2999-01-01' }\n",
    });
    const result = await cli(["scan", "gate", ...ALL, "--sarif", "out.sarif", "--junit", "junit.xml", "--markdown", "summary.md"], dir);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^security gate passed/);
    expect(JSON.parse(readFileSync(join(dir, "out.sarif"), "utf8"))).toMatchObject({ version: "2.1.0" });
    expect(readFileSync(join(dir, "junit.xml"), "utf8")).toMatch(/<testsuites name="slipway scan gate" tests="4" failures="0"/);
    expect(readFileSync(join(dir, "summary.md"), "utf8")).toMatch(/^## Security gate: passed/);
  });

  it("fails on an expired exception and says which one", async () => {
    const dir = workdir({ "slipway.yaml": "scan:\n  exceptions:\n    - { id: CVE-2024-4068, reason: waiting, owner: bob, expires: '2020-01-01' }\n" });
    const result = await cli(["scan", "gate", "--osv", `${F}/osv.json`, "--config", "slipway.yaml"], dir);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("expired exception scan.exceptions[0] CVE-2024-4068 (owner bob) expired on 2020-01-01: fails the gate");
    expect(result.stderr).toMatch(/SLIPWAY_GATE_FAILED: .*1 expired exception/);
  });

  it.each([
    ["a report that is null", ["--trivy", `${F}/null.json`], "SLIPWAY_SCAN_REPORT_UNREADABLE"],
    ["an unsupported schema", ["--trivy", `${F}/trivy-schema1.json`], "SLIPWAY_SCAN_REPORT_UNSUPPORTED"],
    ["an unknown severity", ["--osv", `${F}/osv.json`, "--trivy", `${F}/trivy-unknown-severity.json`], "SLIPWAY_SCAN_REPORT_INVALID"],
    ["a missing report", ["--trufflehog", "nowhere.jsonl"], "SLIPWAY_SCAN_REPORT_MISSING"],
    ["no report at all", [], "SLIPWAY_USAGE"],
  ])("exits 2 on %s and writes no report", async (_name, args, code) => {
    const dir = workdir();
    const result = await cli(["scan", "gate", ...args, "--sarif", "out.sarif", "--junit", "junit.xml", "--markdown", "summary.md"], dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(new RegExp(`^${code}: `));
    expect(readdirSync(dir)).toEqual([]);
  });

  it("leaves no half-written report when an output cannot be written", async () => {
    const dir = workdir();
    const result = await cli(["scan", "gate", "--osv", `${F}/osv.json`, "--sarif", "out.sarif", "--junit", "missing-dir/junit.xml"], dir);
    expect(result.code).toBe(2);
    // Checked before anything is written (pipelines/src/cli/paths.ts); writeReports' own clean-up stays behind it.
    expect(result.stderr).toMatch(/^SLIPWAY_PATH_INVALID: --junit "missing-dir\/junit.xml" is in a folder that does not exist/);
    expect(existsSync(join(dir, "out.sarif"))).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("gives the same verdict and exit code as a real process", async () => {
    const dir = workdir();
    writeFileSync(join(dir, "slipway.yaml"), "scan:\n  policy: { vulnerability: { failOn: [CRITICAL] } }\n");
    // From the repo root: `node --import tsx` resolves tsx from the working directory.
    const result = await cliProcess(["scan", "gate", "--osv", `${F}/osv.json`, "--config", join(dir, "slipway.yaml"), "--json"], REPO_ROOT);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ passed: true, failing: [], counts: { vulnerability: { HIGH: 3, MEDIUM: 1 } } });
  });
});

describe("slipway scan argv", () => {
  it("prints the scanner run as JSON with the config's pins, and TruffleHog starts from the commit the ref names", async () => {
    const dir = tempRepo({ "slipway.yaml": "scan:\n  images: { trufflehog: 'myacr.azurecr.io/trufflehog:3.88.0' }\n" });
    dirs.push(dir);
    const base = git(dir, "rev-parse", "HEAD").trim();
    // origin/main, as in a CI checkout: TruffleHog's own resolution would not look where git does.
    git(dir, "update-ref", "refs/remotes/origin/main", base);
    commitAll(dir, "feature", { "src/app.ts": "export {};\n" });
    const result = await cli(["scan", "argv", "--scanner", "trufflehog", "--source", dir, "--since", "origin/main"], dir);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      image: "myacr.azurecr.io/trufflehog:3.88.0",
      argv: ["/usr/bin/trufflehog", "git", `file://${dir}`, `--since-commit=${base}`, "--json", "--no-update", "--results=verified,unknown,unverified"],
      workdir: dir,
      output: "/out/trufflehog.jsonl",
    });
  });

  it("exits 2 on a ref the checkout does not have, naming it and hinting at fetch-depth 0", async () => {
    const dir = tempRepo({ "README.md": "x\n" });
    dirs.push(dir);
    const result = await cli(["scan", "argv", "--scanner", "trufflehog", "--source", dir, "--since", "origin/main"], dir);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/^SLIPWAY_BASE_NOT_FOUND: base ref "origin\/main" does not exist in this repository\n/);
    expect(result.stderr).toContain("fetch-depth: 0");
  });

  it("exits 2 on a whole-history secret scan of a shallow clone, and accepts it with --since", async () => {
    const upstream = tempRepo({ "README.md": "one\n" });
    commitAll(upstream, "second", { "README.md": "two\n" });
    const scratch = tempTree({});
    dirs.push(upstream, scratch);
    const shallow = join(scratch, "shallow");
    git(scratch, "clone", "-q", "--depth", "1", `file://${upstream}`, shallow);
    const whole = await cli(["scan", "argv", "--scanner", "trufflehog", "--source", shallow], shallow);
    expect(whole.code).toBe(2);
    expect(whole.stdout).toBe("");
    expect(whole.stderr).toMatch(/^SLIPWAY_SHALLOW_HISTORY: ".*shallow" is a shallow clone/);
    const since = await cli(["scan", "argv", "--scanner", "trufflehog", "--source", shallow, "--since", "HEAD"], shallow);
    expect(since.stderr).toBe("");
    expect(since.code).toBe(0);
  });

  it.each([
    ["a ref that would be read as a flag", ["--scanner", "trufflehog", "--source", "/src", "--since=--output=/etc/passwd"], /^SLIPWAY_USAGE: --since "--output=\/etc\/passwd" is not a git ref/],
    ["--since for another scanner", ["--scanner", "osv", "--since", "main"], /^SLIPWAY_USAGE: --since applies only to --scanner trufflehog/],
    ["--since without git history", ["--scanner", "trufflehog", "--no-git", "--since", "main"], /^SLIPWAY_USAGE: --since applies only/],
    ["a relative source", ["--scanner", "trivy-fs", "--source", "."], /^SLIPWAY_USAGE: --source "\.": expected an absolute path inside the scanner container/],
    ["an unknown scanner", ["--scanner", "grype", "--since", "main"], /^SLIPWAY_SCAN_UNKNOWN_SCANNER: unknown scanner "grype"/],
    ["no --scanner", [], /^SLIPWAY_USAGE: --scanner is required/],
  ])("exits 2 on %s", async (_name, args, stderr) => {
    const result = await cli(["scan", "argv", ...args], workdir());
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(stderr);
  });
});
