import { hash } from "node:crypto";

/**
 * One findings model for every scanner (Trivy, TruffleHog, npm audit, OSV-Scanner).
 * Parsers turn a scanner's JSON into `RawFinding`s; `dedupe` merges what several tools or targets
 * reported into `Finding`s; the policy then decides the gate from those alone.
 */

export const SEVERITIES = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"] as const;
export type Severity = (typeof SEVERITIES)[number];

export const KINDS = ["vulnerability", "secret", "misconfiguration"] as const;
export type Kind = (typeof KINDS)[number];

export const TOOLS = ["trivy", "trufflehog", "npm-audit", "osv-scanner"] as const;
export type Tool = (typeof TOOLS)[number];

/**
 * TruffleHog's three outcomes: the credential works, it does not, or checking it failed. Only tools
 * that verify set it; a secret from a pattern matcher (Trivy) has none and is judged by severity.
 */
export const VERIFICATIONS = ["verified", "unknown", "unverified"] as const;
export type Verification = (typeof VERIFICATIONS)[number];

/**
 * Trivy's vulnerability statuses, written by name in its JSON (trivy-db pkg/types Status; meanings in
 * https://trivy.dev/latest/docs/configuration/filtering/#by-status).
 */
export const VENDOR_STATUSES = ["unknown", "not_affected", "affected", "fixed", "under_investigation", "will_not_fix", "fix_deferred", "end_of_life"] as const;
export type VendorStatus = (typeof VENDOR_STATUSES)[number];

/** The vendor says no fix is coming: the package is affected, the finding counts, and reports say why there is no fix. */
export const NO_FIX_STATUSES: ReadonlySet<string> = new Set<VendorStatus>(["will_not_fix", "fix_deferred", "end_of_life"]);

/** Rank for "worst wins" merges and sorting: lower is worse. UNKNOWN sorts last, as Trivy does. */
export const SEVERITY_RANK: Record<Severity, number> = { CRITICAL: 0, HIGH: 1, MEDIUM: 2, LOW: 3, UNKNOWN: 4 };
const VERIFICATION_RANK: Record<Verification, number> = { verified: 0, unknown: 1, unverified: 2 };

export interface Location {
  tool: Tool;
  /** What the scanner scanned: an image, a lockfile, a directory, a git repository. */
  target: string;
  file?: string;
  line?: number;
  commit?: string;
}

/** What one parser reports for one occurrence. Never carries a secret's value. */
export interface RawFinding {
  tool: Tool;
  kind: Kind;
  severity: Severity;
  /** Scanner's id: CVE-…, GHSA-…, a Trivy check id (AVD-…), a secret rule or detector name. */
  id: string;
  aliases: string[];
  title: string;
  description?: string;
  url?: string;
  package?: string;
  installedVersion?: string;
  fixedVersions: string[];
  /** True when upgrading fixes it (a fixed version exists, or npm says `fixAvailable`). */
  fixAvailable: boolean;
  location: Location;
  verification?: Verification;
  /** npm audit: how the vulnerable package is reached, e.g. ["express", "body-parser"]. */
  paths?: string[][];
  /** Trivy's status for the package (affected, fixed, will_not_fix...). */
  status?: VendorStatus;
  /**
   * Set when the vendor or a VEX statement says the package is not affected (or already fixed in this
   * product): why, e.g. "VEX not_affected (OpenVEX: vulnerable_code_not_in_execute_path)". Such a
   * finding is not counted and never fails; the summary lists it.
   */
  notAffected?: string;
  /** A malicious-package advisory (OSV `MAL-…`, GitHub malware, CWE-506): fails by default whatever its severity. */
  malicious?: boolean;
}

/** Occurrences of one issue merged by `dedupe`: what `RawFinding` says of it, with every place it was seen. */
export interface Finding extends Omit<RawFinding, "location"> {
  /** Stable across runs and tools: what an exception can name. */
  fingerprint: string;
  /** The first tool that reported it; `tools` lists all. */
  tool: Tool;
  tools: Tool[];
  /** The first location; `locations` lists all (targets, files, commits). */
  target: string;
  file?: string;
  line?: number;
  locations: Location[];
  /** Secrets only. */
  verified?: boolean;
  /**
   * Secrets only: the worst severity given by a tool that cannot verify a credential (Trivy matches
   * patterns). Such an occurrence is judged by severity even when TruffleHog also saw the secret.
   */
  unverifiableSeverity?: Severity;
}

export function fingerprintOf(...parts: (string | number | undefined)[]): string {
  // crypto.hash (Node 20.12+): one call instead of a Hash object per finding, same digest.
  return hash("sha256", parts.map((p) => (p === undefined ? "" : String(p))).join("\u0000"), "hex").slice(0, 16);
}

/** CVE first (what most people search for), then GHSA, then anything else; ties alphabetical. */
export function preferredId(ids: Iterable<string>): string {
  const rank = (id: string): number => (/^CVE-/i.test(id) ? 0 : /^GHSA-/i.test(id) ? 1 : 2);
  let best: string | undefined;
  for (const id of ids) {
    if (best === undefined || rank(id) < rank(best) || (rank(id) === rank(best) && id < best)) best = id;
  }
  return best ?? "";
}

/**
 * Malicious-package advisories carry no CVSS score, so their severity alone would let them pass:
 * OSV's malicious-packages feed (ossf/malicious-packages) uses `MAL-` ids, GitHub's malware advisories
 * are imported there with the GHSA as an alias, and both carry CWE-506 "Embedded Malicious Code".
 */
export function isMaliciousAdvisory(ids: Iterable<string>, cwes: Iterable<string> = []): boolean {
  for (const id of ids) if (/^MAL-/i.test(id)) return true;
  for (const cwe of cwes) if (/^CWE-506$/i.test(cwe.trim())) return true;
  return false;
}

export function worseSeverity(a: Severity, b: Severity): Severity {
  // UNKNOWN never hides a known rating from another tool; between known ones the worse wins.
  if (a === "UNKNOWN") return b;
  if (b === "UNKNOWN") return a;
  return SEVERITY_RANK[a] <= SEVERITY_RANK[b] ? a : b;
}

export function strongerVerification(a: Verification | undefined, b: Verification | undefined): Verification | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return VERIFICATION_RANK[a] <= VERIFICATION_RANK[b] ? a : b;
}

/** CVSS v3 qualitative rating bands (FIRST CVSS v3.1 spec, section 5). */
export function severityFromCvssScore(score: number): Severity {
  if (score >= 9) return "CRITICAL";
  if (score >= 7) return "HIGH";
  if (score >= 4) return "MEDIUM";
  if (score > 0) return "LOW";
  return "UNKNOWN";
}

export function compareFindings(a: Finding, b: Finding): number {
  return (
    SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] ||
    KINDS.indexOf(a.kind) - KINDS.indexOf(b.kind) ||
    a.id.localeCompare(b.id) ||
    (a.package ?? "").localeCompare(b.package ?? "") ||
    a.target.localeCompare(b.target) ||
    a.fingerprint.localeCompare(b.fingerprint)
  );
}
