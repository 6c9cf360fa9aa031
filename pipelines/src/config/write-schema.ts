import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { outputJsonSchemas } from "../cli/output-schemas.js";
import { configJsonSchema } from "./json-schema.js";

// `npm run schema -w pipelines` regenerates the editor schema and the schemas of every command's --json
// output (pipelines/schema/output/); a test fails when either is stale.
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "schema");
mkdirSync(root, { recursive: true });
writeFileSync(join(root, "slipway.schema.json"), configJsonSchema());
const outputs = join(root, "output");
mkdirSync(outputs, { recursive: true });
const files = outputJsonSchemas();
// A command removed or renamed leaves no stale schema behind.
for (const file of readdirSync(outputs)) if (!(file in files)) rmSync(join(outputs, file));
for (const [file, text] of Object.entries(files)) writeFileSync(join(outputs, file), text);
console.log(`wrote ${root}/slipway.schema.json and ${Object.keys(files).length} output schemas in ${outputs}`);
