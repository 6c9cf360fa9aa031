import { afterEach, describe, expect, it } from "vitest";
import { plan } from "../../../pipelines/src/plan/plan.js";
import { nodeMajorFor } from "../../../pipelines/src/plan/toolchain.js";
import type { Toolchain } from "../../../pipelines/src/plan/toolchain.js";
import type { SlipwayConfig } from "../../../pipelines/src/config/schema.js";
import { SlipwayConfig as ConfigSchema } from "../../../pipelines/src/config/schema.js";
import { cliProcess } from "../../helpers/cli.js";
import { rejected } from "../../helpers/errors.js";
import { removeTree, tempRepo } from "../../helpers/repo.js";
import { json, npmWorkspace, PNPM_PIN, pnpmWorkspace, standaloneNpm, yarnBerryWorkspace, yarnClassicWorkspace } from "../../helpers/sample-repos.js";

const dirs: string[] = [];
function repo(files: Record<string, string>): string {
  const dir = tempRepo(files);
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  while (dirs.length) removeTree(dirs.pop() as string);
});

async function toolchains(files: Record<string, string>, config: SlipwayConfig = {}): Promise<Record<string, Toolchain>> {
  return (await plan(repo(files), config)).toolchains;
}

/** What a user reads off a toolchain: where, with what, on which Node, which commands. */
function seen(t: Toolchain | undefined) {
  if (!t) throw new Error("no toolchain");
  return { root: t.installRoot, layout: t.layout, flavor: t.flavor, version: t.version, lockfile: t.lockfile, image: t.image, install: t.install, test: t.scripts.test, problem: t.problem };
}

const NPM_CI = ["npm", "ci", "--no-audit", "--no-fund"];

describe("pipelines/src/plan/toolchain", () => {
  it("npm workspace: one npm ci at the root for every member, scripts with -w, Node 20 by default", async () => {
    const t = await toolchains(npmWorkspace());
    expect(seen(t.api)).toEqual({
      root: ".", layout: "workspace", flavor: "npm", version: null, lockfile: "package-lock.json", image: "node:20-bookworm-slim",
      install: NPM_CI, test: ["npm", "run", "test", "-w", "services/api"], problem: null,
    });
    expect(t.worker?.scripts.lint).toEqual(["npm", "run", "lint", "-w", "services/worker"]);
    expect(t.api?.key).toBe(t.worker?.key);
    expect(t.api?.caches).toEqual([{ volume: "slipway-npm-node20", path: "/home/node/.npm" }]);
    expect(t.api?.node).toEqual({ major: 20, source: "default", file: null, value: null });
  });

  it("pnpm workspace with a shared package: corepack pnpm at the pinned version, --filter per service, the Node 22 member installs apart", async () => {
    const t = await toolchains(pnpmWorkspace());
    expect(seen(t.api)).toEqual({
      root: ".", layout: "workspace", flavor: "pnpm", version: "9.15.9", lockfile: "pnpm-lock.yaml", image: "node:20-bookworm-slim",
      install: ["corepack", "pnpm", "install", "--frozen-lockfile", "--store-dir", "/home/node/.pnpm-store"], test: ["corepack", "pnpm", "--filter", "api", "run", "test"], problem: null,
    });
    expect(seen(t.worker)).toMatchObject({ root: ".", image: "node:22-bookworm-slim", test: ["corepack", "pnpm", "--filter", "worker", "run", "test"] });
    expect(t.worker?.node).toEqual({ major: 22, source: ".nvmrc", file: "services/worker/.nvmrc", value: "22" });
    // Same root and lockfile, two Node majors: two installs, each with its own caches.
    expect(t.api?.key).not.toBe(t.worker?.key);
    expect(t.worker?.caches).toEqual([
      { volume: "slipway-pnpm-node22", path: "/home/node/.pnpm-store" },
      { volume: "slipway-corepack-node22", path: "/home/node/.corepack" },
    ]);
    expect(t.api?.env).toMatchObject({ COREPACK_HOME: "/home/node/.corepack", COREPACK_ENABLE_DOWNLOAD_PROMPT: "0", COREPACK_ENABLE_AUTO_PIN: "0" });
  });

  it("Yarn Berry workspace: yarn install --immutable, yarn workspace NAME run SCRIPT, Berry's global cache", async () => {
    const t = await toolchains(yarnBerryWorkspace());
    expect(seen(t.api)).toEqual({
      root: ".", layout: "workspace", flavor: "yarn-berry", version: "4.9.1", lockfile: "yarn.lock", image: "node:20-bookworm-slim",
      install: ["corepack", "yarn", "install", "--immutable"], test: ["corepack", "yarn", "workspace", "api", "run", "test"], problem: null,
    });
    expect(t.api?.caches[0]).toEqual({ volume: "slipway-yarn-berry-node20", path: "/home/node/.yarn-berry" });
    expect(t.api?.env.YARN_GLOBAL_FOLDER).toBe("/home/node/.yarn-berry");
  });

  it("build.corepackRegistry: corepack fetches the managers from that registry (COREPACK_NPM_REGISTRY); npm, which corepack does not run, is untouched", async () => {
    const build = { build: { corepackRegistry: "https://npm.mirror.example/" } };
    expect((await toolchains(yarnBerryWorkspace(), build)).api?.env.COREPACK_NPM_REGISTRY).toBe("https://npm.mirror.example/");
    expect((await toolchains(pnpmWorkspace(), build)).api?.env.COREPACK_NPM_REGISTRY).toBe("https://npm.mirror.example/");
    expect((await toolchains(npmWorkspace(), build)).api?.env).not.toHaveProperty("COREPACK_NPM_REGISTRY");
    expect((await toolchains(yarnBerryWorkspace())).api?.env).not.toHaveProperty("COREPACK_NPM_REGISTRY");
    // Not a URL for secrets, and https only.
    const bad = ConfigSchema.safeParse({ build: { corepackRegistry: "https://ci:s3cret@npm.mirror.example/" } });
    expect(bad.success).toBe(false);
    expect(JSON.stringify(bad.error?.issues)).toContain("must not carry credentials");
    expect(ConfigSchema.safeParse({ build: { corepackRegistry: "http://npm.mirror.example/" } }).success).toBe(false);
  });

  it("Yarn 1 workspace without packageManager: --frozen-lockfile through corepack's default Yarn 1", async () => {
    const t = await toolchains(yarnClassicWorkspace());
    expect(seen(t.api)).toMatchObject({ flavor: "yarn-classic", version: null, install: ["corepack", "yarn", "install", "--frozen-lockfile", "--non-interactive", "--cache-folder", "/home/node/.yarn-cache"] });
  });

  it("Yarn Berry lockfile with no pinned Yarn is refused by name (corepack would run Yarn 1 on it)", async () => {
    const files = yarnBerryWorkspace();
    files["package.json"] = json({ name: "shop", private: true, workspaces: ["services/*", "packages/*"] });
    const t = await toolchains(files);
    expect(t.api?.problem).toMatch(/^SLIPWAY_PACKAGE_MANAGER_UNPINNED: yarn\.lock was written by Yarn 2\+ .* package\.json pins no Yarn version/);
    // A checked-in release (yarnPath) pins it.
    files[".yarnrc.yml"] = "nodeLinker: node-modules\nyarnPath: .yarn/releases/yarn-4.5.0.cjs\n";
    expect(seen((await toolchains(files)).api)).toMatchObject({ flavor: "yarn-berry", version: "4.5.0", problem: null });
  });

  it("two standalone npm services, no root package.json: each installs in its own folder, one on Node 22 beside one on Node 20", async () => {
    const t = await toolchains({
      ...standaloneNpm("services/orders", "orders"),
      ...standaloneNpm("services/payments", "payments", { engines: { node: "^22.11.0" } }, { base: "node:22-bookworm-slim" }),
    });
    expect(seen(t.orders)).toEqual({
      root: "services/orders", layout: "standalone", flavor: "npm", version: null, lockfile: "services/orders/package-lock.json",
      image: "node:20-bookworm-slim", install: NPM_CI, test: ["npm", "run", "test"], problem: null,
    });
    expect(seen(t.payments)).toMatchObject({ root: "services/payments", image: "node:22-bookworm-slim", lockfile: "services/payments/package-lock.json" });
    expect(t.payments?.node).toEqual({ major: 22, source: "engines.node", file: "services/payments/package.json", value: "^22.11.0" });
    expect(t.payments?.caches).toEqual([{ volume: "slipway-npm-node22", path: "/home/node/.npm" }]);
  });

  it("a pinned npm runs through corepack; the cache volume is keyed by manager and Node major, not by the repository's paths", async () => {
    const t = await toolchains({ ...standaloneNpm("a", "a", { packageManager: "npm@10.9.2" }), ...standaloneNpm("b", "b") }, { services: ["a", "b"] });
    expect(t.a?.install).toEqual(["corepack", "npm", "ci", "--no-audit", "--no-fund"]);
    expect(t.a?.caches[0]?.volume).toBe(t.b?.caches[0]?.volume);
    expect(t.a?.key).not.toBe(t.b?.key);
  });

  it.each([
    ["standalone npm service without package-lock.json", { "svc/package.json": json({ name: "svc" }), "svc/Dockerfile": "FROM x\n" }, "svc/package-lock.json", /Run `npm install` in svc and commit svc\/package-lock\.json/],
    ["pnpm pinned at the root, only an npm lockfile", { "package.json": json({ name: "r", packageManager: PNPM_PIN }), "pnpm-workspace.yaml": "packages: [svc]\n", "package-lock.json": "{}\n", "svc/package.json": json({ name: "svc" }), "svc/Dockerfile": "FROM x\n" }, "pnpm-lock.yaml", /Run `pnpm install` in the repository root and commit pnpm-lock\.yaml/],
  ])("a missing lockfile is the install's failure naming the file (%s), never an install that writes one", async (_name, files, lockfile, hint) => {
    const t = await toolchains(files, { services: ["svc"] });
    expect(t.svc?.lockfile).toBe(lockfile);
    expect(t.svc?.problem).toMatch(new RegExp(`^SLIPWAY_LOCKFILE_MISSING: ${lockfile.replace(/[.]/g, "\\.")} does not exist`));
    expect(t.svc?.problem).toMatch(hint);
  });

  // What the managers print for a lockfile out of date, as they printed it here on sample repositories
  // whose package.json gained a `file:` dependency (npm 10.8, pnpm 9.15.9, Yarn 4.9.1; Yarn 1's message
  // is its frozenLockfileError string, src/reporters/lang/en.js).
  it.each([
    ["npm", standaloneNpm("services/svc", "svc"), "npm error `npm ci` can only install packages when your package.json and package-lock.json or npm-shrinkwrap.json are in sync. Please update your lock file with `npm install` before continuing.", "services/svc/package-lock.json", "npm install"],
    ["pnpm", pnpmWorkspace(), ' ERR_PNPM_OUTDATED_LOCKFILE  Cannot install with "frozen-lockfile" because pnpm-lock.yaml is not up to date with <ROOT>/services/worker/package.json', "pnpm-lock.yaml", "pnpm install"],
    ["yarn berry", yarnBerryWorkspace(), '➤ YN0028: │ +    lib: "file:./lib"\n➤ YN0028: The lockfile would have been modified by this install, which is explicitly forbidden.', "yarn.lock", "yarn install"],
    ["yarn 1", yarnClassicWorkspace(), "error Your lockfile needs to be updated, but yarn was run with `--frozen-lockfile`.", "yarn.lock", "yarn install"],
  ])("a stale lockfile (%s): the manager's frozen-mode refusal is recognised and the message names the file and the fix", async (_name, files, output, lockfile, update) => {
    const t = Object.values(await toolchains(files))[0] as Toolchain;
    expect(t.staleMarkers.some((m) => output.includes(m))).toBe(true);
    expect(t.stale).toMatch(new RegExp(`^SLIPWAY_LOCKFILE_STALE: ${lockfile.replace(/[.]/g, "\\.")} is out of date`));
    expect(t.stale).toContain(`Run \`${update}\``);
    // An unrelated failure (network) is not called a stale lockfile.
    expect(t.staleMarkers.some((m) => "npm error code ECONNREFUSED".includes(m))).toBe(false);
  });
});

describe("pipelines/src/plan/toolchain Node.js version", () => {
  it.each([
    [">=18", 24],
    ["^20.19.0", 20],
    [">=20.19 <21 || >=22.12", 24],
    ["22", 22],
    ["22.x", 22],
    ["v22.11.0", 22],
    ["lts/iron", 20],
    ["lts/*", 24],
    ["node", 24],
    ["16", null],
    ["banana", "invalid"],
  ] as const)("%s resolves to the highest supported major satisfying it: %s", (value, major) => {
    expect(nodeMajorFor(value)).toBe(major);
  });

  const svc = (files: Record<string, string>, pkgExtra: Record<string, unknown> = {}, rootExtra: Record<string, unknown> | null = null) => ({
    ...(rootExtra ? { "package.json": json({ name: "root", private: true, workspaces: ["services/*"], ...rootExtra }), "package-lock.json": "{}\n" } : {}),
    "services/api/package.json": json({ name: "api", ...pkgExtra }),
    "services/api/Dockerfile": "FROM x\n",
    ...(rootExtra ? {} : { "services/api/package-lock.json": "{}\n" }),
    ...files,
  });

  it.each([
    ["engines.node before .nvmrc", svc({ "services/api/.nvmrc": "20\n" }, { engines: { node: "^22" } }), {}, 22, "engines.node"],
    [".nvmrc before .node-version", svc({ "services/api/.nvmrc": "v18.20.4\n", "services/api/.node-version": "22\n" }), {}, 18, ".nvmrc"],
    [".node-version before volta", svc({ "services/api/.node-version": "22.3.0\n" }, { volta: { node: "20.11.1" } }), {}, 22, ".node-version"],
    ["volta.node", svc({}, { volta: { node: "22.11.0" } }), {}, 22, "volta.node"],
    ["the service folder before the workspace root", svc({ "services/api/.nvmrc": "22\n", ".nvmrc": "18\n" }, {}, {}), {}, 22, ".nvmrc"],
    ["the workspace root when the service says nothing", svc({}, {}, { engines: { node: ">=18 <21" } }), {}, 20, "engines.node"],
    ["slipway.yaml build.services over every file", svc({ "services/api/.nvmrc": "22\n" }), { build: { services: { api: { node: 18 } } } }, 18, "slipway.yaml build.services"],
    ["slipway.yaml build.node when no file says", svc({}), { build: { node: 22 } }, 22, "slipway.yaml build.node"],
    ["a file over slipway.yaml build.node", svc({ "services/api/.nvmrc": "20\n" }), { build: { node: 22 } }, 20, ".nvmrc"],
  ] as const)("precedence: %s", async (_name, files, config, major, source) => {
    const t = (await toolchains(files, config as SlipwayConfig)).api;
    expect([t?.node.major, t?.node.source, t?.image]).toEqual([major, source, `node:${major}-bookworm-slim`]);
  });

  it.each([
    ["engines.node no supported major satisfies", svc({}, { engines: { node: "^16" } }), "SLIPWAY_NODE_VERSION_UNSUPPORTED", /services\/api\/package\.json engines\.node asks for Node\.js "\^16", which no supported major \(18, 20, 22, 24\) satisfies/],
    ["an .nvmrc that is no version", svc({ "services/api/.nvmrc": "banana\n" }), "SLIPWAY_NODE_VERSION_INVALID", /services\/api\/\.nvmrc holds "banana"/],
  ])("refuses %s, naming the file, the value and the slipway.yaml override", async (_name, files, code, message) => {
    const error = await rejected(plan(repo(files), {}));
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
    expect(error.details.join("\n")).toContain("build.services.api.node");
  });

  it("slipway.yaml: build.node must be a supported major, build.services must name services", async () => {
    const parsed = ConfigSchema.safeParse({ build: { node: 16, services: { api: { node: 21 } } } });
    expect(parsed.success).toBe(false);
    const paths = parsed.error?.issues.map((i) => [i.path.join("."), i.message]);
    expect(paths).toEqual([
      ["build.node", "expected one of the supported Node.js majors 18, 20, 22, 24"],
      ["build.services.api.node", "expected one of the supported Node.js majors 18, 20, 22, 24"],
    ]);
    const error = await rejected(plan(repo(svc({})), { build: { services: { apx: { node: 22 } } } }));
    expect([error.code, error.message]).toEqual(["SLIPWAY_UNKNOWN_SERVICE", 'slipway.yaml build.services names unknown service "apx"']);
  });

  it("packageManager that corepack cannot read is refused by name", async () => {
    const error = await rejected(plan(repo(svc({}, { packageManager: "pnpm@latest" })), {}));
    expect([error.code, error.message]).toEqual(["SLIPWAY_PACKAGE_MANAGER_INVALID", 'services/api/package.json: packageManager "pnpm@latest" is not NAME@VERSION with NAME npm, pnpm or yarn']);
  });
});

describe("slipway plan toolchains", () => {
  it("--json carries each service's toolchain; the table says which manager, version and Node", async () => {
    const dir = repo(pnpmWorkspace());
    const result = await cliProcess(["plan", "--source", dir, "--json"]);
    expect(result.code).toBe(0);
    const parsed = JSON.parse(result.stdout) as { toolchains: Record<string, Toolchain> };
    expect(Object.keys(parsed.toolchains)).toEqual(["api", "worker"]);
    expect(parsed.toolchains.worker?.install).toEqual(["corepack", "pnpm", "install", "--frozen-lockfile", "--store-dir", "/home/node/.pnpm-store"]);
    expect(parsed.toolchains.worker?.label).toBe("pnpm 9.15.9, Node 22 (services/worker/.nvmrc)");
    const table = await cliProcess(["plan", "--source", dir]);
    expect(table.stdout).toMatch(/api\s+services\/api\s+pnpm 9\.15\.9, Node 20 \(default\)/);
    expect(table.stdout).toMatch(/worker\s+services\/worker\s+pnpm 9\.15\.9, Node 22 \(services\/worker\/\.nvmrc\)/);
  });
});
