// Pure helpers of `release` and `promote`: the argv of the environment and release commands of the
// `slipway` CLI (pipelines/src/release/commands.ts), checks of the JSON they print, and the Release
// report and summary. No Dagger API here; tested in test/dagger/release-flow.test.ts.
import { isRecord, isStringArray, optional, parseCliJson, repeat } from "./cli.js";
import type { RolloutInput } from "./release-cli.js";

/** Where the per-service database URLs Secret is mounted (the CLI reads SLIPWAY_DATABASE_URLS_FILE). */
export const DATABASE_URLS_FILE = "/tmp/slipway-secrets/database-urls";

/** `slipway env show --json` (pipelines/src/release/environment.ts ResolvedEnvironment). */
export type ResolvedEnvironment = {
  name: string;
  gitops: { repository: string; branch: string; path: string };
  ledger: string;
  registry: string | null;
  identity: { mode?: string; tenantId?: string; clientId?: string; serviceConnectionId?: string; authorityHost?: string; username?: string };
  kubernetes: {
    namespace: string;
    selector: string | null;
    deployments: string[];
    fluxKustomization: string | null;
    fluxHelmRelease: string | null;
    reconcile: boolean;
    argocdApplication: string | null;
    /** Request a sync of the commit (`rollout verify --argocd-sync`); absent from an older CLI's JSON. */
    argocdSync?: boolean;
    timeout: string | null;
  };
  migrate: Array<{ service: string; dataSource: string | null }>;
  promoteFrom: string | null;
};

export function envShowCommand(environment: string): string[] {
  return ["slipway", "env", "show", "--env", environment, "--json"];
}

export function parseEnvironment(command: string[], text: string): ResolvedEnvironment {
  return parseCliJson<ResolvedEnvironment>(command, text, (raw) => {
    const problems: string[] = [];
    if (typeof raw.name !== "string") problems.push("name: expected a string");
    const g = raw.gitops;
    if (!isRecord(g) || typeof g.repository !== "string" || typeof g.branch !== "string" || typeof g.path !== "string") problems.push("gitops: expected { repository, branch, path }");
    const k = raw.kubernetes;
    if (!isRecord(k) || typeof k.namespace !== "string" || !isStringArray(k.deployments)) problems.push("kubernetes: expected { namespace, deployments, ... }");
    if (!Array.isArray(raw.migrate) || !raw.migrate.every((m) => isRecord(m) && typeof m.service === "string")) problems.push("migrate: expected [{ service, dataSource }]");
    if (!isRecord(raw.identity)) problems.push("identity: expected an object");
    return problems;
  });
}

/** What a release would lack before anything starts: a Secret the environment needs. */
export function missingSecrets(env: ResolvedEnvironment, given: { databaseUrls: boolean }): string[] {
  return env.migrate.length > 0 && !given.databaseUrls
    ? [`databaseUrls: environment ${env.name} migrates ${env.migrate.map((m) => m.service).join(", ")} (a Secret with one SERVICE=URL line each)`]
    : [];
}

export type BeginInput = { environment: string; sourceSha: string; set: string[]; migrated?: Array<{ service: string; file: string }>; promotedFrom?: string; wait?: string };

/** `slipway release begin`: bump and pending ledger entry in one commit; repository, branch and folder come from slipway.yaml. */
export function beginCommand(input: BeginInput): string[] {
  if (input.set.length === 0) throw new Error("SLIPWAY_USAGE: a release needs at least one image (IMAGE=TAG@sha256:DIGEST)");
  return [
    "slipway", "release", "begin",
    "--env", input.environment,
    "--source-sha", input.sourceSha,
    ...repeat("--set", input.set),
    ...repeat("--migrated", (input.migrated ?? []).map((m) => `${m.service}=${m.file}`)),
    ...optional("--promoted-from", input.promotedFrom),
    ...optional("--wait", input.wait),
    "--json",
  ];
}

export type BeginResult = { environment: string; path: string; entry: { id: string; status: string }; commit: string; pushed: boolean };

export function parseBegin(command: string[], text: string): BeginResult {
  return parseCliJson<BeginResult>(command, text, (raw) => {
    const problems: string[] = [];
    if (!isRecord(raw.entry) || typeof raw.entry.id !== "string") problems.push("entry: expected { id, status }");
    if (typeof raw.commit !== "string" || !/^[0-9a-f]{40,64}$/.test(raw.commit)) problems.push("commit: expected a full commit SHA");
    return problems;
  });
}

export function candidateCommand(environment: string, from?: string, id?: string, sourceSha?: string): string[] {
  return ["slipway", "release", "candidate", "--env", environment, ...optional("--from", from), ...optional("--id", id), ...optional("--source-sha", sourceSha), "--json"];
}

export type Candidate = { environment: string; from: string; entry: { id: string; sourceSha: string }; sets: string[] };

export function parseCandidate(command: string[], text: string): Candidate {
  return parseCliJson<Candidate>(command, text, (raw) => {
    const problems: string[] = [];
    if (typeof raw.from !== "string") problems.push("from: expected a string");
    if (!isRecord(raw.entry) || typeof raw.entry.id !== "string" || typeof raw.entry.sourceSha !== "string") problems.push("entry: expected { id, sourceSha }");
    if (!isStringArray(raw.sets) || raw.sets.length === 0) problems.push("sets: expected IMAGE=TAG@DIGEST strings");
    return problems;
  });
}

/** `slipway rollback --env ENV --json`: repository, branch and folder from slipway.yaml. */
export function envRollbackCommand(environment: string): string[] {
  return ["slipway", "rollback", "--env", environment, "--json"];
}

export type EnvRollback = { commit: string; alreadyAt: boolean; entry?: { id: string }; restored: { id: string; images: Array<{ image: string; tag: string; digest: string }> } };

export function parseEnvRollback(command: string[], text: string): EnvRollback {
  return parseCliJson<EnvRollback>(command, text, (raw) => {
    const problems: string[] = [];
    if (typeof raw.commit !== "string") problems.push("commit: expected a SHA");
    if (!isRecord(raw.restored) || typeof raw.restored.id !== "string" || !Array.isArray(raw.restored.images)) problems.push("restored: expected { id, images }");
    return problems;
  });
}

export function envMarkCommand(environment: string, id: string, status: "verified" | "failed"): string[] {
  return ["slipway", "ledger", "mark", "--env", environment, "--id", id, "--status", status, "--json"];
}

/** IMAGE=TAG@DIGEST for every published service: the first ref's repository and tag, the pushed digest. */
export function setsOf(published: Array<{ refs: string[]; digest: string }>): string[] {
  return published.map((p) => {
    const ref = p.refs[0] ?? "";
    const colon = ref.lastIndexOf(":");
    if (colon <= ref.lastIndexOf("/")) throw new Error(`SLIPWAY_ACR_PUBLISH: ${JSON.stringify(ref)} has no tag`);
    return `${ref.slice(0, colon)}=${ref.slice(colon + 1)}@${p.digest}`;
  });
}

/**
 * `rollout verify` of an environment's Kubernetes target for these images (IMAGE=TAG@DIGEST), after the
 * GitOps commit `revision`: the commit must be applied first when a GitOps controller is named (without one
 * the workloads decide). `reconcile`: ask Flux now (the environment's setting unless the caller overrides).
 */
export function rolloutOf(env: ResolvedEnvironment, sets: string[], revision: string, reconcile = env.kubernetes.reconcile): RolloutInput {
  const k = env.kubernetes;
  return {
    namespace: k.namespace,
    deployments: k.deployments,
    images: expectationsOf(sets),
    ...(k.fluxKustomization || k.argocdApplication ? { revision } : {}),
    reconcile,
    ...(k.selector ? { selector: k.selector } : {}),
    ...(k.fluxKustomization ? { fluxKustomization: k.fluxKustomization } : {}),
    ...(k.fluxHelmRelease ? { fluxHelmRelease: k.fluxHelmRelease } : {}),
    ...(k.argocdApplication ? { argocdApp: k.argocdApplication } : {}),
    ...(k.argocdApplication && k.argocdSync ? { argocdSync: true } : {}),
    ...(k.timeout ? { timeout: k.timeout } : {}),
  };
}

/**
 * What `rollout verify --image` checks for each released image: IMAGE=sha256:DIGEST, the exact bytes (its
 * `IMAGE=TAG` form would accept a moved tag; TAG@DIGEST is not one of its forms).
 */
export function expectationsOf(sets: string[]): string[] {
  return sets.map((set) => {
    const eq = set.lastIndexOf("=");
    const at = set.lastIndexOf("@");
    return at > eq ? `${set.slice(0, eq)}=${set.slice(at + 1)}` : set;
  });
}

/** How a release ended. Only `verified` passes; `rolled-back` means it failed and the previous release is back. */
export const RELEASE_STATUSES = ["verified", "rolled-back", "failed", "unknown"] as const;
export type ReleaseStatus = (typeof RELEASE_STATUSES)[number];

/** One step of a release as the report shows it. */
export type StepRow = { step: string; status: "passed" | "failed" | "skipped"; detail: string };

export type ReleaseData = {
  kind: "release" | "promote";
  environment: string;
  status: ReleaseStatus;
  sourceSha: string;
  ledgerId: string;
  gitopsCommit: string;
  images: string[];
  /** promote: the environment and release the images came from. */
  promotedFrom: string;
  steps: StepRow[];
  failure: string;
  rollback: string;
  /** Images pushed to the registry that no GitOps commit references (the release failed before the bump). */
  unreleasedImages: string[];
};

export function renderReleaseReport(data: ReleaseData): string {
  return `${JSON.stringify({ version: 1, ...data }, null, 2)}\n`;
}

/** What a person reads: the verdict first, the steps, then what failed and what the rollback did. */
export function renderReleaseSummary(data: ReleaseData): string {
  const head =
    data.status === "verified"
      ? `${data.kind} to ${data.environment}: verified (ledger release ${data.ledgerId}, GitOps commit ${data.gitopsCommit.slice(0, 12)})`
      : `${data.kind} to ${data.environment}: ${data.status.toUpperCase()}${data.ledgerId ? ` (ledger release ${data.ledgerId})` : ""}`;
  const lines = [head, ""];
  if (data.promotedFrom) lines.push(`promoted from ${data.promotedFrom}`, "");
  lines.push("| step | status | detail |", "| --- | --- | --- |", ...data.steps.map((s) => `| ${s.step} | ${s.status} | ${s.detail.replace(/\|/g, "\\|").replace(/\n/g, " ")} |`));
  if (data.images.length > 0) lines.push("", "images:", ...data.images.map((i) => `- ${i}`));
  if (data.failure) lines.push("", "failure:", data.failure);
  if (data.rollback) lines.push("", "rollback:", data.rollback);
  if (data.unreleasedImages.length > 0) lines.push("", "pushed but not released (no GitOps commit references them):", ...data.unreleasedImages.map((i) => `- ${i}`));
  return `${lines.join("\n")}\n`;
}
