// `ci` on the repositories teams have (issue 19): a pnpm workspace with a shared package whose services run
// on two Node majors, and a repository of standalone npm services (no root package.json) where one pins
// Node 22 and one has a stale lockfile, and a Yarn Berry workspace. The rest of the layouts (npm and Yarn 1 workspaces, missing
// lockfiles, the Node precedence) are decided by the plan and tested on the host (test/pipelines/plan/toolchain.test.ts).
//
// Only one Node.js binary can be had here, so the engine serves node:18/22/24-bookworm-slim from the same
// local image as node:20-bookworm-slim (test/images/base-image.ts OTHER_NODE_TAGS): the tests assert which
// base each service's execs asked for (the stand-in's recorded queries), not which Node.js ran in them.
import { describe, expect, it } from "vitest";
import { tempRepo } from "../../helpers/repo.js";
import { json, pnpmWorkspace, standaloneNpm, yarnBerryWorkspace } from "../../helpers/sample-repos.js";
import type { E2E } from "./context.js";
import { inSession } from "./world.js";

/**
 * The base images asked for (`from(address: ...)`, which the SDK writes `from (address: "...")`) by the
 * queries since `since` that run `command`: each exec is sent with its whole chain, base image included.
 */
function basesOf(e2e: E2E, since: number, command: string[], workdir?: string): string[] {
  const exec = JSON.stringify(command);
  const bases = e2e
    .world()
    .dagger.queries.slice(since)
    .filter((q) => q.includes(exec) && (workdir === undefined || q.includes(`withWorkdir (path: ${JSON.stringify(workdir)})`)))
    .flatMap((q) => [...q.matchAll(/\bfrom\s*\(address:\s*"([^"]+)"\)/g)].map((m) => m[1] as string));
  return [...new Set(bases)].sort();
}

async function ciOf(e2e: E2E, repo: string) {
  return inSession(async () => {
    const run = await e2e.slipway().ci(e2e.source(repo), undefined, undefined, false);
    return {
      passed: run.passed,
      install: run.install,
      services: run.services.map((s) => ({ name: s.name, lint: s.lint, test: s.test, build: s.build, image: s.image })),
      summary: e2e.look(await run.summary()),
      report: JSON.parse(await run.report().contents()) as { services: Array<{ name: string; toolchain?: string }> },
    };
  });
}

export function toolchainSuite(e2e: E2E): void {
  describe("ci per package manager, layout and Node version (issue 19)", () => {
    it("pnpm workspace with a shared package: pnpm 9.15.9 through corepack, api on Node 20 and worker (.nvmrc 22) on Node 22, each checked and imaged", async () => {
      const started = performance.now();
      const files = pnpmWorkspace();
      // Cheap: the worker only tests (api runs all three scripts through pnpm --filter).
      files["services/worker/package.json"] = json({ name: "worker", version: "1.0.0", private: true, type: "module", scripts: { test: "node --test" } });
      const repo = tempRepo({
        ...files,
        // Proves the scripts ran under the pinned pnpm (pnpm sets the user agent of the scripts it runs).
        "services/api/test/agent.test.js": 'import test from "node:test";\nimport assert from "node:assert/strict";\ntest("runs under pnpm 9.15.9", () => assert.match(process.env.npm_config_user_agent ?? "", /^pnpm\\/9\\.15\\.9 /));\n',
      });
      const since = e2e.world().dagger.queries.length;
      const run = await ciOf(e2e, repo);
      expect(run.services, run.summary).toEqual([
        { name: "api", lint: "passed", test: "passed", build: "passed", image: "built" },
        { name: "worker", lint: "skipped", test: "passed", build: "skipped", image: "built" },
      ]);
      expect(run.passed).toBe(true);
      expect(run.summary).toMatch(/^api\s+\| pnpm 9\.15\.9, Node 20 \(default\)\s+\| passed/m);
      expect(run.summary).toMatch(/^worker\s+\| pnpm 9\.15\.9, Node 22 \(services\/worker\/\.nvmrc\)\s+\| skipped/m);
      expect(run.report.services.map((s) => [s.name, s.toolchain])).toEqual([
        ["api", "pnpm 9.15.9, Node 20 (default)"],
        ["worker", "pnpm 9.15.9, Node 22 (services/worker/.nvmrc)"],
      ]);
      // The worker's build container asked for Node 22, api's for Node 20.
      expect(basesOf(e2e, since, ["corepack", "pnpm", "--filter", "worker", "run", "test"])).toEqual(["node:22-bookworm-slim"]);
      expect(basesOf(e2e, since, ["corepack", "pnpm", "--filter", "api", "run", "test"])).toEqual(["node:20-bookworm-slim"]);
      console.log(`toolchain e2e (pnpm workspace): ${((performance.now() - started) / 1000).toFixed(1)} s`);
    }, 15 * 60_000);

    it("Yarn Berry workspace: Yarn 4.9.1 through corepack from the registry slipway.yaml names, yarn install --immutable, yarn workspace api run SCRIPT", async () => {
      const started = performance.now();
      const files = yarnBerryWorkspace();
      // repo.yarnpkg.com (corepack's default source of Yarn 2+) cannot be reached here; the npm registry can.
      const repo = tempRepo({ ...files, "slipway.yaml": "build:\n  corepackRegistry: https://registry.npmjs.org\n" });
      const since = e2e.world().dagger.queries.length;
      const run = await ciOf(e2e, repo);
      expect(run.services, run.summary).toEqual([{ name: "api", lint: "passed", test: "passed", build: "passed", image: "built" }]);
      expect(run.passed).toBe(true);
      expect(run.summary).toMatch(/^api\s+\| yarn 4\.9\.1, Node 20 \(default\)\s+\| passed/m);
      expect(basesOf(e2e, since, ["corepack", "yarn", "install", "--immutable"])).toEqual(["node:20-bookworm-slim"]);
      console.log(`toolchain e2e (Yarn Berry workspace): ${((performance.now() - started) / 1000).toFixed(1)} s`);
    }, 15 * 60_000);

    it("standalone npm services, no root package.json: each installs in its folder, payments on Node 22; a stale lockfile fails by name and blocks only its service", async () => {
      const started = performance.now();
      const stale = standaloneNpm("services/stale", "stale");
      // A dependency added to package.json without `npm install`: the lockfile no longer matches.
      stale["services/stale/package.json"] = json({ name: "stale", version: "1.0.0", private: true, type: "module", scripts: { test: "node --test" }, dependencies: { lib: "file:./lib" } });
      stale["services/stale/lib/package.json"] = json({ name: "lib", version: "1.0.0" });
      // Cheap: each service only tests (the scripts run the same way whatever their name).
      const testOnly = (files: Record<string, string>, path: string, extra: Record<string, unknown> = {}) => {
        const pkg = JSON.parse(files[`${path}/package.json`] as string) as Record<string, unknown>;
        return { ...files, [`${path}/package.json`]: json({ ...pkg, scripts: { test: "node --test" }, ...extra }) };
      };
      const repo = tempRepo({
        "docker-compose.yml": "services:\n  orders: { build: ./services/orders }\n  payments: { build: ./services/payments }\n  stale: { build: ./services/stale }\n",
        ...testOnly(standaloneNpm("services/orders", "orders"), "services/orders"),
        ...testOnly(standaloneNpm("services/payments", "payments", { engines: { node: "^22.11.0" } }, { base: "node:22-bookworm-slim" }), "services/payments"),
        ...stale,
      });
      const since = e2e.world().dagger.queries.length;
      const run = await ciOf(e2e, repo);
      expect(run.services, run.summary).toEqual([
        { name: "orders", lint: "skipped", test: "passed", build: "skipped", image: "built" },
        { name: "payments", lint: "skipped", test: "passed", build: "skipped", image: "built" },
        { name: "stale", lint: "skipped", test: "blocked", build: "skipped", image: "built" },
      ]);
      expect([run.passed, run.install]).toEqual([false, "failed"]);
      expect(run.summary).toMatch(/^payments\s+\| npm \(the image's\), Node 22 \(services\/payments\/package\.json engines\.node\)/m);
      expect(run.summary).toContain("SLIPWAY_LOCKFILE_STALE: services/stale/package-lock.json is out of date with the package.json files it locks");
      expect(run.summary).toContain("Run `npm install` in services/stale and commit services/stale/package-lock.json.");
      expect(run.summary).toContain("install in services/stale (npm (the image's), Node 20 (default)): `npm ci --no-audit --no-fund` exited with 1");
      expect(run.summary).toMatch(/FAILED: 1 of 3 service\(s\) failed \(stale\)/);
      // Each service's scripts ran in its own folder, on its own base.
      const npmTest = ["npm", "run", "test"];
      expect(basesOf(e2e, since, npmTest, "/src/services/payments")).toEqual(["node:22-bookworm-slim"]);
      expect(basesOf(e2e, since, npmTest, "/src/services/orders")).toEqual(["node:20-bookworm-slim"]);
      console.log(`toolchain e2e (standalone npm): ${((performance.now() - started) / 1000).toFixed(1)} s`);
    }, 15 * 60_000);
  });
}
