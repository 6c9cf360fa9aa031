import { z } from "zod";
import { scanReportUnsupported } from "../../errors.js";
import type { RawFinding } from "../model.js";
import { isMaliciousAdvisory, SEVERITIES, VENDOR_STATUSES } from "../model.js";
import type { ReportInput } from "./common.js";
import { nonEmpty, parseJson, severityError, validate } from "./common.js";
import { splitArray } from "./split-array.js";

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
  CweIDs: z.array(z.string()).nullish(),
  Status: z.enum(VENDOR_STATUSES, { error: `unknown status; expected one of ${VENDOR_STATUSES.join(", ")}` }).optional(),
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

/*
 * What `--show-suppressed` adds (Trivy 0.55+, aquasecurity/trivy#7383): findings a .trivyignore, a Rego
 * policy or a VEX statement took out of the lists above, each with why (pkg/types/finding.go
 * ModifiedFinding: Type, Status, Statement, Source, Finding). Trivy writes them under
 * `ExperimentalModifiedFindings` ("experimental: the name may change"); `ModifiedFindings`, the Go
 * field's own name, is read too so a rename does not drop them. VEX puts "not_affected" and "fixed"
 * there (pkg/vex: both filter a vulnerability out); .trivyignore and Rego put "ignored".
 */
const MODIFIED_STATUSES = ["ignored", "unknown", "not_affected", "affected", "fixed", "under_investigation"] as const;
const modified = <T extends string, F extends z.ZodType>(type: T, finding: F) =>
  z.object({
    Type: z.literal(type),
    Status: z.enum(MODIFIED_STATUSES, { error: `unknown status; expected one of ${MODIFIED_STATUSES.join(", ")}` }),
    Statement: z.string().optional(),
    Source: z.string().optional(),
    Finding: finding,
  });
const ModifiedFinding = z.discriminatedUnion(
  "Type",
  [
    modified("vulnerability", Vulnerability),
    modified("secret", Secret),
    modified("misconfiguration", Misconfiguration),
    // Licenses are not read by the gate, suppressed or not.
    modified("license", z.unknown()),
  ],
  { error: "unknown Type; expected vulnerability, secret, misconfiguration or license" },
);

const Result = z.object({
  Target: z.string(),
  Class: z.string().optional(),
  Vulnerabilities: list(Vulnerability),
  Secrets: list(Secret),
  Misconfigurations: list(Misconfiguration),
  ExperimentalModifiedFindings: list(ModifiedFinding),
  ModifiedFindings: list(ModifiedFinding),
});

const Report = z.object({
  SchemaVersion: z.literal(2),
  ArtifactName: z.string().optional(),
  Results: list(Result),
});

type TrivyResult = z.input<typeof Result>;

export function parseTrivy(input: ReportInput): RawFinding[] {
  return trivyFindingsByResult(input) ?? trivyFindingsWhole(input);
}

/**
 * The usual path, and the judge of every report the fast path below does not accept: JSON.parse of
 * the whole text, then the schemas, which name every problem with its path.
 */
export function trivyFindingsWhole(input: ReportInput): RawFinding[] {
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
  for (const result of report.Results) addFindings(findings, result, report.ArtifactName, input.file);
  return findings;
}

/**
 * The fast path for big reports: one `Results` element at a time (see split-array.ts), each checked
 * in place by `isResult` rather than copied by zod, and dropped once its findings are read.
 * It may only be stricter than the whole path, never more lenient: on anything it does not accept
 * (not JSON, another schema version, a field of the wrong type, an unknown severity) it returns
 * undefined, and `trivyFindingsWhole` then fails the report with its usual messages, or reads it.
 */
export function trivyFindingsByResult(input: ReportInput): RawFinding[] | undefined {
  const split = splitArray(input.text, "Results");
  if (!split) return undefined;
  const envelope = tryJson(split.envelope);
  if (!isObject(envelope) || envelope.SchemaVersion !== 2 || !isOptionalString(envelope.ArtifactName)) return undefined;
  const artifactName = envelope.ArtifactName as string | undefined;
  const findings: RawFinding[] = [];
  for (const [start, end] of split.items) {
    const result = tryJson(input.text.slice(start, end));
    if (!isResult(result)) return undefined;
    addFindings(findings, result, artifactName, input.file);
  }
  return findings;
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/*
 * The schemas' rules, checked in place: zod copies every object it validates, which on a big report
 * costs about as much time and memory as parsing it. These may only be stricter than the schemas
 * (a test holds them to that on every fixture); whatever they refuse goes to zod.
 */
const SEVERITY_SET: ReadonlySet<unknown> = new Set(SEVERITIES);
const STATUS_SET: ReadonlySet<unknown> = new Set(["FAIL", "PASS", "EXCEPTION"]);
const VENDOR_STATUS_SET: ReadonlySet<unknown> = new Set(VENDOR_STATUSES);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isText = (v: unknown): v is string => typeof v === "string" && v.length > 0;
const isOptionalString = (v: unknown): boolean => v === undefined || typeof v === "string";
const isOptionalInt = (v: unknown): boolean => v === undefined || Number.isSafeInteger(v);

function isVulnerability(v: unknown): boolean {
  return (
    isObject(v) &&
    isText(v.VulnerabilityID) &&
    isText(v.PkgName) &&
    isOptionalString(v.PkgPath) &&
    typeof v.InstalledVersion === "string" &&
    isOptionalString(v.FixedVersion) &&
    SEVERITY_SET.has(v.Severity) &&
    isOptionalString(v.Title) &&
    isOptionalString(v.Description) &&
    isOptionalString(v.PrimaryURL) &&
    isOptionalStrings(v.CweIDs) &&
    (v.Status === undefined || VENDOR_STATUS_SET.has(v.Status))
  );
}

function isOptionalStrings(value: unknown): boolean {
  if (value === undefined || value === null) return true;
  if (!Array.isArray(value)) return false;
  for (const v of value) if (typeof v !== "string") return false;
  return true;
}

function isSecret(s: unknown): boolean {
  return isObject(s) && isText(s.RuleID) && isOptionalString(s.Category) && SEVERITY_SET.has(s.Severity) && typeof s.Title === "string" && Number.isSafeInteger(s.StartLine);
}

function isMisconfiguration(m: unknown): boolean {
  return (
    isObject(m) &&
    isText(m.ID) &&
    isOptionalString(m.AVDID) &&
    typeof m.Title === "string" &&
    isOptionalString(m.Description) &&
    isOptionalString(m.Message) &&
    isOptionalString(m.Resolution) &&
    SEVERITY_SET.has(m.Severity) &&
    isOptionalString(m.PrimaryURL) &&
    STATUS_SET.has(m.Status) &&
    (m.CauseMetadata === undefined || (isObject(m.CauseMetadata) && isOptionalInt(m.CauseMetadata.StartLine) && isOptionalString(m.CauseMetadata.Resource)))
  );
}

function isList(value: unknown, item: (v: unknown) => boolean): boolean {
  if (value === undefined || value === null) return true;
  if (!Array.isArray(value)) return false;
  for (const v of value) if (!item(v)) return false;
  return true;
}

function isResult(r: unknown): r is TrivyResult {
  return (
    isObject(r) &&
    typeof r.Target === "string" &&
    isOptionalString(r.Class) &&
    isList(r.Vulnerabilities, isVulnerability) &&
    isList(r.Secrets, isSecret) &&
    isList(r.Misconfigurations, isMisconfiguration) &&
    // Suppressed findings are rare: the schemas read them.
    isList(r.ExperimentalModifiedFindings, () => false) &&
    isList(r.ModifiedFindings, () => false)
  );
}

type TrivyVulnerability = z.input<typeof Vulnerability>;
type TrivySecret = z.input<typeof Secret>;
type TrivyMisconfiguration = z.input<typeof Misconfiguration>;
type Where = { target: string; file: string; isFile: boolean };

/** Reads only what the schemas model, from zod's output or from a result `isResult` accepted. */
function addFindings(findings: RawFinding[], result: TrivyResult, artifactName: string | undefined, file: string): void {
  const where: Where = { target: result.Target || artifactName || file, file: result.Target, isFile: result.Class !== "os-pkgs" };
  for (const v of result.Vulnerabilities ?? []) findings.push(vulnerabilityFinding(v, where));
  for (const s of result.Secrets ?? []) findings.push(secretFinding(s, where));
  for (const m of result.Misconfigurations ?? []) if (m.Status !== "PASS") findings.push(misconfigurationFinding(m, where));
  for (const m of [...(result.ExperimentalModifiedFindings ?? []), ...(result.ModifiedFindings ?? [])]) {
    const by = `${m.Source || "Trivy"}${m.Statement ? `: ${m.Statement}` : ""}`;
    if (m.Type === "vulnerability") {
      const finding = vulnerabilityFinding(m.Finding as TrivyVulnerability, where);
      // VEX says this product is not affected, or already carries the fix: not a finding.
      if (m.Status === "not_affected" || m.Status === "fixed") finding.notAffected = `${m.Status} per ${by}`;
      else finding.description = suppressedNote(m.Status, by, finding.description);
      findings.push(finding);
    } else if (m.Type === "secret") {
      const finding = secretFinding(m.Finding as TrivySecret, where);
      finding.description = suppressedNote(m.Status, by, finding.description);
      findings.push(finding);
    } else if (m.Type === "misconfiguration" && (m.Finding as TrivyMisconfiguration).Status !== "PASS") {
      const finding = misconfigurationFinding(m.Finding as TrivyMisconfiguration, where);
      finding.description = suppressedNote(m.Status, by, finding.description);
      findings.push(finding);
    }
  }
}

/** .trivyignore and Rego suppressions are Trivy's own, which Slipway does not honour: the finding counts. */
function suppressedNote(status: string, by: string, description: string | undefined): string {
  return [`Trivy marked it ${status} (${by}); Slipway counts it: exceptions live in slipway.yaml, with an owner and an expiry.`, description].filter(Boolean).join(" ");
}

function vulnerabilityFinding(v: TrivyVulnerability, where: Where): RawFinding {
  const fixed = nonEmpty(v.FixedVersion);
  return {
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
    fixedVersions: fixed === undefined ? [] : fixed.includes(",") ? fixed.split(/,\s*/).filter(Boolean) : [fixed],
    fixAvailable: fixed !== undefined,
    location: { tool: "trivy", target: where.target, file: nonEmpty(v.PkgPath) ?? (where.isFile ? where.file : undefined) },
    ...(v.Status !== undefined ? { status: v.Status } : {}),
    // The vendor's own data says this package is not affected (Trivy documents it as never detected,
    // but a custom DB can carry it): not a finding, and the summary says so.
    ...(v.Status === "not_affected" ? { notAffected: "vendor status not_affected" } : {}),
    ...(isMaliciousAdvisory([v.VulnerabilityID], v.CweIDs ?? []) ? { malicious: true } : {}),
  };
}

function secretFinding(s: TrivySecret, where: Where): RawFinding {
  return {
    tool: "trivy",
    kind: "secret",
    severity: s.Severity,
    id: s.RuleID,
    aliases: [],
    title: s.Title || s.RuleID,
    fixedVersions: [],
    fixAvailable: true,
    // Trivy matches patterns and never checks whether a credential works: no verification, so
    // the policy judges it by its severity (a CRITICAL AWS key fails), not as "unverified".
    location: { tool: "trivy", target: where.target, file: where.file, line: s.StartLine > 0 ? s.StartLine : undefined },
  };
}

function misconfigurationFinding(m: TrivyMisconfiguration, where: Where): RawFinding {
  const line = m.CauseMetadata?.StartLine;
  return {
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
    location: { tool: "trivy", target: where.target, file: where.file, line: line !== undefined && line > 0 ? line : undefined },
  };
}
