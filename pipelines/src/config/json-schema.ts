import { z } from "zod";
import { SlipwayConfig } from "./schema.js";

/**
 * The JSON Schema editors use for slipway.yaml. A user's repository wires it up without any URL: save it next
 * to slipway.yaml (`slipway config schema > slipway.schema.json`) and make
 * `# yaml-language-server: $schema=slipway.schema.json` the file's first line (README "Editor support").
 * It carries no `$id`: there is no published URL to name, and a relative `$schema` path needs none.
 */
export function configJsonSchema(): string {
  const schema = z.toJSONSchema(SlipwayConfig, { target: "draft-2020-12", io: "input" });
  return `${JSON.stringify(withDefaults(schema), null, 2)}\n`;
}

type Node = Record<string, unknown>;

/**
 * Adds JSON Schema `default` (what editors show and complete) to every key whose description states its
 * default as a value: "Default false.", "Default: 50.", "Default `each`.", "Default: [CRITICAL, HIGH].",
 * "Default 5m (...)". The descriptions are where each area documents what its code applies; a default
 * told in words ("Default: the whole repository.", "Default: publish.") names no value and gets none, and a
 * value that does not fit the key's own schema is dropped (test/pipelines/config/load.test.ts checks every
 * default against its key with ajv). zod's `.default()` is not used for this: the code applies these
 * defaults where they are read (environments inherit top-level keys), so the parsed config keeps them unset.
 */
export function withDefaults(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withDefaults);
  if (typeof node !== "object" || node === null) return node;
  const copy = Object.fromEntries(Object.entries(node).map(([key, value]) => [key, withDefaults(value)])) as Node;
  if (typeof copy.description === "string" && copy.default === undefined) {
    const value = statedDefault(copy.description, copy);
    if (value !== undefined) copy.default = value;
  }
  return copy;
}

function statedDefault(description: string, schema: Node): unknown {
  const match = /\bDefault:? (.+?)(?:\.(?:\s|$)| \(|$)/.exec(description);
  if (!match) return undefined;
  const text = (match[1] as string).trim();
  let value: unknown;
  if (text === "true" || text === "false") value = text === "true";
  else if (/^-?\d+(\.\d+)?$/.test(text)) value = Number(text);
  else if (/^\[[^\]]*\]$/.test(text)) value = text.slice(1, -1).split(",").map((s) => s.trim()).filter(Boolean);
  else if (/^`[^`]+`$/.test(text)) value = text.slice(1, -1);
  else if (/^[\w-]+(, [\w-]+)+$/.test(text) && schema.type === "array") value = text.split(", ");
  else if (/^[\w-]+$/.test(text) && text !== "none") value = text;
  else return undefined;
  return fits(value, schema) ? value : undefined;
}

/** The checks of the keywords these schemas use, enough to refuse a value a sentence got wrong. */
function fits(value: unknown, schema: Node): boolean {
  if (Array.isArray(schema.anyOf)) return (schema.anyOf as Node[]).some((s) => fits(value, s));
  if (Array.isArray(schema.enum) && !(schema.enum as unknown[]).includes(value)) return false;
  if (schema.const !== undefined && schema.const !== value) return false;
  switch (schema.type) {
    case "boolean":
      return typeof value === "boolean";
    case "integer":
    case "number":
      return (
        typeof value === "number" &&
        (schema.type === "number" || Number.isInteger(value)) &&
        (typeof schema.minimum !== "number" || value >= schema.minimum) &&
        (typeof schema.maximum !== "number" || value <= schema.maximum)
      );
    case "string":
      return typeof value === "string" && (typeof schema.pattern !== "string" || new RegExp(schema.pattern, "u").test(value));
    case "array":
      return Array.isArray(value) && (typeof schema.items !== "object" || value.every((v) => fits(v, schema.items as Node)));
    default:
      return false;
  }
}
