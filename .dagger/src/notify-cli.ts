// Notifications from the release path (issue 17): `release`, `promote`, `rollback` and `rollbackRun` post
// `started` before anything is written and their outcome at the end, through the toolkit's `slipway notify`
// (the CLI reads slipway.yaml's `notify:`, builds the Slack and Teams messages and bounds every post). This
// file holds the pure parts: the trigger's variables, the argv, the report an on-demand rollback posts, and
// what one post's output means as a report line. No Dagger API here; tested in test/dagger/notify-cli.test.ts
// with the real CLI against a local webhook receiver.
import type { CliRun } from "./cli.js";

export type NotifyEvent = "started" | "verified" | "failed" | "rolled-back";
export type NotifyKind = "release" | "promote" | "rollback";

/** The CI variables `slipway notify` reads for "who and what triggered it" (pipelines/src/notify/message.ts triggerFrom). */
export const TRIGGER_NAMES = ["GITHUB_ACTOR", "GITHUB_WORKFLOW", "GITHUB_RUN_ID", "BUILD_REQUESTEDFOR", "BUILD_DEFINITIONNAME", "BUILD_BUILDID"] as const;

/**
 * The trigger's variables for the toolkit: `trigger` as NAME=VALUE entries and the workflow (or pipeline)
 * name on its own. The name is a separate string argument because `dagger call` reads a [String] flag with
 * pflag's StringSlice, a CSV parser (cmd/dagger/functions.go registers list-of-string arguments with
 * flags.StringSlice): `--trigger "GITHUB_WORKFLOW=Build, test"` arrives as two entries, and a `"` in the
 * name fails the whole call's flag parsing. A plain string flag takes any text. The workflow goes to
 * BUILD_DEFINITIONNAME when the other entries are Azure Pipelines' (BUILD_*), else to GITHUB_WORKFLOW.
 * Refuses an unknown NAME (a typo would silently say "unknown") and a workflow given twice.
 */
export function triggerEnv(trigger: string[], workflow?: string): Array<[string, string]> {
  const allowed = new Set<string>(TRIGGER_NAMES);
  const pairs = trigger.map((t): [string, string] => (t.includes("=") ? [t.slice(0, t.indexOf("=")), t.slice(t.indexOf("=") + 1)] : ["", t]));
  const refused = pairs.filter(([name]) => !allowed.has(name)).map(([name, value]) => (name ? name : `${JSON.stringify(value)} (no NAME=)`));
  if (refused.length) {
    throw new Error(
      `SLIPWAY_USAGE: trigger takes NAME=VALUE with NAME one of ${TRIGGER_NAMES.join(", ")}; not ${refused.join(", ")}. A workflow name that holds a comma goes in workflow (dagger call splits a list flag on commas).`,
    );
  }
  if (workflow === undefined || workflow === "") return pairs;
  const azure = pairs.some(([name]) => name.startsWith("BUILD_"));
  const name = azure ? "BUILD_DEFINITIONNAME" : "GITHUB_WORKFLOW";
  if (pairs.some(([n]) => n === "GITHUB_WORKFLOW" || n === "BUILD_DEFINITIONNAME")) {
    throw new Error("SLIPWAY_USAGE: the workflow name is given twice (workflow and a GITHUB_WORKFLOW= or BUILD_DEFINITIONNAME= trigger entry): keep workflow");
  }
  return [...pairs, [name, workflow]];
}

/**
 * A run link is shown in a message as given: http(s) only and never with credentials. Checked when the
 * function is called, so a bad value is refused before a release writes anything (the CLI checks it again).
 */
export function checkRunUrl(runUrl: string | undefined): void {
  if (runUrl === undefined || runUrl === "") return;
  let url: URL;
  try {
    url = new URL(runUrl);
  } catch {
    throw new Error(`SLIPWAY_USAGE: runUrl ${JSON.stringify(runUrl)} is not an http(s) URL: give the CI run's page, e.g. https://github.com/acme/shop/actions/runs/42`);
  }
  if (url.username || url.password) throw new Error("SLIPWAY_USAGE: runUrl must not carry credentials (user:password@): give the CI run's page");
  if (!/^https?:$/.test(url.protocol)) throw new Error(`SLIPWAY_USAGE: runUrl ${JSON.stringify(runUrl)} is not an http(s) URL: give the CI run's page`);
}

/** Where the report a notification names is written in the toolkit (/tmp: the toolkit's user can write there). */
export const NOTIFY_REPORT = "/tmp/slipway-notify-report.json";

/** `slipway notify` for one event: with the report when there is one (every event but `started`), the kind otherwise. */
export function notifyCommand(input: { environment: string; event: NotifyEvent; kind?: NotifyKind; report?: string; runUrl?: string; json?: boolean }): string[] {
  return [
    "slipway", "notify",
    "--env", input.environment,
    "--event", input.event,
    ...(input.report ? ["--in", input.report] : input.kind ? ["--kind", input.kind] : []),
    ...(input.runUrl ? ["--run-url", input.runUrl] : []),
    ...(input.json === false ? [] : ["--json"]),
  ];
}

/** What one event's post did, as a step of the run: passed (delivered), skipped (nothing to post) or failed (not delivered). */
export type NotifyResult = { status: "passed" | "failed" | "skipped"; detail: string };

type Target = { target?: unknown; outcome?: unknown; error?: unknown; reason?: unknown; httpStatus?: unknown };

/**
 * The output of `slipway notify --json` as one line: each target delivered, skipped (and why) or NOT delivered
 * (and why). A refused call (exit 2: a bad slipway.yaml, an unknown environment) or unreadable output is a
 * failed notification too: it is reported, never thrown, because a notification never fails a release.
 */
export function notifyResult(event: NotifyEvent, environment: string, run: CliRun): NotifyResult {
  const firstLine = (text: string) => text.split("\n").find((l) => l.trim() !== "")?.trim() ?? "";
  if (run.exitCode !== 0) {
    return { status: "failed", detail: `${event}: NOT sent: \`slipway notify\` exited ${run.exitCode}: ${firstLine(run.stderr) || firstLine(run.stdout) || "no output"}` };
  }
  let targets: Target[];
  try {
    const parsed = JSON.parse(run.stdout) as { targets?: unknown };
    if (!Array.isArray(parsed.targets)) throw new Error("no targets");
    targets = parsed.targets as Target[];
  } catch {
    return { status: "failed", detail: `${event}: NOT known whether sent: \`slipway notify\` printed no JSON result: ${firstLine(run.stdout) || firstLine(run.stderr) || "no output"}` };
  }
  if (targets.length === 0) return { status: "skipped", detail: `${event}: nothing to post (environments.${environment} has no notify: in slipway.yaml)` };
  const parts = targets.map((t) => {
    const name = String(t.target);
    if (t.outcome === "delivered") return `${name} delivered`;
    if (t.outcome === "skipped") return `${name} skipped (${String(t.reason ?? "")})`;
    return `${name} NOT delivered (${String(t.error ?? "unknown error")})`;
  });
  const failed = targets.some((t) => t.outcome !== "delivered" && t.outcome !== "skipped");
  const delivered = targets.some((t) => t.outcome === "delivered");
  if (!failed && !delivered) return { status: "skipped", detail: `${event}: nothing to post: ${parts.join(", ")}` };
  return { status: failed ? "failed" : "passed", detail: `${event}: ${parts.join(", ")}` };
}

/** A post and when it ran. */
export type Posted = NotifyResult & { timing: { startedAt: string; durationMs: number } };

/**
 * The posts as `notify` steps after a release's own steps, with when they ran (the timings stay aligned with
 * the steps: a step the release did not time gets an empty timing). A post that failed is a failed step in the
 * summary and the run report; the release's status is never changed by it.
 */
export function withNotifySteps<T extends { steps: Array<{ step: string; status: "passed" | "failed" | "skipped"; detail: string }>; timings?: Array<Partial<{ startedAt: string; durationMs: number }>> }>(outcome: T, posts: Posted[]): T {
  const timings = [...(outcome.timings ?? [])];
  while (timings.length < outcome.steps.length) timings.push({});
  return { ...outcome, steps: [...outcome.steps, ...posts.map((p) => ({ step: "notify", status: p.status, detail: p.detail }))], timings: [...timings, ...posts.map((p) => p.timing)] };
}

/** A notification that could not even be attempted (the engine failed to run the toolkit): reported like any failed post. */
export function notifyError(event: NotifyEvent, error: unknown): NotifyResult {
  const message = error instanceof Error ? error.message : String(error);
  return { status: "failed", detail: `${event}: NOT sent: ${message.split("\n")[0] ?? ""}` };
}

/** What an on-demand rollback restored (.dagger/src/rollback-run.ts runRollback), for its message. */
export type RestoredRelease = { id: string; images: string[]; commit: string; entry: string };

/** The event an on-demand rollback posts at its end: rolled-back when every step was done, failed otherwise. */
export function rollbackEvent(ok: boolean): NotifyEvent {
  return ok ? "rolled-back" : "failed";
}

/**
 * The report `slipway notify --in` reads for an on-demand rollback (pipelines/src/notify/schema.ts
 * ReleaseReport, kind rollback): the restored release and its images, the new ledger entry and GitOps
 * commit, and the rollback's report as what happened (also as the failure when a step failed).
 */
export function rollbackNotifyReport(environment: string, outcome: { ok: boolean; report: string; restored?: RestoredRelease }): string {
  const r = outcome.restored;
  return `${JSON.stringify(
    {
      version: 1,
      kind: "rollback",
      environment,
      status: outcome.ok ? "rolled-back" : "failed",
      sourceSha: "",
      ledgerId: r?.entry ?? "",
      gitopsCommit: r?.commit ?? "",
      images: r?.images ?? [],
      restored: r?.id ?? "",
      failure: outcome.ok ? "" : outcome.report.split("\n").filter((l) => /\bNOT\b|FAILED|STOPPED|\bBLOCKS\b/.test(l)).join("\n"),
      rollback: outcome.report,
    },
    null,
    2,
  )}\n`;
}

/** A release that threw after `started` was posted: the Release report `failed` is posted with the error. */
export function thrownReleaseReport(kind: "release" | "promote", environment: string, sourceSha: string, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return `${JSON.stringify({ version: 1, kind, environment, status: "failed", sourceSha, ledgerId: "", gitopsCommit: "", images: [], failure: message }, null, 2)}\n`;
}
