import { z } from "zod";
import { scanReportUnsupported } from "../../errors.js";
import type { RawFinding } from "../model.js";
import { SEVERITIES } from "../model.js";
import type { ReportInput } from "./common.js";
import { nonEmpty, parseJson, severityError, validate } from "./common.js";

/**
 * Trivy JSON, SchemaVersion 2 (`trivy image|fs --format json`): `Results[]` per target, each with
 * `Vulnerabilities`, `Secrets` and `Misconfigurations` (Go `omitempty`, or `null` in old versions).
 * Only fields we read are modelled; a secret's `Match`/`Code` (the matched line) is never read.
 * https://trivy.dev/latest/docs/configuration/reporting/#json
 */

const Severity = z.enum(SEVERITIES, severityError);
const list = <T extends z.ZodType>(item: T) => z.array(item).nullish().transform((v) => v ?? []);

const Vulnerability = z.object({
  VulnerabilityID: z.string().min(1),
  PkgName: z.string().min(1),
  PkgPath: z.string().optional(),
  InstalledVersion: z.string(),
  FixedVersion: z.string().optional(),
  Severity,
  Title: z.string().optional(),
  Description: z.string().optional(),
  PrimaryURL: z.string().optional(),
});

const Secret = z.object({
  RuleID: z.string().min(1),
  Category: z.string().optional(),
  Severity,
  Title: z.string(),
  StartLine: z.number().int(),
});

const Misconfiguration = z.object({
  ID: z.string().min(1),
  AVDID: z.string().optional(),
  Title: z.string(),
  Description: z.string().optional(),
  Message: z.string().optional(),
  Resolution: z.string().optional(),
  Severity,
  PrimaryURL: z.string().optional(),
  // PASS appears with --include-non-failures; EXCEPTION is Trivy's own suppression, which we do not
  // honour (exceptions live in slipway.yaml, with an owner and an expiry).
  Status: z.enum(["FAIL", "PASS", "EXCEPTION"], { error: "unknown status; expected FAIL, PASS or EXCEPTION" }),
  CauseMetadata: z.object({ StartLine: z.number().int().optional(), Resource: z.string().optional() }).optional(),
});

const Result = z.object({
  Target: z.string(),
  Class: z.string().optional(),
  Vulnerabilities: list(Vulnerability),
  Secrets: list(Secret),
  Misconfigurations: list(Misconfiguration),
});

const Report = z.object({
  SchemaVersion: z.literal(2),
  ArtifactName: z.string().optional(),
  Results: list(Result),
});

export function parseTrivy(input: ReportInput): RawFinding[] {
  const data = parseJson(input, "trivy") as Record<string, unknown>;
  if (data.SchemaVersion !== 2) {
    throw scanReportUnsupported(
      "trivy",
      input.file,
      `SchemaVersion ${JSON.stringify(data.SchemaVersion ?? null)} is not supported`,
      "Trivy JSON with SchemaVersion 2 (Trivy 0.20 and later, `--format json`)",
    );
  }
  const report = validate(Report, data, "trivy", input.file);
  const findings: RawFinding[] = [];
  for (const result of report.Results) {
    const target = result.Target || report.ArtifactName || input.file;
    const isFile = result.Class !== "os-pkgs";
    for (const v of result.Vulnerabilities) {
      const fixed = nonEmpty(v.FixedVersion);
      findings.push({
        tool: "trivy",
        kind: "vulnerability",
        severity: v.Severity,
        id: v.VulnerabilityID,
        aliases: [],
        title: nonEmpty(v.Title) ?? v.VulnerabilityID,
        description: nonEmpty(v.Description),
        url: nonEmpty(v.PrimaryURL),
        package: v.PkgName,
        installedVersion: nonEmpty(v.InstalledVersion),
        // Trivy joins several fixed versions with ", " (one per branch).
        fixedVersions: fixed ? fixed.split(/,\s*/).filter(Boolean) : [],
        fixAvailable: fixed !== undefined,
        location: { tool: "trivy", target, file: nonEmpty(v.PkgPath) ?? (isFile ? result.Target : undefined) },
      });
    }
    for (const s of result.Secrets) {
      findings.push({
        tool: "trivy",
        kind: "secret",
        severity: s.Severity,
        id: s.RuleID,
        aliases: [],
        title: s.Title || s.RuleID,
        fixedVersions: [],
        fixAvailable: true,
        location: { tool: "trivy", target, file: result.Target, line: s.StartLine > 0 ? s.StartLine : undefined },
        // Trivy matches patterns; it never checks whether a credential works.
        verification: "unverified",
      });
    }
    for (const m of result.Misconfigurations) {
      if (m.Status === "PASS") continue;
      const line = m.CauseMetadata?.StartLine;
      findings.push({
        tool: "trivy",
        kind: "misconfiguration",
        severity: m.Severity,
        id: m.AVDID && m.AVDID !== "" ? m.AVDID : m.ID,
        aliases: m.AVDID && m.AVDID !== m.ID ? [m.ID] : [],
        title: m.Title || m.ID,
        description: [nonEmpty(m.Message), nonEmpty(m.Resolution)].filter(Boolean).join(" ") || nonEmpty(m.Description),
        url: nonEmpty(m.PrimaryURL),
        fixedVersions: [],
        fixAvailable: true,
        location: { tool: "trivy", target, file: result.Target, line: line !== undefined && line > 0 ? line : undefined },
      });
    }
  }
  return findings;
}
