import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { affectedServices, plan } from "../../../pipelines/src/plan/plan.js";
import type { Service } from "../../../pipelines/src/plan/services.js";
import type { SlipwayError } from "../../../pipelines/src/errors.js";
import { cli, cliProcess, REPO_ROOT } from "../../helpers/cli.js";
import { commitAll, git, removeTree, tempRepo, tempTree, writeTree } from "../../helpers/repo.js";
import { rejected } from "../../helpers/errors.js";

const DOCKERFILE = "ARG NODE_IMAGE=node:20-bookworm-slim\nFROM ${NODE_IMAGE}\n";

function pkg(name: string, extra: Record<string, unknown> = {}): string {
  return `${JSON.stringify({ name, version: "1.0.0", ...extra }, null, 2)}\n`;
}

/** A monorepo shaped like ours: two services, one shared workspace library, docs. */
function monorepo(): Record<string, string> {
  return {
    "package.json": pkg("root", { private: true, workspaces: ["services/*", "packages/*"] }),
    "package-lock.json": "{}\n",
    "README.md": "# repo\n",
    "docs/runbook.txt": "how to\n",
    "packages/shared/package.json": pkg("@acme/shared", { dependencies: { "@acme/logging": "*" } }),
    "packages/shared/index.js": "export {};\n",
    "packages/logging/package.json": pkg("@acme/logging"),
    "packages/logging/index.js": "export {};\n",
    "packages/unused/package.json": pkg("@acme/unused"),
    "packages/unused/index.js": "export {};\n",
    "services/api/package.json": pkg("@acme/api", {
      scripts: { lint: "eslint .", test: "vitest run", build: "tsc" },
      dependencies: { "@acme/shared": "*", pg: "^8" },
    }),
    "services/api/Dockerfile": DOCKERFILE,
    "services/api/src/main.ts": "export {};\n",
    "services/worker/package.json": pkg("@acme/worker", { scripts: { test: "vitest run" } }),
    "services/worker/Dockerfile": DOCKERFILE,
    "services/worker/src/main.ts": "export {};\n",
    "services/not-a-service/package.json": pkg("@acme/nas"),
  };
}

const dirs: string[] = [];
function repo(files: Record<string, string>): string {
  const dir = tempRepo(files);
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  while (dirs.length) removeTree(dirs.pop() as string);
});

async function affectedAfter(change: Record<string, string>, opts: { commit?: boolean } = {}): Promise<string[]> {
  const dir = repo(monorepo());
  if (opts.commit === false) writeTree(dir, change);
  else commitAll(dir, "change", change);
  const result = await plan(dir, {}, { base: opts.commit === false ? "HEAD" : "HEAD~1" });
  return result.affected;
}

function planError(dir: string, config = {}, base?: string): Promise<SlipwayError> {
  return rejected(plan(dir, config, { base }));
}

describe("pipelines/src/plan/plan", () => {
  it("discovers services under services/ that have a package.json and a Dockerfile", async () => {
    const dir = repo(monorepo());
    const result = await plan(dir, {});
    expect(result.services).toEqual([
      {
        name: "api",
        path: "services/api",
        dockerfile: "services/api/Dockerfile",
        context: ".",
        packageName: "@acme/api",
        version: "1.0.0",
        packageManager: "npm",
        scripts: { lint: true, test: true, build: true },
        dependsOn: ["@acme/logging", "@acme/shared"],
      },
      {
        name: "worker",
        path: "services/worker",
        dockerfile: "services/worker/Dockerfile",
        context: ".",
        packageName: "@acme/worker",
        version: "1.0.0",
        packageManager: "npm",
        scripts: { lint: false, test: true, build: false },
        dependsOn: [],
      },
    ]);
    expect(result.affected).toEqual(["api", "worker"]);
    expect(result.base).toBeNull();
    expect(result.revision).toEqual({
      sha: git(dir, "rev-parse", "HEAD").trim(),
      committedAt: new Date(git(dir, "log", "-1", "--format=%cI").trim()).toISOString(),
      sourceUrl: null,
    });
  });

  it("labels the source with the origin remote, never with its credentials", async () => {
    const dir = repo(monorepo());
    git(dir, "remote", "add", "origin", "https://x-access-token:ghs_SECRETTOKEN123@github.com/acme/shop.git");
    const result = await cli(["plan", "--source", dir, "--json"]);
    expect(JSON.parse(result.stdout).revision.sourceUrl).toBe("https://github.com/acme/shop");
    expect(result.stdout + result.stderr).not.toContain("SECRETTOKEN");
  });

  it("has no revision outside a git repository", async () => {
    const dir = tempTree(monorepo());
    dirs.push(dir);
    expect((await plan(dir, {})).revision).toBeNull();
  });

  it.each([
    ["only services/worker changed", { "services/worker/src/main.ts": "export const x = 1;\n" }, ["worker"]],
    ["a workspace package the api depends on", { "packages/shared/index.js": "export const y = 2;\n" }, ["api"]],
    ["a transitive workspace dependency", { "packages/logging/index.js": "export const z = 3;\n" }, ["api"]],
    ["a workspace package nobody uses", { "packages/unused/index.js": "export const u = 1;\n" }, []],
    ["the root lockfile", { "package-lock.json": '{"lockfileVersion":3}\n' }, ["api", "worker"]],
    ["the root package.json", { "package.json": pkg("root", { private: true, workspaces: ["services/*", "packages/*"], x: 1 }) }, ["api", "worker"]],
    ["only docs", { "README.md": "# changed\n", "docs/runbook.txt": "new\n", "services/api/README.md": "api docs\n" }, []],
    ["a service's Dockerfile", { "services/api/Dockerfile": `${DOCKERFILE}USER 10001\n` }, ["api"]],
    ["a new file in a service", { "services/worker/src/new.ts": "export {};\n" }, ["worker"]],
    ["an unrelated root file", { ".editorconfig": "root = true\n" }, []],
  ])("affected when %s", async (_name, change, expected) => {
    expect(await affectedAfter(change)).toEqual(expected);
  });

  it("counts uncommitted and untracked work since the base", async () => {
    expect(await affectedAfter({ "services/api/src/draft.ts": "export {};\n" }, { commit: false })).toEqual(["api"]);
  });

  it("compares with the merge-base, so commits on the base branch do not count", async () => {
    const dir = repo(monorepo());
    git(dir, "checkout", "-q", "-b", "feature");
    commitAll(dir, "worker change", { "services/worker/src/main.ts": "export const a = 1;\n" });
    git(dir, "checkout", "-q", "main");
    commitAll(dir, "api change on main", { "services/api/src/main.ts": "export const b = 1;\n" });
    git(dir, "checkout", "-q", "feature");
    const result = await plan(dir, {}, { base: "main" });
    expect(result.affected).toEqual(["worker"]);
    expect(result.reasons).toEqual({ worker: ["services/worker/src/main.ts"] });
  });

  it("sees both sides of a rename", async () => {
    const dir = repo(monorepo());
    git(dir, "mv", "services/api/src/main.ts", "services/worker/src/moved.ts");
    git(dir, "commit", "-q", "-m", "move");
    expect((await plan(dir, {}, { base: "HEAD~1" })).affected).toEqual(["api", "worker"]);
  });

  it("honours plan.affectsAll and plan.ignore from the config", async () => {
    const dir = repo(monorepo());
    commitAll(dir, "c", { "tsconfig.base.json": "{}\n", "services/api/CHANGELOG.txt": "x\n" });
    const config = { plan: { affectsAll: ["tsconfig.base.json"], ignore: ["**/CHANGELOG.txt"] } };
    expect((await plan(dir, config, { base: "HEAD~1" })).affected).toEqual(["api", "worker"]);
    expect((await plan(dir, { plan: { ignore: ["**/CHANGELOG.txt"] } }, { base: "HEAD~1" })).affected).toEqual([]);
  });

  it("accepts globs and explicit entries from slipway.yaml", async () => {
    const dir = repo({
      "package.json": pkg("root"),
      "apps/web/package.json": pkg("web"),
      "apps/web/Dockerfile": DOCKERFILE,
      "apps/lib/package.json": pkg("lib"),
      "tools/billing/package.json": pkg("billing", { packageManager: "pnpm@9.1.0" }),
      "tools/billing/pnpm-lock.yaml": "lockfileVersion: '9.0'\n",
      "docker/billing.Dockerfile": DOCKERFILE,
      "edge/package.json": pkg("edge"),
      "edge/Dockerfile": DOCKERFILE,
    });
    const result = await plan(dir, {
      services: ["apps/*", "*/", { name: "billing", path: "tools/billing", dockerfile: "docker/billing.Dockerfile" }],
    });
    expect(result.services.map((s) => [s.name, s.path, s.dockerfile, s.context, s.packageManager])).toEqual([
      ["billing", "tools/billing", "docker/billing.Dockerfile", "tools/billing", "pnpm"],
      // The root declares no workspaces: each is a project of its own and builds from its folder.
      ["edge", "edge", "edge/Dockerfile", "edge", "npm"],
      ["web", "apps/web", "apps/web/Dockerfile", "apps/web", "npm"],
    ]);
  });

  it("builds standalone services (no root package.json, as docker-compose repositories are) from their own folder, lockfile or not", async () => {
    // The usual compose layout: each service `COPY package*.json ./` then `npm ci`/`npm install` in its folder.
    const own = "FROM node:20-bookworm-slim\nWORKDIR /app\nCOPY package*.json ./\nRUN npm install --omit=dev\nCOPY . .\n";
    const dir = repo({
      "docker-compose.yml": "services:\n  orders: { build: ./services/orders }\n  payments: { build: ./services/payments }\n",
      "services/orders/package.json": pkg("orders"),
      "services/orders/package-lock.json": "{}\n",
      "services/orders/Dockerfile": own,
      "services/payments/package.json": pkg("payments"),
      "services/payments/Dockerfile": own,
    });
    const result = await plan(dir, {});
    expect(result.services.map((s) => [s.name, s.context])).toEqual([["orders", "services/orders"], ["payments", "services/payments"]]);
    expect(result.warnings).toEqual([]);
  });

  it("reads pnpm-workspace.yaml as YAML: comments, flow sequences, quoting and negated globs decide the members", async () => {
    const files = {
      "package.json": pkg("root", { private: true, packageManager: "pnpm@9.12.0" }),
      "pnpm-lock.yaml": "lockfileVersion: '9.0'\n",
      // Shaped like pnpm's own docs (pnpm.io/pnpm-workspace_yaml): quoted globs, a comment, a negation.
      "pnpm-workspace.yaml": [
        "packages:",
        "  # all services",
        "  - 'services/*'",
        '  - "packages/**"   # shared code',
        "  # not the test fixtures",
        "  - '!**/fixtures/**'",
        "catalog:",
        "  react: ^18",
        "",
      ].join("\n"),
      "packages/shared/package.json": pkg("@acme/shared"),
      "packages/shared/index.js": "export {};\n",
      "packages/fixtures/fake/package.json": pkg("@acme/fake"),
      "packages/fixtures/fake/index.js": "export {};\n",
      "services/api/package.json": pkg("@acme/api", { dependencies: { "@acme/shared": "workspace:*", "@acme/fake": "workspace:*" } }),
      "services/api/Dockerfile": DOCKERFILE,
    };
    const block = repo(files);
    commitAll(block, "shared", { "packages/shared/index.js": "export const x = 1;\n" });
    const viaShared = await plan(block, {}, { base: "HEAD~1" });
    expect(viaShared.services.map((s) => [s.name, s.context, s.packageManager, s.dependsOn])).toEqual([["api", ".", "pnpm", ["@acme/shared"]]]);
    expect(viaShared.affected).toEqual(["api"]);
    // A negated package is not a workspace dependency: changing it affects nothing.
    commitAll(block, "fixture", { "packages/fixtures/fake/index.js": "export const y = 2;\n" });
    expect((await plan(block, {}, { base: "HEAD~1" })).affected).toEqual([]);
    // The same list in flow style.
    const flow = repo({ ...files, "pnpm-workspace.yaml": "packages: ['services/*', \"packages/**\", '!**/fixtures/**'] # flow\n" });
    expect((await plan(flow, {})).services.map((s) => s.dependsOn)).toEqual([["@acme/shared"]]);
  });

  it.each([
    ["invalid YAML", "packages:\n  - 'services/*\n", /pnpm-workspace\.yaml" cannot be read/],
    ["packages that is not a list of strings", "packages: services/*\n", /`packages` must be a list of glob strings/],
  ])("refuses a pnpm-workspace.yaml with %s (exit 2), instead of dropping packages", async (_name, yaml, message) => {
    const dir = repo({ ...monorepo(), "pnpm-workspace.yaml": yaml });
    const error = await planError(dir);
    expect(error.code).toBe("SLIPWAY_WORKSPACE_INVALID");
    expect(error.exitCode).toBe(2);
    expect(error.message).toMatch(message);
  });

  it("warns when a Dockerfile copies what its build context does not hold, naming file, line and context", async () => {
    const dir = repo({
      ...monorepo(),
      // A workspace member whose Dockerfile was written for its own folder: builds from the root, where
      // `src/` is not; the multi-stage COPY --from, the heredoc and the variable are not context paths.
      "services/api/Dockerfile": [
        "FROM node:20-bookworm-slim AS build",
        "WORKDIR /app",
        "COPY package.json package-lock.json ./",
        "COPY [\"src\", \"./src\"]",
        "COPY services/api/src \\",
        "     ./src2",
        "COPY *.lock ./",
        "COPY <<EOF /app/.npmrc",
        "fund=false",
        "EOF",
        "ARG CONFIG=config",
        "COPY ${CONFIG} ./",
        "FROM node:20-bookworm-slim",
        "COPY --from=build /app /app",
        "ADD https://example.com/ca.pem /etc/ca.pem",
        "",
      ].join("\n"),
    });
    const result = await plan(dir, {});
    expect(result.warnings).toEqual([
      'service "api": services/api/Dockerfile:4 COPY "src" does not exist in the build context "."; set `context` for it in slipway.yaml, or fix the Dockerfile',
      'service "api": services/api/Dockerfile:7 COPY "*.lock" matches nothing in the build context "."; set `context` for it in slipway.yaml, or fix the Dockerfile',
    ]);
    const cliRun = await cli(["plan", "--source", dir, "--json"], dir);
    expect(cliRun.code).toBe(0);
    expect(JSON.parse(cliRun.stdout).warnings).toHaveLength(2);
    expect(cliRun.stderr).toMatch(/^warning: service "api": services\/api\/Dockerfile:4 COPY "src"/m);
    const table = await cli(["plan", "--source", dir], dir);
    expect(table.stdout).toMatch(/^warning: service "api": .*:7 COPY "\*\.lock" matches nothing/m);
  });

  it.each([
    ["a repo without services/ and without config", { "package.json": pkg("root") }, {}, "SLIPWAY_NO_SERVICES", /services\//],
    [
      "an explicit service without a Dockerfile",
      { "svc/package.json": pkg("svc") },
      { services: [{ name: "svc", path: "svc" }] },
      "SLIPWAY_SERVICE_NO_DOCKERFILE",
      /"svc\/Dockerfile"/,
    ],
    ["an explicit service folder that does not exist", {}, { services: [{ path: "nowhere" }] }, "SLIPWAY_SERVICE_INVALID", /"nowhere"/],
    [
      "a folder name that is not a valid service name",
      { "apps/My_App/package.json": pkg("x"), "apps/My_App/Dockerfile": DOCKERFILE },
      { services: ["apps/*"] },
      "SLIPWAY_SERVICE_NAME",
      /"My_App"/,
    ],
    [
      "two folders with one name",
      { "a/api/package.json": pkg("a"), "a/api/Dockerfile": DOCKERFILE, "b/api/package.json": pkg("b"), "b/api/Dockerfile": DOCKERFILE },
      { services: ["a/*", "b/*"] },
      "SLIPWAY_SERVICE_NAME",
      /"a\/api" and "b\/api"/,
    ],
    ["a glob that matches no service", { "x/package.json": pkg("x") }, { services: ["apps/*"] }, "SLIPWAY_NO_SERVICES", /"apps\/\*"/],
  ])("fails clearly for %s", async (_name, files, config, code, message) => {
    const dir = tempTree(files as Record<string, string>);
    dirs.push(dir);
    const error = await planError(dir, config);
    expect(error.code).toBe(code);
    expect(error.exitCode).toBe(2);
    expect(error.message).toMatch(message);
  });

  it("fails clearly for a base ref that does not exist, and hints at shallow clones", async () => {
    const dir = repo(monorepo());
    const error = await planError(dir, {}, "origin/nope");
    expect(error.code).toBe("SLIPWAY_BASE_NOT_FOUND");
    expect(error.message).toContain('"origin/nope"');
    expect(error.details.join("\n")).toContain("fetch-depth: 0");
  });

  it("fails clearly when --base is given outside a git repository", async () => {
    const dir = tempTree(monorepo());
    dirs.push(dir);
    expect((await planError(dir, {}, "main")).code).toBe("SLIPWAY_NOT_A_GIT_REPO");
  });

  it("decides affected services from paths alone (pure)", () => {
    const svc = (name: string, path: string, dependsOn: string[] = []): Service => ({
      name,
      path,
      dockerfile: `${path}/Dockerfile`,
      context: ".",
      packageName: name,
      version: null,
      packageManager: "npm",
      scripts: { lint: false, test: false, build: false },
      dependsOn,
    });
    const services = [svc("a", "svc/a"), svc("ab", "svc/ab", ["lib"])];
    const workspace = [{ name: "lib", path: "libs/lib", dependencies: [] }];
    // "svc/a" must not claim files of its sibling "svc/ab".
    expect(affectedServices(services, workspace, ["svc/ab/x.ts"]).affected).toEqual(["ab"]);
    expect(affectedServices(services, workspace, ["libs/lib/x.ts"]).reasons).toEqual({ ab: ["libs/lib/x.ts (workspace dependency lib)"] });
    expect(affectedServices(services, workspace, ["libs/library/x.ts"]).affected).toEqual([]);
  });
});

describe("slipway plan", () => {
  it("prints JSON with services and affected, and only worker when only worker changed", async () => {
    const dir = repo(monorepo());
    commitAll(dir, "worker", { "services/worker/src/main.ts": "export const w = 1;\n" });
    const result = await cliProcess(["plan", "--source", dir, "--base", "HEAD~1", "--json"]);
    expect(result.code).toBe(0);
    const parsed = JSON.parse(result.stdout) as { affected: string[]; services: { name: string }[]; base: string };
    expect(parsed.affected).toEqual(["worker"]);
    expect(parsed.services.map((s) => s.name)).toEqual(["api", "worker"]);
    expect(parsed.base).toBe("HEAD~1");
  });

  it("prints a table a person reads without --json", async () => {
    const dir = repo(monorepo());
    const result = await cli(["plan", "--source", dir]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^\s+SERVICE\s+PATH\s+TOOLCHAIN\s+SCRIPTS\s+DEPENDS ON$/m);
    expect(result.stdout).toMatch(/^\*\s+api\s+services\/api\s+npm \(the image's\), Node 20 \(default\)\s+lint,test,build\s+@acme\/logging,@acme\/shared$/m);
    expect(result.stdout).toContain("all 2 services are affected");
  });

  it("restricts to --service and rejects unknown names", async () => {
    const dir = repo(monorepo());
    expect(JSON.parse((await cli(["plan", "--source", dir, "--service", "api", "--json"])).stdout).affected).toEqual(["api"]);
    const bad = await cli(["plan", "--source", dir, "--service", "../etc"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("SLIPWAY_UNKNOWN_SERVICE");
    expect(bad.stderr).toContain("Known services: api, worker");
  });

  it.each([
    [["plan"], "SLIPWAY_USAGE"],
    [["plan", "--source", ".", "--base", "--all"], "SLIPWAY_USAGE"],
    [["plan", "--source", "/does/not/exist"], "SLIPWAY_SOURCE_NOT_FOUND"],
    [["plan", "--source", ".", "--bogus"], "SLIPWAY_USAGE"],
    [["plna"], "SLIPWAY_UNKNOWN_COMMAND"],
  ])("exits 2 with a clear error for %j", async (argv, code) => {
    const result = await cli(argv);
    expect(result.code).toBe(2);
    expect(result.stderr.startsWith(`${code}: `)).toBe(true);
    expect(result.stdout).toBe("");
  });

  it("writes nothing into the source, even on errors", async () => {
    const dir = repo(monorepo());
    const before = readdirSync(dir).sort();
    await cli(["plan", "--source", dir, "--base", "nope"]);
    await cli(["plan", "--source", dir, "--json"]);
    expect(readdirSync(dir).sort()).toEqual(before);
    expect(git(dir, "status", "--porcelain")).toBe("");
  });

  it("lists api and worker for this repository", async () => {
    expect(existsSync(join(REPO_ROOT, "services"))).toBe(true);
    const result = await cli(["plan", "--source", REPO_ROOT, "--json"]);
    expect(result.stderr).toBe("");
    const parsed = JSON.parse(result.stdout) as { services: { name: string; scripts: Record<string, boolean> }[]; affected: string[] };
    expect(parsed.services.map((s) => s.name)).toEqual(["api", "worker"]);
    expect(parsed.affected).toEqual(["api", "worker"]);
    for (const s of parsed.services) expect(s.scripts).toEqual({ lint: true, test: true, build: true });
  });
});
