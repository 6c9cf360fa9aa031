import { randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { BASE_IMAGE, ensureBaseImage } from "../images/base-image.js";
import { buildImage } from "../images/docker.js";
import { missingRequirements, startEngine } from "../images/engine.js";

// The toolkit image's size beside its base image's (issue 16): the CLI is one esbuild bundle, so the
// runtime stage copies it and no node_modules. Built by a private Docker engine from pipelines/Dockerfile
// as test/images does (base image: the local stand-in of node:20-bookworm-slim). Long (a cold build:
// apt-get and npm ci through the network, 2-4 minutes here), so it runs only when named:
// `npm run bench -- image`. SLIPWAY_BENCH_IMAGE_CONTEXT=<a checkout> measures another tree (an older
// commit, for a before/after).
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const context = process.env.SLIPWAY_BENCH_IMAGE_CONTEXT ?? root;
const missing = missingRequirements();
if (missing !== undefined) {
  console.log(`not run: ${missing}`);
  process.exit(0);
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1).padStart(7)} MB`;
const engine = await startEngine();
try {
  await ensureBaseImage(engine, join(root, "node_modules", ".cache", "slipway-images"));
  const tag = `slipway-toolkit:bench-${randomBytes(3).toString("hex")}`;
  const build = await buildImage(engine, { dockerfile: "pipelines/Dockerfile", tag, context, nodeImage: BASE_IMAGE });
  if (!build.ok) throw new Error(`docker build -f pipelines/Dockerfile failed:\n${build.log.slice(-4000)}`);
  const size = async (image: string) => Number((await engine.dockerOk(["image", "inspect", "--format", "{{.Size}}", image])).stdout.trim());
  const [base, toolkit] = [await size(BASE_IMAGE), await size(tag)];
  // What the CLI itself takes in the image (bundle, package.json, bin; node_modules if any), beside the
  // apt layer (git, openssh-client, ca-certificates) that makes up the rest.
  const du = await engine.dockerOk(["run", "--rm", "--network", "none", "--entrypoint", "du", tag, "-sk", "/opt/slipway"]);
  const cli = Number(du.stdout.trim().split(/\s+/)[0]) * 1024;
  const modules = await engine.docker(["run", "--rm", "--network", "none", "--entrypoint", "sh", tag, "-c", "find /opt/slipway -name node_modules -type d -prune | wc -l"]);
  console.log(`context ${context === root ? "this checkout" : context}; cold build ${build.seconds.toFixed(0)} s (load average applies)`);
  console.log(`base image ${BASE_IMAGE}     ${mb(base)}`);
  console.log(`toolkit image                        ${mb(toolkit)}  (+${mb(toolkit - base).trim()} over the base)`);
  console.log(`  of which /opt/slipway (the CLI)    ${mb(cli)}, node_modules folders: ${modules.stdout.trim()}`);
} finally {
  await engine.stop();
}
