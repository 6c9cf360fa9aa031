import { describe, expect, it } from "vitest";
import { DEFAULT_IMAGES, scannerRun } from "../../../pipelines/src/scan/argv.js";

describe("pipelines/src/scan/argv", () => {
  it("runs Trivy on the image tarball with JSON output, every severity, no repo ignore file and the DB in a cache", () => {
    const run = scannerRun("trivy-image", { trivy: { dbRepository: "myacr.azurecr.io/mirror/trivy-db:2" } }, { input: "/scan/api.tar", outDir: "/reports" });
    expect(run).toMatchObject({ tool: "trivy", gateFlag: "--trivy", image: DEFAULT_IMAGES.trivy, output: "/reports/trivy-image.json", redirectStdout: false, cache: { volume: "slipway-trivy-cache", path: "/cache/trivy" } });
    expect(run.argv).toEqual([
      "trivy", "image", "--input", "/scan/api.tar", "--scanners", "vuln,secret,misconfig", "--image-config-scanners", "misconfig,secret",
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

  it("scans git history since a base ref with TruffleHog, asking for every verification outcome", () => {
    expect(scannerRun("trufflehog", undefined, { since: "origin/main" }).argv).toEqual([
      "trufflehog", "git", "file:///src", "--since-commit=origin/main", "--json", "--no-update", "--results=verified,unknown,unverified",
    ]);
    expect(scannerRun("trufflehog", undefined, { git: false }).argv.slice(0, 3)).toEqual(["trufflehog", "filesystem", "."]);
    expect(scannerRun("trufflehog", undefined).redirectStdout).toBe(true);
  });

  it.each(["--help", "a b", "$(id)", ""])("refuses %j as a --since ref (it would become a flag or worse)", (since) => {
    expect(() => scannerRun("trufflehog", undefined, { since })).toThrow(expect.objectContaining({ code: "SLIPWAY_USAGE" }));
  });

  it("audits dependencies from the lockfile only, JSON on stdout", () => {
    expect(scannerRun("npm-audit", undefined)).toMatchObject({ argv: ["npm", "audit", "--json", "--package-lock-only"], redirectStdout: true, image: DEFAULT_IMAGES.node });
    expect(scannerRun("osv", undefined).argv).toEqual(["osv-scanner", "--format", "json", "--output", "/out/osv.json", "--recursive", "."]);
  });

  it("names an unknown scanner and lists the known ones", () => {
    expect(() => scannerRun("grype", undefined)).toThrow(expect.objectContaining({ code: "SLIPWAY_SCAN_UNKNOWN_SCANNER", details: [expect.stringContaining("trivy-image, trivy-fs, trufflehog, npm-audit, osv")] }));
  });
});
