import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { RawFinding, Tool } from "../../../pipelines/src/scan/model.js";
import { PARSERS } from "../../../pipelines/src/scan/parsers/index.js";
import { thrown } from "../../helpers/errors.js";

// Not through helpers/cli.ts: these tests need no CLI, so they do not load every command.
const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "fixtures", "scan");

function parse(tool: Tool, name: string): RawFinding[] {
  const parser = PARSERS.get(tool);
  if (!parser) throw new Error(`no parser ${tool}`);
  return parser({ text: readFileSync(join(FIXTURES, name), "utf8"), file: name });
}

function parseText(tool: Tool, text: string): RawFinding[] {
  return (PARSERS.get(tool) as (i: { text: string; file: string }) => RawFinding[])({ text, file: "report.json" });
}

describe("pipelines/src/scan/parsers", () => {
  it("has one parser per tool", () => {
    expect([...PARSERS.keys()].sort()).toEqual(["npm-audit", "osv-scanner", "trivy", "trufflehog"]);
  });

  it("reads a Trivy image scan: OS and language packages, secrets, failing misconfigurations only", () => {
    const findings = parse("trivy", "trivy-image.json");
    expect(findings.map((f) => [f.kind, f.id, f.severity, f.package ?? f.location.file])).toEqual([
      ["vulnerability", "CVE-2024-0001", "CRITICAL", "libssl3"],
      ["vulnerability", "CVE-2024-0002", "HIGH", "libssl3"],
      ["vulnerability", "CVE-2023-0003", "MEDIUM", "zlib1g"],
      ["vulnerability", "CVE-2023-0004", "LOW", "tar"],
      ["vulnerability", "CVE-2023-0005", "UNKNOWN", "coreutils"],
      ["vulnerability", "CVE-2024-45590", "HIGH", "body-parser"],
      ["vulnerability", "CVE-2024-45590", "HIGH", "body-parser"],
      ["secret", "aws-access-key-id", "CRITICAL", "/app/.env"],
      ["misconfiguration", "AVD-DS-0002", "HIGH", "Dockerfile"],
      ["misconfiguration", "AVD-DS-0026", "LOW", "Dockerfile"],
    ]);
    const libssl = findings[0] as RawFinding;
    expect(libssl).toMatchObject({ installedVersion: "3.0.11-1~deb12u2", fixedVersions: ["3.0.13-1~deb12u1"], fixAvailable: true });
    expect(findings[1]).toMatchObject({ fixedVersions: [], fixAvailable: false });
    expect(findings[6]?.location).toEqual({ tool: "trivy", target: "Node.js", file: "usr/local/lib/node_modules/npm/node_modules/body-parser/package.json" });
    // Trivy matches patterns and never verifies: no verification, so its severity is what the policy judges.
    expect(findings[7]).toMatchObject({ severity: "CRITICAL", location: { file: "/app/.env", line: 3 } });
    expect(findings[7]?.verification).toBeUndefined();
  });

  it("splits Trivy's comma-joined fixed versions", () => {
    const express = parse("trivy", "trivy-fs.json").find((f) => f.package === "express");
    expect(express?.fixedVersions).toEqual(["4.19.2", "5.0.0-beta.3"]);
  });

  it("reads TruffleHog JSON lines: verified, unknown and unverified, with file, line and commit, skipping log records", () => {
    const findings = parse("trufflehog", "trufflehog.jsonl");
    expect(findings.map((f) => [f.id, f.verification, f.severity, f.location.file, f.location.line, f.location.commit?.slice(0, 7)])).toEqual([
      ["AWS", "verified", "CRITICAL", "config/aws.js", 4, "9f1c2d3"],
      ["URI", "unverified", "MEDIUM", ".env.example", 2, "9f1c2d3"],
      ["SlackWebhook", "unknown", "HIGH", "scripts/notify.sh", 7, "1a2b3c4"],
      ["AWS", "verified", "CRITICAL", "config/aws.js", 4, "0a0b0c0"],
    ]);
    expect(JSON.stringify(findings)).not.toMatch(/AKIAIOSFODNN7EXAMPLE|hunter2|XXXXSLACKFAKE/);
  });

  // TruffleHog prints each result with json.Marshal + Println (trufflesecurity/trufflehog pkg/output/json.go):
  // JSON lines. Wrappers that collect it save the same objects pretty-printed (jq .), back to back, or
  // as one array (jq -s): the same results, read value by value.
  const trufflehogObjects = (): unknown[] => readFileSync(join(FIXTURES, "trufflehog.jsonl"), "utf8").trim().split("\n").map((line) => JSON.parse(line) as unknown);
  it.each([
    ["pretty-printed objects (jq .)", () => trufflehogObjects().map((o) => JSON.stringify(o, null, 2)).join("\n")],
    ["objects back to back, no separator", () => trufflehogObjects().map((o) => JSON.stringify(o)).join("")],
    ["tab-indented objects with CRLF line ends", () => trufflehogObjects().map((o) => JSON.stringify(o, null, "\t")).join("\r\n").replace(/\n/g, "\r\n")],
    ["one JSON array (jq -s)", () => JSON.stringify(trufflehogObjects(), null, 2)],
  ])("reads TruffleHog results saved as %s like JSON lines", (_name, text) => {
    const expected = parse("trufflehog", "trufflehog.jsonl");
    expect(expected).toHaveLength(4);
    expect(parseText("trufflehog", text())).toEqual(expected);
  });

  it.each([
    ["a truncated last object", () => `${JSON.stringify(trufflehogObjects()[0], null, 2)}\n{\n  "SourceMetadata": {`, /line 30 is not JSON: a value starts there and does not end/],
    ["text between pretty-printed objects", () => `${JSON.stringify(trufflehogObjects()[0], null, 2)}\nWARN something\n${JSON.stringify(trufflehogObjects()[1], null, 2)}`, /line 30 is not JSON/],
    ["a pretty-printed object missing a field, named by its first line", () => `${JSON.stringify(trufflehogObjects()[0], null, 2)}\n${JSON.stringify({ ...(trufflehogObjects()[1] as object), DetectorName: undefined }, null, 2)}`, /line 30: DetectorName: missing required field/],
  ])("fails closed on TruffleHog output with %s, naming the line", (_name, text, message) => {
    const error = thrown(() => parseText("trufflehog", text()));
    expect(error.exitCode).toBe(2);
    expect(error.render()).toMatch(message);
    expect(error.render()).not.toMatch(/AKIAIOSFODNN7EXAMPLE|hunter2/);
  });

  it("reads npm audit: one finding per advisory, moderate is MEDIUM, via chains become dependency paths", () => {
    const findings = parse("npm-audit", "npm-audit.json");
    expect(findings.map((f) => [f.package, f.id, f.severity, f.fixAvailable])).toEqual([
      ["body-parser", "GHSA-qwcr-r2fm-qrc7", "HIGH", true],
      ["express", "GHSA-rv95-896h-c2vc", "MEDIUM", true],
      ["braces", "GHSA-grv7-fg5c-xmjg", "HIGH", true],
      ["semver", "GHSA-c2qf-rxjj-qqgw", "MEDIUM", false],
      ["debug", "GHSA-9vvw-cc9w-f27h", "LOW", true],
    ]);
    expect(findings[0]?.paths).toEqual([["express", "body-parser"]]);
    expect(findings[2]?.paths).toEqual([["micromatch", "braces"]]);
    expect(findings[1]?.fixedVersions).toEqual(["4.21.2"]);
  });

  it("reads OSV-Scanner: one finding per group, CVSS score or GHSA rating, aliases and fixed versions", () => {
    const findings = parse("osv-scanner", "osv.json");
    expect(findings.map((f) => [f.package, f.installedVersion, f.id, f.aliases, f.severity, f.fixedVersions])).toEqual([
      ["body-parser", "1.20.2", "CVE-2024-45590", ["GHSA-qwcr-r2fm-qrc7"], "HIGH", ["1.20.3"]],
      ["braces", "3.0.2", "CVE-2024-4068", ["GHSA-grv7-fg5c-xmjg"], "HIGH", ["3.0.3"]],
      ["express", "4.18.2", "CVE-2024-29041", ["GHSA-rv95-896h-c2vc"], "MEDIUM", ["4.19.2"]],
      // max_severity "" falls back to the GHSA rating.
      ["lodash", "4.17.20", "CVE-2021-23337", ["GHSA-35jh-r3h4-6jhm"], "HIGH", ["4.17.21"]],
    ]);
  });

  // GitHub malware advisories as each tool reports them: npm audit's bulk advisory (cwe CWE-506, as
  // GitHub's advisory database classifies malware), Trivy's DetectedVulnerability (CweIDs), OSV's MAL- id.
  it.each([
    ["npm-audit", JSON.stringify({ auditReportVersion: 2, vulnerabilities: { "02-echo": { name: "02-echo", severity: "critical", isDirect: true, via: [{ source: 1109999, name: "02-echo", dependency: "02-echo", title: "Malware in 02-echo", url: "https://github.com/advisories/GHSA-q2q8-5wg4-g6jq", severity: "critical", cwe: ["CWE-506"], cvss: { score: 0, vectorString: null }, range: ">=0" }], effects: [], range: "*", nodes: ["node_modules/02-echo"], fixAvailable: false } } }), true],
    ["npm-audit", readFileSync(join(FIXTURES, "npm-audit.json"), "utf8"), false],
    ["trivy", JSON.stringify({ SchemaVersion: 2, Results: [{ Target: "package-lock.json", Class: "lang-pkgs", Type: "npm", Vulnerabilities: [{ VulnerabilityID: "GHSA-q2q8-5wg4-g6jq", PkgName: "02-echo", InstalledVersion: "0.0.7", Severity: "CRITICAL", CweIDs: ["CWE-506"] }] }] }), true],
    ["trivy", readFileSync(join(FIXTURES, "trivy-fs.json"), "utf8"), false],
    ["osv-scanner", readFileSync(join(FIXTURES, "osv-malicious.json"), "utf8"), true],
    ["osv-scanner", readFileSync(join(FIXTURES, "osv.json"), "utf8"), false],
  ] as const)("marks malicious-package advisories from %s (%#)", (tool, text, malicious) => {
    const findings = parseText(tool, text);
    expect(findings.length).toBeGreaterThan(0);
    expect(findings.every((f) => (f.malicious ?? false) === malicious)).toBe(true);
  });

  // osv-git.json: OSV-Scanner on a repository with a git submodule. A git dependency's PackageInfo has
  // `name`, `version` and `ecosystem` empty and `commit` set (google/osv-scanner pkg/models/results.go,
  // `Commit string json:"commit,omitempty"`); its OSV record has a GIT range with the repository.
  it("reads an OSV-Scanner git dependency (empty name, a commit), named by its repository", () => {
    const findings = parse("osv-scanner", "osv-git.json");
    expect(findings.map((f) => [f.package, f.installedVersion, f.id, f.severity, f.fixedVersions])).toEqual([
      ["https://github.com/madler/zlib", "21767c654d31d2dccdde4330529775c6c5fd5389", "CVE-2022-37434", "CRITICAL", ["eff308af425b67093bab25f80f1ae950166bece1"]],
    ]);
  });

  // npm-audit-npm7.0.json: npm 7.0's `npm audit --json`, as npm/npm-audit-report's tap-snapshots
  // (test-reporters-json.js) record it and @npmcli/arborist 1.x lib/vuln.js toJSON writes it: no
  // `isDirect`, and `via` holds the registry's bulk advisory as is (`id`, `module_name`, `cves`,
  // `vulnerable_versions`, `cwe` a string).
  it("reads npm 7.0 audit reports: no isDirect, advisories with id, module_name and cves", () => {
    const findings = parse("npm-audit", "npm-audit-npm7.0.json");
    expect(findings.map((f) => [f.package, f.id, f.aliases, f.severity, f.paths])).toEqual([
      ["handlebars", "NPM-1164", ["CVE-2019-19919"], "CRITICAL", [["handlebars"]]],
      ["minimist", "NPM-1179", [], "LOW", [["handlebars", "optimist", "minimist"]]],
    ]);
    expect(findings[0]?.description).toContain("Vulnerable versions: <3.0.8 || >=4.0.0 <4.3.0.");
  });

  it("reads an npm audit entry whose via names a package with no entry as a finding of its own (nothing is dropped)", () => {
    const findings = parse("npm-audit", "npm-audit-broken-chain.json");
    expect(findings.find((f) => f.package === "micromatch")).toMatchObject({
      id: "NPM-VIA-micromatch",
      severity: "HIGH",
      title: "micromatch is vulnerable through picomatch, for which the report has no advisory",
      location: { file: "node_modules/micromatch" },
    });
    expect(findings).toHaveLength(6);
  });

  it("keeps an OSV vulnerability that no group mentions", () => {
    const report = JSON.parse(readFileSync(join(FIXTURES, "osv.json"), "utf8")) as { results: { packages: { groups?: unknown }[] }[] };
    delete report.results[0]!.packages[3]!.groups;
    const findings = parseText("osv-scanner", JSON.stringify(report));
    expect(findings.find((f) => f.package === "lodash")).toMatchObject({ id: "CVE-2021-23337", severity: "HIGH" });
  });

  it.each([
    ["trivy", "null.json", "SLIPWAY_SCAN_REPORT_UNREADABLE", /is `null`/],
    ["trivy", "truncated.json", "SLIPWAY_SCAN_REPORT_UNREADABLE", /not valid JSON/],
    ["trivy", "trivy-schema1.json", "SLIPWAY_SCAN_REPORT_UNSUPPORTED", /SchemaVersion 1 is not supported/],
    ["trivy", "trivy-unknown-severity.json", "SLIPWAY_SCAN_REPORT_INVALID", /Results\[0\]\.Vulnerabilities\[1\]\.Severity: unknown severity.*got "SEVERE"/],
    ["trivy", "trivy-missing-field.json", "SLIPWAY_SCAN_REPORT_INVALID", /Results\[0\]\.Vulnerabilities\[2\]\.PkgName: missing required field/],
    ["trufflehog", "trufflehog-missing-field.jsonl", "SLIPWAY_SCAN_REPORT_INVALID", /line 2: DetectorName: missing required field/],
    ["trufflehog", "trufflehog-not-json.jsonl", "SLIPWAY_SCAN_REPORT_UNREADABLE", /line 2 is not JSON/],
    ["npm-audit", "npm-audit-unknown-severity.json", "SLIPWAY_SCAN_REPORT_INVALID", /vulnerabilities\.debug\.via\[0\]\.severity: unknown severity.*got "severe"/],
    ["npm-audit", "npm-audit-v1.json", "SLIPWAY_SCAN_REPORT_UNSUPPORTED", /auditReportVersion null is not supported \(npm 6 format\)/],
    ["npm-audit", "npm-audit-error.json", "SLIPWAY_SCAN_REPORT_UNREADABLE", /npm audit reported an error \(ENOLOCK\)/],
    ["osv-scanner", "osv-unknown-severity.json", "SLIPWAY_SCAN_REPORT_INVALID", /groups\[0\]\.max_severity: unknown severity.*got "high-ish"/],
    ["osv-scanner", "trivy-fs.json", "SLIPWAY_SCAN_REPORT_UNSUPPORTED", /no `results` key/],
  ] as const)("fails closed on %s %s (%s), naming the file and field", (tool, file, code, message) => {
    const error = thrown(() => parse(tool, file));
    expect(error.code).toBe(code);
    expect(error.exitCode).toBe(2);
    expect(error.render()).toContain(file);
    expect(error.render()).toMatch(message);
  });

  it.each([
    ["Vulnerabilities[].Status", (r: { Results: Record<string, unknown>[] }) => { (r.Results[0]!.Vulnerabilities as Record<string, unknown>[])[0]!.Status = "wontfix"; }, /Results\[0\]\.Vulnerabilities\[0\]\.Status: unknown status.*got "wontfix"/],
    ["ExperimentalModifiedFindings[].Status", (r: { Results: Record<string, unknown>[] }) => { (r.Results[0]!.ExperimentalModifiedFindings as Record<string, unknown>[])[0]!.Status = "suppressed"; }, /ExperimentalModifiedFindings\[0\]\.Status: unknown status.*got "suppressed"/],
    ["ExperimentalModifiedFindings[].Type", (r: { Results: Record<string, unknown>[] }) => { (r.Results[0]!.ExperimentalModifiedFindings as Record<string, unknown>[])[0]!.Type = "sast"; }, /ExperimentalModifiedFindings\[0\]\.Type: unknown Type/],
    ["a suppressed vulnerability without PkgName", (r: { Results: Record<string, unknown>[] }) => { delete ((r.Results[0]!.ExperimentalModifiedFindings as Record<string, unknown>[])[0]!.Finding as Record<string, unknown>).PkgName; }, /ExperimentalModifiedFindings\[0\]\.Finding\.PkgName: missing required field/],
  ])("fails closed on an unknown Trivy %s (exit 2)", (_name, change, message) => {
    const report = JSON.parse(readFileSync(join(FIXTURES, "trivy-vex.json"), "utf8")) as { Results: Record<string, unknown>[] };
    change(report);
    const error = thrown(() => parseText("trivy", JSON.stringify(report, null, 2)));
    expect(error.code).toBe("SLIPWAY_SCAN_REPORT_INVALID");
    expect(error.exitCode).toBe(2);
    expect(error.render()).toMatch(message);
  });

  it("never quotes a secret from a report it cannot read", () => {
    const error = thrown(() => parse("trufflehog", "trufflehog-not-json.jsonl"));
    expect(error.render()).not.toContain("AKIAIOSFODNN7EXAMPLE");
    const broken = thrown(() => parseText("trivy", '{"SchemaVersion": 2, "Results": [{"Target": "x", "Secrets": [{"Match": "password=hunter2-not-real"'));
    expect(broken.render()).not.toContain("hunter2");
  });

  it.each([
    ["a JSON array", "[]", "trivy"],
    ["a number", "42", "osv-scanner"],
    ["an empty file", "  \n", "npm-audit"],
  ] as const)("rejects %s", (_name, text, tool) => {
    expect(thrown(() => parseText(tool, text)).code).toBe("SLIPWAY_SCAN_REPORT_UNREADABLE");
  });

  it("accepts an empty TruffleHog output (a clean scan prints nothing)", () => {
    expect(parseText("trufflehog", "")).toEqual([]);
  });

  it("treats Trivy's own EXCEPTION status as a finding: exceptions live in slipway.yaml", () => {
    const report = {
      SchemaVersion: 2,
      Results: [{ Target: "k8s/deploy.yaml", Class: "config", Misconfigurations: [{ ID: "KSV001", AVDID: "AVD-KSV-0001", Title: "Process can elevate privileges", Severity: "MEDIUM", Status: "EXCEPTION" }] }],
    };
    expect(parseText("trivy", JSON.stringify(report))).toHaveLength(1);
    report.Results[0]!.Misconfigurations[0]!.Status = "SKIPPED";
    expect(thrown(() => parseText("trivy", JSON.stringify(report))).render()).toMatch(/Misconfigurations\[0\]\.Status: unknown status.*got "SKIPPED"/);
  });
});
