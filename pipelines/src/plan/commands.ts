import { resolve } from "node:path";
import { defineCommand } from "../cli/command.js";
import { commandConfig, printResult } from "../cli/output.js";
import { EXIT, usageError } from "../errors.js";

const usage = "slipway plan --source DIR [--base REF] [--service NAME]... [--config FILE] [--json]";

export const planCommand = defineCommand({
  path: ["plan"],
  summary: "List the services and which are affected since a base ref",
  usage,
  options: {
    source: { type: "string", describe: "the repository of services (required)", defaultText: "" },
    base: { type: "string", value: "REF", describe: "a git ref: only services changed since it (or depending on one that did) are affected", defaultText: "none: every service is affected" },
    service: { type: "string", multiple: true, describe: "only this service: the others are left out of the plan" },
    config: { type: "string", defaultText: "slipway.yaml in --source, if any" },
    json: { type: "boolean" },
  },
  examples: ["slipway plan --source .", "slipway plan --source . --base origin/main --json", "slipway plan --source . --service api --base HEAD~1"],
  async run({ values, io }) {
    if (values.source === undefined) throw usageError("--source is required", usage);
    // A ref starting with '-' would be read by git as an option.
    if (values.base !== undefined && (values.base === "" || values.base.startsWith("-"))) {
      throw usageError(`--base ${JSON.stringify(values.base)} is not a git ref`, usage);
    }
    const source = resolve(io.cwd, values.source);
    const { config } = commandConfig(io, values.config, source);
    // Loaded here (git, globbing, the toolchain rules), not for `--help` (issue 16).
    const { plan, renderPlan } = await import("./plan.js");
    const result = await plan(source, config, { base: values.base, only: values.service });
    printResult(io, values.json, result, () => renderPlan(result));
    // With --json stdout stays one JSON document; the warnings are in it and, for a person, on stderr.
    if (values.json) for (const warning of result.warnings) io.stderr(`warning: ${warning}\n`);
    return EXIT.ok;
  },
});
