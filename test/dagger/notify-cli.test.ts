// The release path's notifications (.dagger/src/notify-cli.ts, issue 17): the argv, the trigger variables and
// the rollback report the module gives `slipway notify`, run here by the real CLI (as the toolkit would, with
// the webhooks as SLACK_WEBHOOK_URL and TEAMS_WEBHOOK_URL) against local receivers that validate the Block
// Kit and Adaptive Card payloads; then the module's reading of the CLI's answer, and where it lands in the
// run report. Webhook canaries never appear in any output.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  checkRunUrl,
  notifyCommand,
  notifyError,
  notifyResult,
  rollbackEvent,
  rollbackNotifyReport,
  thrownReleaseReport,
  triggerEnv,
  withNotifySteps,
} from "../../.dagger/src/notify-cli.js";
import type { ReleaseData } from "../../.dagger/src/release-flow.js";
import { releaseRunReport, rollbackRunReport } from "../../.dagger/src/run-report.js";
import { RunReport } from "../../pipelines/src/report/schema.js";
import { cli, cliProcess } from "../helpers/cli.js";
import { payloadErrors, receiver } from "../pipelines/notify/receiver.js";

const CANARY = "n0t1fyC4n4ryS3cretPath";
const CANARY_SIG = "t34msC4n4rySigV4lue";
const DIGEST = `sha256:${"c".repeat(64)}`;

let dir: string;
const closers: Array<() => Promise<void>> = [];
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "slipway-notify-module-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

/** A slipway.yaml whose prod notifies through the variables the module sets; dev has no notify:. */
function config(notify = "notify:\n  slack: { webhookEnv: SLACK_WEBHOOK_URL }\n  teams: { webhookEnv: TEAMS_WEBHOOK_URL }\n  on: [started, verified, failed, rolled-back]"): string {
  const file = join(dir, `slipway-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(
    file,
    [
      "version: 1",
      "gitops: { repository: https://github.com/acme/gitops.git }",
      "environments:",
      "  dev:",
      "    gitops: { path: clusters/dev }",
      "    kubernetes: { namespace: shop, selector: app=shop }",
      "  prod:",
      "    gitops: { path: clusters/prod }",
      "    kubernetes: { namespace: shop, selector: app=shop }",
      ...notify.split("\n").map((l) => `    ${l}`),
      "",
    ].join("\n"),
  );
  return file;
}

function write(name: string, text: string): string {
  const file = join(dir, `${Math.random().toString(36).slice(2)}-${name}`);
  writeFileSync(file, text);
  return file;
}

/** What the toolkit's exec sees: PATH and HOME, the trigger's variables and the webhooks, nothing of this runner. */
function toolkitEnv(trigger: Array<[string, string]>, hooks: { slack?: string; teams?: string }): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...Object.fromEntries(trigger),
    ...(hooks.slack !== undefined ? { SLACK_WEBHOOK_URL: hooks.slack } : {}),
    ...(hooks.teams !== undefined ? { TEAMS_WEBHOOK_URL: hooks.teams } : {}),
  };
}

/** The module's argv without the leading `slipway`, plus --config (the toolkit finds slipway.yaml in /src). */
function argv(command: string[], configFile: string): string[] {
  expect(command.slice(0, 2)).toEqual(["slipway", "notify"]);
  return [...command.slice(1), "--config", configFile];
}

function expectNoCanary(...texts: string[]): void {
  for (const text of texts) for (const c of [CANARY, CANARY_SIG]) expect(text).not.toContain(c);
}

type Card = { attachments: [{ content: { body: Array<{ type: string; text?: string; facts?: Array<{ title: string; value: string }> }> } }] };
const factsOf = (body: unknown) => (body as Card).attachments[0].content.body.flatMap((b) => b.facts ?? []);
const textsOf = (body: unknown) => (body as Card).attachments[0].content.body.flatMap((b) => (b.text ? [b.text] : []));

const ROLLBACK_REPORT = [
  "rollback of prod to release 6",
  "git: commit 0123456789ab in clusters/prod; release 7 rolled-back; release 8 restores 6",
  "database: nothing to revert",
  "verify: release 8 (release 6's images) is healthy and verified",
  "registry: shop/api sha-7 tagged failed-7",
  "",
].join("\n");

describe(".dagger/src/notify-cli trigger and run link", () => {
  it("carries a workflow name with commas and quotes whole, to GitHub's or Azure Pipelines' variable", () => {
    const name = 'Build, test & "deploy"';
    expect(triggerEnv(["GITHUB_ACTOR=octocat", "GITHUB_RUN_ID=42"], name)).toEqual([
      ["GITHUB_ACTOR", "octocat"],
      ["GITHUB_RUN_ID", "42"],
      ["GITHUB_WORKFLOW", name],
    ]);
    expect(triggerEnv(["BUILD_REQUESTEDFOR=Ada Lovelace", "BUILD_BUILDID=77"], "shop, ci")).toContainEqual(["BUILD_DEFINITIONNAME", "shop, ci"]);
    expect(triggerEnv([], undefined)).toEqual([]);
  });

  it("refuses an unknown name, a piece without NAME= (what a comma in a list flag leaves) and a workflow given twice", () => {
    // `--trigger "GITHUB_WORKFLOW=Build, test"` reaches the module as these two entries (pflag StringSlice reads CSV).
    expect(() => triggerEnv(["GITHUB_WORKFLOW=Build", " test"])).toThrow(/^SLIPWAY_USAGE: trigger takes NAME=VALUE .*not " test" \(no NAME=\)\. A workflow name that holds a comma goes in workflow/);
    expect(() => triggerEnv(["GITHUB_TOKEN=x"])).toThrow("not GITHUB_TOKEN");
    expect(() => triggerEnv(["GITHUB_WORKFLOW=a"], "b")).toThrow("SLIPWAY_USAGE: the workflow name is given twice");
  });

  it.each([
    ["ftp://ci.example/run/1", "is not an http(s) URL"],
    ["not a url", "is not an http(s) URL"],
    ["https://user:pw@ci.example/run/1", "must not carry credentials"],
  ])("refuses runUrl %s before anything starts", (url, message) => {
    expect(() => checkRunUrl(url)).toThrow(message);
  });
});

describe(".dagger/src/notify-cli through the real `slipway notify`", () => {
  it("started for a promote (no report yet) and the rollback's rolled-back with the restored release: valid Slack and Teams payloads, both read as delivered", async () => {
    const slack = await receiver((_req, res) => res.writeHead(200, { "content-type": "text/plain" }).end("ok"));
    const teams = await receiver((_req, res) => res.writeHead(202).end());
    closers.push(slack.close, teams.close);
    const trigger = triggerEnv(["GITHUB_ACTOR=octocat", "GITHUB_RUN_ID=4242"], "Release, then promote");
    const env = toolkitEnv(trigger, { slack: `${slack.base}/services/T0/B0/${CANARY}`, teams: `${teams.base}/workflows/1/invoke?sig=${CANARY_SIG}` });
    const file = config();
    const runUrl = "https://github.com/acme/shop/actions/runs/4242";

    const started = await cliProcess(argv(notifyCommand({ environment: "prod", event: "started", kind: "promote", runUrl }), file), dir, env);
    expect(started.code).toBe(0);
    expect(notifyResult("started", "prod", { exitCode: started.code, stdout: started.stdout, stderr: started.stderr })).toEqual({ status: "passed", detail: "started: slack delivered, teams delivered" });
    expect(payloadErrors("slack", slack.received[0]?.body)).toEqual([]);
    expect(payloadErrors("teams", teams.received[0]?.body)).toEqual([]);
    expect(JSON.stringify(slack.received[0]?.body)).toContain("promote to prod: started");
    expect(JSON.stringify(slack.received[0]?.body)).toContain("Triggered by *octocat* via Release, then promote run 4242");
    expect(factsOf(teams.received[0]?.body)).toContainEqual({ title: "Triggered by", value: "octocat via Release, then promote run 4242" });

    const restored = { id: "6", images: [`myacr.azurecr.io/shop/api=sha-6@${DIGEST}`], commit: "0123456789abcdef0123456789abcdef01234567", entry: "8" };
    const report = write("rollback.json", rollbackNotifyReport("prod", { ok: true, report: ROLLBACK_REPORT, restored }));
    const done = await cliProcess(argv(notifyCommand({ environment: "prod", event: rollbackEvent(true), report, runUrl }), file), dir, env);
    expect(done.code).toBe(0);
    expect(notifyResult("rolled-back", "prod", { exitCode: done.code, stdout: done.stdout, stderr: done.stderr }).status).toBe("passed");
    const slackBody = slack.received[1]?.body;
    expect(payloadErrors("slack", slackBody)).toEqual([]);
    const slackText = JSON.stringify(slackBody);
    for (const want of ["rollback of prod to release 6: DONE", "rolled back on demand: release 6 is back", "*Restored images*", "*shop/api* `sha-6`", DIGEST, "release 8 restores 6", "<https://github.com/acme/shop/actions/runs/4242|View run>"]) {
      expect(slackText).toContain(JSON.stringify(want).slice(1, -1));
    }
    const card = teams.received[1]?.body;
    expect(payloadErrors("teams", card)).toEqual([]);
    expect(textsOf(card)).toEqual(expect.arrayContaining(["rollback of prod to release 6: DONE", "Restored images"]));
    expect(factsOf(card)).toEqual(expect.arrayContaining([{ title: "shop/api", value: `sha-6 @ ${DIGEST}` }, { title: "GitOps commit", value: "0123456789ab" }]));
    expectNoCanary(started.stdout, started.stderr, done.stdout, done.stderr);
  });

  it("an incomplete rollback posts failed, titled INCOMPLETE, with the step that was not done", async () => {
    const slack = await receiver((_req, res) => res.writeHead(200).end("ok"));
    closers.push(slack.close);
    const incomplete = ROLLBACK_REPORT.replace("verify: release 8 (release 6's images) is healthy and verified", "verify: the restored release is NOT healthy (verdict failed); release 8 marked failed: api CrashLoopBackOff");
    const report = write("rollback-failed.json", rollbackNotifyReport("prod", { ok: false, report: incomplete, restored: { id: "6", images: [], commit: "0".repeat(40), entry: "8" } }));
    const r = await cli(argv(notifyCommand({ environment: "prod", event: rollbackEvent(false), report }), config("notify:\n  slack: { webhookEnv: SLACK_WEBHOOK_URL }")), dir, toolkitEnv([], { slack: `${slack.base}/s/${CANARY}` }));
    expect(r.code).toBe(0);
    const body = slack.received[0]?.body;
    expect(payloadErrors("slack", body)).toEqual([]);
    const text = JSON.stringify(body);
    expect(text).toContain("rollback of prod to release 6: INCOMPLETE");
    expect(text).toContain("*Failure*");
    expect(text).toContain("verify: the restored release is NOT healthy");
    expect(text).not.toContain("is back");
  });

  it("a release that threw after started: failed with the error, as a Release report the CLI accepts", async () => {
    const slack = await receiver((_req, res) => res.writeHead(200).end("ok"));
    closers.push(slack.close);
    const report = write("thrown.json", thrownReleaseReport("release", "prod", "a".repeat(40), new Error("SLIPWAY_ACR_PUBLISH: 2 services failed to publish: api, worker")));
    const r = await cli(argv(notifyCommand({ environment: "prod", event: "failed", report }), config()), dir, toolkitEnv([], { slack: `${slack.base}/s/${CANARY}` }));
    expect(r.code).toBe(0);
    expect(JSON.stringify(slack.received[0]?.body)).toContain("SLIPWAY_ACR_PUBLISH: 2 services failed to publish: api, worker");
    expect(JSON.stringify(slack.received[0]?.body)).toContain("release to prod: FAILED");
  });

  it("a receiver that refuses and echoes its URL: NOT delivered in the report line with the reason, no canary; the rollback stays done", async () => {
    const echo = await receiver((req, res) => res.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify({ error: "invalid_token", url: `http://${req.headers.host}${req.url}` })));
    closers.push(echo.close);
    const env = toolkitEnv([], { slack: `${echo.base}/services/T1/B1/${CANARY}`, teams: `${echo.base}/workflows/2/invoke?sig=${CANARY_SIG}` });
    const r = await cliProcess(argv(notifyCommand({ environment: "prod", event: "started", kind: "rollback" }), config()), dir, env);
    expect(r.code).toBe(0);
    const result = notifyResult("started", "prod", { exitCode: r.code, stdout: r.stdout, stderr: r.stderr });
    expect(result.status).toBe("failed");
    expect(result.detail).toMatch(/^started: slack NOT delivered \(HTTP 400: .*invalid_token.*\), teams NOT delivered \(HTTP 400: /);
    expectNoCanary(result.detail, r.stdout, r.stderr);

    // The rollback's report with its notify lines: the post is a failed step of its own; the rollback is verified.
    const report = `${ROLLBACK_REPORT}notify: ${result.detail}\nnotify: rolled-back: slack delivered\n`;
    const run = RunReport.parse(rollbackRunReport({ environment: "prod", ok: true, report, startedAt: "2026-12-07T04:00:00.000Z", durationMs: 1000 }));
    expect(run.outcome).toBe("verified");
    expect(run.failure).toBe("");
    expect(run.steps.filter((s) => s.name === "notify").map((s) => s.outcome)).toEqual(["failed", "passed"]);
  });

  it("an environment without notify: posts nothing and the step is skipped, not failed", async () => {
    const r = await cli(argv(notifyCommand({ environment: "dev", event: "started", kind: "release" }), config()), dir, toolkitEnv([], { slack: "https://hooks.slack.com/services/T/B/x" }));
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(notifyResult("started", "dev", { exitCode: r.code, stdout: r.stdout, stderr: r.stderr })).toEqual({ status: "skipped", detail: "started: nothing to post (environments.dev has no notify: in slipway.yaml)" });
    const run = RunReport.parse(rollbackRunReport({ environment: "dev", ok: true, report: `${ROLLBACK_REPORT}notify: started: nothing to post (environments.dev has no notify: in slipway.yaml)\n`, startedAt: "2026-12-07T04:00:00.000Z", durationMs: 1 }));
    expect(run.steps.find((s) => s.name === "notify")?.outcome).toBe("skipped");
  });

  it("Azure Pipelines' unexpanded $(SLACK_WEBHOOK_URL) is a webhook nobody configured: a warning naming the variable and what to set, nothing posted", async () => {
    const r = await cliProcess(argv(notifyCommand({ environment: "prod", event: "started", kind: "release" }), config("notify:\n  slack: { webhookEnv: SLACK_WEBHOOK_URL }\n  on: [started]")), dir, toolkitEnv([], { slack: "$(SLACK_WEBHOOK_URL)" }));
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      "warning: slack notification (SLACK_WEBHOOK_URL) not delivered: SLACK_WEBHOOK_URL holds the unexpanded Azure Pipelines macro $(SLACK_WEBHOOK_URL): the pipeline variable SLACK_WEBHOOK_URL is not defined; define it as a secret variable (e.g. in the environment's variable group) or remove notify.slack from environments.prod in slipway.yaml\n",
    );
    const result = notifyResult("started", "prod", { exitCode: r.code, stdout: r.stdout, stderr: r.stderr });
    expect(result.status).toBe("failed");
    expect(result.detail).toContain("slack NOT delivered (SLACK_WEBHOOK_URL holds the unexpanded Azure Pipelines macro");
    expect(result.detail).not.toMatch(/is not a URL|https?:/);
  });

  it("a refused call (unknown environment) and an engine error are failed posts with the reason, never thrown", async () => {
    const r = await cli(argv(notifyCommand({ environment: "qa", event: "started", kind: "release" }), config()), dir, toolkitEnv([], {}));
    expect(r.code).toBe(2);
    const result = notifyResult("started", "qa", { exitCode: r.code, stdout: r.stdout, stderr: r.stderr });
    expect(result.status).toBe("failed");
    expect(result.detail).toMatch(/^started: NOT sent: `slipway notify` exited 2: SLIPWAY_ENV_UNKNOWN/);
    expect(notifyError("verified", new Error("GraphQLRequestError: connection reset\nstack"))).toEqual({ status: "failed", detail: "verified: NOT sent: GraphQLRequestError: connection reset" });
    expect(notifyResult("verified", "prod", { exitCode: 0, stdout: "slack: delivered\n", stderr: "" }).detail).toMatch(/^verified: NOT known whether sent/);
  });

  it("--kind must agree with the report and be one of release, promote, rollback", async () => {
    const report = write("r.json", rollbackNotifyReport("prod", { ok: true, report: ROLLBACK_REPORT }));
    const mismatch = await cli(["notify", "--env", "prod", "--event", "rolled-back", "--in", report, "--kind", "release", "--config", config()], dir, toolkitEnv([], {}));
    expect(mismatch.code).toBe(2);
    expect(mismatch.stderr).toContain("SLIPWAY_NOTIFY_REPORT_INVALID");
    expect(mismatch.stderr).toContain("it is a report of a rollback, not of a release (--kind)");
    const bad = await cli(["notify", "--env", "prod", "--event", "started", "--kind", "deploy", "--config", config()], dir, toolkitEnv([], {}));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^SLIPWAY_USAGE: --kind "deploy" is not one of release, promote, rollback/);
  });
});

describe(".dagger/src/notify-cli in a release's run report", () => {
  it("a verified release whose outcome post failed stays verified; both posts are notify steps with their times", () => {
    const data: ReleaseData = {
      kind: "release", environment: "prod", status: "verified", sourceSha: "a".repeat(40), ledgerId: "9", gitopsCommit: "b".repeat(40),
      images: [`myacr.azurecr.io/shop/api=sha-9@${DIGEST}`], promotedFrom: "", failure: "", rollback: "", unreleasedImages: [],
      steps: [
        { step: "ci", status: "passed", detail: "api: lint, test, build, image" },
        { step: "publish", status: "passed", detail: "api" },
        { step: "verify", status: "passed", detail: "healthy" },
      ],
    };
    // publish was not timed: the timings stay aligned with the steps.
    const outcome = withNotifySteps({ ...data, timings: [{ startedAt: "2026-12-07T04:00:00.000Z", durationMs: 60_000 }] }, [
      { status: "skipped", detail: "started: nothing to post: slack skipped (event started is not in notify.on (verified, failed, rolled-back))", timing: { startedAt: "2026-12-07T04:00:00.100Z", durationMs: 900 } },
      { status: "failed", detail: "verified: slack NOT delivered (HTTP 404: no_service)", timing: { startedAt: "2026-12-07T04:03:00.000Z", durationMs: 1200 } },
    ]);
    expect(outcome.status).toBe("verified");
    const run = RunReport.parse(
      releaseRunReport({ data: outcome, steps: outcome.steps.map((s, i) => ({ ...s, ...(outcome.timings[i] ?? {}) })), migrations: [], startedAt: "2026-12-07T04:00:00.000Z", durationMs: 200_000 }),
    );
    expect(run.outcome).toBe("verified");
    expect(run.steps.map((s) => [s.name, s.outcome, s.startedAt])).toEqual([
      ["ci", "passed", "2026-12-07T04:00:00.000Z"],
      ["publish", "passed", null],
      ["verify", "passed", null],
      ["notify", "skipped", "2026-12-07T04:00:00.100Z"],
      ["notify", "failed", "2026-12-07T04:03:00.000Z"],
    ]);
    expect(run.steps.at(-1)?.detail).toBe("verified: slack NOT delivered (HTTP 404: no_service)");
  });
});
