import type { z } from "zod";
import { formatPath } from "../../config/load.js";
import { scanReportInvalid, scanReportUnreadable } from "../../errors.js";
import { SEVERITIES } from "../model.js";

/** What every parser gets: the report text and a name for messages (the file as the user gave it). */
export interface ReportInput {
  text: string;
  file: string;
}

/**
 * JSON.parse, failing closed. The engine's own message is not repeated: V8 quotes the text around
 * the error, and a scanner report can hold a secret there.
 */
export function parseJson(input: ReportInput, tool: string): unknown {
  if (input.text.trim() === "") throw scanReportUnreadable(tool, input.file, "the file is empty");
  let data: unknown;
  try {
    data = JSON.parse(input.text);
  } catch {
    throw scanReportUnreadable(tool, input.file, "it is not valid JSON");
  }
  if (data === null) throw scanReportUnreadable(tool, input.file, "it is `null`");
  if (typeof data !== "object" || Array.isArray(data)) {
    throw scanReportUnreadable(tool, input.file, `expected a JSON object, got ${Array.isArray(data) ? "an array" : typeof data}`);
  }
  return data;
}

/** Validates with zod and reports every problem with its path; never returns a partial report. */
export function validate<S extends z.ZodType>(schema: S, data: unknown, tool: string, file: string, prefix = ""): z.output<S> {
  const result = schema.safeParse(data, { reportInput: true });
  if (result.success) return result.data;
  throw scanReportInvalid(tool, file, issuesToProblems(result.error.issues, prefix));
}

export function issuesToProblems(issues: readonly z.core.$ZodIssue[], prefix = ""): string[] {
  return issues.map((issue) => {
    const input = (issue as { input?: unknown }).input;
    // Name the value only for enum mismatches (severities, statuses): those never carry a secret.
    const got = issue.code === "invalid_value" && typeof input === "string" ? `, got ${JSON.stringify(input.slice(0, 40))}` : "";
    const missing = issue.code === "invalid_type" && input === undefined ? "missing required field" : issue.message;
    return `${prefix}${formatPath(issue.path)}: ${missing}${got}`;
  });
}

export const severityError = { error: `unknown severity; expected one of ${SEVERITIES.join(", ")}` };

/** A trimmed non-empty string or undefined: scanners write "" for "none". */
export function nonEmpty(value: string | null | undefined): string | undefined {
  return value === undefined || value === null || value.trim() === "" ? undefined : value;
}
