// `slipway notify` (issue 17): Slack and Teams webhooks against local receivers that validate the payloads,
// webhook URLs masked everywhere (also when a receiver echoes them back), every post bounded in time, a
// failed post a warning (exit 0) unless --strict, and the config refusing a literal URL.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { buildNotification, imageLine, slackPayload, teamsPayload, triggerFrom } from "../../../pipelines/src/notify/message.js";
import { retryAfterMs } from "../../../pipelines/src/notify/send.js";
import { cli, cliProcess } from "../../helpers/cli.js";
import { payloadErrors, receiver } from "./receiver.js";

const CANARY = "c4n4ryW3bh00kS3cret";
const CANARY_SIG = "s1gC4n4ryQu3ryV4lue";
const REG = "myacr.azurecr.io/shop";
const DIGEST = `sha256:${"a".repeat(64)}`;

let dir: string;
const closers: Array<() => Promise<void>> = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "slipway-notify-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

function config(notify: string): string {
  const file = join(dir, `slipway-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(
    file,
    [
      "version: 1",
      "gitops: { repository: https://github.com/acme/gitops.git }",
      "environments:",
      "  prod:",
      "    gitops: { path: clusters/prod }",
      "    kubernetes: { namespace: shop, selector: app=shop }",
      ...notify.split("\n").map((l) => `    ${l}`),
      "",
    ].join("\n"),
  );
  return file;
}

function report(overrides: Record<string, unknown> = {}): string {
  const file = join(dir, `release-${Math.random().toString(36).slice(2)}.json`);
  const data = {
    version: 1,
    kind: "release",
    environment: "prod",
    status: "rolled-back",
    sourceSha: "0123456789abcdef0123456789abcdef01234567",
    ledgerId: "7",
    gitopsCommit: "fedcba9876543210fedcba9876543210fedcba98",
    images: [`${REG}/api=sha-0123456789ab@${DIGEST}`, `${REG}/worker=sha-0123456789ab@sha256:${"b".repeat(64)}`],
    promotedFrom: "",
    steps: [{ step: "verify", status: "failed", detail: "api: CrashLoopBackOff" }],
    failure: "SLIPWAY_ROLLOUT_FAILED: api CrashLoopBackOff <pod api-1>",
    rollback: "restored release 6 (verified)",
    unreleasedImages: [],
    ...overrides,
  };
  writeFileSync(file, JSON.stringify(data, null, 2));
  return file;
}

const BOTH = "notify:\n  slack: { webhookEnv: SLACK_HOOK }\n  teams: { webhookEnv: TEAMS_HOOK }";

function baseEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  // Only what the test gives: the runner's own GITHUB_* would change the trigger line.
  return { PATH: process.env.PATH, HOME: process.env.HOME, ...extra };
}

function expectNoCanary(...texts: string[]): void {
  for (const text of texts) {
    for (const c of [CANARY, CANARY_SIG]) {
      expect(text).not.toContain(c);
      expect(text).not.toContain(Buffer.from(c).toString("base64").slice(0, 16));
    }
  }
}

describe("pipelines/src/notify (slipway notify)", () => {
  it("posts a valid Block Kit message to Slack and an Adaptive Card to Teams, naming environment, images, outcome, trigger and run", async () => {
    const slack = await receiver((_req, res) => res.writeHead(200, { "content-type": "text/plain" }).end("ok"));
    const teams = await receiver((_req, res) => res.writeHead(202).end());
    closers.push(slack.close, teams.close);
    const env = baseEnv({
      SLACK_HOOK: `${slack.base}/services/T000/B000/${CANARY}`,
      TEAMS_HOOK: `${teams.base}/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sig=${CANARY_SIG}`,
      GITHUB_ACTIONS: "true",
      GITHUB_ACTOR: "octocat",
      GITHUB_WORKFLOW: "slipway",
      GITHUB_RUN_ID: "4242",
      GITHUB_REPOSITORY: "acme/shop",
      GITHUB_SERVER_URL: "https://github.com",
    });
    const r = await cliProcess(["notify", "--env", "prod", "--event", "rolled-back", "--in", report(), "--config", config(BOTH)], dir, env);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^slack: delivered \(HTTP 200, attempt 1\)\nteams: delivered \(HTTP 202, attempt 1\)\n$/);
    expectNoCanary(r.stdout, r.stderr);

    expect(slack.received).toHaveLength(1);
    const s = slack.received[0]!;
    expect(s.url).toBe(`/services/T000/B000/${CANARY}`);
    expect(s.contentType).toBe("application/json");
    expect(payloadErrors("slack", s.body)).toEqual([]);
    const slackText = JSON.stringify(s.body);
    for (const want of ["prod", "FAILED and ROLLED BACK", "*shop/api* `sha-0123456789ab`", DIGEST, "*octocat*", "slipway run 4242", "<https://github.com/acme/shop/actions/runs/4242|View run>", "&lt;pod api-1&gt;"]) {
      expect(slackText).toContain(JSON.stringify(want).slice(1, -1));
    }

    expect(teams.received).toHaveLength(1);
    const t = teams.received[0]!;
    expect(t.url).toContain(`sig=${CANARY_SIG}`);
    expect(payloadErrors("teams", t.body)).toEqual([]);
    const card = (t.body as { attachments: [{ content: { body: Array<{ type: string; facts?: Array<{ title: string; value: string }> }>; actions: unknown[] } }] }).attachments[0].content;
    const facts = card.body.filter((b) => b.type === "FactSet").flatMap((b) => b.facts ?? []);
    expect(facts).toEqual(
      expect.arrayContaining([
        { title: "Environment", value: "prod" },
        { title: "Triggered by", value: "octocat via slipway run 4242" },
        { title: "shop/api", value: `sha-0123456789ab @ ${DIGEST}` },
      ]),
    );
    expect(card.actions).toEqual([{ type: "Action.OpenUrl", title: "View run", url: "https://github.com/acme/shop/actions/runs/4242" }]);
  });

  it("a receiver that fails and echoes the webhook URL back: a warning per target, exit 0, --json lists each outcome, no canary anywhere", async () => {
    const echo = await receiver((req, res) => {
      const full = `http://${req.headers.host}${req.url}`;
      res.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify({ error: "invalid_payload", url: full, path: req.url, encoded: encodeURIComponent(full) }));
    });
    closers.push(echo.close);
    const env = baseEnv({ SLACK_HOOK: `${echo.base}/services/T1/B1/${CANARY}`, TEAMS_HOOK: `${echo.base}/workflows/x/invoke?sig=${CANARY_SIG}` });
    const r = await cliProcess(["notify", "--env", "prod", "--event", "failed", "--in", report({ status: "failed" }), "--json", "--config", config(BOTH)], dir, env);
    expect(r.code).toBe(0);
    expect(echo.received).toHaveLength(2); // a 4xx is not retried
    expect(r.stderr).toMatch(/^warning: slack notification \(SLACK_HOOK\) not delivered: HTTP 400: .*invalid_payload.*\n/m);
    expect(r.stderr).toMatch(/^warning: teams notification \(TEAMS_HOOK\) not delivered: HTTP 400: /m);
    expect(r.stderr).toContain("***");
    const out = JSON.parse(r.stdout) as { schemaVersion: number; targets: Array<{ target: string; outcome: string; httpStatus: number; attempts: number }>; failed: number };
    expect(out.schemaVersion).toBe(1);
    expect(out.failed).toBe(2);
    expect(out.targets.map((t) => [t.target, t.outcome, t.httpStatus, t.attempts])).toEqual([
      ["slack", "failed", 400, 1],
      ["teams", "failed", 400, 1],
    ]);
    expectNoCanary(r.stdout, r.stderr);
  });

  it("a receiver that never answers: bounded by SLIPWAY_NOTIFY_TIMEOUT, a warning, exit 0; with --strict exit 1", async () => {
    // How long the receiver held the request before the client hung up: the wait SLIPWAY_NOTIFY_TIMEOUT bounds.
    // Measured here rather than around the process, whose start-up a loaded machine stretches by seconds.
    const held: number[] = [];
    const hung = await receiver((req) => {
      const at = Date.now();
      req.socket.once("close", () => held.push(Date.now() - at));
    });
    closers.push(hung.close);
    const env = baseEnv({ SLACK_HOOK: `${hung.base}/services/T2/B2/${CANARY}`, SLIPWAY_NOTIFY_TIMEOUT: "700ms" });
    const slackOnly = config("notify:\n  slack: { webhookEnv: SLACK_HOOK }");
    const r = await cliProcess(["notify", "--env", "prod", "--event", "verified", "--in", report({ status: "verified" }), "--config", slackOnly], dir, env);
    // The process has ended, so its connection is closed; this side may see it a moment later.
    for (let i = 0; i < 100 && held.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(held).toHaveLength(1);
    // Given up after 0.7 s (plus a late timer), far from the 10 s default.
    expect(held[0]).toBeLessThan(5000);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("warning: slack notification (SLACK_HOOK) not delivered: no answer within 0.7s (SLIPWAY_NOTIFY_TIMEOUT)");
    expect(r.stdout).toBe("slack: failed\n");
    expectNoCanary(r.stdout, r.stderr);

    const strict = await cli(["notify", "--env", "prod", "--event", "verified", "--in", report({ status: "verified" }), "--strict", "--config", slackOnly], dir, env);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toContain("SLIPWAY_NOTIFY_FAILED: 1 notification not delivered (--strict): slack");
    expectNoCanary(strict.stdout, strict.stderr);
  });

  it("a 500 then a 200 is delivered on the 2nd attempt; a 429 with Retry-After beyond the timeout is not retried", async () => {
    const flaky = await receiver((_req, res, n) => (n === 1 ? res.writeHead(500, { "retry-after": "0" }).end("busy") : res.writeHead(200).end("ok")));
    closers.push(flaky.close);
    const env = baseEnv({ SLACK_HOOK: `${flaky.base}/services/T3/B3/${CANARY}` });
    const slackOnly = config("notify:\n  slack: { webhookEnv: SLACK_HOOK }");
    const r = await cli(["notify", "--env", "prod", "--event", "verified", "--in", report({ status: "verified" }), "--json", "--config", slackOnly], dir, env);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).targets[0]).toMatchObject({ target: "slack", outcome: "delivered", attempts: 2, httpStatus: 200 });
    expect(flaky.received).toHaveLength(2);

    const limited = await receiver((_req, res) => res.writeHead(429, { "retry-after": "120" }).end("slow down"));
    closers.push(limited.close);
    const r2 = await cli(["notify", "--env", "prod", "--event", "verified", "--in", report({ status: "verified" }), "--json", "--config", slackOnly], dir, { ...env, SLACK_HOOK: `${limited.base}/x/${CANARY}` });
    expect(r2.code).toBe(0);
    expect(limited.received).toHaveLength(1);
    expect(r2.stderr).toContain("not retried: the server asked to wait 120s, beyond SLIPWAY_NOTIFY_TIMEOUT");
  });

  it("an event not in notify.on posts nothing; a missing variable is a warning; started needs no report", async () => {
    const rec = await receiver((_req, res) => res.writeHead(200).end("ok"));
    closers.push(rec.close);
    const file = config("notify:\n  slack: { webhookEnv: SLACK_HOOK }\n  teams: { webhookEnv: TEAMS_HOOK }\n  on: [started, failed]");
    const env = baseEnv({ SLACK_HOOK: `${rec.base}/services/T4/B4/${CANARY}` });
    const skipped = await cli(["notify", "--env", "prod", "--event", "verified", "--in", report({ status: "verified" }), "--config", file], dir, env);
    expect(skipped.code).toBe(0);
    expect(skipped.stdout).toBe("slack: skipped (event verified is not in notify.on (started, failed))\nteams: skipped (event verified is not in notify.on (started, failed))\n");
    expect(rec.received).toHaveLength(0);

    const started = await cli(["notify", "--env", "prod", "--event", "started", "--run-url", "https://dev.azure.com/acme/shop/_build/results?buildId=9", "--config", file], dir, env);
    expect(started.code).toBe(0);
    expect(started.stderr).toBe("warning: teams notification (TEAMS_HOOK) not delivered: TEAMS_HOOK is not set or empty\n");
    expect(rec.received).toHaveLength(1);
    expect(payloadErrors("slack", rec.received[0]!.body)).toEqual([]);
    expect(JSON.stringify(rec.received[0]!.body)).toContain("release to prod: started");
  });

  it("refuses a webhook URL written in slipway.yaml (without printing it), an unknown event and a missing report", async () => {
    const literal = config(`notify:\n  slack: { webhookEnv: "https://hooks.slack.com/services/T0/B0/${CANARY}" }\n  teams: { url: "https://x.logic.azure.com/workflows/1?sig=${CANARY_SIG}", webhookEnv: T }`);
    const bad = await cliProcess(["config", "check", "--config", literal], dir, baseEnv({}));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("SLIPWAY_CONFIG_INVALID");
    expect(bad.stderr).toContain("environments.prod.notify.slack.webhookEnv: a webhook URL is a secret and never goes in slipway.yaml");
    expect(bad.stderr).toContain("environments.prod.notify.teams.url: a webhook URL is a secret and never goes in slipway.yaml");
    expectNoCanary(bad.stdout, bad.stderr);

    const ok = config(BOTH);
    const unknown = await cli(["notify", "--env", "prod", "--event", "deployed", "--in", report(), "--config", ok], dir, baseEnv({}));
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^SLIPWAY_USAGE: --event "deployed" is not one of started, verified, failed, rolled-back/);
    const noReport = await cli(["notify", "--env", "prod", "--event", "failed", "--config", ok], dir, baseEnv({}));
    expect(noReport.code).toBe(2);
    expect(noReport.stderr).toMatch(/^SLIPWAY_USAGE: --in is required for --event failed/);
    const wrongEnv = await cli(["notify", "--env", "prod", "--event", "failed", "--in", report({ environment: "dev" }), "--config", ok], dir, baseEnv({}));
    expect(wrongEnv.code).toBe(2);
    expect(wrongEnv.stderr).toContain("SLIPWAY_NOTIFY_REPORT_INVALID");
  });

  it("is listed by `slipway help`", async () => {
    const r = await cli(["--help"], dir, baseEnv({}));
    expect(r.stdout).toMatch(/^\s+notify\s+Post a release event/m);
  });
});

describe("pipelines/src/notify/message", () => {
  it.each([
    [`${REG}/api=sha-1@${DIGEST}`, { name: "shop/api", repository: `${REG}/api`, tag: "sha-1", digest: DIGEST }],
    [`localhost:5000/api=1.2.3@${DIGEST}`, { name: "api", repository: "localhost:5000/api", tag: "1.2.3", digest: DIGEST }],
    ["shop/api=1.2.3", { name: "shop/api", repository: "shop/api", tag: "1.2.3", digest: "" }],
  ])("reads the image %s", (set, want) => {
    expect(imageLine(set)).toEqual(want);
  });

  it("takes the trigger from Azure Pipelines' variables, else says unknown", () => {
    expect(
      triggerFrom({ TF_BUILD: "True", BUILD_REQUESTEDFOR: "Ada Lovelace", BUILD_DEFINITIONNAME: "shop-ci", BUILD_BUILDID: "77", SYSTEM_COLLECTIONURI: "https://dev.azure.com/acme/", SYSTEM_TEAMPROJECT: "Shop App" }, undefined),
    ).toEqual({ actor: "Ada Lovelace", via: "shop-ci build 77", runUrl: "https://dev.azure.com/acme/Shop%20App/_build/results?buildId=77" });
    expect(triggerFrom({}, undefined)).toEqual({ actor: "unknown", via: "unknown", runUrl: null });
  });

  it("keeps a long failure within Slack's 3000 characters per section and valid for both schemas", () => {
    const long = { version: 1 as const, kind: "release" as const, environment: "prod", status: "failed" as const, sourceSha: "a".repeat(40), ledgerId: "3", gitopsCommit: "", images: [], promotedFrom: "", failure: "x".repeat(10_000), rollback: "", unreleasedImages: [], restored: "" };
    const n = buildNotification("failed", "prod", long, triggerFrom({}, undefined));
    expect(payloadErrors("slack", slackPayload(n))).toEqual([]);
    expect(payloadErrors("teams", teamsPayload(n))).toEqual([]);
  });

  it.each([
    ["5", 5000],
    ["Wed, 21 Oct 2015 07:28:10 GMT", 2000],
    ["soon", null],
  ])("reads Retry-After %s", (value, ms) => {
    expect(retryAfterMs(value, Date.parse("Wed, 21 Oct 2015 07:28:08 GMT"))).toBe(ms);
  });
});
