// Pure helpers of the release steps (publish, migrate, GitOps bump, rollout verify): the argv of each
// `slipway` command and checks of the JSON it prints. Flags and fields follow pipelines/src/<area>/commands.ts.
// No Dagger API here; tested in test/dagger/release-cli.test.ts.
import { isRecord, isStringArray, optional, parseCliJson, repeat } from "./cli.js";

/**
 * Azure / CI identity inputs shared by publish and verifyRollout. Plain values become env variables
 * (they are ids and URLs, not secrets); the secret ones are named here and passed as Dagger secrets.
 */
export type IdentityValues = {
  tenantId?: string;
  clientId?: string;
  authorityHost?: string;
  oidcRequestUrl?: string;
  serviceConnectionId?: string;
  oidcRequestUri?: string;
  username?: string;
};

/** The env variables the CLI's identity code reads for each plain input (pipelines/src/azure/identity.ts). */
export function identityEnv(values: IdentityValues): Array<[string, string]> {
  const pairs: Array<[string, string | undefined]> = [
    ["AZURE_TENANT_ID", values.tenantId],
    ["AZURE_CLIENT_ID", values.clientId],
    ["AZURE_AUTHORITY_HOST", values.authorityHost],
    ["ACTIONS_ID_TOKEN_REQUEST_URL", values.oidcRequestUrl],
    ["AZURESUBSCRIPTION_SERVICE_CONNECTION_ID", values.serviceConnectionId],
    ["SYSTEM_OIDCREQUESTURI", values.oidcRequestUri],
    ["SLIPWAY_REGISTRY_USERNAME", values.username],
  ];
  return pairs.filter((pair): pair is [string, string] => typeof pair[1] === "string" && pair[1] !== "");
}

/** Env variable for each secret identity input; the federated token is a file (AZURE_FEDERATED_TOKEN_FILE). */
export const SECRET_ENV = {
  oidcRequestToken: "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
  idToken: "idToken",
  systemAccessToken: "SYSTEM_ACCESSTOKEN",
  password: "SLIPWAY_REGISTRY_PASSWORD",
  clientSecret: "AZURE_CLIENT_SECRET",
} as const;
export const FEDERATED_TOKEN_FILE = "/tmp/slipway-secrets/azure-identity-token";

// --- publish (slipway acr ...) ---

/** `slipway acr login` output (pipelines/src/acr/exchange.ts LoginResult). */
export type AcrLogin = { registry: string; username: string };
/** `slipway acr tags` output. */
export type AcrTags = { repository: string; tags: string[]; immutable: string[]; refs: string[]; lock: boolean; annotations: Record<string, string> };
/** `slipway acr check` output. */
export type AcrCheck = { publish: boolean; digest: string | null };
/** `slipway acr verify` output (the part we read). */
export type AcrVerify = { locked: { manifest: boolean } };

const strings = (raw: Record<string, unknown>, keys: string[]) =>
  keys.filter((k) => typeof raw[k] !== "string" || raw[k] === "").map((k) => `${k}: expected a non-empty string`);

export function parseAcrLogin(command: string[], text: string): AcrLogin {
  return parseCliJson<AcrLogin>(command, text, (raw) => strings(raw, ["registry", "username"]));
}

export function parseAcrTags(command: string[], text: string): AcrTags {
  return parseCliJson<AcrTags>(command, text, (raw) => {
    const problems = strings(raw, ["repository"]);
    for (const key of ["tags", "immutable", "refs"]) {
      if (!isStringArray(raw[key]) || (raw[key] as string[]).length === 0) problems.push(`${key}: expected a non-empty array of strings`);
    }
    if (typeof raw.lock !== "boolean") problems.push("lock: expected a boolean");
    if (!isRecord(raw.annotations) || !Object.values(raw.annotations).every((v) => typeof v === "string")) problems.push("annotations: expected { name: value }");
    return problems;
  });
}

export function parseAcrCheck(command: string[], text: string): AcrCheck {
  return parseCliJson<AcrCheck>(command, text, (raw) => {
    const problems: string[] = [];
    if (typeof raw.publish !== "boolean") problems.push("publish: expected a boolean");
    if (raw.digest !== null && !(typeof raw.digest === "string" && /^sha256:[0-9a-f]{64}$/.test(raw.digest))) problems.push("digest: expected sha256:<64 hex> or null");
    if (raw.publish === false && raw.digest === null) problems.push("publish is false but no digest to reuse");
    return problems;
  });
}

export function parseAcrVerify(command: string[], text: string): AcrVerify {
  return parseCliJson<AcrVerify>(command, text, (raw) =>
    isRecord(raw.locked) && typeof raw.locked.manifest === "boolean" ? [] : ["locked.manifest: expected a boolean"],
  );
}

/** The digest of a `Container.publish` result (`host/repo:tag@sha256:...`). */
export function digestOf(published: string): string {
  const digest = published.slice(published.lastIndexOf("@") + 1);
  if (!/^sha256:[0-9a-f]{64}$/.test(digest)) throw new Error(`SLIPWAY_ACR_PUBLISH: the engine returned ${JSON.stringify(published)}, which carries no digest`);
  return digest;
}

// --- migrate ---

export const MIGRATE_ACTIONS = ["status", "run", "revert"] as const;

/**
 * `service` lets the CLI pick the DataSource: slipway.yaml `migrate.services.<service>` (path, transaction
 * mode, lock timeout), else the service's dist/data-source.js. `dataSource` overrides the path.
 */
export type MigrateInput = { action: string; service: string; dataSource?: string; to?: string; count?: number; dryRun?: boolean };

/** `slipway migrate <action>`; bad input is refused before any container starts, like the CLI would. */
export function migrateCommand(source: string, input: MigrateInput): string[] {
  if (!(MIGRATE_ACTIONS as readonly string[]).includes(input.action)) {
    throw new Error(`SLIPWAY_USAGE: action ${JSON.stringify(input.action)} is not one of ${MIGRATE_ACTIONS.join(", ")}`);
  }
  const changing = input.action !== "status";
  if (!changing && (input.to || input.count || input.dryRun)) throw new Error("SLIPWAY_USAGE: status takes no to, count or dryRun");
  return [
    "slipway",
    "migrate",
    input.action,
    "--service",
    input.service,
    ...optional("--data-source", input.dataSource),
    "--source",
    source,
    ...optional("--to", input.to),
    ...(input.count ? ["--count", String(input.count)] : []),
    ...(input.dryRun ? ["--dry-run"] : []),
    "--json",
  ];
}

// --- GitOps bump ---

export type BumpInput = { repository: string; branch: string; set?: string[]; policy?: string[]; path?: string; sourceSha?: string; allowMissing?: boolean };

/**
 * `slipway gitops commit-push`. A repository URL carrying a password or token is refused here too (the
 * CLI refuses it as well): the token must come as a Secret, never in argv.
 */
/** A clone URL with userinfo would put a credential in argv and logs: refused, without echoing it. */
export function refuseCredentialUrl(repository: string): void {
  if (/^[a-z][a-z0-9+.-]*:\/\/[^/@]*:[^/@]*@/i.test(repository) || /^https?:\/\/[^/@]+@/i.test(repository)) {
    throw new Error("SLIPWAY_USAGE: the repository URL carries credentials; pass the token as the token Secret instead");
  }
}

export function bumpCommand(input: BumpInput): string[] {
  refuseCredentialUrl(input.repository);
  if ((input.set ?? []).length === 0 && (input.policy ?? []).length === 0) throw new Error("SLIPWAY_USAGE: give at least one set (IMAGE=TAG[@DIGEST]) or policy");
  return [
    "slipway",
    "gitops",
    "commit-push",
    "--repo",
    input.repository,
    "--branch",
    input.branch,
    ...optional("--path", input.path),
    ...repeat("--set", input.set),
    ...repeat("--policy", input.policy),
    ...optional("--source-sha", input.sourceSha),
    ...(input.allowMissing ? ["--allow-missing"] : []),
    "--json",
  ];
}

/** `slipway gitops commit-push --json` output (the part we read). */
export type BumpResult = { branch: string; commit: string; pushed: boolean; attempts: number };

export function parseBump(command: string[], text: string): BumpResult {
  return parseCliJson<BumpResult>(command, text, (raw) => {
    const problems = strings(raw, ["branch"]);
    if (typeof raw.commit !== "string" || !/^[0-9a-f]{40,64}$/.test(raw.commit)) problems.push("commit: expected a full commit SHA");
    if (typeof raw.pushed !== "boolean") problems.push("pushed: expected a boolean");
    return problems;
  });
}

export type RollbackInput = { repository?: string; branch?: string; environment: string; to?: string; path?: string; force?: boolean; dryRun?: boolean };

/**
 * `slipway rollback`: the ledger picks the release; the token comes only as SLIPWAY_GIT_TOKEN. Without
 * repository and branch the CLI takes them from slipway.yaml (the environment's, else gitops:).
 */
export function rollbackCommand(input: RollbackInput): string[] {
  if (input.repository !== undefined) refuseCredentialUrl(input.repository);
  return [
    "slipway",
    "rollback",
    ...optional("--repo", input.repository),
    ...optional("--branch", input.branch),
    "--env",
    input.environment,
    ...optional("--to", input.to),
    ...optional("--path", input.path),
    ...(input.force ? ["--force"] : []),
    // A dry run answers with the plan as a person reads it; a real run with JSON (the commit).
    ...(input.dryRun ? ["--dry-run"] : ["--json"]),
  ];
}

/** `slipway rollback --json` output (the part we read). */
export type RollbackResult = { environment: string; commit: string; pushed: boolean; alreadyAt: boolean };

export function parseRollback(command: string[], text: string): RollbackResult {
  return parseCliJson<RollbackResult>(command, text, (raw) => {
    const problems = strings(raw, ["environment"]);
    if (typeof raw.commit !== "string" || !/^[0-9a-f]{40,64}$/.test(raw.commit)) problems.push("commit: expected a full commit SHA");
    if (typeof raw.pushed !== "boolean") problems.push("pushed: expected a boolean");
    if (typeof raw.alreadyAt !== "boolean") problems.push("alreadyAt: expected a boolean");
    return problems;
  });
}

// --- rollout verify ---

export const KUBECONFIG = "/tmp/slipway-secrets/kubeconfig";
export const DIAGNOSTICS = "/tmp/slipway-rollout-diagnostics";

export type RolloutInput = {
  namespace: string;
  deployments?: string[];
  statefulsets?: string[];
  daemonsets?: string[];
  selector?: string;
  images?: string[];
  fluxKustomization?: string;
  fluxHelmRelease?: string;
  argocdApp?: string;
  revision?: string;
  reconcile?: boolean;
  /** Request a sync of `revision` (`--argocd-sync`): an Argo CD Application without automated sync. */
  argocdSync?: boolean;
  /** Set the Deployments' images first (`--set-images`): a rollback's kubectlUndo, the GitOps controller being down. */
  setImages?: boolean;
  timeout?: string;
  context?: string;
  azureIdentity?: string;
};

export function rolloutCommand(input: RolloutInput): string[] {
  return [
    "slipway",
    "rollout",
    "verify",
    "--kubeconfig",
    KUBECONFIG,
    ...optional("--context", input.context),
    "--namespace",
    input.namespace,
    ...repeat("--deployment", input.deployments),
    ...repeat("--statefulset", input.statefulsets),
    ...repeat("--daemonset", input.daemonsets),
    ...optional("--selector", input.selector),
    ...repeat("--image", input.images),
    ...(input.setImages ? ["--set-images"] : []),
    ...optional("--flux-kustomization", input.fluxKustomization),
    ...optional("--flux-helmrelease", input.fluxHelmRelease),
    ...(input.reconcile ? ["--reconcile"] : []),
    ...optional("--argocd-app", input.argocdApp),
    ...(input.argocdSync ? ["--argocd-sync"] : []),
    ...optional("--revision", input.revision),
    ...optional("--timeout", input.timeout),
    ...optional("--azure-identity", input.azureIdentity),
    "--diagnostics",
    DIAGNOSTICS,
    "--json",
  ];
}

/**
 * Exit codes of `slipway rollout verify` that carry a verdict: healthy (0), failed or paused (1), timed out
 * (3), could not check (4: the Kubernetes API unreachable, refusing or erroring until the timeout).
 */
export const ROLLOUT_VERDICT_CODES: readonly number[] = [0, 1, 3, 4];

/**
 * The line a failed `verifyRollout` carries for the CI wrappers (`grep SLIPWAY_ROLLOUT_VERDICT=`): they
 * roll back only on `failed`. A dagger call fails with the same exit code whatever the CLI's was.
 */
export function rolloutVerdictLine(verdict: string): string {
  return `SLIPWAY_ROLLOUT_VERDICT=${verdict}`;
}

/**
 * Only a real failed verdict (exit 1, `failed`) is a reason to roll back. Timed out (3) and could not check
 * (4) may hide a healthy release; `paused` (exit 1) is someone's decision on the cluster, which a GitOps
 * rollback cannot undo (the rolled-back template would stay paused too).
 */
export function rolloutRollsBack(exitCode: number, verdict: string): boolean {
  return exitCode === 1 && verdict === "failed";
}

export type RolloutReport = { verdict: string; namespace: string; reasons?: unknown };

export function parseRollout(command: string[], exitCode: number, text: string): RolloutReport {
  return parseCliJson<RolloutReport>(command, text, (raw) => {
    const problems = strings(raw, ["verdict", "namespace"]);
    if (typeof raw.verdict === "string" && (raw.verdict === "healthy") !== (exitCode === 0)) {
      problems.push(`verdict is ${raw.verdict} but the command exited with ${exitCode}`);
    }
    return problems;
  });
}

// --- release ledger (slipway ledger record | mark) ---

export const LEDGER_STATUSES = ["pending", "verified", "failed"] as const;

export type RecordInput = {
  repository: string;
  branch: string;
  environment: string;
  sourceSha: string;
  /** IMAGE=TAG@sha256:DIGEST, as publish printed them. */
  set: string[];
  gitopsCommit?: string;
  status: string;
};

export function recordCommand(input: RecordInput): string[] {
  refuseCredentialUrl(input.repository);
  if (!(LEDGER_STATUSES as readonly string[]).includes(input.status)) {
    throw new Error(`SLIPWAY_USAGE: status "${input.status}" is not one of ${LEDGER_STATUSES.join(", ")}`);
  }
  if (input.set.length === 0) throw new Error("SLIPWAY_USAGE: give at least one set (IMAGE=TAG@sha256:DIGEST): the ledger records digests");
  return [
    "slipway", "ledger", "record",
    "--repo", input.repository, "--branch", input.branch, "--env", input.environment,
    "--source-sha", input.sourceSha,
    ...repeat("--set", input.set),
    ...optional("--gitops-commit", input.gitopsCommit),
    "--status", input.status,
    "--json",
  ];
}

export type MarkInput = { repository: string; branch: string; environment: string; id: string; status: string };

export function markCommand(input: MarkInput): string[] {
  refuseCredentialUrl(input.repository);
  if (input.status !== "verified" && input.status !== "failed") {
    throw new Error(`SLIPWAY_USAGE: status "${input.status}" is not one of verified, failed`);
  }
  return ["slipway", "ledger", "mark", "--repo", input.repository, "--branch", input.branch, "--env", input.environment, "--id", input.id, "--status", input.status, "--json"];
}

/** `slipway ledger record|mark --json` output (the part we read). */
export type LedgerChange = { environment: string; entry: { id: string; status: string }; commit?: string };

export function parseLedgerChange(command: string[], text: string): LedgerChange {
  return parseCliJson<LedgerChange>(command, text, (raw) => {
    const problems = strings(raw, ["environment"]);
    const entry = raw.entry;
    if (!isRecord(entry) || typeof entry.id !== "string" || entry.id === "" || typeof entry.status !== "string") {
      problems.push("entry: expected { id, status }");
    }
    return problems;
  });
}
