import type { DataSource } from "typeorm";

export type Readiness =
  | { ready: true }
  | { ready: false; reason: "database-not-connected" | "database-error"; message: string }
  | { ready: false; reason: "migrations-pending"; pending: string[] };

/**
 * Whether this instance should receive traffic: the database answers, and every
 * migration this build ships has been applied. The second check keeps a new image from
 * serving before `slipway migrate` has run, which would otherwise fail on missing columns.
 */
export async function checkReadiness(dataSource: DataSource, timeoutMs = 2_000): Promise<Readiness> {
  if (!dataSource.isInitialized) {
    return { ready: false, reason: "database-not-connected", message: "the database connection is not established yet" };
  }
  try {
    const pending = await withTimeout(
      (async () => {
        await dataSource.query("SELECT 1");
        return pendingMigrations(dataSource);
      })(),
      timeoutMs,
    );
    if (pending.length > 0) return { ready: false, reason: "migrations-pending", pending };
    return { ready: true };
  } catch (error) {
    return { ready: false, reason: "database-error", message: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Names of the migrations this build knows but the database has not recorded, in order.
 * Read-only on purpose: TypeORM's showMigrations() would CREATE the migrations table,
 * which a readiness probe must not do (and the runtime role may not be allowed to).
 */
export async function pendingMigrations(dataSource: DataSource): Promise<string[]> {
  const table = dataSource.options.migrationsTableName ?? "migrations";
  const known = dataSource.migrations.map((migration) => migration.name ?? migration.constructor.name);
  const [{ exists }] = (await dataSource.query("SELECT to_regclass($1) IS NOT NULL AS exists", [table])) as [
    { exists: boolean },
  ];
  if (!exists) return known;
  const rows = (await dataSource.query(`SELECT "name" FROM "${table}"`)) as { name: string }[];
  const applied = new Set(rows.map((row) => row.name));
  return known.filter((name) => !applied.has(name));
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from the database within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
