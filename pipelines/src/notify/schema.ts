import { z } from "zod";

/**
 * `environments.<env>.notify` in slipway.yaml, and the Release report `slipway notify` reads.
 * A webhook URL is a credential (whoever holds it posts to the channel), so slipway.yaml names only the
 * environment variable that carries it; a literal URL there is refused, without printing it.
 */

// The events and kinds live in ./constants.ts, which loads no zod: `slipway notify --help` and its flag
// checks need them, not the schema (issue 16, start-up).
import { NOTIFY_EVENTS, NOTIFY_KINDS } from "./constants.js";
export { DEFAULT_NOTIFY_ON, NOTIFY_EVENTS, NOTIFY_KINDS } from "./constants.js";
export type { NotifyEvent, NotifyKind } from "./constants.js";

export const NOTIFY_TARGETS = ["slack", "teams"] as const;
export type NotifyTarget = (typeof NOTIFY_TARGETS)[number];

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Anything that looks like an address rather than a variable name: never echoed back (it may be the secret). */
const LOOKS_LIKE_URL = /:\/\/|^[a-z0-9.-]+\.[a-z]{2,}\//i;

function secretInYaml(target: string): string {
  return `a webhook URL is a secret and never goes in slipway.yaml: put it in an environment variable (a CI secret, e.g. ${target === "slack" ? "SLACK_WEBHOOK_URL" : "TEAMS_WEBHOOK_URL"}) and give that variable's name as \`webhookEnv\``;
}

function webhookTarget(target: NotifyTarget) {
  return (
    z
      // Loose, with unknown keys refused below rather than by strictObject: zod hands a strict object's
      // refinement only the known keys, and `url: https://...` deserves the reason, not just "unknown key".
      .looseObject({
        webhookEnv: z
          .string()
          .superRefine((value, ctx) => {
            // `input: undefined`: the config error names the path, never the value (it may be the URL).
            if (LOOKS_LIKE_URL.test(value)) ctx.addIssue({ code: "custom", message: secretInYaml(target), input: undefined });
            else if (!ENV_NAME.test(value)) ctx.addIssue({ code: "custom", message: "an environment variable name (letters, digits and '_', not starting with a digit)", input: undefined });
          })
          .meta({ description: `Name of the environment variable that holds the ${target === "slack" ? "Slack incoming webhook" : "Teams Workflows webhook"} URL (a CI secret). Never the URL itself.` }),
      })
      .superRefine(
        (raw, ctx) => {
          for (const [key, value] of Object.entries(raw)) {
            if (key === "webhookEnv") continue;
            const secret = typeof value === "string" && LOOKS_LIKE_URL.test(value);
            ctx.addIssue({ code: "custom", path: [key], message: secret ? secretInYaml(target) : `unknown key ${JSON.stringify(key)}`, input: undefined });
          }
        },
        { when: () => true },
      )
      // What strictObject would give editors.
      .meta({ additionalProperties: false })
  );
}

export const NotifySettings = z
  .strictObject({
    slack: webhookTarget("slack").optional().meta({ description: "Post to Slack through an incoming webhook (Block Kit message)." }),
    teams: webhookTarget("teams").optional().meta({ description: "Post to Microsoft Teams through a Workflows (Power Automate) webhook (Adaptive Card)." }),
    on: z
      .array(z.enum(NOTIFY_EVENTS))
      .optional()
      .meta({ description: "Events that post a message: started, verified, failed, rolled-back. Default: verified, failed, rolled-back." }),
  })
  .meta({ description: "Where `slipway notify` posts this environment's release events. Webhook URLs come only from the environment variables named here." });
export type NotifySettings = z.infer<typeof NotifySettings>;


/**
 * The Release report (`dagger call release ... report`, .dagger/src/release-flow.ts renderReleaseReport):
 * only the fields a message shows. Extra fields are allowed (the report may grow). An on-demand rollback
 * (`rollback`, `rollbackRun`) writes the same shape with kind `rollback` (.dagger/src/notify-cli.ts
 * rollbackNotifyReport): `images` are the restored release's, `restored` its ledger id, `rollback` the
 * rollback's report.
 */
export const ReleaseReport = z.object({
  version: z.literal(1),
  kind: z.enum(NOTIFY_KINDS),
  environment: z.string().min(1),
  status: z.enum(["verified", "rolled-back", "failed", "unknown"]),
  sourceSha: z.string(),
  ledgerId: z.string(),
  gitopsCommit: z.string(),
  /** IMAGE=TAG@sha256:DIGEST per released service. */
  images: z.array(z.string()),
  promotedFrom: z.string().optional().default(""),
  failure: z.string().optional().default(""),
  rollback: z.string().optional().default(""),
  unreleasedImages: z.array(z.string()).optional().default([]),
  /** rollback: the ledger id of the release it returned to. */
  restored: z.string().optional().default(""),
});
export type ReleaseReport = z.infer<typeof ReleaseReport>;
