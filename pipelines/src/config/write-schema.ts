import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { configJsonSchema } from "./json-schema.js";

// `npm run schema -w pipelines` regenerates the editor schema; a test fails when it is stale.
const out = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "schema", "slipway.schema.json");
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, configJsonSchema());
console.log(`wrote ${out}`);
