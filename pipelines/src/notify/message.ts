import type { NotifyEvent, NotifyKind, ReleaseReport } from "./schema.js";

/**
 * What one notification says, built once from the Release report and the CI environment, then rendered
 * for each target (Slack Block Kit, Teams Adaptive Card). Pure: no network, no process state.
 */

export interface Trigger {
  /** Who: GITHUB_ACTOR / BUILD_REQUESTEDFOR, else "unknown". */
  actor: string;
  /** What: the workflow or pipeline name and run id, else "unknown". */
  via: string;
  runUrl: string | null;
}

export interface ImageLine {
  /** The repository without the registry host, e.g. shop/api. */
  name: string;
  repository: string;
  tag: string;
  digest: string;
}

export interface Notification {
  event: NotifyEvent;
  environment: string;
  /** "release", "promote" or "rollback" (from the report or --kind), "release" for `started` without either. */
  kind: string;
  /** The report's status, when there is a report. */
  status: string | null;
  title: string;
  outcome: string;
  ledgerId: string;
  sourceSha: string;
  gitopsCommit: string;
  promotedFrom: string;
  images: ImageLine[];
  failure: string;
  rollback: string;
  trigger: Trigger;
}

/** GitHub Actions, then Azure Pipelines (their predefined variables), else unknown. `runUrl` given wins. */
export function triggerFrom(env: NodeJS.ProcessEnv, runUrl: string | undefined): Trigger {
  const set = (name: string) => (env[name] ? (env[name] as string) : undefined);
  if (set("GITHUB_ACTIONS") || set("GITHUB_RUN_ID") || set("GITHUB_ACTOR")) {
    const server = set("GITHUB_SERVER_URL") ?? "https://github.com";
    const repo = set("GITHUB_REPOSITORY");
    const id = set("GITHUB_RUN_ID");
    return {
      actor: set("GITHUB_ACTOR") ?? "unknown",
      via: [set("GITHUB_WORKFLOW") ?? "GitHub Actions", id ? `run ${id}` : undefined].filter(Boolean).join(" "),
      runUrl: runUrl ?? (repo && id ? `${server.replace(/\/+$/, "")}/${repo}/actions/runs/${id}` : null),
    };
  }
  if (set("TF_BUILD") || set("BUILD_BUILDID") || set("BUILD_REQUESTEDFOR")) {
    const collection = set("SYSTEM_COLLECTIONURI");
    const project = set("SYSTEM_TEAMPROJECT");
    const id = set("BUILD_BUILDID");
    return {
      actor: set("BUILD_REQUESTEDFOR") ?? "unknown",
      via: [set("BUILD_DEFINITIONNAME") ?? "Azure Pipelines", id ? `build ${id}` : undefined].filter(Boolean).join(" "),
      // The build results page: $(System.CollectionUri)$(System.TeamProject)/_build/results?buildId=$(Build.BuildId).
      runUrl: runUrl ?? (collection && project && id ? `${collection.replace(/\/?$/, "/")}${encodeURIComponent(project)}/_build/results?buildId=${encodeURIComponent(id)}` : null),
    };
  }
  return { actor: "unknown", via: "unknown", runUrl: runUrl ?? null };
}

/** `registry/shop/api=sha-0123@sha256:abc` → its parts; a malformed entry keeps its text as the name. */
export function imageLine(set: string): ImageLine {
  const eq = set.lastIndexOf("=");
  const at = set.lastIndexOf("@");
  const repository = eq > 0 ? set.slice(0, eq) : set;
  const tag = eq > 0 ? set.slice(eq + 1, at > eq ? at : undefined) : "";
  const digest = at > eq ? set.slice(at + 1) : "";
  const slash = repository.indexOf("/");
  // The first path part is a registry host when it has a dot, a colon or is localhost (Docker's rule).
  const host = slash > 0 ? repository.slice(0, slash) : "";
  const name = host && (/[.:]/.test(host) || host === "localhost") ? repository.slice(slash + 1) : repository;
  return { name, repository, tag, digest };
}

const OUTCOME: Record<NotifyEvent, string> = {
  started: "started",
  verified: "verified: the rollout is healthy",
  failed: "FAILED",
  "rolled-back": "FAILED and ROLLED BACK: the previous verified release is back",
};

/** What an on-demand rollback's message says (there was no failed release: someone asked for it). */
const ROLLBACK_OUTCOME: Record<NotifyEvent, string> = {
  started: "started",
  verified: "done: the restored release is verified",
  failed: "INCOMPLETE: a step failed or was left undone (see Rollback)",
  "rolled-back": "rolled back on demand",
};

function title(kind: string, environment: string, event: NotifyEvent, report: ReleaseReport | null): string {
  const state = event === "started" ? "started" : event.toUpperCase();
  if (kind === "rollback") {
    const to = report?.restored ? ` to release ${report.restored}` : "";
    return `rollback of ${environment}${to}: ${event === "rolled-back" ? "DONE" : event === "failed" ? "INCOMPLETE" : state}`;
  }
  const id = report?.ledgerId ? ` ${report.ledgerId}` : "";
  return `${kind}${id} to ${environment}: ${state}`;
}

export function buildNotification(event: NotifyEvent, environment: string, report: ReleaseReport | null, trigger: Trigger, kindFlag?: NotifyKind): Notification {
  const kind = report?.kind ?? kindFlag ?? "release";
  const rollback = kind === "rollback";
  return {
    event,
    environment,
    kind,
    status: report?.status ?? null,
    title: title(kind, environment, event, report),
    outcome: rollback ? `${ROLLBACK_OUTCOME[event]}${report?.restored && event === "rolled-back" ? `: release ${report.restored} is back` : ""}` : OUTCOME[event],
    ledgerId: report?.ledgerId ?? "",
    sourceSha: report?.sourceSha ?? "",
    gitopsCommit: report?.gitopsCommit ?? "",
    promotedFrom: report?.promotedFrom ?? "",
    images: (report?.images ?? []).map(imageLine),
    failure: report?.failure ?? "",
    rollback: report?.rollback ?? "",
    trigger,
  };
}

/** Cut long text (a failure with rollout diagnostics) to what a message can hold, saying so. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const note = "… (cut; the full text is in the run's report)";
  return `${text.slice(0, Math.max(0, max - note.length))}${note}`;
}

function short(sha: string): string {
  return sha.slice(0, 12);
}

// ---- Slack: incoming webhook, Block Kit (https://docs.slack.dev/messaging/sending-messages-using-incoming-webhooks,
// https://docs.slack.dev/reference/block-kit/blocks). `text` is the fallback for notifications; a section's
// text holds at most 3000 characters, a context block at most 10 elements, a message at most 50 blocks.

/** Slack's mrkdwn control characters (https://docs.slack.dev/messaging/formatting-message-text#escaping). */
export function slackEscape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

const SLACK_SECTION_MAX = 3000;
const SLACK_ICON: Record<NotifyEvent, string> = { started: ":rocket:", verified: ":white_check_mark:", failed: ":x:", "rolled-back": ":rewind:" };

export function slackPayload(n: Notification): { text: string; blocks: unknown[] } {
  const e = slackEscape;
  const section = (text: string) => ({ type: "section", text: { type: "mrkdwn", text: clip(text, SLACK_SECTION_MAX) } });
  const facts = [
    `*Environment:* ${e(n.environment)}`,
    `*Outcome:* ${e(n.outcome)}${n.status && n.status !== n.event ? ` (report status: ${e(n.status)})` : ""}`,
    n.ledgerId ? `*Ledger release:* ${e(n.ledgerId)}` : "",
    n.sourceSha ? `*Source:* \`${e(short(n.sourceSha))}\`` : "",
    n.gitopsCommit ? `*GitOps commit:* \`${e(short(n.gitopsCommit))}\`` : "",
    n.promotedFrom ? `*Promoted from:* ${e(n.promotedFrom)}` : "",
  ].filter(Boolean);
  const blocks: unknown[] = [section(`${SLACK_ICON[n.event]} *${e(n.title)}*\n${facts.join("\n")}`)];
  if (n.images.length > 0) {
    blocks.push(section(`*${n.kind === "rollback" ? "Restored images" : "Images"}*\n${n.images.map((i) => `• *${e(i.name)}* \`${e(i.tag)}\`${i.digest ? ` \`${e(i.digest)}\`` : ""}`).join("\n")}`));
  }
  if (n.failure) blocks.push(section(`*Failure*\n\`\`\`${e(n.failure)}\`\`\``));
  if (n.rollback) blocks.push(section(`*Rollback*\n\`\`\`${e(n.rollback)}\`\`\``));
  const by = `Triggered by *${e(n.trigger.actor)}* via ${e(n.trigger.via)}`;
  blocks.push({
    type: "context",
    elements: [{ type: "mrkdwn", text: n.trigger.runUrl ? `${by} · <${n.trigger.runUrl.replace(/[|>]/g, (c) => encodeURIComponent(c))}|View run>` : by }],
  });
  return { text: `${n.title} (${n.outcome})`, blocks };
}

// ---- Microsoft Teams: a Workflows webhook ("Send webhook alerts to a channel" / "When a Teams webhook
// request is received") takes a message activity with one Adaptive Card attachment
// (https://learn.microsoft.com/en-us/microsoftteams/platform/webhooks-and-connectors/how-to/add-incoming-webhook).
// Card version 1.4: what Teams renders (https://learn.microsoft.com/en-us/microsoftteams/platform/task-modules-and-cards/cards/cards-reference).

export const ADAPTIVE_CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive";
export const ADAPTIVE_CARD_VERSION = "1.4";
const TEAMS_COLOR: Record<NotifyEvent, string> = { started: "Accent", verified: "Good", failed: "Attention", "rolled-back": "Warning" };
/** Long failure texts make a card Teams will not post (a message is capped at about 28 KB). */
const TEAMS_TEXT_MAX = 6000;

export function teamsPayload(n: Notification): unknown {
  const fact = (title: string, value: string) => (value ? [{ title, value }] : []);
  const body: unknown[] = [
    { type: "TextBlock", text: n.title, weight: "Bolder", size: "Medium", color: TEAMS_COLOR[n.event], wrap: true },
    {
      type: "FactSet",
      facts: [
        ...fact("Environment", n.environment),
        ...fact("Outcome", `${n.outcome}${n.status && n.status !== n.event ? ` (report status: ${n.status})` : ""}`),
        ...fact("Ledger release", n.ledgerId),
        ...fact("Source", short(n.sourceSha)),
        ...fact("GitOps commit", short(n.gitopsCommit)),
        ...fact("Promoted from", n.promotedFrom),
        ...fact("Triggered by", `${n.trigger.actor} via ${n.trigger.via}`),
      ],
    },
  ];
  if (n.images.length > 0) {
    body.push({ type: "TextBlock", text: n.kind === "rollback" ? "Restored images" : "Images", weight: "Bolder", wrap: true, separator: true });
    body.push({ type: "FactSet", facts: n.images.map((i) => ({ title: i.name, value: `${i.tag}${i.digest ? ` @ ${i.digest}` : ""}` })) });
  }
  if (n.failure) body.push({ type: "TextBlock", text: "Failure", weight: "Bolder", wrap: true, separator: true }, { type: "TextBlock", text: clip(n.failure, TEAMS_TEXT_MAX), wrap: true, fontType: "Monospace" });
  if (n.rollback) body.push({ type: "TextBlock", text: "Rollback", weight: "Bolder", wrap: true, separator: true }, { type: "TextBlock", text: clip(n.rollback, TEAMS_TEXT_MAX), wrap: true, fontType: "Monospace" });
  const content = {
    $schema: "http://adaptivecards.io/schemas/adaptive-card.json",
    type: "AdaptiveCard",
    version: ADAPTIVE_CARD_VERSION,
    body,
    ...(n.trigger.runUrl ? { actions: [{ type: "Action.OpenUrl", title: "View run", url: n.trigger.runUrl }] } : {}),
  };
  return { type: "message", attachments: [{ contentType: ADAPTIVE_CARD_CONTENT_TYPE, contentUrl: null, content }] };
}
