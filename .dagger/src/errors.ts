// Recognising the SDK's errors by their shape. The 0.21 runtime's bundled SDK (shared/DAGGER-0.21.md;
// sdk/typescript/runtime/tsutils/module/index.ts) does not export the error classes, and a value import
// of one (`import { ExecError } from "@dagger.io/dagger"`) makes the whole module fail to link, so every
// function call fails. The SDK sets `name` on its errors (common/errors/errors-codes.ts ERROR_NAMES) and
// ExecError carries the command, exit code and outputs; that is all we rely on.

/** A command that exited with a code its `withExec` did not expect (the SDK's ExecError). */
export interface ExecFailure extends Error {
  name: "ExecError";
  cmd: string[];
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** An API error that is not a failed command (the SDK's GraphQLRequestError), e.g. a Dockerfile error. */
export interface ApiFailure extends Error {
  name: "GraphQLRequestError";
}

export function isExecError(error: unknown): error is ExecFailure {
  if (!(error instanceof Error) || error.name !== "ExecError") return false;
  const e = error as Partial<ExecFailure>;
  return typeof e.exitCode === "number" && typeof e.stdout === "string" && typeof e.stderr === "string";
}

export function isApiError(error: unknown): error is ApiFailure {
  return error instanceof Error && error.name === "GraphQLRequestError";
}
