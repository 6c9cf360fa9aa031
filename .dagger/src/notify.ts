// Posting a release-path event through the toolkit's `slipway notify` (Dagger API only; the argv, the
// trigger and what the output means are in notify-cli.ts). Never throws: a notification never fails a
// release, so every failure comes back as a NotifyResult that the caller reports.
import type { Container, Directory, Secret } from "@dagger.io/dagger";

import { fresh, runCommand, SRC } from "./exec.js";
import { NOTIFY_REPORT, notifyCommand, notifyError, notifyResult } from "./notify-cli.js";
import type { NotifyEvent, NotifyKind, NotifyResult } from "./notify-cli.js";

/** The webhooks and the trigger of a call: what every post of that call carries. */
export type NotifyContext = {
  slackWebhook?: Secret;
  teamsWebhook?: Secret;
  runUrl?: string;
  /** triggerEnv's variables (GITHUB_ACTOR, ...). */
  trigger: Array<[string, string]>;
};

/**
 * The toolkit with slipway.yaml, the trigger's variables and the webhooks as SLACK_WEBHOOK_URL and
 * TEAMS_WEBHOOK_URL (the names `webhookEnv` gives in slipway.yaml). The secrets reach only this exec, as
 * environment secrets, so the engine scrubs their values from its output too.
 */
export function notifier(toolkit: Container, source: Directory, ctx: NotifyContext): Container {
  let ctr = ctx.trigger.reduce((c, [name, value]) => c.withEnvVariable(name, value), toolkit.withMountedDirectory(SRC, source).withWorkdir(SRC));
  if (ctx.slackWebhook) ctr = ctr.withSecretVariable("SLACK_WEBHOOK_URL", ctx.slackWebhook);
  if (ctx.teamsWebhook) ctr = ctr.withSecretVariable("TEAMS_WEBHOOK_URL", ctx.teamsWebhook);
  return ctr;
}

/** Post one event (`report`: the Release report JSON, for every event but `started`) and say what happened. */
export async function postEvent(
  toolkit: Container,
  source: Directory,
  ctx: NotifyContext,
  input: { environment: string; event: NotifyEvent; kind: NotifyKind; report?: string },
): Promise<NotifyResult> {
  try {
    let ctr = notifier(toolkit, source, ctx);
    if (input.report) ctr = ctr.withNewFile(NOTIFY_REPORT, input.report, { permissions: 0o644 });
    const command = notifyCommand({ environment: input.environment, event: input.event, kind: input.kind, ...(input.report ? { report: NOTIFY_REPORT } : {}), ...(ctx.runUrl ? { runUrl: ctx.runUrl } : {}) });
    // fresh(): a post is an outside effect; a cached exec would replay an old answer and post nothing.
    const { run } = await runCommand(fresh(ctr), command);
    return notifyResult(input.event, input.environment, run);
  } catch (error) {
    return notifyError(input.event, error);
  }
}
