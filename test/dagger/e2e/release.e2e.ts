// `release` and `promote` end to end (issue 11): the module through the real SDK against the Dagger API
// stand-in, with every component a release touches running for real or as a protocol stand-in:
// - publish: the Entra ID and ACR stand-ins in front of the real Debian docker-registry (test/pipelines/acr world);
// - GitOps: a real git server over HTTPS (git http-backend, Basic auth with a canary token) holding dev's
//   and prod's folders and the ledgers;
// - Kubernetes: the API stand-in over TLS with a canary bearer token; a small "GitOps controller" here
//   applies whatever image the folder of an environment names to that environment's Deployment, as Flux
//   would, and the kubelet runs it: healthy, or crash-looping for the image of the bad commit.
// - the database: embedded PostgreSQL; dev migrates the service with its own TypeORM (CommonJS DataSource),
//   the URL in the databaseUrls Secret (SERVICE=URL lines) whose password is a canary.
// One application repository goes through a team's path: release 1 to dev (its migration applied,
// verified), release 2 to dev (a new migration, pods crash loop: rolled back by itself, the new migration
// reverted), promote dev's verified release to prod (by digest, not rebuilt; prod migrates nothing).
// Not covered here (tested on the host with real git and processes instead): two releases of one
// environment at once.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { ContainerRegistryContentClient } from "@azure/container-registry";
import type { TokenCredential } from "@azure/identity";
import { dag } from "@dagger.io/dagger";
import type { Secret } from "@dagger.io/dagger";
import { git, removeTree, tempRepo, tempTree } from "../../helpers/repo.js";
import { CLIENT, startWorld as startAcrWorld, TENANT } from "../../pipelines/acr/world.js";
import { migrationsRows, startPostgres } from "../../pipelines/migrate/postgres.js";
import type { TestServer } from "../../pipelines/migrate/postgres.js";
import type { World as AcrWorld } from "../../pipelines/acr/world.js";
import { startGitHttpServer } from "../../pipelines/gitops/git-http.js";
import type { GitHttpServer } from "../../pipelines/gitops/git-http.js";
import { FakeCluster } from "../../standins/kubernetes/cluster.js";
import { startKubeStandin } from "../../standins/kubernetes/server.js";
import type { KubeStandin } from "../../standins/kubernetes/server.js";
import type { Release } from "../../../.dagger/src/index.js";
import type { E2E } from "./context.js";
import { BASE_IMAGE, canary, inSession, rejection, REPO_ROOT } from "./world.js";
import { payloadErrors, receiver } from "../../pipelines/notify/receiver.js";

const ENVS = ["dev", "prod"] as const;
/** The test registry behind the ACR stand-in allows anonymous pulls: the SDK never asks this credential. */
const ANONYMOUS: TokenCredential = { getToken: () => Promise.reject(new Error("no token expected")) };
type EnvName = (typeof ENVS)[number];

/** The service's migrations, as CommonJS classes (what `tsc` emits for a CommonJS service). */
function migrations(withNote: boolean): string {
  const first = `class CreateItems1795305600000 {
  constructor() { this.name = "CreateItems1795305600000"; }
  async up(q) { await q.query("CREATE TABLE items (id serial PRIMARY KEY, label text NOT NULL)"); }
  async down(q) { await q.query("DROP TABLE items"); }
}`;
  const second = `class AddItemNote1795309200000 {
  constructor() { this.name = "AddItemNote1795309200000"; }
  async up(q) { await q.query("ALTER TABLE items ADD COLUMN note text"); }
  async down(q) { await q.query("ALTER TABLE items DROP COLUMN note"); }
}`;
  return `"use strict";\n${first}\n${withNote ? `${second}\n` : ""}module.exports = { migrations: [CreateItems1795305600000${withNote ? ", AddItemNote1795309200000" : ""}] };\n`;
}

const DATA_SOURCE = `"use strict";
const { DataSource } = require("typeorm");
const { migrations } = require("./migrations.cjs");
exports.AppDataSource = new DataSource({ type: "postgres", url: process.env.DATABASE_URL, migrations, migrationsTableName: "migrations", connectTimeoutMS: 10000 });
`;

/** The versions this repository already uses (its lockfile): the engine's npm cache volume has them. */
const dependency = (name: string): string => (JSON.parse(readFileSync(join(REPO_ROOT, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;

function deployment(image: string): string {
  return ["apiVersion: apps/v1", "kind: Deployment", "metadata:", "  name: svc", "spec:", "  template:", "    spec:", "      containers:", "        - name: app", `          image: ${image}`, ""].join("\n");
}

type Ledger = { entries: Array<{ id: string; status: string; path?: string; restoredFrom?: string; migrated?: unknown; promotedFrom?: { environment: string; id: string }; images: Array<{ image: string; tag: string; digest: string }>; history?: Array<{ status: string }> }> };

export function releaseSuite(e2e: E2E): void {
  describe("release and promote through the stand-in", () => {
    let acr: AcrWorld;
    let server: GitHttpServer;
    let gitopsDir: string;
    let bare: string;
    let app: string;
    let kube: KubeStandin;
    let kubeconfigText: string;
    const clusters = new Map<EnvName, FakeCluster>();
    const gitToken = canary("release-git-token");
    const kubeToken = canary("release-kube-token");
    const requestToken = canary("release-gh-request-token");
    /** Images whose pods crash (the bad commit's). */
    const crashing = new Set<string>();
    let controller: NodeJS.Timeout | undefined;
    let image = "";
    const copies: string[] = [];
    let pg: TestServer;
    const dbPassword = canary("release-db-password");
    /** Slack and Teams (issue 17): a local receiver validating the payloads; the webhook paths carry a canary. */
    let hooks: Awaited<ReturnType<typeof receiver>>;
    const hookCanary = canary("release-webhook");
    const slack = () => secret("slack-webhook", `${hooks.base}/services/T0/B0/${hookCanary}`);
    const teams = () => secret("teams-webhook", `${hooks.base}/workflows/1/invoke?sig=${hookCanary}`);
    const posted = () => hooks.received.splice(0).map((h) => ({ kind: h.url.startsWith("/services/") ? ("slack" as const) : ("teams" as const), body: h.body, text: JSON.stringify(h.body) }));
    let databaseUrls = "";
    let admin = "";
    const rows = async () => (await migrationsRows(pg, admin)).map((row) => row.split(" ")[2]);
    const columns = async () =>
      (await pg.query<{ c: string }>(admin, "SELECT column_name AS c FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'items' ORDER BY ordinal_position")).map((r) => r.c);

    const secret = (name: string, value: string): Secret => dag.setSecret(name, value);
    const ledger = (env: EnvName): Ledger => JSON.parse(git(bare, "show", `main:.slipway/ledger/${env}.json`)) as Ledger;
    const manifest = (env: EnvName): string => git(bare, "show", `main:clusters/${env}/svc.yaml`);
    const tip = (): string => git(bare, "rev-parse", "main").trim();

    /**
     * Flux and the kubelet, in small: every 200 ms, each environment's Deployment takes the image its folder
     * names at the branch tip; a new image rolls out (new ReplicaSet, pods) healthy, or crash-looping.
     */
    function startController(): void {
      const applied = new Map<EnvName, string>();
      controller = setInterval(() => {
        for (const env of ENVS) {
          let wanted: string | undefined;
          try {
            wanted = /image: (\S+)/.exec(manifest(env))?.[1];
          } catch {
            continue;
          }
          const cluster = clusters.get(env);
          if (!wanted || !cluster || applied.get(env) === wanted) continue;
          applied.set(env, wanted);
          cluster.applyImage("svc", wanted);
          const rs = cluster.observe("svc");
          if (crashing.has(wanted.split("@")[0] as string)) {
            cluster.setStatus("svc", { replicas: 2, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1 });
            const pod = cluster.createPod(rs, 0, { state: { running: true, ready: false } });
            cluster.log(pod, ["listening on :8080", "Error: SVC_MODE is not set"], true);
            cluster.setPod(pod, { state: { waiting: "CrashLoopBackOff", message: `back-off 10s restarting failed container=app pod=${pod}` }, restartCount: 1, lastTerminated: { reason: "Error", exitCode: 1 } });
          } else {
            cluster.createPod(rs, 0, { state: { running: true, ready: true } });
            cluster.retireOldReplicaSets("svc");
            cluster.setStatus("svc", { replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1 }, "NewReplicaSetAvailable");
          }
        }
      }, 200);
    }

    beforeAll(async () => {
      acr = await startAcrWorld({ githubRequestToken: requestToken });
      hooks = await receiver((_req, res) => res.writeHead(200, { "content-type": "text/plain" }).end("ok"));
      pg = await startPostgres();
      const server0 = `postgres://postgres:${encodeURIComponent(pg.password)}@127.0.0.1:${pg.port}`;
      await pg.query(`${server0}/postgres`, `CREATE ROLE shop_svc LOGIN PASSWORD '${dbPassword}'`);
      await pg.query(`${server0}/postgres`, "CREATE DATABASE shop_dev OWNER shop_svc");
      admin = `${server0}/shop_dev`;
      databaseUrls = `# dev\nsvc=postgres://shop_svc:${dbPassword}@127.0.0.1:${pg.port}/shop_dev\n`;
      image = `${acr.azure.registry}/shop/svc`;
      // The GitOps repository: dev's and prod's folders run the image of an older release.
      const initial = `${image}:sha-000000000000@sha256:${"0".repeat(64)}`;
      gitopsDir = tempTree({});
      const work = tempRepo({ "clusters/dev/svc.yaml": deployment(initial), "clusters/prod/svc.yaml": deployment(initial) });
      bare = join(gitopsDir, "gitops.git");
      git(work, "clone", "-q", "--bare", work, bare);
      removeTree(work);
      server = await startGitHttpServer(dirname(bare), "x-access-token", gitToken, { tls: { cert: acr.tls.cert, key: acr.tls.key } });
      kube = await startKubeStandin({ token: kubeToken, tls: { cert: acr.tls.cert, key: acr.tls.key, ca: acr.tls.ca } });
      for (const env of ENVS) {
        const cluster = new FakeCluster(kube, `shop-${env}`);
        cluster.createRolledOut("svc", initial, { replicas: 1 });
        clusters.set(env, cluster);
      }
      const kubeDir = tempTree({});
      kubeconfigText = readFileSync(kube.writeKubeconfig(join(kubeDir, "kubeconfig"), { token: kubeToken }), "utf8");
      rmSync(kubeDir, { recursive: true, force: true });
      // The application: one service (no npm dependencies; its image is a layer on the base image) and
      // slipway.yaml with dev and prod. Identity ids only: the job's OIDC request token is a Secret.
      app = tempRepo({
        "package.json": JSON.stringify({ name: "shop", private: true, workspaces: ["services/*"] }, null, 2),
        "services/svc/package.json": JSON.stringify(
          { name: "svc", version: "1.0.0", private: true, dependencies: { pg: dependency("pg"), "reflect-metadata": dependency("reflect-metadata"), typeorm: dependency("typeorm") } },
          null,
          2,
        ),
        "services/svc/data-source.cjs": DATA_SOURCE,
        "services/svc/migrations.cjs": migrations(false),
        // The image carries the service's code and production dependencies: an on-demand rollback reverts
        // the migrations of an abandoned release with that release's image (its down() code).
        "services/svc/Dockerfile": [
          `FROM ${BASE_IMAGE}`,
          "WORKDIR /app",
          "COPY package.json package-lock.json ./",
          "COPY services/svc/package.json services/svc/",
          "RUN npm ci -w services/svc --omit=dev --ignore-scripts --no-audit --no-fund",
          "COPY services/svc/ services/svc/",
          "USER 10001:10001",
          "",
        ].join("\n"),
        "slipway.yaml": [
          "publish:",
          `  registry: ${acr.azure.registry}`,
          "  repositoryPrefix: shop",
          `  identity: { mode: github-oidc, tenantId: "${TENANT}", clientId: "${CLIENT}", authorityHost: "${acr.azure.authorityHost}" }`,
          "gitops:",
          `  repository: ${server.url}/gitops.git`,
          "  branch: main",
          "migrate:",
          "  services:",
          "    svc: { dataSource: services/svc/data-source.cjs }",
          "environments:",
          "  dev:",
          "    gitops: { path: clusters/dev }",
          "    kubernetes: { namespace: shop-dev, deployments: [svc], timeout: 2m }",
          "    migrate: [svc]",
          "    notify: { slack: { webhookEnv: SLACK_WEBHOOK_URL }, teams: { webhookEnv: TEAMS_WEBHOOK_URL }, on: [started, verified, failed, rolled-back] }",
          "  prod:",
          "    gitops: { path: clusters/prod }",
          "    kubernetes: { namespace: shop-prod, deployments: [svc], timeout: 2m }",
          "    promoteFrom: dev",
          "",
        ].join("\n"),
      });
      execFileSync("npm", ["install", "--package-lock-only", "--no-audit", "--no-fund", "--prefer-offline"], { cwd: app, stdio: "ignore" });
      git(app, "add", "-A");
      git(app, "commit", "-qm", "lockfile");
      startController();
    }, 120_000);

    afterAll(async () => {
      if (controller) clearInterval(controller);
      await server?.close();
      await kube?.close();
      await acr?.stop();
      await pg?.stop();
      await hooks?.close();
      for (const dir of [gitopsDir, app, ...copies]) if (dir) rmSync(dir, { recursive: true, force: true });
    });

    const slipway = () => e2e.slipway({ caCertificates: dag.host().directory(acr.tls.dir, { include: ["ca.pem"] }).file("ca.pem") });
    /** `release` as the GitHub Actions wrapper calls it: identity ids from slipway.yaml, the request token as a Secret. */
    /**
     * The application as a `dagger call` in a new session would see it now: the stand-in keeps one host
     * snapshot per path for its whole run (one session), so each call gets a fresh copy of the checkout.
     */
    const checkout = () => {
      const copy = tempTree({});
      cpSync(app, copy, { recursive: true });
      copies.push(copy);
      return e2e.source(copy);
    };
    const release = (env: string, extra: { databaseUrls?: string } = { databaseUrls }) =>
      inSession(async () => {
        const r: Release = await slipway().release(
          checkout(),
          env,
          secret("git-token", gitToken),
          secret("kubeconfig", kubeconfigText),
          extra.databaseUrls ? secret("database-urls", extra.databaseUrls) : undefined,
          undefined,
          undefined,
          false,
          acr.azure.githubRequestUrl,
          secret("oidc-request-token", requestToken),
          undefined,
          undefined,
          undefined,
          undefined,
          undefined,
          // The wrappers' notify arguments (issue 17): a workflow name with a comma, whole.
          slack(),
          teams(),
          "https://github.com/acme/shop/actions/runs/4242",
          ["GITHUB_ACTOR=octocat", "GITHUB_RUN_ID=4242"],
          "Release, then promote",
        );
        return { release: r, summary: e2e.look(r.summary()), report: e2e.look(await r.report().contents()) };
      });
    const headSha = () => git(app, "rev-parse", "HEAD").trim();

    it("release to dev: published, one GitOps commit in clusters/dev with the pending entry, verified; prod untouched", async () => {
      const before = tip();
      const { release: r, summary, report } = await release("dev");
      expect(r.status, summary).toBe("verified");
      expect(summary).toMatch(/^release to dev: verified \(ledger release 1, GitOps commit [0-9a-f]{12}\)/);
      const sha = headSha();
      expect(r.sourceSha).toBe(sha);
      expect(r.images).toHaveLength(1);
      expect(r.images[0]).toMatch(new RegExp(`^${image.replace(/[.]/g, "\\.")}=sha-${sha.slice(0, 12)}@sha256:[0-9a-f]{64}$`));
      // The GitOps commit: dev's folder and dev's ledger only, on top of the old tip.
      expect(git(bare, "diff", "--name-only", before, r.gitopsCommit).trim().split("\n").sort()).toEqual([".slipway/ledger/dev.json", "clusters/dev/svc.yaml"]);
      expect(manifest("dev")).toContain(r.images[0]?.replace("=", ":"));
      expect(manifest("prod")).toContain("sha-000000000000");
      const dev = ledger("dev");
      expect(dev.entries.map((e) => [e.id, e.status, e.path])).toEqual([["1", "verified", "clusters/dev"]]);
      expect(dev.entries[0]?.history?.map((h) => h.status)).toEqual(["pending", "verified"]);
      // The ledger's digest is what the registry holds under the tag.
      const digest = r.images[0]?.split("@")[1];
      expect(dev.entries[0]?.images[0]?.digest).toBe(digest);
      expect(JSON.parse(report)).toMatchObject({ version: 1, kind: "release", environment: "dev", status: "verified", ledgerId: "1" });
      expect(r.steps.filter((s) => s.step !== "notify").map((s) => `${s.step}:${s.status}`)).toEqual(["ci:passed", "publish:passed", "migrate:passed", "bump + ledger:passed", "verify:passed", "mark:passed"]);
      // The database: the service's migration applied by its own TypeORM; the ledger knows which, and the image that carries its down().
      expect(await rows()).toEqual(["CreateItems1795305600000"]);
      expect(dev.entries[0]).toMatchObject({ migrated: [{ service: "svc", applied: ["CreateItems1795305600000"], head: "CreateItems1795305600000", image: `${image}@${digest}` }] });
      for (const text of [summary, report]) expect(text).not.toContain(dbPassword);
      // The run reports as the wrappers export them (issue 17), rendered by the toolkit's CLI.
      const exported = await inSession(async () => {
        const dir = await r.reports();
        return { entries: await dir.entries(), run: await dir.file("run-report.json").contents(), md: await dir.file("report.md").contents(), html: await dir.file("report.html").contents() };
      });
      expect(exported.entries.sort()).toEqual(["junit.xml", "release-report.json", "report.html", "report.md", "report.sarif", "run-report.json"]);
      const run = JSON.parse(e2e.look(exported.run)) as { images: Array<{ tag: string; digest: string }>; gitops: { commit: string; ledgerId: string } };
      expect(run).toMatchObject({ schemaVersion: 1, kind: "release", outcome: "verified", environment: "dev", gitops: { commit: r.gitopsCommit, ledgerId: "1" } });
      expect(run.images.map((i) => `${i.tag}@${i.digest}`)).toEqual([`sha-${sha.slice(0, 12)}@${digest}`]);
      expect(e2e.look(exported.md)).toContain(digest);
      expect(e2e.look(exported.html)).toMatch(/^<!DOCTYPE html>/i);
      for (const text of [exported.run, exported.md, exported.html]) expect(text).not.toContain(dbPassword);
      // Notifications (issue 17): started before anything was written, verified at the end, each to Slack
      // and Teams with payloads valid by their schemas; reported as two notify steps; no canary anywhere.
      const posts = posted();
      for (const p of posts) expect(payloadErrors(p.kind, p.body)).toEqual([]);
      expect(posts.filter((p) => p.text.includes("release to dev: started"))).toHaveLength(2);
      expect(posts.filter((p) => p.text.includes(`release ${r.ledgerId} to dev: VERIFIED`))).toHaveLength(2);
      expect(posts.findIndex((p) => p.text.includes("started"))).toBeLessThan(posts.findIndex((p) => p.text.includes("VERIFIED")));
      expect(posts.map((p) => p.text).join("\n")).toContain("octocat via Release, then promote run 4242");
      expect(posts.map((p) => p.text).join("\n")).toContain(digest as string);
      expect(r.steps.filter((s) => s.step === "notify").map((s) => [s.status, s.detail])).toEqual([
        ["passed", "started: slack delivered, teams delivered"],
        ["passed", "verified: slack delivered, teams delivered"],
      ]);
      for (const text of [summary, report, exported.run, exported.md, exported.html]) expect(text).not.toContain(hookCanary);
    }, 20 * 60_000);

    it("a release whose pods crash loop is rolled back by itself: dev runs release 1's image again, verified; the release says both", async () => {
      const firstImage = /image: (\S+)/.exec(manifest("dev"))?.[1] as string;
      // Release 2: a new commit whose image crash-loops in the cluster (its dependencies unchanged: the
      // image's npm ci layer is release 1's).
      writeFileSync(join(app, "services/svc/migrations.cjs"), migrations(true));
      git(app, "commit", "-qam", "svc: items.note");
      crashing.add(`${image}:sha-${headSha().slice(0, 12)}`);

      const { release: r, summary } = await release("dev");
      expect(r.status, summary).toBe("rolled-back");
      expect(summary).toMatch(/^release to dev: ROLLED-BACK \(ledger release 2\)/);
      expect(r.failure).toMatch(/CrashLoopBackOff/);
      expect(r.failure).toContain("SLIPWAY_ROLLOUT_VERDICT=failed");
      expect(r.rollback).toContain("rolled back to release 1");
      expect(r.rollback).toContain("the restored release (3) is healthy and verified");
      // The database as release 1 left it: the new migration reverted with release 2's own code.
      expect(r.rollback).toContain("svc: reverted AddItemNote1795309200000");
      expect(await rows()).toEqual(["CreateItems1795305600000"]);
      expect(await columns()).toEqual(["id", "label"]);
      expect(ledger("dev").entries[1]).toMatchObject({ migrated: [{ service: "svc", applied: ["AddItemNote1795309200000"] }] });
      for (const text of [summary, r.failure, r.rollback]) expect(text).not.toContain(dbPassword);
      // Git: dev's folder holds release 1's image again; the ledger tells the story.
      expect(/image: (\S+)/.exec(manifest("dev"))?.[1]).toBe(firstImage);
      expect(ledger("dev").entries.map((e) => [e.id, e.status, e.restoredFrom])).toEqual([
        ["1", "verified", undefined],
        ["2", "rolled-back", undefined],
        ["3", "verified", "1"],
      ]);
      expect(ledger("dev").entries[1]?.history?.map((h) => h.status)).toEqual(["pending", "failed", "rolled-back"]);
      expect(manifest("prod")).toContain("sha-000000000000");
      // The diagnostics bundle of the failed check, with the crashed container's log.
      const diagnostics = e2e.look(await inSession(() => r.diagnostics().file("rollout-diagnostics.txt").contents()));
      expect(diagnostics).toContain("Error: SVC_MODE is not set");
      // `verdict` is the CI call: it fails, carrying the summary.
      const error = await inSession(async () => rejection(Promise.resolve().then(() => r.verdict())));
      expect(e2e.look(error).message).toContain("release to dev: ROLLED-BACK");
      // The run report tells the same story (issue 17): rolled back, the rollback's steps, the failed verify.
      const run = JSON.parse(e2e.look(await inSession(async () => (await r.runReport()).contents()))) as { outcome: string; rollback: { outcome: string; steps: unknown[] } };
      expect(run).toMatchObject({ kind: "release", outcome: "rolled-back", rollback: { outcome: "done" } });
      expect(run.rollback.steps.length).toBeGreaterThan(0);
      // Slack and Teams hear that it was rolled back, and why.
      const posts = posted().map((p) => p.text);
      expect(posts.filter((p) => p.includes("to dev: ROLLED-BACK"))).toHaveLength(2);
      expect(posts.join("\n")).toContain("FAILED and ROLLED BACK");
      expect(posts.join("\n")).toContain("CrashLoopBackOff");
    }, 20 * 60_000);

    it("promote to prod takes dev's newest verified release by digest, never rebuilt; the ledger says where it came from", async () => {
      const devVerified = ledger("dev").entries.findLast((e) => e.status === "verified");
      const before = tip();
      const r = await inSession(async () => {
        const p: Release = await slipway().promote(
          checkout(),
          "prod",
          secret("git-token", gitToken),
          secret("kubeconfig", kubeconfigText),
          undefined,
          undefined,
          undefined,
          undefined,
          undefined,
          undefined,
          undefined,
          undefined,
          undefined,
          undefined,
          slack(),
          teams(),
          "https://github.com/acme/shop/actions/runs/4243",
        );
        e2e.look(p.summary());
        return p;
      });
      expect(r.status, r.summary()).toBe("verified");
      expect(r.promotedFrom).toBe(`dev:${devVerified?.id}`);
      expect(r.steps.find((s) => s.step === "publish")).toMatchObject({ status: "skipped" });
      const wanted = devVerified?.images.map((i) => `${i.image}=${i.tag}@${i.digest}`);
      expect(r.images).toEqual(wanted);
      expect(git(bare, "diff", "--name-only", before, "main").trim().split("\n").sort()).toEqual([".slipway/ledger/prod.json", "clusters/prod/svc.yaml"]);
      expect(manifest("prod")).toContain(wanted?.[0]?.replace("=", ":"));
      expect(ledger("prod").entries.map((e) => [e.id, e.status, e.promotedFrom])).toEqual([["1", "verified", { environment: "dev", id: devVerified?.id }]]);
      // prod has no notify: in slipway.yaml: nothing is posted, and the steps say so.
      expect(posted()).toEqual([]);
      expect(r.steps.filter((s) => s.step === "notify").map((s) => s.status)).toEqual(["skipped", "skipped"]);
      expect(r.steps.find((s) => s.step === "notify")?.detail).toBe("started: nothing to post (environments.prod has no notify: in slipway.yaml)");
    }, 20 * 60_000);

    it("on demand: a verified release that misbehaves later is rolled back across Git, the database and the cluster", async () => {
      const restoredImage = /image: (\S+)/.exec(manifest("dev"))?.[1] as string;
      // Release 4: items.note again, healthy at release time: verified, its migration applied.
      // (migrations.cjs still has items.note: the automatic rollback reverted the database, not the code)
      writeFileSync(join(app, "services/svc/CHANGELOG.md"), "3.0.0: items.note, take two\n");
      git(app, "add", "-A");
      git(app, "commit", "-qm", "svc: items.note, take two");
      const released = await release("dev");
      expect(released.release.status, released.summary).toBe("verified");
      posted();
      expect(await rows()).toEqual(["CreateItems1795305600000", "AddItemNote1795309200000"]);
      const id = ledger("dev").entries.at(-1)?.id;
      const rollback = (extra: { databaseUrls?: string; gitOnly?: boolean; kubeconfig?: boolean }) =>
        inSession(async () =>
          slipway().rollback(
            secret("git-token", gitToken), "dev", undefined, undefined, undefined, undefined, checkout(), false, false,
            extra.kubeconfig === false ? undefined : secret("kubeconfig", kubeconfigText),
            extra.databaseUrls ? secret("database-urls", extra.databaseUrls) : undefined,
            extra.gitOnly ?? false,
            acr.azure.githubRequestUrl, secret("oidc-request-token", requestToken),
          ),
        );
      const target = String(Number(id) - 1);

      // Its migration would be left applied without the database URLs: refused, nothing written.
      const before = tip();
      const refused = e2e.look(await rejection(rollback({})));
      expect(refused.message).toContain("SLIPWAY_ROLLBACK_DATABASE: the abandoned release(s) applied migrations (svc: AddItemNote1795309200000)");
      expect(refused.message).toContain("Nothing was changed.");
      expect(tip()).toBe(before);

      // A rollback that stops after its Git commit (here on purpose: gitOnly): it fails, naming what is left.
      // Through rollbackRun, as the wrappers call it: the call returns, the reports and the diagnostics are
      // exported, and `verdict` fails with the report.
      const run = await inSession(async () => {
        const r = await slipway().rollbackRun(
          secret("git-token", gitToken), "dev", checkout(), undefined, false, undefined, undefined, true, acr.azure.githubRequestUrl, secret("oidc-request-token", requestToken),
          undefined, undefined, undefined, undefined, undefined, false, false,
          slack(), teams(), "https://github.com/acme/shop/actions/runs/4244", ["GITHUB_ACTOR=octocat"], "Roll back",
        );
        const dir = r.reports();
        return {
          status: r.status,
          report: r.report,
          entries: await dir.entries(),
          runReport: await dir.file("run-report.json").contents(),
          diagnostics: await dir.file("diagnostics/rollback-report.txt").contents(),
          verdict: await rejection(Promise.resolve().then(() => r.verdict())),
        };
      });
      expect(run.status).toBe("incomplete");
      // Slack and Teams hear it started, then that it is INCOMPLETE and what is left; the report ends with both posts.
      const posts = posted();
      for (const p of posts) expect(payloadErrors(p.kind, p.body)).toEqual([]);
      expect(posts.map((p) => p.kind).sort()).toEqual(["slack", "slack", "teams", "teams"]);
      expect(posts.filter((p) => p.text.includes("rollback of dev: started"))).toHaveLength(2);
      const incomplete = posts.filter((p) => p.text.includes(`rollback of dev to release ${target}: INCOMPLETE`));
      expect(incomplete).toHaveLength(2);
      for (const p of incomplete) expect(p.text).toContain("database: NOT reverted (gitOnly)");
      expect(posts.findIndex((p) => p.text.includes("started"))).toBeLessThan(posts.findIndex((p) => p.text.includes("INCOMPLETE")));
      expect(e2e.look(run.report)).toMatch(/\nnotify: started: slack delivered, teams delivered\nnotify: failed: slack delivered, teams delivered\n$/);
      expect(run.report).not.toContain(hookCanary);
      expect(run.entries).toEqual(expect.arrayContaining(["run-report.json", "report.md", "report.html", "junit.xml", "report.sarif"]));
      expect(JSON.parse(e2e.look(run.runReport))).toMatchObject({ kind: "rollback", outcome: "failed", environment: "dev", rollback: { outcome: "incomplete", restored: target } });
      expect(e2e.look(run.diagnostics)).toContain("database: NOT reverted (gitOnly)");
      const stopped = e2e.look(run.verdict);
      expect(stopped.message).toContain("SLIPWAY_ROLLBACK_INCOMPLETE");
      expect(stopped.message).toContain("database: NOT reverted (gitOnly): svc still has AddItemNote1795309200000");
      expect(stopped.message).toContain(`verify: not done (no kubeconfig)`);
      expect(stopped.message).toContain(`registry: NOT marked (gitOnly): ${image}:failed-${id}`);
      expect(/image: (\S+)/.exec(manifest("dev"))?.[1]).toBe(restoredImage);
      expect(await rows()).toEqual(["CreateItems1795305600000", "AddItemNote1795309200000"]);
      const afterGit = tip();
      expect(git(bare, "rev-list", "--count", `${before}..${afterGit}`).trim()).toBe("1");
      const entriesBefore = ledger("dev").entries;
      const pending = entriesBefore.at(-1);
      expect(pending).toMatchObject({ status: "pending", restoredFrom: target });

      // Run again: it resumes (no second commit), reverts the migration with release 4's own image, verifies and marks.
      const report = e2e.look(await rollback({ databaseUrls }));
      expect(report).toContain(`rollback of dev to release ${target}, RESUMED: release ${pending?.id} (pending) already restores it`);
      expect(report).toMatch(new RegExp(`database: svc: reverted AddItemNote1795309200000 with ${image.replace(/[.]/g, "\\.")}@sha256:[0-9a-f]{64} \\(release ${id}\\)`));
      expect(await rows()).toEqual(["CreateItems1795305600000"]);
      expect(await columns()).toEqual(["id", "label"]);
      expect(report).toContain(`verify: release ${pending?.id} (release ${target}'s images) is healthy and verified`);
      // The registry: release 4's image tagged failed-4, the very digest the ledger recorded for it.
      const abandonedDigest = entriesBefore.find((e) => e.id === id)?.images[0]?.digest as string;
      expect(report).toContain(`registry: ${image}:failed-${id} -> ${abandonedDigest}`);
      const registry = new ContainerRegistryContentClient(`https://${acr.registry.host}`, "shop/svc", ANONYMOUS, { tlsOptions: { ca: acr.tls.ca } });
      expect((await registry.getManifest(`failed-${id}`)).digest).toBe(abandonedDigest);
      expect(report).not.toContain(dbPassword);
      // Git: dev's folder runs the restored image; one rollback commit, then the mark. The ledger tells it.
      expect(/image: (\S+)/.exec(manifest("dev"))?.[1]).toBe(restoredImage);
      expect(git(bare, "rev-list", "--count", `${afterGit}..main`).trim()).toBe("1");
      const entries = ledger("dev").entries;
      expect(entries.at(-2)).toMatchObject({ id, status: "rolled-back" });
      expect(entries.at(-1)).toMatchObject({ id: pending?.id, status: "verified", restoredFrom: target });

      // Once more: the same as once.
      const again = e2e.look(await rollback({ databaseUrls }));
      expect(again).toBe(`rollback of dev: nothing to do, already at release ${target}\n`);
      expect(ledger("dev").entries.at(-1)).toMatchObject({ id: pending?.id, status: "verified" });
    }, 20 * 60_000);

    it("bad input is refused before anything is written: an unknown environment, a missing Secret", async () => {
      const before = tip();
      const unknown = await rejection(release("qa"));
      expect(e2e.look(unknown).message).toContain(`SLIPWAY_ENV_UNKNOWN: environment "qa" is not in slipway.yaml`);
      expect(unknown.message).toContain("Environments: dev, prod.");
      // An environment that migrates needs the databaseUrls Secret.
      const migrating = tempRepo({
        "slipway.yaml": ["gitops:", `  repository: ${server.url}/gitops.git`, "environments:", "  dev:", "    gitops: { path: clusters/dev }", "    kubernetes: { namespace: shop-dev, deployments: [svc] }", "    migrate: [svc]", ""].join("\n"),
      });
      try {
        mkdirSync(join(migrating, "services"), { recursive: true });
        const missing = await inSession(() =>
          rejection(slipway().release(e2e.source(migrating), "dev", secret("git-token", gitToken), secret("kubeconfig", kubeconfigText))),
        );
        expect(e2e.look(missing).message).toContain("SLIPWAY_RELEASE_SECRET_MISSING: databaseUrls: environment dev migrates svc");
      } finally {
        rmSync(migrating, { recursive: true, force: true });
      }
      expect(tip()).toBe(before);
    }, 10 * 60_000);
  });
}
