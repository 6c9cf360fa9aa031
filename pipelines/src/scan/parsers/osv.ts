import { z } from "zod";
import { scanReportInvalid, scanReportUnsupported } from "../../errors.js";
import type { RawFinding, Severity } from "../model.js";
import { isMaliciousAdvisory, preferredId, severityFromCvssScore } from "../model.js";
import type { ReportInput } from "./common.js";
import { nonEmpty, parseJson, validate } from "./common.js";

/**
 * OSV-Scanner `--format json`: `results[]` per source (lockfile, SBOM, image), `packages[]` each
 * with its `vulnerabilities` (OSV records) and `groups` (ids that are the same vulnerability, with
 * `max_severity`, a CVSS base score as a string, "" when unknown).
 * https://google.github.io/osv-scanner/output/#json
 */

const Vuln = z.object({
  id: z.string().min(1),
  aliases: z.array(z.string()).nullish(),
  summary: z.string().optional(),
  details: z.string().optional(),
  database_specific: z
    .object({ severity: z.string().optional(), cwe_ids: z.array(z.string()).nullish(), "malicious-packages-origins": z.array(z.unknown()).nullish() })
    .passthrough()
    .nullish(),
  affected: z
    .array(
      z.object({
        package: z.object({ name: z.string() }).partial().optional(),
        ranges: z.array(z.object({ type: z.string().optional(), repo: z.string().optional(), events: z.array(z.record(z.string(), z.string())) })).nullish(),
        // ossf/malicious-packages records: affected[].database_specific.cwes[].cweId (CWE-506).
        database_specific: z.object({ cwes: z.array(z.object({ cweId: z.string().optional() }).passthrough()).nullish() }).passthrough().nullish(),
      }),
    )
    .nullish(),
});

type VulnRecord = z.output<typeof Vuln>;

/** MAL- ids (OSV's malicious-packages feed), its origins list, or CWE-506 in a GHSA or MAL record. */
function isMalicious(ids: Iterable<string>, records: readonly VulnRecord[]): boolean {
  const cwes: string[] = [];
  for (const v of records) {
    if ((v.database_specific?.["malicious-packages-origins"]?.length ?? 0) > 0) return true;
    cwes.push(...(v.database_specific?.cwe_ids ?? []));
    for (const a of v.affected ?? []) for (const c of a.database_specific?.cwes ?? []) if (c.cweId) cwes.push(c.cweId);
  }
  return isMaliciousAdvisory(ids, cwes);
}

const Group = z.object({
  ids: z.array(z.string().min(1)).min(1),
  aliases: z.array(z.string()).nullish(),
  max_severity: z.string().optional(),
});

const Package = z.object({
  // A git dependency (a submodule, a repository found by --experimental-scan-git...) has no name,
  // version or ecosystem, only `commit` (pkg/models/results.go PackageInfo: `json:"commit,omitempty"`).
  package: z.object({ name: z.string(), version: z.string().optional(), ecosystem: z.string().optional(), commit: z.string().optional() }),
  vulnerabilities: z.array(Vuln).nullish(),
  groups: z.array(Group).nullish(),
});

const Report = z.object({
  results: z
    .array(z.object({ source: z.object({ path: z.string(), type: z.string().optional() }), packages: z.array(Package).nullish() }))
    .nullable(),
});

/** GHSA records carry a qualitative rating (MODERATE for medium). */
const GHSA_SEVERITY: Record<string, Severity> = { CRITICAL: "CRITICAL", HIGH: "HIGH", MODERATE: "MEDIUM", MEDIUM: "MEDIUM", LOW: "LOW" };

export function parseOsv(input: ReportInput): RawFinding[] {
  const data = parseJson(input, "osv-scanner") as Record<string, unknown>;
  if (!("results" in data)) {
    throw scanReportUnsupported("osv-scanner", input.file, "no `results` key", "OSV-Scanner `--format json` output (v1.3 and later)");
  }
  const report = validate(Report, data, "osv-scanner", input.file);
  const problems: string[] = [];
  const findings: RawFinding[] = [];
  (report.results ?? []).forEach((result, r) => {
    (result.packages ?? []).forEach((pkg, p) => {
      const at = `results[${r}].packages[${p}]`;
      const commit = nonEmpty(pkg.package.commit);
      const vulns = new Map((pkg.vulnerabilities ?? []).map((v) => [v.id, v]));
      const groups = [...(pkg.groups ?? [])];
      // A vulnerability no group mentions is its own group: nothing is dropped.
      const grouped = new Set(groups.flatMap((g) => g.ids));
      for (const id of vulns.keys()) if (!grouped.has(id)) groups.push({ ids: [id], aliases: [], max_severity: undefined });
      groups.forEach((group, g) => {
        const records = group.ids.map((id) => vulns.get(id)).filter((v): v is VulnRecord => v !== undefined);
        if (records.length === 0) {
          problems.push(`${at}.groups[${g}].ids: none of ${group.ids.join(", ")} is in vulnerabilities`);
          return;
        }
        let severity: Severity | undefined;
        const score = nonEmpty(group.max_severity);
        if (score !== undefined) {
          const n = Number(score);
          if (!Number.isFinite(n) || n < 0 || n > 10) {
            problems.push(`${at}.groups[${g}].max_severity: unknown severity; expected a CVSS score 0-10, got ${JSON.stringify(score.slice(0, 40))}`);
            return;
          }
          severity = severityFromCvssScore(n);
        }
        for (const v of records) {
          const rating = nonEmpty(v.database_specific?.severity);
          if (rating === undefined) continue;
          const mapped = GHSA_SEVERITY[rating.toUpperCase()];
          if (!mapped) {
            problems.push(`${at}.vulnerabilities[id=${v.id}].database_specific.severity: unknown severity; expected ${[...Object.keys(GHSA_SEVERITY)].join(", ")}, got ${JSON.stringify(rating.slice(0, 40))}`);
            return;
          }
          if (severity === undefined || severity === "UNKNOWN") severity = mapped;
        }
        const ids = new Set([...group.ids, ...(group.aliases ?? []), ...records.flatMap((v) => v.aliases ?? [])]);
        const id = preferredId(ids);
        const fixed = new Set<string>();
        let repo: string | undefined;
        for (const v of records)
          for (const a of v.affected ?? [])
            if (!a.package?.name || a.package.name === pkg.package.name)
              for (const range of a.ranges ?? []) {
                repo ??= nonEmpty(range.repo);
                for (const e of range.events) if (e.fixed) fixed.add(e.fixed);
              }
        const first = records[0] as VulnRecord;
        // A git dependency is named by the repository its advisory points at, else by its commit.
        const name = nonEmpty(pkg.package.name) ?? repo ?? (commit ? `git commit ${commit.slice(0, 12)}` : `(unnamed ${nonEmpty(pkg.package.ecosystem) ?? "package"})`);
        findings.push({
          tool: "osv-scanner",
          kind: "vulnerability",
          severity: severity ?? "UNKNOWN",
          id,
          aliases: [...ids].filter((a) => a !== id).sort(),
          title: nonEmpty(first.summary) ?? id,
          description: nonEmpty(first.details)?.slice(0, 2000),
          url: `https://osv.dev/vulnerability/${first.id}`,
          package: name,
          installedVersion: nonEmpty(pkg.package.version) ?? commit,
          fixedVersions: [...fixed].sort(),
          fixAvailable: fixed.size > 0,
          location: { tool: "osv-scanner", target: result.source.path, file: result.source.path },
          ...(isMalicious(ids, records) ? { malicious: true } : {}),
        });
      });
    });
  });
  if (problems.length > 0) throw scanReportInvalid("osv-scanner", input.file, problems);
  return findings;
}
