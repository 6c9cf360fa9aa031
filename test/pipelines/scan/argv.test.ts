import { describe, expect, it } from "vitest";
import { DEFAULT_IMAGES, SCANNER_BINARIES, SCANNERS, scannerRun } from "../../../pipelines/src/scan/argv.js";

const SHA = "3f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39";

describe("pipelines/src/scan/argv", () => {
  it("runs Trivy on the image tarball with JSON output, every severity, no repo ignore file and the DB in a cache", () => {
    const run = scannerRun("trivy-image", { trivy: { dbRepository: "myacr.azurecr.io/mirror/trivy-db:2" } }, { input: "/scan/api.tar", outDir: "/reports" });
    expect(run).toMatchObject({ tool: "trivy", gateFlag: "--trivy", image: DEFAULT_IMAGES.trivy, output: "/reports/trivy-image.json", redirectStdout: false, cache: { volume: "slipway-trivy-0.57.1", path: "/cache/trivy" } });
    expect(run.argv).toEqual([
      "/usr/local/bin/trivy", "image", "--input", "/scan/api.tar", "--scanners", "vuln,secret,misconfig", "--image-config-scanners", "misconfig,secret",
      "--format", "json", "--output", "/reports/trivy-image.json", "--severity", "UNKNOWN,LOW,MEDIUM,HIGH,CRITICAL", "--exit-code", "0",
      "--ignorefile", "/dev/null", "--cache-dir", "/cache/trivy", "--no-progress", "--db-repository", "myacr.azurecr.io/mirror/trivy-db:2",
    ]);
  });

  it("leaves Trivy's default DB repository alone when none is configured, and honours image pins", () => {
    const run = scannerRun("trivy-fs", { images: { trivy: "myacr.azurecr.io/aquasec/trivy:0.57.1@sha256:" + "a".repeat(64) } });
    expect(run.argv).not.toContain("--db-repository");
    expect(run.argv.at(-1)).toBe(".");
    expect(run.workdir).toBe("/src");
    expect(run.image).toBe(`myacr.azurecr.io/aquasec/trivy:0.57.1@sha256:${"a".repeat(64)}`);
  });

  // Dagger's withExec runs argv as given, without the image ENTRYPOINT: argv[0] must be the binary where
  // each upstream image keeps it (see SCANNER_BINARIES for the Dockerfiles). OSV-Scanner's is not on PATH.
  it.each([
    ["trivy-image", "/usr/local/bin/trivy", "/"],
    ["trivy-fs", "/usr/local/bin/trivy", "/src"],
    ["trufflehog", "/usr/bin/trufflehog", "/src"],
    ["npm-audit", "/usr/local/bin/npm", "/src"],
    ["osv", "/osv-scanner", "/src"],
  ])("starts %s with its binary at %s, in %s", (scanner, binary, workdir) => {
    const run = scannerRun(scanner, undefined);
    expect(run.argv[0]).toBe(binary);
    expect(run.workdir).toBe(workdir);
    expect(run.output.startsWith("/out/")).toBe(true);
  });

  it.each(SCANNERS)("starts %s with one of the binaries checked against the upstream images", (scanner) => {
    expect(Object.values(SCANNER_BINARIES)).toContain(scannerRun(scanner, undefined).argv[0]);
  });

  it("scans git history since a commit with TruffleHog, asking for every verification outcome", () => {
    expect(scannerRun("trufflehog", undefined, { sinceCommit: SHA }).argv).toEqual([
      "/usr/bin/trufflehog", "git", "file:///src", `--since-commit=${SHA}`, "--json", "--no-update", "--results=verified,unknown,unverified",
    ]);
    expect(scannerRun("trufflehog", undefined, { git: false }).argv.slice(0, 3)).toEqual(["/usr/bin/trufflehog", "filesystem", "."]);
    expect(scannerRun("trufflehog", undefined).redirectStdout).toBe(true);
  });

  // TruffleHog resolves names with go-git in its own repository; only a full SHA means the same thing there.
  it.each(["origin/main", "3f2a9c1", "--help", "", SHA.toUpperCase()])("refuses %j as the commit TruffleHog starts from", (sinceCommit) => {
    expect(() => scannerRun("trufflehog", undefined, { sinceCommit })).toThrow(expect.objectContaining({ code: "SLIPWAY_USAGE" }));
  });

  it("audits dependencies from the lockfile only, JSON on stdout", () => {
    expect(scannerRun("npm-audit", undefined)).toMatchObject({ argv: ["/usr/local/bin/npm", "audit", "--json", "--package-lock-only"], redirectStdout: true, image: DEFAULT_IMAGES.node });
    expect(scannerRun("osv", undefined).argv).toEqual(["/osv-scanner", "--format", "json", "--output", "/out/osv.json", "--recursive", "."]);
  });

  it("refuses paths that mean nothing inside the scanner container, naming every one", () => {
    expect(() => scannerRun("trivy-image", undefined, { source: ".", outDir: "/out/../etc", input: "/scan/image.tar" })).toThrow(
      expect.objectContaining({ code: "SLIPWAY_USAGE", message: expect.stringMatching(/^--source "\.", --out "\/out\/\.\.\/etc": expected an absolute path/) }),
    );
    expect(() => scannerRun("trufflehog", undefined, { source: "/src repo" })).toThrow(expect.objectContaining({ code: "SLIPWAY_USAGE" }));
  });

  it("names an unknown scanner and lists the known ones", () => {
    expect(() => scannerRun("grype", undefined)).toThrow(expect.objectContaining({ code: "SLIPWAY_SCAN_UNKNOWN_SCANNER", details: [expect.stringContaining("trivy-image, trivy-fs, trufflehog, npm-audit, osv")] }));
  });
});
