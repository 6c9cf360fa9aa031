// .dagger/src/errors.ts recognises the SDK's errors by shape; these are the SDK's own classes (npm 0.21.9).
import { describe, expect, it } from "vitest";
import { ExecError, GraphQLRequestError } from "../../node_modules/@dagger.io/dagger/dist/src/common/errors/index.js";
import { isApiError, isExecError } from "../../.dagger/src/errors.js";

describe(".dagger/src/errors", () => {
  const exec = new ExecError("process \"false\" did not complete successfully: exit code: 1", {
    cmd: ["false"],
    exitCode: 1,
    stdout: "",
    stderr: "boom",
  });
  const api = new GraphQLRequestError("failed to solve: dockerfile parse error", {
    error: { request: { query: "" }, response: { errors: [{ message: "x" }] } } as never,
  });

  it.each([
    ["the SDK's ExecError", exec, true, false],
    ["the SDK's GraphQLRequestError", api, false, true],
    ["a plain Error", new Error("ExecError"), false, false],
    ["an Error named ExecError without its fields", Object.assign(new Error("x"), { name: "ExecError" }), false, false],
    ["a non-error", { name: "ExecError", exitCode: 1, stdout: "", stderr: "" }, false, false],
  ])("%s", (_, error, execLike, apiLike) => {
    expect(isExecError(error)).toBe(execLike);
    expect(isApiError(error)).toBe(apiLike);
  });

  it("keeps what the summary needs from an ExecError", () => {
    expect(isExecError(exec) && [exec.cmd, exec.exitCode, exec.stderr]).toEqual([["false"], 1, "boom"]);
  });
});
