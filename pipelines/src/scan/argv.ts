import { scanUnknownScanner, usageError } from "../errors.js";
import type { Tool } from "./model.js";
import type { ScanSettings } from "./schema.js";

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
  /** TruffleHog: only commits after this ref (e.g. the PR base). */
  since?: string;
  /** TruffleHog: scan git history (default) or only the files. */
  git?: boolean;
}

const TRIVY_CACHE = "/cache/trivy";
// A git ref safe to pass as one argv element: no leading '-', no spaces or shell/glob specials.
const REF = /^(?!-)[A-Za-z0-9._/@{}^~-]{1,200}$/;

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
    "--cache-dir", TRIVY_CACHE,
    "--no-progress",
    ...(db ? ["--db-repository", db] : []),
  ];
}

export function scannerRun(scanner: string, settings: ScanSettings | undefined, options: ScannerOptions = {}): ScannerRun {
  const source = options.source ?? "/src";
  const outDir = options.outDir ?? "/out";
  const images = { ...DEFAULT_IMAGES, ...settings?.images };
  switch (scanner) {
    case "trivy-image": {
      const output = `${outDir}/trivy-image.json`;
      const input = options.input ?? "/scan/image.tar";
      return {
        scanner, gateFlag: "--trivy", tool: "trivy", image: images.trivy, workdir: "/", output, redirectStdout: false,
        argv: ["trivy", "image", "--input", input, "--scanners", "vuln,secret,misconfig", "--image-config-scanners", "misconfig,secret", ...trivyCommon(settings, output)],
        cache: { volume: "slipway-trivy-cache", path: TRIVY_CACHE },
      };
    }
    case "trivy-fs": {
      const output = `${outDir}/trivy-fs.json`;
      return {
        scanner, gateFlag: "--trivy", tool: "trivy", image: images.trivy, workdir: source, output, redirectStdout: false,
        // "." so targets are repo-relative paths, the same ones TruffleHog and SARIF use.
        argv: ["trivy", "fs", "--scanners", "vuln,secret,misconfig", ...trivyCommon(settings, output), "."],
        cache: { volume: "slipway-trivy-cache", path: TRIVY_CACHE },
      };
    }
    case "trufflehog": {
      if (options.since !== undefined && !REF.test(options.since)) {
        throw usageError(`--since ${JSON.stringify(options.since)} is not a git ref`, "slipway scan argv --scanner trufflehog [--since REF]");
      }
      const git = options.git ?? true;
      return {
        scanner, gateFlag: "--trufflehog", tool: "trufflehog", image: images.trufflehog, workdir: source,
        output: `${outDir}/trufflehog.jsonl`, redirectStdout: true,
        argv: [
          "trufflehog",
          ...(git ? ["git", `file://${source}`, ...(options.since ? [`--since-commit=${options.since}`] : [])] : ["filesystem", "."]),
          "--json",
          "--no-update",
          // All three outcomes: the policy decides which fail (TruffleHog 3.70+).
          "--results=verified,unknown,unverified",
        ],
      };
    }
    case "npm-audit":
      return {
        scanner, gateFlag: "--npm-audit", tool: "npm-audit", image: images.node, workdir: source,
        output: `${outDir}/npm-audit.json`, redirectStdout: true,
        // The lockfile alone is enough (no install); the whole workspace tree is audited.
        argv: ["npm", "audit", "--json", "--package-lock-only"],
      };
    case "osv":
      return {
        scanner, gateFlag: "--osv", tool: "osv-scanner", image: images.osvScanner, workdir: source,
        output: `${outDir}/osv.json`, redirectStdout: false,
        argv: ["osv-scanner", "--format", "json", "--output", `${outDir}/osv.json`, "--recursive", "."],
      };
    default:
      throw scanUnknownScanner(scanner, SCANNERS);
  }
}
