// The base image the Dockerfiles start from (`ARG NODE_IMAGE=node:20-bookworm-slim`), built locally
// because nothing can be pulled from a registry here. It stands in for the official
// node:20-bookworm-slim: the same Debian release (bookworm, from debootstrap) and the same Node.js
// binary that runs these tests, installed where the official image has it (/usr/local), plus the
// official image's `node` user (uid/gid 1000). What it adds: the host's CA bundle, because the npm
// registry is reached through an intercepting proxy whose CA only the host trusts.
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { DockerEngine } from "./engine.js";
import { execOk, findExecutable } from "./exec.js";

export const BASE_IMAGE = "node:20-bookworm-slim";

/**
 * The other official tags a service may be built on (its Node.js major, pipelines/src/plan/toolchain.ts).
 * Only one Node.js binary can be had here, so they are this same image under other names: a test can
 * tell which base a container asked for, not which Node.js ran in it.
 */
export const OTHER_NODE_TAGS = ["node:18-bookworm-slim", "node:22-bookworm-slim", "node:24-bookworm-slim"];

/** Bump when the recipe below changes, so cached tarballs of the old recipe are not reused. */
const RECIPE = 1;
const DEBIAN_MIRROR = process.env.SLIPWAY_DEBIAN_MIRROR ?? "http://deb.debian.org/debian";
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
 * The base image's root filesystem tarball in `cacheDir`, built by debootstrap unless an earlier run left
 * it there. `npm run verify` (test/bootstrap.sh) calls this through prepare-base.ts while it builds and
 * lints, so that the test run does not start with both workers waiting on debootstrap.
 */
export async function baseTarball(cacheDir: string): Promise<{ tarball: string; cached: boolean; ca: Buffer | undefined }> {
  const ca = existsSync(HOST_CA_BUNDLE) ? readFileSync(HOST_CA_BUNDLE) : undefined;
  const caKey = ca === undefined ? "noca" : createHash("sha256").update(ca).digest("hex").slice(0, 12);
  const tarball = join(cacheDir, `node-${process.version}-bookworm-r${RECIPE}-ca-${caKey}.tar`);
  const cached = existsSync(tarball);
  if (!cached) await buildRootfsTarball(tarball, ca);
  return { tarball, cached, ca };
}

async function buildRootfsTarball(tarball: string, ca: Buffer | undefined): Promise<void> {
  const debootstrap = findExecutable("debootstrap");
  if (debootstrap === undefined) throw new Error("debootstrap not found (Debian: apt-get install debootstrap)");
  const work = mkdtempSync(join(tmpdir(), "slipway-rootfs-"));
  const rootfs = join(work, "rootfs");
  try {
    await execOk(debootstrap, ["--variant=minbase", "--include=ca-certificates", "bookworm", rootfs, DEBIAN_MIRROR], {
      timeoutMs: 600_000,
    });

    // Node.js as the official image lays it out: /usr/local/bin/node, npm and corepack under
    // /usr/local/lib/node_modules, their commands linked into /usr/local/bin.
    const prefix = dirname(dirname(process.execPath));
    mkdirSync(join(rootfs, "usr/local/bin"), { recursive: true });
    mkdirSync(join(rootfs, "usr/local/lib/node_modules"), { recursive: true });
    copyFileSync(process.execPath, join(rootfs, "usr/local/bin/node"));
    await execOk("chmod", ["0755", join(rootfs, "usr/local/bin/node")]);
    for (const pkg of ["npm", "corepack"]) {
      const source = join(prefix, "lib/node_modules", pkg);
      if (existsSync(source)) await execOk("cp", ["-a", source, join(rootfs, "usr/local/lib/node_modules", pkg)]);
    }
    for (const [command, target] of [
      ["npm", "../lib/node_modules/npm/bin/npm-cli.js"],
      ["npx", "../lib/node_modules/npm/bin/npx-cli.js"],
      ["corepack", "../lib/node_modules/corepack/dist/corepack.js"],
    ] as const) {
      if (existsSync(join(rootfs, "usr/local/bin", target))) symlinkSync(target, join(rootfs, "usr/local/bin", command));
    }

    // The official image's unprivileged user; our images add their own (uid 10001) on top.
    await execOk("chroot", [rootfs, "groupadd", "--gid", "1000", "node"]);
    await execOk("chroot", [rootfs, "useradd", "--uid", "1000", "--gid", "node", "--shell", "/bin/bash", "--create-home", "node"]);

    // Trust what the host trusts (see the header comment); NODE_EXTRA_CA_CERTS points node at it.
    if (ca !== undefined) copyFileSync(HOST_CA_BUNDLE, join(rootfs, HOST_CA_BUNDLE));

    // Like the official Debian images: no package lists or downloaded .debs in the base layer.
    await execOk("sh", ["-c", `rm -rf "${rootfs}"/var/lib/apt/lists/* "${rootfs}"/var/cache/apt/*.bin "${rootfs}"/var/cache/apt/archives/*.deb`]);

    mkdirSync(dirname(tarball), { recursive: true });
    // Written next to its final name and renamed: a concurrent run never imports half a tarball.
    const partial = `${tarball}.${process.pid}.partial`;
    await execOk("tar", ["-C", rootfs, "--numeric-owner", "-cf", partial, "."]);
    renameSync(partial, tarball);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
