// Start-up (issue 16): the CLI is an esbuild bundle split into chunks (pipelines/scripts/build.mjs), and a
// command must read only what it uses. Checked on a bundle built for this test, two ways: its metafile
// (what each command's module reaches through static imports, i.e. what loading it reads for sure) and a
// real process with a module resolve hook naming every chunk it loads, mapped back to the packages the
// chunk holds. Which code loads, not how long it takes: speed is measured by `npm run bench -- cli`.
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../helpers/cli.js";
import { removeTree } from "../../helpers/repo.js";

interface Metafile {
  inputs: Record<string, { imports: { path: string; kind: string; external?: boolean }[] }>;
  outputs: Record<string, { entryPoint?: string; imports: { path: string; kind: string; external?: boolean }[]; inputs: Record<string, unknown> }>;
}

/** The libraries no command may load before it needs them. */
const HEAVY = ["zod", "simple-git", "semver", "dockerfile-ast", "@kubernetes/client-node", "@azure/identity", "@azure/container-registry", "@azure/core-rest-pipeline", "yaml"];

let dir = "";
let meta: Metafile;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "slipway-bundle-"));
  execFileSync(process.execPath, [join(REPO_ROOT, "pipelines", "scripts", "build.mjs"), "--outdir", join(dir, "dist")], { stdio: "pipe" });
  meta = JSON.parse(readFileSync(join(dir, "dist", "meta.json"), "utf8")) as Metafile;
}, 120_000);
afterAll(() => removeTree(dir));

/**
 * The libraries the build loads from a CommonJS file with its V8 code cache (chunks/NAME.cjs): an output
 * holding the module that loads one (`slipway-cached:NAME` in the metafile) counts as holding the library.
 */
const CACHED: Record<string, string> = { kube: "@kubernetes/client-node", zod: "zod" };

/** The npm packages whose code an output holds. */
function packagesOf(output: string): Set<string> {
  const found = new Set<string>();
  for (const input of Object.keys(meta.outputs[output]?.inputs ?? {})) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (match) found.add(match[1] as string);
    const cached = /^slipway-cached:(\w+)$/.exec(input);
    if (cached) found.add(CACHED[cached[1] as string] ?? `unknown cached library ${cached[1]}`);
  }
  return found;
}

/** Every package an output and the outputs it imports statically hold: what loading it reads. */
function staticPackages(output: string, seen = new Set<string>()): Set<string> {
  if (!seen.has(output)) {
    seen.add(output);
    for (const i of meta.outputs[output]?.imports ?? []) if (i.kind === "import-statement" && !i.external) staticPackages(i.path, seen);
  }
  return new Set([...seen].flatMap((o) => [...packagesOf(o)]));
}

/** Every source file an output and the outputs it imports statically hold. */
function staticInputs(output: string, seen = new Set<string>()): Set<string> {
  if (!seen.has(output)) {
    seen.add(output);
    for (const i of meta.outputs[output]?.imports ?? []) if (i.kind === "import-statement" && !i.external) staticInputs(i.path, seen);
  }
  return new Set([...seen].flatMap((o) => Object.keys(meta.outputs[o]?.inputs ?? {})));
}

function outputOf(entryPoint: string): string {
  const found = Object.entries(meta.outputs).find(([, o]) => o.entryPoint === entryPoint);
  if (!found) throw new Error(`no output for ${entryPoint} in the metafile`);
  return found[0];
}

// A module resolve hook (node:module register) that names every file the process loads, on stderr.
const HOOK = `export async function resolve(s, c, next) { const r = await next(s, c); if (r.url.startsWith("file:")) process.stderr.write("LOADED " + r.url + "\\n"); return r; }`;
const REGISTER = `data:text/javascript,${encodeURIComponent(`import { register } from "node:module"; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(HOOK)}`)});`)}`;

/** Runs the test's bundle with `args`; the packages held by the chunks it loaded. */
function loadedPackages(args: string[]): Promise<{ code: number; packages: string[]; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["--import", REGISTER, join(dir, "dist", "slipway.js"), ...args], { cwd: dir, env: { PATH: process.env.PATH, HOME: dir, NODE_NO_WARNINGS: "1", SLIPWAY_TRACE_CODE_CACHE: "1" } }, (error, _stdout, stderr) => {
      const chunks = [...stderr.matchAll(/^LOADED file:\/\/.*\/dist\/(?:chunks\/)?([^/\s]+\.js)$/gm)].map((m) => m[1] as string);
      const byName = new Map(Object.keys(meta.outputs).map((o) => [basename(o), o]));
      const packages = new Set(chunks.flatMap((c) => [...packagesOf(byName.get(c) ?? "")]));
      resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, packages: [...packages].sort(), stderr });
    });
  });
}

describe("pipelines/scripts/build.mjs: the bundle loads a command's libraries only when it runs", () => {
  it("the dispatcher (--help, --version, the command index) holds no library at all", () => {
    expect([...staticPackages(outputOf("src/cli/main.ts"))]).toEqual([]);
  });

  it.each(["config", "plan", "scan", "acr", "migrate", "gitops", "rollout", "release", "ledger", "notify", "report"])("the %s commands' module reaches none of the heavy libraries statically", (area) => {
    const held = staticPackages(outputOf(`src/${area}/commands.ts`));
    expect(HEAVY.filter((p) => held.has(p))).toEqual([]);
  });

  it("the modules a command loads when it runs do reach them (the check above can fail)", () => {
    expect([...staticPackages(outputOf("src/config/load.ts"))]).toContain("zod");
    expect([...staticPackages(outputOf("src/plan/plan.ts"))]).toEqual(expect.arrayContaining(["simple-git", "semver", "dockerfile-ast", "yaml"]));
  });

  it("reading a ledger (ledger show, acr prune) clones without loading the GitOps bump engine or its formats; commit-push reaches them", () => {
    const reading = staticInputs(outputOf("src/ledger/git.ts"));
    expect([...reading].filter((i) => i.startsWith("src/gitops/bump") || i.startsWith("src/gitops/formats/"))).toEqual([]);
    expect(reading).toContain("src/gitops/git.ts");
    // The positive control: the bump engine is an entry of its own, and it holds the formats.
    expect(staticInputs(outputOf("src/gitops/bump.ts"))).toContain("src/gitops/formats/registry.ts");
  });

  it("zod carries its English messages only: the other 47 locales are left out of the bundle", () => {
    const inputs = Object.values(meta.outputs).flatMap((o) => Object.keys(o.inputs));
    // The barrel (locales/index.js) is the build's own, exporting `en` (the plugin's namespace).
    const locales = inputs.filter((i) => /zod\/v4\/locales\/[^/]+\.js$/.test(i));
    expect(locales.filter((l) => !l.startsWith("slipway-zod-locales:")).map((l) => l.replace(/^.*\//, ""))).toEqual(["en.js"]);
    expect(locales.filter((l) => l.startsWith("slipway-zod-locales:")).map((l) => l.replace(/^.*\//, ""))).toEqual(["index.js"]);
    expect(inputs.some((i) => i.includes("zod/v4/classic/schemas.js"))).toBe(true);
  });

  it("a real process: --help of rollout verify, acr login and gitops bump loads no heavy library; config schema loads zod, rollout verify its client (the Azure SDK only for a kubelogin kubeconfig)", async () => {
    // A kubeconfig as `az aks get-credentials` writes it: its user execs kubelogin, so an Entra identity is needed.
    const kubelogin = join(dir, "kubelogin-kubeconfig");
    writeFileSync(
      kubelogin,
      "apiVersion: v1\nkind: Config\ncurrent-context: aks\nclusters: [{name: aks, cluster: {server: 'https://127.0.0.1:1'}}]\ncontexts: [{name: aks, context: {cluster: aks, user: u}}]\nusers: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: kubelogin, args: [get-token, --login, azurecli]}}}]\n",
    );
    const [rollout, acr, gitops, schema, verify, aks] = await Promise.all([
      loadedPackages(["rollout", "verify", "--help"]),
      loadedPackages(["acr", "login", "--help"]),
      loadedPackages(["gitops", "bump", "--help"]),
      loadedPackages(["config", "schema"]),
      loadedPackages(["rollout", "verify", "-n", "x", "--deployment", "api", "--kubeconfig", join(dir, "absent-kubeconfig")]),
      loadedPackages(["rollout", "verify", "-n", "x", "--deployment", "api", "--kubeconfig", kubelogin, "--azure-identity", "client-secret"]),
    ]);
    for (const help of [rollout, acr, gitops]) {
      expect(help.code, help.stderr).toBe(0);
      expect(HEAVY.filter((p) => help.packages.includes(p))).toEqual([]);
    }
    // The hook sees what loads: zod with config schema, the Kubernetes client when rollout verify runs.
    expect(schema.code, schema.stderr).toBe(0);
    expect(schema.packages).toContain("zod");
    // The Kubernetes client is the CommonJS chunks/kube.cjs, loaded with its V8 code cache (not through the
    // module loader the hook watches): the trace says so, and that V8 took the cache.
    expect(verify.stderr).toMatch(/^code cache: .*\/dist\/chunks\/kube\.cjs accepted \(\d+ bytes\)$/m);
    expect(verify.packages).toContain("@kubernetes/client-node");
    expect(packagesOf(outputOf("kube-client.js"))).toContain("@kubernetes/client-node");
    // zod likewise: config schema loads it from chunks/zod.cjs with its cache.
    expect(schema.stderr).toMatch(/^code cache: .*\/dist\/chunks\/zod\.cjs accepted \(\d+ bytes\)$/m);
    expect(packagesOf(outputOf("zod-client.js"))).toEqual(new Set(["zod"]));
    // Without slipway.yaml and without kubelogin: neither zod nor the Azure SDK (with MSAL, ~490 KB).
    expect(verify.packages.filter((p) => p === "zod" || p.startsWith("@azure/"))).toEqual([]);
    // With kubelogin, the identity's missing variables are named after @azure/identity was loaded.
    expect(aks.stderr).toContain("SLIPWAY_AZURE_IDENTITY");
    expect(aks.packages).toContain("@azure/identity");
  });
});
