import { execFileSync, spawnSync } from "node:child_process";
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * `npm run bench -- scan`: `slipway scan gate` over a generated Trivy report with 50,000
 * vulnerabilities across 200 targets, writing SARIF, JUnit and Markdown and printing --json
 * (issue 3 target: under 1 s and under 300 MB).
 *
 * Measured as users run it: pipelines/ compiled with tsc (as pipelines/Dockerfile does) and the CLI's
 * own `run` in a fresh plain-node process per run, so neither the report generator, tsx nor this
 * script is counted. Per run: the gate's CPU and wall time (the `run` call: read, parse, dedupe,
 * policy, reports, JSON), CLI start-up (loading every command's modules) on its own line, and the
 * process's peak RSS (start-up included: it is what the machine must have). The verdict uses the
 * median CPU time and median peak RSS: on a shared 2-core machine wall time also measures the
 * neighbours (load average printed). SCAN_BENCH_RUNS sets the number of runs (default 5).
 */
const TARGETS = 200;
const PER_TARGET = 250;
const SEVERITIES = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"];
const RUNS = Math.max(1, Number(process.env.SCAN_BENCH_RUNS ?? 5));
const TARGET_MS = 1000;
const TARGET_MB = 300;

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, "..", "..");

function report(): string {
  const results = [];
  for (let t = 0; t < TARGETS; t++) {
    const vulns = [];
    for (let i = 0; i < PER_TARGET; i++) {
      // 5,000 distinct CVEs over 1,000 packages: each shows up in ~10 targets and must be merged.
      const n = (t * PER_TARGET + i * 7) % 5000;
      vulns.push({
        VulnerabilityID: `CVE-2024-${String(10000 + n)}`,
        PkgID: `pkg-${n % 1000}@1.${n % 7}.0`,
        PkgName: `pkg-${n % 1000}`,
        InstalledVersion: `1.${n % 7}.0`,
        ...(n % 3 === 0 ? {} : { FixedVersion: `1.${n % 7}.1` }),
        Status: n % 3 === 0 ? "affected" : "fixed",
        Layer: { DiffID: `sha256:${(t % 10).toString(16).repeat(64)}` },
        SeveritySource: "nvd",
        PrimaryURL: `https://avd.aquasec.com/nvd/cve-2024-${10000 + n}`,
        Title: `pkg-${n % 1000}: a generated vulnerability number ${n}`,
        Description: "A generated description long enough to look like a real one. ".repeat(4),
        Severity: SEVERITIES[n % 5],
        CweIDs: ["CWE-400"],
        References: [`https://nvd.nist.gov/vuln/detail/CVE-2024-${10000 + n}`],
      });
    }
    results.push({ Target: `services/svc-${t}/package-lock.json`, Class: "lang-pkgs", Type: "npm", Vulnerabilities: vulns });
  }
  return JSON.stringify({ SchemaVersion: 2, ArtifactName: "registry.example/big:1", ArtifactType: "container_image", Results: results });
}

if (process.argv[2] === "--generate") {
  writeFileSync(process.argv[3] as string, report());
  process.exit(0);
}

/** tsc into `dir`, as the toolkit image builds it; node_modules linked so packages resolve as in the repo. */
function compile(dir: string): string {
  const tsc = join(dirname(createRequire(import.meta.url).resolve("typescript/package.json")), "bin", "tsc");
  mkdirSync(join(dir, "pipelines"), { recursive: true });
  for (const pkg of ["package.json", join("pipelines", "package.json")]) copyFileSync(join(repo, pkg), join(dir, pkg));
  for (const modules of ["node_modules", join("pipelines", "node_modules")]) {
    if (existsSync(join(repo, modules))) symlinkSync(join(repo, modules), join(dir, modules), "dir");
  }
  const out = join(dir, "pipelines", "dist");
  const result = spawnSync(process.execPath, [tsc, "-p", join(repo, "pipelines", "tsconfig.build.json"), "--outDir", out, "--declaration", "false", "--sourceMap", "false"], { encoding: "utf8" });
  const main = join(out, "cli", "main.js");
  // Type errors elsewhere in the tree (work in progress) still emit JavaScript; a missing CLI does not.
  if (!existsSync(main)) throw new Error(`tsc did not emit the CLI:\n${result.stdout}${result.stderr}`);
  if (result.status !== 0) console.log("  (tsc reported type errors; the emitted JavaScript is measured anyway)");
  return main;
}

/** Runs in the measured process: plain node, the compiled CLI, the same `run` that bin/slipway.js calls. */
const CHILD = `
import { writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
const [main, out, ...argv] = process.argv.slice(1);
// main.js runs itself when process.argv[1] names it; here the measured code calls run() instead.
process.argv.length = 1;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const { run, processIo } = await import(pathToFileURL(main).href);
const startupCpu = process.cpuUsage(cpu0);
const startupMs = performance.now() - t0;
const rssLoaded = process.memoryUsage().rss;
const cpu1 = process.cpuUsage();
const t1 = performance.now();
const code = await run(argv, processIo());
const cpu = process.cpuUsage(cpu1);
const ms = performance.now() - t1;
writeFileSync(out, JSON.stringify({
  code, ms, cpuMs: (cpu.user + cpu.system) / 1000,
  startupMs, startupCpuMs: (startupCpu.user + startupCpu.system) / 1000,
  rssLoadedMb: rssLoaded / 1e6, peakMb: process.resourceUsage().maxRSS / 1024,
}));
`;

interface Run {
  code: number;
  ms: number;
  cpuMs: number;
  startupMs: number;
  startupCpuMs: number;
  rssLoadedMb: number;
  peakMb: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

const dir = mkdtempSync(join(tmpdir(), "slipway-scan-bench-"));
try {
  const file = join(dir, "trivy.json");
  execFileSync(process.execPath, [...process.execArgv, process.argv[1] as string, "--generate", file], { stdio: "inherit" });
  const size = statSync(file).size;
  const main = compile(join(dir, "build"));
  const load = [loadavg()[0] ?? 0];
  const runs: Run[] = [];
  let stdoutText = "";
  for (let i = 0; i < RUNS; i++) {
    const measures = join(dir, `run-${i}.json`);
    const stdoutFile = join(dir, `stdout-${i}.json`);
    const stdout = openSync(stdoutFile, "w");
    const argv = ["scan", "gate", "--trivy", "trivy.json", "--sarif", "out.sarif", "--junit", "junit.xml", "--markdown", "summary.md", "--json"];
    const child = spawnSync(process.execPath, ["--input-type=module", "-e", CHILD, main, measures, ...argv], { cwd: dir, stdio: ["ignore", stdout, "pipe"], encoding: "utf8" });
    closeSync(stdout);
    if (!existsSync(measures)) throw new Error(`the gate process failed (exit ${child.status}):\n${child.stderr}`);
    const run = JSON.parse(readFileSync(measures, "utf8")) as Run;
    // 2,000 findings are over the default policy: the gate must fail (1), not error (2).
    if (run.code !== 1) throw new Error(`slipway scan gate exited ${run.code}, expected 1:\n${child.stderr}`);
    runs.push(run);
    stdoutText = readFileSync(stdoutFile, "utf8");
    load.push(loadavg()[0] ?? 0);
    console.log(
      `  run ${i + 1}: gate ${run.cpuMs.toFixed(0)} ms CPU, ${run.ms.toFixed(0)} ms wall; peak RSS ${run.peakMb.toFixed(0)} MB (${run.rssLoadedMb.toFixed(0)} MB after start-up); start-up ${run.startupCpuMs.toFixed(0)} ms CPU, ${run.startupMs.toFixed(0)} ms wall`,
    );
  }
  const json = JSON.parse(stdoutText) as { counts: Record<string, Record<string, number>>; failing: unknown[] };
  const total = Object.values(json.counts).reduce((n, bySeverity) => n + Object.values(bySeverity).reduce((a, b) => a + b, 0), 0);
  const cpuMs = median(runs.map((r) => r.cpuMs));
  const peakMb = median(runs.map((r) => r.peakMb));
  console.log(`scan gate: ${TARGETS * PER_TARGET} vulnerabilities in ${TARGETS} targets (${(size / 1e6).toFixed(1)} MB of Trivy JSON), SARIF + JUnit + Markdown + --json`);
  console.log(`  findings after dedupe: ${total}, failing: ${json.failing.length}, --json: ${(stdoutText.length / 1e6).toFixed(1)} MB`);
  console.log(`  median of ${RUNS}: gate ${cpuMs.toFixed(0)} ms CPU, ${median(runs.map((r) => r.ms)).toFixed(0)} ms wall (target < ${TARGET_MS} ms); load average ${Math.min(...load).toFixed(1)}-${Math.max(...load).toFixed(1)}`);
  console.log(`  median peak RSS: ${peakMb.toFixed(0)} MB, whole process (${median(runs.map((r) => r.rssLoadedMb)).toFixed(0)} MB after CLI start-up; target < ${TARGET_MB} MB)`);
  console.log(`  median CLI start-up (not in the gate's time): ${median(runs.map((r) => r.startupCpuMs)).toFixed(0)} ms CPU, ${median(runs.map((r) => r.startupMs)).toFixed(0)} ms wall`);
  if (cpuMs >= TARGET_MS || peakMb >= TARGET_MB) {
    console.log("  OVER TARGET");
    process.exitCode = 1;
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
