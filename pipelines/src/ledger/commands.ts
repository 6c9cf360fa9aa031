import { defineCommand } from "../cli/command.js";
import type { Io } from "../cli/command.js";
import { commandConfig, printResult } from "../cli/output.js";
import { painter } from "../cli/style.js";
import { EXIT, usageError } from "../errors.js";
import { formatOptions, PUSH_OPTIONS, pushTarget } from "../gitops/commands.js";
import type { LedgerEntry } from "./schema.js";

/**
 * What the commands run with (git, the bump, the ledger's zod schema), loaded when one runs rather than
 * with this module: `--help` and a typo need none of it (issue 16, start-up).
 */
async function engines() {
  const [bump, input, git, rollback, ledger, environment] = await Promise.all([
    import("../gitops/bump.js"),
    import("./input.js"),
    import("./git.js"),
    import("./rollback.js"),
    import("./ledger.js"),
    import("../release/environment.js"),
  ]);
  return { ...bump, ...input, ...git, ...rollback, ...ledger, ...environment };
}

const COMMON = "--repo URL|DIR --branch B --env ENV";
const PUSH_FLAGS = "[--max-attempts N] [--ssh-key FILE] [--known-hosts FILE] [--author 'Name <email>'] [--json] [--config FILE]";
const recordUsage = `slipway ledger record ${COMMON} --source-sha SHA --set IMAGE=TAG@sha256:DIGEST... [--gitops-commit SHA] [--migrations FILE] [--scan FILE] --status pending|verified|failed ${PUSH_FLAGS}`;
const markUsage = `slipway ledger mark ${COMMON} --id ID --status verified|failed ${PUSH_FLAGS}`;
const showUsage = `slipway ledger show ${COMMON} [--json] [--config FILE]`;
const rollbackUsage = `slipway rollback ${COMMON} [--dry-run] [--to ID [--force]] [--path SUBDIR] ${PUSH_FLAGS}`;

const SHA = /^[0-9a-f]{7,64}$/;

type Engines = Awaited<ReturnType<typeof engines>>;

function environment(m: Pick<Engines, "ledgerPath">, value: string | undefined, usage: string): { env: string; file: string } {
  if (value === undefined) throw usageError("--env is required", usage);
  return { env: value, file: m.ledgerPath(value) };
}

function keep(m: Engines, io: Io, config: string | undefined): number {
  return commandConfig(io, config).config.ledger?.keep ?? m.DEFAULT_KEEP;
}

function oneOf<T extends string>(flag: string, value: string | undefined, allowed: readonly T[], usage: string): T {
  if (value === undefined || !(allowed as readonly string[]).includes(value)) {
    throw usageError(`${flag} ${value === undefined ? "is required" : JSON.stringify(value)}: expected ${allowed.join(" or ")}`, usage);
  }
  return value as T;
}

function pushedText(env: string, what: string, push: { pushed: boolean; commit: string; attempts: number }, branch: string): string {
  return push.pushed ? `${what} in the ${env} ledger: pushed ${push.commit} to ${branch} (attempt ${push.attempts})\n` : `${what}: the ${env} ledger already said so (${push.commit})\n`;
}

export const ledgerRecord = defineCommand({
  path: ["ledger", "record"],
  summary: "Record a release (source SHA, image digests, GitOps commit, migrations, scan) in the environment's ledger",
  usage: recordUsage,
  options: {
    ...PUSH_OPTIONS,
    env: { type: "string" },
    "source-sha": { type: "string" },
    set: { type: "string", multiple: true },
    "gitops-commit": { type: "string" },
    migrations: { type: "string" },
    scan: { type: "string" },
    status: { type: "string", value: "pending|verified|failed" },
  },
  examples: [
    "slipway ledger record --env prod --source-sha $SHA --set myacr.azurecr.io/shop/api=sha-0123456789ab@sha256:<64 hex> --status pending --json",
  ],
  async run({ values, io }) {
    const m = await engines();
    const { target, environment: declared } = pushTarget(values, io, recordUsage, values.env);
    const { env, file } = environment(m, values.env, recordUsage);
    const sourceSha = values["source-sha"];
    if (sourceSha === undefined || !SHA.test(sourceSha)) throw usageError(`--source-sha ${sourceSha === undefined ? "is required" : `${JSON.stringify(sourceSha)} is not a commit SHA`}`, recordUsage);
    const gitopsCommit = values["gitops-commit"];
    if (gitopsCommit !== undefined && !SHA.test(gitopsCommit)) throw usageError(`--gitops-commit ${JSON.stringify(gitopsCommit)} is not a commit SHA`, recordUsage);
    const status = oneOf("--status", values.status, ["pending", "verified", "failed"] as const, recordUsage);
    const images = m.imagesFrom(values.set, recordUsage);
    const migrations = values.migrations === undefined ? undefined : m.migrationsFrom(io, "--migrations", values.migrations);
    const scan = values.scan === undefined ? undefined : m.scanFrom(io, values.scan);
    const max = keep(m, io, values.config);
    const { push, result } = await m.changeLedger(
      { ...target, images: [], policies: [], options: { helmKeyPaths: [] }, sourceSha, messageTemplate: `chore(ledger): record ${env} release of ${sourceSha.slice(0, 12)} (${status})` },
      file,
      env,
      (ledger) => {
        const added = m.appendEntry(
          ledger,
          { sourceSha, images, ...(declared ? { path: declared.gitops.path } : {}), ...(gitopsCommit ? { gitopsCommit } : {}), ...(migrations ? { migrations } : {}), ...(scan ? { scan } : {}), status },
          max,
          new Date(),
        );
        return { ledger: added.ledger, result: added.entry };
      },
    );
    printResult(io, values.json, { environment: env, entry: result, ...push }, () => pushedText(env, `recorded release ${result.id} (${status})`, push, target.branch));
    return EXIT.ok;
  },
});

export const ledgerMark = defineCommand({
  path: ["ledger", "mark"],
  summary: "Set a recorded release's status to verified or failed (after rollout verify)",
  usage: markUsage,
  options: { ...PUSH_OPTIONS, env: { type: "string" }, id: { type: "string" }, status: { type: "string", value: "verified|failed" } },
  examples: ["slipway ledger mark --env prod --id 7 --status verified"],
  async run({ values, io }) {
    const m = await engines();
    const { target } = pushTarget(values, io, markUsage, values.env);
    const { env, file } = environment(m, values.env, markUsage);
    const id = values.id;
    if (id === undefined) throw usageError("--id is required", markUsage);
    const status = oneOf("--status", values.status, ["verified", "failed"] as const, markUsage);
    const { push, result } = await m.changeLedger(
      { ...target, images: [], policies: [], options: { helmKeyPaths: [] }, messageTemplate: `chore(ledger): mark ${env} release ${id} ${status}` },
      file,
      env,
      (ledger) => {
        const marked = m.setStatus(ledger, id, status);
        return { ledger: marked, result: marked.entries.find((e) => e.id === id) as LedgerEntry };
      },
    );
    printResult(io, values.json, { environment: env, entry: result, ...push }, () => pushedText(env, `release ${id} is ${status}`, push, target.branch));
    return EXIT.ok;
  },
});

export const ledgerShow = defineCommand({
  path: ["ledger", "show"],
  summary: "Print an environment's release ledger, newest last",
  usage: showUsage,
  options: { ...PUSH_OPTIONS, env: { type: "string" } },
  examples: ["slipway ledger show --env prod", "slipway ledger show --repo https://github.com/org/gitops.git --branch main --env prod --json"],
  async run({ values, io }) {
    // Reading only: not the bump engine, the rollback planner or the record inputs that engines() loads.
    const [{ readLedger }, m] = await Promise.all([import("./git.js"), import("./ledger.js")]);
    const { target } = pushTarget(values, io, showUsage, values.env);
    const { env, file } = environment(m, values.env, showUsage);
    const { ledger, head } = await readLedger(target, file, env);
    printResult(io, values.json, { ...ledger, commit: head }, () => m.renderEntries(ledger, painter(io)));
    return EXIT.ok;
  },
});

export const rollbackCommand = defineCommand({
  path: ["rollback"],
  summary: "Return an environment to an earlier verified release from the ledger: prints the plan first (Git, migrations, registry), then one new commit, never a force-push",
  usage: rollbackUsage,
  options: {
    ...PUSH_OPTIONS,
    env: { type: "string" },
    to: { type: "string", value: "ID", describe: "the ledger release to return to", defaultText: "the verified release before the current one" },
    path: { type: "string" },
    "dry-run": { type: "boolean", describe: "print the plan; push nothing" },
    force: { type: "boolean" },
  },
  examples: ["slipway rollback --env prod --dry-run", "slipway rollback --env prod", "slipway rollback --env prod --to 4 --json"],
  async run({ values, io }) {
    const m = await engines();
    const { target, gitops, environment: declared } = pushTarget(values, io, rollbackUsage, values.env);
    const { env, file } = environment(m, values.env, rollbackUsage);
    if (values.force && values.to === undefined) throw usageError("--force needs --to ID: it only allows returning to a release that was never verified, named on purpose", rollbackUsage);
    const max = keep(m, io, values.config);
    const dryRun = values["dry-run"] === true;
    // An environment of slipway.yaml edits only its own folder (a prod rollback never rewrites dev).
    const path = declared ? m.folderWithin(declared, values.path) : (values.path ?? gitops.path);
    const bumpInput = { path, policies: [], options: formatOptions(gitops), allowMissing: false };

    // 1. The plan, from the branch tip: the ledger, and the bump run in that scratch clone without a push.
    const { ledger, head, plan, record } = await m.inLedgerClone(target, file, env, async ({ dir, ledger, head }) => {
      const plan = m.planRollback(ledger, values.to, values.force === true);
      const record = plan.alreadyAt ? null : (await m.bump({ ...bumpInput, root: dir, images: plan.target.images.map((i) => ({ ...i })), dryRun: true })).record;
      return { ledger, head, plan, record };
    });
    const registryPolicy = commandConfig(io, values.config).config.environments?.[env]?.rollback?.registry;
    const migrate = commandConfig(io, values.config).config.migrate;
    const view = m.describeRollback({ environment: env, branch: target.branch, path: path ?? "", head, ledger, ledgerFile: file, plan, record, ...(registryPolicy ? { registryPolicy } : {}), ...(migrate ? { migrate } : {}) });
    if (dryRun || plan.alreadyAt) {
      printResult(io, values.json, { environment: env, dryRun, alreadyAt: plan.alreadyAt, commit: head, pushed: false, restored: plan.target, abandoned: plan.abandoned, plan: view }, () =>
        m.renderRollbackPlan(view, dryRun),
      );
      return EXIT.ok;
    }
    if (!values.json) io.stdout(m.renderRollbackPlan(view, false));

    // 2. The commit: the same bump and the ledger change, pushed with fetch/retry; refused if the ledger moved.
    const abandonedIds = plan.abandoned.map((e) => e.id);
    const { push, result } = await m.changeLedger(
      {
        ...target,
        ...bumpInput,
        images: plan.target.images.map((i) => ({ ...i })),
        sourceSha: plan.target.sourceSha,
        messageTemplate: `revert(${env}): roll back to release ${plan.target.id}${plan.forced ? ` (FORCED: it is ${plan.target.status})` : ""}, abandoning release${abandonedIds.length === 1 ? "" : "s"} ${abandonedIds.join(", ") || "none"}\n\n{{changes}}`,
      },
      file,
      env,
      (current) => {
        const applied = m.applyRollback(current, plan, max, new Date());
        return { ledger: applied.ledger, result: applied.entry };
      },
    );
    printResult(io, values.json, { environment: env, dryRun: false, alreadyAt: false, ...push, restored: plan.target, entry: result, abandoned: plan.abandoned, plan: view }, () => {
      const lines = [
        "",
        "DONE:",
        push.pushed ? `  pushed ${push.commit} to ${target.branch} (attempt ${push.attempts})` : `  no commit needed (${push.commit})`,
        `  restored release ${plan.target.id} as release ${result.id} (pending until verified)`,
        `  ${abandonedIds.length === 1 ? "release" : "releases"} ${abandonedIds.join(", ") || "(none)"} rolled-back`,
        "  Steps 2 to 4 of the plan are yours to do.",
      ];
      return `${lines.join("\n")}\n`;
    });
    return EXIT.ok;
  },
});

export const LEDGER_COMMANDS = [ledgerRecord, ledgerMark, ledgerShow, rollbackCommand];
