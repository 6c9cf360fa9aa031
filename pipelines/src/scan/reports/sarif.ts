import type { Log, ReportingDescriptor, Result, Run } from "sarif";
import type { Tool } from "../model.js";
import type { DecidedFinding, GateResult } from "../policy.js";
import { describeFinding } from "./text.js";

/**
 * SARIF 2.1.0, one run per tool given to the gate (an empty run closes fixed alerts in GitHub code
 * scanning). Each deduplicated finding is one result, in the run of the first tool that reported
 * it, with every location; excepted findings carry a SARIF suppression with the exception's reason.
 * https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html
 * https://docs.github.com/en/code-security/code-scanning/integrating-with-code-scanning/sarif-support-for-code-scanning
 */

const DRIVERS: Record<Tool, { name: string; informationUri: string }> = {
  trivy: { name: "Trivy", informationUri: "https://trivy.dev" },
  trufflehog: { name: "TruffleHog", informationUri: "https://github.com/trufflesecurity/trufflehog" },
  "npm-audit": { name: "npm audit", informationUri: "https://docs.npmjs.com/cli/commands/npm-audit" },
  "osv-scanner": { name: "OSV-Scanner", informationUri: "https://google.github.io/osv-scanner/" },
};

/** GitHub ranks security alerts by `security-severity`, a CVSS-like score. */
const SECURITY_SEVERITY: Record<string, string> = { CRITICAL: "9.5", HIGH: "8.0", MEDIUM: "5.5", LOW: "2.0", UNKNOWN: "0.0" };

function level(f: DecidedFinding): Result.level {
  if (f.decision.status === "fail") return "error";
  if (f.severity === "CRITICAL" || f.severity === "HIGH") return "warning";
  return "note";
}

/** A relative path or a target name as a URI reference (image names have spaces and parentheses). */
function toUri(path: string): string {
  return encodeURI(path.replace(/^\/+/, "")).replace(/[?#]/g, encodeURIComponent);
}

/** `toUri`, once per path: 50,000 locations name a few hundred targets. */
function uriCache(): (path: string) => string {
  const cache = new Map<string, string>();
  return (path) => {
    let uri = cache.get(path);
    if (uri === undefined) cache.set(path, (uri = toUri(path)));
    return uri;
  };
}

function rule(f: DecidedFinding): ReportingDescriptor {
  // Where it was found belongs to each result; the rule's help says what it is and how to fix it.
  const help = describeFinding({ ...f, locations: [] });
  return {
    id: f.id,
    name: f.id.replace(/[^A-Za-z0-9]+/g, ""),
    shortDescription: { text: f.title },
    fullDescription: { text: f.description ?? f.title },
    help: { text: help, markdown: help.split("\n").join("  \n") },
    ...(f.url ? { helpUri: f.url } : {}),
    properties: { tags: ["security", f.kind], "security-severity": SECURITY_SEVERITY[f.severity], severity: f.severity },
  };
}

function result(f: DecidedFinding, ruleIndex: number, uri: (path: string) => string): Result {
  return {
    ruleId: f.id,
    ruleIndex,
    level: level(f),
    message: { text: `${f.severity} ${f.kind} ${f.id}${f.package ? ` in ${f.package}${f.installedVersion ? `@${f.installedVersion}` : ""}` : ""}: ${f.title}` },
    locations: f.locations.map((l) => ({
      physicalLocation: {
        artifactLocation: { uri: uri(l.file ?? l.target) },
        ...(l.line !== undefined ? { region: { startLine: l.line } } : {}),
      },
      ...(l.file && l.file !== l.target ? { message: { text: `${l.target}${l.commit ? ` @${l.commit}` : ""}` } } : {}),
    })),
    partialFingerprints: { "slipwayFingerprint/v1": f.fingerprint },
    ...(f.decision.status === "excepted"
      ? { suppressions: [{ kind: "external", status: "accepted", justification: `${f.decision.exception.reason} (owner ${f.decision.exception.owner}, expires ${f.decision.exception.expires})` }] }
      : {}),
    properties: {
      kind: f.kind,
      severity: f.severity,
      tools: f.tools,
      decision: f.decision.status,
      ...(f.package ? { package: f.package } : {}),
      ...(f.installedVersion ? { installedVersion: f.installedVersion } : {}),
      ...(f.fixedVersions.length ? { fixedVersions: f.fixedVersions } : {}),
      ...(f.verification ? { verification: f.verification } : {}),
    },
  };
}

/**
 * The log in pieces, in order: a 50,000-finding log is over 10 MB, and the gate writes it to
 * its file piece by piece instead of holding the whole document (objects and text) in memory at once.
 * Joined, the pieces are exactly `JSON.stringify` of the whole log (compact: it is read by tools, not
 * people). Rules are listed first, as before; results then point at them by index.
 */
export function* sarifChunks(gate: GateResult, tools: readonly Tool[]): Generator<string> {
  const head: Omit<Log, "runs"> = { $schema: "https://json.schemastore.org/sarif-2.1.0.json", version: "2.1.0" };
  yield `${JSON.stringify(head).slice(0, -1)},"runs":[`;
  for (const [t, tool] of tools.entries()) {
    const findings = gate.findings.filter((f) => f.tool === tool);
    const ruleIndex = new Map<string, number>();
    const driver: Run["tool"]["driver"] = { ...DRIVERS[tool] };
    yield `${t > 0 ? "," : ""}{"tool":{"driver":${JSON.stringify(driver).slice(0, -1)},"rules":[`;
    for (const f of findings) {
      if (ruleIndex.has(f.id)) continue;
      ruleIndex.set(f.id, ruleIndex.size);
      yield `${ruleIndex.size > 1 ? "," : ""}${JSON.stringify(rule(f))}`;
    }
    const automationDetails: Run["automationDetails"] = { id: `slipway/${tool}/` };
    yield `]}},"automationDetails":${JSON.stringify(automationDetails)},"results":[`;
    const uri = uriCache();
    for (const [i, f] of findings.entries()) yield `${i > 0 ? "," : ""}${JSON.stringify(result(f, ruleIndex.get(f.id) as number, uri))}`;
    yield "]}";
  }
  yield "]}\n";
}

/** The whole SARIF log as one string (for tests and small runs; the gate writes `sarifChunks`). */
export function renderSarif(gate: GateResult, tools: readonly Tool[]): string {
  return [...sarifChunks(gate, tools)].join("");
}
