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
  /**
   * Could not check: the service that holds the answer (the Kubernetes API) stayed unreachable, refused us
   * (401/403) or kept erroring (5xx) until the timeout. Not a "no": nothing should be rolled back on it.
   */
  unavailable: 4,
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

/**
 * A URL or scp-like address with any userinfo replaced by `***`, whether or not it parses: everything up
 * to the last `@` of the authority-ish part after `scheme://`, and `user:password@` before an scp-like
 * `host:path`. Masks too much rather than too little (a password may hold `/`, `#`, `@` unencoded).
 */
export function redactUserinfo(value: string): string {
  const scheme = /^([a-z][a-z0-9+.-]*:\/\/)(.*)@/is.exec(value);
  if (scheme) return `${scheme[1]}***@${value.slice(scheme[0].length)}`;
  const scp = /^([^/@\s]*:[^@]*)@/s.exec(value);
  if (scp) return `***@${value.slice(scp[0].length)}`;
  return value;
}

/** Does the address carry a credential (a password, or over HTTP(S) any user part, which may be a token)? */
export function hasCredentialUserinfo(value: string): boolean {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\/(.*)@/is.exec(value);
  if (scheme) {
    const ssh = /^(?:ssh|git\+ssh)$/i.test(scheme[1] ?? "");
    // ssh://git@host names a login; ssh://git:secret@host carries a password.
    return !ssh || /:/.test((scheme[2] ?? "").split("@")[0] ?? "");
  }
  return /^[^/@\s]*:[^@]*@/s.test(value);
}

// ---- usage -----------------------------------------------------------------------------------------

export function usageError(message: string, usage: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_USAGE",
    message,
    details: ["Usage:", ...usage.split("\n").map((l) => `  ${l}`)],
  });
}

export function unknownCommand(name: string, known: string[], suggestion?: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_UNKNOWN_COMMAND",
    message: `unknown command ${quote(name)}${suggestion === undefined ? "" : `; did you mean \`slipway ${suggestion}\`?`}`,
    details: ["Commands:", ...known.map((k) => `  slipway ${k}`), "Run `slipway <command> --help` for its flags."],
  });
}

/** A flag the command does not take, with the nearest one it does when there is one. */
export function unknownFlag(flag: string, command: string, suggestion: string | undefined, usage: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_USAGE",
    message: `unknown flag ${flag} for \`slipway ${command}\`${suggestion === undefined ? "" : `; did you mean ${suggestion}?`}`,
    details: ["Usage:", ...usage.split("\n").map((l) => `  ${l}`), `Run \`slipway ${command} --help\` for every flag.`],
  });
}

/**
 * A path flag that names the wrong kind of thing: a directory where a file is expected, a file where a
 * directory is, a fifo or device (reading one blocks), a missing parent folder. Checked before anything is
 * read or written.
 */
export function pathInvalid(flag: string, value: string, problem: string, hint: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_PATH_INVALID",
    message: `${flag} ${quote(value)} ${problem}`,
    details: [hint, "Nothing was read or written."],
  });
}

// ---- config ----------------------------------------------------------------------------------------

export function configNotFound(file: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_CONFIG_NOT_FOUND",
    message: `config file ${quote(file)} does not exist`,
    details: ["Pass --config (or SLIPWAY_CONFIG) with the path of slipway.yaml, or omit it to use the defaults."],
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
      "Fix every key listed. To have your editor check slipway.yaml as you type: save its JSON Schema next to it",
      "(`slipway config schema > slipway.schema.json`) and make `# yaml-language-server: $schema=slipway.schema.json` its first line.",
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

export function workspaceFileInvalid(file: string, problem: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_WORKSPACE_INVALID",
    message: `${quote(file)} cannot be read: ${problem}`,
    details: [
      "The workspace's packages decide which services are affected by a change; fix the file (pnpm reads it the same way),",
      "e.g. `packages: [\"services/*\", \"packages/*\", \"!**/test/**\"]`.",
    ],
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

// ---- toolchain (package manager, lockfile, Node version) --------------------------------------------

export function nodeVersionUnsupported(where: string, value: string, supported: readonly number[], service: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_NODE_VERSION_UNSUPPORTED",
    message: `service ${quote(service)}: ${where} asks for Node.js ${quote(value)}, which no supported major (${supported.join(", ")}) satisfies`,
    details: [
      `Each service is built on node:<major>-bookworm-slim with a major in ${supported.join(", ")}.`,
      `Fix ${where} (e.g. ">=20" or "22"), or set \`build.services.${service}.node\` in slipway.yaml.`,
    ],
  });
}

export function nodeVersionInvalid(where: string, value: string, service: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_NODE_VERSION_INVALID",
    message: `service ${quote(service)}: ${where} holds ${quote(value)}, which is not a Node.js version or semver range`,
    details: [
      "Write a version or range (\"22\", \"v22.11.0\", \">=20 <23\"), an nvm alias (lts/*, lts/jod, node),",
      `or set \`build.services.${service}.node\` in slipway.yaml.`,
    ],
  });
}

export function packageManagerInvalid(file: string, value: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_PACKAGE_MANAGER_INVALID",
    message: `${file}: packageManager ${quote(value)} is not NAME@VERSION with NAME npm, pnpm or yarn`,
    details: [
      "corepack reads this field (nodejs.org/api/corepack.html): e.g. \"pnpm@9.15.9\" or \"yarn@4.9.1\", an exact version,",
      "optionally followed by +sha512.<hash>. `corepack use pnpm@9` writes it for you.",
    ],
  });
}

export function lockfileMissing(lockfile: string, manager: string, installRoot: string, update: string[]): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_LOCKFILE_MISSING",
    message: `${lockfile} does not exist: ${manager} installs ${installRoot === "." ? "the repository root" : installRoot} only from a committed lockfile`,
    details: [
      `Run \`${update.join(" ")}\` in ${installRoot === "." ? "the repository root" : installRoot} and commit ${lockfile}.`,
      "CI never creates or rewrites a lockfile: what it tests must be what the lockfile pins.",
    ],
  });
}

export function lockfileStale(lockfile: string, installRoot: string, update: string[]): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_LOCKFILE_STALE",
    message: `${lockfile} is out of date with the package.json files it locks`,
    details: [
      `Run \`${update.join(" ")}\` in ${installRoot === "." ? "the repository root" : installRoot} and commit ${lockfile}.`,
      "CI never rewrites a lockfile: the install ran in frozen/immutable mode and refused it.",
    ],
  });
}

export function yarnBerryUnpinned(file: string, lockfile: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_PACKAGE_MANAGER_UNPINNED",
    message: `${lockfile} was written by Yarn 2+ (it has __metadata) but ${file} pins no Yarn version (no packageManager, no yarnPath)`,
    details: ["Without a pin corepack would run Yarn 1 on it. Run `corepack use yarn@4` (adds packageManager) and commit package.json."],
  });
}

export function workspaceMemberUnnamed(service: string, path: string, manager: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_SERVICE_INVALID",
    message: `service ${quote(service)}: ${path}/package.json has no "name", which ${manager} needs to run its scripts in the workspace`,
    details: [`Give the package a "name" (${manager} workspace NAME run SCRIPT selects it by name).`],
  });
}

export function buildServicesUnknown(names: string[], known: string[]): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_UNKNOWN_SERVICE",
    message: `slipway.yaml build.services names unknown service${names.length === 1 ? "" : "s"} ${names.map(quote).join(", ")}`,
    details: [`Known services: ${known.join(", ") || "(none)"}.`],
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

export function sinceNeedsHistory(dir: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_NOT_A_GIT_REPO",
    message: `--since needs git history, but ${quote(dir)} is not a git repository`,
    details: [
      "Pass the repository with its .git folder as --source (in Dagger, a source Directory that was not filtered of .git),",
      "or leave out --since to scan the whole history.",
    ],
  });
}

/**
 * A secret scan of the whole history over a shallow clone would read only the commits the clone holds and
 * still pass: a partial result reported as a verdict. Dagger fetches a module called remotely with depth 1
 * (core/schema/git.go), so its default `source` is such a clone; so is a CI checkout with fetch-depth 1.
 */
export function shallowHistory(dir: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_SHALLOW_HISTORY",
    message: `${quote(dir)} is a shallow clone: a secret scan of its history would miss every older commit`,
    details: [
      "Fetch the full history (GitHub actions/checkout `fetch-depth: 0`; Azure DevOps `fetchDepth: 0`; or `git fetch --unshallow`),",
      "or pass --since REF (Dagger: --since) to scan only the commits after REF.",
      "Called remotely (dagger -m github.com/...), pass your repository explicitly: --source .",
    ],
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

export function gitTimedOut(command: string, repo: string, ms: number): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_GIT_TIMEOUT",
    message: `git ${command} with ${quote(redactUserinfo(repo))} did not finish within ${Math.round(ms / 1000)} s and was stopped`,
    details: [
      "The server accepted the connection but did not answer: check the URL, a proxy or firewall in between, and the server's status.",
      "Set SLIPWAY_GIT_TIMEOUT (default 5m, e.g. 15m) to wait longer for a slow server or a large repository.",
    ],
    exitCode: 3,
    terminal: false,
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

/** Every bad flag at once; each problem names the flag, the value and the expected form. */
export function rolloutBadInput(problems: string[]): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_ROLLOUT_INPUT",
    message: `rollout verify: ${problems.length} problem${problems.length === 1 ? "" : "s"} with the flags`,
    details: [...problems.map((p) => `- ${p}`), "Run `slipway rollout verify --help` for the flags and their formats."],
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
      "(auto, azure-cli, workload-identity, managed-identity, client-secret, github-oidc, azure-pipelines, none).",
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
      "The identity needs read-only access: get, list, watch on deployments and replicasets (apps), and on statefulsets",
      "and daemonsets when they are verified (--statefulset, --daemonset, --selector), pods, events, get on pods/log, and",
      "get, list, watch on the Flux Kustomization or Argo CD Application (patch only with --reconcile).",
    ],
    exitCode: 1,
  });
}

export function kubeUnreachable(server: string, message: string, cause?: unknown): SlipwayError {
  // A kubeconfig `server: https://admin:PW@host` carries a password: neither the URL nor an error
  // message that quotes it (or its userinfo) may print it.
  const userinfo = /^[a-z][a-z0-9+.-]*:\/\/(.*)@/is.exec(server)?.[1];
  const masked = userinfo ? message.split(userinfo).join("***").split(encodeURI(userinfo)).join("***") : message;
  return new SlipwayError({
    code: "SLIPWAY_KUBE_UNREACHABLE",
    message: `the Kubernetes API at ${quote(redactUserinfo(server))} did not answer: ${masked}`,
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

/** The API server answered with an error of its own (5xx) or asked us to slow down (429): transient, retried. */
export function kubeServerError(verb: string, resource: string, namespace: string, status: number, message: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_KUBE_SERVER_ERROR",
    message: `the Kubernetes API failed to ${verb} ${resource} in namespace ${quote(namespace)}: HTTP ${status}: ${message}`,
    details: ["The API server (or a proxy in front of it) is failing; Slipway retries with backoff until the timeout."],
    exitCode: EXIT.unavailable,
    terminal: false,
  });
}

/**
 * The API could not be read until the timeout (unreachable, 401/403, 5xx): verdict `unknown`, exit 4. The
 * rollout may be healthy or not; the wrappers do not roll back on it.
 */
export function rolloutUnknown(namespace: string, timeout: string, reasons: string[]): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_ROLLOUT_UNKNOWN",
    message: `could not check the rollout in namespace ${quote(namespace)} within ${timeout}: the Kubernetes API could not be read`,
    details: [
      ...reasons.map((r) => `- ${r}`),
      "Retried with backoff until the timeout. This is not a failed rollout: nothing was rolled back.",
      "Check the network path to the cluster, the credentials and RBAC (401/403), or the API server's health (5xx), then verify again.",
    ],
    exitCode: EXIT.unavailable,
    terminal: false,
  });
}

/** `spec.paused: true`: the deployment controller will not roll out the new template until it is resumed. */
export function rolloutPaused(namespace: string, deployments: string[], reasons: string[]): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_ROLLOUT_PAUSED",
    message: `rollout in namespace ${quote(namespace)} cannot finish: ${deployments.map((d) => `deployment/${d}`).join(", ")} ${deployments.length === 1 ? "is" : "are"} paused`,
    details: [
      ...reasons.map((r) => `- ${r}`),
      `Resume with \`kubectl -n ${namespace} rollout resume ${deployments.map((d) => `deployment/${d}`).join(" ")}\` (or remove spec.paused in Git), then verify again.`,
    ],
    exitCode: EXIT.failed,
  });
}

/**
 * kubectl's answer for a StatefulSet or DaemonSet whose updateStrategy is OnDelete: the controller replaces a
 * pod only when someone deletes it, so no status tells when the rollout is done. Not a failed rollout: the
 * wrappers do not roll back on it.
 */
export function rolloutUnverifiable(namespace: string, reasons: string[]): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_ROLLOUT_UNVERIFIABLE",
    message: `rollout in namespace ${quote(namespace)} cannot be verified: ${reasons.length === 1 ? "a workload uses" : `${reasons.length} workloads use`} the OnDelete update strategy`,
    details: [
      ...reasons.map((r) => `- ${r}`),
      "Like `kubectl rollout status`, Slipway can follow only the RollingUpdate strategy. Set spec.updateStrategy.type: RollingUpdate",
      "in Git (with rollingUpdate.partition for a staged StatefulSet update), or leave the workload out of --statefulset/--daemonset/--selector.",
    ],
    exitCode: EXIT.failed,
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

// ---- acr: identity, token exchange, tags, post-push verification -----------------------------------

const ACR_USERNAME_HINT = "ACR accepts its refresh token as the password of user 00000000-0000-0000-0000-000000000000.";

export function acrRegistryInvalid(registry: string, reason: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_ACR_REGISTRY_INVALID",
    message: `registry ${quote(registry)} ${reason}`,
    details: [
      "Pass the registry's login server, e.g. `--registry myregistry.azurecr.io` (no scheme, no path).",
      "For a registry that is not Azure Container Registry use `--mode static` with a username and password.",
    ],
  });
}

export function acrIdentityMissing(mode: string, missing: string[]): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_ACR_IDENTITY_MISSING",
    message: `identity mode ${quote(mode)} needs ${missing.join(", ")}, which ${missing.length === 1 ? "is" : "are"} not set`,
    details: [
      "Set them as flags, in slipway.yaml `publish.identity`, or as environment variables (names above).",
      mode === "github-oidc"
        ? "In GitHub Actions grant the job `permissions: id-token: write`; that is what sets ACTIONS_ID_TOKEN_REQUEST_URL/TOKEN."
        : mode === "workload-identity"
          ? "On AKS, label the pod `azure.workload.identity/use: \"true\"` and annotate its service account with the client id."
          : mode === "azure-pipelines"
            ? "In Azure DevOps pass SYSTEM_ACCESSTOKEN: $(System.AccessToken) and the service connection id, or run in AzureCLI@2 with addSpnToEnvironment: true (idToken)."
            : "See `slipway acr login --help`.",
    ],
  });
}

export function acrOidcTokenInvalid(source: string, problem: string, hint: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_ACR_OIDC_TOKEN",
    message: `the federated token from ${source} ${problem}`,
    details: [hint],
  });
}

export function acrOidcRequestFailed(status: number | string, hint: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_ACR_OIDC_REQUEST",
    message: `requesting an OIDC token from the CI provider failed (${status})`,
    details: [hint],
    exitCode: 1,
    terminal: false,
  });
}

/** Known Entra ID (AADSTS) codes on the federated-credential path, each mapped to a one-line hint. */
export const AADSTS_HINTS: Record<string, string> = {
  AADSTS700024:
    "the federated token expired or is not yet valid: mint it right before use (GitHub OIDC tokens last about 10 minutes) and check the runner's clock",
  AADSTS70021:
    "no federated credential matches the token's issuer, subject and audience: add one to the app / managed identity (see README: Azure setup)",
  AADSTS700211: "no federated credential trusts the token's issuer: the credential's issuer must equal the token's `iss` exactly",
  AADSTS700212: "no federated credential matches the token's audience: request it for api://AzureADTokenExchange (the credential's default audience)",
  AADSTS700213:
    "no federated credential matches the token's subject: for GitHub add e.g. repo:OWNER/REPO:ref:refs/heads/main or repo:OWNER/REPO:environment:NAME; for Azure DevOps sc://ORG/PROJECT/CONNECTION",
  AADSTS700016: "the client id is not an application in this tenant: check --client-id and --tenant-id",
  AADSTS90002: "the tenant does not exist: check --tenant-id",
  AADSTS50027: "the federated token is not a valid JWT: pass the token itself, not a file name or a quoted string",
};

export function acrAadRejected(aadCode: string | undefined, description: string): SlipwayError {
  const hint = aadCode ? AADSTS_HINTS[aadCode] : undefined;
  return new SlipwayError({
    code: "SLIPWAY_ACR_AAD_REJECTED",
    message: `Entra ID refused the token request${aadCode ? ` (${aadCode})` : ""}: ${hint ?? "see the details"}`,
    details: [description.split(/\r?\n/)[0] ?? description, "Nothing was pushed."],
  });
}

export function acrAadUnavailable(mode: string, message: string, cause?: unknown): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_ACR_AAD_UNAVAILABLE",
    message: `no Entra ID token could be obtained in mode ${quote(mode)}`,
    details: [message.split(/\r?\n/)[0] ?? message, mode === "azure-cli" ? "Run `az login` first (or use a federated mode in CI)." : "Check the identity settings."],
    exitCode: 1,
    terminal: false,
    cause,
  });
}

export function acrAadTimedOut(mode: string, ms: number): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_ACR_AAD_TIMEOUT",
    message: `Entra ID did not issue a token within ${Math.round(ms / 1000)} s (mode ${quote(mode)})`,
    details: ["The authority host accepted the connection but did not answer: check --authority-host, a proxy in between, and Entra ID's status."],
    exitCode: 3,
    terminal: false,
  });
}

export function acrExchangeDenied(registry: string, status: number, mode: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_ACR_EXCHANGE_DENIED",
    message: `${registry} refused to exchange the Entra ID token (HTTP ${status}): the identity needs the AcrPush role on this registry`,
    details: [
      `Grant it: az role assignment create --assignee <client id> --role AcrPush --scope $(az acr show -n ${registry.split(".")[0]} --query id -o tsv)`,
      `Mode: ${mode}. Role assignments take a few minutes to apply. ${ACR_USERNAME_HINT}`,
      "Nothing was pushed.",
    ],
  });
}

export function acrExchangeFailed(registry: string, status: number | string, detail: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_ACR_EXCHANGE_FAILED",
    message: `${registry}/oauth2/exchange failed (${status})`,
    details: [detail, "Retry; if it persists check the registry name and network access (firewall, private endpoint)."],
    exitCode: 1,
    terminal: false,
  });
}

export function acrTagInvalid(tag: string, reason: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_ACR_TAG_INVALID",
    message: `tag ${quote(tag)} ${reason}`,
    details: [
      "A tag is 1-128 characters: letters, digits, '_', '.', '-', not starting with '.' or '-'.",
      "In slipway.yaml quote tags that YAML would read as numbers, booleans or null (e.g. \"1.20\", \"on\"). Nothing was pushed.",
    ],
  });
}

export function acrTagImmutable(ref: string, existing: string, wanted: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_ACR_TAG_IMMUTABLE",
    message: `${ref} already points to ${existing}; release tags never move (wanted ${wanted})`,
    details: ["Bump the version (a new git tag) instead of re-publishing it. Nothing was pushed."],
    exitCode: 1,
  });
}

export function acrTagNotFound(ref: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_ACR_TAG_NOT_FOUND",
    message: `${ref} does not exist in the registry after the push`,
    details: ["The push did not land where expected: check the registry and repository names and the publish log."],
    exitCode: 1,
  });
}

export function acrMarkImageMissing(ref: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_ACR_IMAGE_MISSING",
    message: `${ref} is not in the registry: there is no image to tag`,
    details: ["The ledger names a digest the registry no longer has (deleted or pruned?). Nothing was tagged."],
    exitCode: 1,
  });
}

export function acrDigestMismatch(ref: string, expected: string, found: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_ACR_DIGEST_MISMATCH",
    message: `${ref} resolves to ${found}, not to the pushed ${expected}`,
    details: ["Another push moved the tag (a concurrent pipeline?). Do not deploy this tag; deploy by digest."],
    exitCode: 1,
  });
}

export function acrDigestInvalid(digest: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_ACR_DIGEST_INVALID",
    message: `digest ${quote(digest)} is not of the form sha256:<64 hex>`,
    details: ["Pass the digest that the push returned, e.g. from `publish` output."],
  });
}

export function acrLockUnsupported(registry: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_ACR_LOCK_UNSUPPORTED",
    message: `cannot lock images in ${registry}: locking uses ACR's canDelete/canWrite and needs an ACR identity mode`,
    details: ["Drop --lock (or `publish.lock`) for registries other than *.azurecr.io."],
  });
}

export function acrStaticCredentialsRejected(registry: string, username: string, status: number): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_ACR_STATIC_REJECTED",
    message: `${registry} refused username ${quote(username)} and its password (HTTP ${status})`,
    details: ["Check SLIPWAY_REGISTRY_USERNAME / --username and the SLIPWAY_REGISTRY_PASSWORD secret (a token may have expired)."],
  });
}

export function acrRegistryRequestFailed(registry: string, what: string, status: number | string, detail: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_ACR_REQUEST_FAILED",
    message: `${what} on ${registry} failed (${status})`,
    details: [detail.split(/\r?\n/)[0] ?? detail],
    exitCode: 1,
    terminal: false,
  });
}

export function acrRegistryTimedOut(registry: string, what: string, ms: number): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_ACR_REGISTRY_TIMEOUT",
    message: `${what} on ${registry} got no answer within ${Math.round(ms / 1000)} s and was stopped`,
    details: [
      "The registry (or a proxy in front of it) accepted the connection but did not answer: check the login server, the network path and the registry's status.",
      "Set SLIPWAY_REGISTRY_TIMEOUT (default 60s, e.g. 3m) to wait longer. Nothing was changed by the request that timed out.",
    ],
    exitCode: 3,
    terminal: false,
  });
}

export function acrPruneUnsupported(registry: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_ACR_PRUNE_UNSUPPORTED",
    message: `cannot prune ${registry}: listing every manifest (tagged or not) uses ACR's /acr/v1 API and needs an ACR identity mode`,
    details: ["Other registries have their own retention (e.g. the registry's garbage collection); nothing was deleted."],
  });
}

export function acrPruneNoLedger(sources: string[]): SlipwayError {
  // A clone URL may carry user info (https://user:token@host/...): never in a message.
  const shown = sources.map((s) => s.replace(/\/\/[^/@\s]*@/, "//***@"));
  return new SlipwayError({
    code: "SLIPWAY_ACR_PRUNE_NO_LEDGER",
    message: `no release ledger found in ${shown.join(", ")}: prune cannot tell which images are in use, so it deletes nothing`,
    details: [
      "Ledgers live at .slipway/ledger/<environment>.json in the GitOps repository: check --repo and --branch (or gitops:/environments: in slipway.yaml).",
      "Nothing was deleted.",
    ],
  });
}

export function acrPruneKeepInvalid(value: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_ACR_PRUNE_KEEP_INVALID",
    message: `--keep ${JSON.stringify(value)} must be a whole number from 1 to 1000`,
    details: ["It is how many of the newest verified releases of each environment are kept whatever else happens. Nothing was deleted."],
  });
}

export function acrPruneIncomplete(repository: string, deleted: string[], left: string[], failure: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_ACR_PRUNE_INCOMPLETE",
    message: `prune of ${repository} stopped after ${deleted.length} of ${deleted.length + left.length} deletions: ${failure}`,
    details: [
      `deleted: ${deleted.join(", ") || "(none)"}`,
      `NOT deleted (still in the registry): ${left.join(", ") || "(none)"}`,
      "Nothing the ledgers reference was touched. Run the same command again once the registry answers: it plans afresh and deletes only what is left.",
    ],
    exitCode: 1,
    terminal: false,
  });
}

export function acrAbandonPolicyInvalid(value: string, allowed: readonly string[]): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_ACR_POLICY_INVALID",
    message: `--policy ${JSON.stringify(value)} is not one of ${allowed.join(", ")}`,
    details: ["It is what a rollback does to an abandoned image: tag it failed-<id>, lock it, or delete its mutable tags. Nothing was changed."],
  });
}

// ---- migrate (TypeORM migrations) ------------------------------------------------------------------

export function migrateDataSourceNotFound(path: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_MIGRATE_DATA_SOURCE_NOT_FOUND",
    message: `DataSource file ${quote(path)} does not exist`,
    details: [
      "Pass --data-source with the service's compiled DataSource module, e.g. services/api/dist/data-source.js",
      "(build the service first: `npm run build -w services/api`).",
    ],
  });
}

export function migrateTypeormNotFound(path: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_MIGRATE_TYPEORM_NOT_FOUND",
    message: `no "typeorm" package can be resolved from ${quote(path)}`,
    details: [
      "Migrations run with the service's own typeorm: install the service's dependencies (npm ci) so that",
      "node_modules/typeorm is reachable from the DataSource file.",
    ],
  });
}

export function migrateDataSourceLoadFailed(path: string, reason: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_MIGRATE_DATA_SOURCE_LOAD",
    message: `DataSource file ${quote(path)} could not be loaded: ${reason}`,
    details: ["Check that the file is compiled JavaScript (ESM or CommonJS) and that its imports resolve."],
  });
}

export function migrateNoDataSource(path: string, exportNames: string[], count: number): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_MIGRATE_NO_DATA_SOURCE",
    message:
      count === 0
        ? `${quote(path)} does not export a TypeORM DataSource (exports: ${exportNames.map(quote).join(", ") || "none"})`
        : `${quote(path)} exports ${count} different DataSource instances (${exportNames.map(quote).join(", ")})`,
    details: [
      "Export exactly one DataSource instance, as the default export or as the single named export,",
      "e.g. `export default new DataSource({ ... })` (the same rule as `typeorm migration:run -d`).",
    ],
  });
}

export function migrateMigrationsInvalid(
  path: string,
  problems: { kind: "no-timestamp" | "duplicate"; name: string; count: number; files: string[] }[],
): SlipwayError {
  const one = (p: (typeof problems)[number]) =>
    p.kind === "duplicate" ? `${quote(p.name)} is defined ${p.count} times` : `${quote(p.name)} has no timestamp at the end of its name`;
  return new SlipwayError({
    code: "SLIPWAY_MIGRATE_MIGRATIONS_INVALID",
    message: `TypeORM refuses the migrations of ${quote(path)}: ${problems.map(one).join("; ")}`,
    details: [
      ...problems.map((p) =>
        p.kind === "duplicate"
          ? `${quote(p.name)}: ${p.files.map(quote).join(", ")}. Two migrations may not share a name: remove the stale copy (rebuild into a clean dist/) or rename one.`
          : `${quote(p.name)}: ${p.files.map(quote).join(", ")}. TypeORM reads the timestamp from the last 13 characters of the \`name\` property (or the class name): e.g. \`name = "AddUsers1700000000000"\`.`,
      ),
      "Nothing was changed.",
    ],
  });
}

export function migrateDatabaseUnreachable(target: string, reason: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_MIGRATE_DB_UNREACHABLE",
    message: `cannot connect to the database at ${target}: ${reason}`,
    details: [
      "Check DATABASE_URL (or the DataSource's host, port and credentials), that the server is running and",
      "that this machine may reach it (firewall, private endpoint). Nothing was changed.",
    ],
    terminal: false,
  });
}

export function migrateDatabaseUrlInvalid(where: string, problem: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_MIGRATE_DATABASE_URL_INVALID",
    message: `${where} is not a usable connection URL: ${problem}`,
    details: [
      "Expected postgres://USER:PASSWORD@HOST:PORT/DATABASE[?sslmode=require]; percent-encode the user name and",
      "password (encodeURIComponent). The URL is not shown, since it holds the password. Nothing was changed.",
    ],
  });
}

export function migrateDatabaseUrlMissing(service: string, known: string[], why: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_MIGRATE_DATABASE_URL_MISSING",
    message: `no database URL for service ${quote(service)}: SLIPWAY_DATABASE_URLS_FILE ${why}`,
    details: [
      known.length > 0 ? `It has lines for: ${known.join(", ")}.` : "It has no SERVICE=URL line.",
      "Give one line SERVICE=postgres://... per service that migrates (the Dagger `databaseUrls` Secret), or set DATABASE_URL. Nothing was changed.",
    ],
  });
}

export function migrateDatabaseTimeout(target: string, reason: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_MIGRATE_DB_TIMEOUT",
    message: `the database at ${target} did not answer within the connect timeout: ${reason}`,
    details: [
      "The server (or something in between) took the connection but did not answer in time: check host and port,",
      "the firewall or private endpoint, and the server's load; the DataSource's connectTimeoutMS sets the wait",
      "(SLIPWAY_DB_CONNECT_TIMEOUT, default 30s, when it sets none). Nothing was changed.",
    ],
    exitCode: 3,
    terminal: false,
  });
}

export function migrateUnknownMigration(flag: string, name: string, known: string[]): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_MIGRATE_UNKNOWN_MIGRATION",
    message: `${flag} ${quote(name)} names no migration of this DataSource`,
    details: [`Migrations: ${known.join(", ") || "(none)"}.`, "Run `slipway migrate status` to see them. Nothing was changed."],
  });
}

export function migrateTargetNotApplied(name: string, applied: string[]): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_MIGRATE_TARGET_NOT_APPLIED",
    message: `--to ${quote(name)} is not applied in this database, so there is nothing to revert down to`,
    details: [`Applied, oldest first: ${applied.join(", ") || "(none)"}.`, "Nothing was changed."],
  });
}

export function migrateTransactionOverride(names: string[]): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_MIGRATE_TRANSACTION_OVERRIDE",
    message: `transaction mode "all" cannot run ${names.map(quote).join(", ")}: they set their own \`transaction\``,
    details: ["Use --transaction each (or `migrate.transaction: each` in slipway.yaml). Nothing was changed."],
  });
}

export function migrateLockTimeout(seconds: number, target: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_MIGRATE_LOCK_TIMEOUT",
    message: `another migration run holds the migration lock on ${target}; gave up after ${seconds}s`,
    details: [
      "Another pipeline is migrating this database. Wait for it and run again, or raise `migrate.lockTimeout`",
      "(or --lock-timeout). Nothing was changed.",
    ],
    exitCode: 3,
    terminal: false,
  });
}

export function migrateRunFailed(
  migration: string,
  sqlError: string,
  reverted: string[],
  clean: boolean,
  compensation: { compensated: number; residue: number; stopped: { statement: string; reason: string } | null } = { compensated: 0, residue: 0, stopped: null },
  /** A down() that failed while reverting the run, and what of the run stays applied (newest first). */
  revertFailure: { migration: string; error: string; stillApplied: string[] } | null = null,
): SlipwayError {
  const short = (sql: string) => {
    const one = sql.replace(/\s+/g, " ").trim();
    return one.length > 120 ? `${one.slice(0, 119)}…` : one;
  };
  return new SlipwayError({
    code: "SLIPWAY_MIGRATE_FAILED",
    message: `migration ${quote(migration)} failed: ${sqlError}`,
    details: [
      ...(compensation.compensated > 0 ? [`Undid ${compensation.compensated} statement(s) it had run outside a transaction (see \`compensated\` in the report).`] : []),
      ...(compensation.stopped
        ? [
            `Could not undo \`${short(compensation.stopped.statement)}\`: ${compensation.stopped.reason}.`,
            `${compensation.residue} statement(s) of ${quote(migration)} stay applied (\`residue\` in the report): undo them by hand before running again.`,
          ]
        : []),
      ...(revertFailure
        ? [
            `Reverting this run stopped: down() of ${quote(revertFailure.migration)} failed: ${revertFailure.error}.`,
            reverted.length > 0 ? `Reverted before that, newest first: ${reverted.join(", ")}.` : "Nothing of this run was reverted.",
            `Still applied from this run, newest first: ${revertFailure.stillApplied.join(", ")}. Fix the down() of ${quote(revertFailure.migration)} and run \`slipway migrate revert --count ${revertFailure.stillApplied.length}\`, or undo them by hand.`,
          ]
        : [reverted.length > 0 ? `Reverted what this run applied, newest first: ${reverted.join(", ")}.` : "This run had applied nothing else."]),
      clean
        ? "The database is as it was before the run."
        : "The database is NOT as it was before the run: see `final` and `residue` in the report.",
    ],
    exitCode: 1,
  });
}

export function migrateRevertFailed(migration: string, sqlError: string, reverted: string[], left: string[] = [migration]): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_MIGRATE_REVERT_FAILED",
    message: `down() of migration ${quote(migration)} failed: ${sqlError}`,
    details: [
      reverted.length > 0 ? `Reverted before the failure, newest first: ${reverted.join(", ")}.` : "Nothing was reverted.",
      `Still applied, newest first: ${left.join(", ")}.`,
      `${quote(migration)} is still applied; fix its down() and run the revert again.`,
    ],
    exitCode: 1,
  });
}

export function migrateRevertDestructive(blocked: string[], summary: string[], service: string | undefined): SlipwayError {
  const where = service ? `migrate.services.${service}.allowDestructiveRevert` : "migrate.allowDestructiveRevert";
  return new SlipwayError({
    code: "SLIPWAY_MIGRATE_REVERT_DESTRUCTIVE",
    message: `reverting ${blocked.map(quote).join(", ")} would destroy data or cannot be checked; nothing was reverted`,
    details: [
      ...summary,
      "Every down() was tried in a transaction that was rolled back; nothing was changed.",
      `If losing that data is intended (back it up first), allow it in slipway.yaml (\`${where}: true\`, or a list of these migration names) or pass --allow-destructive-revert; otherwise leave the migrations applied (expand then contract: the older code runs on the newer schema).`,
    ],
    exitCode: 1,
  });
}

export function migrateUnknownApplied(names: string[]): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_MIGRATE_UNKNOWN_APPLIED",
    message: `cannot revert ${names.map(quote).join(", ")}: applied in the database but not in this code`,
    details: ["A newer release ran them here. Revert with the DataSource of that release. Nothing was changed."],
  });
}

export function migrateDestructiveBlocked(count: number, summary: string[]): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_MIGRATE_DESTRUCTIVE",
    message: `${count} destructive statement${count === 1 ? "" : "s"} in pending migrations; \`migrate.destructive: block\` stops the run`,
    details: [
      ...summary,
      "Nothing was applied. Split the change (expand now, contract in a later release) or set `migrate.destructive: warn`.",
    ],
    exitCode: 1,
  });
}

// ---- scan (security gates) -------------------------------------------------------------------------

export function scanReportNotFound(tool: string, file: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_SCAN_REPORT_MISSING",
    message: `${tool} report ${quote(file)} does not exist`,
    details: [
      "The scanner may have failed before writing its JSON (look at its log), or the path is wrong.",
      "The gate never passes without a report it was told to read.",
    ],
  });
}

export function scanReportUnreadable(tool: string, file: string, why: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_SCAN_REPORT_UNREADABLE",
    message: `${tool} report ${quote(file)} cannot be read with certainty: ${why}`,
    details: [
      "Likely causes: the scanner crashed mid-write, printed logs into its JSON output, or a different output format was asked for.",
      "Re-run the scanner with JSON output (see `slipway scan argv`); the gate fails closed on anything else.",
    ],
  });
}

export function scanReportUnsupported(tool: string, file: string, what: string, supported: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_SCAN_REPORT_UNSUPPORTED",
    message: `${tool} report ${quote(file)}: ${what}`,
    details: [`Supported: ${supported}.`, "Use the scanner version pinned in slipway.yaml `scan.images`, or upgrade Slipway."],
  });
}

export function scanReportInvalid(tool: string, file: string, problems: string[]): SlipwayError {
  const shown = problems.slice(0, 20);
  return new SlipwayError({
    code: "SLIPWAY_SCAN_REPORT_INVALID",
    message: `${tool} report ${quote(file)} has ${problems.length} field problem${problems.length === 1 ? "" : "s"}; no finding is dropped, so the gate cannot decide`,
    details: [
      ...shown.map((p) => `- ${p}`),
      ...(problems.length > shown.length ? [`- ... and ${problems.length - shown.length} more`] : []),
      "The report does not match the scanner's documented JSON format (unknown severity, missing field).",
      "Check the scanner version against slipway.yaml `scan.images`, or report the field to the Slipway maintainers.",
    ],
  });
}

export function scanNoReports(usage: string): SlipwayError {
  return usageError("no report given: pass at least one of --trivy, --trufflehog, --npm-audit, --osv", usage);
}

export function scanOutputFailed(file: string, cause: unknown): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_SCAN_OUTPUT",
    message: `cannot write report ${quote(file)}: ${cause instanceof Error ? cause.message : String(cause)}`,
    details: ["Check that the folder exists and is writable. No report was left half-written."],
    cause,
  });
}

export function scanUnknownScanner(name: string, known: readonly string[]): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_SCAN_UNKNOWN_SCANNER",
    message: `unknown scanner ${quote(name)}`,
    details: [`Known scanners: ${known.join(", ")}.`],
  });
}

export function scanGateFailed(failing: number, expired: number, summary: string): SlipwayError {
  const parts = [
    ...(failing > 0 ? [`${failing} finding${failing === 1 ? "" : "s"} over the policy`] : []),
    ...(expired > 0 ? [`${expired} expired exception${expired === 1 ? "" : "s"}`] : []),
  ];
  return new SlipwayError({
    code: "SLIPWAY_GATE_FAILED",
    message: `security gate failed: ${parts.join(", ")}`,
    details: summary.split("\n"),
    exitCode: EXIT.failed,
  });
}

// ---- gitops (issue 6: image bump in the GitOps repository) -----------------------------------------

export function gitopsSetInvalid(value: string, reason: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_GITOPS_SET_INVALID",
    message: `--set ${quote(value)}: ${reason}`,
    details: ["Write --set IMAGE=TAG or --set IMAGE=TAG@sha256:DIGEST, e.g. --set myacr.azurecr.io/api=sha-1a2b3c4d5e6f."],
  });
}

export function gitopsPolicyInvalid(value: string, reason: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_GITOPS_POLICY_INVALID",
    message: `--policy ${quote(value)}: ${reason}`,
    details: [
      "Write --policy NAMESPACE:NAME=IMAGE:TAG[@sha256:DIGEST], the ImagePolicy a `# {\"$imagepolicy\": \"NAMESPACE:NAME\"}` marker names,",
      "e.g. --policy flux-system:api=myacr.azurecr.io/api:1.4.0.",
    ],
  });
}

export function gitopsDirNotFound(dir: string, what: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_GITOPS_DIR_NOT_FOUND",
    message: `${what} ${quote(dir)} does not exist or is not a directory`,
    details: ["Pass --repo with the checkout of the GitOps repository and --path with a folder inside it."],
  });
}

export function gitopsYamlInvalid(file: string, problem: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_GITOPS_YAML",
    message: `${file} is not valid YAML: ${problem}`,
    details: ["Fix the YAML at the line shown (or remove the file); nothing was written or pushed."],
  });
}

export function gitopsUnsupported(file: string, field: string, reason: string, hint?: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_GITOPS_UNSUPPORTED",
    message: `${file} ${field}: ${reason}`,
    details: [hint ?? "Rewrite this field as a plain or quoted single-line scalar in a block mapping.", "Nothing was written."],
  });
}

export function gitopsImageNotFound(names: string[], where: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_GITOPS_IMAGE_NOT_FOUND",
    message: `${names.map(quote).join(", ")} not found in any manifest under ${quote(where)}`,
    details: [
      "Likely causes: a typo in the image name, the wrong --path, or a Helm values layout we do not detect",
      "(add its key paths to slipway.yaml `gitops.helm.images`). Pass --allow-missing to bump what is found.",
    ],
  });
}

export function gitopsUnedited(found: Array<{ file: string; line: number; image: string }>): SlipwayError {
  const first = found[0];
  const more = found.length > 1 ? ` (and ${found.length - 1} more)` : "";
  return new SlipwayError({
    code: "SLIPWAY_GITOPS_UNEDITED",
    message: `${first ? `${first.file}:${first.line} names ${quote(first.image)}` : "an image"} where no format can edit it${more}`,
    details: [
      ...found.map((f) => `${f.file}:${f.line}: ${f.image}`),
      "Nothing was written. The bump would leave these places at the old image: a kind we do not edit (e.g. an Argo",
      "Rollout or a CRD), an env value, or a Helm values layout we do not detect. Add its key paths to slipway.yaml",
      "`gitops.helm.images`, or pass --allow-unedited (or set gitops.allowUnedited: true) to bump the rest and list these.",
    ],
  });
}

export function gitopsConflictingTargets(name: string, first: string, second: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_GITOPS_SET_INVALID",
    message: `${quote(name)} is given twice with different values: ${quote(first)} and ${quote(second)}`,
    details: ["Pass each image once."],
  });
}

export function gitopsVerifyFailed(file: string, object: string, field: string, expected: string, found: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_GITOPS_VERIFY_FAILED",
    message: `${file} ${object} ${field}: expected ${quote(expected)} after the edit, found ${quote(found)}`,
    details: ["Two changes target the same field, or the file has a layout we edit wrongly; nothing was written. Please report it."],
    exitCode: 1,
  });
}

export function gitopsBadUrl(repo: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_GITOPS_BAD_URL",
    message: `repository URL ${quote(redactUserinfo(repo))} is not a valid URL`,
    details: ["Use https://host/org/repo.git, ssh://git@host/org/repo.git, git@host:org/repo.git or a local path."],
  });
}

export function gitopsCredentialsInUrl(maskedUrl: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_GITOPS_CREDENTIALS_IN_URL",
    message: `repository URL ${quote(maskedUrl)} carries credentials`,
    details: [
      "Credentials in a URL end up in .git/config and logs. Pass the URL without them and the token in",
      "the environment variable SLIPWAY_GIT_TOKEN (or --ssh-key for SSH URLs).",
    ],
  });
}

export function gitopsBranchNotFound(repo: string, branch: string, stderr: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_GITOPS_CLONE_FAILED",
    message: `cannot clone branch ${quote(branch)} of ${quote(repo)}`,
    details: [
      // git's reason (ssh: connect..., fatal: ...) comes before its generic advice: keep enough lines for both.
      ...stderr.split(/\r?\n/).map((l) => l.trimEnd()).filter((l) => l !== "").slice(-8),
      ...(/certificate/i.test(stderr)
        ? ["The server's TLS certificate is not trusted here: give its CA (the Dagger module's caCertificates argument; GIT_SSL_CAINFO for the CLI)."]
        : []),
      "Check the URL, that the branch exists, and the credentials (SLIPWAY_GIT_TOKEN or --ssh-key).",
    ],
    exitCode: 1,
  });
}

export function gitopsConflict(file: string, field: string, ours: string, theirs: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_GITOPS_CONFLICT",
    message: `${file} ${field}: another commit on the branch set ${quote(theirs)} while this bump sets ${quote(ours)}`,
    details: ["The remote branch was left unchanged. Decide which release wins, then rerun the bump."],
    exitCode: 1,
  });
}

/**
 * The server refused the push for a reason retrying cannot change: a branch protection rule, a server-side
 * hook, missing write permission. Its own words are kept whole (hooks explain themselves in `remote:` lines).
 */
export function gitopsPushRejected(branch: string, serverSaid: string): SlipwayError {
  const lines = serverSaid.trim().split("\n").filter((l) => l.trim() !== "");
  const server = lines.filter((l) => /^\s*(?:remote:|!|error:|fatal:)/.test(l));
  return new SlipwayError({
    code: "SLIPWAY_GITOPS_PUSH_REJECTED",
    message: `the git server refused the push to ${quote(branch)}; nothing was pushed`,
    details: [
      ...(server.length > 0 ? server : lines).slice(-40),
      "A branch protection rule, a server-side hook or missing write permission: retrying does not help, so Slipway did not.",
      "Allow the token's identity to push to the branch (GitHub: contents: write and the ruleset's bypass list; Azure Repos: Contribute on the branch), or push to a branch the rules allow.",
    ],
    exitCode: 1,
    terminal: true,
  });
}

export function gitopsPushFailed(attempts: number, lastError: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_GITOPS_PUSH_FAILED",
    message: `push still rejected after ${attempts} attempts`,
    details: [...lastError.trim().split("\n").slice(-3), "Other writers keep moving the branch; rerun, or raise --max-attempts."],
    exitCode: 1,
    terminal: false,
  });
}

/**
 * A symbolic link in the GitOps repository that would take a read or a write out of it (or into its .git,
 * or round in a loop). `target` is the link's text as the repository stores it, never a resolved host path.
 */
export function gitopsSymlinkEscape(link: string, target: string, why: "outside" | "git" | "loop"): SlipwayError {
  const where = why === "outside" ? "outside the repository" : why === "git" ? "into the repository's .git folder" : "round a loop of links";
  return new SlipwayError({
    code: "SLIPWAY_GITOPS_SYMLINK_ESCAPE",
    message: `${link} is a symbolic link to ${quote(target)}, ${where}: refusing to follow it`,
    details: [
      "Nothing was read through it, written or pushed. Slipway edits and reads only files inside the GitOps repository.",
      "Replace the link with the file or folder itself, or point it at a path inside the repository.",
    ],
  });
}

/** After committing, the commit does not hold every file the change record lists: never reported as pushed. */
export function gitopsCommitIncomplete(missing: string[], commit: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_GITOPS_COMMIT_INCOMPLETE",
    message: `the commit ${commit ? quote(commit.slice(0, 12)) : "(none was made)"} does not change ${missing.map(quote).join(", ")}; nothing was pushed`,
    details: [
      "The change was written somewhere git does not track (a link, an ignored path), so pushing would report an update that did not happen.",
      "Nothing was pushed. Please report it with the repository layout around these files.",
    ],
    exitCode: 1,
  });
}

// ---- ledger and rollback (the release ledger in the GitOps repository) -----------------------------

export function ledgerInvalid(file: string, problems: string[]): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_LEDGER_INVALID",
    message: `${file} is not a valid release ledger (${problems.length} problem${problems.length === 1 ? "" : "s"})`,
    details: [
      ...problems.map((p) => `- ${p}`),
      "Nothing was changed. Fix the file in the GitOps repository (git log -p on it shows who changed what),",
      "or restore it from history; Slipway never resets a ledger it cannot read.",
    ],
  });
}

export function ledgerEnvironmentInvalid(environment: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_USAGE",
    message: `--env ${quote(environment)} is not an environment name`,
    details: ["Use lowercase letters, digits and '-' (it names the file .slipway/ledger/<env>.json)."],
  });
}

export function ledgerEntryNotFound(environment: string, id: string, known: string[]): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_LEDGER_ENTRY_NOT_FOUND",
    message: `the ${environment} ledger has no release ${quote(id)}`,
    details: [known.length > 0 ? `Releases in the ledger: ${known.join(", ")}` : "The ledger is empty.", "Run `slipway ledger show --env ENV` to list them."],
  });
}

export function ledgerNotVerified(environment: string, id: string, status: string, forceable = false): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_LEDGER_NOT_VERIFIED",
    message: `release ${quote(id)} of ${environment} is ${status}, not verified: refusing to roll back to it`,
    details: [
      "Only a release whose rollout was verified is a safe place to return to. Pick another with --to (`slipway ledger show --env ENV` lists them).",
      ...(forceable ? [`If you know release ${quote(id)} is good, add --force: the plan then warns that it was never verified. Try --dry-run first.`] : []),
    ],
  });
}

export function ledgerNothingVerified(environment: string, count: number): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_ROLLBACK_NOTHING_VERIFIED",
    message: `nothing to roll back to: the ${environment} ledger has no verified release before its newest (${count} entr${count === 1 ? "y" : "ies"})`,
    details: ["The GitOps repository was left unchanged. Fix forward, or mark a release verified once you know it is good."],
  });
}

export function ledgerMoved(environment: string, expected: string, found: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_LEDGER_MOVED",
    message: `the ${environment} ledger moved during the rollback: its newest release is now ${quote(found)}, not ${quote(expected)}`,
    details: ["Another pipeline recorded a release meanwhile; nothing was pushed. Check `slipway ledger show`, then rerun."],
    exitCode: 1,
    terminal: false,
  });
}

/** A status change the release life cycle does not allow (a failed or rolled-back release marked verified). */
export function ledgerTransitionInvalid(environment: string, id: string, current: string, requested: string, allowed: readonly string[]): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_LEDGER_TRANSITION",
    message: `release ${quote(id)} of ${environment} is ${current}: it cannot become ${requested}`,
    details: [
      allowed.length > 0 ? `From ${current} a release can only become ${allowed.join(" or ")}.` : `${current} is final: the release was abandoned and stays so.`,
      "A release's life: pending -> verified or failed; verified or failed (or pending) -> rolled-back when a rollback abandons it.",
      "Nothing was changed. To run these images again, release them anew: it gets a new entry.",
    ],
  });
}

export function ledgerInputInvalid(flag: string, file: string, problems: string[]): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_LEDGER_INPUT_INVALID",
    message: `${flag} ${quote(file)} is not what the ledger expects`,
    details: [...problems.map((p) => `- ${p}`), "Pass the --json output of the matching slipway command."],
  });
}

// ---- environments and releases (slipway.yaml `environments:`, `slipway release`) ---------------------

export function envUnknown(name: string, known: string[], configFile: string | null): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_ENV_UNKNOWN",
    message: `environment ${quote(name)} is not in ${configFile ? "slipway.yaml" : "the configuration (no slipway.yaml was found)"}`,
    details: [
      known.length > 0 ? `Environments: ${known.join(", ")}.` : "slipway.yaml declares no `environments:`.",
      "Add it under `environments:` (README \"Environments and releases\"), or correct the name. Nothing was changed.",
    ],
  });
}

export function envIncomplete(name: string, missing: string[]): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_ENV_INCOMPLETE",
    message: `environment ${quote(name)} lacks what a release needs`,
    details: [...missing.map((m) => `- set ${m}`), "Nothing was changed."],
  });
}

export function envPathOutside(name: string, path: string, own: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_ENV_PATH_OUTSIDE",
    message: `--path ${quote(path)} is outside environment ${quote(name)}'s folder ${quote(own || ".")}`,
    details: ["An environment's commands edit only its own folder of the GitOps repository (environments.<name>.gitops.path).", "Leave out --path, or give a folder inside it. Nothing was changed."],
  });
}

export function releaseGateFailed(environment: string, id: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_RELEASE_GATE_FAILED",
    message: `release ${quote(id)} of ${environment} failed its security gate: it can never be verified`,
    details: ["A release whose gate failed is recorded as such and stays unverified. Fix the findings and release again. Nothing was changed."],
  });
}

export function releaseInProgress(environment: string, id: string, sourceSha: string, since: string, waitedMs: number): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_RELEASE_IN_PROGRESS",
    message: `another release of ${environment} is in progress: release ${quote(id)} (source ${sourceSha.slice(0, 12)}) has been pending since ${since}`,
    details: [
      `Waited ${Math.round(waitedMs / 1000)} s (--wait) for it to be verified or failed. Nothing was changed.`,
      "Rerun when it has finished. If that pipeline died, end its release first:",
      `slipway ledger mark --env ${environment} --id ${id} --status failed`,
    ],
    exitCode: 3,
    terminal: false,
  });
}

export function releaseNotVerifiedFor(environment: string, sourceSha: string): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_PROMOTE_NOT_VERIFIED",
    message: `no release of ${sourceSha.slice(0, 12)} is verified in ${environment}: refusing to promote it`,
    details: ["Only what was verified where promotion requires it moves on. Run `slipway ledger show --env " + environment + "` to see what is. Nothing was changed."],
  });
}

export function notifyReportInvalid(path: string, problems: string[]): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_NOTIFY_REPORT_INVALID",
    message: `--in ${quote(path)} is not a Release report: ${problems[0] ?? "unreadable"}`,
    details: [
      ...problems.slice(1).map((p) => `also: ${p}`),
      "Give the file `dagger call release ... report export --path release.json` (or promote's) writes. Nothing was sent.",
    ],
  });
}

export function notifyFailed(failed: { target: string; error: string | null }[]): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_NOTIFY_FAILED",
    message: `${failed.length} notification${failed.length === 1 ? "" : "s"} not delivered (--strict): ${failed.map((f) => f.target).join(", ")}`,
    details: [...failed.map((f) => `${f.target}: ${f.error ?? "not delivered"}`), "Without --strict a failed notification is a warning and the exit code is 0."],
    exitCode: EXIT.failed,
    terminal: false,
  });
}

export function reportInvalid(path: string, problems: string[]): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_REPORT_INVALID",
    message: `--in ${quote(path)} is not a run report: ${problems[0] ?? "unreadable"}`,
    details: [
      ...problems.slice(1, 20).map((p) => `also: ${p}`),
      ...(problems.length > 20 ? [`and ${problems.length - 20} more problem(s)`] : []),
      "Give the run-report JSON (schemaVersion 1) that `dagger call ci ... run-report`, `release ... run-report` or `promote ... run-report` exports (README \"Run reports\"). Nothing was written.",
    ],
  });
}

export function reportOutputFailed(path: string, cause: unknown): SlipwayError {
  return new SlipwayError({
    code: "SLIPWAY_REPORT_OUTPUT",
    message: `cannot write --out ${quote(path)}: ${cause instanceof Error ? cause.message : String(cause)}`,
    details: ["Check that the folder exists and is writable. Nothing was written (the file is replaced whole or not at all)."],
    exitCode: EXIT.failed,
    cause,
  });
}
