/**
 * The slice of TypeORM 0.3 that we use, typed structurally. We never import "typeorm" ourselves: the
 * service's own copy (resolved from its DataSource file) does the work, so entities, migrations and the
 * driver are exactly those the service ships, whatever 0.3.x patch release it pins.
 */

export interface QueryRunner {
  isTransactionActive: boolean;
  connect(): Promise<unknown>;
  release(): Promise<void>;
  startTransaction(): Promise<void>;
  commitTransaction(): Promise<void>;
  rollbackTransaction(): Promise<void>;
  beforeMigration(): Promise<void>;
  afterMigration(): Promise<void>;
  query(sql: string, parameters?: unknown[], useStructuredResult?: boolean): Promise<unknown>;
}

export interface MigrationInstance {
  name?: string;
  transaction?: boolean;
  up(queryRunner: QueryRunner): Promise<unknown>;
  down(queryRunner: QueryRunner): Promise<unknown>;
}

/** TypeORM's `Migration` record: from the code (instance set) or from the migrations table (id set). */
export interface MigrationRecord {
  id: number | undefined;
  timestamp: number;
  name: string;
  instance?: MigrationInstance;
}

export interface DataSourceOptions {
  type: string;
  url?: string;
  host?: string;
  port?: number;
  username?: string;
  password?: unknown;
  database?: unknown;
  [key: string]: unknown;
}

export interface DataSource {
  readonly options: DataSourceOptions;
  readonly isInitialized: boolean;
  /** Migration instances, built by initialize() from the classes and globs in `options.migrations`. */
  readonly migrations: MigrationInstance[];
  readonly driver: { createSchemaBuilder(): { createMetadataTableIfNecessary?(queryRunner: QueryRunner): Promise<void> } };
  initialize(): Promise<DataSource>;
  destroy(): Promise<void>;
  createQueryRunner(): QueryRunner;
}

/**
 * TypeORM's MigrationExecutor. `createMigrationsTableIfNotExist` is protected in the .d.ts but has been a
 * method of every 0.3.x release; it is the only way to create the migrations table exactly as TypeORM's
 * own CLI does (name, schema and column types from the DataSource options) without running anything.
 */
export interface MigrationExecutor {
  getAllMigrations(): Promise<MigrationRecord[]>;
  getExecutedMigrations(): Promise<MigrationRecord[]>;
  insertMigration(migration: MigrationRecord): Promise<void>;
  deleteMigration(migration: MigrationRecord): Promise<void>;
  createMigrationsTableIfNotExist(queryRunner: QueryRunner): Promise<void>;
}

/** What we take from the service's `typeorm` module. */
export interface TypeormModule {
  MigrationExecutor: new (dataSource: DataSource, queryRunner?: QueryRunner) => MigrationExecutor;
  InstanceChecker: { isDataSource(value: unknown): boolean };
}
