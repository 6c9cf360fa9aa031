import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { commandIndex } from "../../pipelines/src/cli/commands.js";

// CLI start-up (issue 16): every pipeline step runs `slipway` at least once, in a container, so its start-up
// is paid many times per release. Runs the compiled CLI as the toolkit image does (a whole process: node's
// own start, module loading, the command) and prints each command's median wall time beside `node -e 0`,
// the floor no Node CLI can beat, as a ratio. Target: every command within 3x of that floor.
// The CLI is an esbuild bundle split into chunks (pipelines/scripts/build.mjs): a command reads only the
// chunks its imports reach. Besides every command's --help, the commands pipeline steps run are measured
// doing real work on local inputs (a git repository, scanner reports, a GitOps checkout and its bare
// remote, a run report); those that need a server are measured up to their first request, answered by
// nobody (connection refused: the time is start-up, library loading and the command's own work). Where a
// run does work that is not Slipway's (a git clone, the user's own DataSource with TypeORM), that work is
// measured alone beside it and the target judges the rest (see Case.work); both ratios are printed.
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
execFileSync("npm", ["run", "build", "-w", "pipelines"], { cwd: root, stdio: "ignore" });
const bin = join(root, "pipelines", "bin", "slipway.js");
const RUNS = Number(process.env.CLI_BENCH_RUNS ?? 7);
const TARGET = 3;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

/** A real-run case: its arguments and the environment it needs beside the bench's own. */
interface Case {
  args: string[];
  env?: Record<string, string>;
  /**
   * The work of the run that is not Slipway's: the same git clone by git alone, or the user's own DataSource
   * (TypeORM and pg from the service's node_modules) imported by a bare `node`. Measured beside the command
   * and taken off its time: what remains is Slipway's own start-up and work, and that is what the target
   * judges (the whole-process ratio is printed too). `node`: the work runs in a Node process of its own, whose
   * floor the command does not pay twice.
   */
  work?: { what: string; argv: string[]; node?: boolean };
}

function once(args: string[], env: Record<string, string> = {}): { ms: number; mb: number; code: number | null } {
  const result = spawnSync("/usr/bin/time", ["-f", "%e %M", process.execPath, ...args], { encoding: "utf8", cwd: root, env: { ...process.env, ...env, NODE_NO_WARNINGS: "1" } });
  const [seconds, kb] = (result.stderr.trim().split("\n").at(-1) ?? "0 0").split(" ").map(Number);
  return { ms: (seconds ?? 0) * 1000, mb: (kb ?? 0) / 1024, code: result.status };
}

/**
 * Median wall time (ms) and peak RSS (MB) of `node ...args` over RUNS runs, after a warm-up run, each
 * run right after one of `node -e 0`: on a shared machine the load changes by the minute, and the ratio
 * to a floor measured at the same moment is what stays comparable.
 */
function measure(args: string[], env: Record<string, string> = {}, work?: Case["work"]): { ms: number; mb: number; floorMs: number; workMs?: number; code: number | null } {
  const wall: number[] = [];
  const rss: number[] = [];
  const floor: number[] = [];
  const alone: number[] = [];
  const { code } = once(args, env);
  for (let i = 0; i < RUNS; i++) {
    floor.push(once(["-e", "0"]).ms);
    const run = once(args, env);
    wall.push(run.ms);
    rss.push(run.mb);
    if (work) alone.push(timed(work.argv, env));
  }
  return { ms: median(wall), mb: median(rss), floorMs: median(floor), ...(work ? { workMs: median(alone) } : {}), code };
}

/** Wall time (ms) of one run of argv (not node's: git, sh), failing the bench if it fails. */
function timed(argv: string[], env: Record<string, string>): number {
  const [command, ...rest] = argv as [string, ...string[]];
  const result = spawnSync("/usr/bin/time", ["-f", "%e", command, ...rest], { encoding: "utf8", cwd: root, env: { ...process.env, ...env, NODE_NO_WARNINGS: "1" } });
  if (result.status !== 0) throw new Error(`${argv.join(" ")} failed: ${result.stderr}`);
  return Number(result.stderr.trim().split("\n").at(-1)) * 1000;
}

/** Local inputs for the real runs: slipway.yaml with one environment, a GitOps checkout with its bare remote. */
function fixtures(dir: string): Case[] {
  const git = (cwd: string, ...args: string[]) =>
    execFileSync("git", args, { cwd, stdio: "ignore", env: { ...process.env, GIT_AUTHOR_NAME: "b", GIT_AUTHOR_EMAIL: "b@example.invalid", GIT_COMMITTER_NAME: "b", GIT_COMMITTER_EMAIL: "b@example.invalid" } });
  const config = join(dir, "slipway.yaml");
  const bare = join(dir, "gitops.git");
  writeFileSync(
    config,
    ["gitops:", `  repository: ${bare}`, "  branch: main", "publish:", "  registry: myacr.azurecr.io", "  repositoryPrefix: shop", "environments:", "  dev:", "    gitops: { path: clusters/dev }", "    kubernetes: { namespace: shop-dev, deployments: [api] }", ""].join("\n"),
  );
  const gitops = join(dir, "gitops");
  const deployment = (tag: string) =>
    ["apiVersion: apps/v1", "kind: Deployment", "metadata: { name: api }", "spec:", "  template:", "    spec:", "      containers:", "        - name: api", `          image: myacr.azurecr.io/shop/api:${tag}`, ""].join("\n");
  cpSync(join(root, "test", "fixtures", "report", "ci-failed.json"), join(dir, "run.json"));
  execFileSync("mkdir", ["-p", join(gitops, "clusters", "dev")]);
  writeFileSync(join(gitops, "clusters", "dev", "api.yaml"), deployment("1.0.0"));
  git(dir, "init", "-q", "-b", "main", gitops);
  git(gitops, "add", "-A");
  git(gitops, "commit", "-q", "-m", "initial");
  git(dir, "clone", "-q", "--bare", gitops, bare);
  const kubeconfig = join(dir, "kubeconfig");
  writeFileSync(kubeconfig, "apiVersion: v1\nkind: Config\ncurrent-context: x\nclusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n");
  const scan = (f: string) => join(root, "test", "fixtures", "scan", f);
  // What ledger show and commit-push ask of git (cloneSource turns a local path into a file:// URL), by git alone.
  const clone = {
    what: "git clone --depth 1 of the repository",
    argv: ["sh", "-c", 'd=$(mktemp -d) && git clone -q --depth 1 --branch main --single-branch --no-tags "file://$1" "$d/repo" && git -C "$d/repo" rev-parse HEAD >/dev/null; s=$?; rm -rf "$d"; exit $s', "sh", bare],
  };
  const dataSource = join(root, "services", "api", "dist", "data-source.js");
  return [
    { args: ["plan", "--source", root, "--json"] },
    { args: ["config", "check", "--config", config, "--json"] },
    { args: ["env", "show", "--env", "dev", "--config", config, "--json"] },
    { args: ["scan", "gate", "--trivy", scan("trivy-fs.json"), "--trivy", scan("trivy-image.json"), "--trufflehog", scan("trufflehog.jsonl"), "--npm-audit", scan("npm-audit.json"), "--json"] },
    { args: ["acr", "tags", "--service", "api", "--source", root, "--registry", "myacr.azurecr.io", "--json"] },
    { args: ["gitops", "bump", "--repo", gitops, "--set", "myacr.azurecr.io/shop/api=1.0.1", "--dry-run", "--json"] },
    // The warm-up run pushes; every measured run clones, finds the tag set and pushes nothing.
    { args: ["gitops", "commit-push", "--repo", bare, "--branch", "main", "--set", "myacr.azurecr.io/shop/api=1.0.1", "--allow-unedited", "--workdir", join(dir, "work"), "--json"], work: clone },
    { args: ["ledger", "show", "--repo", bare, "--branch", "main", "--env", "dev", "--config", config, "--json"], work: clone },
    { args: ["report", "--in", join(dir, "run.json"), "--format", "md", "--out", join(dir, "run.md")] },
    { args: ["notify", "--env", "dev", "--event", "started", "--config", config, "--json"] },
    // Up to the first request, refused: the Kubernetes client, the Azure SDK, TypeORM with the api's DataSource.
    { args: ["rollout", "verify", "-n", "shop-dev", "--deployment", "api", "--kubeconfig", kubeconfig, "--context", "absent", "--json"] },
    { args: ["acr", "login", "--registry", "myacr.azurecr.io", "--mode", "client-secret", "--tenant-id", "t", "--client-id", "c", "--authority-host", "http://127.0.0.1:1", "--json"], env: { AZURE_CLIENT_SECRET: "bench-secret" } },
    {
      args: ["migrate", "status", "--data-source", dataSource, "--json"],
      env: { DATABASE_URL: "postgres://bench:bench@127.0.0.1:1/bench" },
      work: { what: "node importing the api's DataSource (its TypeORM and pg)", argv: [process.execPath, "--input-type=module", "-e", "await import(process.argv[1])", pathToFileURL(dataSource).href], node: true },
    },
  ];
}

const work = mkdtempSync(join(tmpdir(), "slipway-cli-bench-"));
// CLI_BENCH_MATCH=text: only the cases whose command line holds it (e.g. "ledger show").
const match = process.env.CLI_BENCH_MATCH;
const cases: Case[] = [{ args: ["--help"] }, { args: ["--version"] }, ...commandIndex().map((c) => ({ args: [...c.words.split(" "), "--help"] })), ...fixtures(work)].filter(
  (c) => match === undefined || c.args.join(" ").includes(match),
);
const slow: string[] = [];
console.log(`${RUNS} runs each, every run after one of node -e 0 (the floor, measured beside it)`);
for (const { args, env, work: beside } of cases) {
  const { ms, mb, floorMs, workMs, code } = measure([bin, ...args], env, beside);
  // With work that is not Slipway's, the target judges the rest: the whole minus that work (minus its own
  // Node start when it runs in one), never less than the floor.
  const own = workMs === undefined || beside === undefined ? ms : Math.max(floorMs, ms - workMs + (beside.node ? floorMs : 0));
  const ratio = own / floorMs;
  const label = `slipway ${args.map((a) => (a === root ? "." : a.startsWith(work) ? "…" : a.startsWith(root) ? a.slice(root.length + 1) : a)).join(" ")}`.slice(0, 60);
  if (ratio > TARGET) slow.push(label);
  const whole = workMs === undefined ? `${ratio.toFixed(1).padStart(4)}x` : `${(ms / floorMs).toFixed(1)}x whole, ${ratio.toFixed(1)}x without ${beside?.what} (${workMs.toFixed(0)} ms alone)`;
  console.log(`${label.padEnd(60)} median ${ms.toFixed(0).padStart(5)} ms (node -e 0 ${floorMs.toFixed(0).padStart(4)} ms), ${whole}, peak RSS ${mb.toFixed(0).padStart(4)} MB, exit ${code}${ratio > TARGET ? "  OVER 3x" : ""}`);
}
// On a shared machine wall time includes waiting for a core; the load average says how contended it was.
console.log(`load average (1 min): ${(await import("node:os")).loadavg()[0]?.toFixed(1)}; over ${TARGET}x: ${slow.length === 0 ? "none" : slow.join(", ")}`);
rmSync(work, { recursive: true, force: true });
