import { DataSource } from "typeorm";
import type { PostgresConnectionOptions } from "typeorm/driver/postgres/PostgresConnectionOptions.js";
import { Customer } from "./entities/customer.js";
import { Order } from "./entities/order.js";
import { migrations } from "./migrations/index.js";

export { migrations };
// Classes, not globs, for the same reason as the migrations list.
export const entities = [Customer, Order];

/** Everything the api and its migrations need to reach PostgreSQL, for a given URL. */
export function createDataSource(url: string | undefined, overrides: Partial<PostgresConnectionOptions> = {}): DataSource {
  return new DataSource({
    type: "postgres",
    // Without a URL node-postgres falls back to the libpq PG* variables (PGHOST, ...).
    url,
    entities,
    migrations,
    migrationsTableName: "migrations",
    // Schema changes happen only through migrations, run by `slipway migrate` before rollout.
    synchronize: false,
    migrationsRun: false,
    // gen_random_uuid() is core since PostgreSQL 13: the runtime role needs no CREATE EXTENSION.
    uuidExtension: "pgcrypto",
    installExtensions: false,
    applicationName: "slipway-api",
    connectTimeoutMS: 5_000,
    poolSize: 10,
    // Quiet by default: TypeORM's console logger would write to stdout, which the
    // migrate command reads as JSON. Callers that want logs pass a logger in overrides.
    logging: false,
    ...overrides,
  } as PostgresConnectionOptions);
}

/**
 * The api's DataSource, configured from DATABASE_URL. It is the module's only export that
 * is a DataSource instance, as the TypeORM CLI (`typeorm -d dist/data-source.js`) and
 * `slipway migrate` require. Creating it does not connect.
 */
const dataSource = createDataSource(process.env.DATABASE_URL);
export default dataSource;
