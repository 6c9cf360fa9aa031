import { execFileSync, spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

// CLI start-up: every pipeline step runs `slipway` at least once, in a container. Runs the compiled CLI
// (as the toolkit image does) and prints the median wall time and peak RSS per command; each command
// should load only its own area (pipelines/src/cli/commands.ts).
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
execFileSync("npm", ["run", "build", "-w", "pipelines"], { cwd: root, stdio: "ignore" });
const bin = join(root, "pipelines", "bin", "slipway.js");
const RUNS = Number(process.env.CLI_BENCH_RUNS ?? 5);
const cases: string[][] = [["--help"], ["plan", "--source", root, "--json"], ["scan", "gate", "--help"], ["gitops", "bump", "--help"], ["rollout", "verify", "--help"], ["acr", "tags", "--help"]];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

for (const args of cases) {
  const wall: number[] = [];
  const rss: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const result = spawnSync("/usr/bin/time", ["-f", "%e %M", process.execPath, bin, ...args], { encoding: "utf8" });
    const [seconds, kb] = (result.stderr.trim().split("\n").at(-1) ?? "0 0").split(" ").map(Number);
    wall.push((seconds ?? 0) * 1000);
    rss.push((kb ?? 0) / 1024);
  }
  console.log(`slipway ${args.slice(0, 2).join(" ").padEnd(16)} median ${median(wall).toFixed(0).padStart(5)} ms, peak RSS ${median(rss).toFixed(0).padStart(4)} MB (${RUNS} runs)`);
}
