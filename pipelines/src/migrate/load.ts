import { existsSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve, sep } from "node:path";
import { pathToFileURL } from "node:url";
import { globSync } from "tinyglobby";
import {
  migrateDataSourceLoadFailed,
  migrateDataSourceNotFound,
  migrateDatabaseTimeout,
  migrateDatabaseUnreachable,
  migrateMigrationsInvalid,
  migrateNoDataSource,
  migrateTypeormNotFound,
} from "../errors.js";
import { maskSecrets, registerSecret, registerUrlCredentials } from "../cli/secrets.js";
import { checkDatabaseUrl } from "./url.js";
import type { DataSource, DataSourceOptions, MigrationInstance, TypeormModule } from "./typeorm.js";
import { checkInputFile } from "../cli/paths.js";
import { parseDuration } from "../rollout/duration.js";

export interface LoadedDataSource {
  dataSource: DataSource;
  typeorm: TypeormModule;
  /** Where we connect, for messages and reports: never the password. */
  target: DatabaseTarget;
  /** Values that must never appear in output (passwords). */
  secrets: string[];
  /** The DataSource file as given. */
  file: string;
}

export interface DatabaseTarget {
  type: string;
  host?: string;
  port?: number;
  database?: string;
  user?: string;
}

export function describeTarget(target: DatabaseTarget): string {
  const where = target.host ? `${target.host}${target.port ? `:${target.port}` : ""}` : "(driver default host)";
  return `${target.type} ${where}${target.database ? `/${target.database}` : ""}`;
}

/**
 * The service's own `typeorm`, resolved from the DataSource file the way the file itself resolves it, so
 * the MigrationExecutor and the DataSource instance come from the same copy. A CommonJS `require` and
 * the ESM entry of typeorm 0.3 share one module instance (index.mjs re-exports index.js).
 */
function serviceTypeorm(file: string): TypeormModule {
  const require = createRequire(file);
  let resolved: string;
  try {
    resolved = require.resolve("typeorm");
  } catch {
    throw migrateTypeormNotFound(file);
  }
  const typeorm = require(resolved) as Partial<TypeormModule>;
  if (typeof typeorm.MigrationExecutor !== "function" || typeof typeorm.InstanceChecker?.isDataSource !== "function") {
    throw migrateTypeormNotFound(file);
  }
  return typeorm as TypeormModule;
}

/**
 * How TypeORM's CLI loads `-d FILE` (typeorm src/util/ImportUtils.ts `importOrRequireFile`): `.mjs`/`.mts`
 * with import(), `.cjs`/`.cts` with require(); `.js`/`.ts` by the nearest package.json's `"type"`
 * ("module": import(), anything else or none: require()); any other extension with require().
 * require() matters: Node's import() of a CommonJS file exposes `module.exports` as `default`, so tsc's
 * `exports.default = dataSource` (how NestJS projects ship) would hide the DataSource one level down.
 */
export function moduleKind(file: string): "esm" | "commonjs" {
  const extension = file.slice(file.lastIndexOf(".") + 1);
  if (extension === "mjs" || extension === "mts") return "esm";
  if (extension !== "js" && extension !== "ts") return "commonjs";
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest) && statSync(manifest).isFile()) {
      try {
        return (JSON.parse(readFileSync(manifest, "utf8")) as { type?: unknown } | null)?.type === "module" ? "esm" : "commonjs";
      } catch {
        // TypeORM treats an unreadable package.json as none: CommonJS.
        return "commonjs";
      }
    }
    if (dirname(dir) === dir) return "commonjs";
  }
}

function firstLine(error: unknown): string {
  return error instanceof Error ? (error.message.split("\n")[0] ?? "") : String(error);
}

/**
 * Finds the DataSource among a module's exports with the rule of TypeORM's CLI `-d`
 * (src/commands/CommandUtils.ts `loadDataSource`): the module itself (`module.exports = dataSource`), else
 * every export, a promise awaited, must yield exactly one DataSource. One difference, on purpose: the same
 * instance exported under two names (`export const AppDataSource = ...; export default AppDataSource`)
 * counts once here, where TypeORM refuses it as "more than one"; it is the same DataSource either way.
 */
async function pickDataSource(file: string, exports: unknown, typeorm: TypeormModule): Promise<DataSource> {
  if (typeorm.InstanceChecker.isDataSource(exports)) return exports as DataSource;
  const record = exports !== null && typeof exports === "object" ? (exports as Record<string, unknown>) : {};
  const found = new Map<unknown, string[]>();
  for (const key of Object.keys(record)) {
    let value = record[key];
    if (value instanceof Promise) {
      try {
        value = await value;
      } catch (error) {
        throw migrateDataSourceLoadFailed(file, `its export ${JSON.stringify(key)} is a promise that rejected: ${firstLine(error)}`);
      }
    }
    if (!typeorm.InstanceChecker.isDataSource(value)) continue;
    found.set(value, [...(found.get(value) ?? []), key]);
  }
  if (found.size !== 1) {
    const names = (found.size === 0 ? Object.keys(record).filter((k) => k !== "__esModule") : [...found.values()].flat()).sort();
    throw migrateNoDataSource(file, names, found.size);
  }
  return [...found.keys()][0] as DataSource;
}

function targetOf(options: DataSourceOptions): { target: DatabaseTarget; secrets: string[] } {
  const secrets: string[] = [];
  if (typeof options.password === "string" && options.password) secrets.push(options.password);
  const target: DatabaseTarget = { type: options.type };
  if (typeof options.host === "string") target.host = options.host;
  if (typeof options.port === "number") target.port = options.port;
  if (typeof options.database === "string") target.database = options.database;
  if (typeof options.username === "string") target.user = options.username;
  if (typeof options.url === "string") {
    try {
      const url = new URL(options.url);
      if (url.password) secrets.push(url.password, decodeURIComponent(url.password));
      if (url.hostname) target.host = url.hostname;
      if (url.port) target.port = Number(url.port);
      if (url.pathname.length > 1) target.database = decodeURIComponent(url.pathname.slice(1));
      if (url.username) target.user = decodeURIComponent(url.username);
    } catch {
      // TypeORM will report the malformed URL when connecting; keep it out of our messages entirely.
      secrets.push(options.url);
    }
  }
  return { target, secrets };
}

/**
 * Loads the service's DataSource and connects. `databaseUrl` (DATABASE_URL) replaces the DataSource's
 * connection settings. Whatever the service configured, we never let TypeORM synchronize the schema,
 * drop it, or run migrations on connect, and we silence its query logging (our output is the report).
 */
export async function loadDataSource(path: string, databaseUrl: string | undefined): Promise<LoadedDataSource> {
  const file = resolve(path);
  checkInputFile("DataSource file", path, file, () => migrateDataSourceNotFound(path));
  const typeorm = serviceTypeorm(file);
  // Known before the module runs: a module that throws (or logs) with the URL in its text is masked too.
  registerUrlCredentials(databaseUrl);
  let exports: unknown;
  try {
    exports = moduleKind(file) === "esm" ? await import(pathToFileURL(file).href) : createRequire(file)(file);
  } catch (error) {
    throw migrateDataSourceLoadFailed(path, maskSecrets(firstLine(error)));
  }
  const declared = await pickDataSource(path, exports, typeorm);
  const options: DataSourceOptions = {
    ...declared.options,
    ...(databaseUrl ? { url: databaseUrl } : {}),
    synchronize: false,
    dropSchema: false,
    migrationsRun: false,
    logging: false,
    // Names our session in pg_stat_activity (shown by `status` as the lock holder) unless the service names its own.
    ...(declared.options.type === "postgres" && declared.options.applicationName === undefined ? { applicationName: "slipway migrate" } : {}),
    // node-postgres waits forever for a server that takes the connection and never answers (its
    // connectionTimeoutMillis defaults to 0, and it ignores connect_timeout in a URL): bound it unless the
    // DataSource sets its own. mysql2 (10 s) and tedious (15 s) have defaults already.
    ...(isNodePostgres(declared.options.type) && (declared.options as { connectTimeoutMS?: number }).connectTimeoutMS === undefined
      ? { connectTimeoutMS: defaultConnectTimeoutMs() }
      : {}),
  } as DataSourceOptions;
  if (databaseUrl) checkDatabaseUrl(databaseUrl, options.type, "DATABASE_URL");
  else if (typeof options.url === "string") checkDatabaseUrl(options.url, options.type, `the \`url\` of the DataSource in ${JSON.stringify(path)}`);
  const { target, secrets } = targetOf(options);
  // The DataSource's own password (not only DATABASE_URL's) is masked in everything the process writes.
  secrets.forEach(registerSecret);
  // A fresh instance of the service's own DataSource class: the exported one may already be in use and
  // its driver was built from the options it was created with.
  const DataSourceClass = declared.constructor as new (options: DataSourceOptions) => DataSource;
  let dataSource: DataSource;
  try {
    dataSource = new DataSourceClass(options);
  } catch (error) {
    throw migrateDataSourceLoadFailed(path, maskSecrets(firstLine(error), secrets));
  }
  try {
    await dataSource.initialize();
  } catch (error) {
    const reason = maskSecrets(firstLine(error), secrets);
    if (isTimeout(error)) throw migrateDatabaseTimeout(describeTarget(target), reason);
    if (isConnectionError(error)) throw migrateDatabaseUnreachable(describeTarget(target), reason);
    await dataSource.destroy().catch(() => undefined);
    throw migrateDataSourceLoadFailed(path, reason);
  }
  const problems = migrationProblems(dataSource.migrations);
  if (problems.length > 0) {
    await dataSource.destroy().catch(() => undefined);
    const sources = await migrationSources(file, declared.options.migrations);
    throw migrateMigrationsInvalid(
      path,
      problems.map((p) => {
        const classes = [...new Set(p.instances.map((m) => m.constructor.name))];
        const files = [...new Set(classes.flatMap((c) => (c ? (sources.get(c) ?? []) : [])))];
        return { kind: p.kind, name: p.name, count: p.instances.length, files: files.length > 0 ? files : [`listed in ${path}`] };
      }),
    );
  }
  return { dataSource, typeorm, target, secrets, file: path };
}

const CONNECT_TIMEOUT_MS = 30_000;

function isNodePostgres(type: unknown): boolean {
  return type === "postgres";
}

/** SLIPWAY_DB_CONNECT_TIMEOUT (a duration such as 2m) for a DataSource that sets no connectTimeoutMS. */
function defaultConnectTimeoutMs(): number {
  return parseDuration(process.env.SLIPWAY_DB_CONNECT_TIMEOUT ?? "") ?? CONNECT_TIMEOUT_MS;
}

export interface MigrationProblem {
  kind: "no-timestamp" | "duplicate";
  name: string;
  instances: MigrationInstance[];
}

/**
 * TypeORM's own checks of the migration list (MigrationExecutor.getMigrations and
 * checkForDuplicateMigrations), made before anything runs so that they name the migration and its file
 * instead of surfacing as a bare TypeORMError: the name is the `name` property or else the class name, its
 * last 13 characters must parse as a JavaScript timestamp, and no two migrations may share a name.
 */
export function migrationProblems(migrations: readonly MigrationInstance[]): MigrationProblem[] {
  const problems: MigrationProblem[] = [];
  const byName = new Map<string, MigrationInstance[]>();
  for (const migration of migrations) {
    const name = migration.name || migration.constructor.name;
    const timestamp = parseInt(name.substring(name.length - 13), 10);
    if (!timestamp || isNaN(timestamp)) problems.push({ kind: "no-timestamp", name, instances: [migration] });
    byName.set(name, [...(byName.get(name) ?? []), migration]);
  }
  for (const [name, instances] of byName) if (instances.length > 1) problems.push({ kind: "duplicate", name, instances });
  return problems;
}

/**
 * The files that export a class of each name, for error messages: the CommonJS modules loaded so far
 * (require's cache holds what TypeORM required for globs and what the DataSource required), and the files
 * the DataSource's glob patterns match, imported again. By class name, not identity: a second module
 * loader (a test runner's) may hold its own copies of the classes.
 */
async function migrationSources(file: string, declared: unknown): Promise<Map<string, string[]>> {
  const sources = new Map<string, string[]>();
  const note = (exports: unknown, where: string) => {
    const values = typeof exports === "function" ? [exports] : exports !== null && typeof exports === "object" ? Object.values(exports) : [];
    for (const value of values) {
      if (typeof value !== "function" || !value.name) continue;
      const files = sources.get(value.name) ?? [];
      if (!files.includes(where)) sources.set(value.name, [...files, where]);
    }
  };
  // Only the service's own modules: the folder of its package.json, without node_modules.
  let root = dirname(file);
  while (!existsSync(join(root, "package.json")) && dirname(root) !== root) root = dirname(root);
  const cache = createRequire(file).cache;
  for (const module of Object.values(cache)) {
    if (!module || !module.filename.startsWith(root + sep) || module.filename.slice(root.length).split(sep).includes("node_modules")) continue;
    note(module.exports, module.filename);
  }
  const patterns = Array.isArray(declared) ? declared.filter((p): p is string => typeof p === "string") : [];
  for (const match of patterns.flatMap((p) => globSync(p.replace(/\\/g, "/"), { absolute: true }))) {
    if (moduleKind(match) !== "esm") continue;
    try {
      note(await import(pathToFileURL(match).href), match);
    } catch {
      // Only for naming the file in a message.
    }
  }
  return sources;
}

/**
 * A connect timeout: node-postgres' own messages (pg-pool `newClient`: "Connection terminated due to
 * connection timeout"; pg Client `_connect`: "timeout expired"; pg-pool: "timeout exceeded when trying to
 * connect"), which carry no code, or a socket's ETIMEDOUT (mysql2 sets it on its connect timeout).
 */
function isTimeout(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  if (e?.code === "ETIMEDOUT") return true;
  return typeof e?.message === "string" && /^(Connection terminated due to connection timeout|timeout expired|timeout exceeded when trying to connect)/.test(e.message);
}

/**
 * Network errors (Node's errno codes) and the SQLSTATE classes of "could not get a session": 08
 * connection exception, 28 invalid authorization, 3D000 unknown database, 57P03 cannot connect now.
 * Anything else from initialize() is a problem of the DataSource itself (entities, migrations).
 */
function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  // pg's "the server closed the connection before answering": no code.
  if (typeof code !== "string") return typeof (error as { message?: unknown } | null)?.message === "string" && /^Connection terminated/.test((error as { message: string }).message);
  return /^E[A-Z]+$/.test(code) || /^(08|28)/.test(code) || code === "3D000" || code === "57P03" || code.startsWith("ER_ACCESS") || code === "ER_BAD_DB_ERROR";
}
