// What the 0.21 TypeScript runtime does to set up a module's container before the first call, decided
// from the module's package.json and the files beside it. Read from dagger/dagger
// sdk/typescript/runtime/config.go (detectRuntime, detectPackageManager, detectSDKLibOrigin) and
// runtime_node.go (withSetupPackageManager, withInstalledDependencies); the constants are those of
// config.go and tsdistconsts/consts.go. Used to prove that our .dagger needs no registry on a fresh engine.

export const DEFAULT_TYPESCRIPT = "5.9.3";
const DEFAULT_VERSIONS = { yarn: "1.22.22", npm: "10.7.0", pnpm: "8.15.4" } as const;

export interface PackageJson {
  packageManager?: string;
  dependencies?: Record<string, string>;
  dagger?: { baseImage?: string; runtime?: string };
}

export interface RuntimeSetup {
  runtime: "node" | "bun";
  sdkLib: "bundle" | "local" | "remote";
  packageManager: "yarn" | "npm" | "pnpm" | "bun";
  version: string;
  /** Commands run to set up the package manager (npm: reinstall npm unless the image's matches; pnpm: install it). */
  setup: string[][];
  /** The install command, or undefined when the bundled TypeScript is mounted and nothing else is needed. */
  install?: string[];
}

export function runtimeSetup(pkg: PackageJson | undefined, files: readonly string[]): RuntimeSetup {
  const has = (name: string) => files.includes(name);
  let runtime: RuntimeSetup["runtime"] = "node";
  const pinned = pkg?.dagger?.runtime?.split("@")[0];
  if (pinned === "bun" || pinned === "node") runtime = pinned;
  else if (pinned) throw new Error(`unsupported runtime "${pinned}"`);
  else if (has("bun.lockb") || has("bun.lock")) runtime = "bun";

  const dep = pkg?.dependencies?.["@dagger.io/dagger"];
  const sdkLib = dep === undefined ? "bundle" : dep === "./sdk" ? "local" : "remote";

  let packageManager: RuntimeSetup["packageManager"];
  let version = "";
  if (runtime === "bun") packageManager = "bun";
  else if (pkg?.packageManager) {
    const [name, v] = pkg.packageManager.split("@") as [string, string | undefined];
    if (!v) throw new Error("packageManager version is missing, please add it to your package.json");
    if (name !== "yarn" && name !== "npm" && name !== "pnpm") throw new Error(`detected unknown package manager: ${name}`);
    packageManager = name;
    version = v;
  } else if (has("package-lock.json")) [packageManager, version] = ["npm", DEFAULT_VERSIONS.npm];
  else if (has("pnpm-lock.yaml")) [packageManager, version] = ["pnpm", DEFAULT_VERSIONS.pnpm];
  else [packageManager, version] = ["yarn", DEFAULT_VERSIONS.yarn];

  const setup: string[][] = [];
  if (packageManager === "npm") setup.push(["sh", "-c", `npm -v | grep -qx ${version.replaceAll(".", "\\.")} || npm install -g npm@${version}`]);
  if (packageManager === "pnpm") setup.push(["npm", "install", "-g", `pnpm@${version}`]);

  // The decision reads the dependencies as written, before the runtime adds typescript itself.
  const deps = pkg?.dependencies ?? {};
  const bundledTs = deps.typescript === DEFAULT_TYPESCRIPT;
  const onlyTs = bundledTs && Object.keys(deps).length <= 1;
  const installs = { yarn: ["yarn", "install", "--prod"], npm: ["npm", "install", "--omit=dev"], pnpm: ["pnpm", "install", "--shamefully-hoist=true", "--prod"], bun: ["bun", "install"] };
  return { runtime, sdkLib, packageManager, version, setup, ...(onlyTs ? {} : { install: installs[packageManager] }) };
}
