import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

// `npm run bench`: runs every test/bench/*.bench.ts in its own process (clean heap for memory figures)
// and lets each print its own figures. `npm run bench -- gitops` runs the benches whose name matches.
const here = dirname(fileURLToPath(import.meta.url));
const filter = process.argv[2];
const benches = readdirSync(here)
  .filter((f) => f.endsWith(".bench.ts"))
  .filter((f) => !filter || f.includes(filter))
  .sort();
let failed = 0;
for (const file of benches) {
  console.log(`\n== ${file}`);
  const result = spawnSync(process.execPath, ["--import", "tsx", "--expose-gc", join(here, file)], { stdio: "inherit" });
  if (result.status !== 0) failed++;
}
if (benches.length === 0) console.log("no benchmarks matched");
process.exitCode = failed > 0 ? 1 : 0;
