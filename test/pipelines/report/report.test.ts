import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import AjvDraft04 from "ajv-draft-04";
import ajvFormats from "ajv-formats";
import { XMLParser } from "fast-xml-parser";
import type { Log } from "sarif";
import { afterAll, describe, expect, it } from "vitest";
import { run } from "../../../pipelines/src/cli/main.js";
import { renderJunit } from "../../../pipelines/src/report/junit.js";
import { renderMarkdown } from "../../../pipelines/src/report/markdown.js";
import { renderSarif } from "../../../pipelines/src/report/sarif.js";
import { RunReport } from "../../../pipelines/src/report/schema.js";
import { redactReport } from "../../../pipelines/src/report/view.js";

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "fixtures", "report");
const CANARY = "ghp_CanaryToken1234567890";

function fixture(name: string): RunReport {
  return redactReport(RunReport.parse(JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), "utf8"))));
}

// Not the cli() helper: `report` is run in-process the same way, and its --json result is checked here.
async function slipway(argv: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await run(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), cwd, env: { PATH: process.env.PATH, ...env } });
  return { code, stdout, stderr };
}

// The official SARIF 2.1.0 schema (rtm.5) as shipped by @microsoft/jest-sarif (draft-04), as the scan gate's test uses it.
const require = createRequire(import.meta.url);
const sarifSchema = JSON.parse(readFileSync(require.resolve("@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json"), "utf8")) as object;
const ajv = new AjvDraft04.default({ allErrors: true, strict: false, unicodeRegExp: false });
ajvFormats.default(ajv);
const validateSarif = ajv.compile(sarifSchema);

const work = mkdtempSync(join(tmpdir(), "slipway-report-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("pipelines/src/report", () => {
  it.each(["ci-failed", "release-rolled-back", "rollback-verified"])("renders %s as the golden Markdown", async (name) => {
    await expect(renderMarkdown(fixture(name))).toMatchFileSnapshot(join(FIXTURES, `${name}.md`));
  });

  it("puts the failing gate and its blocking findings before everything else in the Markdown", () => {
    const md = renderMarkdown(fixture("ci-failed"));
    const gate = md.indexOf("## Failing gate: image api (failed)");
    expect(gate).toBeGreaterThan(0);
    expect(gate).toBeLessThan(md.indexOf("## Services"));
    const section = md.slice(gate, md.indexOf("\n## ", gate + 1));
    expect(section).toContain("CVE-2026-0001");
    expect(section).toContain("GHSA-xxxx-yyyy-zzzz");
    // Not blocking: listed under Findings, not under the failing gate.
    expect(section).not.toContain("CVE-2025-9999");
    // No HTML from a finding's title reaches a job summary, and a pipe cannot split a table row.
    expect(md).toContain("tar: &lt;b&gt;bold&lt;/b&gt;");
    expect(md).not.toContain("<b>");
    expect(md).not.toContain("<script>");
  });

  it("cuts long finding lists in the Markdown and says how many were left out", () => {
    const report = fixture("ci-failed");
    const many = Array.from({ length: 130 }, (_, i) => ({ ...report.findings[0], id: `CVE-2026-${String(1000 + i)}` })) as RunReport["findings"];
    const md = renderMarkdown({ ...report, findings: many });
    expect(md).toContain("…and 80 more (the HTML report and the SARIF list them all).");
  });

  it("writes JUnit with one suite per service, the run's steps, the gates and the rollback", () => {
    const parsed = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "" }).parse(renderJunit(fixture("ci-failed"))) as {
      testsuites: { tests: string; failures: string; testsuite: Array<{ name: string; tests: string; failures: string; testcase: Array<{ name: string; failure?: { message: string; "#text": string } }> }> };
    };
    const suites = parsed.testsuites.testsuite;
    expect(suites.map((s) => s.name)).toEqual(["ci", "api", "worker", "gates"]);
    expect(parsed.testsuites.tests).toBe("16");
    // worker test, api image scan, image api gate
    expect(parsed.testsuites.failures).toBe("3");
    const worker = suites.find((s) => s.name === "worker");
    const test = worker?.testcase.find((c) => c.name === "test");
    expect(test?.failure?.message).toBe("test: `npm run test -w services/worker` exited with 1");
    expect(test?.failure?.["#text"]).toContain("AssertionError: expected 2 to be 3");
    const gate = suites.find((s) => s.name === "gates")?.testcase.find((c) => c.name === "image api");
    expect(gate?.failure?.["#text"]).toContain("critical trivy CVE-2026-0001");

    const rolled = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "" }).parse(renderJunit(fixture("release-rolled-back"))) as {
      testsuites: { testsuite: Array<{ name: string; failures: string }> };
    };
    expect(rolled.testsuites.testsuite.map((s) => [s.name, s.failures])).toEqual([
      ["release", "1"],
      ["rollback", "0"],
    ]);
  });

  it("writes SARIF 2.1.0 valid against the official schema, one run per tool, blocking findings as errors", () => {
    const log = JSON.parse(renderSarif(fixture("ci-failed"))) as Log;
    expect(validateSarif(log), JSON.stringify(validateSarif.errors)).toBe(true);
    expect(log.runs.map((r) => r.tool.driver.name)).toEqual(["Trivy", "npm audit", "OSV-Scanner"]);
    const trivy = log.runs[0]?.results ?? [];
    expect(trivy.filter((r) => r.level === "error").map((r) => r.ruleId)).toEqual(["CVE-2026-0001", "CVE-2026-0002", "GHSA-xxxx-yyyy-zzzz"]);
    expect(trivy.find((r) => r.ruleId === "CVE-2025-9999")?.level).toBe("note");
    // A run without findings is still one valid, empty run (it closes fixed alerts in code scanning).
    const empty = JSON.parse(renderSarif(fixture("release-rolled-back"))) as Log;
    expect(validateSarif(empty), JSON.stringify(validateSarif.errors)).toBe(true);
    expect(empty.runs).toHaveLength(1);
    expect(empty.runs[0]?.results).toEqual([]);
  });

  it("writes every format with `slipway report --out`, and never the credentials of a URL or of the environment", async () => {
    const envToken = "envCanary-5f3a9c1e7b2d";
    const input = join(work, "release.json");
    writeFileSync(input, readFileSync(join(FIXTURES, "release-rolled-back.json"), "utf8").replace("release 6 is healthy and verified", `release 6 is healthy and verified (${envToken})`));
    for (const format of ["md", "html", "junit", "sarif"]) {
      const out = join(work, `out.${format}`);
      const r = await slipway(["report", "--in", input, "--format", format, "--out", out, "--json"], work, { SLIPWAY_GIT_TOKEN: envToken });
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({ schemaVersion: 1, format, out, bytes: readFileSync(out).length, kind: "release", outcome: "rolled-back" });
      const text = readFileSync(out, "utf8");
      expect(text).not.toContain(CANARY);
      expect(text).not.toContain(envToken);
    }
    expect(readFileSync(join(work, "out.md"), "utf8")).toContain("https://***@github.com/acme/gitops.git");
    const stdout = await slipway(["report", "--in", input], work);
    expect(stdout.code).toBe(0);
    expect(stdout.stdout).toMatch(/^# ❌ release to dev: ROLLED-BACK/);
  });

  it.each([
    ["a field of the wrong kind", (r: Record<string, unknown>) => ({ ...r, services: [{ name: "api", steps: [{ name: "lint", outcome: "green" }] }] }), "services.0.steps.0.outcome"],
    ["an unknown schemaVersion", (r: Record<string, unknown>) => ({ ...r, schemaVersion: 2 }), "schemaVersion must be 1"],
    ["an outcome another kind has", (r: Record<string, unknown>) => ({ ...r, outcome: "verified" }), `outcome: "verified" is not an outcome of a ci run`],
    ["a failing gate that is not a gate", (r: Record<string, unknown>) => ({ ...r, failingGate: "image web" }), `failingGate: "image web" is not one of the gates`],
    ["a digest that is not one", (r: Record<string, unknown>) => ({ ...r, images: [{ repository: "acme.azurecr.io/api", tag: "v1", digest: "sha256:abc" }] }), "images.0.digest"],
  ])("refuses %s with SLIPWAY_REPORT_INVALID naming it, and writes nothing", async (_title, change, named) => {
    const raw = JSON.parse(readFileSync(join(FIXTURES, "ci-failed.json"), "utf8")) as Record<string, unknown>;
    const input = join(work, "bad.json");
    writeFileSync(input, JSON.stringify(change(raw)));
    const out = join(work, "kept.html");
    writeFileSync(out, "previous report");
    const r = await slipway(["report", "--in", input, "--format", "html", "--out", out], work);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("SLIPWAY_REPORT_INVALID");
    expect(r.stderr).toContain(named);
    expect(readFileSync(out, "utf8")).toBe("previous report");
  });

  it("refuses a file that is not JSON, an unknown format and an output folder that does not exist", async () => {
    const input = join(work, "text.json");
    writeFileSync(input, "not json");
    const notJson = await slipway(["report", "--in", input], work);
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toMatch(/SLIPWAY_REPORT_INVALID: --in ".*text\.json" is not a run report: not JSON/);
    const format = await slipway(["report", "--in", join(FIXTURES, "ci-failed.json"), "--format", "pdf"], work);
    expect(format.code).toBe(2);
    expect(format.stderr).toContain(`--format "pdf" is not one of md, html, junit, sarif`);
    const out = join(work, "missing", "report.html");
    const folder = await slipway(["report", "--in", join(FIXTURES, "ci-failed.json"), "--format", "html", "--out", out], work);
    expect(folder.code).toBe(2);
    expect(folder.stderr).toContain("folder that does not exist");
    expect(existsSync(out)).toBe(false);
  });
});
