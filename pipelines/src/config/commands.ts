import { resolve } from "node:path";
import { defineCommand } from "../cli/command.js";
import { commandConfig, printJson } from "../cli/output.js";
import { EXIT } from "../errors.js";

export const configCheck = defineCommand({
  path: ["config", "check"],
  summary: "Validate slipway.yaml and report every problem at once",
  usage: "slipway config check [--config slipway.yaml] [--source DIR] [--json]",
  options: {
    config: { type: "string", describe: "slipway.yaml to check, relative to the working directory", defaultText: "slipway.yaml in --source, if any" },
    // `--file` was this command's own name for what every other command calls --config (issue 16).
    file: { type: "string", value: "FILE", deprecatedFor: "config" },
    source: { type: "string", describe: "the repository whose slipway.yaml is checked" },
    json: { type: "boolean" },
  },
  examples: ["slipway config check", "slipway config check --config deploy/slipway.yaml --json"],
  async run({ values, io }) {
    const source = resolve(io.cwd, values.source ?? ".");
    const loaded = commandConfig(io, values.config, source);
    if (values.json) printJson(io, { file: loaded.file, valid: true, defaults: loaded.file === null });
    else io.stdout(loaded.file === null ? "no slipway.yaml: defaults apply\n" : `${loaded.file}: valid\n`);
    return EXIT.ok;
  },
});

export const configSchema = defineCommand({
  path: ["config", "schema"],
  summary: "Print the JSON Schema of slipway.yaml",
  usage: "slipway config schema [--json]",
  options: {
    // Without --json the schema document alone, to save as a file; with it {schemaVersion, schema} like every command.
    json: { type: "boolean", describe: "print {\"schemaVersion\", \"schema\"} instead of the schema document alone" },
  },
  examples: ["slipway config schema > slipway.schema.json"],
  async run({ values, io }) {
    // Built from every area's zod schema: loaded here, not for `--help` (issue 16).
    const { configJsonSchema } = await import("./json-schema.js");
    if (values.json) printJson(io, { schema: JSON.parse(configJsonSchema()) as unknown });
    else io.stdout(configJsonSchema());
    return EXIT.ok;
  },
});
