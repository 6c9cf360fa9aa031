import { execFileSync, spawnSync } from "node:child_process";
import { join } from "node:path";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { commandIndex } from "../../pipelines/src/cli/commands.js";

// CLI start-up (issue 16): every pipeline step runs `slipway` at least once, in a container, so its start-up
// is paid many times per release. Runs the compiled CLI as the toolkit image does (a whole process: node's
// own start, module loading, the command) and prints each command's median wall time beside `node -e 0`,
// the floor no Node CLI can beat, as a ratio. Target: every command within 3x of that floor.
// An esbuild bundle (ESM, code-split per area) was measured against the compiled files and not adopted:
// plan and config check gained about a quarter, the --help of gitops, env and release lost (the shared
// chunks are larger than what those commands load now), and the toolkit image would change with it.
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
execFileSync("npm", ["run", "build", "-w", "pipelines"], { cwd: root, stdio: "ignore" });
const bin = join(root, "pipelines", "bin", "slipway.js");
const RUNS = Number(process.env.CLI_BENCH_RUNS ?? 7);
const TARGET = 3;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

function once(args: string[]): { ms: number; mb: number } {
  const result = spawnSync("/usr/bin/time", ["-f", "%e %M", process.execPath, ...args], { encoding: "utf8", env: { ...process.env, NODE_NO_WARNINGS: "1" } });
  const [seconds, kb] = (result.stderr.trim().split("\n").at(-1) ?? "0 0").split(" ").map(Number);
  return { ms: (seconds ?? 0) * 1000, mb: (kb ?? 0) / 1024 };
}

/**
 * Median wall time (ms) and peak RSS (MB) of `node ...args` over RUNS runs, after a warm-up run, each
 * run right after one of `node -e 0`: on a shared machine the load changes by the minute, and the ratio
 * to a floor measured at the same moment is what stays comparable.
 */
function measure(args: string[]): { ms: number; mb: number; floorMs: number } {
  const wall: number[] = [];
  const rss: number[] = [];
  const floor: number[] = [];
  once(args);
  for (let i = 0; i < RUNS; i++) {
    floor.push(once(["-e", "0"]).ms);
    const run = once(args);
    wall.push(run.ms);
    rss.push(run.mb);
  }
  return { ms: median(wall), mb: median(rss), floorMs: median(floor) };
}

const cases: string[][] = [["--help"], ["--version"], ...commandIndex().map((c) => [...c.words.split(" "), "--help"]), ["plan", "--source", root, "--json"]];
const slow: string[] = [];
console.log(`${RUNS} runs each, every run after one of node -e 0 (the floor, measured beside it)`);
for (const args of cases) {
  const { ms, mb, floorMs } = measure([bin, ...args]);
  const ratio = ms / floorMs;
  const label = `slipway ${args.map((a) => (a === root ? "." : a)).join(" ")}`;
  if (ratio > TARGET) slow.push(label);
  console.log(`${label.padEnd(34)} median ${ms.toFixed(0).padStart(5)} ms (node -e 0 ${floorMs.toFixed(0).padStart(4)} ms), ${ratio.toFixed(1).padStart(4)}x, peak RSS ${mb.toFixed(0).padStart(4)} MB${ratio > TARGET ? "  OVER 3x" : ""}`);
}
// On a shared machine wall time includes waiting for a core; the load average says how contended it was.
console.log(`load average (1 min): ${(await import("node:os")).loadavg()[0]?.toFixed(1)}; over ${TARGET}x: ${slow.length === 0 ? "none" : slow.join(", ")}`);
