import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

// `npm run bench`: runs every test/bench/*.bench.ts in its own process (clean heap for memory figures)
// and lets each print its own figures. `npm run bench -- gitops` runs the benches whose name matches.
// The long ones run only when named (`npm run bench -- engine`) or asked for by their variable.
const here = dirname(fileURLToPath(import.meta.url));
const filter = process.argv[2];
const LONG: Record<string, { variable: string; why: string }> = {
  "engine.bench.ts": { variable: "SLIPWAY_BENCH_ENGINE", why: "ci on 1, 2, 4 and 8 services through the Dagger stand-in, about 10 minutes" },
  "image.bench.ts": { variable: "SLIPWAY_BENCH_IMAGE", why: "a cold docker build of the toolkit image on a private engine, 2-4 minutes" },
};
const benches = readdirSync(here)
  .filter((f) => f.endsWith(".bench.ts"))
  .filter((f) => !filter || f.includes(filter))
  .sort();
let failed = 0;
for (const file of benches) {
  console.log(`\n== ${file}`);
  const long = LONG[file];
  if (long && !filter && process.env[long.variable] !== "1") {
    console.log(`not run (${long.why}): npm run bench -- ${file.replace(/\.bench\.ts$/, "")}, or ${long.variable}=1 npm run bench`);
    continue;
  }
  const result = spawnSync(process.execPath, ["--import", "tsx", "--expose-gc", join(here, file)], { stdio: "inherit" });
  if (result.status !== 0) failed++;
}
if (benches.length === 0) console.log("no benchmarks matched");
process.exitCode = failed > 0 ? 1 : 0;
