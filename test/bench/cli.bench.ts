import { execFileSync, spawnSync } from "node:child_process";
import { join } from "node:path";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { commandIndex } from "../../pipelines/src/cli/commands.js";

// CLI start-up (issue 16): every pipeline step runs `slipway` at least once, in a container, so its start-up
// is paid many times per release. Runs the compiled CLI as the toolkit image does (a whole process: node's
// own start, module loading, the command) and prints each command's median wall time beside `node -e 0`,
// the floor no Node CLI can beat, as a ratio. Target: every command within 3x of that floor.
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
execFileSync("npm", ["run", "build", "-w", "pipelines"], { cwd: root, stdio: "ignore" });
const bin = join(root, "pipelines", "bin", "slipway.js");
const RUNS = Number(process.env.CLI_BENCH_RUNS ?? 7);
const TARGET = 3;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

/** Median wall time (ms) and peak RSS (MB) of `node ...args`, run RUNS times, after one warm-up run. */
function measure(args: string[]): { ms: number; mb: number } {
  const wall: number[] = [];
  const rss: number[] = [];
  for (let i = 0; i <= RUNS; i++) {
    const result = spawnSync("/usr/bin/time", ["-f", "%e %M", process.execPath, ...args], { encoding: "utf8", env: { ...process.env, NODE_NO_WARNINGS: "1" } });
    if (i === 0) continue; // file-system cache warm-up
    const [seconds, kb] = (result.stderr.trim().split("\n").at(-1) ?? "0 0").split(" ").map(Number);
    wall.push((seconds ?? 0) * 1000);
    rss.push((kb ?? 0) / 1024);
  }
  return { ms: median(wall), mb: median(rss) };
}

const floor = measure(["-e", "0"]);
console.log(`node -e 0                        median ${floor.ms.toFixed(0).padStart(5)} ms, peak RSS ${floor.mb.toFixed(0).padStart(4)} MB (${RUNS} runs): the floor`);
const cases: string[][] = [["--help"], ["--version"], ...commandIndex().map((c) => [...c.words.split(" "), "--help"]), ["plan", "--source", root, "--json"]];
const slow: string[] = [];
for (const args of cases) {
  const { ms, mb } = measure([bin, ...args]);
  const ratio = ms / floor.ms;
  const label = `slipway ${args.map((a) => (a === root ? "." : a)).join(" ")}`;
  if (ratio > TARGET) slow.push(label);
  console.log(`${label.padEnd(32)} median ${ms.toFixed(0).padStart(5)} ms, peak RSS ${mb.toFixed(0).padStart(4)} MB, ${ratio.toFixed(1).padStart(4)}x node -e 0${ratio > TARGET ? "  OVER 3x" : ""}`);
}
// On a shared machine wall time includes waiting for a core; the load average says how contended it was.
console.log(`load average (1 min): ${(await import("node:os")).loadavg()[0]?.toFixed(1)}; over ${TARGET}x: ${slow.length === 0 ? "none" : slow.join(", ")}`);
