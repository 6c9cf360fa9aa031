// `npm run verify` runs this beside build, lint and typecheck (test/bootstrap.sh): the base image's root
// filesystem tarball (base-image.ts) is made by debootstrap once per machine, and on a clean clone the
// test run used to start with it, both workers waiting on one debootstrap (about a minute of the suite's
// wall time). Here it overlaps with work that does not need it. Without root or debootstrap it does
// nothing: the tests that need the image say what is missing (and fail with CI=true).
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { baseTarball } from "./base-image.js";
import { findExecutable } from "./exec.js";

const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
const CACHE_DIR = join(REPO_ROOT, "node_modules", ".cache", "slipway-images");

if (process.getuid?.() !== 0 || findExecutable("debootstrap") === undefined) {
  console.log("base image: not prepared (needs root and debootstrap); the image tests will say what is missing");
} else {
  const started = performance.now();
  const { tarball, cached } = await baseTarball(CACHE_DIR);
  console.log(`base image: ${cached ? "cached" : "built"} ${tarball} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
}
