import { resolve } from "node:path";
import { defineCommand } from "../cli/command.js";
import { commandConfig } from "../cli/output.js";
import { EXIT } from "../errors.js";
import { configJsonSchema } from "./json-schema.js";

export const configCheck = defineCommand({
  path: ["config", "check"],
  summary: "Validate slipway.yaml and report every problem at once",
  usage: "slipway config check [--file slipway.yaml] [--source DIR]",
  options: { file: { type: "string" }, source: { type: "string" } },
  async run({ values, io }) {
    const source = resolve(io.cwd, values.source ?? ".");
    const loaded = commandConfig(io, values.file, source);
    io.stdout(loaded.file === null ? "no slipway.yaml: defaults apply\n" : `${loaded.file}: valid\n`);
    return EXIT.ok;
  },
});

export const configSchema = defineCommand({
  path: ["config", "schema"],
  summary: "Print the JSON Schema of slipway.yaml",
  usage: "slipway config schema",
  options: {},
  async run({ io }) {
    io.stdout(configJsonSchema());
    return EXIT.ok;
  },
});
