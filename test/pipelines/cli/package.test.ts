// The published CLI (issue 16): `npm pack` of the pipelines workspace (its prepack builds the esbuild
// bundle) gives a tarball of the bundle, the bin and the schemas, with no dependencies; installed into a
// fresh project from that tarball alone, with npm offline, `npx slipway` answers and plans a real git
// repository. Nothing is published from here: this is what `npm publish` would upload.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../helpers/cli.js";
import { removeTree, tempRepo } from "../../helpers/repo.js";
import { npmWorkspace } from "../../helpers/sample-repos.js";

const dirs: string[] = [];
afterAll(() => dirs.forEach(removeTree));

function temp(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

/** npm or npx with the network cut off (--offline: npm may use its cache but never the registry). */
function npm(bin: "npm" | "npx", args: string[], cwd: string, extra: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env, ...extra, npm_config_offline: "true", npm_config_audit: "false", npm_config_fund: "false", npm_config_update_notifier: "false", NODE_NO_WARNINGS: "1" };
    execFile(bin, args, { cwd, env, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

describe("pipelines/package.json: the @slipway/cli package", () => {
  it("packs the bundle, bin and schemas only; installs from the tarball offline; npx slipway runs --version and plan", async () => {
    const out = temp("slipway-pack-");
    const pack = await npm("npm", ["pack", "-w", "pipelines", "--pack-destination", out, "--json"], REPO_ROOT);
    expect(pack.code, pack.stderr).toBe(0);
    const [packed] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf("["))) as { name: string; filename: string; files: { path: string }[] }[];
    expect(packed?.name).toBe("@slipway/cli");
    const files = (packed?.files ?? []).map((f) => f.path).sort();
    expect(files).toContain("bin/slipway.js");
    expect(files).toContain("dist/slipway.js");
    expect(files).toContain("schema/slipway.schema.json");
    expect(files).toContain("package.json");
    // The bundle's chunks, and nothing of the sources, the build's metafile or a node_modules.
    expect(files.some((f) => f.startsWith("dist/chunks/"))).toBe(true);
    // The Kubernetes client and zod are CommonJS files with their V8 code caches (pipelines/scripts/build.mjs).
    expect(files).toEqual(expect.arrayContaining(["dist/chunks/kube.cjs", "dist/chunks/kube.cjs.cache", "dist/chunks/zod.cjs", "dist/chunks/zod.cjs.cache"]));
    expect(files.filter((f) => !/^(bin\/slipway\.js|package\.json|dist\/slipway\.js|dist\/chunks\/(?:[^/]+\.(js|LEGAL\.txt)|(?:kube|zod)\.cjs(?:\.cache)?)|schema\/.+\.schema\.json)$/.test(f))).toEqual([]);

    const manifest = JSON.parse(readFileSync(join(REPO_ROOT, "pipelines", "package.json"), "utf8")) as Record<string, unknown>;
    expect(manifest.dependencies ?? {}).toEqual({});
    expect(manifest.bin).toEqual({ slipway: "bin/slipway.js" });

    const project = temp("slipway-npx-");
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "uses-slipway", version: "1.0.0", private: true }));
    const install = await npm("npm", ["install", join(out, (packed as { filename: string }).filename)], project);
    expect(install.code, install.stderr).toBe(0);
    // Nothing but the CLI itself was installed: the bundle holds every library.
    expect(readdirSync(join(project, "node_modules")).filter((n) => !n.startsWith("."))).toEqual(["@slipway"]);
    expect(existsSync(join(project, "node_modules", "@slipway", "cli", "src"))).toBe(false);

    const version = await npm("npx", ["slipway", "--version"], project);
    expect(version.code, version.stderr).toBe(0);
    expect(version.stdout).toBe(`slipway ${manifest.version as string}\n`);

    const repo = tempRepo(npmWorkspace());
    dirs.push(repo);
    const plan = await npm("npx", ["slipway", "plan", "--source", repo, "--json"], project);
    expect(plan.code, plan.stderr).toBe(0);
    const parsed = JSON.parse(plan.stdout) as { schemaVersion: number; revision: { sha: string } | null; services: { name: string }[] };
    expect(parsed.schemaVersion).toBe(1);
    expect(parsed.services.map((s) => s.name)).toContain("api");
    expect(parsed.revision?.sha).toMatch(/^[0-9a-f]{40}$/);

    // The Kubernetes client loads from the installed package with the code cache its build made (same Node).
    const kubeconfig = join(project, "kubeconfig");
    writeFileSync(kubeconfig, "apiVersion: v1\nkind: Config\ncurrent-context: x\nclusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n");
    const verify = await npm("npx", ["slipway", "rollout", "verify", "-n", "shop", "--deployment", "api", "--kubeconfig", kubeconfig, "--context", "absent"], project, { SLIPWAY_TRACE_CODE_CACHE: "1" });
    expect(verify.code, verify.stderr).toBe(2);
    expect(verify.stderr).toMatch(/^code cache: .*\/node_modules\/@slipway\/cli\/dist\/chunks\/kube\.cjs accepted \(\d+ bytes\)$/m);
    expect(verify.stderr).toContain("SLIPWAY_KUBE_CONTEXT_NOT_FOUND");

    // An error is coded and a non-zero exit, as from the repository's bin.
    const bad = await npm("npx", ["slipway", "plan", "--source", join(project, "missing"), "--json"], project);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/SLIPWAY_[A-Z_]+/);
  }, 90_000);
});
