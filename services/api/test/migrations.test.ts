import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { DataSource, MigrationInterface } from "typeorm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDataSource, migrations } from "../src/data-source.js";
import { startPostgres } from "./support/postgres.js";
import type { TestPostgres } from "./support/postgres.js";

const migrationsDir = path.join(path.dirname(fileURLToPath(import.meta.url)), "../src/migrations");
const migrationNames = migrations.map((Migration) => new Migration().name as string);

describe("services/api migrations", () => {
  it("registers every migration file, in timestamp order, with the file's timestamp in its name", () => {
    const fileTimestamps = fs
      .readdirSync(migrationsDir)
      .filter((file) => /^\d{13}-.+\.ts$/.test(file))
      .map((file) => file.slice(0, 13))
      .sort();
    const nameTimestamps = migrationNames.map((name) => name.slice(-13));

    // A file missing from the list would silently never run.
    expect(nameTimestamps).toEqual(fileTimestamps);
    expect(migrationNames).toEqual(["CreateCustomers1795305600000", "CreateOrders1795309200000", "AddOrderStatus1795356000000"]);
  });

  describe("against PostgreSQL", () => {
    let postgres: TestPostgres;

    beforeAll(async () => {
      postgres = await startPostgres();
    });

    afterAll(async () => {
      await postgres?.stop();
    });

    it("each down() restores exactly the schema its up() started from", async () => {
      const dataSource = await connect(await postgres.createDatabase("up_down"));
      const queryRunner = dataSource.createQueryRunner();
      try {
        for (const Migration of migrations) {
          const migration: MigrationInterface = new Migration();
          const before = await schemaOf(dataSource);
          await migration.up(queryRunner);
          const after = await schemaOf(dataSource);
          expect(after, `${migration.name} up() changes nothing`).not.toEqual(before);

          await migration.down(queryRunner);
          expect(await schemaOf(dataSource), `${migration.name} down()`).toEqual(before);

          // Leave it applied so the next migration starts from the schema it expects.
          await migration.up(queryRunner);
          expect(await schemaOf(dataSource)).toEqual(after);
        }
      } finally {
        await queryRunner.release();
        await dataSource.destroy();
      }
    });

    it("gives orders that exist before AddOrderStatus the status 'pending', and reverting keeps the orders", async () => {
      const url = await postgres.createDatabase("backfill");
      const dataSource = await connect(url);
      try {
        await dataSource.runMigrations();
        await dataSource.undoLastMigration();
        expect(await columnsOf(dataSource, "orders")).not.toContain("status");

        const [customer] = (await dataSource.query(
          `INSERT INTO customers (email, name) VALUES ('ada@example.com', 'Ada') RETURNING id`,
        )) as { id: string }[];
        await dataSource.query(`INSERT INTO orders (customer_id, sku, quantity) VALUES ($1, 'SKU-1', 1), ($1, 'SKU-2', 2)`, [
          customer?.id,
        ]);

        const applied = await dataSource.runMigrations();
        expect(applied.map((migration) => migration.name)).toEqual(["AddOrderStatus1795356000000"]);
        expect(await dataSource.query(`SELECT sku, status FROM orders ORDER BY sku`)).toEqual([
          { sku: "SKU-1", status: "pending" },
          { sku: "SKU-2", status: "pending" },
        ]);
        // The constraint holds for rows written after the migration.
        await expect(dataSource.query(`UPDATE orders SET status = 'lost'`)).rejects.toThrow(/orders_status_check/);

        await dataSource.undoLastMigration();
        expect(await columnsOf(dataSource, "orders")).not.toContain("status");
        expect(await dataSource.query(`SELECT sku, quantity FROM orders ORDER BY sku`)).toEqual([
          { sku: "SKU-1", quantity: 1 },
          { sku: "SKU-2", quantity: 2 },
        ]);
      } finally {
        await dataSource.destroy();
      }
    });

    it("reverts every migration back to an empty schema, recording each step in the migrations table", async () => {
      const dataSource = await connect(await postgres.createDatabase("revert_all"));
      try {
        await dataSource.runMigrations();
        expect(await appliedNames(dataSource)).toEqual(migrationNames);
        for (let remaining = migrations.length; remaining > 0; remaining -= 1) {
          await dataSource.undoLastMigration();
          expect(await appliedNames(dataSource)).toEqual(migrationNames.slice(0, remaining - 1));
        }
        expect(await schemaOf(dataSource)).toEqual({ columns: [], constraints: [], indexes: [] });
      } finally {
        await dataSource.destroy();
      }
    });

    it("builds the schema the entities describe: TypeORM finds nothing to change", async () => {
      const dataSource = await connect(await postgres.createDatabase("drift"));
      try {
        await dataSource.runMigrations();
        const pending = await dataSource.driver.createSchemaBuilder().log();
        expect(pending.upQueries.map((query) => query.query)).toEqual([]);
      } finally {
        await dataSource.destroy();
      }
    });
  });
});

async function connect(url: string): Promise<DataSource> {
  return createDataSource(url).initialize();
}

async function appliedNames(dataSource: DataSource): Promise<string[]> {
  const rows = (await dataSource.query(`SELECT name FROM migrations ORDER BY timestamp`)) as { name: string }[];
  return rows.map((row) => row.name);
}

async function columnsOf(dataSource: DataSource, table: string): Promise<string[]> {
  const rows = (await dataSource.query(
    `SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1`,
    [table],
  )) as { column_name: string }[];
  return rows.map((row) => row.column_name);
}

/** The application's schema, leaving out TypeORM's own migrations table. */
async function schemaOf(dataSource: DataSource): Promise<{ columns: unknown[]; constraints: unknown[]; indexes: unknown[] }> {
  const columns = await dataSource.query(`
    SELECT table_name, column_name, data_type, is_nullable, column_default
    FROM information_schema.columns
    WHERE table_schema = 'public' AND table_name <> 'migrations'
    ORDER BY table_name, column_name`);
  const constraints = await dataSource.query(`
    SELECT conrelid::regclass::text AS table_name, conname, pg_get_constraintdef(oid) AS definition
    FROM pg_constraint
    WHERE connamespace = 'public'::regnamespace AND conrelid::regclass::text <> 'migrations'
    ORDER BY table_name, conname`);
  const indexes = await dataSource.query(`
    SELECT tablename, indexname, indexdef FROM pg_indexes
    WHERE schemaname = 'public' AND tablename <> 'migrations'
    ORDER BY tablename, indexname`);
  return { columns, constraints, indexes };
}

