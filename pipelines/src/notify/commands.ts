import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { defineCommand } from "../cli/command.js";
import type { Io } from "../cli/command.js";
import { checkInputFile } from "../cli/paths.js";
import { commandConfig, printResult } from "../cli/output.js";
import { registerSecret } from "../cli/secrets.js";
import { envUnknown, EXIT, hasCredentialUserinfo, notifyFailed, notifyReportInvalid, usageError } from "../errors.js";
import { parseDuration } from "../rollout/duration.js";
import { buildNotification, slackPayload, teamsPayload, triggerFrom } from "./message.js";
import { DEFAULT_NOTIFY_ON, NOTIFY_EVENTS, NOTIFY_KINDS } from "./constants.js";
import type { NotifyEvent, NotifyKind } from "./constants.js";
import type { NotifySettings, NotifyTarget, ReleaseReport } from "./schema.js";
import { MAX_ATTEMPTS, postJson } from "./send.js";
import type { Delivery } from "./send.js";

const usage = "slipway notify --env ENV --event started|verified|failed|rolled-back [--in release.json] [--kind release|promote|rollback] [--run-url URL] [--strict] [--json] [--config FILE]";
const DEFAULT_TIMEOUT_MS = 10_000;

export interface TargetResult {
  target: NotifyTarget;
  /** The environment variable the webhook URL came from (its value is never printed). */
  webhookEnv: string;
  outcome: "delivered" | "failed" | "skipped";
  attempts: number;
  httpStatus: number | null;
  error: string | null;
  /** Why a target was skipped (the event is not in `notify.on`). */
  reason?: string;
  ms: number;
}

/**
 * A webhook URL is registered with the masker whole and in the parts a server could echo on their own:
 * path and query (Slack's secret is the path, a Workflows URL's is its `sig` parameter), each query value
 * and each long path segment.
 */
function registerWebhook(url: string): void {
  registerSecret(url);
  try {
    const parsed = new URL(url);
    registerSecret(`${parsed.pathname}${parsed.search}`);
    registerSecret(parsed.search.slice(1));
    for (const value of parsed.searchParams.values()) if (value.length >= 8) registerSecret(value);
    for (const segment of parsed.pathname.split("/")) if (segment.length >= 12) registerSecret(segment);
  } catch {
    // not a URL: refused below, masked whole
  }
}

/**
 * Azure Pipelines leaves a macro whose variable is not defined as its own text: `SLACK_WEBHOOK_URL:
 * $(SLACK_WEBHOOK_URL)` in a step's env: gives the literal `$(SLACK_WEBHOOK_URL)` when the pipeline has no
 * such variable ("If the variable isn't found, the macro expression doesn't change",
 * https://learn.microsoft.com/en-us/azure/devops/pipelines/process/variables#macro-syntax-variables). Such a
 * value is a webhook nobody configured, not a URL. Variable names: letters, digits, `.` and `_`.
 */
export function unexpandedMacro(value: string): string | null {
  return /^\$\(([A-Za-z0-9_.]+)\)$/.exec(value)?.[1] ?? null;
}

/** Plain http only to this machine (a local relay or a test receiver): a webhook URL must not cross a network in clear. */
function webhookProblem(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "is not a URL";
  }
  if (parsed.protocol === "https:") return null;
  if (parsed.protocol === "http:" && ["localhost", "127.0.0.1", "[::1]"].includes(parsed.hostname)) return null;
  return `must be an https:// URL, not ${parsed.protocol}`;
}

async function readReport(io: Io, path: string): Promise<ReleaseReport> {
  const file = resolve(io.cwd, path);
  if (!existsSync(file)) throw notifyReportInvalid(path, ["the file does not exist"]);
  checkInputFile("--in", path, file);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw notifyReportInvalid(path, [`not JSON: ${error instanceof Error ? error.message : String(error)}`]);
  }
  // The schema (zod) only when there is a report to read, not for --help (issue 16, start-up).
  const { ReleaseReport } = await import("./schema.js");
  const parsed = ReleaseReport.safeParse(raw);
  if (!parsed.success) throw notifyReportInvalid(path, parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`));
  return parsed.data;
}

function timeoutMs(env: NodeJS.ProcessEnv): number {
  const text = env.SLIPWAY_NOTIFY_TIMEOUT;
  if (!text) return DEFAULT_TIMEOUT_MS;
  const ms = parseDuration(text);
  if (ms === null) throw usageError(`SLIPWAY_NOTIFY_TIMEOUT ${JSON.stringify(text)} is not a duration such as 10s or 500ms`, usage);
  return ms;
}

function runUrlFlag(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (hasCredentialUserinfo(value)) throw usageError("--run-url must not carry credentials (user:password@)", usage);
  try {
    if (!/^https?:$/.test(new URL(value).protocol)) throw new Error("scheme");
  } catch {
    throw usageError(`--run-url ${JSON.stringify(value)} is not an http(s) URL`, usage);
  }
  return value;
}

export const notifyCommand = defineCommand({
  path: ["notify"],
  summary: "Post a release event (started, verified, failed, rolled-back) to the environment's Slack and Teams webhooks; a failed post is a warning",
  usage,
  options: {
    env: { type: "string", describe: "the environment of slipway.yaml whose `notify:` targets get the message (required)" },
    event: { type: "string", value: "EVENT", describe: "started, verified, failed or rolled-back (required)" },
    in: { type: "string", value: "FILE", describe: "the Release report JSON (`dagger call release ... report`); required except for started" },
    kind: { type: "string", value: "KIND", describe: "release, promote or rollback: what a started message names when there is no --in report", defaultText: "the report's kind, else release" },
    "run-url": { type: "string", value: "URL", describe: "link to the CI run", defaultText: "from GITHUB_SERVER_URL/GITHUB_REPOSITORY/GITHUB_RUN_ID or SYSTEM_COLLECTIONURI/SYSTEM_TEAMPROJECT/BUILD_BUILDID" },
    strict: { type: "boolean", describe: "exit 1 (SLIPWAY_NOTIFY_FAILED) when a target was not delivered, instead of a warning" },
    json: { type: "boolean" },
    config: { type: "string" },
  },
  examples: [
    "SLACK_WEBHOOK_URL=... slipway notify --env prod --event verified --in release.json",
    "slipway notify --env dev --event started --run-url https://github.com/acme/shop/actions/runs/42 --json",
  ],
  async run({ values, io }) {
    if (values.env === undefined) throw usageError("--env is required", usage);
    const event = values.event;
    if (event === undefined) throw usageError(`--event is required: one of ${NOTIFY_EVENTS.join(", ")}`, usage);
    if (!(NOTIFY_EVENTS as readonly string[]).includes(event)) throw usageError(`--event ${JSON.stringify(event)} is not one of ${NOTIFY_EVENTS.join(", ")}`, usage);
    const ev = event as NotifyEvent;
    if (values.in === undefined && ev !== "started") throw usageError(`--in is required for --event ${ev}: the Release report names the images and the outcome`, usage);
    const kindFlag = values.kind;
    if (kindFlag !== undefined && !(NOTIFY_KINDS as readonly string[]).includes(kindFlag)) throw usageError(`--kind ${JSON.stringify(kindFlag)} is not one of ${NOTIFY_KINDS.join(", ")}`, usage);
    const runUrl = runUrlFlag(values["run-url"]);
    const deadline = timeoutMs(io.env);
    const loaded = commandConfig(io, values.config);
    const environments = loaded.config.environments ?? {};
    const settings = environments[values.env];
    if (!settings) throw envUnknown(values.env, Object.keys(environments), loaded.file);
    const report = values.in === undefined ? null : await readReport(io, values.in);
    if (report && report.environment !== values.env) {
      throw notifyReportInvalid(values.in as string, [`it is a report of environment ${JSON.stringify(report.environment)}, not ${JSON.stringify(values.env)}`]);
    }
    if (report && kindFlag !== undefined && report.kind !== kindFlag) {
      throw notifyReportInvalid(values.in as string, [`it is a report of a ${report.kind}, not of a ${kindFlag} (--kind)`]);
    }
    const notify: NotifySettings = settings.notify ?? {};
    const on = notify.on ?? DEFAULT_NOTIFY_ON;
    const message = buildNotification(ev, values.env, report, triggerFrom(io.env, runUrl), kindFlag as NotifyKind | undefined);
    const targets = (["slack", "teams"] as const).filter((t) => notify[t] !== undefined);
    const results = await Promise.all(
      targets.map(async (target): Promise<TargetResult> => {
        const webhookEnv = (notify[target] as { webhookEnv: string }).webhookEnv;
        const base = { target, webhookEnv, attempts: 0, httpStatus: null, ms: 0 };
        if (!on.includes(ev)) return { ...base, outcome: "skipped", error: null, reason: `event ${ev} is not in notify.on (${on.join(", ")})` };
        const url = io.env[webhookEnv]?.trim();
        if (!url) return { ...base, outcome: "failed", error: `${webhookEnv} is not set or empty` };
        const macro = unexpandedMacro(url);
        if (macro) {
          return {
            ...base,
            outcome: "failed",
            error: `${webhookEnv} holds the unexpanded Azure Pipelines macro $(${macro}): the pipeline variable ${macro} is not defined; define it as a secret variable (e.g. in the environment's variable group) or remove notify.${target} from environments.${values.env} in slipway.yaml`,
          };
        }
        registerWebhook(url);
        const problem = webhookProblem(url);
        if (problem) return { ...base, outcome: "failed", error: `the URL in ${webhookEnv} ${problem}` };
        const delivery: Delivery = await postJson(url, target === "slack" ? slackPayload(message) : teamsPayload(message), deadline, (waitMs, error, attempt) =>
          io.status?.(`notify: ${target} not delivered (${error.slice(0, 60)}); attempt ${attempt}/${MAX_ATTEMPTS} in ${Math.ceil(waitMs / 1000)}s`),
        );
        return { ...base, outcome: delivery.outcome, attempts: delivery.attempts, httpStatus: delivery.httpStatus, error: delivery.error, ms: delivery.ms };
      }),
    );
    const failed = results.filter((r) => r.outcome === "failed");
    // Warnings first, on stderr, one line per target: the release's own log shows them whatever --json says.
    for (const r of failed) io.stderr(`warning: ${r.target} notification (${r.webhookEnv}) not delivered: ${r.error ?? "unknown error"}\n`);
    printResult(
      io,
      values.json,
      { environment: values.env, event: ev, title: message.title, targets: results, delivered: results.filter((r) => r.outcome === "delivered").length, failed: failed.length },
      () =>
        targets.length === 0
          ? `no notify targets for environment ${values.env} in slipway.yaml: nothing sent\n`
          : `${results.map((r) => `${r.target}: ${r.outcome}${r.outcome === "delivered" ? ` (HTTP ${r.httpStatus}, attempt ${r.attempts})` : r.outcome === "skipped" ? ` (${r.reason})` : ""}`).join("\n")}\n`,
    );
    if (failed.length > 0 && values.strict) throw notifyFailed(failed);
    return EXIT.ok;
  },
});

export const NOTIFY_COMMANDS = [notifyCommand];
