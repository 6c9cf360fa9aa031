import { resolve } from "node:path";
import { defineCommand } from "../cli/command.js";
import { commandConfig, printJson, printResult } from "../cli/output.js";
import { EXIT, scanGateFailed, scanNoReports, scanReportNotFound, scanUnknownScanner, usageError } from "../errors.js";
import { checkScannerPaths, DEFAULT_SOURCE, SCANNERS, scannerRun } from "./argv.js";
import type { Scanner } from "./argv.js";
import type { ReportFile } from "./gate.js";
import { gateJson, gateText, runGate, writeReports } from "./gate.js";
import type { Tool } from "./model.js";
import { assertFullHistory, resolveSinceCommit } from "./since.js";
import { checkInputFile, checkOutputFile } from "../cli/paths.js";

const gateUsage =
  "slipway scan gate [--trivy F]... [--trufflehog F]... [--npm-audit F]... [--osv F]... [--config slipway.yaml] [--sarif OUT] [--junit OUT] [--markdown OUT] [--json]";

export const scanGate = defineCommand({
  path: ["scan", "gate"],
  summary: "Decide the security gate from scanner JSON reports under slipway.yaml policy; write SARIF, JUnit, Markdown",
  usage: gateUsage,
  options: {
    trivy: { type: "string", multiple: true },
    trufflehog: { type: "string", multiple: true },
    "npm-audit": { type: "string", multiple: true },
    osv: { type: "string", multiple: true },
    config: { type: "string" },
    sarif: { type: "string" },
    junit: { type: "string" },
    markdown: { type: "string" },
    json: { type: "boolean" },
  },
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
    const run = runGate(reports, config.scan, new Date());
    writeReports(run, {
      sarif: values.sarif && resolve(io.cwd, values.sarif),
      junit: values.junit && resolve(io.cwd, values.junit),
      markdown: values.markdown && resolve(io.cwd, values.markdown),
    });
    const { gate } = run;
    printResult(io, values.json, gateJson(gate), () => gateText(gate));
    if (!gate.passed) {
      const summary = values.json ? "See the JSON on stdout for every failing finding." : "See the summary above; --sarif/--junit/--markdown write the full reports.";
      throw scanGateFailed(gate.failing.length, gate.expired.length, summary);
    }
    return EXIT.ok;
  },
});

const argvUsage = `slipway scan argv --scanner ${SCANNERS.join("|")} [--source DIR] [--input TAR] [--out DIR] [--since REF] [--no-git] [--config slipway.yaml]`;

export const scanArgv = defineCommand({
  path: ["scan", "argv"],
  summary: "Print (JSON) the pinned image and argv that run one scanner, for the Dagger module",
  usage: argvUsage,
  options: {
    scanner: { type: "string" },
    source: { type: "string" },
    input: { type: "string" },
    out: { type: "string" },
    since: { type: "string" },
    "no-git": { type: "boolean" },
    config: { type: "string" },
  },
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
