import { existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { defineCommand } from "../cli/command.js";
import type { Io } from "../cli/command.js";
import { checkInputFile, checkOutputFile } from "../cli/paths.js";
import { printResult } from "../cli/output.js";
import { maskSecrets } from "../cli/secrets.js";
import { EXIT, reportInvalid, reportOutputFailed, usageError } from "../errors.js";
import type { RunReport } from "./schema.js";

export const REPORT_FORMATS = ["md", "html", "junit", "sarif"] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/**
 * The renderers, loaded when a report is rendered: they and the schema they read bring zod, which
 * `slipway report --help` has no use for (issue 16, start-up).
 */
async function renderer(format: ReportFormat): Promise<(report: RunReport) => string> {
  if (format === "html") return (await import("./html.js")).renderHtml;
  if (format === "junit") return (await import("./junit.js")).renderJunit;
  if (format === "sarif") return (await import("./sarif.js")).renderSarif;
  return (await import("./markdown.js")).renderMarkdown;
}

/** A run report is a few MB at most (500 findings of a few hundred bytes each); anything far larger is not one. */
const MAX_INPUT = 64 * 1024 * 1024;

const usage = "slipway report --in run.json --format md|html|junit|sarif [--out FILE] [--json]";

/** Reads and validates a run report; every problem is named with its path in the JSON. */
export async function readRunReport(io: Pick<Io, "cwd">, path: string): Promise<RunReport> {
  const file = resolve(io.cwd, path);
  if (!existsSync(file)) throw reportInvalid(path, ["the file does not exist"]);
  checkInputFile("--in", path, file);
  if (statSync(file).size > MAX_INPUT) throw reportInvalid(path, [`it is larger than ${MAX_INPUT / 1024 / 1024} MiB`]);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw reportInvalid(path, [`not JSON: ${error instanceof Error ? error.message : String(error)}`]);
  }
  // The schema (zod) when there is a report to read, not for --help (issue 16, start-up).
  const { RunReport } = await import("./schema.js");
  const parsed = RunReport.safeParse(raw);
  if (!parsed.success) throw reportInvalid(path, parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`));
  return parsed.data;
}

/** The file is replaced whole or not at all: written beside it under a temporary name, then renamed. */
function writeWhole(path: string, file: string, text: string): void {
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, text, { mode: 0o644 });
    renameSync(tmp, file);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw reportOutputFailed(path, error);
  }
}

export const reportCommand = defineCommand({
  path: ["report"],
  summary: "Render a run report (ci, release, promote, rollback) as Markdown, one self-contained HTML page, JUnit or SARIF",
  usage,
  options: {
    in: { type: "string", value: "FILE", describe: "the run-report JSON (schemaVersion 1) the Dagger module's `run-report` writes (required)" },
    format: { type: "string", value: "FORMAT", describe: "md (job summaries), html (one page, no network), junit or sarif (2.1.0)", defaultText: "md" },
    out: { type: "string", value: "FILE", describe: "write here, replaced whole or not at all", defaultText: "stdout" },
    json: { type: "boolean" },
  },
  examples: [
    "slipway report --in run-report.json --format html --out report.html",
    "slipway report --in run-report.json --format md >> \"$GITHUB_STEP_SUMMARY\"",
    "slipway report --in run-report.json --format sarif --out slipway.sarif --json",
  ],
  async run({ values, io }) {
    if (values.in === undefined) throw usageError("--in is required: the run-report JSON to render", usage);
    const format = values.format ?? "md";
    if (!(REPORT_FORMATS as readonly string[]).includes(format)) throw usageError(`--format ${JSON.stringify(format)} is not one of ${REPORT_FORMATS.join(", ")}`, usage);
    let outFile: string | undefined;
    if (values.out !== undefined) {
      outFile = resolve(io.cwd, values.out);
      checkOutputFile("--out", values.out, outFile);
    }
    const { redactReport } = await import("./view.js");
    const report = redactReport(await readRunReport(io, values.in));
    // Masked like everything the CLI writes: a credential this process knows never reaches the file.
    const text = maskSecrets((await renderer(format as ReportFormat))(report));
    if (outFile === undefined) {
      if (values.json) throw usageError("--json needs --out: the rendered report and the JSON result cannot share stdout", usage);
      io.stdout(text);
      return EXIT.ok;
    }
    writeWhole(values.out as string, outFile, text);
    printResult(
      io,
      values.json,
      { schemaVersion: 1, format, out: values.out, bytes: Buffer.byteLength(text), kind: report.kind, outcome: report.outcome },
      () => `wrote ${values.out} (${format}, ${Buffer.byteLength(text)} bytes): ${report.kind} ${report.outcome}\n`,
    );
    return EXIT.ok;
  },
});

export const REPORT_COMMANDS = [reportCommand];
