import { scanUnknownScanner, usageError } from "../errors.js";
import type { Tool } from "./model.js";
import type { ScanSettings } from "./schema.js";

/**
 * A full object name: SHA-1 (40 hex) or SHA-256 (64 hex) repositories. Here rather than in ./since.ts
 * (which loads simple-git), so `scan argv --help` loads no git client.
 */
export const COMMIT_SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/**
 * What each scanner runs, as pure data: the Dagger module only executes what these return
 * (image, argv, working directory, where the JSON lands). The gate never reads an exit code.
 */

/** Exact versions; digests are pinned in slipway.yaml `scan.images` where a team has them mirrored. */
export const DEFAULT_IMAGES = {
  trivy: "aquasec/trivy:0.57.1",
  trufflehog: "trufflesecurity/trufflehog:3.88.0",
  osvScanner: "ghcr.io/google/osv-scanner:v1.9.2",
  node: "node:20.19.0-bookworm-slim",
} as const;

/**
 * Where each pinned image keeps its scanner. The module runs argv with Dagger's `withExec`, which does
 * not prepend the image ENTRYPOINT (only `useEntrypoint: true` does), so argv[0] must be the binary
 * itself at an absolute path. Checked against the upstream release builds of the pinned versions:
 * - Trivy: goreleaser.yml builds docker.io/aquasec/trivy from `Dockerfile`: `COPY trivy
 *   /usr/local/bin/trivy`, `ENTRYPOINT ["trivy"]` (every stored version of aquasecurity/trivy Dockerfile).
 * - TruffleHog: .goreleaser.yml builds trufflesecurity/trufflehog from `Dockerfile.goreleaser`:
 *   `WORKDIR /usr/bin/`, `COPY trufflehog .`, `ENTRYPOINT ["/etc/entrypoint.sh"]` (a wrapper script).
 * - OSV-Scanner: .goreleaser.yml builds ghcr.io/google/osv-scanner:{{ .Tag }} from
 *   `goreleaser.dockerfile`: v1.8/1.9 `FROM alpine:3.20`, `COPY osv-scanner ./` with alpine's default
 *   working directory `/`, `ENTRYPOINT ["/osv-scanner"]`. `/` is not on PATH, so a bare `osv-scanner`
 *   is not found. (The repository's other `Dockerfile`, a source build, uses /root/osv-scanner; it is
 *   not the one published.)
 * - node (npm audit): nodejs/docker-node `20/bookworm-slim/Dockerfile` unpacks the Node tarball into
 *   /usr/local (`tar -xJf ... -C /usr/local --strip-components=1`), so npm is /usr/local/bin/npm;
 *   `ENTRYPOINT ["docker-entrypoint.sh"]`.
 * A mirror given in slipway.yaml `scan.images` must be a copy of the same upstream image.
 */
export const SCANNER_BINARIES = {
  trivy: "/usr/local/bin/trivy",
  trufflehog: "/usr/bin/trufflehog",
  osvScanner: "/osv-scanner",
  npm: "/usr/local/bin/npm",
} as const;

/** Where the module mounts the source tree when `--source` is not given. */
export const DEFAULT_SOURCE = "/src";

export const SCANNERS = ["trivy-image", "trivy-fs", "trufflehog", "npm-audit", "osv"] as const;
export type Scanner = (typeof SCANNERS)[number];

export interface ScannerRun {
  scanner: Scanner;
  /** The `slipway scan gate` flag that reads the output. */
  gateFlag: "--trivy" | "--trufflehog" | "--npm-audit" | "--osv";
  tool: Tool;
  image: string;
  argv: string[];
  workdir: string;
  /** Path of the JSON report inside the container. */
  output: string;
  /** True when the scanner prints its JSON on stdout (redirect it to `output`). */
  redirectStdout: boolean;
  /** A cache volume to mount (the Trivy DB), so the public DB is not pulled on every run. */
  cache?: { volume: string; path: string };
}

export interface ScannerOptions {
  /** Mount point of the source tree (fs, secrets, dependencies). */
  source?: string;
  /** The image tarball (`Container.asTarball`) for trivy-image. */
  input?: string;
  /** Where reports go. */
  outDir?: string;
  /**
   * TruffleHog: only commits after this one (e.g. the PR base). A full SHA, resolved from the user's
   * ref with git by `slipway scan argv` (since.ts): TruffleHog cannot resolve every ref we can.
   */
  sinceCommit?: string;
  /** TruffleHog: scan git history (default) or only the files. */
  git?: boolean;
}

const TRIVY_CACHE = "/cache/trivy";

/**
 * The cache volume of a scanner's database, named by scanner and version (the image's tag, else its digest),
 * never by repository or path: an engine shared by many repositories reuses it (the DB is public data, the
 * same for all), and two versions of a scanner never share a DB whose schema they may read differently.
 */
export function scannerCacheVolume(tool: string, image: string): string {
  const [name = image, digest] = image.split("@");
  const tag = name.lastIndexOf(":") > name.lastIndexOf("/") ? name.slice(name.lastIndexOf(":") + 1) : digest ? digest.replace(/^sha256:/, "").slice(0, 12) : "latest";
  return `slipway-${tool}-${tag.toLowerCase().replace(/[^a-z0-9._-]/g, "-")}`;
}
// A path inside the scanner's container: absolute (argv, `file://` URI and working directory all need it,
// and the host's working directory means nothing there), no `..`, nothing a URI or a shell would read.
const CONTAINER_PATH = /^(?!.*\/\.\.(?:\/|$))\/[A-Za-z0-9._/-]*$/;

/** Every path option that is not a container path, named by its flag, in one usage error. */
export function checkScannerPaths(options: Pick<ScannerOptions, "source" | "input" | "outDir">): void {
  const paths = { "--source": options.source, "--out": options.outDir, "--input": options.input };
  const problems = Object.entries(paths)
    .filter(([, value]) => value !== undefined && !CONTAINER_PATH.test(value))
    .map(([flag, value]) => `${flag} ${JSON.stringify(value)}`);
  if (problems.length > 0) {
    throw usageError(
      `${problems.join(", ")}: expected an absolute path inside the scanner container (letters, digits, . _ - /; no ..)`,
      "slipway scan argv --scanner NAME [--source /src] [--input /scan/image.tar] [--out /out]",
    );
  }
}

function trivyCommon(settings: ScanSettings | undefined, output: string): string[] {
  const db = settings?.trivy?.dbRepository;
  return [
    "--format", "json",
    "--output", output,
    // Every severity: the policy decides, not Trivy's filter.
    "--severity", "UNKNOWN,LOW,MEDIUM,HIGH,CRITICAL",
    "--exit-code", "0",
    // A repo's own .trivyignore would bypass slipway.yaml exceptions (which need an owner and expiry).
    "--ignorefile", "/dev/null",
    // Global flag; the DB, Java DB, checks bundle and scan cache all live under it (a cache volume).
    "--cache-dir", TRIVY_CACHE,
    "--no-progress",
    // `--db-repository strings`, "in order of priority" (pkg/flag DBRepositoryFlag): one mirror replaces
    // the defaults mirror.gcr.io/aquasec/trivy-db:2 and ghcr.io/aquasecurity/trivy-db:2.
    ...(db ? ["--db-repository", db] : []),
  ];
}

export function scannerRun(scanner: string, settings: ScanSettings | undefined, options: ScannerOptions = {}): ScannerRun {
  checkScannerPaths(options);
  const source = options.source ?? DEFAULT_SOURCE;
  const outDir = options.outDir ?? "/out";
  const images = { ...DEFAULT_IMAGES, ...settings?.images };
  switch (scanner) {
    case "trivy-image": {
      const output = `${outDir}/trivy-image.json`;
      const input = options.input ?? "/scan/image.tar";
      return {
        scanner, gateFlag: "--trivy", tool: "trivy", image: images.trivy, workdir: "/", output, redirectStdout: false,
        argv: [SCANNER_BINARIES.trivy, "image", "--input", input, "--scanners", "vuln,secret,misconfig", "--image-config-scanners", "misconfig,secret", ...trivyCommon(settings, output)],
        cache: { volume: scannerCacheVolume("trivy", images.trivy), path: TRIVY_CACHE },
      };
    }
    case "trivy-fs": {
      const output = `${outDir}/trivy-fs.json`;
      return {
        scanner, gateFlag: "--trivy", tool: "trivy", image: images.trivy, workdir: source, output, redirectStdout: false,
        // "." so targets are repo-relative paths, the same ones TruffleHog and SARIF use.
        argv: [SCANNER_BINARIES.trivy, "fs", "--scanners", "vuln,secret,misconfig", ...trivyCommon(settings, output), "."],
        cache: { volume: scannerCacheVolume("trivy", images.trivy), path: TRIVY_CACHE },
      };
    }
    case "trufflehog": {
      if (options.sinceCommit !== undefined && !COMMIT_SHA.test(options.sinceCommit)) {
        throw usageError(`sinceCommit ${JSON.stringify(options.sinceCommit)} is not a full commit SHA`, "slipway scan argv --scanner trufflehog [--since REF]");
      }
      const git = options.git ?? true;
      return {
        scanner, gateFlag: "--trufflehog", tool: "trufflehog", image: images.trufflehog, workdir: source,
        output: `${outDir}/trufflehog.jsonl`, redirectStdout: true,
        argv: [
          SCANNER_BINARIES.trufflehog,
          ...(git ? ["git", `file://${source}`, ...(options.sinceCommit ? [`--since-commit=${options.sinceCommit}`] : [])] : ["filesystem", "."]),
          "--json",
          "--no-update",
          // All three outcomes: the policy decides which fail. --results parses since trufflehog#2372
          // (3.7x, hidden); trufflehog#3643 (Nov 2024, before 3.85.0 and the pinned 3.88.0) made it public.
          "--results=verified,unknown,unverified",
        ],
      };
    }
    case "npm-audit":
      return {
        scanner, gateFlag: "--npm-audit", tool: "npm-audit", image: images.node, workdir: source,
        output: `${outDir}/npm-audit.json`, redirectStdout: true,
        // The lockfile alone is enough (no install); the whole workspace tree is audited.
        argv: [SCANNER_BINARIES.npm, "audit", "--json", "--package-lock-only"],
      };
    case "osv":
      return {
        scanner, gateFlag: "--osv", tool: "osv-scanner", image: images.osvScanner, workdir: source,
        output: `${outDir}/osv.json`, redirectStdout: false,
        // OSV-Scanner v1 flags (v1.9.2 is pinned): `--format`, `--output` ("saves the result to the given
        // file path") and `--recursive` on the root command; v2 moved them under `scan source`, which it
        // also runs by default. Exit 1 means findings; 128 means it found no lockfile at all.
        argv: [SCANNER_BINARIES.osvScanner, "--format", "json", "--output", `${outDir}/osv.json`, "--recursive", "."],
      };
    default:
      throw scanUnknownScanner(scanner, SCANNERS);
  }
}
