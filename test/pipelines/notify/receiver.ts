import { createServer } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { Ajv } from "ajv";

/**
 * A local webhook receiver for `slipway notify` tests: records every request and answers with the
 * handler the test gives (which may echo the request URL back, fail, or never answer).
 */
export interface Received {
  url: string;
  contentType: string | undefined;
  body: unknown;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void;

export async function receiver(handler: Handler): Promise<{ base: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    let text = "";
    req.on("data", (c: Buffer) => (text += c.toString("utf8")));
    req.on("end", () => {
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // kept as text: the test sees it
      }
      received.push({ url: req.url ?? "", contentType: req.headers["content-type"], body });
      handler(req, res, received.length);
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/*
 * Neither Slack nor Microsoft publishes a JSON Schema on npm for these payloads: `adaptivecards` 3.0.6
 * ships its TypeScript serialization classes (lib/schema.js), not adaptive-card.json, and `@slack/types`
 * only TypeScript types (checked with `npm pack --dry-run`, Dec 2026). So the schemas below encode the
 * documented required fields and limits, validated with ajv:
 * - Slack Block Kit (docs.slack.dev/reference/block-kit/blocks): a message has at most 50 blocks; a section's
 *   `text` is a text object (`mrkdwn` or `plain_text`, 1-3000 characters); a context block has 1-10 elements;
 *   `text` at the top level is the notification fallback.
 * - Teams Workflows webhook (learn.microsoft.com, "Create incoming webhooks with Workflows"): a `message`
 *   with an attachment of contentType application/vnd.microsoft.card.adaptive whose content is an
 *   AdaptiveCard (adaptivecards.io/explorer: `type`, `version` required; TextBlock needs `text`, FactSet
 *   `facts` of {title, value}; Action.OpenUrl needs `url`).
 */
const textObject = {
  type: "object",
  required: ["type", "text"],
  properties: { type: { enum: ["mrkdwn", "plain_text"] }, text: { type: "string", minLength: 1, maxLength: 3000 } },
};
export const SLACK_MESSAGE_SCHEMA = {
  type: "object",
  required: ["text", "blocks"],
  properties: {
    text: { type: "string", minLength: 1 },
    blocks: {
      type: "array",
      minItems: 1,
      maxItems: 50,
      items: {
        oneOf: [
          { type: "object", required: ["type", "text"], additionalProperties: false, properties: { type: { const: "section" }, text: textObject, block_id: { type: "string" } } },
          {
            type: "object",
            required: ["type", "elements"],
            additionalProperties: false,
            properties: { type: { const: "context" }, elements: { type: "array", minItems: 1, maxItems: 10, items: textObject } },
          },
        ],
      },
    },
  },
};

const textBlock = {
  type: "object",
  required: ["type", "text"],
  properties: {
    type: { const: "TextBlock" },
    text: { type: "string", minLength: 1 },
    wrap: { type: "boolean" },
    weight: { enum: ["Default", "Lighter", "Bolder"] },
    size: { enum: ["Default", "Small", "Medium", "Large", "ExtraLarge"] },
    color: { enum: ["Default", "Dark", "Light", "Accent", "Good", "Warning", "Attention"] },
    fontType: { enum: ["Default", "Monospace"] },
    separator: { type: "boolean" },
  },
  additionalProperties: false,
};
const factSet = {
  type: "object",
  required: ["type", "facts"],
  additionalProperties: false,
  properties: {
    type: { const: "FactSet" },
    facts: { type: "array", minItems: 1, items: { type: "object", required: ["title", "value"], additionalProperties: false, properties: { title: { type: "string" }, value: { type: "string" } } } },
  },
};
export const TEAMS_MESSAGE_SCHEMA = {
  type: "object",
  required: ["type", "attachments"],
  properties: {
    type: { const: "message" },
    attachments: {
      type: "array",
      minItems: 1,
      maxItems: 1,
      items: {
        type: "object",
        required: ["contentType", "content"],
        properties: {
          contentType: { const: "application/vnd.microsoft.card.adaptive" },
          contentUrl: { type: "null" },
          content: {
            type: "object",
            required: ["type", "version", "body"],
            properties: {
              $schema: { const: "http://adaptivecards.io/schemas/adaptive-card.json" },
              type: { const: "AdaptiveCard" },
              version: { const: "1.4" },
              body: { type: "array", minItems: 1, items: { oneOf: [textBlock, factSet] } },
              actions: {
                type: "array",
                items: { type: "object", required: ["type", "title", "url"], properties: { type: { const: "Action.OpenUrl" }, title: { type: "string" }, url: { type: "string", pattern: "^https?://" } } },
              },
            },
          },
        },
      },
    },
  },
};

const ajv = new Ajv({ allErrors: true, strict: true });
const validators = { slack: ajv.compile(SLACK_MESSAGE_SCHEMA), teams: ajv.compile(TEAMS_MESSAGE_SCHEMA) };

/** The schema's errors for `body` (empty when valid). */
export function payloadErrors(target: "slack" | "teams", body: unknown): string[] {
  const validate = validators[target];
  return validate(body) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || "(root)"} ${e.message ?? ""}`);
}
