// The pure side of `release` and `promote` (.dagger/src/release-flow.ts): the argv given to the CLI must be
// what the CLI itself accepts (parsed by the real command definitions), the JSON it prints must be read
// strictly, and the Release summary must put the verdict first.
import { describe, expect, it } from "vitest";
import {
  beginCommand,
  candidateCommand,
  envMarkCommand,
  envRollbackCommand,
  envShowCommand,
  expectationsOf,
  missingSecrets,
  parseBegin,
  parseEnvironment,
  renderReleaseReport,
  renderReleaseSummary,
  rolloutOf,
  setsOf,
} from "../../.dagger/src/release-flow.js";
import { rolloutCommand } from "../../.dagger/src/release-cli.js";
import type { ReleaseData, ResolvedEnvironment } from "../../.dagger/src/release-flow.js";
import { parseFlags } from "../../pipelines/src/cli/command.js";
import { loadCommands } from "../../pipelines/src/cli/commands.js";
import { parseImageExpectation } from "../../pipelines/src/rollout/images.js";

async function accepted(argv: string[]): Promise<Record<string, unknown>> {
  const words = argv.slice(1);
  const commands = await loadCommands(words);
  const command = commands.find((c) => c.path.every((w, i) => words[i] === w));
  if (!command) throw new Error(`no command for ${words.join(" ")}`);
  return parseFlags(command, words.slice(command.path.length)).values;
}

const ENV: ResolvedEnvironment = {
  name: "dev",
  gitops: { repository: "https://git.example.com/gitops.git", branch: "main", path: "clusters/dev" },
  ledger: ".slipway/ledger/dev.json",
  registry: "myacr.azurecr.io",
  identity: {},
  kubernetes: { namespace: "shop", selector: null, deployments: ["api"], fluxKustomization: null, fluxHelmRelease: null, reconcile: false, argocdApplication: null, timeout: null },
  migrate: [{ service: "api", dataSource: null }],
  promoteFrom: null,
};

describe(".dagger/src/release-flow", () => {
  it("builds argv the CLI's own command definitions accept", async () => {
    expect(await accepted(envShowCommand("dev"))).toEqual({ env: "dev", json: true });
    const begin = beginCommand({
      environment: "prod",
      sourceSha: "a".repeat(40),
      set: [`myacr.azurecr.io/shop/api=sha-aaaaaaaaaaaa@sha256:${"b".repeat(64)}`],
      migrated: [{ service: "api", file: "/tmp/m.json" }],
      promotedFrom: "staging:4",
    });
    expect(await accepted(begin)).toEqual({
      env: "prod",
      "source-sha": "a".repeat(40),
      set: [`myacr.azurecr.io/shop/api=sha-aaaaaaaaaaaa@sha256:${"b".repeat(64)}`],
      migrated: ["api=/tmp/m.json"],
      "promoted-from": "staging:4",
      json: true,
    });
    expect(await accepted(candidateCommand("prod", "staging", "4"))).toEqual({ env: "prod", from: "staging", id: "4", json: true });
    expect(await accepted(envRollbackCommand("prod"))).toEqual({ env: "prod", json: true });
    expect(await accepted(envMarkCommand("prod", "4", "verified"))).toEqual({ env: "prod", id: "4", status: "verified", json: true });
    expect(() => beginCommand({ environment: "dev", sourceSha: "a".repeat(40), set: [] })).toThrow(/at least one image/);
  });

  it("an Argo CD environment with argocdSync: verify requests the sync of the GitOps commit (flags the real CLI accepts)", async () => {
    const set = `myacr.azurecr.io/shop/api=sha-1@sha256:${"d".repeat(64)}`;
    const argo = { ...ENV, kubernetes: { ...ENV.kubernetes, argocdApplication: "argocd/shop", argocdSync: true } };
    expect(await accepted(rolloutCommand(rolloutOf(argo, [set], "e".repeat(40))))).toMatchObject({ "argocd-app": "argocd/shop", "argocd-sync": true, revision: "e".repeat(40) });
    const refreshOnly = await accepted(rolloutCommand(rolloutOf({ ...argo, kubernetes: { ...argo.kubernetes, argocdSync: false } }, [set], "e".repeat(40))));
    expect(refreshOnly["argocd-sync"]).toBeUndefined();
  });

  it("reads IMAGE=TAG@DIGEST from publish's refs, and refuses a ref without a tag", () => {
    const digest = `sha256:${"c".repeat(64)}`;
    expect(setsOf([{ refs: ["slipwaytest.azurecr.io:5000/shop/api:sha-1a2b3c4d5e6f", "slipwaytest.azurecr.io:5000/shop/api:1.2.0"], digest }])).toEqual([
      `slipwaytest.azurecr.io:5000/shop/api=sha-1a2b3c4d5e6f@${digest}`,
    ]);
    expect(() => setsOf([{ refs: ["slipwaytest.azurecr.io:5000/shop/api"], digest }])).toThrow(/has no tag/);
    // rollout verify checks the digest itself, and accepts that form (parsed by its own parser).
    const expected = expectationsOf([`slipwaytest.azurecr.io:5000/shop/api=sha-1a2b3c4d5e6f@${digest}`, "api=1.2.0"]);
    expect(expected).toEqual([`slipwaytest.azurecr.io:5000/shop/api=${digest}`, "api=1.2.0"]);
    expect(expected.map(parseImageExpectation)).toEqual([{ image: "slipwaytest.azurecr.io:5000/shop/api", tag: digest }, { image: "api", tag: "1.2.0" }]);
  });

  it("reads the environment and the begin output strictly; names a missing Secret", () => {
    expect(parseEnvironment(["slipway", "env", "show"], JSON.stringify(ENV))).toEqual(ENV);
    expect(() => parseEnvironment(["slipway", "env", "show"], JSON.stringify({ ...ENV, gitops: { path: "x" } }))).toThrow(/gitops: expected \{ repository, branch, path \}/);
    expect(() => parseBegin(["slipway", "release", "begin"], JSON.stringify({ entry: { id: "1" }, commit: "abc" }))).toThrow(/commit: expected a full commit SHA/);
    expect(missingSecrets(ENV, { databaseUrls: false })).toEqual(["databaseUrls: environment dev migrates api (a Secret with one SERVICE=URL line each)"]);
    expect(missingSecrets(ENV, { databaseUrls: true })).toEqual([]);
    expect(missingSecrets({ ...ENV, migrate: [] }, { databaseUrls: false })).toEqual([]);
  });

  it("puts the verdict first in the summary, then steps, failure, rollback and unreleased images", () => {
    const data: ReleaseData = {
      kind: "release",
      environment: "dev",
      status: "rolled-back",
      sourceSha: "a".repeat(40),
      ledgerId: "2",
      gitopsCommit: "b".repeat(40),
      images: ["myacr.azurecr.io/shop/api=sha-aaaaaaaaaaaa@sha256:" + "c".repeat(64)],
      promotedFrom: "",
      steps: [
        { step: "publish", status: "passed", detail: "api pushed" },
        { step: "verify", status: "failed", detail: "verdict failed | CrashLoopBackOff" },
      ],
      failure: "rollout failed: CrashLoopBackOff",
      rollback: "rolled back to release 1",
      unreleasedImages: [],
    };
    const summary = renderReleaseSummary(data);
    expect(summary.split("\n")[0]).toBe("release to dev: ROLLED-BACK (ledger release 2)");
    expect(summary).toContain("| verify | failed | verdict failed \\| CrashLoopBackOff |");
    expect(summary).toContain("failure:\nrollout failed: CrashLoopBackOff");
    expect(summary).toContain("rollback:\nrolled back to release 1");
    expect(renderReleaseSummary({ ...data, status: "verified", failure: "", rollback: "" }).split("\n")[0]).toBe("release to dev: verified (ledger release 2, GitOps commit bbbbbbbbbbbb)");
    expect(renderReleaseSummary({ ...data, status: "failed", ledgerId: "", unreleasedImages: ["x=y@z"] })).toContain("pushed but not released (no GitOps commit references them):\n- x=y@z");
    expect(JSON.parse(renderReleaseReport(data))).toEqual({ version: 1, ...data });
  });
});
