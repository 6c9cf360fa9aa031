import { z } from "zod";
import { scanReportInvalid, scanReportUnreadable, scanReportUnsupported } from "../../errors.js";
import type { RawFinding, Severity } from "../model.js";
import { isMaliciousAdvisory } from "../model.js";
import type { ReportInput } from "./common.js";
import { issuesToProblems, nonEmpty, parseJson, validate } from "./common.js";

/**
 * `npm audit --json`, npm 7+ (auditReportVersion 2): a `vulnerabilities` map keyed by package name.
 * Each entry's `via` lists advisories (objects, the package is vulnerable itself) or names of other
 * entries (it is affected through that dependency); `effects` points the other way; `fixAvailable`
 * is true, false or the upgrade that fixes it. One finding per advisory; chains become `paths`.
 * https://docs.npmjs.com/cli/v10/commands/npm-audit#json
 */

const NPM_SEVERITY: Record<string, Severity> = {
  critical: "CRITICAL",
  high: "HIGH",
  moderate: "MEDIUM",
  low: "LOW",
  // npm's lowest level is informational; it is still a known rating, the lowest.
  info: "LOW",
};
const NpmSeverity = z.enum(Object.keys(NPM_SEVERITY) as [string, ...string[]], {
  error: `unknown severity; expected one of ${Object.keys(NPM_SEVERITY).join(", ")}`,
});

/*
 * Two shapes of advisory in `via`, both auditReportVersion 2:
 * - npm 7.0-7.x early (@npmcli/arborist 1.x lib/vuln.js put the registry's bulk advisory in `via` as is;
 *   npm/npm-audit-report tap-snapshots/test-reporters-json.js-TAP.test.js): `id`, `module_name`,
 *   `vulnerable_versions`, `cves`, `cwe` as a string, and no `isDirect` on the entry;
 * - later npm (@npmcli/metavuln-calculator): `source`, `name`, `dependency`, `range`, `cwe` as a list.
 */
const Advisory = z
  .object({
    source: z.union([z.number(), z.string()]).optional(),
    id: z.union([z.number(), z.string()]).optional(),
    name: z.string().min(1).optional(),
    module_name: z.string().min(1).optional(),
    title: z.string().optional(),
    url: z.string().optional(),
    severity: NpmSeverity,
    range: z.string().optional(),
    vulnerable_versions: z.string().optional(),
    cves: z.array(z.string()).nullish(),
  // GitHub malware advisories carry CWE-506 ("Embedded Malicious Code").
  cwe: z.union([z.array(z.string()), z.string()]).nullish(),
  })
  .refine((a) => a.source !== undefined || a.id !== undefined, { message: "names no advisory (expected `source` or `id`)", path: ["source"] });

const FixAvailable = z.union([z.boolean(), z.object({ name: z.string(), version: z.string(), isSemVerMajor: z.boolean().optional() })]);

const Entry = z.object({
  name: z.string().min(1),
  severity: NpmSeverity,
  // npm 7.0 (arborist 1.x) did not write it; dependencyPaths then starts from entries nothing depends on.
  isDirect: z.boolean().optional(),
  // Items are checked one by one below: a union's error would hide which advisory field is wrong.
  via: z.array(z.union([z.string().min(1), z.record(z.string(), z.unknown())])).min(1, "is empty: nothing says why this package is vulnerable"),
  effects: z.array(z.string()),
  nodes: z.array(z.string()).optional(),
  fixAvailable: FixAvailable,
});

const Report = z.object({
  auditReportVersion: z.literal(2),
  vulnerabilities: z.record(z.string(), Entry),
});
type Advisory = z.output<typeof Advisory>;
type Entry = Omit<z.output<typeof Entry>, "via"> & { via: (string | Advisory)[] };

/** Every path from a direct dependency down to `name`, following `effects` upwards (bounded: a report can have cycles). */
function dependencyPaths(name: string, entries: Record<string, Entry>, limit = 10): string[][] {
  const paths: string[][] = [];
  const walk = (current: string, chain: string[]): void => {
    if (paths.length >= limit) return;
    const entry = entries[current];
    const here = [current, ...chain];
    if (!entry || entry.isDirect || entry.effects.length === 0) {
      paths.push(here);
      if (!entry || entry.effects.length === 0) return;
    }
    for (const parent of entry.effects) if (!here.includes(parent)) walk(parent, here);
  };
  walk(name, []);
  return paths;
}

function advisoryId(url: string | undefined, source: number | string | undefined): string {
  const ghsa = url?.match(/GHSA(-[23456789cfghjmpqrvwx]{4}){3}/i)?.[0];
  return ghsa ? ghsa.replace(/^ghsa/i, "GHSA") : `NPM-${source}`;
}

export function parseNpmAudit(input: ReportInput): RawFinding[] {
  const data = parseJson(input, "npm-audit") as Record<string, unknown>;
  if (data.error !== undefined && data.vulnerabilities === undefined) {
    const code = (data.error as { code?: unknown } | null)?.code;
    // npm's own summary can quote registry URLs; the code says enough and npm printed the rest.
    throw scanReportUnreadable("npm-audit", input.file, `npm audit reported an error${typeof code === "string" ? ` (${code})` : ""} instead of a report`);
  }
  if (data.auditReportVersion !== 2) {
    throw scanReportUnsupported(
      "npm-audit",
      input.file,
      `auditReportVersion ${JSON.stringify(data.auditReportVersion ?? null)} is not supported${data.advisories !== undefined ? " (npm 6 format)" : ""}`,
      "`npm audit --json` from npm 7 or later (auditReportVersion 2)",
    );
  }
  const report = validate(Report, data, "npm-audit", input.file);
  const problems: string[] = [];
  const entries: Record<string, Entry> = {};
  for (const [key, entry] of Object.entries(report.vulnerabilities)) {
    const via = entry.via.map((item, i) => {
      if (typeof item === "string") return item;
      const parsed = Advisory.safeParse(item, { reportInput: true });
      if (parsed.success) return parsed.data;
      problems.push(...issuesToProblems(parsed.error.issues, `vulnerabilities.${key}.via[${i}].`));
      return undefined;
    });
    entries[key] = { ...entry, via: via.filter((v): v is string | Advisory => v !== undefined) };
  }
  if (problems.length > 0) throw scanReportInvalid("npm-audit", input.file, problems);
  const findings: RawFinding[] = [];

  const reachesAdvisory = (name: string, seen: Set<string>): boolean => {
    const entry = entries[name];
    if (!entry || seen.has(name)) return false;
    seen.add(name);
    return entry.via.some((v) => (typeof v === "string" ? reachesAdvisory(v, seen) : true));
  };

  for (const [key, entry] of Object.entries(entries)) {
    for (const via of entry.via) {
      if (typeof via === "string") continue;
      const name = via.name ?? via.module_name ?? key;
      const id = advisoryId(via.url, via.source ?? via.id);
      const range = via.range ?? via.vulnerable_versions;
      const owner = entries[name] ?? entry;
      const fix = owner.fixAvailable;
      const fixedVersions = typeof fix === "object" && fix.name === name ? [fix.version] : [];
      findings.push({
        tool: "npm-audit",
        kind: "vulnerability",
        severity: NPM_SEVERITY[via.severity] as Severity,
        id,
        aliases: (via.cves ?? []).filter((cve) => cve !== id),
        title: nonEmpty(via.title) ?? id,
        description: [
          range ? `Vulnerable versions: ${range}.` : "",
          typeof fix === "object" ? `Fix: upgrade ${fix.name} to ${fix.version}${fix.isSemVerMajor ? " (semver major)" : ""}.` : fix ? "Fix: `npm audit fix`." : "No fix available.",
        ]
          .filter(Boolean)
          .join(" "),
        url: nonEmpty(via.url),
        package: name,
        fixedVersions,
        fixAvailable: fix !== false,
        location: { tool: "npm-audit", target: input.file, file: owner.nodes?.[0] ?? entry.nodes?.[0] ?? `node_modules/${key}` },
        paths: dependencyPaths(name, entries),
        ...(isMaliciousAdvisory([id], typeof via.cwe === "string" ? [via.cwe] : (via.cwe ?? [])) ? { malicious: true } : {}),
      });
    }
    // npm rated this entry vulnerable through dependencies, but no advisory is reachable from it in this
    // report: its `via` names a package with no entry (npm drops entries whose nodes an --omit filter
    // removed, and keeps the names in `via`), or the chain loops. The entry's own rating is all there
    // is; it becomes a finding of its own rather than being dropped or refusing the whole report.
    if (!reachesAdvisory(key, new Set())) {
      const through = entry.via.filter((v): v is string => typeof v === "string");
      const missing = through.filter((v) => !entries[v]);
      const named = (missing.length > 0 ? missing : through).join(", ");
      findings.push({
        tool: "npm-audit",
        kind: "vulnerability",
        severity: NPM_SEVERITY[entry.severity] as Severity,
        id: `NPM-VIA-${key}`,
        aliases: [],
        title: `${key} is vulnerable through ${named}, for which the report has no advisory`,
        description: `npm audit rates ${key} ${entry.severity} through ${named}${missing.length > 0 ? ", which has no entry in its report" : ""}. Run \`npm audit\` without --omit to see the advisory.`,
        package: key,
        fixedVersions: [],
        fixAvailable: entry.fixAvailable !== false,
        location: { tool: "npm-audit", target: input.file, file: entry.nodes?.[0] ?? `node_modules/${key}` },
        paths: dependencyPaths(key, entries),
      });
    }
  }
  return findings;
}
