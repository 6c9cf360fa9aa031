import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { registerSecret, registerUrlCredentials } from "../cli/secrets.js";
import { defineCommand, type Io } from "../cli/command.js";
import { commandConfig, printResult } from "../cli/output.js";
import { EXIT, migrateDatabaseUrlMissing, migrateDestructiveBlocked, migrateRevertDestructive, migrateRevertFailed, migrateRunFailed, unknownServices, usageError, type ExitCode } from "../errors.js";
import type { RunReport } from "./engine.js";
import type * as Engine from "./engine.js";
import type * as Render from "./render.js";
import type * as Services from "../plan/services.js";
import { MIGRATE_DEFAULTS, TRANSACTION_MODES } from "./constants.js";

const common = {
  "data-source": { type: "string", value: "PATH", describe: "the service's compiled TypeORM DataSource module", defaultText: "migrate.services.<--service>.dataSource in slipway.yaml, else the service's dist/data-source.js" },
  service: { type: "string", describe: "the service, as `slipway plan` lists it (its DataSource and slipway.yaml settings)" },
  json: { type: "boolean" },
  config: { type: "string", defaultText: "slipway.yaml in --source, if any" },
  source: { type: "string" },
} as const;

const changing = {
  ...common,
  to: { type: "string", value: "NAME", describe: "run: stop after this migration; revert: revert down to it (it stays applied)" },
  count: { type: "string", value: "N", describe: "run: apply at most N; revert: revert the last N" },
  transaction: { type: "string", value: "all|each|none", describe: "one transaction for the run, one per migration, or none", defaultText: `migrate.transaction in slipway.yaml, else ${MIGRATE_DEFAULTS.transaction}` },
  "dry-run": { type: "boolean", describe: "report what would be applied or reverted; change nothing" },
  "lock-timeout": { type: "string", value: "SECONDS", describe: "wait this long for another run's advisory lock", defaultText: `migrate.lockTimeout in slipway.yaml, else ${MIGRATE_DEFAULTS.lockTimeout}` },
} as const;

const reverting = {
  ...changing,
  "allow-destructive-revert": {
    type: "boolean",
    describe: "revert even down()s that destroy data (drop a table or column holding data, truncate, delete rows) or cannot be checked (missing, empty, fail when tried)",
    defaultText: "migrate.services.<--service>.allowDestructiveRevert in slipway.yaml, else stop before anything is reverted",
  },
} as const;

const FLAGS = "(--data-source PATH | --service NAME) [--to NAME | --count N] [--transaction all|each|none] [--dry-run] [--lock-timeout SECONDS] [--config FILE] [--source DIR] [--json]";
const statusUsage = "slipway migrate status (--data-source PATH | --service NAME) [--config FILE] [--source DIR] [--json]";
const runUsage = `slipway migrate run ${FLAGS}`;
const revertUsage = `slipway migrate revert ${FLAGS.replace("[--to NAME | --count N]", "(--to NAME | --count N)").replace("[--dry-run]", "[--dry-run] [--allow-destructive-revert]")}`;

interface Flags {
  "data-source"?: string;
  service?: string;
  json?: boolean;
  config?: string;
  source?: string;
  to?: string;
  count?: string;
  transaction?: string;
  "dry-run"?: boolean;
  "lock-timeout"?: string;
  "allow-destructive-revert"?: boolean;
}

/** slipway.yaml from --config, else the one in --source (default: the working directory). */
function migrateConfig(values: Flags, io: Io) {
  return commandConfig(io, values.config, resolve(io.cwd, values.source ?? ".")).config;
}

/** `migrate.services.<--service>` of slipway.yaml, or nothing. */
function serviceSection(values: Flags, io: Io, usage: string) {
  if (values.service === undefined) return {};
  if (values.service === "") throw usageError("--service needs a service name", usage);
  return migrateConfig(values, io).migrate?.services?.[values.service] ?? {};
}

/** Where a service keeps its compiled DataSource unless slipway.yaml says otherwise (tsc's outDir `dist`). */
export const DEFAULT_DATA_SOURCE = "dist/data-source.js";

/**
 * --data-source (relative to the working directory), else `migrate.services.<--service>.dataSource`
 * (relative to the repository root, --source), else the service's own `dist/data-source.js` (the service
 * found as `slipway plan` finds it).
 */
function dataSourcePath(values: Flags, io: Io, usage: string): string {
  if (values["data-source"] !== undefined && values["data-source"] !== "") return resolve(io.cwd, values["data-source"]);
  const configured = serviceSection(values, io, usage).dataSource;
  const root = resolve(io.cwd, values.source ?? ".");
  if (configured !== undefined) return resolve(root, configured);
  if (values.service !== undefined) {
    const services = modules().discoverServices(root, migrateConfig(values, io));
    const service = services.find((s) => s.name === values.service);
    if (!service) throw unknownServices([values.service], services.map((s) => s.name));
    return resolve(root, service.path, DEFAULT_DATA_SOURCE);
  }
  throw usageError("--data-source or --service is required", usage);
}

/**
 * Flags first, then slipway.yaml `migrate.services.<--service>`, then `migrate:`, then defaults. Every bad
 * flag is a usage error naming it.
 */
function settings(values: Flags, io: Io, usage: string) {
  const config = migrateConfig(values, io);
  const section = { ...config.migrate, ...serviceSection(values, io, usage) };
  if (values.to !== undefined && values.count !== undefined) throw usageError("--to and --count cannot be used together", usage);
  if (values.to === "") throw usageError("--to needs a migration name", usage);
  let count: number | undefined;
  if (values.count !== undefined) {
    if (!/^[1-9][0-9]{0,5}$/.test(values.count)) throw usageError(`--count ${JSON.stringify(values.count)} is not a positive whole number`, usage);
    count = Number(values.count);
  }
  let transaction = section.transaction ?? MIGRATE_DEFAULTS.transaction;
  if (values.transaction !== undefined) {
    const mode = TRANSACTION_MODES.find((m) => m === values.transaction);
    if (mode === undefined) throw usageError(`--transaction ${JSON.stringify(values.transaction)} is not one of all, each, none`, usage);
    transaction = mode;
  }
  let lockTimeout = section.lockTimeout ?? MIGRATE_DEFAULTS.lockTimeout;
  if (values["lock-timeout"] !== undefined) {
    if (!/^[0-9]{1,4}$/.test(values["lock-timeout"]) || Number(values["lock-timeout"]) > 3600) {
      throw usageError(`--lock-timeout ${JSON.stringify(values["lock-timeout"])} is not a number of seconds between 0 and 3600`, usage);
    }
    lockTimeout = Number(values["lock-timeout"]);
  }
  return {
    transaction,
    lockTimeout,
    ...(io.status ? { status: io.status } : {}),
    destructive: section.destructive ?? MIGRATE_DEFAULTS.destructive,
    allowDestructive: values["allow-destructive-revert"] === true ? true : (section.allowDestructiveRevert ?? false),
    dryRun: values["dry-run"] === true,
    ...(values.to === undefined ? {} : { to: values.to }),
    ...(count === undefined ? {} : { count }),
  };
}

/**
 * The engine (TypeORM's loader), the renderers and service discovery: loaded by `load()` when a command
 * runs, not with this module, which `--help` also loads (issue 16).
 */
let loaded: (typeof Engine & typeof Render & typeof Services) | undefined;

async function load(): Promise<void> {
  const [engine, render, services] = await Promise.all([import("./engine.js"), import("./render.js"), import("../plan/services.js")]);
  loaded = { ...engine, ...render, ...services };
}

function modules(): NonNullable<typeof loaded> {
  if (loaded === undefined) throw new Error("migrate: load() before modules()");
  return loaded;
}

function emit(report: RunReport, json: boolean | undefined, io: Io, service?: string): ExitCode {
  const { renderFinding, renderRevertCheck, renderRun } = modules();
  printResult(io, json, report, () => renderRun(report));
  if (report.status === "blocked" && report.revertSafety) {
    const blocked = report.revertSafety.blocked;
    throw migrateRevertDestructive(blocked, report.revertSafety.migrations.filter((c) => blocked.includes(c.migration)).flatMap(renderRevertCheck), service);
  }
  if (report.status === "blocked" && report.safety) {
    throw migrateDestructiveBlocked(report.safety.findings.length + report.safety.trialFailures.length, [
      ...report.safety.findings.map(renderFinding),
      ...report.safety.trialFailures.map((t) => `${t.migration}: fails when tried: ${t.error}`),
    ]);
  }
  if (report.status === "failed" && report.failure) {
    if (report.action === "run") {
      throw migrateRunFailed(
        report.failure.migration,
        report.failure.error,
        report.reverted,
        report.clean,
        { compensated: report.compensated.length, residue: report.residue.length, stopped: report.compensationStopped },
        report.revertFailure
          ? { migration: report.revertFailure.migration, error: report.revertFailure.error, stillApplied: report.applied.slice().reverse() }
          : null,
      );
    }
    throw migrateRevertFailed(report.failure.migration, report.failure.error, report.reverted, report.left);
  }
  return EXIT.ok;
}

/**
 * The database URL: DATABASE_URL, else the `--service`'s line of SLIPWAY_DATABASE_URLS_FILE. A release
 * passes one Secret for every service that migrates (lines `SERVICE=URL`, `#` comments), mounted as a file,
 * instead of a flag per service. Every URL in the file is masked, whichever one is used.
 */
function databaseUrl(values: Flags, io: Io): string | undefined {
  if (io.env.DATABASE_URL) return io.env.DATABASE_URL;
  const file = io.env.SLIPWAY_DATABASE_URLS_FILE;
  if (!file) return undefined;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw migrateDatabaseUrlMissing(values.service ?? "(no --service)", [], "SLIPWAY_DATABASE_URLS_FILE cannot be read");
  }
  const urls = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const at = line.indexOf("=");
    const url = line.slice(at + 1).trim();
    registerUrlCredentials(url);
    registerSecret(url);
    if (at > 0) urls.set(line.slice(0, at).trim(), url);
  }
  const url = values.service === undefined ? undefined : urls.get(values.service);
  if (url === undefined) throw migrateDatabaseUrlMissing(values.service ?? "(no --service)", [...urls.keys()], "it has no line for this service");
  return url;
}

export const migrateStatus = defineCommand({
  path: ["migrate", "status"],
  summary: "Show applied and pending TypeORM migrations, unknown ones, the lock and interrupted runs",
  usage: statusUsage,
  options: common,
  examples: ["DATABASE_URL=postgres://... slipway migrate status --service api", "slipway migrate status --data-source services/api/dist/data-source.js --json"],
  async run({ values, io }) {
    await load();
    const { renderStatus, status } = modules();
    const path = dataSourcePath(values, io, statusUsage);
    // A broken slipway.yaml fails status as it fails run and revert.
    migrateConfig(values, io);
    const report = await status(path, databaseUrl(values, io));
    printResult(io, values.json, report, () => renderStatus(report));
    return EXIT.ok;
  },
});

export const migrateRun = defineCommand({
  path: ["migrate", "run"],
  summary: "Apply pending migrations under a lock; on failure revert what this run applied",
  usage: runUsage,
  options: changing,
  examples: ["DATABASE_URL=postgres://... slipway migrate run --service api --json", "slipway migrate run --service api --dry-run"],
  async run({ values, io }) {
    await load();
    const path = dataSourcePath(values, io, runUsage);
    const options = settings(values, io, runUsage);
    const report = await modules().run(path, databaseUrl(values, io), options);
    return emit(report, values.json, io);
  },
});

export const migrateRevert = defineCommand({
  path: ["migrate", "revert"],
  summary: "Revert applied migrations down to --to NAME (kept) or the last --count N, each in its own transaction",
  usage: revertUsage,
  options: reverting,
  examples: [
    "slipway migrate revert --service api --count 1",
    "slipway migrate revert --service api --to 1700000000002-AddOrderStatus --dry-run   # what each down() would drop, and whether that holds data",
    "slipway migrate revert --service api --to 1700000000002-AddOrderStatus --json",
  ],
  async run({ values, io }) {
    await load();
    const path = dataSourcePath(values, io, revertUsage);
    const options = settings(values, io, revertUsage);
    if (options.to === undefined && options.count === undefined) throw usageError("revert needs --to NAME or --count N", revertUsage);
    const report = await modules().revert(path, databaseUrl(values, io), options);
    return emit(report, values.json, io, values.service);
  },
});

export const MIGRATE_COMMANDS = [migrateStatus, migrateRun, migrateRevert];
