import { z } from "zod";
import { scanReportInvalid, scanReportUnreadable } from "../../errors.js";
import type { RawFinding, Severity, Verification } from "../model.js";
import type { ReportInput } from "./common.js";
import { issuesToProblems, nonEmpty } from "./common.js";

/**
 * TruffleHog v3 `--json`: one JSON object per line (JSON lines), one line per result.
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

export function parseTrufflehog(input: ReportInput): RawFinding[] {
  const findings: RawFinding[] = [];
  const problems: string[] = [];
  const lines = input.text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const text = (lines[i] ?? "").trim();
    if (text === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      // Not the engine's message: it quotes the line, which may be the secret.
      throw scanReportUnreadable("trufflehog", input.file, `line ${i + 1} is not JSON (expected JSON lines from \`trufflehog --json\`)`);
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      throw scanReportUnreadable("trufflehog", input.file, `line ${i + 1} is not a JSON object`);
    }
    if (isLogRecord(value as Record<string, unknown>)) continue;
    const parsed = Line.safeParse(value, { reportInput: true });
    if (!parsed.success) {
      problems.push(...issuesToProblems(parsed.error.issues, `line ${i + 1}: `));
      continue;
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
  }
  if (problems.length > 0) throw scanReportInvalid("trufflehog", input.file, problems);
  return findings;
}
