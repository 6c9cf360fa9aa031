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
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { dag } from "@dagger.io/dagger";
import { tempRepo } from "../helpers/repo.js";
import { json, serviceFiles } from "../helpers/sample-repos.js";
import { e2eMissing, inSession, REPO_ROOT } from "../dagger/e2e/world.js";
import { ensureBaseImage } from "../images/base-image.js";
import { startEngine } from "../images/engine.js";
import { SHARED_ENGINE_HOSTS } from "../images/shared-engine.js";
import { startDaggerStandin } from "../standins/dagger/server.js";

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
  /** CPU seconds of the engine's cgroup over the point's runs, when measured. */
  cpu?: number;
  busy: number;
  load: [number, number];
}

/**
 * The engine's CPU, read from a cgroup v1 cpuacct group of this bench's own: this process (the stand-in,
 * the SDK and module code, the docker clients it runs), dockerd, containerd and their shims inherit it,
 * and the containers are made under it (dockerd --cgroup-parent). cpuacct.usage (ns) counts every task
 * that was ever in the group or below it, removed containers included, and nothing of the neighbours.
 * Undefined where there is no writable cgroup v1 cpuacct hierarchy (then only wall time is printed).
 */
const CGROUP_ROOT = "/sys/fs/cgroup";
const GROUP = `slipway-bench-${process.pid}`;
function cpuGroup(): { usage(): number; containers: string; release(): void } | undefined {
  const root = join(CGROUP_ROOT, "cpuacct");
  if (!existsSync(join(root, "cpuacct.usage"))) return undefined;
  try {
    mkdirSync(join(root, GROUP));
    writeFileSync(join(root, GROUP, "cgroup.procs"), String(process.pid));
  } catch (error) {
    console.log(`engine CPU not measured: cannot use ${join(root, GROUP)} (${(error as Error).message})`);
    return undefined;
  }
  return {
    usage: () => Number(readFileSync(join(root, GROUP, "cpuacct.usage"), "utf8")) / 1e9,
    containers: `/${GROUP}/containers`,
    release() {
      // Back to the root group, then remove what dockerd (containers/, containers/buildkit/) and this bench
      // made in every hierarchy, deepest first: a cgroup with a child cannot be removed.
      writeFileSync(join(root, "cgroup.procs"), String(process.pid));
      const remove = (dir: string): void => {
        for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) remove(join(dir, entry.name));
        try {
          rmdirSync(dir);
        } catch (error) {
          console.log(`could not remove ${dir}: ${(error as Error).message}`);
        }
      };
      for (const hierarchy of readdirSync(CGROUP_ROOT)) if (existsSync(join(CGROUP_ROOT, hierarchy, GROUP))) remove(join(CGROUP_ROOT, hierarchy, GROUP));
    },
  };
}

/** Least squares y = fixed + perService x N over the points (needs two distinct N). */
function fit(points: Point[], y: (p: Point) => number): { fixed: number; perService: number } | undefined {
  const xs = points.map((p) => p.n);
  const ys = points.map(y);
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  const sxx = xs.reduce((a, x) => a + (x - mx) ** 2, 0);
  if (sxx === 0) return undefined;
  const perService = xs.reduce((a, x, i) => a + (x - mx) * ((ys[i] as number) - my), 0) / sxx;
  return { fixed: my - perService * mx, perService };
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
const group = cpuGroup();
const points: Point[] = [];
try {
  // What test/dagger/e2e/world.ts startWorld does, with an engine of the bench's own (its containers in
  // the bench's cgroup) instead of the test run's shared one.
  const engine = await startEngine({ hosts: SHARED_ENGINE_HOSTS, ...(group ? { cgroupParent: group.containers } : {}) });
  try {
    await ensureBaseImage(engine, join(REPO_ROOT, "node_modules", ".cache", "slipway-images"));
    const dagger = await startDaggerStandin({ engine });
    try {
      Object.assign(process.env, dagger.env);
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
        const cpuBefore = group?.usage();
        const loadBefore = loadavg()[0] ?? 0;
        for (let r = 0; r < RUNS; r++) seconds.push(await ciOnce(n, `n${n}-r${r}`));
        const after = cpuTimes();
        const point: Point = {
          n,
          seconds,
          ...(group && cpuBefore !== undefined ? { cpu: (group.usage() - cpuBefore) / RUNS } : {}),
          busy: (after.busy - before.busy) / Math.max(1, after.total - before.total),
          load: [loadBefore, loadavg()[0] ?? 0],
        };
        points.push(point);
        const base = points[0] as Point;
        const wall = median(seconds);
        const speedup = ((median(base.seconds) / base.n) * n) / wall;
        const cpu = point.cpu === undefined ? "" : `; engine CPU ${point.cpu.toFixed(0)} s (${(point.cpu / n).toFixed(1)} s per service, ${(point.cpu / wall).toFixed(2)} cores busy)`;
        console.log(
          `N=${String(n).padStart(2)}: wall ${wall.toFixed(1).padStart(6)} s, per service ${(wall / n).toFixed(1).padStart(5)} s, speed-up ${speedup.toFixed(2).padStart(5)}x vs ${n} x N=${base.n}` +
            `${RUNS > 1 ? ` (runs: ${seconds.map((x) => x.toFixed(1)).join(", ")} s)` : ""}${cpu}; machine CPU busy ${(point.busy * 100).toFixed(0)}% (all processes), load ${point.load[0].toFixed(1)} -> ${point.load[1].toFixed(1)}`,
        );
      }
    } finally {
      await dagger.stop();
    }
  } finally {
    await engine.stop();
  }
} finally {
  group?.release();
}
const wallFit = fit(points, (p) => median(p.seconds));
const cpuFit = points.every((p) => p.cpu !== undefined) ? fit(points, (p) => p.cpu as number) : undefined;
const fixedPart = MODE === "workspace" ? "plan and the one install" : "nothing but the toolkit image is shared";
if (wallFit) console.log(`fit: wall = ${wallFit.fixed.toFixed(1)} s + ${wallFit.perService.toFixed(1)} s x N (fixed: ${fixedPart}; per service: ${MODE === "workspace" ? "" : "plan, install, "}lint, test, build, image)`);
if (cpuFit) console.log(`fit: engine CPU = ${cpuFit.fixed.toFixed(1)} s + ${cpuFit.perService.toFixed(1)} s x N; at full use of ${cpus().length} cores that is at least ${(cpuFit.perService / cpus().length).toFixed(1)} s of wall per added service`);
console.log(`load average after: ${loadavg().map((l) => l.toFixed(1)).join(" ")}; whole bench ${((performance.now() - bench) / 1000).toFixed(0)} s`);
console.log("the machine may be shared: wall times include waiting for a core (load average beside each point); engine CPU is this bench's alone; machine CPU busy counts every process");
