import { afterEach, describe, expect, it } from "vitest";
import { ociAnnotations, readSource } from "../../../pipelines/src/acr/labels.js";
import { parseRegistry, repositoryFor } from "../../../pipelines/src/acr/registry.js";
import { branchTagFor, computeTags, validateTag } from "../../../pipelines/src/acr/tags.js";
import { cli } from "../../helpers/cli.js";
import { commitAll, git, removeTree, tempRepo, tempTree } from "../../helpers/repo.js";
import type { SlipwayError } from "../../../pipelines/src/errors.js";
import { thrown } from "../../helpers/errors.js";

const SHA = "0123456789abcdef0123456789abcdef01234567";

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) removeTree(dirs.pop() as string);
});

describe("pipelines/src/acr/tags", () => {
  it.each([
    ["no release: only the commit tag", [], {}, ["sha-0123456789ab"], ["sha-0123456789ab"], null],
    ["vX.Y.Z release: full, minor and major", ["v1.4.2"], {}, ["sha-0123456789ab", "1.4.2", "1.4", "1"], ["sha-0123456789ab", "1.4.2"], "1.4.2"],
    ["bare X.Y.Z works too", ["2.0.0"], {}, ["sha-0123456789ab", "2.0.0", "2.0", "2"], ["sha-0123456789ab", "2.0.0"], "2.0.0"],
    ["pre-release gets only its full version", ["v1.5.0-rc.1"], {}, ["sha-0123456789ab", "1.5.0-rc.1"], ["sha-0123456789ab", "1.5.0-rc.1"], "1.5.0-rc.1"],
    ["highest of several", ["v1.0.0", "v1.2.0", "not-semver"], {}, ["sha-0123456789ab", "1.2.0", "1.2", "1"], ["sha-0123456789ab", "1.2.0"], "1.2.0"],
    ["service-scoped tags: ours counts", ["api@3.1.0", "worker@9.0.0"], {}, ["sha-0123456789ab", "3.1.0", "3.1", "3"], ["sha-0123456789ab", "3.1.0"], "3.1.0"],
    ["another service's tag does not count", ["worker/v9.0.0"], {}, ["sha-0123456789ab"], ["sha-0123456789ab"], null],
    ["build metadata dropped (Docker has no '+')", ["v1.0.0+build.7"], {}, ["sha-0123456789ab", "1.0.0", "1.0", "1"], ["sha-0123456789ab", "1.0.0"], "1.0.0"],
    ["branch and latest only on request", [], { branch: "feature/Login-Page", branchTag: true, latest: true }, ["sha-0123456789ab", "feature-login-page", "latest"], ["sha-0123456789ab"], null],
    ["a branch alone adds nothing", [], { branch: "main" }, ["sha-0123456789ab"], ["sha-0123456789ab"], null],
    ["semver off", ["v1.0.0"], { semver: false }, ["sha-0123456789ab"], ["sha-0123456789ab"], null],
  ])("%s", (_name, gitTags, extra, tags, immutable, version) => {
    expect(computeTags({ sha: SHA, gitTags, service: "api", ...extra })).toEqual({ tags, immutable, version });
  });

  it("never emits latest unless asked", () => {
    const plan = computeTags({ sha: SHA, gitTags: ["v1.0.0"], service: "api", branch: "main", branchTag: true });
    expect(plan.tags).not.toContain("latest");
  });

  it.each([
    ["latest", "branch-latest"],
    ["1.2.3", "branch-1.2.3"],
    ["v2", "branch-v2"],
    ["sha-0123456789ab", "branch-sha-0123456789ab"],
    ["refs/heads/release/2024.10", "release-2024.10"],
    ["-weird..name-", "weird..name"],
  ])("branch %j becomes a tag that cannot pass for a release: %j", (branch, tag) => {
    expect(branchTagFor(branch)).toBe(tag);
  });

  it.each([
    ["has:colon", 'contains ":"'],
    ["-leading", "must not start with '.' or '-'"],
    [".hidden", "must not start with '.' or '-'"],
    ["with space", 'contains " "'],
    ["", "is empty"],
    ["x".repeat(129), "is 129 characters long (at most 128)"],
  ])("rejects tag %j the way Docker would", (tag, reason) => {
    const error = thrown(() => validateTag(tag));
    expect(error.code).toBe("SLIPWAY_ACR_TAG_INVALID");
    expect(error.message).toBe(`tag ${JSON.stringify(tag)} ${reason}`);
    expect(error.exitCode).toBe(2);
  });

  it("accepts tags YAML would re-type, since they are strings by then", () => {
    expect(validateTag("1.20")).toBe("1.20");
    expect(validateTag("on")).toBe("on");
  });
});

describe("pipelines/src/acr/registry", () => {
  it.each([
    ["MyReg.azurecr.io", "github-oidc", "myreg.azurecr.io"],
    ["myreg.azurecr.us", "workload-identity", "myreg.azurecr.us"],
    ["ghcr.io", "static", "ghcr.io"],
    ["localhost:5000", "static", "localhost:5000"],
  ] as const)("accepts %j in mode %s", (input, mode, expected) => {
    expect(parseRegistry(input, mode)).toBe(expected);
  });

  it.each([
    ["ghcr.io", "github-oidc", "is not an Azure Container Registry (*.azurecr.io)"],
    ["azurecr.io", "azure-cli", "is not an Azure Container Registry"],
    ["evil.azurecr.io.example.com", "github-oidc", "is not an Azure Container Registry"],
    ["https://myreg.azurecr.io", "github-oidc", "must not include a scheme"],
    ["myreg.azurecr.io/team", "github-oidc", "must not include a path"],
    ["user:pw@myreg.azurecr.io", "static", "must not include user info"],
  ] as const)("rejects %j in mode %s", (input, mode, reason) => {
    const error = thrown(() => parseRegistry(input, mode));
    expect(error.code).toBe("SLIPWAY_ACR_REGISTRY_INVALID");
    expect(error.message).toContain(reason);
  });

  it("builds the repository path from prefix and service", () => {
    expect(repositoryFor("api", "shop")).toBe("shop/api");
    expect(repositoryFor("api")).toBe("api");
    expect(thrown(() => repositoryFor("api", "Shop")).code).toBe("SLIPWAY_ACR_REGISTRY_INVALID");
  });
});

describe("pipelines/src/acr/labels", () => {
  it("reads sha, tags at HEAD, branch and commit time from a real repository", async () => {
    const dir = tempRepo({ "README.md": "x\n" });
    dirs.push(dir);
    const sha = commitAll(dir, "second", { "a.txt": "a\n" });
    git(dir, "tag", "v1.2.3");
    git(dir, "remote", "add", "origin", "https://x-access-token:ghs_canary@github.com/acme/shop.git");
    const info = await readSource(dir);
    expect(info).toMatchObject({ sha, gitTags: ["v1.2.3"], branch: "main", sourceUrl: "https://github.com/acme/shop" });
    expect(Date.parse(info.committedAt)).not.toBeNaN();
    expect(ociAnnotations({ source: info, service: "api", version: "1.2.3" })).toEqual({
      "org.opencontainers.image.revision": sha,
      "org.opencontainers.image.created": info.committedAt,
      "org.opencontainers.image.version": "1.2.3",
      "org.opencontainers.image.title": "api",
      "org.opencontainers.image.source": "https://github.com/acme/shop",
    });
  });

  it("takes the branch from the CI when the checkout is detached", async () => {
    const dir = tempRepo({ "README.md": "x\n" });
    dirs.push(dir);
    git(dir, "checkout", "-q", "--detach");
    expect((await readSource(dir, { GITHUB_REF: "refs/heads/feature/x" })).branch).toBe("feature/x");
    expect((await readSource(dir, {})).branch).toBeNull();
  });

  it("a folder that is not a repository is SLIPWAY_NOT_A_GIT_REPO; a repository without a commit is a git failure naming git's message", async () => {
    const plain = tempTree({ "README.md": "x\n" });
    const empty = tempTree({});
    dirs.push(plain, empty);
    git(empty, "init", "-q");
    const outside = await readSource(plain).then(() => null, (e: unknown) => e as SlipwayError);
    expect(outside?.code).toBe("SLIPWAY_NOT_A_GIT_REPO");
    expect(outside?.message).toContain(plain);
    const noCommit = await readSource(empty).then(() => null, (e: unknown) => e as SlipwayError);
    expect(noCommit?.code).toBe("SLIPWAY_GIT_FAILED");
    expect(noCommit?.render()).toMatch(/HEAD/);
  });
});

describe("slipway acr tags", () => {
  function repoWith(config: string): string {
    const dir = tempRepo({ "slipway.yaml": config, "README.md": "x\n" });
    dirs.push(dir);
    return dir;
  }

  it("prints tags, refs, the lock decision and annotations as JSON", async () => {
    const dir = repoWith("publish:\n  registry: shopacr.azurecr.io\n  repositoryPrefix: shop\n  lock: release\n");
    git(dir, "tag", "v2.1.0");
    const sha = git(dir, "rev-parse", "HEAD").trim();
    const result = await cli(["acr", "tags", "--service", "api", "--source", dir], dir, {});
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const out = JSON.parse(result.stdout) as Record<string, unknown>;
    const short = `sha-${sha.slice(0, 12)}`;
    expect(out).toMatchObject({
      service: "api",
      registry: "shopacr.azurecr.io",
      repository: "shop/api",
      version: "2.1.0",
      tags: [short, "2.1.0", "2.1", "2"],
      immutable: [short, "2.1.0"],
      refs: [`shopacr.azurecr.io/shop/api:${short}`, "shopacr.azurecr.io/shop/api:2.1.0", "shopacr.azurecr.io/shop/api:2.1", "shopacr.azurecr.io/shop/api:2"],
      lock: true,
    });
    expect((out.annotations as Record<string, string>)["org.opencontainers.image.revision"]).toBe(sha);
  });

  it("refuses a tag Docker would reject, with exit 2", async () => {
    const dir = repoWith("publish:\n  registry: shopacr.azurecr.io\n");
    const result = await cli(["acr", "tags", "--service", "api", "--source", dir, "--tag", "release:1"], dir, {});
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('SLIPWAY_ACR_TAG_INVALID: tag "release:1" contains ":"');
    expect(result.stdout).toBe("");
  });

  it("explains a tag YAML read as a number", async () => {
    const dir = repoWith("publish:\n  registry: shopacr.azurecr.io\n  tags:\n    extra: [1.20]\n");
    const result = await cli(["acr", "tags", "--service", "api", "--source", dir], dir, {});
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("SLIPWAY_CONFIG_INVALID");
    expect(result.stderr).toContain('publish.tags.extra[0]: a tag must be a string: quote values YAML reads as numbers, booleans or null (e.g. "1.20"), got 1.2');
  });

  it("refuses a non-ACR registry in an ACR mode before touching the network", async () => {
    const dir = repoWith("publish:\n  registry: ghcr.io\n  identity:\n    mode: github-oidc\n");
    const result = await cli(["acr", "tags", "--service", "api", "--source", dir], dir, {});
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('SLIPWAY_ACR_REGISTRY_INVALID: registry "ghcr.io" is not an Azure Container Registry');
  });
});
