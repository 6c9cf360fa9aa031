import { migrateLockTimeout, migrateTargetNotApplied, migrateTransactionOverride, migrateUnknownApplied, migrateUnknownMigration } from "../errors.js";
import { compensate, probe, type Existed } from "./compensate.js";
import { classifySql, isPlainIdentifier, type DestructiveKind } from "./destructive.js";
import { describeTarget, loadDataSource, type DatabaseTarget, type LoadedDataSource } from "./load.js";
import { lockFor, lockName, type LockHolder, type MigrationLock } from "./lock.js";
import { maskSecrets } from "../cli/secrets.js";
import type { TransactionMode } from "./schema.js";
import type { MigrationExecutor, MigrationRecord, QueryRunner } from "./typeorm.js";

export interface CapturedStatement {
  sql: string;
  ok: boolean;
  error?: string;
}

export interface Finding {
  migration: string;
  kind: DestructiveKind;
  table: string;
  column?: string;
  statement: string;
}

export interface SafetyReport {
  policy: "warn" | "block";
  /** Migrations whose up() ran in the rolled-back trial. */
  analysed: string[];
  notAnalysed: { migration: string; reason: string }[];
  findings: Finding[];
  /** up() failed in the trial: the real run will very likely fail the same way. */
  trialFailures: { migration: string; error: string }[];
}

/** What one migration's down() would do, found by running it in a transaction that is rolled back. */
export interface RevertCheck {
  migration: string;
  /** Statements its down() sent in the trial. */
  statements: number;
  /** Destructive statements, each with whether the table (or column) held data just before it ran. */
  findings: Array<Finding & { holdsData: boolean | null }>;
  /** Why the down() cannot be trusted as it is: none, empty, not checked, or it failed when tried. */
  problem: { kind: "missing-down" | "empty-down" | "not-checked" | "fails-when-tried"; reason: string } | null;
  /** It destroys data or could not be checked: the revert stops unless it is allowed. */
  blocks: boolean;
  /** Allowed by `migrate.services.<name>.allowDestructiveRevert` (true or a list naming it) or `--allow-destructive-revert`. */
  allowed: boolean;
}

export interface RevertSafety {
  /** Newest first, as they would be reverted. */
  migrations: RevertCheck[];
  /** Migrations that block and are not allowed: when any, nothing is reverted. */
  blocked: string[];
}

export interface AppliedMigration {
  name: string;
  timestamp: number;
  id?: number;
}

export interface MigrationState {
  /** In the database, oldest first. */
  applied: AppliedMigration[];
  /** In the code, not in the database, oldest first. */
  pending: string[];
  /** In the database but not in the code: a newer release ran here. */
  unknownApplied: string[];
}

export interface Interrupted {
  migration: string;
  since: string;
  /** "running": started outside a transaction and never finished; "partial": failed and left statements applied. */
  state: "running" | "partial";
  statements?: number;
}

export interface StatusReport {
  action: "status";
  database: DatabaseTarget;
  migrationsTable: string;
  applied: AppliedMigration[];
  pending: string[];
  unknownApplied: string[];
  newerReleaseRan: boolean;
  lock: { supported: boolean; holders: LockHolder[] };
  interrupted: Interrupted | null;
}

export interface Failure {
  migration: string;
  phase: "up" | "down";
  error: string;
  statements: CapturedStatement[];
}

export interface RunReport {
  action: "run" | "revert";
  status: "applied" | "reverted" | "nothing-to-do" | "dry-run" | "failed" | "blocked";
  dryRun: boolean;
  database: DatabaseTarget;
  migrationsTable: string;
  transaction: TransactionMode;
  lock: "acquired" | "unsupported";
  /** What this run set out to apply (run) or revert (revert), in execution order. */
  planned: string[];
  /** run: migrations this run applied and that stay applied. */
  applied: string[];
  /** run: migrations this run applied and then reverted after a failure; revert: what was reverted. */
  reverted: string[];
  failure: Failure | null;
  /** A down() that failed while undoing a failed run: the database is not back where it started. */
  revertFailure: Failure | null;
  /**
   * Inverse statements run to undo what the failed migration did outside a transaction, in the order
   * run (newest first), e.g. `DROP TABLE "public"."audit"` for its `CREATE TABLE "audit" (...)`.
   */
  compensated: string[];
  /** IF NOT EXISTS statements of the failed migration that found their object already there: left alone. */
  preexisting: string[];
  /** Statements of the failed migration that ran outside a transaction and stay applied, oldest first. */
  residue: string[];
  /** The statement where compensation stopped, and why it could not be undone. */
  compensationStopped: { statement: string; reason: string } | null;
  /** True when the database is as it was before this run (after a failure), or the run succeeded. */
  clean: boolean;
  safety: SafetyReport | null;
  /** revert: what each down() would do, checked before anything is reverted. */
  revertSafety?: RevertSafety;
  /** revert: the planned migrations still applied at the end, newest first (all of them when blocked). */
  left?: string[];
  final: MigrationState;
  startedAt: string;
  finishedAt: string;
}

/** The CLI's live status line (../cli/status.ts): a text while a wait lasts, null when it ends. */
type Status = (text: string | null) => void;

export interface RunOptions {
  /** The live status line, told while the lock is held by another run. */
  status?: Status;
  transaction: TransactionMode;
  destructive: "warn" | "block";
  lockTimeout: number;
  dryRun: boolean;
  to?: string;
  count?: number;
}

/** Drivers whose DDL is transactional, so an up() can be tried and rolled back. */
const TRANSACTIONAL_DDL = new Set(["postgres", "sqlite", "better-sqlite3", "sqljs", "mssql"]);

interface Session {
  loaded: LoadedDataSource;
  queryRunner: QueryRunner;
  executor: MigrationExecutor;
  lock: MigrationLock | null;
  table: string;
  capture: Capture;
}

/**
 * Records the SQL a migration sends through its query runner, and lets a probe run before each
 * statement. TypeORM's schema helpers (createTable, dropColumn...) also go through `query`, so raw SQL
 * and helpers are both seen. A migration that bypasses its query runner (dataSource.query) is not.
 */
interface Capture {
  log: CapturedStatement[] | null;
  /** The unmasked SQL of each entry of `log` when set: compensation builds inverses from it, never reports it. */
  raw: string[] | null;
  before: ((sql: string) => Promise<void>) | null;
}

function message(error: unknown, secrets: readonly string[]): string {
  const e = error as { message?: unknown; code?: unknown; detail?: unknown } | null;
  let text = typeof e?.message === "string" ? e.message : String(error);
  if (typeof e?.code === "string" && /^[0-9A-Z]{5}$/.test(e.code)) text += ` (SQLSTATE ${e.code})`;
  if (typeof e?.detail === "string" && e.detail) text += `: ${e.detail}`;
  return maskSecrets(text.split("\n")[0] ?? text, secrets);
}

function migrationsTableOf(options: Record<string, unknown>): string {
  const name = typeof options.migrationsTableName === "string" ? options.migrationsTableName : "migrations";
  return typeof options.schema === "string" ? `${options.schema}.${name}` : name;
}

async function open(dataSourcePath: string, databaseUrl: string | undefined): Promise<Session> {
  const loaded = await loadDataSource(dataSourcePath, databaseUrl);
  const queryRunner = loaded.dataSource.createQueryRunner();
  await queryRunner.connect();
  const capture: Capture = { log: null, raw: null, before: null };
  const original = queryRunner.query.bind(queryRunner);
  queryRunner.query = async (sql: string, parameters?: unknown[], structured?: boolean) => {
    const { log, raw } = capture;
    if (log && capture.before) {
      const before = capture.before;
      // The probe's own queries are not the migration's: capture is off while it runs.
      capture.log = null;
      capture.raw = null;
      try {
        await before(sql);
      } finally {
        capture.log = log;
        capture.raw = raw;
      }
    }
    try {
      const result = await original(sql, parameters, structured);
      // The report goes to the release ledger: the database password never does, even inside SQL.
      log?.push({ sql: maskSecrets(sql, loaded.secrets), ok: true });
      if (log) raw?.push(sql);
      return result;
    } catch (error) {
      log?.push({ sql: maskSecrets(sql, loaded.secrets), ok: false, error: message(error, loaded.secrets) });
      if (log) raw?.push(sql);
      throw error;
    }
  };
  const executor = new loaded.typeorm.MigrationExecutor(loaded.dataSource, queryRunner);
  const table = migrationsTableOf(loaded.dataSource.options);
  const lock = lockFor(loaded.dataSource.options.type, queryRunner, lockName(table));
  return { loaded, queryRunner, executor, lock, table, capture };
}

async function close(session: Session): Promise<void> {
  await session.queryRunner.release().catch(() => undefined);
  await session.loaded.dataSource.destroy().catch(() => undefined);
}

async function state(session: Session): Promise<{ state: MigrationState; code: MigrationRecord[] }> {
  const code = await session.executor.getAllMigrations();
  const executed = (await session.executor.getExecutedMigrations()).slice().sort((a, b) => (a.id ?? 0) - (b.id ?? 0));
  const known = new Set(code.map((m) => m.name));
  const done = new Set(executed.map((m) => m.name));
  return {
    code,
    state: {
      applied: executed.map((m) => ({ name: m.name, timestamp: m.timestamp, ...(m.id === undefined ? {} : { id: m.id }) })),
      pending: code.filter((m) => !done.has(m.name)).map((m) => m.name),
      unknownApplied: executed.filter((m) => !known.has(m.name)).map((m) => m.name),
    },
  };
}

// ---- interruption marker ---------------------------------------------------------------------------
// A migration that runs outside a transaction can be cut short (a killed process, a lost connection)
// and leave part of its statements applied while the migrations table says it is pending. So before
// such a migration we write a note in the migrations table's COMMENT (PostgreSQL only; autocommitted,
// no table of our own) and clear it when the migration finishes; `status` reads it back.

const MARK_PREFIX = "slipway-migrate:";

async function setMark(session: Session, mark: Interrupted | null): Promise<void> {
  if (session.loaded.dataSource.options.type !== "postgres") return;
  const text = mark ? `${MARK_PREFIX}${JSON.stringify(mark)}` : null;
  const table = session.table
    .split(".")
    .map((p) => `"${p.replaceAll('"', '""')}"`)
    .join(".");
  await session.queryRunner.query(`COMMENT ON TABLE ${table} IS ${text === null ? "NULL" : `'${text.replaceAll("'", "''")}'`}`);
}

async function readMark(session: Session): Promise<Interrupted | null> {
  if (session.loaded.dataSource.options.type !== "postgres") return null;
  const rows = (await session.queryRunner.query("SELECT obj_description(to_regclass($1), 'pg_class') AS note", [session.table])) as { note: string | null }[];
  const note = rows[0]?.note;
  if (!note?.startsWith(MARK_PREFIX)) return null;
  try {
    return JSON.parse(note.slice(MARK_PREFIX.length)) as Interrupted;
  } catch {
    return null;
  }
}

// ---- status ----------------------------------------------------------------------------------------

export async function status(dataSourcePath: string, databaseUrl: string | undefined): Promise<StatusReport> {
  const session = await open(dataSourcePath, databaseUrl);
  try {
    const { state: s } = await state(session);
    const holders = session.lock ? await session.lock.holders() : [];
    const mark = await readMark(session);
    return {
      action: "status",
      database: session.loaded.target,
      migrationsTable: session.table,
      applied: s.applied,
      pending: s.pending,
      unknownApplied: s.unknownApplied,
      newerReleaseRan: s.unknownApplied.length > 0,
      lock: { supported: session.lock !== null, holders },
      // A mark with the lock still held is a run in progress, not an interruption.
      interrupted: mark && holders.length === 0 ? mark : null,
    };
  } finally {
    await close(session);
  }
}

// ---- transactions ----------------------------------------------------------------------------------

/** Whether one migration runs in its own transaction, with TypeORM's per-migration override rules. */
function ownTransaction(mode: TransactionMode, migration: MigrationRecord): boolean {
  const override = migration.instance?.transaction;
  if (mode === "all") return false;
  if (override !== undefined) return override;
  return mode === "each";
}

async function inTransaction<T>(queryRunner: QueryRunner, use: boolean, work: () => Promise<T>): Promise<T> {
  if (!use) return work();
  await queryRunner.startTransaction();
  try {
    const result = await work();
    await queryRunner.commitTransaction();
    return result;
  } catch (error) {
    await queryRunner.rollbackTransaction().catch(() => undefined);
    throw error;
  }
}

async function step(session: Session, migration: MigrationRecord, phase: "up" | "down", log: CapturedStatement[], raw: string[] | null = null): Promise<void> {
  const instance = migration.instance;
  if (!instance) throw new Error(`migration ${migration.name} has no class in the code`);
  await session.queryRunner.beforeMigration();
  session.capture.log = log;
  session.capture.raw = raw;
  try {
    await (phase === "up" ? instance.up(session.queryRunner) : instance.down(session.queryRunner));
  } finally {
    session.capture.log = null;
    session.capture.raw = null;
  }
  await session.queryRunner.afterMigration();
  if (phase === "up") await session.executor.insertMigration(migration);
  else await session.executor.deleteMigration(migration);
}

// ---- safety trial ----------------------------------------------------------------------------------

/**
 * Runs the up() of each pending migration inside one transaction that is always rolled back, records
 * the SQL each issues, and classifies it. Statements that add NOT NULL without a default are checked
 * against the table's rows just before they run (a later statement of the same trial may fill it).
 */
async function trial(session: Session, pending: MigrationRecord[], policy: "warn" | "block"): Promise<SafetyReport> {
  const report: SafetyReport = { policy, analysed: [], notAnalysed: [], findings: [], trialFailures: [] };
  const type = session.loaded.dataSource.options.type;
  if (!TRANSACTIONAL_DDL.has(type)) {
    report.notAnalysed = pending.map((m) => ({ migration: m.name, reason: `${type} commits DDL immediately, so up() cannot be tried and rolled back` }));
    return report;
  }
  const queryRunner = session.queryRunner;
  let log: CapturedStatement[] = [];
  // Indexes (in `log`) of NOT NULL statements that met a table with rows just before they ran.
  let filled = new Set<number>();
  session.capture.before = async (sql) => {
    for (const f of classifySql(sql)) {
      if (!f.needsRows || !isPlainIdentifier(f.rawTable)) continue;
      const rows = (await queryRunner.query(`SELECT 1 AS x FROM ${f.rawTable} LIMIT 1`)) as unknown[];
      if (rows.length > 0) filled.add(log.length);
    }
  };
  await queryRunner.startTransaction();
  try {
    for (const [index, migration] of pending.entries()) {
      if (migration.instance?.transaction === false) {
        for (const rest of pending.slice(index)) {
          report.notAnalysed.push({
            migration: rest.name,
            reason: rest === migration ? "it opts out of transactions (transaction = false)" : `it comes after ${migration.name}, which could not be tried`,
          });
        }
        break;
      }
      log = [];
      filled = new Set();
      session.capture.log = log;
      try {
        await migration.instance?.up(queryRunner);
      } catch (error) {
        report.findings.push(...findingsOf(migration.name, log, filled));
        report.trialFailures.push({ migration: migration.name, error: message(error, session.loaded.secrets) });
        for (const rest of pending.slice(index + 1)) report.notAnalysed.push({ migration: rest.name, reason: `it comes after ${migration.name}, which failed` });
        break;
      } finally {
        session.capture.log = null;
      }
      report.findings.push(...findingsOf(migration.name, log, filled));
      report.analysed.push(migration.name);
    }
  } finally {
    session.capture.before = null;
    await queryRunner.rollbackTransaction();
  }
  return report;
}

/** Findings in statement order; a NOT NULL one counts only if the probe saw rows (`filled`). */
function findingsOf(migration: string, log: CapturedStatement[], filled: Set<number>): Finding[] {
  return log.flatMap((statement, index) =>
    classifySql(statement.sql)
      .filter((f) => !f.needsRows || filled.has(index))
      .map((f) => ({ migration, kind: f.kind, table: f.table, ...(f.column ? { column: f.column } : {}), statement: statement.sql.trim() })),
  );
}

// ---- run -------------------------------------------------------------------------------------------

function select(code: MigrationRecord[], candidates: MigrationRecord[], to?: string, count?: number): MigrationRecord[] {
  if (to !== undefined) {
    if (!code.some((m) => m.name === to)) throw migrateUnknownMigration("--to", to, code.map((m) => m.name));
    const at = candidates.findIndex((m) => m.name === to);
    return at < 0 ? [] : candidates.slice(0, at + 1);
  }
  if (count !== undefined) return candidates.slice(0, count);
  return candidates;
}

async function withLock<T>(session: Session, { lockTimeout: timeout, status }: { lockTimeout: number; status?: Status }, work: () => Promise<T>): Promise<T> {
  const target = describeTarget(session.loaded.target);
  const waiting = () => status?.(`migrate: waiting for the migration lock on ${target}, held by another run (up to ${timeout}s)`);
  const acquired = session.lock ? await session.lock.acquire(timeout, waiting).finally(() => status?.(null)) : true;
  if (!acquired) throw migrateLockTimeout(timeout, target);
  try {
    return await work();
  } finally {
    await session.lock?.release().catch(() => undefined);
  }
}

/** A report before anything ran: nothing applied or reverted, nothing to clean up. */
function newReport(
  action: RunReport["action"],
  session: Session,
  options: { dryRun: boolean; transaction: TransactionMode },
  planned: string[],
  final: MigrationState,
  startedAt: string,
): RunReport {
  return {
    action,
    status: "nothing-to-do",
    dryRun: options.dryRun,
    database: session.loaded.target,
    migrationsTable: session.table,
    transaction: options.transaction,
    lock: session.lock ? "acquired" : "unsupported",
    planned,
    applied: [],
    reverted: [],
    failure: null,
    revertFailure: null,
    compensated: [],
    preexisting: [],
    residue: [],
    compensationStopped: null,
    clean: true,
    safety: null,
    final,
    startedAt,
    finishedAt: "",
  };
}

export async function run(dataSourcePath: string, databaseUrl: string | undefined, options: RunOptions): Promise<RunReport> {
  const startedAt = new Date().toISOString();
  const session = await open(dataSourcePath, databaseUrl);
  try {
    const { code } = await state(session);
    // Validate the target before waiting for the lock: a typo fails at once.
    select(code, [], options.to);
    return await withLock(session, options, async () => {
      // Pending is computed under the lock: a run that waited sees what the other run applied.
      const { state: locked } = await state(session);
      const pendingNames = new Set(locked.pending);
      const pending = select(code, code.filter((m) => pendingNames.has(m.name)), options.to, options.count);
      const report = newReport("run", session, options, pending.map((m) => m.name), locked, startedAt);
      if (pending.length === 0) return { ...report, finishedAt: new Date().toISOString() };
      if (options.transaction === "all") {
        const overriding = pending.filter((m) => m.instance?.transaction !== undefined).map((m) => m.name);
        if (overriding.length > 0) throw migrateTransactionOverride(overriding);
      }
      if (!options.dryRun) await session.executor.createMigrationsTableIfNotExist(session.queryRunner);
      report.safety = await trial(session, pending, options.destructive);
      if (options.dryRun) return { ...report, status: "dry-run", finishedAt: new Date().toISOString() };
      if (options.destructive === "block" && (report.safety.findings.length > 0 || report.safety.trialFailures.length > 0)) {
        return { ...report, status: "blocked", finishedAt: new Date().toISOString() };
      }
      await apply(session, pending, options.transaction, report);
      report.final = (await state(session)).state;
      report.finishedAt = new Date().toISOString();
      return report;
    });
  } finally {
    await close(session);
  }
}

async function apply(session: Session, pending: MigrationRecord[], mode: TransactionMode, report: RunReport): Promise<void> {
  const queryRunner = session.queryRunner;
  const done: MigrationRecord[] = [];
  let failed: { migration: MigrationRecord; error: unknown; log: CapturedStatement[]; raw: string[]; existed: Map<number, Existed>; own: boolean } | null = null;
  const postgres = session.loaded.dataSource.options.type === "postgres";
  if (mode === "all") await queryRunner.startTransaction();
  for (const migration of pending) {
    const own = ownTransaction(mode, migration);
    const log: CapturedStatement[] = [];
    const raw: string[] = [];
    // Outside a transaction, what an IF NOT EXISTS statement finds already there must not be undone:
    // the catalog is asked just before each such statement (keyed by its index in `log`).
    const existed = new Map<number, Existed>();
    const outside = mode !== "all" && !own;
    try {
      if (outside) await setMark(session, { migration: migration.name, since: new Date().toISOString(), state: "running" });
      if (outside && postgres) {
        session.capture.before = async (sql) => {
          const found = await probe(sql, (q, p) => queryRunner.query(q, p));
          if (found) existed.set(log.length, found);
        };
      }
      try {
        await inTransaction(queryRunner, own, () => step(session, migration, "up", log, raw));
      } finally {
        session.capture.before = null;
      }
      if (outside) await setMark(session, null);
      done.push(migration);
    } catch (error) {
      failed = { migration, error, log, raw, existed, own: own || mode === "all" };
      break;
    }
  }
  if (mode === "all") {
    if (failed) await queryRunner.rollbackTransaction().catch(() => undefined);
    else await queryRunner.commitTransaction();
  }
  if (!failed) {
    report.status = "applied";
    report.applied = done.map((m) => m.name);
    return;
  }
  report.status = "failed";
  report.failure = { migration: failed.migration.name, phase: "up", error: message(failed.error, session.loaded.secrets), statements: failed.log };
  // Without a transaction, the statements that succeeded before the failing one stay applied unless
  // compensation can undo them (PostgreSQL); the down() of a migration that did not finish is never
  // run, since it may drop what existed before the run (e.g. after CREATE TABLE IF NOT EXISTS).
  if (!failed.own) await compensateFailed(session, failed, report);
  if (report.residue.length > 0) {
    await setMark(session, { migration: failed.migration.name, since: new Date().toISOString(), state: "partial", statements: report.residue.length }).catch(() => undefined);
  } else if (!failed.own) {
    await setMark(session, null).catch(() => undefined);
  }
  if (mode === "all") {
    // The one transaction rolled back: nothing this run did remains.
    report.applied = [];
    report.reverted = done.map((m) => m.name).reverse();
    report.clean = true;
    return;
  }
  // Revert exactly what this run applied, newest first, each with the same transaction rule.
  const reverted: string[] = [];
  for (const migration of done.slice().reverse()) {
    const log: CapturedStatement[] = [];
    try {
      await inTransaction(queryRunner, ownTransaction(mode, migration), () => step(session, migration, "down", log));
      reverted.push(migration.name);
    } catch (error) {
      report.revertFailure = { migration: migration.name, phase: "down", error: message(error, session.loaded.secrets), statements: log };
      break;
    }
  }
  report.reverted = reverted;
  report.applied = done.map((m) => m.name).filter((n) => !reverted.includes(n));
  report.clean = report.residue.length === 0 && report.revertFailure === null;
}

async function compensateFailed(
  session: Session,
  failed: { log: CapturedStatement[]; raw: string[]; existed: Map<number, Existed> },
  report: RunReport,
): Promise<void> {
  if (session.loaded.dataSource.options.type !== "postgres") {
    report.residue = failed.log.filter((s) => s.ok).map((s) => s.sql.trim());
    if (report.residue.length > 0) {
      report.compensationStopped = {
        statement: report.residue[report.residue.length - 1] as string,
        reason: `compensation is implemented for PostgreSQL only, not ${session.loaded.dataSource.options.type}`,
      };
    }
    return;
  }
  const secrets = session.loaded.secrets;
  const executed = failed.log.map((s, k) => ({ sql: failed.raw[k] ?? s.sql, ok: s.ok, ...(failed.existed.has(k) ? { existed: failed.existed.get(k) } : {}) }));
  const result = await compensate(executed, (sql, parameters) => session.queryRunner.query(sql, parameters), {
    mask: (text) => maskSecrets(text, secrets),
    error: (error) => message(error, secrets),
  });
  report.compensated = result.compensated;
  report.preexisting = result.preexisting;
  report.residue = result.residue;
  report.compensationStopped = result.stopped;
}

// ---- revert ----------------------------------------------------------------------------------------

export interface RevertOptions {
  /** The live status line, told while the lock is held by another run. */
  status?: Status;
  transaction: TransactionMode;
  lockTimeout: number;
  dryRun: boolean;
  to?: string;
  count?: number;
  /** Revert even down()s that destroy data or cannot be checked: all of them (true) or those named. */
  allowDestructive?: boolean | string[];
}

/** Kinds that lose what the table or column holds; renames (reversible) are reported, never blocking. */
const LOSES_DATA = new Set<DestructiveKind>(["drop-table", "drop-column", "truncate", "delete-rows", "type-change"]);

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * Does the table (or the column) hold data right now? Asked just before the statement runs in the
 * trial, so an earlier down() of the same revert is taken into account. Inside a savepoint: a probe
 * that fails (a table an `IF EXISTS` drop does not find) must not abort the trial's transaction.
 * null: the probe could not tell, which blocks (fail closed).
 */
async function holdsData(queryRunner: QueryRunner, type: string, f: { kind: DestructiveKind; rawTable: string; column?: string }): Promise<boolean | null> {
  if (!isPlainIdentifier(f.rawTable)) return null;
  const sql =
    f.kind === "drop-column" && f.column !== undefined
      ? `SELECT 1 AS x FROM ${f.rawTable} WHERE ${quoteIdent(f.column)} IS NOT NULL LIMIT 1`
      : `SELECT 1 AS x FROM ${f.rawTable} LIMIT 1`;
  const savepoint = type === "postgres" || type === "sqlite" || type === "better-sqlite3" || type === "sqljs";
  if (savepoint) await queryRunner.query("SAVEPOINT slipway_probe");
  try {
    const rows = (await queryRunner.query(sql)) as unknown[];
    if (savepoint) await queryRunner.query("RELEASE SAVEPOINT slipway_probe");
    return rows.length > 0;
  } catch {
    if (savepoint) await queryRunner.query("ROLLBACK TO SAVEPOINT slipway_probe").catch(() => undefined);
    return null;
  }
}

/**
 * Runs the down() of every migration to revert, newest first, in ONE transaction that is always rolled
 * back (as `trial` does for up()), recording each one's SQL: what a revert would drop, truncate or delete,
 * and whether that held data just before; a down() that is missing, sends no SQL, or fails. A migration
 * that opts out of transactions (or a driver whose DDL commits at once) cannot be tried: it and every one
 * after it are "not checked".
 */
async function revertTrial(session: Session, migrations: MigrationRecord[], allow: boolean | string[] | undefined): Promise<RevertSafety> {
  const checks: RevertCheck[] = [];
  const type = session.loaded.dataSource.options.type;
  const queryRunner = session.queryRunner;
  const allowed = (name: string) => allow === true || (Array.isArray(allow) && allow.includes(name));
  const add = (migration: string, statements: number, findings: RevertCheck["findings"], problem: RevertCheck["problem"]) => {
    const blocks = problem !== null || findings.some((f) => LOSES_DATA.has(f.kind) && f.holdsData !== false);
    checks.push({ migration, statements, findings, problem, blocks, allowed: blocks && allowed(migration) });
  };
  let stop: string | null = TRANSACTIONAL_DDL.has(type) ? null : `${type} commits DDL immediately, so down() cannot be tried and rolled back`;
  let log: CapturedStatement[] = [];
  // Per statement index of `log`: the data each destructive finding of that statement met.
  let met = new Map<number, Array<boolean | null>>();
  if (stop === null) {
    session.capture.before = async (sql) => {
      const found: Array<boolean | null> = [];
      for (const f of classifySql(sql, { rowChanges: true })) found.push(LOSES_DATA.has(f.kind) ? await holdsData(queryRunner, type, f) : false);
      met.set(log.length, found);
    };
    await queryRunner.startTransaction();
  }
  try {
    for (const migration of migrations) {
      if (stop !== null) {
        add(migration.name, 0, [], { kind: "not-checked", reason: stop });
        continue;
      }
      if (typeof migration.instance?.down !== "function") {
        add(migration.name, 0, [], { kind: "missing-down", reason: "it has no down(): TypeORM cannot revert it" });
        stop = `it comes after ${migration.name}, which has no down()`;
        continue;
      }
      if (migration.instance.transaction === false) {
        add(migration.name, 0, [], { kind: "not-checked", reason: "it opts out of transactions (transaction = false), so its down() cannot be tried and rolled back" });
        stop = `it comes after ${migration.name}, which could not be tried`;
        continue;
      }
      log = [];
      met = new Map();
      session.capture.log = log;
      let failed: string | null = null;
      try {
        await migration.instance.down(queryRunner);
      } catch (error) {
        failed = message(error, session.loaded.secrets);
      } finally {
        session.capture.log = null;
      }
      const findings = log.flatMap((statement, index) =>
        classifySql(statement.sql, { rowChanges: true }).map((f, k) => ({
          migration: migration.name,
          kind: f.kind,
          table: f.table,
          ...(f.column ? { column: f.column } : {}),
          statement: statement.sql.trim(),
          holdsData: met.get(index)?.[k] ?? null,
        })),
      );
      if (failed !== null) {
        add(migration.name, log.length, findings, { kind: "fails-when-tried", reason: `its down() failed in a rolled-back transaction: ${failed}` });
        stop = `it comes after ${migration.name}, whose down() failed when tried`;
        continue;
      }
      add(migration.name, log.length, findings, log.length === 0 ? { kind: "empty-down", reason: "its down() sends no SQL: reverting it would only forget it was applied, and leave what its up() did" } : null);
    }
  } finally {
    session.capture.before = null;
    if (TRANSACTIONAL_DDL.has(type)) await queryRunner.rollbackTransaction();
  }
  return { migrations: checks, blocked: checks.filter((c) => c.blocks && !c.allowed).map((c) => c.migration) };
}

export async function revert(dataSourcePath: string, databaseUrl: string | undefined, options: RevertOptions): Promise<RunReport> {
  const startedAt = new Date().toISOString();
  const session = await open(dataSourcePath, databaseUrl);
  try {
    const { code } = await state(session);
    if (options.to !== undefined && !code.some((m) => m.name === options.to)) {
      throw migrateUnknownMigration("--to", options.to, code.map((m) => m.name));
    }
    return await withLock(session, options, async () => {
      const { state: s } = await state(session);
      const names = s.applied.map((m) => m.name);
      let targets: string[];
      if (options.to !== undefined) {
        const at = names.indexOf(options.to);
        if (at < 0) throw migrateTargetNotApplied(options.to, names);
        targets = names.slice(at + 1).reverse();
      } else {
        targets = names.slice(Math.max(0, names.length - (options.count ?? 0))).reverse();
      }
      const unknown = targets.filter((n) => s.unknownApplied.includes(n));
      if (unknown.length > 0) throw migrateUnknownApplied(unknown);
      const byName = new Map(code.map((m) => [m.name, m]));
      const migrations = targets.map((n) => byName.get(n) as MigrationRecord);
      const report: RunReport = {
        ...newReport("revert", session, options, targets, s, startedAt),
        status: targets.length === 0 ? "nothing-to-do" : options.dryRun ? "dry-run" : "reverted",
        left: targets.slice(),
      };
      if (targets.length === 0) return { ...report, finishedAt: new Date().toISOString() };
      // Checked under the lock, before anything is reverted: a down() that destroys data or cannot be
      // checked stops the whole revert unless allowed (issue 12).
      report.revertSafety = await revertTrial(session, migrations, options.allowDestructive);
      if (options.dryRun) return { ...report, finishedAt: new Date().toISOString() };
      if (report.revertSafety.blocked.length > 0) return { ...report, status: "blocked", finishedAt: new Date().toISOString() };
      const queryRunner = session.queryRunner;
      if (options.transaction === "all") await queryRunner.startTransaction();
      const reverted: string[] = [];
      for (const migration of migrations) {
        const log: CapturedStatement[] = [];
        const own = ownTransaction(options.transaction, migration);
        try {
          await inTransaction(queryRunner, own, () => step(session, migration, "down", log));
          reverted.push(migration.name);
        } catch (error) {
          report.status = "failed";
          report.failure = { migration: migration.name, phase: "down", error: message(error, session.loaded.secrets), statements: log };
          if (options.transaction !== "all" && !own) report.residue = log.filter((l) => l.ok).map((l) => l.sql.trim());
          break;
        }
      }
      if (options.transaction === "all") {
        if (report.failure) {
          await queryRunner.rollbackTransaction().catch(() => undefined);
          reverted.length = 0;
        } else await queryRunner.commitTransaction();
      }
      report.reverted = reverted;
      report.left = targets.filter((n) => !reverted.includes(n));
      report.clean = report.residue.length === 0;
      report.final = (await state(session)).state;
      report.finishedAt = new Date().toISOString();
      return report;
    });
  } finally {
    await close(session);
  }
}
