import { ContainerRegistryClient, ContainerRegistryContentClient } from "@azure/container-registry";
import type { TokenCredential } from "@azure/identity";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCredential, resolveIdentity } from "../../../pipelines/src/acr/identity.js";
import { acrPruneNoLedger } from "../../../pipelines/src/errors.js";
import { run as slipwayRun } from "../../../pipelines/src/cli/main.js";
import { commitAll, git, tempRepo } from "../../helpers/repo.js";
import { registryAvailable } from "./registry-server.js";
import type { World } from "./world.js";
import { CLIENT, pushImage, startWorld, TENANT } from "./world.js";

const run = registryAvailable();
let world: World;
let credential: TokenCredential;
let gitops: string;
let cwd: string;

const SHA = "0123456789abcdef0123456789abcdef01234567";

type Entry = { id: string; status: string; digest: string; image?: string };

function ledger(environment: string, entries: Entry[]): string {
  return `${JSON.stringify(
    {
      version: 1,
      environment,
      entries: entries.map((e) => ({
        id: e.id,
        sourceSha: SHA,
        images: [{ image: e.image ?? `${world.azure.registry}/shop/api`, tag: `sha-${e.id.padStart(12, "0")}`, digest: e.digest }],
        status: e.status,
        at: `2026-01-0${e.id}T00:00:00.000Z`,
      })),
    },
    null,
    2,
  )}\n`;
}

async function slipway(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const env = world.childEnv({
    GITHUB_ACTIONS: "true",
    AZURE_TENANT_ID: TENANT,
    AZURE_CLIENT_ID: CLIENT,
    AZURE_AUTHORITY_HOST: world.azure.authorityHost,
    ACTIONS_ID_TOKEN_REQUEST_URL: world.azure.githubRequestUrl,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: world.azure.githubRequestToken,
    SLIPWAY_CA_FILE: world.tls.caFile,
    NODE_OPTIONS: undefined,
  });
  const code = await slipwayRun(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), cwd, env });
  return { code, stdout, stderr };
}

const prune = (repository: string, ...extra: string[]) =>
  slipway(["acr", "prune", "--registry", world.azure.registry, "--repository", repository, "--repo", gitops, "--branch", "main", "--min-age", "0", ...extra]);

/** Whether the real registry still serves the manifest by digest (through the ACR stand-in). */
async function exists(repository: string, digest: string): Promise<boolean> {
  const content = new ContainerRegistryContentClient(`https://${world.azure.registry}`, repository, credential, { tlsOptions: { ca: world.tls.ca } });
  try {
    await content.getManifest(digest);
    return true;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return false;
    throw error;
  }
}

const push = (repository: string, tag: string, content: string) => pushImage(`https://${world.azure.registry}`, repository, credential, tag, { ca: world.tls.ca, content });

beforeAll(async () => {
  if (!run) return;
  world = await startWorld();
  const identity = resolveIdentity({ mode: "github-oidc", tenantId: TENANT, clientId: CLIENT, authorityHost: world.azure.authorityHost }, undefined, {
    ACTIONS_ID_TOKEN_REQUEST_URL: world.azure.githubRequestUrl,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: world.azure.githubRequestToken,
  });
  credential = createCredential(identity, { tlsOptions: { ca: world.tls.ca } }).credential;
  cwd = mkdtempSync(join(tmpdir(), "slipway-prune-cwd-"));
});
afterAll(async () => {
  if (!run) return;
  await world.stop();
  rmSync(cwd, { recursive: true, force: true });
  if (gitops) rmSync(gitops, { recursive: true, force: true });
});

describe.skipIf(!run)("slipway acr prune (ACR stand-in in front of docker-registry, ledgers in a real git repository)", () => {
  const d: Record<string, string> = {};

  it("keeps every digest a ledger of any environment references and the last N verified, deletes the rest; dry-run deletes nothing; a rerun deletes nothing more", async () => {
    // Pushed oldest first: two old releases the ledger no longer holds, an untagged leftover, then the ledgers' images.
    d.old1 = await push("shop/api", "sha-old000000001", "old 1\n");
    d.old2 = await push("shop/api", "sha-old000000002", "old 2\n");
    d.leftover = await push("shop/api", "branch-main", "a build of main\n");
    d.main = await push("shop/api", "branch-main", "the next build of main\n"); // leftover is untagged now
    // The ledgers' images, side by side (their order does not matter: all are kept).
    [d.r1, d.r2, d.r3, d.r4, d.devOnly] = await Promise.all([
      push("shop/api", "sha-000000000001", "release 1\n"),
      push("shop/api", "sha-000000000002", "release 2\n"),
      push("shop/api", "sha-000000000003", "release 3, failed\n"),
      push("shop/api", "sha-000000000004", "release 4\n"),
      push("shop/api", "sha-dev000000001", "only dev runs this\n"),
    ]);
    gitops = tempRepo({
      ".slipway/ledger/prod.json": ledger("prod", [
        { id: "1", status: "verified", digest: d.r1 },
        { id: "2", status: "verified", digest: d.r2 },
        { id: "3", status: "failed", digest: d.r3 },
        { id: "4", status: "verified", digest: d.r4 },
      ]),
      ".slipway/ledger/dev.json": ledger("dev", [{ id: "1", status: "verified", digest: d.devOnly }]),
    });

    const dry = await prune("shop/api", "--keep", "2", "--dry-run", "--json");
    expect(dry.stderr).toBe("");
    expect(dry.code).toBe(0);
    const planned = JSON.parse(dry.stdout) as { deleted: string[]; plan: { delete: Array<{ digest: string; reasons: string[] }>; keepList: Array<{ digest: string; reasons: string[] }> } };
    expect(planned.deleted).toEqual([]);
    // A tag protects nothing: branch-main's build is in no ledger (only --min-age spares fresh pushes).
    expect(planned.plan.delete.map((x) => x.digest)).toEqual([d.old1, d.old2, d.leftover, d.main]);
    expect(planned.plan.delete[2]?.reasons).toEqual(["untagged, referenced by no ledger"]);
    expect(planned.plan.delete[3]?.reasons).toEqual(["tags branch-main; referenced by no ledger"]);
    const why = Object.fromEntries(planned.plan.keepList.map((k) => [k.digest, k.reasons.join("; ")]));
    expect(why[d.devOnly as string]).toBe("dev: run by the current release 1 (verified)");
    expect(why[d.r3 as string]).toBe("prod: referenced by release 3 (failed)");
    expect(why[d.r2 as string]).toBe("prod: release 2, one of the last 2 verified");
    expect(why[d.r1 as string]).toBe("prod: referenced by release 1 (verified)");
    expect(await Promise.all(Object.values(d).map((digest) => exists("shop/api", digest)))).toEqual(Object.values(d).map(() => true));

    // The text form: what is deleted, what is kept and why.
    const text = await prune("shop/api", "--keep", "2", "--dry-run");
    expect(text.stdout).toContain(`  - ${d.leftover}`);
    expect(text.stdout).toContain("prod: referenced by release 3 (failed)");
    expect(text.stdout).toContain("DRY RUN: nothing was deleted.");

    const real = await prune("shop/api", "--keep", "2", "--json");
    expect(real.code).toBe(0);
    expect((JSON.parse(real.stdout) as { deleted: string[]; complete: boolean })).toMatchObject({ deleted: [d.old1, d.old2, d.leftover, d.main], complete: true });
    const gone = [d.old1, d.old2, d.leftover, d.main] as string[];
    const kept = [d.r1, d.r2, d.r3, d.r4, d.devOnly] as string[];
    expect(await Promise.all([...gone, ...kept].map((digest) => exists("shop/api", digest)))).toEqual([...gone.map(() => false), ...kept.map(() => true)]);
    // ACR deletes a manifest's tags with it.
    const client = new ContainerRegistryClient(`https://${world.azure.registry}`, credential, { tlsOptions: { ca: world.tls.ca } });
    await expect(client.getArtifact("shop/api", "sha-old000000001").getTagProperties("sha-old000000001")).rejects.toMatchObject({ statusCode: 404 });

    const again = await prune("shop/api", "--keep", "2", "--json");
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ deleted: [], complete: true });
  });

  it("no ledger at all: coded error naming where it looked (without a URL's credentials), nothing deleted", async () => {
    const stray = await push("shop/empty", "sha-stray0000002", "no ledger anywhere\n");
    const empty = tempRepo({ "README.md": "a GitOps repository without ledgers\n" });
    try {
      const result = await slipway(["acr", "prune", "--registry", world.azure.registry, "--repository", "shop/empty", "--repo", empty, "--branch", "main", "--keep", "1", "--min-age", "0"]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`SLIPWAY_ACR_PRUNE_NO_LEDGER: no release ledger found in ${empty}#main`);
      expect(await exists("shop/empty", stray)).toBe(true);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
    expect(acrPruneNoLedger(["https://x-access-token:canary-9f2e@git.example/gitops.git#main"]).render()).not.toContain("canary-9f2e");
  });

  it("a ledger that cannot be read: coded error, nothing deleted", async () => {
    const stray = await push("shop/web", "sha-stray0000001", "nobody references this\n");
    commitAll(gitops, "break dev", { ".slipway/ledger/dev.json": "{ not json" });
    try {
      const result = await prune("shop/web", "--keep", "1");
      expect(result.code).toBe(2);
      expect(result.stderr).toContain("SLIPWAY_LEDGER_INVALID: .slipway/ledger/dev.json is not a valid release ledger");
      expect(result.stdout).toBe("");
      expect(await exists("shop/web", stray)).toBe(true);
    } finally {
      git(gitops, "revert", "--no-edit", "HEAD");
    }
  });

  it("a registry that fails mid-prune: coded error naming what was deleted and what is left; a rerun finishes", async () => {
    // Pushed one after the other: prune deletes oldest first.
    const digests: string[] = [];
    for (const [tag, text] of [["a", "w1\n"], ["b", "w2\n"], ["c", "w3\n"]] as const) digests.push(await push("shop/worker", tag, text));
    world.azure.failManifestDeletesAfter = 1;
    let result;
    try {
      result = await prune("shop/worker", "--keep", "1", "--json");
    } finally {
      world.azure.failManifestDeletesAfter = null;
    }
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as { deleted: string[]; left: string[]; complete: boolean };
    expect(report).toMatchObject({ deleted: [digests[0]], left: [digests[1], digests[2]], complete: false });
    expect(result.stderr).toContain(`SLIPWAY_ACR_PRUNE_INCOMPLETE: prune of ${world.azure.registry}/shop/worker stopped after 1 of 3 deletions`);
    expect(result.stderr).toContain(`NOT deleted (still in the registry): ${digests[1]}, ${digests[2]}`);
    expect(JSON.parse(result.stderr.trimEnd().split("\n").pop() ?? "")).toMatchObject({ error: { code: "SLIPWAY_ACR_PRUNE_INCOMPLETE" } });
    expect(await exists("shop/worker", digests[0] as string)).toBe(false);
    expect(await exists("shop/worker", digests[1] as string)).toBe(true);

    const rerun = await prune("shop/worker", "--keep", "1", "--json");
    expect(rerun.code).toBe(0);
    expect(JSON.parse(rerun.stdout)).toMatchObject({ deleted: [digests[1], digests[2]], complete: true });
  });
});
