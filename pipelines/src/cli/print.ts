import type { Io } from "./command.js";
import { isSlipwayError } from "../errors.js";

/**
 * The version of every JSON document the CLI prints (stdout with --json, and the error object on stderr).
 * Raised only when a field is renamed or removed or changes meaning; new fields keep it.
 */
export const SCHEMA_VERSION = 1;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Prints a command's result as one indented JSON document on stdout (what the Dagger module parses), with
 * "schemaVersion" first. An array (`env list`) is printed as it always was: wrapping it would break its readers.
 */
export function printJson(io: Io, value: unknown): void {
  const versioned = isPlainObject(value) ? { schemaVersion: SCHEMA_VERSION, ...value } : value;
  io.stdout(`${JSON.stringify(versioned, null, 2)}\n`);
}

/** Prints a command's result: `value` as JSON with --json, else the text a person reads. */
export function printResult(io: Io, json: boolean | undefined, value: unknown, text: () => string): void {
  if (json) printJson(io, value);
  else io.stdout(text());
}

/**
 * The JSON error object (--json): the last line on stderr, so a reader takes the last line (progress lines
 * and warnings come before it). `hint` is what the text form prints under the message (causes, what to try).
 */
export function errorJson(error: unknown): { schemaVersion: number; error: { code: string; message: string; hint: string | null; exitCode: number } } {
  if (isSlipwayError(error)) {
    const message = error.stage ? `[${error.stage}] ${error.message}` : error.message;
    return { schemaVersion: SCHEMA_VERSION, error: { code: error.code, message, hint: error.details.length > 0 ? error.details.join("\n") : null, exitCode: error.exitCode } };
  }
  // Unexpected: the stack goes in the hint so it can be reported and fixed.
  const message = error instanceof Error ? error.message : String(error);
  const stack = error instanceof Error && error.stack ? error.stack : null;
  return { schemaVersion: SCHEMA_VERSION, error: { code: "SLIPWAY_INTERNAL", message, hint: stack, exitCode: 1 } };
}

/**
 * An error: `CODE: message` and the details, then with --json the same error as one JSON line. The text
 * stays because a person reads stderr in every case: the Dagger module passes --json to every call and
 * shows the end of stderr when one fails, and CI logs show it as it is.
 */
export function printError(io: Io, json: boolean | undefined, error: unknown): void {
  if (isSlipwayError(error)) io.stderr(`${error.render()}\n`);
  else io.stderr(`SLIPWAY_INTERNAL: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  if (json) io.stderr(`${JSON.stringify(errorJson(error))}\n`);
}
