import { resolve } from "node:path";
import { ALWAYS_JSON, defineCommand } from "../cli/command.js";
import { commandConfig, printJson, printResult } from "../cli/output.js";
import { painter } from "../cli/style.js";
import { EXIT, scanGateFailed, scanNoReports, scanReportNotFound, scanUnknownScanner, usageError } from "../errors.js";
import { checkScannerPaths, DEFAULT_SOURCE, SCANNERS, scannerRun } from "./argv.js";
import type { Scanner } from "./argv.js";
import type { ReportFile } from "./gate.js";
import type { Tool } from "./model.js";
import { checkInputFile, checkOutputFile } from "../cli/paths.js";

const gateUsage =
  "slipway scan gate [--trivy F]... [--trufflehog F]... [--npm-audit F]... [--osv F]... [--config slipway.yaml] [--sarif OUT] [--junit OUT] [--markdown OUT] [--json]";

export const scanGate = defineCommand({
  path: ["scan", "gate"],
  summary: "Decide the security gate from scanner JSON reports under slipway.yaml policy; write SARIF, JUnit, Markdown",
  usage: gateUsage,
  options: {
    trivy: { type: "string", multiple: true, value: "FILE", describe: "a Trivy JSON report (fs or image)" },
    trufflehog: { type: "string", multiple: true, value: "FILE", describe: "a TruffleHog JSON-lines report" },
    "npm-audit": { type: "string", multiple: true, value: "FILE", describe: "an `npm audit --json` report" },
    osv: { type: "string", multiple: true, value: "FILE", describe: "an osv-scanner JSON report" },
    config: { type: "string", describe: "slipway.yaml whose scan: policy (severities, exceptions) decides the gate" },
    sarif: { type: "string", value: "FILE", describe: "write the findings as SARIF 2.1.0 (GitHub code scanning)" },
    junit: { type: "string", value: "FILE", describe: "write the findings as JUnit XML (Azure DevOps test results)" },
    markdown: { type: "string", value: "FILE", describe: "write a Markdown summary (job summary, PR comment)" },
    json: { type: "boolean" },
  },
  examples: [
    "slipway scan gate --trivy trivy-fs.json --trivy trivy-image.json --npm-audit audit.json",
    "slipway scan gate --trufflehog secrets.jsonl --sarif gate.sarif --junit gate.xml --json",
  ],
  async run({ values, io }) {
    const reports: ReportFile[] = [];
    const add = (tool: Tool, files: string[] | undefined): void => {
      for (const file of files ?? []) reports.push({ tool, file, path: resolve(io.cwd, file) });
    };
    add("trivy", values.trivy);
    add("trufflehog", values.trufflehog);
    add("npm-audit", values["npm-audit"]);
    add("osv-scanner", values.osv);
    if (reports.length === 0) throw scanNoReports(gateUsage);
    // Every path checked before anything is read or written: a directory as --sarif left a stray .tmp file.
    for (const r of reports) checkInputFile(`--${r.tool === "osv-scanner" ? "osv" : r.tool}`, r.file, r.path, () => scanReportNotFound(r.tool, r.file));
    for (const flag of ["sarif", "junit", "markdown"] as const) {
      const value = values[flag];
      if (value !== undefined) checkOutputFile(`--${flag}`, value, resolve(io.cwd, value));
    }
    const { config } = commandConfig(io, values.config);
    // The parsers and report writers are loaded here, not for `--help` (issue 16).
    const { gateJson, gateText, runGate, writeReports } = await import("./gate.js");
    const run = runGate(reports, config.scan, new Date());
    writeReports(run, {
      sarif: values.sarif && resolve(io.cwd, values.sarif),
      junit: values.junit && resolve(io.cwd, values.junit),
      markdown: values.markdown && resolve(io.cwd, values.markdown),
    });
    const { gate } = run;
    printResult(io, values.json, gateJson(gate), () => gateText(gate, painter(io)));
    if (!gate.passed) {
      const summary = values.json ? "See the JSON on stdout for every failing finding." : "See the summary above; --sarif/--junit/--markdown write the full reports.";
      throw scanGateFailed(gate.failing.length, gate.expired.length, summary);
    }
    return EXIT.ok;
  },
});

const argvUsage = `slipway scan argv --scanner ${SCANNERS.join("|")} [--source DIR] [--input TAR] [--out DIR] [--since REF] [--no-git] [--config slipway.yaml] [--json]`;

export const scanArgv = defineCommand({
  path: ["scan", "argv"],
  summary: "Print (JSON) the pinned image and argv that run one scanner, for the Dagger module",
  usage: argvUsage,
  options: {
    scanner: { type: "string", value: SCANNERS.join("|"), describe: "the scanner to run (required)" },
    source: { type: "string", describe: "the source folder as the scanner's container sees it", defaultText: DEFAULT_SOURCE },
    input: { type: "string", value: "TAR", describe: "trivy-image: the image as an OCI tarball", defaultText: "/scan/image.tar" },
    out: { type: "string", value: "DIR", describe: "where the scanner writes its report", defaultText: "/out" },
    since: { type: "string", value: "REF", describe: "trufflehog: scan only commits since this ref" },
    "no-git": { type: "boolean", describe: "trufflehog: scan the files, not the git history" },
    config: { type: "string", describe: "slipway.yaml whose scan: section pins images and options" },
    json: ALWAYS_JSON,
  },
  examples: ["slipway scan argv --scanner trivy-fs --source /src --out /out", "slipway scan argv --scanner trufflehog --source /src --since origin/main"],
  async run({ values, io }) {
    const scanner = values.scanner;
    if (scanner === undefined) throw usageError("--scanner is required", argvUsage);
    if (!SCANNERS.includes(scanner as Scanner)) throw scanUnknownScanner(scanner, SCANNERS);
    if (values.since !== undefined && (scanner !== "trufflehog" || values["no-git"])) {
      throw usageError("--since applies only to --scanner trufflehog over git history (not with --no-git)", argvUsage);
    }
    const paths = { source: values.source, input: values.input, outDir: values.out };
    checkScannerPaths(paths);
    const { config } = commandConfig(io, values.config);
    const { assertFullHistory, resolveSinceCommit } = await import("./since.js");
    // The source is mounted at the same absolute path here (the toolkit) and in the scanner's container,
    // so the ref is resolved with git where the user's refs exist, and TruffleHog gets the commit.
    const sinceCommit = values.since === undefined ? undefined : await resolveSinceCommit(paths.source ?? DEFAULT_SOURCE, values.since, argvUsage);
    // Without --since TruffleHog scans every commit it finds: on a shallow clone that is not the history.
    if (scanner === "trufflehog" && !values["no-git"] && sinceCommit === undefined) await assertFullHistory(paths.source ?? DEFAULT_SOURCE);
    const run = scannerRun(scanner, config.scan, { ...paths, sinceCommit, git: !values["no-git"] });
    printJson(io, run);
    return EXIT.ok;
  },
});

export const SCAN_COMMANDS = [scanGate, scanArgv];
