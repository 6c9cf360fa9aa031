import { z } from "zod";
import { scanReportInvalid, scanReportUnreadable } from "../../errors.js";
import type { RawFinding, Severity, Verification } from "../model.js";
import type { ReportInput } from "./common.js";
import { issuesToProblems, nonEmpty } from "./common.js";
import { splitValues } from "./split-array.js";

/**
 * TruffleHog v3 `--json`: one JSON object per line (JSON lines), one line per result (pkg/output/json.go
 * marshals each result and prints it with a newline). Wrappers also save them pretty-printed or
 * concatenated, or as one JSON array: all are read, value by value (see `results`).
 * `Verified: true` is a live credential; `VerificationError` set means verification was attempted
 * and failed ("unknown", TruffleHog 3.70+ `--results=unknown`); otherwise it is unverified.
 * `SourceMetadata.Data` has one key per source type (Git, Filesystem, Github, ...) holding
 * file / line / commit. `Raw`, `RawV2`, `Redacted` and `ExtraData` hold the secret: never read.
 * https://github.com/trufflesecurity/trufflehog#octocat-trufflehog-github-action (JSON output)
 */

const Source = z
  .object({
    file: z.string().optional(),
    line: z.number().int().optional(),
    commit: z.string().optional(),
    repository: z.string().optional(),
    link: z.string().optional(),
  })
  .passthrough();

const Line = z.object({
  DetectorName: z.string().min(1),
  DetectorDescription: z.string().optional(),
  DecoderName: z.string().optional(),
  SourceName: z.string().optional(),
  Verified: z.boolean(),
  VerificationError: z.string().optional(),
  SourceMetadata: z.object({
    Data: z.record(z.string(), Source).refine((d) => Object.keys(d).length > 0, { message: "names no source (expected Git, Filesystem, ...)" }),
  }),
});

/** TruffleHog gives no severity; Slipway rates a secret by what is known about it. */
const SEVERITY_OF: Record<Verification, Severity> = { verified: "CRITICAL", unknown: "HIGH", unverified: "MEDIUM" };

function isLogRecord(value: Record<string, unknown>): boolean {
  // TruffleHog logs with zap ({"level", "ts", "msg"}) on stderr; tolerate it when stderr was merged in.
  return !("DetectorName" in value) && typeof value.level === "string" && typeof value.msg === "string";
}

/** 1-based line of each position asked for, positions in increasing order: one pass over the text in all. */
function lineCounter(text: string): (position: number) => number {
  let line = 1;
  let at = 0;
  return (position) => {
    for (let nl = text.indexOf("\n", at); nl >= 0 && nl < position; nl = text.indexOf("\n", nl + 1)) line++;
    at = Math.max(at, position);
    return line;
  };
}

type Read = (value: Record<string, unknown>, where: string) => void;

/**
 * TruffleHog's own output, JSON lines, the fast way: when every line is a whole JSON value, those values
 * are exactly the stream's. Each is read as soon as it is parsed (holding 50,000 parsed results at once
 * costs more in garbage collection than parsing them). False when a line is not JSON: then the caller
 * starts over with `readValues`.
 */
function readJsonLines(input: ReportInput, read: Read): boolean {
  const lines = input.text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      return false;
    }
    readObjects(input, value, `line ${i + 1}`, read);
  }
  return true;
}

/**
 * What wrappers save besides JSON lines: objects concatenated or pretty-printed over several lines, or
 * one JSON array of them (`jq -s`). Split value by value (split-array.ts), each named by its first line.
 */
function readValues(input: ReportInput, read: Read): void {
  const line = lineCounter(input.text);
  const { items, rest } = splitValues(input.text);
  for (const [start, end] of items) {
    const where = `line ${line(start)}`;
    let value: unknown;
    try {
      value = JSON.parse(input.text.slice(start, end));
    } catch {
      // Not the engine's message: it quotes the text, which may be the secret.
      throw scanReportUnreadable("trufflehog", input.file, `${where} is not JSON (expected \`trufflehog --json\` output: JSON lines, or JSON objects one after the other)`);
    }
    readObjects(input, value, where, read);
  }
  if (rest !== undefined) throw scanReportUnreadable("trufflehog", input.file, `line ${line(rest)} is not JSON: a value starts there and does not end (a truncated file?)`);
}

/** One result object, or each of an array's (a wrapper's `jq -s`); anything else is not TruffleHog's. */
function readObjects(input: ReportInput, value: unknown, where: string, read: Read): void {
  if (!Array.isArray(value)) {
    if (value === null || typeof value !== "object") throw scanReportUnreadable("trufflehog", input.file, `${where} is not a JSON object`);
    read(value as Record<string, unknown>, where);
    return;
  }
  value.forEach((item: unknown, i) => {
    if (item === null || typeof item !== "object" || Array.isArray(item)) throw scanReportUnreadable("trufflehog", input.file, `${where}, element ${i} is not a JSON object`);
    read(item as Record<string, unknown>, `${where}, element ${i}`);
  });
}

export function parseTrufflehog(input: ReportInput): RawFinding[] {
  const findings: RawFinding[] = [];
  const problems: string[] = [];
  const read: Read = (value, where) => {
    if (isLogRecord(value)) return;
    const parsed = Line.safeParse(value, { reportInput: true });
    if (!parsed.success) {
      problems.push(...issuesToProblems(parsed.error.issues, `${where}: `));
      return;
    }
    const r = parsed.data;
    const verification: Verification = r.Verified ? "verified" : nonEmpty(r.VerificationError) ? "unknown" : "unverified";
    const [sourceType, source] = Object.entries(r.SourceMetadata.Data)[0] as [string, z.output<typeof Source>];
    const file = nonEmpty(source.file) ?? nonEmpty(source.link);
    findings.push({
      tool: "trufflehog",
      kind: "secret",
      severity: SEVERITY_OF[verification],
      id: r.DetectorName,
      aliases: [],
      title: `${r.DetectorName} credential (${verification})`,
      description: nonEmpty(r.DetectorDescription),
      fixedVersions: [],
      fixAvailable: true,
      location: {
        tool: "trufflehog",
        target: nonEmpty(source.repository) ?? nonEmpty(r.SourceName) ?? sourceType,
        file: file ?? (source.commit ? `(commit ${source.commit.slice(0, 12)} metadata)` : undefined),
        line: source.line !== undefined && source.line > 0 ? source.line : undefined,
        commit: nonEmpty(source.commit),
      },
      verification,
    });
  };
  if (!readJsonLines(input, read)) {
    findings.length = 0;
    problems.length = 0;
    readValues(input, read);
  }
  if (problems.length > 0) throw scanReportInvalid("trufflehog", input.file, problems);
  return findings;
}
