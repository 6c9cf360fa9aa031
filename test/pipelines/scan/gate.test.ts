import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import AjvDraft04 from "ajv-draft-04";
import ajvFormats from "ajv-formats";
import type { Log } from "sarif";
import { XMLParser } from "fast-xml-parser";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../../pipelines/src/config/load.js";
import { dedupe } from "../../../pipelines/src/scan/dedupe.js";
import type { ReportFile } from "../../../pipelines/src/scan/gate.js";
import { gateJson, gateText, runGate, writeReports } from "../../../pipelines/src/scan/gate.js";
import type { RawFinding, Tool } from "../../../pipelines/src/scan/model.js";
import { renderJunit } from "../../../pipelines/src/scan/reports/junit.js";
import { renderMarkdown } from "../../../pipelines/src/scan/reports/markdown.js";
import { renderSarif } from "../../../pipelines/src/scan/reports/sarif.js";
import { fixText } from "../../../pipelines/src/scan/reports/text.js";
import type { ScanSettings } from "../../../pipelines/src/scan/schema.js";

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "fixtures", "scan");
const NOW = new Date("2025-03-01T12:00:00Z");

const ALL: [Tool, string][] = [
  ["trivy", "trivy-image.json"],
  ["trivy", "trivy-fs.json"],
  ["trufflehog", "trufflehog.jsonl"],
  ["npm-audit", "npm-audit.json"],
  ["osv-scanner", "osv.json"],
];

function reports(list: [Tool, string][]): ReportFile[] {
  return list.map(([tool, file]) => ({ tool, file, path: join(FIXTURES, file) }));
}

function settings(yaml: string): ScanSettings | undefined {
  return parseConfig(yaml, "slipway.yaml").scan;
}

// The official SARIF 2.1.0 schema (final, rtm.5) as shipped by Microsoft's @microsoft/jest-sarif; it is draft-04.
const require = createRequire(import.meta.url);
const sarifSchema = JSON.parse(readFileSync(require.resolve("@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json"), "utf8")) as object;
// unicodeRegExp off: one pattern in the official schema (`language`) is not valid with the `u` flag.
// Both are CommonJS with `exports.default`; under NodeNext the default import is the whole module.
const ajv = new AjvDraft04.default({ allErrors: true, strict: false, unicodeRegExp: false });
ajvFormats.default(ajv);
const validateSarif = ajv.compile(sarifSchema);

describe("pipelines/src/scan/gate", () => {
  it("counts every fixture's findings once after deduplication and fails on the default policy", () => {
    const { gate } = runGate(reports(ALL), undefined, NOW);
    expect(gate.counts).toEqual({
      vulnerability: { CRITICAL: 1, HIGH: 4, MEDIUM: 3, LOW: 2, UNKNOWN: 1 },
      secret: { CRITICAL: 2, HIGH: 1, MEDIUM: 1, LOW: 0, UNKNOWN: 0 },
      misconfiguration: { CRITICAL: 0, HIGH: 1, MEDIUM: 0, LOW: 1, UNKNOWN: 0 },
    });
    expect(gate.passed).toBe(false);
    expect(gate.failing.map((f) => `${f.kind}:${f.id}`)).toEqual([
      "vulnerability:CVE-2024-0001",
      // config/aws.js (TruffleHog: verified) and the image's /app/.env (Trivy alone: CRITICAL).
      "secret:aws-access-key-id",
      "secret:aws-access-key-id",
      "vulnerability:CVE-2021-23337",
      "vulnerability:CVE-2024-0002",
      "vulnerability:CVE-2024-4068",
      "vulnerability:CVE-2024-45590",
      "secret:SlackWebhook",
      "misconfiguration:AVD-DS-0002",
    ]);
  });

  it("merges the same CVE across two image targets, the filesystem, npm audit's GHSA and OSV's alias into one finding", () => {
    const { gate } = runGate(reports(ALL), undefined, NOW);
    const bodyParser = gate.findings.filter((f) => f.package === "body-parser");
    expect(bodyParser).toHaveLength(1);
    expect(bodyParser[0]).toMatchObject({
      id: "CVE-2024-45590",
      aliases: ["GHSA-qwcr-r2fm-qrc7"],
      // npm audit (no installed version) joins the versioned finding last.
      tools: ["trivy", "osv-scanner", "npm-audit"],
      installedVersion: "1.20.2",
      // npm's fix is an upgrade of express, not a body-parser version.
      fixedVersions: ["1.20.3"],
    });
    expect(bodyParser[0]?.locations.map((l) => l.target)).toEqual([
      "app/package-lock.json",
      "Node.js",
      "package-lock.json",
      "/src/package-lock.json",
      "npm-audit.json",
    ]);
  });

  it("merges by alias whatever order the tools come in", () => {
    const forward = runGate(reports(ALL), undefined, NOW).gate;
    const backward = runGate(reports([...ALL].reverse()), undefined, NOW).gate;
    expect(backward.counts).toEqual(forward.counts);
    expect(backward.findings.map((f) => f.fingerprint).sort()).toEqual(forward.findings.map((f) => f.fingerprint).sort());
  });

  it("keeps one finding per installed version of a package", () => {
    const base: RawFinding = {
      tool: "trivy", kind: "vulnerability", severity: "HIGH", id: "CVE-2021-23337", aliases: [], title: "t",
      package: "lodash", installedVersion: "4.17.20", fixedVersions: ["4.17.21"], fixAvailable: true,
      location: { tool: "trivy", target: "a/package-lock.json" },
    };
    const findings = dedupe([base, { ...base, installedVersion: "4.17.19", location: { tool: "trivy", target: "b/package-lock.json" } }]);
    expect(findings.map((f) => f.installedVersion).sort()).toEqual(["4.17.19", "4.17.20"]);
  });

  it("merges a secret seen by Trivy and TruffleHog at the same file and line, keeping the strongest verification", () => {
    const { gate } = runGate(reports(ALL), undefined, NOW);
    const aws = gate.findings.filter((f) => f.file === "config/aws.js");
    expect(aws).toHaveLength(1);
    expect(aws[0]).toMatchObject({ tools: ["trivy", "trufflehog"], verified: true, verification: "verified", severity: "CRITICAL" });
    expect(aws[0]?.locations).toHaveLength(3); // Trivy, and TruffleHog in two commits
  });

  // trivy-fs-secrets.json is `trivy fs --scanners secret --format json` as Trivy writes it: a Result of
  // Class "secret" whose `Secrets[]` are fanal's SecretFinding (aquasecurity/trivy pkg/fanal/types/secret.go:
  // RuleID, Category, Severity, Title, StartLine, EndLine, Code.Lines, Match masked with '*'), rules and
  // severities of Trivy's built-in rules (aws-access-key-id CRITICAL, jwt-token MEDIUM). Trivy never
  // checks a credential, so severity decides: a CRITICAL key fails by default, whatever TruffleHog says.
  const trufflehogAt = (file: string, line: number, verified: boolean): string =>
    JSON.stringify({ SourceMetadata: { Data: { Filesystem: { file, line } } }, SourceName: "trufflehog - filesystem", DetectorName: "AWS", DecoderName: "PLAIN", Verified: verified, Raw: "AKIAIOSFODNN7EXAMPLE" });
  it.each([
    ["the default policy fails Trivy's CRITICAL key, not its MEDIUM token", "", [], ["aws-access-key-id"]],
    ["failOnSeverity [CRITICAL, HIGH, MEDIUM] fails both", "scan:\n  policy: { secret: { failOnSeverity: [CRITICAL, HIGH, MEDIUM] } }\n", [], ["aws-access-key-id", "jwt-token"]],
    ["failOnSeverity [] fails none", "scan:\n  policy: { secret: { failOnSeverity: [] } }\n", [], []],
    ["a severity in failOn still applies to every secret", "scan:\n  policy: { secret: { failOn: [verified, MEDIUM], failOnSeverity: [] } }\n", [], ["jwt-token"]],
    ["TruffleHog calling the same key unverified does not hide Trivy's CRITICAL", "", [trufflehogAt("services/api/.env.production", 2, false)], ["aws-access-key-id"]],
  ] as const)("judges secrets from Trivy by severity: %s", (_name, yaml, trufflehog, failing) => {
    const dir = mkdtempSync(join(tmpdir(), "slipway-secrets-"));
    try {
      const list: ReportFile[] = reports([["trivy", "trivy-fs-secrets.json"]]);
      if (trufflehog.length > 0) {
        writeFileSync(join(dir, "trufflehog.jsonl"), `${trufflehog.join("\n")}\n`);
        list.push({ tool: "trufflehog", file: "trufflehog.jsonl", path: join(dir, "trufflehog.jsonl") });
      }
      const { gate } = runGate(list, yaml === "" ? undefined : settings(yaml), NOW);
      expect(gate.failing.map((f) => f.id)).toEqual(failing);
      expect(gate.passed).toBe(failing.length === 0);
      expect(gate.counts.secret).toMatchObject({ CRITICAL: 1, MEDIUM: 1 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("still judges a secret TruffleHog verified by its verdict", () => {
    const { gate } = runGate(reports([["trufflehog", "trufflehog.jsonl"]]), settings("scan:\n  policy: { secret: { failOnSeverity: [] } }\n"), NOW);
    expect(gate.failing.map((f) => `${f.id}:${f.verification}`)).toEqual(["AWS:verified", "SlackWebhook:unknown"]);
  });

  // osv-malicious.json is OSV-Scanner JSON (google/osv-scanner pkg/models/results.go) holding two records
  // exactly as ossf/malicious-packages publishes them (osv/malicious/npm/02-echo/MAL-2025-191025.json, a
  // GitHub malware advisory imported with its GHSA as alias; 000webhost-admin/MAL-2024-11848.json, found
  // by OpenSSF Package Analysis): no CVSS score, so max_severity "" and the severity is UNKNOWN.
  it.each([
    ["the default policy fails them although their severity is UNKNOWN", "", ["GHSA-q2q8-5wg4-g6jq", "MAL-2024-11848"]],
    ["ignoreUnfixed does not let them through (removal is the fix)", "scan:\n  policy: { vulnerability: { ignoreUnfixed: true } }\n", ["GHSA-q2q8-5wg4-g6jq", "MAL-2024-11848"]],
    ["failOnMalicious: false leaves them to their severity", "scan:\n  policy: { vulnerability: { failOnMalicious: false } }\n", []],
    ["an exception with owner and expiry still covers one", "scan:\n  exceptions:\n    - { id: MAL-2025-191025, reason: 'internal mirror, never installed', owner: sec, expires: '2030-01-01' }\n", ["MAL-2024-11848"]],
  ])("fails on malicious-package advisories: %s", (_name, yaml, failing) => {
    const { gate } = runGate(reports([["osv-scanner", "osv-malicious.json"]]), yaml === "" ? undefined : settings(yaml), NOW);
    expect(gate.failing.map((f) => f.id)).toEqual(failing);
    expect(gate.counts.vulnerability.UNKNOWN).toBe(2);
    expect(gate.findings.every((f) => f.malicious === true)).toBe(true);
    expect(renderMarkdown(gate)).toContain(failing.length > 0 ? "| UNKNOWN | vulnerability (malicious package) |" : "## Security gate: passed");
  });

  // One vulnerability as Trivy writes it (pkg/types DetectedVulnerability, `Status` by name as trivy-db's
  // Status marshals it), with each status Trivy documents (docs configuration/filtering, "By Status").
  const withStatus = (status: string, fixed?: string): string =>
    JSON.stringify({
      SchemaVersion: 2,
      ArtifactName: "registry.example/worker:1",
      Results: [{ Target: "registry.example/worker:1 (redhat 8.10)", Class: "os-pkgs", Type: "redhat", Vulnerabilities: [{ VulnerabilityID: "CVE-2023-39615", PkgID: "libxml2@2.9.7-18.el8_10.1.x86_64", PkgName: "libxml2", InstalledVersion: "2.9.7-18.el8_10.1", ...(fixed ? { FixedVersion: fixed } : {}), Status: status, SeveritySource: "redhat", Severity: "HIGH", Title: "libxml2: crafted xml can cause global buffer overflow" }] }],
    });
  it.each([
    ["affected", undefined, "fails", "none"],
    ["fixed", "2.9.7-19.el8_10", "fails", "2.9.7-19.el8_10"],
    ["under_investigation", undefined, "fails", "none"],
    ["unknown", undefined, "fails", "none"],
    ["will_not_fix", undefined, "fails, no fix coming", "none (will_not_fix)"],
    ["fix_deferred", undefined, "fails, no fix coming", "none (fix_deferred)"],
    ["end_of_life", undefined, "fails, no fix coming", "none (end_of_life)"],
    ["not_affected", undefined, "not counted", ""],
  ] as const)("counts a Trivy vulnerability with status %s: %s", (status, fixed, outcome, fixIn) => {
    const dir = mkdtempSync(join(tmpdir(), "slipway-status-"));
    try {
      writeFileSync(join(dir, "trivy.json"), withStatus(status, fixed));
      const { gate } = runGate([{ tool: "trivy", file: "trivy.json", path: join(dir, "trivy.json") }], undefined, NOW);
      const text = gateText(gate);
      if (outcome === "not counted") {
        expect(gate.counts.vulnerability.HIGH).toBe(0);
        expect(gate.passed).toBe(true);
        expect(gateJson(gate)).toMatchObject({ failing: [], notAffected: [{ id: "CVE-2023-39615", package: "libxml2", reason: "vendor status not_affected" }] });
        expect(text).toContain("1 vulnerability not counted: not affected per VEX or the vendor");
        return;
      }
      expect(gate.counts.vulnerability.HIGH).toBe(1);
      expect(gate.failing.map((f) => f.id)).toEqual(["CVE-2023-39615"]);
      expect(gateJson(gate)).toMatchObject({ notAffected: [] });
      expect(renderMarkdown(gate)).toContain(`| libxml2@2.9.7-18.el8_10.1 — registry.example/worker:1 (redhat 8.10) | ${fixIn} |`);
      expect(text.includes("has no fix coming (vendor status will_not_fix, fix_deferred or end_of_life)")).toBe(outcome === "fails, no fix coming");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // trivy-vex.json: `trivy image --vex ... --ignorefile .trivyignore.yaml --show-suppressed --format json`
  // (Trivy 0.55+): what VEX and .trivyignore took out of `Vulnerabilities` is under
  // `ExperimentalModifiedFindings` (pkg/types ModifiedFinding: Type, Status, Statement, Source, Finding;
  // aquasecurity/trivy#7383), VEX with not_affected or fixed (pkg/vex/vex.go Filter), .trivyignore with ignored.
  it("reads Trivy's suppressed findings: VEX not_affected is not counted, a .trivyignore entry still fails", () => {
    const { gate } = runGate(reports([["trivy", "trivy-vex.json"]]), undefined, NOW);
    expect(gate.failing.map((f) => [f.id, f.package, fixText(f)])).toEqual([
      ["CVE-2023-39615", "libxml2", "none (will_not_fix)"],
      ["CVE-2024-6119", "openssl-libs", "1:1.1.1k-14.el8_6"],
    ]);
    expect(gate.failing[1]?.description).toMatch(/^Trivy marked it ignored \(\.trivyignore\.yaml: Accept the risk\); Slipway counts it/);
    expect(gate.counts.vulnerability.HIGH).toBe(2);
    expect(gate.notAffected.map((f) => [f.id, f.notAffected])).toEqual([["CVE-2024-2961", "not_affected per OpenVEX: vulnerable_code_not_in_execute_path"]]);
    const text = gateText(gate);
    expect(text).toContain("CVE-2023-39615  libxml2@2.9.7-18.el8_10.1");
    expect(text).toContain("(no fix: will_not_fix)");
    expect(text).toContain("1 failing vulnerability has no fix coming");
    expect(text).toContain("  CVE-2024-2961  glibc@2.28-251.el8_10.2  registry.example/worker:sha-89abcdef0123 (redhat 8.10)  (not_affected per OpenVEX: vulnerable_code_not_in_execute_path)");
    expect(renderMarkdown(gate)).toContain("### Not counted: not affected per VEX or the vendor (1)");
  });

  it.each([
    ["ModifiedFindings (the Go field's name) like ExperimentalModifiedFindings", (r: Record<string, unknown>) => ({ ...r, ModifiedFindings: r.ExperimentalModifiedFindings, ExperimentalModifiedFindings: undefined }), ["CVE-2024-6119"], ["CVE-2024-2961"]],
    ["VEX fixed: this product carries the fix", (r: Record<string, unknown>) => ({ ...r, ExperimentalModifiedFindings: [{ ...(r.ExperimentalModifiedFindings as object[])[0], Status: "fixed" }] }), [], ["CVE-2024-2961"]],
    ["VEX under_investigation: still a finding", (r: Record<string, unknown>) => ({ ...r, ExperimentalModifiedFindings: [{ ...(r.ExperimentalModifiedFindings as object[])[0], Status: "under_investigation" }] }), ["CVE-2024-2961"], []],
    ["a suppressed license: not read, like every license", (r: Record<string, unknown>) => ({ ...r, ExperimentalModifiedFindings: [{ Type: "license", Status: "ignored", Statement: "", Source: ".trivyignore.yaml", Finding: { Severity: "HIGH", Name: "GPL-3.0" } }] }), [], []],
    ["a secret .trivyignore hid", (r: Record<string, unknown>) => ({ ...r, ExperimentalModifiedFindings: [{ Type: "secret", Status: "ignored", Statement: "", Source: ".trivyignore", Finding: { RuleID: "aws-access-key-id", Category: "AWS", Severity: "CRITICAL", Title: "AWS Access Key ID", StartLine: 3, EndLine: 3, Match: "AWS_ACCESS_KEY_ID=****" } }] }), ["aws-access-key-id"], []],
  ])("reads %s", (_name, change, failing, notAffected) => {
    const report = JSON.parse(readFileSync(join(FIXTURES, "trivy-vex.json"), "utf8")) as { Results: Record<string, unknown>[] };
    report.Results = [{ ...change(report.Results[0] as Record<string, unknown>), Vulnerabilities: [] }];
    const dir = mkdtempSync(join(tmpdir(), "slipway-vex-"));
    try {
      writeFileSync(join(dir, "trivy.json"), JSON.stringify(report));
      const { gate } = runGate([{ tool: "trivy", file: "trivy.json", path: join(dir, "trivy.json") }], undefined, NOW);
      expect(gate.failing.map((f) => f.id)).toEqual(failing);
      expect(gate.notAffected.map((f) => f.id)).toEqual(notAffected);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("counts a CVE that VEX cleared in one target when another target still has it", () => {
    const vex = JSON.parse(readFileSync(join(FIXTURES, "trivy-vex.json"), "utf8")) as { Results: { ExperimentalModifiedFindings: { Finding: Record<string, unknown> }[] }[] };
    const glibc = vex.Results[0]!.ExperimentalModifiedFindings[0]!.Finding;
    const dir = mkdtempSync(join(tmpdir(), "slipway-vex-"));
    try {
      writeFileSync(join(dir, "other.json"), JSON.stringify({ SchemaVersion: 2, Results: [{ Target: "worker-debug (redhat 8.10)", Class: "os-pkgs", Vulnerabilities: [glibc] }] }));
      const { gate } = runGate([...reports([["trivy", "trivy-vex.json"]]), { tool: "trivy", file: "other.json", path: join(dir, "other.json") }], undefined, NOW);
      expect(gate.notAffected).toEqual([]);
      expect(gate.failing.map((f) => f.id)).toContain("CVE-2024-2961");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("passes with a policy that only fails on CRITICAL, once live exceptions cover the rest", () => {
    const { gate } = runGate(
      reports(ALL),
      settings(`scan:
  policy:
    vulnerability: { failOn: [CRITICAL] }
    secret: { failOn: [verified], failOnSeverity: [] }
    misconfiguration: { failOn: [CRITICAL] }
  exceptions:
    - { id: CVE-2024-0001, reason: "not reachable: libssl only used by curl in the build stage", owner: platform-team, expires: "2025-03-01" }
    - { fingerprint: "${runGate(reports(ALL), undefined, NOW).gate.findings.find((f) => f.file === "config/aws.js")?.fingerprint}", reason: "test key, revoked", owner: alice, expires: "2025-06-30" }
`),
      NOW,
    );
    expect(gate.failing).toEqual([]);
    expect(gate.passed).toBe(true);
    expect(gate.excepted.map((f) => f.id)).toEqual(["CVE-2024-0001", "aws-access-key-id"]);
    expect(gate.stale).toEqual([]);
  });

  it("matches an exception by alias: an exception for the GHSA covers the merged CVE", () => {
    const { gate } = runGate(reports(ALL), settings(`scan:\n  exceptions:\n    - { id: ghsa-qwcr-r2fm-qrc7, reason: r, owner: o, expires: "2030-01-01" }\n`), NOW);
    expect(gate.excepted.map((f) => f.id)).toEqual(["CVE-2024-45590"]);
    expect(gate.failing.map((f) => f.id)).not.toContain("CVE-2024-45590");
  });

  it("fails on an expired exception, naming it, and no longer excepts its finding", () => {
    const { gate } = runGate(
      reports([["trivy", "trivy-fs.json"]]),
      settings(`scan:\n  policy: { secret: { failOn: [], failOnSeverity: [] } }\n  exceptions:\n    - { id: CVE-2024-4068, reason: "waiting for micromatch", owner: bob, expires: "2025-02-28" }\n    - { id: CVE-2024-45590, reason: r, owner: o, expires: "2025-03-01" }\n`),
      NOW,
    );
    expect(gate.passed).toBe(false);
    expect(gate.expired.map((e) => [e.index, e.exception.id, e.exception.owner])).toEqual([[0, "CVE-2024-4068", "bob"]]);
    // The exception's last day (2025-03-01) still applies.
    expect(gate.failing.map((f) => f.id)).toEqual(["CVE-2024-4068"]);
    expect(gateJson(gate)).toMatchObject({ exceptions: { expired: [{ index: 0, id: "CVE-2024-4068", owner: "bob", expires: "2025-02-28" }] } });
  });

  it("reports an exception that matches nothing as stale without failing", () => {
    const { gate } = runGate(
      reports([["osv-scanner", "osv.json"]]),
      settings(`scan:\n  policy: { vulnerability: { failOn: [CRITICAL] } }\n  exceptions:\n    - { id: CVE-1999-0001, reason: old, owner: carol, expires: "2030-01-01" }\n`),
      NOW,
    );
    expect(gate.passed).toBe(true);
    expect(gate.stale.map((e) => [e.index, e.exception.id])).toEqual([[0, "CVE-1999-0001"]]);
  });

  it("ignoreUnfixed stops unfixed vulnerabilities from failing but still counts them", () => {
    const strict = runGate(reports([["trivy", "trivy-image.json"], ["npm-audit", "npm-audit.json"]]), settings("scan:\n  policy: { vulnerability: { failOn: [CRITICAL, HIGH, MEDIUM] } }\n"), NOW).gate;
    const lenient = runGate(
      reports([["trivy", "trivy-image.json"], ["npm-audit", "npm-audit.json"]]),
      settings("scan:\n  policy: { vulnerability: { failOn: [CRITICAL, HIGH, MEDIUM], ignoreUnfixed: true } }\n"),
      NOW,
    ).gate;
    const ids = (g: typeof strict): string[] => g.failing.filter((f) => f.kind === "vulnerability").map((f) => f.id);
    expect(ids(strict)).toEqual(expect.arrayContaining(["CVE-2024-0002", "CVE-2023-0003", "GHSA-c2qf-rxjj-qqgw"]));
    expect(ids(lenient)).not.toEqual(expect.arrayContaining(["CVE-2024-0002"]));
    expect(ids(lenient)).not.toContain("CVE-2023-0003");
    expect(ids(lenient)).not.toContain("GHSA-c2qf-rxjj-qqgw");
    expect(ids(lenient)).toContain("CVE-2024-0001");
    expect(lenient.counts).toEqual(strict.counts);
  });

  it.each([
    ["an exception without owner", `scan:\n  exceptions:\n    - { id: CVE-1, reason: r, expires: "2030-01-01" }\n`, /scan\.exceptions\[0\]\.owner/],
    ["an exception without expiry", `scan:\n  exceptions:\n    - { id: CVE-1, reason: r, owner: o }\n`, /scan\.exceptions\[0\]\.expires/],
    ["an impossible date", `scan:\n  exceptions:\n    - { id: CVE-1, reason: r, owner: o, expires: "2025-02-31" }\n`, /not a calendar date/],
    ["both id and fingerprint", `scan:\n  exceptions:\n    - { id: CVE-1, fingerprint: "0123456789abcdef", reason: r, owner: o, expires: "2030-01-01" }\n`, /exactly one of `id` or `fingerprint`/],
    ["an unknown severity in the policy", "scan:\n  policy: { vulnerability: { failOn: [SEVERE] } }\n", /scan\.policy\.vulnerability\.failOn\[0\]/],
    ["an unpinned image", "scan:\n  images: { trivy: 'aquasec/trivy:latest' }\n", /scan\.images\.trivy: pin an exact version/],
  ])("rejects %s in slipway.yaml", (_name, yaml, message) => {
    expect(() => parseConfig(yaml, "slipway.yaml")).toThrow(expect.objectContaining({ code: "SLIPWAY_CONFIG_INVALID", details: expect.arrayContaining([expect.stringMatching(message)]) }));
  });

  it("writes SARIF 2.1.0 that validates against the official schema: one run per tool, rules with help, locations", () => {
    const run = runGate(reports(ALL), settings(`scan:\n  exceptions:\n    - { id: CVE-2024-4068, reason: "waiting for upstream", owner: bob, expires: "2030-01-01" }\n`), NOW);
    const sarif = JSON.parse(renderSarif(run.gate, run.tools)) as Log;
    const valid = validateSarif(sarif);
    expect(validateSarif.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
    expect(sarif.runs.map((r) => r.tool.driver.name)).toEqual(["Trivy", "TruffleHog", "npm audit", "OSV-Scanner"]);
    const results = sarif.runs.flatMap((r) => r.results ?? []);
    expect(results).toHaveLength(run.gate.findings.length);
    for (const r of sarif.runs) {
      for (const result of r.results ?? []) {
        const rule = r.tool.driver.rules?.[result.ruleIndex ?? -1];
        expect(rule?.id).toBe(result.ruleId);
        expect(rule?.help?.text).toMatch(/Fingerprint: [0-9a-f]{16}/);
        expect(result.locations?.length).toBeGreaterThan(0);
      }
    }
    const braces = results.find((r) => r.ruleId === "CVE-2024-4068");
    expect(braces?.suppressions).toEqual([{ kind: "external", status: "accepted", justification: "waiting for upstream (owner bob, expires 2030-01-01)" }]);
    const libssl = results.find((r) => r.ruleId === "CVE-2024-0001");
    expect(libssl?.level).toBe("error");
    expect(libssl?.locations?.[0]?.physicalLocation?.artifactLocation?.uri).toBe("registry.example/api:sha-0123456789ab%20(debian%2012.5)");
  });

  it("catches an invalid SARIF document (the validator is not a no-op)", () => {
    expect(validateSarif({ version: "2.1.0", runs: [{ tool: { driver: { name: "x" } }, results: [{ message: { text: "m" }, level: "fatal" }] }] })).toBe(false);
  });

  it("writes JUnit with one failing test case per failing finding and per expired exception", () => {
    const run = runGate(reports(ALL), settings(`scan:\n  exceptions:\n    - { id: CVE-1999-0001, reason: old, owner: carol, expires: "2020-01-01" }\n`), NOW);
    const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "", isArray: (name) => name === "testsuite" || name === "testcase" }).parse(renderJunit(run.gate)) as {
      testsuites: { tests: string; failures: string; testsuite: { name: string; failures: string; testcase: { name: string; failure?: { message: string; type: string } }[] }[] };
    };
    const failures = xml.testsuites.testsuite.flatMap((s) => s.testcase.filter((c) => c.failure));
    expect(failures).toHaveLength(run.gate.failing.length + 1);
    expect(Number(xml.testsuites.failures)).toBe(failures.length);
    expect(failures.map((c) => c.name)).toContain("CRITICAL CVE-2024-0001 libssl3@3.0.11-1~deb12u2");
    expect(failures.find((c) => c.failure?.type === "EXPIRED")?.failure?.message).toBe("scan.exceptions[0] (CVE-1999-0001, owner carol) expired on 2020-01-01");
  });

  it("escapes markup and replaces characters XML cannot carry in JUnit text and attributes", () => {
    const reason = `a <b> & "c" 'd' \u0001 e`;
    const run = runGate(reports([["osv-scanner", "osv.json"]]), settings(`scan:\n  exceptions:\n    - { id: "CVE-1999-0001", reason: ${JSON.stringify(reason)}, owner: "x&y", expires: "2020-01-01" }\n`), NOW);
    const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "", isArray: (name) => name === "testsuite" || name === "testcase" }).parse(renderJunit(run.gate)) as {
      testsuites: { testsuite: { testcase: { failure?: { message: string; "#text": string } }[] }[] };
    };
    const failure = xml.testsuites.testsuite.flatMap((s) => s.testcase).find((c) => c.failure?.message.includes("x&y"))?.failure;
    expect(failure?.message).toBe("scan.exceptions[0] (CVE-1999-0001, owner x&y) expired on 2020-01-01");
    expect(failure?.["#text"]).toBe(`Reason given: a <b> & "c" 'd' \uFFFD e\nRenew it with a new expiry after review, or remove it and fix the finding.`);
  });

  it("writes the SARIF file piece by piece, byte for byte the document renderSarif gives", () => {
    const run = runGate(reports(ALL), undefined, NOW);
    const dir = mkdtempSync(join(tmpdir(), "slipway-sarif-"));
    try {
      writeReports(run, { sarif: join(dir, "out.sarif"), junit: join(dir, "junit.xml"), markdown: join(dir, "summary.md") });
      expect(readFileSync(join(dir, "out.sarif"), "utf8")).toBe(renderSarif(run.gate, run.tools));
      expect(readFileSync(join(dir, "junit.xml"), "utf8")).toBe(renderJunit(run.gate));
      expect(readFileSync(join(dir, "summary.md"), "utf8")).toBe(renderMarkdown(run.gate));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("writes a SARIF log of several megabytes, non-ASCII text included, exactly as renderSarif renders it", () => {
    const dir = mkdtempSync(join(tmpdir(), "slipway-sarif-"));
    try {
      const vulns = Array.from({ length: 4000 }, (_, i) => ({
        VulnerabilityID: `CVE-2024-${10000 + i}`,
        PkgName: `pkg-${i % 300}`,
        InstalledVersion: "1.0.0",
        Severity: ["CRITICAL", "HIGH", "LOW"][i % 3],
        Title: `Überlauf → ${i} 🔥 in “quotes”`,
        Description: "Ein Fehler, der lang genug ist. ".repeat(10),
      }));
      writeFileSync(join(dir, "trivy.json"), JSON.stringify({ SchemaVersion: 2, Results: [{ Target: "app/package-lock.json", Vulnerabilities: vulns }] }));
      const run = runGate([{ tool: "trivy", file: "trivy.json", path: join(dir, "trivy.json") }], undefined, NOW);
      expect(run.gate.findings).toHaveLength(4000);
      writeReports(run, { sarif: join(dir, "out.sarif") });
      const written = readFileSync(join(dir, "out.sarif"), "utf8");
      expect(written.length).toBeGreaterThan(3_000_000);
      expect(written).toBe(renderSarif(run.gate, run.tools));
      expect(validateSarif(JSON.parse(written))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("writes a passing JUnit case per kind when the gate passes", () => {
    const run = runGate(reports([["osv-scanner", "osv.json"]]), settings("scan:\n  policy: { vulnerability: { failOn: [CRITICAL] } }\n"), NOW);
    const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "" }).parse(renderJunit(run.gate)) as { testsuites: { failures: string; tests: string } };
    expect(xml.testsuites).toMatchObject({ failures: "0", tests: "4" });
  });

  it("writes a Markdown summary table with counts, failing findings, expired and stale exceptions", async () => {
    const run = runGate(
      reports(ALL),
      settings(`scan:\n  exceptions:\n    - { id: CVE-2024-4068, reason: "a | b", owner: bob, expires: "2020-01-01" }\n    - { id: CVE-1999-0001, reason: old, owner: carol, expires: "2030-01-01" }\n`),
      NOW,
    );
    await expect(renderMarkdown(run.gate)).toMatchFileSnapshot(join(FIXTURES, "expected", "summary.md"));
  });

  it("never puts a secret value into any report", () => {
    const run = runGate(reports(ALL), undefined, NOW);
    const everything = [JSON.stringify(gateJson(run.gate)), renderSarif(run.gate, run.tools), renderJunit(run.gate), renderMarkdown(run.gate)].join("\n");
    for (const secret of ["AKIAIOSFODNN7EXAMPLE", "hunter2", "XXXXSLACKFAKE"]) expect(everything).not.toContain(secret);
  });
});
