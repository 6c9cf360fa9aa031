import { migrate } from "./harness.js";

// Entry of migrateProcess(): `tsx harness-main.ts migrate run ...`.
const result = await migrate(process.argv.slice(2), process.env, process.cwd());
process.stdout.write(result.stdout);
process.stderr.write(result.stderr);
process.exitCode = result.code;
