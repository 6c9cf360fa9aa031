import { z } from "zod";
import { PublishIdentity } from "../acr/schema.js";
import { LedgerEntry, LedgerImage } from "../ledger/schema.js";
import { RUN_KINDS, RUN_OUTCOMES } from "../report/schema.js";
import { ScanException } from "../scan/schema.js";
import { SCHEMA_VERSION } from "./print.js";
import type { AbandonResult } from "../acr/abandon.js";
import type { LoginResult } from "../acr/exchange.js";
import type { PruneResult } from "../acr/prune.js";
import type { MarkResult, PreflightResult, VerifyResult as AcrVerifyResult } from "../acr/verify.js";
import type { BumpResult } from "../gitops/bump.js";
import type { CommitPushResult } from "../gitops/git.js";
import type { RollbackPlanView } from "../ledger/rollback.js";
import type { RunReport, StatusReport } from "../migrate/engine.js";
import type { TargetResult } from "../notify/commands.js";
import type { Plan } from "../plan/plan.js";
import type { ScannerRun } from "../scan/argv.js";
import type { ResolvedEnvironment } from "../release/environment.js";
import type { Problem } from "../rollout/health.js";
import type { Verdict, WorkloadResult } from "../rollout/verify.js";

/*
 * The shape of every command's `--json` document (issue 16), as zod schemas: `npm run schema -w pipelines`
 * writes them as JSON Schemas to pipelines/schema/output/<command>.schema.json, and the tests validate
 * every `--json` output the CLI prints against them (test/helpers/cli.ts). Nothing at run time imports
 * this file: the CLI prints its results as they are, so start-up pays nothing for it.
 *
 * The schemas are open to new fields (they keep schemaVersion: see ./print.ts); the tests close them, so
 * a field printed but not described here fails a test.
 */

const Version = z.literal(SCHEMA_VERSION).meta({ description: "Raised only when a field is renamed, removed or changes meaning; new fields keep it." });
const Sha = z.string().regex(/^[0-9a-f]{7,64}$/);
const Digest = z.string().regex(/^sha256:[0-9a-f]{64}$/);
const Iso = z.string().meta({ description: "ISO 8601 time" });

function doc<T extends z.ZodRawShape>(description: string, shape: T) {
  return z.object({ schemaVersion: Version, ...shape }).meta({ description });
}

// --- shared pieces ---------------------------------------------------------------------------------

const FieldChange = z.object({
  field: z.string(),
  format: z.enum(["kustomize", "helm-values", "plain", "helmrelease", "flux-markers"]),
  image: z.string().optional(),
  old: z.string(),
  new: z.string(),
  marker: z.string().optional(),
  note: z.string().optional(),
});

const ChangeRecord = z
  .object({
    files: z.record(z.string(), z.record(z.string(), z.array(FieldChange))).meta({ description: "repository-relative file -> object id -> changed fields" }),
    changed: z.array(z.string()),
    alreadyAt: z.array(z.string()),
    missing: z.array(z.string()),
    unedited: z.array(z.string()),
  })
  .meta({ description: "What the bump changed: file -> object -> field, old and new value" });

/** A commit pushed with fetch/rebase/retry (gitops commit-push, and every ledger change). */
const Push = {
  commit: Sha.meta({ description: "the commit at the branch tip that carries the change" }),
  pushed: z.boolean().meta({ description: "false when the branch already had the change (nothing pushed)" }),
  attempts: z.number().int().min(0),
  record: ChangeRecord,
};

const TagState = z.object({ tag: z.string(), digest: Digest.nullable(), canWrite: z.boolean().optional(), canDelete: z.boolean().optional() });

const Location = z.object({
  tool: z.enum(["trivy", "trufflehog", "npm-audit", "osv-scanner"]),
  target: z.string(),
  file: z.string().optional(),
  line: z.number().int().optional(),
  commit: z.string().optional(),
});
const Severity = z.enum(["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"]);
const Counts = z.record(z.enum(["vulnerability", "secret", "misconfiguration"]), z.record(Severity, z.number().int().min(0)));

const Finding = z.object({
  tool: Location.shape.tool,
  tools: z.array(Location.shape.tool),
  kind: z.enum(["vulnerability", "secret", "misconfiguration"]),
  severity: Severity,
  id: z.string(),
  aliases: z.array(z.string()),
  title: z.string(),
  description: z.string().optional(),
  url: z.string().optional(),
  package: z.string().optional(),
  installedVersion: z.string().optional(),
  fixedVersions: z.array(z.string()),
  fixAvailable: z.boolean(),
  verification: z.enum(["verified", "unknown", "unverified"]).optional(),
  paths: z.array(z.array(z.string())).optional(),
  status: z.enum(["unknown", "not_affected", "affected", "fixed", "under_investigation", "will_not_fix", "fix_deferred", "end_of_life"]).optional(),
  notAffected: z.string().optional(),
  malicious: z.boolean().optional(),
  fingerprint: z.string().meta({ description: "stable across runs and tools: what an exception can name" }),
  target: z.string(),
  file: z.string().optional(),
  line: z.number().int().optional(),
  locations: z.array(Location),
  verified: z.boolean().optional(),
  unverifiableSeverity: Severity.optional(),
});

const ExceptionReport = z.object({ index: z.number().int().min(0), ...ScanException.shape });

const DatabaseTarget = z.object({ type: z.string(), host: z.string().optional(), port: z.number().int().optional(), database: z.string().optional(), user: z.string().optional() });
const AppliedMigration = z.object({ name: z.string(), timestamp: z.number(), id: z.number().int().optional() });
const MigrationFailure = z.object({
  migration: z.string(),
  phase: z.enum(["up", "down"]),
  error: z.string(),
  statements: z.array(z.object({ sql: z.string(), ok: z.boolean(), error: z.string().optional() })),
});
const MigrationState = z.object({ applied: z.array(AppliedMigration), pending: z.array(z.string()), unknownApplied: z.array(z.string()) });
const DestructiveKind = z.enum(["drop-table", "drop-column", "type-change", "rename-table", "rename-column", "not-null-on-filled-table", "truncate", "delete-rows"]);
// migrate revert (issue 12): each down() tried in a rolled-back transaction before anything is reverted.
const RevertSafety = z.object({
  migrations: z.array(
    z.object({
      migration: z.string(),
      statements: z.number().int().min(0),
      findings: z.array(
        z.object({ migration: z.string(), kind: DestructiveKind, table: z.string(), column: z.string().optional(), statement: z.string(), holdsData: z.boolean().nullable() }),
      ),
      problem: z.object({ kind: z.enum(["missing-down", "empty-down", "not-checked", "fails-when-tried"]), reason: z.string() }).nullable(),
      blocks: z.boolean(),
      allowed: z.boolean(),
    }),
  ),
  blocked: z.array(z.string()),
});
const SafetyReport = z.object({
  policy: z.enum(["warn", "block"]),
  analysed: z.array(z.string()),
  notAnalysed: z.array(z.object({ migration: z.string(), reason: z.string() })),
  findings: z.array(
    z.object({
      migration: z.string(),
      kind: DestructiveKind,
      table: z.string(),
      column: z.string().optional(),
      statement: z.string(),
    }),
  ),
  trialFailures: z.array(z.object({ migration: z.string(), error: z.string() })),
});

const MigrateRun = (action: "run" | "revert", description: string) =>
  doc(description, {
    action: z.literal(action),
    status: z.enum(["applied", "reverted", "nothing-to-do", "dry-run", "failed", "blocked"]),
    dryRun: z.boolean(),
    database: DatabaseTarget,
    migrationsTable: z.string(),
    transaction: z.enum(["all", "each", "none"]),
    lock: z.enum(["acquired", "unsupported"]),
    planned: z.array(z.string()),
    applied: z.array(z.string()),
    reverted: z.array(z.string()),
    failure: MigrationFailure.nullable(),
    revertFailure: MigrationFailure.nullable(),
    compensated: z.array(z.string()),
    preexisting: z.array(z.string()),
    residue: z.array(z.string()),
    compensationStopped: z.object({ statement: z.string(), reason: z.string() }).nullable(),
    clean: z.boolean(),
    safety: SafetyReport.nullable(),
    revertSafety: RevertSafety.optional(),
    left: z.array(z.string()).optional(),
    final: MigrationState,
    startedAt: Iso,
    finishedAt: Iso,
  });

const Environment = z.object({
  name: z.string(),
  gitops: z.object({ repository: z.string(), branch: z.string(), path: z.string() }),
  ledger: z.string(),
  registry: z.string().nullable(),
  identity: PublishIdentity,
  kubernetes: z.object({
    namespace: z.string(),
    selector: z.string().nullable(),
    deployments: z.array(z.string()),
    fluxKustomization: z.string().nullable(),
    fluxHelmRelease: z.string().nullable(),
    reconcile: z.boolean(),
    argocdApplication: z.string().nullable(),
    argocdSync: z.boolean().meta({ description: "Request a sync of the commit (rollout verify --argocd-sync)." }),
    timeout: z.string().nullable(),
  }),
  migrate: z.array(z.object({ service: z.string(), dataSource: z.string().nullable() })),
  promoteFrom: z.string().nullable(),
});

const PlannedRelease = z.object({ id: z.string(), status: LedgerEntry.shape.status, sourceSha: Sha, at: Iso, images: z.array(LedgerImage) });
const RollbackPlanView = z.object({
  environment: z.string(),
  branch: z.string(),
  path: z.string(),
  at: z.string(),
  target: PlannedRelease,
  forced: z.boolean(),
  abandoned: z.array(PlannedRelease),
  alreadyAt: z.boolean(),
  resume: z.object({ entry: z.string(), abandoned: z.array(PlannedRelease) }).nullable(),
  git: z.object({
    changes: z.array(z.object({ file: z.string(), object: z.string(), field: z.string(), old: z.string(), new: z.string() })),
    ledger: z.object({ file: z.string(), rolledBack: z.array(z.string()), newRelease: z.string() }),
  }),
  migrations: z.array(
    z.object({
      service: z.string().nullable(),
      steps: z.array(z.object({ release: z.string(), image: z.string().nullable(), revert: z.array(z.string()) })),
      revertTo: z.string().nullable(),
      command: z.string(),
      // issue 12 (database safety): slipway.yaml migrate.services.<name>.rollbackOrder and allowDestructiveRevert.
      order: z.enum(["git-first", "database-first"]),
      allowDestructiveRevert: z.union([z.boolean(), z.array(z.string())]),
    }),
  ),
  migrationsUnknown: z.array(z.string()),
  registry: z.array(
    z.object({
      release: z.string(),
      image: z.string(),
      digest: Digest,
      tag: z.string(),
      policy: z.enum(["failed-tag", "lock", "delete-tags"]).meta({ description: "environments.<name>.rollback.registry in slipway.yaml" }),
      action: z.string().meta({ description: "what the policy does to this image, as the plan prints it" }),
    }),
  ),
  notDone: z.array(z.string()),
});

const PruneDecision = z.object({
  digest: Digest,
  tags: z.array(z.string()),
  lastUpdatedOn: Iso,
  action: z.enum(["delete", "keep"]),
  reasons: z.array(z.string()).meta({ description: "why it is kept (every reason), or why it may go" }),
});

const GitopsState = z.enum(["applied", "waiting", "failed"]);
const WorkloadKind = z.enum(["deployment", "statefulset", "daemonset"]);

const Toolchain = z.object({
  installRoot: z.string(),
  layout: z.enum(["workspace", "standalone"]),
  manager: z.enum(["npm", "pnpm", "yarn"]),
  flavor: z.enum(["npm", "pnpm", "yarn-classic", "yarn-berry"]),
  version: z.string().nullable(),
  lockfile: z.string(),
  node: z.object({
    major: z.union([z.literal(18), z.literal(20), z.literal(22), z.literal(24)]),
    source: z.enum(["slipway.yaml build.services", "engines.node", ".nvmrc", ".node-version", "volta.node", "slipway.yaml build.node", "default"]),
    file: z.string().nullable(),
    value: z.string().nullable(),
  }),
  image: z.string(),
  install: z.array(z.string()),
  scripts: z.object({ lint: z.array(z.string()), test: z.array(z.string()), build: z.array(z.string()) }),
  env: z.record(z.string(), z.string()),
  caches: z.array(z.object({ volume: z.string(), path: z.string() })),
  key: z.string(),
  staleMarkers: z.array(z.string()),
  stale: z.string(),
  problem: z.string().nullable(),
  label: z.string(),
});

// --- one document per command ------------------------------------------------------------------------

/** The error object ending stderr of any command run with --json that failed. */
export const ErrorOutput = doc("A failure: the last line on stderr of a command run with --json", {
  error: z.object({
    code: z.string().regex(/^SLIPWAY_[A-Z0-9_]+$/),
    message: z.string(),
    hint: z.string().nullable().meta({ description: "what the text form prints under the message: causes, what to try" }),
    exitCode: z.number().int().min(1),
  }),
});

/** Command words -> the schema of its `--json` stdout. A test checks every command of the index has one. */
export const OUTPUT_SCHEMAS = {
  version: doc("slipway version --json", { version: z.string(), node: z.string(), platform: z.string() }),
  "config check": doc("slipway config check --json", {
    file: z.string().nullable().meta({ description: "the slipway.yaml checked; null when there is none (defaults apply)" }),
    valid: z.literal(true),
    defaults: z.boolean(),
  }),
  "config schema": doc("slipway config schema --json", {
    schema: z.record(z.string(), z.unknown()).meta({ description: "the JSON Schema of slipway.yaml (what `slipway config schema` prints alone)" }),
  }),
  plan: doc("slipway plan --json", {
    source: z.string(),
    base: z.string().nullable(),
    revision: z.object({ sha: Sha, committedAt: Iso, sourceUrl: z.string().nullable() }).nullable(),
    services: z.array(
      z.object({
        name: z.string(),
        path: z.string(),
        dockerfile: z.string(),
        context: z.string(),
        packageName: z.string().nullable(),
        version: z.string().nullable(),
        packageManager: z.enum(["npm", "pnpm", "yarn"]),
        scripts: z.object({ lint: z.boolean(), test: z.boolean(), build: z.boolean() }),
        dependsOn: z.array(z.string()),
      }),
    ),
    affected: z.array(z.string()),
    reasons: z.record(z.string(), z.array(z.string())),
    changed: z.array(z.string()),
    warnings: z.array(z.string()),
    toolchains: z.record(z.string(), Toolchain),
  }),
  "scan gate": doc("slipway scan gate --json (printed when the gate fails too, before the error)", {
    passed: z.boolean(),
    counts: Counts,
    failing: z.array(Finding),
    exceptions: z.object({ expired: z.array(ExceptionReport), stale: z.array(ExceptionReport) }),
    notAffected: z.array(
      z.object({ id: z.string(), package: z.string().optional(), installedVersion: z.string().optional(), target: z.string(), reason: z.string().optional() }),
    ),
  }),
  "scan argv": doc("slipway scan argv", {
    scanner: z.enum(["trivy-image", "trivy-fs", "trufflehog", "npm-audit", "osv"]),
    gateFlag: z.enum(["--trivy", "--trufflehog", "--npm-audit", "--osv"]),
    tool: Location.shape.tool,
    image: z.string(),
    argv: z.array(z.string()),
    workdir: z.string(),
    output: z.string(),
    redirectStdout: z.boolean(),
    cache: z.object({ volume: z.string(), path: z.string() }).optional(),
  }),
  "acr login": doc("slipway acr login", {
    registry: z.string(),
    mode: z.string(),
    username: z.string(),
    passwordFile: z.string().meta({ description: "the file the token was written to (mode 0600); the token is never printed" }),
    expiresOn: Iso.nullable(),
  }),
  "acr tags": doc("slipway acr tags", {
    service: z.string(),
    registry: z.string(),
    repository: z.string(),
    version: z.string().nullable(),
    tags: z.array(z.string()),
    immutable: z.array(z.string()),
    refs: z.array(z.string()),
    lock: z.boolean(),
    annotations: z.record(z.string(), z.string()),
  }),
  "acr check": doc("slipway acr check", {
    registry: z.string(),
    repository: z.string(),
    publish: z.boolean().meta({ description: "false when this commit's image is already published (a re-run)" }),
    digest: Digest.nullable(),
    existing: z.array(TagState),
  }),
  "acr verify": doc("slipway acr verify", {
    registry: z.string(),
    repository: z.string(),
    digest: Digest,
    tags: z.array(TagState),
    locked: z.object({ manifest: z.boolean(), tags: z.array(z.string()) }),
  }),
  "acr prune": doc("slipway acr prune --json (also the partial result before the error when a delete failed)", {
    registry: z.string(),
    repository: z.string(),
    dryRun: z.boolean(),
    complete: z.boolean().meta({ description: "false when a failure stopped the deletes: `left` names what was not deleted" }),
    deleted: z.array(Digest),
    left: z.array(Digest),
    plan: z.object({
      registry: z.string(),
      repository: z.string(),
      keep: z.number().int().min(1),
      ledgers: z.array(z.object({ environment: z.string(), entries: z.number().int().min(0) })),
      delete: z.array(PruneDecision).meta({ description: "oldest first: the order of the deletes" }),
      keepList: z.array(PruneDecision),
    }),
  }),
  "acr abandon": doc("slipway acr abandon", {
    registry: z.string(),
    repository: z.string(),
    digest: Digest,
    release: z.string(),
    policy: z.enum(["failed-tag", "lock", "delete-tags"]),
    changed: z.boolean().meta({ description: "false when the registry already was so (a rerun): nothing was written" }),
    tag: z.string().nullable(),
    locked: z.boolean().nullable(),
    lockedTags: z.array(z.string()).meta({ description: "lock: the immutable tags locked with it (read back)" }),
    deletedTags: z.array(z.string()),
    keptTags: z.array(z.string()),
  }),
  "acr mark": doc("slipway acr mark", { registry: z.string(), repository: z.string(), digest: Digest, tag: z.string(), created: z.boolean() }),
  "migrate status": doc("slipway migrate status --json", {
    action: z.literal("status"),
    database: DatabaseTarget,
    migrationsTable: z.string(),
    applied: z.array(AppliedMigration),
    pending: z.array(z.string()),
    unknownApplied: z.array(z.string()),
    newerReleaseRan: z.boolean(),
    lock: z.object({ supported: z.boolean(), holders: z.array(z.object({ pid: z.number().int(), application: z.string().optional(), since: z.string().optional() })) }),
    interrupted: z
      .object({ migration: z.string(), since: z.string(), state: z.enum(["running", "partial"]), statements: z.number().int().optional() })
      .nullable(),
  }),
  "migrate run": MigrateRun("run", "slipway migrate run --json"),
  "migrate revert": MigrateRun("revert", "slipway migrate revert --json"),
  "gitops bump": doc("slipway gitops bump --json", { dryRun: z.boolean(), written: z.array(z.string()), record: ChangeRecord }),
  "gitops commit-push": doc("slipway gitops commit-push --json", { branch: z.string(), ...Push }),
  "rollout verify": doc("slipway rollout verify --json (printed for every verdict, before the error when not healthy)", {
    verdict: z.enum(["healthy", "failed", "paused", "unverifiable", "timeout", "unknown"]),
    namespace: z.string(),
    elapsedMs: z.number().min(0),
    gitops: z.object({ target: z.string(), state: GitopsState, message: z.string(), observed: z.string().optional() }).optional(),
    helmRelease: z
      .object({ target: z.string(), state: GitopsState, message: z.string(), observed: z.string().optional(), generation: z.number().int().optional() })
      .optional(),
    workloads: z.array(z.object({ kind: WorkloadKind, name: z.string(), state: z.enum(["waiting", "healthy", "failed", "unverifiable", "paused", "missing"]), message: z.string() })),
    deployments: z
      .array(z.object({ name: z.string(), state: z.string(), message: z.string() }))
      .meta({ description: "the workloads of kind deployment, in the shape from before StatefulSets and DaemonSets were verified" }),
    problems: z.array(z.object({ workload: z.string(), object: z.string(), container: z.string().optional(), reason: z.string(), message: z.string() })),
    reasons: z.array(z.string()),
    diagnostics: z.object({ json: z.string(), text: z.string() }).optional().meta({ description: "the files --diagnostics wrote" }),
  }),
  "env show": doc("slipway env show --json: the environment with every default applied", Environment.shape),
  "env list": doc("slipway env list --json", { environments: z.array(Environment) }),
  "release begin": doc("slipway release begin --json", { environment: z.string(), path: z.string(), entry: LedgerEntry, ...Push }),
  "release candidate": doc("slipway release candidate --json", {
    environment: z.string(),
    from: z.string(),
    entry: LedgerEntry,
    sets: z.array(z.string()).meta({ description: "IMAGE=TAG@DIGEST, what `release begin --set` takes" }),
    ledgerCommit: Sha.nullable(),
  }),
  "ledger record": doc("slipway ledger record --json", { environment: z.string(), entry: LedgerEntry, ...Push }),
  "ledger mark": doc("slipway ledger mark --json", { environment: z.string(), entry: LedgerEntry, ...Push }),
  "ledger show": doc("slipway ledger show --json", {
    version: z.literal(1),
    environment: z.string(),
    entries: z.array(LedgerEntry),
    commit: Sha.nullable().meta({ description: "the GitOps commit the ledger was read at" }),
  }),
  rollback: doc("slipway rollback --json (with --dry-run, or when already at the target, nothing is pushed)", {
    environment: z.string(),
    dryRun: z.boolean(),
    alreadyAt: z.boolean(),
    commit: Sha.nullable(),
    pushed: z.boolean(),
    attempts: z.number().int().min(0).optional(),
    record: ChangeRecord.optional(),
    restored: LedgerEntry,
    entry: LedgerEntry.optional().meta({ description: "the new entry that restores the target (absent with --dry-run)" }),
    abandoned: z.array(LedgerEntry),
    plan: RollbackPlanView,
  }),
  report: doc("slipway report --out FILE --json", {
    format: z.enum(["md", "html", "junit", "sarif"]),
    out: z.string(),
    bytes: z.number().int().min(0),
    kind: z.enum(RUN_KINDS),
    outcome: z.enum(RUN_OUTCOMES),
  }),
  notify: doc("slipway notify --json", {
    environment: z.string(),
    event: z.enum(["started", "verified", "failed", "rolled-back"]),
    title: z.string(),
    targets: z.array(
      z.object({
        target: z.enum(["slack", "teams"]),
        webhookEnv: z.string().meta({ description: "the variable the webhook URL came from (its value is never printed)" }),
        outcome: z.enum(["delivered", "failed", "skipped"]),
        attempts: z.number().int().min(0),
        httpStatus: z.number().int().nullable(),
        error: z.string().nullable(),
        reason: z.string().optional(),
        ms: z.number().min(0),
      }),
    ),
    delivered: z.number().int().min(0),
    failed: z.number().int().min(0),
  }),
} satisfies Record<string, z.ZodType>;

/** The file name of a command's output schema: `ledger show` -> `ledger-show.schema.json`. */
export function outputSchemaFile(words: string): string {
  return `${words.replace(/ /g, "-")}.schema.json`;
}

/** Published schemas stay open to new fields: drops every `additionalProperties: false` zod writes. */
function open(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(open);
  if (typeof node !== "object" || node === null) return node;
  return Object.fromEntries(Object.entries(node).filter(([key, value]) => !(key === "additionalProperties" && value === false)).map(([key, value]) => [key, open(value)]));
}

/** The JSON Schema documents, by file name (written by `npm run schema -w pipelines`). */
export function outputJsonSchemas(): Record<string, string> {
  const entries: [string, z.ZodType][] = [...Object.entries(OUTPUT_SCHEMAS), ["error", ErrorOutput]];
  return Object.fromEntries(
    entries.map(([words, schema]) => {
      const file = outputSchemaFile(words);
      const json = z.toJSONSchema(schema, { target: "draft-2020-12", io: "output", unrepresentable: "any" });
      return [file, `${JSON.stringify({ title: words === "error" ? "slipway error (--json, stderr)" : `slipway ${words} --json`, ...(open(json) as object) }, null, 2)}\n`];
    }),
  );
}


/*
 * Compile-time half of the check: each schema's output must be assignable to the type the command builds
 * its document from, so a required field added to one of these types (or a changed enum) fails `tsc` here
 * until the schema describes it. Optional fields, and the documents the commands build inline, are left to
 * the tests (test/helpers/output-schema.ts closes every object).
 */
function describes<T>(schema: z.ZodType<T>): void {
  void schema;
}
const S = OUTPUT_SCHEMAS;
describes<LoginResult>(S["acr login"]);
describes<PreflightResult & { registry: string; repository: string }>(S["acr check"]);
describes<AcrVerifyResult>(S["acr verify"]);
describes<MarkResult>(S["acr mark"]);
describes<AbandonResult>(S["acr abandon"]);
describes<PruneResult>(S["acr prune"]);
describes<StatusReport>(S["migrate status"]);
describes<RunReport>(S["migrate run"].or(S["migrate revert"]));
describes<BumpResult & { dryRun: boolean }>(S["gitops bump"]);
describes<CommitPushResult & { branch: string }>(S["gitops commit-push"]);
describes<Plan>(S.plan);
describes<ScannerRun>(S["scan argv"]);
describes<ResolvedEnvironment>(S["env show"]);
describes<{ environments: ResolvedEnvironment[] }>(S["env list"]);
describes<{ plan: RollbackPlanView }>(S.rollback);
describes<{ targets: TargetResult[] }>(S.notify);
describes<{ workloads: WorkloadResult[]; problems: Problem[]; verdict: Verdict }>(S["rollout verify"]);
