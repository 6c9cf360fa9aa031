import { z } from "zod";
import { SlipwayConfig } from "./schema.js";

/** The JSON Schema editors use for slipway.yaml (yaml-language-server: `# yaml-language-server: $schema=...`). */
export function configJsonSchema(): string {
  const schema = z.toJSONSchema(SlipwayConfig, { target: "draft-2020-12", io: "input" });
  return `${JSON.stringify({ ...schema, $id: "https://slipway.dev/schema/slipway.schema.json" }, null, 2)}\n`;
}
