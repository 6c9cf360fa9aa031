// Environments in slipway.yaml and the release ledger that knows them (issue 11), against real bare
// remotes: `release begin` (bump + pending entry in ONE commit), two releases of one environment at once,
// a prod rollback that never touches dev's folder, promotion candidates, the gate rule, old ledgers.
import { writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../../pipelines/src/config/load.js";
import { cli, cliProcess } from "../../helpers/cli.js";
import { thrown } from "../../helpers/errors.js";
import { remoteFile, remoteLog, remoteTip, useScratch } from "../../helpers/gitops-remote.js";
import { git } from "../../helpers/repo.js";
import { startGitHttpServer } from "../gitops/git-http.js";

const { tmp, bareRemote } = useScratch();

const REG = "myacr.azurecr.io/shop";
const digest = (c: string): string => `sha256:${c.repeat(64)}`;
const SHA = (c: string): string => c.repeat(40);

function deployment(name: string, ref: string): string {
  return [
    "apiVersion: apps/v1",
    "kind: Deployment",
    `metadata: { name: ${name} }`,
    "spec:",
    "  template:",
    "    spec:",
    "      containers:",
    `        - name: ${name}`,
    `          image: ${REG}/${name}:${ref}`,
    "",
  ].join("\n");
}

/** dev and prod share one GitOps repository, each in its own folder, both running release 1's images. */
function gitopsFiles(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const env of ["dev", "staging", "prod"]) {
    files[`clusters/${env}/api.yaml`] = deployment("api", `1.0.0@${digest("a")}`);
    files[`clusters/${env}/worker.yaml`] = deployment("worker", `1.0.0@${digest("d")}`);
  }
  return files;
}

function config(bare: string): string {
  return [
    "gitops:",
    `  repository: ${bare}`,
    "  branch: main",
    "publish:",
    "  registry: myacr.azurecr.io",
    "  repositoryPrefix: shop",
    "environments:",
    "  dev:",
    "    gitops: { path: clusters/dev }",
    "    kubernetes: { namespace: shop-dev, selector: app.kubernetes.io/part-of=shop, flux: { kustomization: flux-system/dev } }",
    "    migrate: [api]",
    "  staging:",
    "    gitops: { path: clusters/staging }",
    "    kubernetes: { namespace: shop, deployments: [api, worker], argocd: { application: argocd/shop-staging, sync: true } }",
    "    promoteFrom: dev",
    "  prod:",
    "    gitops: { path: clusters/prod }",
    "    kubernetes: { namespace: shop, selector: app.kubernetes.io/part-of=shop, flux: { kustomization: flux-system/prod } }",
    "    promoteFrom: staging",
    "",
  ].join("\n");
}

const sets = (n: string, api: string, worker: string) => [`${REG}/api=${n}@${digest(api)}`, `${REG}/worker=${n}@${digest(worker)}`].flatMap((s) => ["--set", s]);

function setup(): { bare: string; cwd: string } {
  const bare = bareRemote(gitopsFiles());
  const cwd = tmp("slipway-env-");
  writeFileSync(join(cwd, "slipway.yaml"), config(bare));
  return { bare, cwd };
}

async function ok(argv: string[], cwd: string): Promise<string> {
  const r = await cli(argv, cwd);
  expect(r.stderr, r.stderr).not.toContain("SLIPWAY_");
  expect(r.code).toBe(0);
  return r.stdout;
}

type Ledger = { environment: string; entries: Array<Record<string, unknown> & { id: string; status: string; history?: Array<{ status: string }> }> };
const ledgerOf = (bare: string, env: string) => JSON.parse(remoteFile(bare, `.slipway/ledger/${env}.json`)) as Ledger;

describe("slipway.yaml environments", () => {
  it("reports every problem at once: shared or nested folders, unknown/self/circular promoteFrom, bad names, no workloads", () => {
    const text = [
      "environments:",
      "  dev:",
      "    gitops: { path: clusters/dev }",
      "    kubernetes: { namespace: shop }",
      "  qa:",
      "    gitops: { path: ./clusters/dev/ }",
      "    kubernetes: { namespace: shop, selector: a=b }",
      "    promoteFrom: qa",
      "  staging:",
      "    gitops: { path: clusters }",
      "    kubernetes: { namespace: shop, selector: a=b }",
      "    promoteFrom: prod",
      "  prod:",
      "    gitops: { path: clusters/prod, repository: https://example.com/other.git }",
      "    kubernetes: { namespace: shop, selector: a=b, flux: { kustomization: flux-system/prod }, argocd: { application: argocd/prod } }",
      "    promoteFrom: staging",
      "  Prod_EU:",
      "    gitops: { path: clusters/eu }",
      "    kubernetes: { namespace: shop, selector: a=b }",
      "    promoteFrom: uat",
      "",
    ].join("\n");
    const error = thrown(() => parseConfig(text, "slipway.yaml"));
    expect(error.code).toBe("SLIPWAY_CONFIG_INVALID");
    const details = error.details.join("\n");
    expect(details).toContain("environments.dev.kubernetes: give `selector` or `deployments`: which workloads prove the release");
    expect(details).toContain(`environments.qa.gitops.path: "./clusters/dev/" overlaps environment "dev"'s folder "clusters/dev"`);
    expect(details).toContain("environments.qa.promoteFrom: an environment cannot promote from itself");
    // `clusters` contains dev's folder: a bump of staging would rewrite dev.
    expect(details).toContain(`environments.staging.gitops.path: "clusters" overlaps environment "dev"'s folder`);
    expect(details).toContain("environments.prod.kubernetes: set either `flux` or `argocd`, not both");
    expect(details).toContain("promotion goes round in a circle: staging <- prod <- staging");
    expect(details).toContain("environments.Prod_EU: an environment name: lowercase letters, digits and '-'");
    // A folder in another repository does not overlap.
    expect(details).not.toContain(`environments.prod.gitops.path`);
  });

  it("env show applies the defaults: repository and branch from gitops, registry from publish, ledger path", async () => {
    const { bare, cwd } = setup();
    const shown = JSON.parse(await ok(["env", "show", "--env", "prod", "--json"], cwd)) as Record<string, unknown>;
    expect(shown).toMatchObject({
      name: "prod",
      gitops: { repository: bare, branch: "main", path: "clusters/prod" },
      ledger: ".slipway/ledger/prod.json",
      registry: "myacr.azurecr.io",
      kubernetes: { namespace: "shop", selector: "app.kubernetes.io/part-of=shop", fluxKustomization: "flux-system/prod", argocdApplication: null },
      migrate: [],
      promoteFrom: "staging",
    });
    expect(JSON.parse(await ok(["env", "show", "--env", "dev", "--json"], cwd))).toMatchObject({ migrate: [{ service: "api", dataSource: null }] });
    // Argo CD without automated sync: the release's verify requests the sync (rollout verify --argocd-sync).
    expect(JSON.parse(await ok(["env", "show", "--env", "staging", "--json"], cwd))).toMatchObject({ kubernetes: { argocdApplication: "argocd/shop-staging", argocdSync: true } });
    expect(shown.kubernetes).toMatchObject({ argocdSync: false });
    const unknown = await cli(["env", "show", "--env", "qa"], cwd);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(`SLIPWAY_ENV_UNKNOWN: environment "qa" is not in slipway.yaml`);
    expect(unknown.stderr).toContain("Environments: dev, staging, prod.");
  });
});

describe("release begin: one commit for the bump and the pending ledger entry, in the environment's folder only", () => {
  it("bumps dev's folder and records the release in dev's ledger in one commit; prod's folder and ledger are untouched", async () => {
    const { bare, cwd } = setup();
    const before = remoteTip(bare);
    const out = JSON.parse(await ok(["release", "begin", "--env", "dev", "--source-sha", SHA("b"), ...sets("2.0.0", "b", "e"), "--json"], cwd)) as {
      entry: { id: string; status: string; gitopsCommit: string };
      commit: string;
    };
    expect(remoteLog(bare)).toHaveLength(2);
    expect(out.commit).toBe(remoteTip(bare));
    expect(git(bare, "diff", "--name-only", before, "main").trim().split("\n").sort()).toEqual([".slipway/ledger/dev.json", "clusters/dev/api.yaml", "clusters/dev/worker.yaml"]);
    expect(remoteFile(bare, "clusters/dev/api.yaml")).toContain(`${REG}/api:2.0.0@${digest("b")}`);
    expect(remoteFile(bare, "clusters/prod/api.yaml")).toContain(`${REG}/api:1.0.0@${digest("a")}`);
    const dev = ledgerOf(bare, "dev");
    expect(dev.entries).toHaveLength(1);
    expect(dev.entries[0]).toMatchObject({ id: "1", status: "pending", path: "clusters/dev", sourceSha: SHA("b") });
    expect(dev.entries[0]?.history?.map((h) => h.status)).toEqual(["pending"]);
    expect(out.entry).toMatchObject({ id: "1", status: "pending", gitopsCommit: out.commit });
    // Marked through the environment: repository and branch come from slipway.yaml.
    await ok(["ledger", "mark", "--env", "dev", "--id", "1", "--status", "verified"], cwd);
    expect(ledgerOf(bare, "dev").entries[0]?.history?.map((h) => h.status)).toEqual(["pending", "verified"]);
  });

  it("a prod rollback without --path rewrites prod's folder only; --path into dev's folder is refused", async () => {
    const { bare, cwd } = setup();
    // prod: release 1 verified, release 2 failed (both through begin + mark).
    await ok(["release", "begin", "--env", "prod", "--source-sha", SHA("a"), ...sets("1.0.0", "a", "d")], cwd);
    await ok(["ledger", "mark", "--env", "prod", "--id", "1", "--status", "verified"], cwd);
    await ok(["release", "begin", "--env", "prod", "--source-sha", SHA("b"), ...sets("2.0.0", "b", "e")], cwd);
    await ok(["ledger", "mark", "--env", "prod", "--id", "2", "--status", "failed"], cwd);
    // dev moved on to release 3 meanwhile.
    await ok(["release", "begin", "--env", "dev", "--source-sha", SHA("c"), ...sets("3.0.0", "c", "f")], cwd);
    const before = remoteTip(bare);

    const outside = await cli(["rollback", "--env", "prod", "--path", "clusters/dev"], cwd);
    expect(outside.code).toBe(2);
    expect(outside.stderr).toContain(`SLIPWAY_ENV_PATH_OUTSIDE: --path "clusters/dev" is outside environment "prod"'s folder "clusters/prod"`);
    expect(remoteTip(bare)).toBe(before);

    await ok(["rollback", "--env", "prod"], cwd);
    expect(git(bare, "diff", "--name-only", before, "main").trim().split("\n").sort()).toEqual([".slipway/ledger/prod.json", "clusters/prod/api.yaml", "clusters/prod/worker.yaml"]);
    expect(remoteFile(bare, "clusters/prod/api.yaml")).toContain(`${REG}/api:1.0.0@${digest("a")}`);
    expect(remoteFile(bare, "clusters/dev/api.yaml")).toContain(`${REG}/api:3.0.0@${digest("c")}`);
    expect(ledgerOf(bare, "prod").entries.map((e) => [e.id, e.status, e.path])).toEqual([
      ["1", "verified", "clusters/prod"],
      ["2", "rolled-back", "clusters/prod"],
      ["3", "pending", "clusters/prod"],
    ]);
  });

  it("over smart HTTP with a token: begin run twice records the release once (the second finds its own entry), no second commit", async () => {
    const bare = bareRemote(gitopsFiles());
    const server = await startGitHttpServer(dirname(bare), "x-access-token", "Tok3n-release");
    try {
      const cwd = tmp("slipway-env-");
      writeFileSync(join(cwd, "slipway.yaml"), config(`${server.url}/${basename(bare)}`));
      const env = { ...process.env, SLIPWAY_GIT_TOKEN: "Tok3n-release" };
      const argv = ["release", "begin", "--env", "dev", "--source-sha", SHA("b"), ...sets("2.0.0", "b", "e"), "--json"];
      const first = await cli(argv, cwd, env);
      expect(first.code, first.stderr).toBe(0);
      const tipAfterFirst = remoteTip(bare);
      const second = await cli([...argv, "--wait", "1s"], cwd, env);
      expect(second.code, second.stderr).toBe(0);
      const [a, b] = [first, second].map((r) => JSON.parse(r.stdout) as { entry: { id: string }; commit: string; pushed: boolean });
      expect(b).toMatchObject({ entry: { id: a?.entry.id }, commit: tipAfterFirst, pushed: false });
      expect(remoteTip(bare)).toBe(tipAfterFirst);
      expect(ledgerOf(bare, "dev").entries).toHaveLength(1);
      expect(first.stderr + second.stderr).not.toContain("Tok3n-release");
    } finally {
      await server.close();
    }
  });

  it("a second release while one is pending waits (--wait) and then fails SLIPWAY_RELEASE_IN_PROGRESS, exit 3, nothing written", async () => {
    const { bare, cwd } = setup();
    await ok(["release", "begin", "--env", "dev", "--source-sha", SHA("b"), ...sets("2.0.0", "b", "e")], cwd);
    const before = remoteTip(bare);
    const second = await cli(["release", "begin", "--env", "dev", "--source-sha", SHA("c"), ...sets("3.0.0", "c", "f"), "--wait", "1s"], cwd);
    expect(second.code).toBe(3);
    expect(second.stderr).toContain(`SLIPWAY_RELEASE_IN_PROGRESS: another release of dev is in progress: release "1" (source bbbbbbbbbbbb) has been pending since`);
    expect(second.stderr).toContain("slipway ledger mark --env dev --id 1 --status failed");
    expect(remoteTip(bare)).toBe(before);
    // Another environment is not blocked; a stale pending release (--stale-after) no longer blocks.
    await ok(["release", "begin", "--env", "prod", "--source-sha", SHA("c"), ...sets("3.0.0", "c", "f")], cwd);
    await new Promise((r) => setTimeout(r, 1100));
    await ok(["release", "begin", "--env", "dev", "--source-sha", SHA("c"), ...sets("3.0.0", "c", "f"), "--stale-after", "1s"], cwd);
    expect(ledgerOf(bare, "dev").entries.map((e) => e.id)).toEqual(["1", "2"]);
  });

  it("two releases of one environment started together: one is recorded, the other waits and fails; never interleaved", { timeout: 120_000 }, async () => {
    const { bare, cwd } = setup();
    const [a, b] = await Promise.all([
      cliProcess(["release", "begin", "--env", "dev", "--source-sha", SHA("b"), ...sets("2.0.0", "b", "e"), "--wait", "3s"], cwd),
      cliProcess(["release", "begin", "--env", "dev", "--source-sha", SHA("c"), ...sets("3.0.0", "c", "f"), "--wait", "3s"], cwd),
    ]);
    expect([a.code, b.code].sort(), a.stderr + b.stderr).toEqual([0, 3]);
    const loser = a.code === 3 ? a : b;
    expect(loser.stderr).toContain("SLIPWAY_RELEASE_IN_PROGRESS");
    const dev = ledgerOf(bare, "dev");
    expect(dev.entries).toHaveLength(1);
    // The folder carries exactly the winner's images.
    const winner = dev.entries[0] as unknown as { images: Array<{ tag: string }> };
    expect(remoteFile(bare, "clusters/dev/api.yaml")).toContain(`:${winner.images[0]?.tag}@`);
    expect(remoteLog(bare)).toHaveLength(2);
  });

  it("a release whose gate failed is refused before anything is written, and a recorded one can never be marked verified", async () => {
    const { bare, cwd } = setup();
    const gate = join(cwd, "gate.json");
    writeFileSync(gate, JSON.stringify({ passed: false, counts: { image: { critical: 1 } }, failing: [{ id: "CVE-2026-0001" }] }));
    const before = remoteTip(bare);
    const refused = await cli(["release", "begin", "--env", "dev", "--source-sha", SHA("b"), ...sets("2.0.0", "b", "e"), "--scan", gate], cwd);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("SLIPWAY_RELEASE_GATE_FAILED");
    expect(remoteTip(bare)).toBe(before);
    // Recorded by hand (ledger record) with the failing gate: mark verified is refused, failed works.
    await ok(["ledger", "record", "--env", "dev", "--source-sha", SHA("b"), ...sets("2.0.0", "b", "e"), "--scan", gate, "--status", "pending"], cwd);
    const mark = await cli(["ledger", "mark", "--env", "dev", "--id", "1", "--status", "verified"], cwd);
    expect(mark.code).toBe(2);
    expect(mark.stderr).toContain(`SLIPWAY_RELEASE_GATE_FAILED: release "1" of dev failed its security gate: it can never be verified`);
    await ok(["ledger", "mark", "--env", "dev", "--id", "1", "--status", "failed"], cwd);
  });

  it("release candidate names the newest release verified in promoteFrom, by digest; refuses an unverified --id", async () => {
    const { cwd } = setup();
    await ok(["release", "begin", "--env", "staging", "--source-sha", SHA("b"), ...sets("2.0.0", "b", "e")], cwd);
    await ok(["ledger", "mark", "--env", "staging", "--id", "1", "--status", "verified"], cwd);
    await ok(["release", "begin", "--env", "staging", "--source-sha", SHA("c"), ...sets("3.0.0", "c", "f")], cwd);
    await ok(["ledger", "mark", "--env", "staging", "--id", "2", "--status", "failed"], cwd);
    const candidate = JSON.parse(await ok(["release", "candidate", "--env", "prod", "--json"], cwd)) as { from: string; entry: { id: string }; sets: string[] };
    expect(candidate.from).toBe("staging");
    expect(candidate.entry.id).toBe("1");
    expect(candidate.sets).toEqual([`${REG}/api=2.0.0@${digest("b")}`, `${REG}/worker=2.0.0@${digest("e")}`]);
    const unverified = await cli(["release", "candidate", "--env", "prod", "--id", "2"], cwd);
    expect(unverified.code).toBe(2);
    expect(unverified.stderr).toContain(`SLIPWAY_LEDGER_NOT_VERIFIED: release "2" of staging is failed`);
    // --source-sha: the release a pipeline run made, and only if it was verified.
    expect((JSON.parse(await ok(["release", "candidate", "--env", "prod", "--source-sha", SHA("b"), "--json"], cwd)) as { entry: { id: string } }).entry.id).toBe("1");
    const failedSha = await cli(["release", "candidate", "--env", "prod", "--source-sha", SHA("c")], cwd);
    expect(failedSha.code).toBe(2);
    expect(failedSha.stderr).toContain("SLIPWAY_PROMOTE_NOT_VERIFIED: no release of cccccccccccc is verified in staging: refusing to promote it");
    const noSource = await cli(["release", "candidate", "--env", "dev"], cwd);
    expect(noSource.code).toBe(2);
    expect(noSource.stderr).toContain(`environment "dev" has no promoteFrom in slipway.yaml: give --from ENV`);
  });

  it("an old ledger (no path, no history) is read, marked and rolled back", async () => {
    const files = gitopsFiles();
    files[".slipway/ledger/prod.json"] = `${JSON.stringify(
      {
        version: 1,
        environment: "prod",
        entries: [
          { id: "1", sourceSha: SHA("a"), images: [{ image: `${REG}/api`, tag: "1.0.0", digest: digest("a") }], status: "verified", at: "2026-01-01T00:00:00.000Z" },
          { id: "2", sourceSha: SHA("b"), images: [{ image: `${REG}/api`, tag: "2.0.0", digest: digest("b") }], status: "pending", at: "2026-01-02T00:00:00.000Z" },
        ],
      },
      null,
      2,
    )}\n`;
    const bare = bareRemote(files);
    const cwd = tmp("slipway-env-");
    writeFileSync(join(cwd, "slipway.yaml"), config(bare));
    await ok(["ledger", "mark", "--env", "prod", "--id", "2", "--status", "failed"], cwd);
    const marked = ledgerOf(bare, "prod").entries[1];
    expect(marked?.history).toEqual([{ status: "pending", at: "2026-01-02T00:00:00.000Z" }, { status: "failed", at: expect.any(String) }]);
    await ok(["rollback", "--env", "prod"], cwd);
    expect(ledgerOf(bare, "prod").entries.map((e) => e.status)).toEqual(["verified", "rolled-back", "pending"]);
  });
});
