import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { legacyToolchain } from "../../.dagger/src/toolchain.js";
import { plan } from "../../pipelines/src/plan/plan.js";
import { DEFAULT_IMAGES, SCANNERS, scannerCacheVolume, scannerRun } from "../../pipelines/src/scan/argv.js";
import { removeTree, tempRepo } from "../helpers/repo.js";
import { npmWorkspace, pnpmWorkspace, standaloneNpm, yarnBerryWorkspace, yarnClassicWorkspace } from "../helpers/sample-repos.js";

/**
 * Cache volumes live in the engine, not in a session: on an engine shared by many repositories (README
 * "Scaling out") every job that names a volume gets the same one. So a name may say only what makes its
 * content interchangeable (package manager and Node.js major; scanner and version), never which repository
 * or path it came from, and no volume holds source or secrets (only package stores and public scanner DBs).
 */

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const MODULE_SRC = join(ROOT, ".dagger", "src");

/** Every `dag.cacheVolume(<expression>)` of the module, with its file. */
function cacheVolumeCalls(): Array<{ file: string; argument: string }> {
  return readdirSync(MODULE_SRC)
    .filter((f) => f.endsWith(".ts"))
    .flatMap((file) => [...readFileSync(join(MODULE_SRC, file), "utf8").matchAll(/\bcacheVolume\(([^)]*)\)/g)].map((m) => ({ file, argument: (m[1] ?? "").trim() })));
}

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => removeTree(d)));

async function volumesOf(files: Record<string, string>): Promise<{ root: string; volumes: string[]; names: string[] }> {
  const root = tempRepo(files);
  dirs.push(root);
  const toolchains = (await plan(root, {})).toolchains;
  return {
    root,
    volumes: [...new Set(Object.values(toolchains).flatMap((t) => t.caches.map((c) => c.volume)))].sort(),
    names: Object.entries(toolchains).flatMap(([service, t]) => [service, t.installRoot]),
  };
}

/** Repository- or path-derived parts a volume name must not contain. */
function pathParts(root: string, names: string[]): string[] {
  return [...root.split("/"), ...names.flatMap((n) => n.split("/"))].filter((p) => p !== "" && p !== ".").map((p) => p.toLowerCase());
}

const PACKAGE_VOLUME = /^slipway-(npm|pnpm|yarn-classic|yarn-berry|corepack)-node(18|20|22|24)$/;

describe(".dagger/src cache volumes", () => {
  it("the module names a cache volume in two places only, each taken from what the CLI decided", () => {
    // A new call, or a literal name here, must be added to this list and to the checks below.
    expect(cacheVolumeCalls()).toEqual([
      { file: "index.ts", argument: "cache.volume" }, // a toolchain's caches (slipway plan --json, pipelines/src/plan/toolchain.ts)
      { file: "scan.ts", argument: "run.cache.volume" }, // a scanner's DB (slipway scan argv, pipelines/src/scan/argv.ts)
    ]);
  });

  it.each([
    ["npm workspace", npmWorkspace, true],
    ["pnpm workspace", pnpmWorkspace, false],
    ["Yarn 2+ workspace", yarnBerryWorkspace, false],
    ["Yarn 1 workspace", yarnClassicWorkspace, false],
    ["standalone npm services", () => ({ ...standaloneNpm("services/orders", "orders"), ...standaloneNpm("services/payments", "payments", { engines: { node: "^22.11.0" } }, { base: "node:22-bookworm-slim" }) }), true],
  ] as const)("%s: toolchain volumes are named by package manager and Node.js major only, never by repository or path", async (_name, files, twice) => {
    const first = await volumesOf(files());
    expect(first.volumes.length).toBeGreaterThan(0);
    if (twice) {
      // The same repository checked out elsewhere: the same volumes.
      const second = await volumesOf(files());
      expect(second.root).not.toBe(first.root);
      expect(second.volumes).toEqual(first.volumes);
    }
    for (const volume of first.volumes) {
      expect(volume).toMatch(PACKAGE_VOLUME);
      const leaked = pathParts(first.root, first.names).filter((part) => volume.replace(/^slipway-/, "").split("-").includes(part));
      expect({ volume, leaked }).toEqual({ volume, leaked: [] });
    }
  });

  it("a plan from an older CLI (no toolchains) keeps the npm volume of Node 20", () => {
    expect(legacyToolchain({ path: "services/api" }).caches.map((c) => c.volume)).toEqual(["slipway-npm-node20"]);
  });

  it("scanner volumes: only Trivy's DB, named by scanner and version, whatever the source", () => {
    const volumes = SCANNERS.flatMap((scanner) =>
      ["/src", "/work/acme/shop"].map((source) => ({ scanner, volume: scannerRun(scanner, undefined, { source, sinceCommit: "a".repeat(40) }).cache?.volume })),
    );
    expect(volumes.filter((v) => v.volume !== undefined)).toEqual([
      { scanner: "trivy-image", volume: "slipway-trivy-0.57.1" },
      { scanner: "trivy-image", volume: "slipway-trivy-0.57.1" },
      { scanner: "trivy-fs", volume: "slipway-trivy-0.57.1" },
      { scanner: "trivy-fs", volume: "slipway-trivy-0.57.1" },
    ]);
    expect(DEFAULT_IMAGES.trivy).toBe("aquasec/trivy:0.57.1");
    // Another Trivy (slipway.yaml scan.images.trivy) gets its own DB; a mirror of the same version shares it.
    expect([
      scannerCacheVolume("trivy", "myacr.azurecr.io/mirror/trivy:0.58.0"),
      scannerCacheVolume("trivy", "registry.local:5000/aquasec/trivy:0.57.1@sha256:" + "ab".repeat(32)),
      scannerCacheVolume("trivy", "registry.local:5000/trivy@sha256:" + "cd".repeat(32)),
      scannerCacheVolume("trivy", "trivy"),
    ]).toEqual(["slipway-trivy-0.58.0", "slipway-trivy-0.57.1", `slipway-trivy-${"cd".repeat(6)}`, "slipway-trivy-latest"]);
  });
});
