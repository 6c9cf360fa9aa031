// The base image the Dockerfiles start from (`ARG NODE_IMAGE=node:20-bookworm-slim`), built locally
// because nothing can be pulled from a registry here. It stands in for the official
// node:20-bookworm-slim: the same Debian release (bookworm, from debootstrap) and the same Node.js
// binary that runs these tests, installed where the official image has it (/usr/local), plus the
// official image's `node` user (uid/gid 1000). What it adds: the host's CA bundle, because the npm
// registry is reached through an intercepting proxy whose CA only the host trusts.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { DockerEngine } from "./engine.js";
import { execOk, findExecutable } from "./exec.js";

export const BASE_IMAGE = "node:20-bookworm-slim";

/**
 * The other official tags a service may be built on (its Node.js major, pipelines/src/plan/toolchain.ts).
 * Only one Node.js binary can be had here, so they are this same image under other names: a test can
 * tell which base a container asked for, not which Node.js ran in it.
 */
export const OTHER_NODE_TAGS = ["node:18-bookworm-slim", "node:22-bookworm-slim", "node:24-bookworm-slim"];

const HOST_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";

export interface BaseImageResult {
  /** Whether the root filesystem tarball came from the cache of an earlier run. */
  cached: boolean;
  seconds: number;
  nodeVersion: string;
}

/**
 * Makes `node:20-bookworm-slim` (and OTHER_NODE_TAGS, the same image) exist in `engine`. The root filesystem tarball is cached under
 * `cacheDir`, keyed by the Node.js version and the CA bundle, so only the first run pays for
 * debootstrap (CI starts without the cache and builds it).
 */
export async function ensureBaseImage(engine: DockerEngine, cacheDir: string): Promise<BaseImageResult> {
  const started = performance.now();
  const { tarball, cached, ca } = await baseTarball(cacheDir);

  await engine.dockerOk([
    "import",
    "--change", `ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
    "--change", `ENV NODE_VERSION=${process.version.slice(1)}`,
    ...(ca === undefined ? [] : ["--change", `ENV NODE_EXTRA_CA_CERTS=${HOST_CA_BUNDLE}`]),
    "--change", `CMD ["node"]`,
    tarball,
    BASE_IMAGE,
  ]);
  for (const tag of OTHER_NODE_TAGS) await engine.dockerOk(["tag", BASE_IMAGE, tag]);
  return { cached, seconds: (performance.now() - started) / 1000, nodeVersion: process.version };
}

/**
 * The base image's root filesystem tarball in `cacheDir`, made by base-rootfs.sh (debootstrap) unless an
 * earlier run left it there. `npm run verify` (test/bootstrap.sh) runs the same script before `npm ci`,
 * so that the test run does not start with both workers waiting on debootstrap.
 */
export async function baseTarball(cacheDir: string): Promise<{ tarball: string; cached: boolean; ca: Buffer | undefined }> {
  if (findExecutable("debootstrap") === undefined) throw new Error("debootstrap not found (Debian: apt-get install debootstrap)");
  const ca = existsSync(HOST_CA_BUNDLE) ? readFileSync(HOST_CA_BUNDLE) : undefined;
  const script = join(dirname(fileURLToPath(import.meta.url)), "base-rootfs.sh");
  const made = await execOk("sh", [script, cacheDir], { timeoutMs: 900_000 });
  const last = /^(cached|built) (.+)$/m.exec(made.stdout.trim().split("\n").at(-1) ?? "");
  if (!last?.[2]) throw new Error(`base-rootfs.sh printed no tarball: ${made.stdout.slice(-500)}`);
  return { tarball: last[2], cached: last[1] === "cached", ca };
}
