import type { Finding, Location, RawFinding } from "./model.js";
import { compareFindings, fingerprintOf, NO_FIX_STATUSES, preferredId, strongerVerification, worseSeverity } from "./model.js";

/**
 * Merges what several tools or targets reported into one finding each:
 * - vulnerabilities: same package (and installed version, when both sides know it) and a shared id
 *   or alias (CVE-… in Trivy, GHSA-… in npm audit, both in OSV);
 * - secrets: same file and line (TruffleHog and Trivy name their rules differently);
 * - misconfigurations: same check in the same file.
 * Nothing is dropped: every occurrence stays in `locations`, and the worst severity wins.
 */
export function dedupe(raw: readonly RawFinding[]): Finding[] {
  const merged: Finding[] = [];
  const vulnsByPackage = new Map<string, RawFinding[]>();
  const otherIndex = new Map<string, Finding>();

  for (const r of raw) {
    if (r.kind === "vulnerability") {
      const pkg = (r.package ?? "").toLowerCase();
      const list = vulnsByPackage.get(pkg);
      if (list) list.push(r);
      else vulnsByPackage.set(pkg, [r]);
      continue;
    }
    const key = r.kind === "secret" ? `secret\u0000${normalisePath(r.location.file ?? r.location.target)}\u0000${r.location.line ?? ""}` : `misconfiguration\u0000${r.id}\u0000${normalisePath(r.location.file ?? r.location.target)}`;
    const existing = otherIndex.get(key);
    if (existing) absorb(existing, r);
    else {
      const f = fromRaw(r);
      otherIndex.set(key, f);
      merged.push(f);
    }
  }
  for (const raws of vulnsByPackage.values()) merged.push(...mergeVulnerabilities(raws));
  for (const f of merged) finish(f);
  return merged.sort(compareFindings);
}

/**
 * One package's vulnerability reports. Ids are linked transitively (union-find), whatever order the
 * tools came in: npm audit's GHSA-x and Trivy's CVE-y are one finding once OSV says they are aliases.
 * Within one linked set, each installed version is its own finding; a report without a version
 * (npm audit) joins the first one.
 */
function mergeVulnerabilities(raws: readonly RawFinding[]): Finding[] {
  // The set of each report, named by one of its ids; a big image has tens of thousands of reports.
  const roots = raws.map((r) => r.id.toUpperCase());
  // Without aliases every id is its own set (one scanner alone, Trivy say): no linking to do.
  if (raws.some((r) => r.aliases.length > 0)) {
    const parent = new Map<string, string>();
    const find = (id: string): string => {
      let root = id;
      while (parent.get(root) !== root) root = parent.get(root) as string;
      for (let at = id; at !== root; ) {
        const next = parent.get(at) as string;
        parent.set(at, root);
        at = next;
      }
      return root;
    };
    for (const [i, r] of raws.entries()) {
      const key = roots[i] as string;
      if (!parent.has(key)) parent.set(key, key);
      for (const alias of r.aliases) {
        const id = alias.toUpperCase();
        if (!parent.has(id)) parent.set(id, id);
        const root = find(key);
        const other = find(id);
        if (other !== root) parent.set(other, root);
      }
    }
    for (let i = 0; i < roots.length; i++) roots[i] = find(roots[i] as string);
  }
  const components = new Map<string, RawFinding[]>();
  for (const [i, r] of raws.entries()) {
    const root = roots[i] as string;
    const list = components.get(root);
    if (list) list.push(r);
    else components.set(root, [r]);
  }
  const out: Finding[] = [];
  for (const members of components.values()) {
    const byVersion = new Map<string, Finding>();
    const unversioned: RawFinding[] = [];
    for (const r of members) {
      if (r.installedVersion === undefined) {
        unversioned.push(r);
        continue;
      }
      const existing = byVersion.get(r.installedVersion);
      if (existing) absorb(existing, r);
      else byVersion.set(r.installedVersion, fromRaw(r));
    }
    const findings = [...byVersion.values()];
    for (const r of unversioned) {
      const first = findings[0];
      if (first) absorb(first, r);
      else findings.push(fromRaw(r));
    }
    out.push(...findings);
  }
  return out;
}

/** `./app/x.js` and `app/x.js` are one file (Trivy reports relative paths, TruffleHog what it was given). */
function normalisePath(path: string): string {
  return path.replace(/^(\.\/)+/, "");
}

function fromRaw(r: RawFinding): Finding {
  return {
    fingerprint: "",
    tool: r.tool,
    tools: [r.tool],
    kind: r.kind,
    severity: r.severity,
    id: r.id,
    aliases: [...r.aliases],
    title: r.title,
    description: r.description,
    url: r.url,
    package: r.package,
    installedVersion: r.installedVersion,
    fixedVersions: [...r.fixedVersions],
    fixAvailable: r.fixAvailable,
    target: r.location.target,
    file: r.location.file,
    line: r.location.line,
    locations: [r.location],
    verification: r.verification,
    unverifiableSeverity: unverifiableSeverityOf(r),
    paths: r.paths,
    malicious: r.malicious,
    status: r.status,
    notAffected: r.notAffected,
  };
}

/** A secret no tool verified (Trivy's): its own severity is what the policy judges. */
function unverifiableSeverityOf(r: RawFinding): RawFinding["severity"] | undefined {
  return r.kind === "secret" && r.verification === undefined ? r.severity : undefined;
}

function sameLocation(a: Location, b: Location): boolean {
  return a.tool === b.tool && a.target === b.target && a.file === b.file && a.line === b.line && a.commit === b.commit;
}

function absorb(f: Finding, r: RawFinding): void {
  if (!f.tools.includes(r.tool)) f.tools.push(r.tool);
  f.severity = worseSeverity(f.severity, r.severity);
  addAlias(f, r.id);
  for (const alias of r.aliases) addAlias(f, alias);
  for (const v of r.fixedVersions) if (!f.fixedVersions.includes(v)) f.fixedVersions.push(v);
  f.fixAvailable ||= r.fixAvailable;
  if (r.malicious) f.malicious = true;
  // Not affected only if every occurrence says so: one scanner's VEX does not speak for another target.
  if (r.notAffected === undefined) f.notAffected = undefined;
  // A "no fix is coming" status is what the user most needs to see; otherwise the first one stays.
  if (r.status !== undefined && (f.status === undefined || (NO_FIX_STATUSES.has(r.status) && !NO_FIX_STATUSES.has(f.status)))) f.status = r.status;
  f.installedVersion ??= r.installedVersion;
  f.description ??= r.description;
  f.url ??= r.url;
  f.verification = strongerVerification(f.verification, r.verification);
  const unverifiable = unverifiableSeverityOf(r);
  if (unverifiable !== undefined) f.unverifiableSeverity = f.unverifiableSeverity === undefined ? unverifiable : worseSeverity(f.unverifiableSeverity, unverifiable);
  if (r.paths) f.paths = [...(f.paths ?? []), ...r.paths];
  if (!hasLocation(f.locations, r.location)) f.locations.push(r.location);
}

function addAlias(f: Finding, alias: string): void {
  if (alias !== f.id && !f.aliases.includes(alias)) f.aliases.push(alias);
}

function hasLocation(locations: readonly Location[], location: Location): boolean {
  for (const l of locations) if (sameLocation(l, location)) return true;
  return false;
}

function finish(f: Finding): void {
  if (f.kind === "vulnerability") {
    // The id shown is the CVE when any tool knew it; the others stay as aliases.
    const all = new Set([f.id, ...f.aliases]);
    f.id = preferredId(all);
    f.aliases = [...all].filter((a) => a !== f.id).sort();
    f.fingerprint = fingerprintOf("vulnerability", f.id, f.package, f.installedVersion);
  } else if (f.kind === "secret") {
    f.fingerprint = fingerprintOf("secret", normalisePath(f.file ?? f.target), f.line);
    f.verified = f.verification === "verified";
  } else {
    f.fingerprint = fingerprintOf("misconfiguration", f.id, normalisePath(f.file ?? f.target));
  }
  f.fixedVersions.sort();
}
