/**
 * The error catalog: one place, one function per stable code (semantic-release lib/definitions/errors.js).
 * Every message is one line that names the offending value; `details` says likely causes and what to try.
 * Users see `CODE: message` and the details, never a stack trace. Unexpected errors keep their stack.
 */

/** Exit codes shared by every command. */
export const EXIT = {
  ok: 0,
  /** The command ran and the answer is "no": a gate failed, a rollout failed. */
  failed: 1,
  /** Bad input: flags, config, manifests, reports. Nothing was changed. */
  badInput: 2,
  /** Gave up waiting. */
  timeout: 3,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export interface SlipwayErrorInit {
  code: string;
  message: string;
  details?: string[];
  exitCode?: ExitCode;
  /** Terminal errors are never retried (bad config, failed gate); transient ones may be (network, rejected push). */
  terminal?: boolean;
  cause?: unknown;
}

export class SlipwayError extends Error {
  readonly code: string;
  readonly details: string[];
  readonly exitCode: ExitCode;
  readonly terminal: boolean;
  /** Set by the stage wrapper so a user sees where it failed. */
  stage?: string;

  constructor(init: SlipwayErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "SlipwayError";
    this.code = init.code;
    this.details = init.details ?? [];
    this.exitCode = init.exitCode ?? EXIT.badInput;
    this.terminal = init.terminal ?? true;
  }

  /** The text a user reads: `CODE: message` then indented details. */
  render(): string {
    const head = `${this.code}: ${this.stage ? `[${this.stage}] ` : ""}${this.message}`;
    return [head, ...this.details.map((d) => `  ${d}`)].join("\n");
  }
}

export function isSlipwayError(value: unknown): value is SlipwayError {
  return value instanceof SlipwayError;
}

function quote(value: string): string {
  return JSON.stringify(value);
}

// ---- usage -----------------------------------------------------------------------------------------

export function usageError(message: string, usage: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_USAGE",
    message,
    details: ["Usage:", ...usage.split("\n").map((l) => `  ${l}`)],
  });
}

export function unknownCommand(name: string, known: string[]): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_UNKNOWN_COMMAND",
    message: `unknown command ${quote(name)}`,
    details: ["Commands:", ...known.map((k) => `  slipway ${k}`), "Run `slipway <command> --help` for its flags."],
  });
}

// ---- config ----------------------------------------------------------------------------------------

export function configNotFound(file: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_CONFIG_NOT_FOUND",
    message: `config file ${quote(file)} does not exist`,
    details: ["Pass --file with the path of slipway.yaml, or omit it to use the defaults."],
  });
}

export function configUnreadableYaml(file: string, problems: string[]): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_CONFIG_YAML",
    message: `${file} is not valid YAML (${problems.length} problem${problems.length === 1 ? "" : "s"})`,
    details: [...problems.map((p) => `- ${p}`), "Fix the YAML syntax at the lines shown; nothing was read from this file."],
  });
}

export function configInvalid(file: string, problems: string[]): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_CONFIG_INVALID",
    message: `${file} has ${problems.length} problem${problems.length === 1 ? "" : "s"}`,
    details: [
      ...problems.map((p) => `- ${p}`),
      "Fix every key listed; editors can validate against pipelines/schema/slipway.schema.json.",
    ],
  });
}

// ---- services and plan -----------------------------------------------------------------------------

export function sourceNotFound(dir: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_SOURCE_NOT_FOUND",
    message: `source directory ${quote(dir)} does not exist or is not a directory`,
    details: ["Pass --source with the root of the repository to build (the folder holding slipway.yaml or services/)."],
  });
}

export function noServicesFolder(dir: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_NO_SERVICES",
    message: `${quote(dir)} has no services/ folder and slipway.yaml lists no services`,
    details: [
      "Either put each service in services/<name>/ with a package.json and a Dockerfile,",
      "or list them in slipway.yaml, e.g. `services: [\"apps/*\"]` or `services: [{ name: api, path: src/api }]`.",
    ],
  });
}

export function noServicesMatched(patterns: string[]): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_NO_SERVICES",
    message: `no service found: no folder matched by ${patterns.map(quote).join(", ")} has both a package.json and a Dockerfile`,
    details: ["A service is a folder with a package.json and a Dockerfile. Check the globs in slipway.yaml `services:`."],
  });
}

export function serviceFolderMissing(name: string, path: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_SERVICE_INVALID",
    message: `service ${quote(name)}: folder ${quote(path)} does not exist`,
    details: ["Fix `path` of this service in slipway.yaml (relative to the repository root)."],
  });
}

export function servicePackageMissing(name: string, path: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_SERVICE_INVALID",
    message: `service ${quote(name)}: ${quote(path)} has no package.json`,
    details: ["Each service is a Node.js package; add a package.json or fix `path` in slipway.yaml."],
  });
}

export function serviceDockerfileMissing(name: string, dockerfile: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_SERVICE_NO_DOCKERFILE",
    message: `service ${quote(name)}: Dockerfile ${quote(dockerfile)} does not exist`,
    details: [
      "Add a Dockerfile to the service, or set `dockerfile:` for this service in slipway.yaml",
      "(relative to the repository root).",
    ],
  });
}

export function serviceNameInvalid(name: string, where: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_SERVICE_NAME",
    message: `service name ${quote(name)} (${where}) is not allowed`,
    details: [
      "A service name becomes an image name and a folder name: use lowercase letters, digits and '-'",
      "(no '/', no '..', at most 63 characters), e.g. `name: orders-api` in slipway.yaml.",
    ],
  });
}

export function serviceNameDuplicate(name: string, paths: string[]): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_SERVICE_NAME",
    message: `service name ${quote(name)} is used by ${paths.map(quote).join(" and ")}`,
    details: ["Give each service a unique `name:` in slipway.yaml."],
  });
}

export function unknownServices(names: string[], known: string[]): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_UNKNOWN_SERVICE",
    message: `unknown service${names.length === 1 ? "" : "s"} ${names.map(quote).join(", ")}`,
    details: [`Known services: ${known.join(", ") || "(none)"}.`],
  });
}

export function pathEscapesSource(name: string, field: string, value: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_SERVICE_INVALID",
    message: `service ${quote(name)}: ${field} ${quote(value)} points outside the repository`,
    details: ["Paths in slipway.yaml are relative to the repository root and must stay inside it."],
  });
}

// ---- git -------------------------------------------------------------------------------------------

export function notAGitRepository(dir: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_NOT_A_GIT_REPO",
    message: `${quote(dir)} is not a git repository, so changes since --base cannot be computed`,
    details: ["Run without --base to build every service, or pass a source directory that includes .git."],
  });
}

export function baseRefNotFound(ref: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_BASE_NOT_FOUND",
    message: `base ref ${quote(ref)} does not exist in this repository`,
    details: [
      "Likely causes: a typo, or a shallow clone that does not contain the base commit.",
      "In CI fetch full history (GitHub actions/checkout `fetch-depth: 0`; Azure DevOps `fetchDepth: 0`),",
      "or `git fetch origin <branch>` before running.",
    ],
  });
}

export function gitFailed(command: string, stderr: string, cause?: unknown): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_GIT_FAILED",
    message: `git ${command} failed`,
    details: stderr.trim() ? stderr.trim().split("\n").slice(-5) : [],
    exitCode: 1,
    terminal: false,
    cause,
  });
}

// ---- rollout (issue 7: slipway rollout verify) -------------------------------------------------------

export function rolloutBadFlag(flag: string, value: string, expected: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_ROLLOUT_INPUT",
    message: `${flag} ${quote(value)} is not valid: expected ${expected}`,
    details: ["Run `slipway rollout verify --help` for the flags and their formats."],
  });
}

export function kubeconfigNotFound(file: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_KUBECONFIG_NOT_FOUND",
    message: `kubeconfig ${quote(file)} does not exist or is not a file`,
    details: ["Pass --kubeconfig with the path of a kubeconfig file (on AKS: `az aks get-credentials --file FILE`)."],
  });
}

export function kubeconfigInvalid(file: string, problem: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_KUBECONFIG_INVALID",
    message: `kubeconfig ${quote(file)} cannot be used: ${problem}`,
    details: ["Check the file with `kubectl --kubeconfig FILE config view` (it prints no credentials)."],
  });
}

export function kubeContextNotFound(context: string, known: string[]): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_KUBE_CONTEXT_NOT_FOUND",
    message: `context ${quote(context)} is not in the kubeconfig`,
    details: [`Contexts in the file: ${known.map(quote).join(", ") || "(none)"}.`, "Pass one of them with --context, or omit --context to use current-context."],
  });
}

export function azureIdentityUnavailable(mode: string, missing: string[]): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_AZURE_IDENTITY",
    message: `identity mode ${quote(mode)} needs ${missing.join(", ")}, which ${missing.length === 1 ? "is" : "are"} not set`,
    details: [
      "Set the variables named above in the pipeline's environment, or choose another --azure-identity mode",
      "(auto, azure-cli, workload-identity, managed-identity, client-secret, github-oidc, azure-devops, none).",
    ],
  });
}

export function azureTokenFailed(mode: string, scope: string, reason: string, cause?: unknown): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_AZURE_TOKEN",
    message: `could not get an Entra ID token for ${quote(scope)} with identity mode ${quote(mode)}`,
    details: [
      reason,
      "Check that the identity exists and may sign in to this tenant, and that it has an AKS role",
      "(e.g. \"Azure Kubernetes Service RBAC Reader\") on the cluster.",
    ],
    exitCode: 1,
    terminal: false,
    cause,
  });
}

export function kubeForbidden(verb: string, resource: string, namespace: string, message: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_KUBE_FORBIDDEN",
    message: `the Kubernetes API refused to ${verb} ${resource} in namespace ${quote(namespace)}`,
    details: [
      message,
      "The identity needs read-only access: get, list, watch on deployments and replicasets (apps), pods, events,",
      "get on pods/log, and get, list, watch on the Flux Kustomization or Argo CD Application (patch only with --reconcile).",
    ],
    exitCode: 1,
  });
}

export function kubeUnreachable(server: string, message: string, cause?: unknown): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_KUBE_UNREACHABLE",
    message: `the Kubernetes API at ${quote(server)} did not answer: ${message}`,
    details: ["Check the network path to the cluster (private clusters need a runner inside the VNet) and the kubeconfig server URL."],
    exitCode: 1,
    terminal: false,
    cause,
  });
}

export function rolloutFailed(namespace: string, reasons: string[]): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_ROLLOUT_FAILED",
    message: `rollout in namespace ${quote(namespace)} failed (${reasons.length} reason${reasons.length === 1 ? "" : "s"})`,
    details: [...reasons.map((r) => `- ${r}`), "Read the diagnostics (--diagnostics DIR) for pods, events and the failing containers' logs."],
    exitCode: 1,
  });
}

export function rolloutTimedOut(namespace: string, timeout: string, waiting: string[]): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_ROLLOUT_TIMEOUT",
    message: `rollout in namespace ${quote(namespace)} not done after ${timeout}`,
    details: [...waiting.map((w) => `- still waiting: ${w}`), "Raise --timeout (or rollout.timeout in slipway.yaml) if the rollout is just slow."],
    exitCode: 3,
    terminal: false,
  });
}
