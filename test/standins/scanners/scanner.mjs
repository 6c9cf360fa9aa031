// Stand-in for the pinned scanner images the module runs (pipelines/src/scan/argv.ts DEFAULT_IMAGES):
// Trivy, TruffleHog, OSV-Scanner and `npm audit`, none of which (nor their databases) can be had here.
// Each really reads what it is given (the mounted source, its git history, the image tarball) and
// writes the real tool's documented report format, so verdicts come from the input, not from the test:
// - Trivy JSON, SchemaVersion 2 (https://trivy.dev/latest/docs/configuration/reporting/#json); walks
//   like pkg/fanal/walker/walk.go (defaultSkipDirs **/.git, proc, sys, dev).
// - TruffleHog v3 `--json` lines (SourceMetadata.Data.Git, DetectorName, Verified, VerificationError, Raw);
//   verification cannot reach AWS here, so a found key is "unknown" (VerificationError set), as offline.
// - OSV-Scanner v1 `--format json` (results[].source, packages[].package / vulnerabilities / groups).
// - npm audit v2 `--json` (auditReportVersion 2, vulnerabilities{}, metadata), exit 1 when it found any.
// Its "databases" hold one advisory (lodash < 4.17.21, CVE-2021-23337 / GHSA-35jh-r3h4-6jhm) and one
// secret rule (an AWS access key id with its secret key nearby).
//
// Test knobs, from the image's environment (a derived image sets them): STANDIN_SCANNER_MODE=garbage
// writes a report that is not JSON, =crash exits 2 without one. And a tripwire: Trivy fs, OSV-Scanner
// and npm audit refuse to run when a .git folder is visible in what they scan, because the module must
// not hand the checkout's git metadata (with the token actions/checkout leaves in .git/config) to
// scanners that do not read history (shared/DAGGER-0.21.md).
//
// Usage (the image's binaries are wrappers): node scanner.mjs <trivy|trufflehog|osv-scanner|npm> ARGS...
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";

const ADVISORY = {
  package: "lodash",
  fixed: "4.17.21",
  cve: "CVE-2021-23337",
  ghsa: "GHSA-35jh-r3h4-6jhm",
  title: "Command Injection in lodash",
  description: "lodash versions prior to 4.17.21 are vulnerable to Command Injection via the template function.",
  cvss: { score: 7.2, vector: "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H" },
};
const AWS_KEY_ID = /\b((?:AKIA|ASIA)[0-9A-Z]{16})\b/;
const AWS_SECRET = /(?<![A-Za-z0-9/+])([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])/;

const [tool, ...args] = process.argv.slice(2);
const mode = process.env.STANDIN_SCANNER_MODE ?? "";

function flag(name) {
  const i = args.indexOf(name);
  if (i >= 0) return args[i + 1];
  const inline = args.find((a) => a.startsWith(`${name}=`));
  return inline?.slice(name.length + 1);
}

function older(version, than) {
  const a = version.split(/[.-]/).map(Number);
  const b = than.split(/[.-]/).map(Number);
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) < (b[i] ?? 0);
  return false;
}

/** Files under `root`, relative, skipping what Trivy's walker skips (and node_modules unless asked). */
function walk(root, { nodeModules = false } = {}) {
  const out = [];
  const visit = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      const rel = relative(root, full);
      if (entry.isDirectory()) {
        if (entry.name === ".git" || ["proc", "sys", "dev"].includes(rel) || (!nodeModules && entry.name === "node_modules")) continue;
        visit(full);
      } else if (entry.isFile()) out.push(rel);
    }
  };
  visit(root);
  return out.sort();
}

/** Packages of an npm lockfile (v2/v3 `packages`), as [path, name, version]. */
function lockPackages(text) {
  const lock = JSON.parse(text);
  return Object.entries(lock.packages ?? {})
    .filter(([path, p]) => path !== "" && p.version && !p.link)
    .map(([path, p]) => [path, p.name ?? path.slice(path.lastIndexOf("node_modules/") + "node_modules/".length), p.version]);
}

/** Secrets in one text file: an AWS key id with a 40-character secret key within 5 lines. */
function findSecrets(text) {
  if (text.includes("\0")) return [];
  const lines = text.split("\n");
  const found = [];
  lines.forEach((line, i) => {
    const id = AWS_KEY_ID.exec(line);
    if (!id) return;
    const near = lines.slice(Math.max(0, i - 5), i + 6).join("\n");
    const secret = AWS_SECRET.exec(near.replace(id[1], ""));
    if (secret) found.push({ line: i + 1, id: id[1], secret: secret[1] });
  });
  return found;
}

function trivyVulnerability(name, version, pkgPath) {
  return {
    VulnerabilityID: ADVISORY.cve,
    PkgID: `${name}@${version}`,
    PkgName: name,
    ...(pkgPath ? { PkgPath: pkgPath } : {}),
    InstalledVersion: version,
    FixedVersion: ADVISORY.fixed,
    Status: "fixed",
    SeveritySource: "ghsa",
    PrimaryURL: `https://avd.aquasec.com/nvd/${ADVISORY.cve.toLowerCase()}`,
    DataSource: { ID: "ghsa", Name: "GitHub Security Advisory npm", URL: "https://github.com/advisories?query=type%3Areviewed+ecosystem%3Anpm" },
    Title: `lodash: ${ADVISORY.title}`,
    Description: ADVISORY.description,
    Severity: "HIGH",
    CweIDs: ["CWE-77", "CWE-94"],
    References: [`https://nvd.nist.gov/vuln/detail/${ADVISORY.cve}`],
  };
}

function trivySecret(hit) {
  // Trivy masks the secret in Match and Code (pkg/fanal/secret/scanner.go): asterisks, never the value.
  return {
    RuleID: "aws-access-key-id",
    Category: "AWS",
    Severity: "CRITICAL",
    Title: "AWS Access Key ID",
    StartLine: hit.line,
    EndLine: hit.line,
    Match: `aws_access_key_id = ${"*".repeat(hit.id.length)}`,
  };
}

/** Trivy results for a tree: npm lockfiles (fs) or installed package.json files (image), and secrets. */
function trivyResults(root, kind) {
  const results = [];
  const files = walk(root, { nodeModules: kind === "image" });
  if (kind === "fs") {
    for (const file of files.filter((f) => f.endsWith("package-lock.json"))) {
      const vulns = lockPackages(readFileSync(join(root, file), "utf8"))
        .filter(([, name, version]) => name === ADVISORY.package && older(version, ADVISORY.fixed))
        .map(([, name, version]) => trivyVulnerability(name, version));
      results.push({ Target: file, Class: "lang-pkgs", Type: "npm", ...(vulns.length ? { Vulnerabilities: vulns } : {}) });
    }
  } else {
    const vulns = [];
    for (const file of files.filter((f) => /(^|\/)node_modules\/(@[^/]+\/)?[^/]+\/package\.json$/.test(f))) {
      const pkg = JSON.parse(readFileSync(join(root, file), "utf8"));
      if (pkg.name === ADVISORY.package && pkg.version && older(pkg.version, ADVISORY.fixed)) vulns.push(trivyVulnerability(pkg.name, pkg.version, file));
    }
    if (vulns.length) results.push({ Target: "Node.js", Class: "lang-pkgs", Type: "node-pkg", Vulnerabilities: vulns });
  }
  for (const file of files) {
    const full = join(root, file);
    if (statSync(full).size > 1 << 20) continue;
    const hits = findSecrets(readFileSync(full, "latin1"));
    if (hits.length) results.push({ Target: kind === "image" ? `/${file}` : file, Class: "secret", Secrets: hits.map(trivySecret) });
  }
  return results;
}

function trivy() {
  const [command] = args;
  const output = flag("--output");
  let artifact;
  let results;
  let metadata = { ImageConfig: {} };
  if (command === "fs") {
    const target = resolve(args[args.length - 1]);
    tripwire(target);
    artifact = args[args.length - 1];
    results = trivyResults(target, "fs");
  } else if (command === "image") {
    const input = flag("--input");
    const dir = mkdtempSync(join(tmpdir(), "image-"));
    const rootfs = join(dir, "rootfs");
    run("mkdir", ["-p", rootfs]);
    run("tar", ["-xf", input, "-C", dir]);
    const [manifest] = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
    for (const layer of manifest.Layers) run("tar", ["-xf", join(dir, layer), "-C", rootfs, "--no-same-owner", "--exclude=dev/*"]);
    const config = JSON.parse(readFileSync(join(dir, manifest.Config), "utf8"));
    artifact = input;
    metadata = { ImageConfig: config };
    results = trivyResults(rootfs, "image");
    // --image-config-scanners secret: the config's ENV and history are scanned too.
    const hits = findSecrets((config.config?.Env ?? []).join("\n"));
    if (hits.length) results.push({ Target: "config.json", Class: "secret", Secrets: hits.map(trivySecret) });
  } else {
    fail(`stand-in trivy: unsupported command ${command}`);
  }
  const report = { SchemaVersion: 2, CreatedAt: new Date().toISOString(), ArtifactName: artifact, ArtifactType: command === "fs" ? "filesystem" : "container_image", Metadata: metadata, Results: results };
  writeReport(output, JSON.stringify(report, null, 2));
  process.stderr.write(`INFO\t[${command}] stand-in scan finished\n`);
}

function trufflehog() {
  const [source, uri] = args;
  if (source !== "git" || !uri?.startsWith("file://")) fail(`stand-in trufflehog: unsupported source ${source} ${uri}`);
  const repo = uri.slice("file://".length);
  const since = flag("--since-commit");
  // Every commit reachable from any ref (after --since-commit), with the lines it added.
  const log = run("git", ["-C", repo, "log", "--all", "-p", "--unified=0", "--no-color", "--format=%x00%H%x00%an <%ae>%x00%ad", "--date=iso", ...(since ? [`^${since}`] : [])]);
  const commits = [];
  for (const line of log.split("\n")) {
    if (line.startsWith("\0")) {
      const [, commit, email, timestamp] = line.split("\0");
      commits.push({ commit, email, timestamp, diff: [] });
    } else commits.at(-1)?.diff.push(line);
  }
  const lines = [];
  for (const { commit, email, timestamp, diff } of commits) {
    let file = "";
    let lineNo = 0;
    const byFile = new Map();
    for (const text of diff) {
      if (text.startsWith("+++ ")) file = text.replace(/^\+\+\+ (b\/)?/, "");
      else if (text.startsWith("@@")) lineNo = Number(/\+(\d+)/.exec(text)?.[1] ?? 0);
      else if (text.startsWith("+")) {
        if (!byFile.has(file)) byFile.set(file, []);
        byFile.get(file).push({ line: lineNo++, text: text.slice(1) });
      }
    }
    for (const [name, rows] of byFile) {
      for (const hit of findSecrets(rows.map((r) => r.text).join("\n"))) {
        lines.push({
          SourceMetadata: { Data: { Git: { commit, file: name, email, repository: uri, timestamp: timestamp.trim(), line: rows[hit.line - 1]?.line ?? 0 } } },
          SourceID: 1, SourceType: 16, SourceName: "trufflehog - git",
          DetectorType: 2, DetectorName: "AWS", DetectorDescription: "Amazon Web Services (AWS) is a cloud computing service.",
          DecoderName: "PLAIN", Verified: false,
          VerificationError: "Post \"https://sts.amazonaws.com\": dial tcp: lookup sts.amazonaws.com: no such host",
          Raw: hit.id, RawV2: `${hit.id}:${hit.secret}`, Redacted: hit.id,
          ExtraData: { account: "", resource_type: "Access key" },
          StructuredData: null,
        });
      }
    }
  }
  if (mode === "garbage") return process.stdout.write("panic: runtime error: index out of range [3] with length 3\ngoroutine 1 [running]:\n");
  if (mode === "crash") fail("stand-in trufflehog: crashed (STANDIN_SCANNER_MODE=crash)");
  process.stdout.write(lines.map((l) => JSON.stringify(l)).join("\n") + (lines.length ? "\n" : ""));
  process.stderr.write(`${JSON.stringify({ level: "info-0", ts: new Date().toISOString(), logger: "trufflehog", msg: "finished scanning", chunks: lines.length })}\n`);
}

function osv() {
  const output = flag("--output");
  const root = resolve(args[args.length - 1]);
  tripwire(root);
  const results = [];
  for (const file of walk(root).filter((f) => f.endsWith("package-lock.json"))) {
    const packages = lockPackages(readFileSync(join(root, file), "utf8"))
      .filter(([, name, version]) => name === ADVISORY.package && older(version, ADVISORY.fixed))
      .map(([, name, version]) => ({
        package: { name, version, ecosystem: "npm" },
        vulnerabilities: [{
          modified: "2024-03-13T00:00:00Z", published: "2021-05-06T16:05:51Z", schema_version: "1.6.0",
          id: ADVISORY.ghsa, aliases: [ADVISORY.cve], summary: ADVISORY.title, details: ADVISORY.description,
          affected: [{ package: { ecosystem: "npm", name, purl: `pkg:npm/${name}` }, ranges: [{ type: "SEMVER", events: [{ introduced: "0" }, { fixed: ADVISORY.fixed }] }] }],
          references: [{ type: "ADVISORY", url: `https://nvd.nist.gov/vuln/detail/${ADVISORY.cve}` }],
          severity: [{ type: "CVSS_V3", score: ADVISORY.cvss.vector }],
          database_specific: { cwe_ids: ["CWE-77", "CWE-94"], github_reviewed: true, severity: "HIGH" },
        }],
        groups: [{ ids: [ADVISORY.ghsa], aliases: [ADVISORY.ghsa, ADVISORY.cve], max_severity: String(ADVISORY.cvss.score) }],
      }));
    if (packages.length) results.push({ source: { path: join(root, file), type: "lockfile" }, packages });
  }
  if (walk(root).every((f) => !f.endsWith("package-lock.json"))) fail("No package sources found, --help for usage information.", 128);
  writeReport(output, JSON.stringify({ results, experimental_config: { licenses: { summary: false, allowlist: null } } }, null, 2));
  process.exitCode = results.length ? 1 : 0;
}

function npm() {
  if (args[0] !== "audit" || !args.includes("--json")) fail(`stand-in npm: only \`npm audit --json\` is implemented, got ${args.join(" ")}`);
  const cwd = process.cwd();
  tripwire(cwd);
  const lockfile = join(cwd, "package-lock.json");
  if (!existsSync(lockfile)) {
    process.stdout.write(JSON.stringify({ error: { code: "ENOLOCK", summary: "This command requires an existing lockfile.", detail: "Try creating one first with: npm i --package-lock-only" } }, null, 2));
    process.exit(1);
  }
  const packages = lockPackages(readFileSync(lockfile, "utf8"));
  const direct = new Set(Object.keys({ ...JSON.parse(readFileSync(lockfile, "utf8")).packages?.[""]?.dependencies }));
  const vulnerabilities = {};
  for (const [path, name, version] of packages) {
    if (name !== ADVISORY.package || !older(version, ADVISORY.fixed)) continue;
    const entry = (vulnerabilities[name] ??= {
      name, severity: "high", isDirect: direct.has(name),
      via: [{ source: 1097140, name, dependency: name, title: ADVISORY.title, url: `https://github.com/advisories/${ADVISORY.ghsa}`, severity: "high", cwe: ["CWE-77", "CWE-94"], cvss: { score: ADVISORY.cvss.score, vectorString: ADVISORY.cvss.vector }, range: `<${ADVISORY.fixed}` }],
      effects: [], range: `<${ADVISORY.fixed}`, nodes: [], fixAvailable: true,
    });
    entry.nodes.push(path);
  }
  const high = Object.keys(vulnerabilities).length;
  const report = {
    auditReportVersion: 2,
    vulnerabilities,
    metadata: {
      vulnerabilities: { info: 0, low: 0, moderate: 0, high, critical: 0, total: high },
      dependencies: { prod: packages.length + 1, dev: 0, optional: 0, peer: 0, peerOptional: 0, total: packages.length + 1 },
    },
  };
  process.stdout.write(JSON.stringify(report, null, 2) + "\n");
  process.exitCode = high > 0 ? 1 : 0;
}

function tripwire(root) {
  if (existsSync(join(root, ".git"))) {
    fail(`stand-in ${tool} tripwire: ${join(root, ".git")} is visible; this scanner needs no git history and must not get the checkout's .git (and the credentials in .git/config)`, 3);
  }
}

function writeReport(path, text) {
  if (mode === "crash") fail(`stand-in ${tool}: crashed (STANDIN_SCANNER_MODE=crash)`);
  writeFileSync(path, mode === "garbage" ? `${text.slice(0, text.length >> 1)}\n<<garbage>>` : text);
}

function run(command, argv) {
  const out = spawnSync(command, argv, { encoding: "utf8", maxBuffer: 256 << 20 });
  if (out.status !== 0) fail(`stand-in ${tool}: ${command} ${argv.join(" ")} failed: ${out.stderr}`);
  return out.stdout;
}

function fail(message, code = 2) {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

const tools = { trivy, trufflehog, "osv-scanner": osv, npm };
if (!tools[tool]) fail(`stand-in scanner: unknown tool ${tool}`);
tools[tool]();
