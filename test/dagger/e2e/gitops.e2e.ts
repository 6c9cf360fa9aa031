// The GitOps and release-ledger functions of the module (gitopsBump, recordRelease, markRelease,
// rollback) end to end: the real SDK client against the Dagger API stand-in, the toolkit container built
// from pipelines/Dockerfile, and a real git server over HTTPS (git's own `git http-backend` behind a
// Node https server with a certificate from a throwaway CA, Basic auth with a token) on 127.0.0.1, which
// the containers of the private engine reach through the host network.
//
// One GitOps repository goes through a release's life as on-call would see it: release 1 bumped,
// recorded and verified; release 2 bumped, recorded and failed; a rollback to release 1. The steps are
// its of one describe that run in order and share the remote.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { dag } from "@dagger.io/dagger";
import type { Secret } from "@dagger.io/dagger";
import { git, removeTree, tempRepo, tempTree } from "../../helpers/repo.js";
import { startGitHttpServer } from "../../pipelines/gitops/git-http.js";
import type { GitHttpServer } from "../../pipelines/gitops/git-http.js";
import { makeTestTls } from "../../standins/azure/tls.js";
import type { TestTls } from "../../standins/azure/tls.js";
import type { E2E } from "./context.js";
import { canary, inSession, rejection } from "./world.js";

const IMAGE = "myacr.azurecr.io/shop/api";
const digest = (letter: string): string => `sha256:${letter.repeat(64)}`;
const SOURCE = ["1111111111111111111111111111111111111111", "2222222222222222222222222222222222222222"] as const;
const PROD = "clusters/prod/kustomization.yaml";
const DEV = "clusters/dev/kustomization.yaml";
const LEDGER = ".slipway/ledger/prod.json";

/** A Kustomize overlay as people write them: the api pinned by tag and digest, comments, a decoy image. */
function kustomization(env: string, tag: string, pin: string): string {
  return [
    `# ${env}: images are pinned by the release pipeline.`,
    "apiVersion: kustomize.config.k8s.io/v1beta1",
    "kind: Kustomization",
    `namespace: shop-${env}`,
    "resources:",
    "  - deployment.yaml",
    "images:",
    "  - name: api",
    `    newName: ${IMAGE}`,
    `    newTag: "${tag}"  # keep quoted`,
    `    digest: ${pin}`,
    "  - name: redis   # not released by us",
    "    newTag: 7.2.4",
    "",
  ].join("\n");
}

const DEPLOYMENT = [
  "apiVersion: apps/v1",
  "kind: Deployment",
  "metadata:",
  "  name: api",
  "spec:",
  "  replicas: 2",
  "  selector: { matchLabels: { app: api } }",
  "  template:",
  "    metadata: { labels: { app: api } }",
  "    spec:",
  "      containers:",
  "        - name: api",
  "          image: api",
  "        - name: cache",
  "          image: redis",
  "",
].join("\n");

const INITIAL = {
  "clusters/dev/kustomization.yaml": kustomization("dev", "0.9.1", digest("9")),
  "clusters/dev/deployment.yaml": DEPLOYMENT,
  "clusters/prod/kustomization.yaml": kustomization("prod", "0.9.0", digest("0")),
  "clusters/prod/deployment.yaml": DEPLOYMENT,
};

/** Release n (1 or 2): api n.0.0 at a digest of its own. */
const release = (n: number): { set: string; kustomization: string } => {
  const letter = n === 1 ? "a" : "b";
  return { set: `${IMAGE}=${n}.0.0@${digest(letter)}`, kustomization: kustomization("prod", `${n}.0.0`, digest(letter)) };
};

type LedgerEntry = { id: string; status: string; sourceSha: string; gitopsCommit?: string; restoredFrom?: string; images: Array<{ image: string; tag: string; digest: string }> };

export function gitopsSuite(e2e: E2E): void {
  describe("GitOps and ledger functions through the stand-in", () => {
    const token = canary("gitops-token");
    let tls: TestTls;
    let work: string;
    let bare: string;
    let server: GitHttpServer;
    let repository: string;
    /** Commits of the remote's main, as the steps made them. */
    const made: Record<string, string> = {};

    const show = (ref: string, path: string): string => e2e.look(git(bare, "show", `${ref}:${path}`));
    const tip = (): string => git(bare, "rev-parse", "main").trim();
    const log = (): string[] => git(bare, "log", "--format=%H %P", "main").trim().split("\n");
    const ledger = (): LedgerEntry[] => (JSON.parse(show("main", LEDGER)) as { entries: LedgerEntry[] }).entries;
    /** The module trusting the test CA, as a user behind a private CA calls it. */
    const trusting = () => e2e.slipway({ caCertificates: dag.host().file(tls.caFile) });
    const secret = (value: string): Secret => dag.setSecret("gitops-token", value);

    beforeAll(async () => {
      tls = makeTestTls();
      work = tempRepo(INITIAL);
      bare = join(tempTree({}, "slipway-remote-"), "gitops.git");
      git(work, "clone", "-q", "--bare", work, bare);
      server = await startGitHttpServer(dirname(bare), "x-access-token", token, { tls: { cert: tls.cert, key: tls.key } });
      repository = `${server.url}/gitops.git`;
      made.initial = tip();
    });

    afterAll(async () => {
      await server?.close();
      for (const dir of [work, bare && dirname(bare), tls?.dir]) if (dir) removeTree(dir);
    });

    it("without caCertificates the toolkit does not trust the server: a certificate error, nothing pushed", async () => {
      const error = e2e.look(
        await inSession(() => rejection(e2e.slipway().gitopsBump(repository, "main", secret(token), [release(1).set], "clusters/prod", SOURCE[0]))),
      );
      expect(error.message).toContain("SLIPWAY_GITOPS_CLONE_FAILED");
      expect(error.message).toMatch(/server certificate verification failed|SSL certificate problem/);
      expect(error.message).toContain("caCertificates");
      expect(server.authorized).toBe(0);
      expect(tip()).toBe(made.initial);
    }, 15 * 60_000);

    it("gitopsBump pins TAG@DIGEST in clusters/prod only, in one commit with the source trailer; again is a no-op", async () => {
      const [first, second] = await inSession(async () => {
        const slipway = trusting();
        const once = await slipway.gitopsBump(repository, "main", secret(token), [release(1).set], "clusters/prod", SOURCE[0]);
        const twice = await slipway.gitopsBump(repository, "main", secret(token), [release(1).set], "clusters/prod", SOURCE[0]);
        return [e2e.look(once), e2e.look(twice)];
      });
      expect(server.authorized).toBeGreaterThan(0);
      expect(first).toBe(tip());
      expect(log()).toHaveLength(2);
      expect(log()[0]).toBe(`${first} ${made.initial}`);
      expect(git(bare, "diff", "--name-only", made.initial as string, first).trim().split("\n")).toEqual([PROD]);
      expect(show("main", PROD)).toBe(release(1).kustomization);
      expect(show("main", DEV)).toBe(INITIAL[DEV]);
      expect(e2e.look(git(bare, "log", "-1", "--format=%B", first))).toContain(`Slipway-Source-Commit: ${SOURCE[0]}`);
      // Idempotent: the same images again change nothing and answer with the commit that has them.
      expect(second).toBe(first);
      expect(log()).toHaveLength(2);
      made.release1 = first;
    }, 15 * 60_000);

    it("recordRelease and markRelease keep the ledger: release 1 verified, release 2 bumped, recorded and failed", async () => {
      const answers = await inSession(async () => {
        const slipway = trusting();
        const id1 = await slipway.recordRelease(repository, "main", secret(token), "prod", SOURCE[0], [release(1).set], made.release1);
        const verified = await slipway.markRelease(repository, "main", secret(token), "prod", id1, "verified");
        const bumped = await slipway.gitopsBump(repository, "main", secret(token), [release(2).set], "clusters/prod", SOURCE[1]);
        const id2 = await slipway.recordRelease(repository, "main", secret(token), "prod", SOURCE[1], [release(2).set], bumped);
        const failed = await slipway.markRelease(repository, "main", secret(token), "prod", id2, "failed");
        return e2e.look({ id1, verified, bumped, id2, failed });
      });
      expect(answers).toEqual({ id1: "1", verified: "verified", bumped: expect.stringMatching(/^[0-9a-f]{40}$/), id2: "2", failed: "failed" });
      made.release2 = answers.bumped;
      expect(show(answers.bumped, PROD)).toBe(release(2).kustomization);
      expect(ledger().map((e) => ({ id: e.id, status: e.status, sourceSha: e.sourceSha, gitopsCommit: e.gitopsCommit, images: e.images }))).toEqual([
        { id: "1", status: "verified", sourceSha: SOURCE[0], gitopsCommit: made.release1, images: [{ image: IMAGE, tag: "1.0.0", digest: digest("a") }] },
        { id: "2", status: "failed", sourceSha: SOURCE[1], gitopsCommit: made.release2, images: [{ image: IMAGE, tag: "2.0.0", digest: digest("b") }] },
      ]);
      // bump 1, record, mark, bump 2, record, mark: one commit each, on top of each other.
      expect(log()).toHaveLength(7);
    }, 15 * 60_000);

    it("rollback writes release 1 back in ONE new commit (no force-push) and marks release 2 rolled-back", async () => {
      const before = tip();
      const commit = e2e.look(await inSession(() => trusting().rollback(secret(token), "prod", repository, "main", undefined, "clusters/prod")));
      expect(commit).toBe(tip());
      expect(log()[0]).toBe(`${commit} ${before}`);
      expect(git(bare, "diff", "--name-only", before, commit).trim().split("\n").sort()).toEqual([LEDGER, PROD]);
      // The manifests are release 1's bytes again; dev never moved.
      expect(show("main", PROD)).toBe(show(made.release1 as string, PROD));
      expect(show("main", DEV)).toBe(INITIAL[DEV]);
      expect(e2e.look(git(bare, "log", "-1", "--format=%B", commit))).toContain(`Slipway-Source-Commit: ${SOURCE[0]}`);
      const entries = ledger();
      expect(entries.map((e) => [e.id, e.status, e.restoredFrom])).toEqual([["1", "verified", undefined], ["2", "rolled-back", undefined], ["3", "pending", "1"]]);
      expect(entries[2]?.images).toEqual(entries[0]?.images);
    }, 15 * 60_000);

    it("a wrong token is a coded error without the token; the remote is unchanged", async () => {
      const wrong = canary("gitops-wrong-token");
      const before = tip();
      const refused = server.refused;
      const error = e2e.look(
        await inSession(() => rejection(trusting().gitopsBump(repository, "main", secret(wrong), [`${IMAGE}=3.0.0@${digest("c")}`], "clusters/prod"))),
      );
      expect(error.message).toContain("SLIPWAY_GITOPS_CLONE_FAILED");
      expect(error.message).not.toContain(wrong);
      expect(server.refused).toBeGreaterThan(refused);
      expect(tip()).toBe(before);
    }, 15 * 60_000);

    it("the token is in no commit, tree, file or config of the pushed repository", () => {
      // Every object of the remote, uncompressed (commits, trees, blobs), and every file of the bare repository.
      const objects = e2e.look(git(bare, "cat-file", "--batch-all-objects", "--batch"));
      expect(objects).toContain(IMAGE);
      expect(objects).not.toContain(token);
      const files = (dir: string): string[] =>
        readdirSync(dir).flatMap((name) => {
          const path = join(dir, name);
          return statSync(path).isDirectory() ? files(path) : [path];
        });
      for (const file of files(bare)) expect(readFileSync(file).includes(token), file).toBe(false);
    });
  });
}
