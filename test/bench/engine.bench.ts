/**
 * `npm run bench -- engine` (issue 18): how `ci` scales with the number of services on one engine. For
 * N = 1, 2, 4, 8 it runs the module's `ci` (scan off) on a generated npm workspace of N copies of a small
 * service, through the real SDK against the Dagger API stand-in on a real Docker engine (the e2e tests'
 * world: test/dagger/e2e/world.ts), and prints the wall time, the time per service and the speed-up over
 * running the N services one after another (N x the time of N = 1), with the machine's cores, memory and
 * load average.
 *
 * One `ci` call with N services is what a shared engine gets from one job: the module plans, runs one
 * `npm ci` for the workspace, then lints, tests, builds and images every service in parallel
 * (checkServices in .dagger/src/index.ts). Each point gets a fresh repository whose every file differs
 * (a run id in each source file), so neither the stand-in's call IDs nor dockerd's build cache replay
 * another point's work; the toolkit image is built once before the curve and is not counted (a shared
 * engine keeps it).
 *
 * What the figures are and are not: see README "Scaling out". In short, the stand-in runs every exec as a
 * `docker create/start/commit` of a real container and builds images with dockerd's BuildKit, so the work is
 * real, but a Dagger engine's solver (one graph, deduplicated steps, lazy layers, no commit per exec) does
 * less per step: the figures are an upper bound on the per-service cost.
 *
 * `npm run bench` leaves it out (it takes about ten minutes) unless SLIPWAY_BENCH_ENGINE=1 (test/bench/run.ts);
 * SLIPWAY_BENCH_ENGINE_N=1,2,4,8 sets the points (the first is the baseline of the speed-up);
 * SLIPWAY_BENCH_ENGINE_RUNS=1 the runs per point (the median is printed);
 * SLIPWAY_BENCH_ENGINE_MODE=jobs measures N concurrent `ci` calls of one service each instead (N CI jobs
 * of N repositories on one shared engine: N installs instead of one).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { dag } from "@dagger.io/dagger";
import { tempRepo } from "../helpers/repo.js";
import { json, serviceFiles } from "../helpers/sample-repos.js";
import { e2eMissing, inSession, REPO_ROOT, startWorld } from "../dagger/e2e/world.js";

// .dagger/src uses legacy (experimental) decorators, which .dagger/tsconfig.json turns on; tsx applies one
// tsconfig per process (TSX_TSCONFIG_PATH, else ./tsconfig.json, whose `include` leaves .dagger out), so
// this bench runs itself again with the module's (vitest compiles each file with its nearest tsconfig).
if (process.env.TSX_TSCONFIG_PATH === undefined) {
  const again = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: "inherit",
    env: { ...process.env, TSX_TSCONFIG_PATH: join(REPO_ROOT, ".dagger", "tsconfig.json") },
  });
  process.exit(again.status ?? 1);
}
const { Slipway } = await import("../../.dagger/src/index.js");

/** What the runtime passes for the constructor's and ci's `@argument({ ignore })` (test/dagger/e2e/context.ts). */
const TOOLKIT_IGNORE = ["**/node_modules", "**/.git", "**/dist", "**/coverage", "**/*.log", ".tmp", ".dagger", "test", "services", "ci"];
const SOURCE_IGNORE = ["**/node_modules", "**/dist", "**/coverage", ".dagger/sdk"];

const MODE = process.env.SLIPWAY_BENCH_ENGINE_MODE ?? "workspace";
if (MODE !== "workspace" && MODE !== "jobs") {
  console.error(`SLIPWAY_BENCH_ENGINE_MODE=${JSON.stringify(MODE)}: expected workspace (one ci on N services) or jobs (N ci calls on one service each)`);
  process.exit(2);
}
const POINTS = (process.env.SLIPWAY_BENCH_ENGINE_N ?? "1,2,4,8").split(",").map((n) => Number(n.trim()));
if (POINTS.length === 0 || POINTS.some((n) => !Number.isInteger(n) || n < 1 || n > 64)) {
  console.error(`SLIPWAY_BENCH_ENGINE_N=${JSON.stringify(process.env.SLIPWAY_BENCH_ENGINE_N)}: expected a comma-separated list of service counts from 1 to 64, e.g. 1,2,4,8`);
  process.exit(2);
}
const RUNS = Number(process.env.SLIPWAY_BENCH_ENGINE_RUNS ?? 1);
if (!Number.isInteger(RUNS) || RUNS < 1 || RUNS > 10) {
  console.error(`SLIPWAY_BENCH_ENGINE_RUNS=${JSON.stringify(process.env.SLIPWAY_BENCH_ENGINE_RUNS)}: expected a whole number from 1 to 10`);
  process.exit(2);
}
const missing = e2eMissing();
if (missing !== undefined) {
  // Not a silent pass: the curve needs what the e2e tests need (root, dockerd, debootstrap).
  console.log(`NOT MEASURED: ${missing}`);
  process.exit(1);
}

/**
 * An npm workspace of `count` services shaped like this repository's (root lockfile as npm writes it for
 * workspace members, a Dockerfile per service built from the root): each lints and builds (node --check),
 * tests (node:test) and is imaged. `stamp` goes into every service's source, so no two repositories of
 * the bench share a file.
 */
function workspace(count: number, stamp: string): string {
  const names = Array.from({ length: count }, (_, i) => `svc-${String(i + 1).padStart(2, "0")}`);
  const member = (name: string) => ({ [`node_modules/${name}`]: { resolved: `services/${name}`, link: true }, [`services/${name}`]: { name, version: "1.0.0" } });
  const scripts = { lint: "node --check src/main.js", test: "node --test", build: "node --check src/main.js" };
  const files: Record<string, string> = {
    "package.json": json({ name: "fleet", version: "1.0.0", private: true, workspaces: ["services/*"] }),
    "package-lock.json": json({
      name: "fleet",
      version: "1.0.0",
      lockfileVersion: 3,
      requires: true,
      packages: { "": { name: "fleet", version: "1.0.0", workspaces: ["services/*"] }, ...Object.assign({}, ...names.map(member)) },
    }),
    ".dockerignore": ".git\n**/node_modules\n",
  };
  for (const name of names) {
    Object.assign(files, serviceFiles(`services/${name}`, { copyFrom: `services/${name}/` }), {
      [`services/${name}/package.json`]: json({ name, version: "1.0.0", private: true, type: "module", scripts }),
    });
    files[`services/${name}/src/main.js`] = `// ${stamp} ${name}\n${files[`services/${name}/src/main.js`] ?? ""}`;
  }
  return tempRepo(files);
}

/** Busy and total jiffies of all CPUs (/proc/stat), to tell how busy the whole machine was during a point. */
function cpuTimes(): { busy: number; total: number } {
  const fields = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "").trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { busy: total - idle, total };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] ?? NaN;

interface Point {
  n: number;
  seconds: number[];
  busy: number;
  load: [number, number];
}

const slipway = () => new Slipway(dag.host().directory(REPO_ROOT, { exclude: TOOLKIT_IGNORE }));

/** `ci` (scan off) on one repository; fails unless every service passed every step. */
async function ciPassed(repo: string, n: number): Promise<void> {
  const run = await slipway().ci(dag.host().directory(repo, { exclude: SOURCE_IGNORE }), undefined, undefined, false);
  const ok = run.services.filter((s) => [s.lint, s.test, s.build, s.image].join(" ") === "passed passed passed built").length;
  if (!run.passed || ok !== n) throw new Error(`ci on ${n} service(s) did not pass every step (${ok} of ${n} did):\n${run.summary()}`);
}

/**
 * The wall time of n services checked at once, on fresh repositories: one `ci` on a workspace of n
 * services (workspace), or n `ci` calls at once on a repository of one service each (jobs).
 */
async function ciOnce(n: number, label: string): Promise<number> {
  const stamp = `${label}-${process.pid}-${Date.now()}`;
  const repos = MODE === "workspace" ? [workspace(n, stamp)] : Array.from({ length: n }, (_, i) => workspace(1, `${stamp}-job${i}`));
  try {
    const started = performance.now();
    await inSession(() => Promise.all(repos.map((repo) => ciPassed(repo, MODE === "workspace" ? n : 1))));
    return (performance.now() - started) / 1000;
  } finally {
    for (const repo of repos) rmSync(repo, { recursive: true, force: true });
  }
}

const cores = cpus();
const model = cores[0]?.model.trim() ?? "unknown CPU";
console.log(`machine: ${cores.length} cores (${model}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB memory; engine: dockerd ${execFileSync("dockerd", ["--version"], { encoding: "utf8" }).trim().replace(/^Docker version /, "")} behind the Dagger API stand-in`);
console.log(`${MODE === "workspace" ? "one ci (scan off) on a workspace of N services" : "N ci calls (scan off) at once, one service each"}; points ${POINTS.join(", ")}; ${RUNS} run(s) each (median); load average before: ${loadavg().map((l) => l.toFixed(1)).join(" ")}`);

const bench = performance.now();
const world = await startWorld();
const points: Point[] = [];
try {
  // Not counted: the toolkit image (a shared engine keeps it between jobs) and a first ci that fills the
  // npm cache volume and warms dockerd.
  let t = performance.now();
  await inSession(() => slipway().toolkit().sync());
  console.log(`toolkit image built in ${((performance.now() - t) / 1000).toFixed(1)} s (not counted)`);
  t = performance.now();
  await ciOnce(1, "warm-up");
  console.log(`warm-up ci (1 service) ${((performance.now() - t) / 1000).toFixed(1)} s (not counted)`);

  for (const n of POINTS) {
    const seconds: number[] = [];
    const before = cpuTimes();
    const loadBefore = loadavg()[0] ?? 0;
    for (let r = 0; r < RUNS; r++) seconds.push(await ciOnce(n, `n${n}-r${r}`));
    const after = cpuTimes();
    const point: Point = { n, seconds, busy: (after.busy - before.busy) / Math.max(1, after.total - before.total), load: [loadBefore, loadavg()[0] ?? 0] };
    points.push(point);
    const base = points[0] as Point;
    const wall = median(seconds);
    const speedup = (median(base.seconds) / base.n) * n / wall;
    console.log(
      `N=${String(n).padStart(2)}: wall ${wall.toFixed(1).padStart(6)} s, per service ${(wall / n).toFixed(1).padStart(5)} s, speed-up ${speedup.toFixed(2).padStart(5)}x vs ${n} x N=${base.n}` +
        `${RUNS > 1 ? ` (runs: ${seconds.map((s) => s.toFixed(1)).join(", ")} s)` : ""}; machine CPU busy ${(point.busy * 100).toFixed(0)}% (all processes), load ${point.load[0].toFixed(1)} -> ${point.load[1].toFixed(1)}`,
    );
  }
} finally {
  await world.stop();
}
console.log(`load average after: ${loadavg().map((l) => l.toFixed(1)).join(" ")}; whole bench ${((performance.now() - bench) / 1000).toFixed(0)} s`);
console.log("the machine may be shared: wall times include waiting for a core; CPU busy counts every process on it, not only this bench");
