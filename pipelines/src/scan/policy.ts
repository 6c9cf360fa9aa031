import type { Finding, Kind, Severity } from "./model.js";
import { KINDS, SEVERITIES } from "./model.js";
import type { ScanException, ScanSettings } from "./schema.js";

/**
 * Defaults when slipway.yaml says nothing (issue 3): fail on CRITICAL/HIGH, on verified and unknown
 * secrets (TruffleHog's verdict), and on CRITICAL/HIGH secrets from tools that cannot verify (Trivy).
 */
export const DEFAULT_POLICY = {
  vulnerability: { failOn: ["CRITICAL", "HIGH"] as string[], ignoreUnfixed: false, failOnMalicious: true },
  secret: { failOn: ["verified", "unknown"] as string[], failOnSeverity: ["CRITICAL", "HIGH"] as string[] },
  misconfiguration: { failOn: ["CRITICAL", "HIGH"] as string[] },
};

export type Decision =
  | { status: "fail" }
  | { status: "below-policy" }
  | { status: "unfixed-ignored" }
  | { status: "excepted"; exception: ScanException };

export interface DecidedFinding extends Finding {
  decision: Decision;
}

export interface ExceptionReport {
  exception: ScanException;
  /** Index in `scan.exceptions`, so the user can find it. */
  index: number;
  matched: number;
}

export type Counts = Record<Kind, Record<Severity, number>>;

export interface GateResult {
  passed: boolean;
  counts: Counts;
  findings: DecidedFinding[];
  failing: DecidedFinding[];
  expired: ExceptionReport[];
  stale: ExceptionReport[];
  excepted: DecidedFinding[];
  /** Not findings: the vendor or a VEX statement says the package is not affected. Not counted, never failing. */
  notAffected: Finding[];
}

export function emptyCounts(): Counts {
  const counts = {} as Counts;
  for (const kind of KINDS) counts[kind] = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  return counts;
}

function matches(exception: ScanException, finding: Finding): boolean {
  if (exception.fingerprint !== undefined) return exception.fingerprint === finding.fingerprint;
  const id = (exception.id ?? "").toUpperCase();
  return finding.id.toUpperCase() === id || finding.aliases.some((a) => a.toUpperCase() === id);
}

/** An exception applies through the whole of its `expires` day (UTC). */
export function isExpired(exception: ScanException, now: Date): boolean {
  return now.toISOString().slice(0, 10) > exception.expires;
}

function overPolicy(finding: Finding, settings: ScanSettings | undefined): boolean {
  const policy = settings?.policy;
  if (finding.kind === "secret") {
    const failOn = policy?.secret?.failOn ?? DEFAULT_POLICY.secret.failOn;
    const bySeverity = policy?.secret?.failOnSeverity ?? DEFAULT_POLICY.secret.failOnSeverity;
    // A verification is TruffleHog's verdict and applies to what TruffleHog saw; severities in failOn
    // apply to every secret, as they always have.
    if (finding.verification !== undefined && (failOn.includes(finding.verification) || failOn.includes(finding.severity))) return true;
    // What only a pattern matcher saw (Trivy) was never checked: "unverified" would mean "checked and
    // dead", so its severity decides. This holds when TruffleHog saw it too: Trivy's rating stands.
    const unverifiable = finding.unverifiableSeverity;
    return unverifiable !== undefined && (bySeverity.includes(unverifiable) || failOn.includes(unverifiable));
  }
  const failOn = policy?.[finding.kind]?.failOn ?? DEFAULT_POLICY[finding.kind].failOn;
  return failOn.includes(finding.severity) || (isMaliciousFailing(finding, settings));
}

/** A malicious package has no severity worth the name (UNKNOWN, mostly) and no fix but removal. */
function isMaliciousFailing(finding: Finding, settings: ScanSettings | undefined): boolean {
  return finding.kind === "vulnerability" && finding.malicious === true && (settings?.policy?.vulnerability?.failOnMalicious ?? DEFAULT_POLICY.vulnerability.failOnMalicious);
}

/**
 * Decides the gate from findings alone (never from a scanner's exit code). A finding fails when it
 * is over the policy, not excepted by a live exception and, with ignoreUnfixed, has a fix. An expired
 * exception fails the gate by itself (it must be renewed or removed) and excepts nothing.
 */
export function decide(findings: Finding[], settings: ScanSettings | undefined, now: Date): GateResult {
  const exceptions = (settings?.exceptions ?? []).map((exception, index) => ({ exception, index, matched: 0 }));
  const ignoreUnfixed = settings?.policy?.vulnerability?.ignoreUnfixed ?? DEFAULT_POLICY.vulnerability.ignoreUnfixed;
  const counts = emptyCounts();
  const decided: DecidedFinding[] = [];
  const notAffected: Finding[] = [];
  for (const finding of findings) {
    if (finding.notAffected !== undefined) {
      notAffected.push(finding);
      continue;
    }
    counts[finding.kind][finding.severity]++;
    let decision: Decision = { status: "below-policy" };
    const hits = exceptions.filter((e) => matches(e.exception, finding));
    for (const hit of hits) hit.matched++;
    const live = hits.find((e) => !isExpired(e.exception, now));
    if (overPolicy(finding, settings)) {
      if (live) decision = { status: "excepted", exception: live.exception };
      // ignoreUnfixed never lets a malicious package through: removing it is the fix.
      else if (ignoreUnfixed && finding.kind === "vulnerability" && !finding.fixAvailable && !isMaliciousFailing(finding, settings)) decision = { status: "unfixed-ignored" };
      else decision = { status: "fail" };
    }
    // Findings are this run's own objects: decorate in place rather than copy 50,000 of them.
    decided.push(Object.assign(finding as DecidedFinding, { decision }));
  }
  const failing = decided.filter((f) => f.decision.status === "fail");
  const expired = exceptions.filter((e) => isExpired(e.exception, now));
  const stale = exceptions.filter((e) => e.matched === 0);
  return {
    passed: failing.length === 0 && expired.length === 0,
    counts,
    findings: decided,
    failing,
    expired,
    stale,
    excepted: decided.filter((f) => f.decision.status === "excepted"),
    notAffected,
  };
}
