import { afterEach, describe, expect, it } from "vitest";
import { parsePlan, selectServices, toolchainOf } from "../../.dagger/src/plan.js";
import { installFailure, installGroups, installNotStarted } from "../../.dagger/src/toolchain.js";
import { renderSummary } from "../../.dagger/src/report.js";
import { cli } from "../helpers/cli.js";
import { removeTree, tempRepo } from "../helpers/repo.js";
import { npmWorkspace, pnpmWorkspace, standaloneNpm } from "../helpers/sample-repos.js";

// The module runs what `slipway plan --json` decided: the real CLI on sample repositories, its output read
// by the module's parser and grouped into installs as checkServices does.
describe(".dagger/src/toolchain against `slipway plan --json`", () => {
  const dirs: string[] = [];
  afterEach(() => {
    while (dirs.length) removeTree(dirs.pop() as string);
  });
  async function planOf(files: Record<string, string>) {
    const dir = tempRepo(files);
    dirs.push(dir);
    const result = await cli(["plan", "--source", dir, "--json"]);
    expect(result.stderr).toBe("");
    return parsePlan(result.stdout);
  }
  const groups = (plan: Awaited<ReturnType<typeof planOf>>) =>
    installGroups(selectServices(plan, "all").selected, (s) => toolchainOf(plan, s)).map((g) => ({
      image: g.toolchain.image,
      root: g.toolchain.installRoot,
      install: g.toolchain.install.join(" "),
      services: g.services.map((s) => s.name),
    }));

  it("an npm workspace is one npm ci at the root for both services", async () => {
    expect(groups(await planOf(npmWorkspace()))).toEqual([
      { image: "node:20-bookworm-slim", root: ".", install: "npm ci --no-audit --no-fund", services: ["api", "worker"] },
    ]);
  });

  it("a pnpm workspace whose worker pins Node 22 is two installs of the same root, one per Node major", async () => {
    const plan = await planOf(pnpmWorkspace());
    const pnpm = "corepack pnpm install --frozen-lockfile --store-dir /home/node/.pnpm-store";
    expect(groups(plan)).toEqual([
      { image: "node:20-bookworm-slim", root: ".", install: pnpm, services: ["api"] },
      { image: "node:22-bookworm-slim", root: ".", install: pnpm, services: ["worker"] },
    ]);
    const worker = plan.services.find((s) => s.name === "worker");
    expect(worker && toolchainOf(plan, worker).scripts.test).toEqual(["corepack", "pnpm", "--filter", "worker", "run", "test"]);
  });

  it("standalone services install each in its own folder", async () => {
    const plan = await planOf({ ...standaloneNpm("services/a", "a"), ...standaloneNpm("services/b", "b", { engines: { node: ">=22 <23" } }) });
    expect(groups(plan).map((g) => [g.root, g.image, g.services])).toEqual([
      ["services/a", "node:20-bookworm-slim", ["a"]],
      ["services/b", "node:22-bookworm-slim", ["b"]],
    ]);
  });

  it("a stale lockfile's failure starts with SLIPWAY_LOCKFILE_STALE naming it; another failure keeps the manager's words only", async () => {
    const plan = await planOf({ ...standaloneNpm("services/a", "a") });
    const a = plan.services[0];
    if (!a) throw new Error("no service");
    const t = toolchainOf(plan, a);
    const npmStale = "npm error code EUSAGE\nnpm error\nnpm error `npm ci` can only install packages when your package.json and package-lock.json or npm-shrinkwrap.json are in sync. Please update your lock file with `npm install` before continuing.\nnpm error\nnpm error Missing: lib@1.0.0 from lock file\n";
    const stale = installFailure(t, 1, "", npmStale);
    expect(stale.split("\n")[0]).toBe("SLIPWAY_LOCKFILE_STALE: services/a/package-lock.json is out of date with the package.json files it locks");
    expect(stale).toContain("Run `npm install` in services/a and commit services/a/package-lock.json.");
    expect(stale).toContain("install in services/a (npm (the image's), Node 20 (default)): `npm ci --no-audit --no-fund` exited with 1");
    expect(stale).toContain("Missing: lib@1.0.0 from lock file");
    const network = installFailure(t, 1, "", "npm error code ECONNRESET\n");
    expect(network).not.toContain("SLIPWAY_LOCKFILE_STALE");
    expect(network).toContain("ECONNRESET");
  });

  it("a missing lockfile fails its install before it starts, naming the file, and the summary says which toolchain each service had", async () => {
    const files = { ...standaloneNpm("services/a", "a"), ...standaloneNpm("services/b", "b") };
    delete files["services/b/package-lock.json"];
    const plan = await planOf(files);
    const b = plan.services.find((s) => s.name === "b");
    if (!b) throw new Error("no service b");
    const text = installNotStarted(toolchainOf(plan, b));
    expect(text).toMatch(/^install in services\/b \(npm \(the image's\), Node 20 \(default\)\) not started:\nSLIPWAY_LOCKFILE_MISSING: services\/b\/package-lock\.json does not exist/);
    const summary = renderSummary({
      base: "",
      install: "failed",
      installFailure: text,
      passed: false,
      unaffected: [],
      gates: [],
      services: [
        { name: "a", toolchain: "npm (the image's), Node 20 (default)", lint: "passed", test: "passed", build: "passed", image: "built", scan: "not run", failures: [] },
        { name: "b", toolchain: "npm (the image's), Node 20 (default)", lint: "blocked", test: "blocked", build: "blocked", image: "built", scan: "not run", failures: [] },
      ].map((r) => ({ ...r, path: `services/${r.name}` })),
    });
    expect(summary).toMatch(/^service \| toolchain\s+\| lint\s+\| test/m);
    expect(summary).toMatch(/^b\s+\| npm \(the image's\), Node 20 \(default\) \| blocked/m);
    expect(summary).toContain("SLIPWAY_LOCKFILE_MISSING: services/b/package-lock.json does not exist");
  });

  it("a plan whose toolchain is not runnable is refused with every problem", () => {
    const plan = JSON.stringify({
      source: "/src", base: null, affected: [], services: [],
      toolchains: { api: { installRoot: "../x", manager: "npm", lockfile: "l", image: "i", key: "k", label: "l", stale: "s", install: "npm ci", scripts: {}, node: {}, env: {}, caches: [], staleMarkers: [], problem: null, version: null } },
    });
    expect(() => parsePlan(plan)).toThrow(/toolchains\.api\.install: expected a command[\s\S]*toolchains\.api\.scripts[\s\S]*toolchains\.api\.node\.major[\s\S]*toolchains\.api\.installRoot: must stay inside the source/);
    const service = { name: "web", path: "web", dockerfile: "web/Dockerfile", context: "web", scripts: {} };
    expect(() => parsePlan(JSON.stringify({ source: "/src", base: null, affected: [], services: [service], toolchains: {} }))).toThrow(/toolchains: no toolchain for service "web"/);
    // A plan from a CLI before toolchains existed keeps meaning npm ci at the root on Node 20.
    const old = parsePlan(JSON.stringify({ source: "/src", base: null, affected: [], services: [service] }));
    expect(toolchainOf(old, old.services[0] as (typeof old.services)[number]).install).toEqual(["npm", "ci", "--no-audit", "--no-fund"]);
  });
});
