// Sample repositories in the layouts teams have (issue 19), as file maps for tempRepo/tempTree. They have
// no registry dependency (workspace-internal ones only), so a real install takes seconds. Every lockfile is
// byte for byte what the real tool wrote for these package.json files: pnpm 9.15.9 (`pnpm install
// --lockfile-only`), Yarn 4.9.1 (`yarn install --mode=update-lockfile`), Yarn 1.22.22 (`yarn install`) and
// npm 10 (`npm install --package-lock-only`), run once in a temp dir.

/** What `corepack use pnpm@9.15.9` writes: the version and the sha512 of its tarball, which corepack checks. */
export const PNPM_PIN =
  "pnpm@9.15.9+sha512.68046141893c66fad01c079231128e9afb89ef87e2691d69e4d40eee228988295fd4682181bae55b58418c3a253bde65a505ec7c5f9403ece5cc3cd37dcf2531";

export const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

/** Scripts that need nothing but Node.js: lint and build check the syntax, test runs node:test. */
const SCRIPTS = { lint: "node --check src/main.js", test: "node --test", build: "node --check src/main.js" };

/** A service's source, test and Dockerfile (built from `context`, the folder the Dockerfile's COPY paths start in). */
export function serviceFiles(path: string, opts: { copyFrom: string; base?: string; test?: string }): Record<string, string> {
  return {
    [`${path}/src/main.js`]: "export const answer = () => 42;\n",
    [`${path}/test/main.test.js`]: `import test from "node:test";\nimport assert from "node:assert/strict";\nimport { answer } from "../src/main.js";\ntest("answers", () => assert.equal(answer(), ${opts.test ?? "42"}));\n`,
    [`${path}/Dockerfile`]: `ARG NODE_IMAGE=${opts.base ?? "node:20-bookworm-slim"}\nFROM \${NODE_IMAGE}\nWORKDIR /app\nCOPY ${opts.copyFrom} ./\nUSER 10001:10001\nCMD ["node", "src/main.js"]\n`,
  };
}

/** npm workspaces (today's layout): root lockfile, members installed and run from the root with -w. */
export function npmWorkspace(): Record<string, string> {
  const member = (name: string) => ({ [`node_modules/${name}`]: { resolved: `services/${name}`, link: true }, [`services/${name}`]: { name, version: "1.0.0" } });
  return {
    "package.json": json({ name: "shop", version: "1.0.0", private: true, workspaces: ["services/*"] }),
    "package-lock.json": json({
      name: "shop",
      version: "1.0.0",
      lockfileVersion: 3,
      requires: true,
      packages: { "": { name: "shop", version: "1.0.0", workspaces: ["services/*"] }, ...member("api"), ...member("worker") },
    }),
    "services/api/package.json": json({ name: "api", version: "1.0.0", private: true, type: "module", scripts: SCRIPTS }),
    ...serviceFiles("services/api", { copyFrom: "services/api/" }),
    "services/worker/package.json": json({ name: "worker", version: "1.0.0", private: true, type: "module", scripts: SCRIPTS }),
    ...serviceFiles("services/worker", { copyFrom: "services/worker/" }),
  };
}

/**
 * A pnpm workspace: api depends on the shared package @shop/shared (workspace:*), worker asks for Node 22
 * in its .nvmrc. pnpm pinned through corepack with its hash.
 */
export function pnpmWorkspace(): Record<string, string> {
  return {
    "package.json": json({ name: "shop", private: true, packageManager: PNPM_PIN }),
    "pnpm-workspace.yaml": 'packages:\n  - "services/*"\n  - "packages/*"\n',
    "pnpm-lock.yaml": [
      "lockfileVersion: '9.0'",
      "",
      "settings:",
      "  autoInstallPeers: true",
      "  excludeLinksFromLockfile: false",
      "",
      "importers:",
      "",
      "  .: {}",
      "",
      "  packages/shared: {}",
      "",
      "  services/api:",
      "    dependencies:",
      "      '@shop/shared':",
      "        specifier: workspace:*",
      "        version: link:../../packages/shared",
      "",
      "  services/worker: {}",
      "",
    ].join("\n"),
    "packages/shared/package.json": json({ name: "@shop/shared", version: "1.0.0", private: true, type: "module", main: "index.js" }),
    "packages/shared/index.js": "export const greeting = 'hello from @shop/shared';\n",
    "services/api/package.json": json({
      name: "api",
      version: "1.0.0",
      private: true,
      type: "module",
      scripts: { ...SCRIPTS, test: "node --test && node -e \"import('@shop/shared').then((m) => console.log(m.greeting))\"" },
      dependencies: { "@shop/shared": "workspace:*" },
    }),
    ...serviceFiles("services/api", { copyFrom: "services/api/" }),
    "services/worker/package.json": json({ name: "worker", version: "1.0.0", private: true, type: "module", scripts: SCRIPTS }),
    "services/worker/.nvmrc": "22\n",
    ...serviceFiles("services/worker", { copyFrom: "services/worker/", base: "node:22-bookworm-slim" }),
  };
}

/** A Yarn Berry (4.x) workspace with node_modules linking and a shared package. */
export function yarnBerryWorkspace(): Record<string, string> {
  return {
    "package.json": json({ name: "shop", private: true, packageManager: "yarn@4.9.1", workspaces: ["services/*", "packages/*"] }),
    ".yarnrc.yml": "nodeLinker: node-modules\n",
    "yarn.lock": [
      "# This file is generated by running \"yarn install\" inside your project.",
      "# Manual changes might be lost - proceed with caution!",
      "",
      "__metadata:",
      "  version: 8",
      "  cacheKey: 10c0",
      "",
      '"@shop/shared@workspace:*, @shop/shared@workspace:packages/shared":',
      "  version: 0.0.0-use.local",
      '  resolution: "@shop/shared@workspace:packages/shared"',
      "  languageName: unknown",
      "  linkType: soft",
      "",
      '"api@workspace:services/api":',
      "  version: 0.0.0-use.local",
      '  resolution: "api@workspace:services/api"',
      "  dependencies:",
      '    "@shop/shared": "workspace:*"',
      "  languageName: unknown",
      "  linkType: soft",
      "",
      '"shop@workspace:.":',
      "  version: 0.0.0-use.local",
      '  resolution: "shop@workspace:."',
      "  languageName: unknown",
      "  linkType: soft",
      "",
    ].join("\n"),
    "packages/shared/package.json": json({ name: "@shop/shared", version: "1.0.0", private: true }),
    "services/api/package.json": json({ name: "api", version: "1.0.0", private: true, scripts: SCRIPTS, dependencies: { "@shop/shared": "workspace:*" } }),
    ...serviceFiles("services/api", { copyFrom: "services/api/" }),
  };
}

/** A Yarn 1 workspace (no packageManager: corepack's default Yarn 1 runs it). */
export function yarnClassicWorkspace(): Record<string, string> {
  return {
    "package.json": json({ name: "shop", private: true, workspaces: ["services/*"] }),
    "yarn.lock": "# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.\n# yarn lockfile v1\n\n\n",
    "services/api/package.json": json({ name: "api", version: "1.0.0", private: true, scripts: SCRIPTS }),
    ...serviceFiles("services/api", { copyFrom: "." }),
  };
}

/** One npm project of its own (docker-compose style): package.json and package-lock.json in its folder. */
export function standaloneNpm(path: string, name: string, extra: Record<string, unknown> = {}, opts: { base?: string; test?: string } = {}): Record<string, string> {
  return {
    [`${path}/package.json`]: json({ name, version: "1.0.0", private: true, type: "module", scripts: SCRIPTS, ...extra }),
    [`${path}/package-lock.json`]: json({ name, version: "1.0.0", lockfileVersion: 3, requires: true, packages: { "": { name, version: "1.0.0", ...(extra.engines ? { engines: extra.engines } : {}) } } }),
    ...serviceFiles(path, { copyFrom: ".", ...opts }),
  };
}
