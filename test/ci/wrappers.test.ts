import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseDocument } from "yaml";
import { REPO_ROOT } from "../helpers/cli.js";

/**
 * The CI wrappers are thin: every step is a `dagger call`. This suite checks each call against the
 * documented module API (test/dagger/api.expected.json, itself checked against the SDK's introspector),
 * so a renamed function or flag breaks here instead of in a user's pipeline.
 */

interface Arg {
  name: string;
  type: string;
}
interface Fn {
  returns: string;
  args: Arg[];
}
interface Api {
  objects: Record<string, { functions: Record<string, Fn>; fields: Record<string, { type: string }> }>;
}

const api = JSON.parse(readFileSync(join(REPO_ROOT, "test", "dagger", "api.expected.json"), "utf8")) as Api;

function camel(kebab: string): string {
  return kebab.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

function objectName(type: string): string {
  return type.replace(/[[\]!]/g, "");
}

/** Every `call` input of a GitHub step using the Dagger action, and every `dagger ... call` in scripts. */
function daggerCalls(file: string): string[] {
  const doc = parseDocument(readFileSync(join(REPO_ROOT, file), "utf8"));
  expect(doc.errors).toEqual([]);
  const calls: string[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (node === null || typeof node !== "object") return;
    const record = node as Record<string, unknown>;
    const uses = record.uses;
    const withs = record.with as Record<string, unknown> | undefined;
    if (typeof uses === "string" && uses.startsWith("dagger/dagger-for-github") && typeof withs?.call === "string") calls.push(withs.call);
    for (const value of Object.values(record)) {
      if (typeof value === "string") {
        const joined = value.replace(/\\\n\s*/g, " ");
        for (const m of joined.matchAll(/dagger(?:\s+-m\s+\S+)?\s+call\s+([^\n;|>)]+)/g)) calls.push(m[1] as string);
      }
      visit(value);
    }
  };
  visit(doc.toJS());
  return calls;
}

interface CheckedCall {
  fn: string;
  problems: string[];
}

/** Checks `fn --flag value ... [chained-fn ...]` against the API. */
function checkCall(call: string): CheckedCall {
  // A workflow expression is one opaque word: a flag's value, or (where a flag is expected) flags computed
  // by an earlier step, which cannot be checked statically.
  const EXPR = "\u00a7";
  const words = call.replace(/\$\{\{[\s\S]*?\}\}/g, EXPR).replace(/\$\([A-Za-z_.]+\)/g, EXPR).trim().split(/\s+/).filter((w) => w !== "");
  const problems: string[] = [];
  const fnName = camel(words[0] as string);
  const fn = api.objects.Slipway?.functions[fnName];
  if (!fn) return { fn: fnName, problems: [`unknown function ${fnName}`] };
  let i = 1;
  while (i < words.length && ((words[i] as string).startsWith("--") || words[i] === EXPR)) {
    if (words[i] === EXPR) {
      i += 1;
      continue;
    }
    const flag = camel((words[i] as string).slice(2).split("=")[0] as string);
    const arg = fn.args.find((a) => a.name === flag);
    if (!arg) problems.push(`${fnName}: unknown flag --${(words[i] as string).slice(2)}`);
    // Boolean flags take no value in `dagger call`; others consume the next word.
    i += arg?.type.startsWith("Boolean") || (words[i] as string).includes("=") ? 1 : 2;
  }
  const chained = words[i];
  if (chained !== undefined) {
    const returned = api.objects[objectName(fn.returns)];
    // Core types (File, Container, Directory) are the engine's; only our own objects are checked.
    if (returned && !returned.functions[camel(chained)] && !returned.fields[camel(chained)]) {
      problems.push(`${fnName}: ${objectName(fn.returns)} has no ${chained}`);
    }
  }
  return { fn: fnName, problems };
}

describe("ci/ wrappers", () => {
  it.each([["ci/github/slipway.yml"], ["ci/azure-devops/azure-pipelines.yml"]])(
    "%s only calls documented functions with documented flags",
    (file) => {
      const calls = daggerCalls(file).map(checkCall);
      expect(calls.map((c) => c.fn)).toEqual(expect.arrayContaining(["ci", "scanDependencies", "scanSecrets", "publish", "migrate", "gitopsBump", "recordRelease", "verifyRollout", "markRelease", "rollback"]));
      expect(calls.flatMap((c) => c.problems)).toEqual([]);
    },
  );

  it("catches a renamed flag (the check can fail)", () => {
    expect(checkCall("ci --sauce . summary").problems).toEqual(["ci: unknown flag --sauce"]);
    expect(checkCall("ci --source . summry").problems).toEqual(["ci: CiRun has no summry"]);
    expect(checkCall("deploy --source .").problems).toEqual(["unknown function deploy"]);
  });

  it("runs the release only from main, with OIDC and full history", () => {
    const gh = parseDocument(readFileSync(join(REPO_ROOT, "ci/github/slipway.yml"), "utf8")).toJS() as {
      jobs: Record<string, { if?: string; permissions?: Record<string, string>; steps: { uses?: string; with?: Record<string, unknown> }[] }>;
    };
    expect(gh.jobs.release?.if).toContain("refs/heads/main");
    expect(gh.jobs.release?.permissions?.["id-token"]).toBe("write");
    for (const job of Object.values(gh.jobs)) {
      const checkout = job.steps.find((s) => s.uses?.startsWith("actions/checkout"));
      expect(checkout?.with?.["fetch-depth"]).toBe(0);
      // actions/checkout otherwise keeps the job's token in .git/config, and the source goes into containers.
      expect(checkout?.with?.["persist-credentials"]).toBe(false);
    }
  });

  // The toolkit container sees nothing of the runner's environment (shared/DAGGER-0.21.md, exec env), and
  // has no `az`: an Entra ID kubeconfig only works with the job's federated identity passed explicitly.
  it.each([
    ["ci/github/slipway.yml", "github-oidc", "--oidc-request-token"],
    ["ci/azure-devops/azure-pipelines.yml", "azure-pipelines", "--id-token"],
  ])("%s passes the job's federated identity to verify-rollout", (file, mode, secretFlag) => {
    // The whole command line (daggerCalls stops at a `)`, which Azure DevOps macros contain).
    const text = readFileSync(join(REPO_ROOT, file), "utf8").replace(/\\\n\s*/g, " ");
    const calls = [...text.matchAll(/call (verify-rollout[^\n]*)/g)].map((m) => m[1] as string);
    expect(calls.length).toBeGreaterThan(0);
    for (const call of calls) {
      expect(call).toContain(`--azure-identity ${mode}`);
      expect(call).toMatch(/--tenant-id \S+/);
      expect(call).toMatch(/--client-id \S+/);
      expect(call).toContain(`${secretFlag} env:`);
    }
  });
});

// Issue 14: only a real failed verdict rolls back; timed out (3) or could not check (4) never does.
describe("ci/ wrappers: rollback only on a failed rollout verdict", () => {
  it("the GitHub verify step writes the verdict from SLIPWAY_ROLLOUT_VERDICT=, and the rollback step requires `failed`", async () => {
    const { execFileSync } = await import("node:child_process");
    const { mkdtempSync, writeFileSync, chmodSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const gh = parseDocument(readFileSync(join(REPO_ROOT, "ci/github/slipway.yml"), "utf8")).toJS() as {
      jobs: Record<string, { steps: { id?: string; name?: string; if?: string; run?: string }[] }>;
    };
    const steps = Object.values(gh.jobs).flatMap((j) => j.steps);
    const verify = steps.find((s) => s.id === "verify");
    const rollback = steps.find((s) => s.name?.startsWith("Roll back"));
    expect(rollback?.if).toContain("steps.verify.outputs.verdict == 'failed'");
    const outcome = (printed: string, code: number): { code: number; output: string } => {
      const dir = mkdtempSync(join(tmpdir(), "slipway-wrapper-"));
      writeFileSync(join(dir, "dagger"), `#!/bin/sh\nprintf '%s\\n' 'Error: rollout x' '${printed}' >&2\nexit ${code}\n`);
      chmodSync(join(dir, "dagger"), 0o755);
      writeFileSync(join(dir, "out"), "");
      let status = 0;
      try {
        execFileSync("bash", ["-e", "-c", verify?.run ?? ""], { env: { PATH: `${dir}:${process.env.PATH ?? ""}`, RUNNER_TEMP: dir, GITHUB_OUTPUT: join(dir, "out") }, stdio: "pipe" });
      } catch (error) {
        status = (error as { status: number }).status;
      }
      return { code: status, output: readFileSync(join(dir, "out"), "utf8") };
    };
    expect(outcome("", 0)).toEqual({ code: 0, output: "verdict=healthy\n" });
    expect(outcome("SLIPWAY_ROLLOUT_VERDICT=failed (roll back)", 1)).toEqual({ code: 1, output: "verdict=failed\n" });
    expect(outcome("SLIPWAY_ROLLOUT_VERDICT=unknown (do not roll back)", 1)).toEqual({ code: 1, output: "verdict=unknown\n" });
    expect(outcome("SLIPWAY_ROLLOUT_VERDICT=timeout (do not roll back)", 1)).toEqual({ code: 1, output: "verdict=timeout\n" });
    // An error before any verdict (a bad flag, no engine): no verdict line, so no rollback.
    expect(outcome("Error: unknown flag", 1)).toEqual({ code: 1, output: "verdict=unknown\n" });
   }, 60_000);

  it("the Azure DevOps rollback step requires verdict `failed`", () => {
    const text = readFileSync(join(REPO_ROOT, "ci/azure-devops/azure-pipelines.yml"), "utf8");
    expect(text).toContain("##vso[task.setvariable variable=verdict]${verdict:-unknown}");
    expect(text).toMatch(/displayName: Roll back to the previous verified release\n\s+condition: and\(failed\(\), ne\(variables\['releaseId'\], ''\), eq\(variables\['verdict'\], 'failed'\)\)/);
  });
});
