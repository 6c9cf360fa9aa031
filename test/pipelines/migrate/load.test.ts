import { afterAll, describe, expect, it } from "vitest";
import type { RunReport } from "../../../pipelines/src/migrate/engine.js";
import { compileService, plainCli, type CompiledService } from "./compile.js";
import { migrate } from "./harness.js";
import { serverForTests } from "./postgres.js";

/**
 * DataSource modules in the shapes real projects ship, compiled by the project's TypeScript (tsc's own
 * emit: `Object.defineProperty(exports, "__esModule", ...)`, `exports.default = dataSource`), loaded as
 * `typeorm migration:run -d dist/data-source.js` loads them (typeorm src/commands/CommandUtils.ts
 * `loadDataSource`, src/util/ImportUtils.ts `importOrRequireFile`).
 */

// The migration as `typeorm migration:generate` writes it (src/commands/MigrationGenerateCommand.ts getTemplate).
const MIGRATION = `import { MigrationInterface, QueryRunner } from "typeorm";

export class CreateWidget1700000000401 implements MigrationInterface {
    name = 'CreateWidget1700000000401'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(\`CREATE TABLE "widget" ("id" SERIAL NOT NULL, CONSTRAINT "PK_widget" PRIMARY KEY ("id"))\`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(\`DROP TABLE "widget"\`);
    }
}
`;
const IMPORT_MIGRATION = `import { CreateWidget1700000000401 } from "./migrations/1700000000401-CreateWidget.js";\n`;
const OPTIONS = `type: "postgres", url: process.env.DATABASE_URL, migrations: [CreateWidget1700000000401]`;

const LOADABLE: [string, string, ("commonjs" | "esm")[]][] = [
  [
    // NestJS docs' recipe (techniques/database "Migrations"): migrations as a glob next to the compiled file.
    "default export, migrations as a glob (NestJS)",
    `import { DataSource, DataSourceOptions } from "typeorm";
export const dataSourceOptions: DataSourceOptions = {
  type: "postgres",
  url: process.env.DATABASE_URL,
  migrations: [__dirname + "/migrations/*{.ts,.js}"],
};
export default new DataSource(dataSourceOptions);\n`,
    ["commonjs"],
  ],
  [
    // The NestJS recipe: options exported for TypeOrmModule.forRoot, the DataSource as the default export.
    "default export beside exported options (NestJS)",
    `import { DataSource, DataSourceOptions } from "typeorm";\n${IMPORT_MIGRATION}
export const dataSourceOptions: DataSourceOptions = { ${OPTIONS} };
const dataSource = new DataSource(dataSourceOptions);
export default dataSource;\n`,
    ["commonjs", "esm"],
  ],
  [
    // TypeORM's docs (data-source.md, `typeorm init`): `export const AppDataSource = new DataSource({...})`.
    "a named export only (TypeORM docs)",
    `import "reflect-metadata";\nimport { DataSource } from "typeorm";\n${IMPORT_MIGRATION}
export const AppDataSource = new DataSource({ ${OPTIONS} });\n`,
    ["commonjs", "esm"],
  ],
  [
    "named and default export of the same instance, and a helper",
    `import { DataSource } from "typeorm";\n${IMPORT_MIGRATION}
export const AppDataSource = new DataSource({ ${OPTIONS} });
export function getDataSource(): DataSource { return AppDataSource; }
export default AppDataSource;\n`,
    ["commonjs", "esm"],
  ],
  [
    // An async factory: TypeORM's CLI awaits exported promises.
    "a default export that is a promise of a DataSource",
    `import { DataSource } from "typeorm";\n${IMPORT_MIGRATION}
export default (async () => new DataSource({ ${OPTIONS} }))();\n`,
    ["commonjs", "esm"],
  ],
  [
    // `export =` compiles to `module.exports = dataSource`: the module itself is the DataSource.
    "export = dataSource",
    `import { DataSource } from "typeorm";\n${IMPORT_MIGRATION}
const dataSource = new DataSource({ ${OPTIONS} });
export = dataSource;\n`,
    ["commonjs"],
  ],
];

const REFUSED: [string, string, string][] = [
  [
    "two different DataSources",
    `import { DataSource } from "typeorm";\n${IMPORT_MIGRATION}
export const primary = new DataSource({ ${OPTIONS} });
export const replica = new DataSource({ ${OPTIONS} });
export default primary;\n`,
    `exports 2 different DataSource instances ("default", "primary", "replica")`,
  ],
  [
    "only the options",
    `import { DataSourceOptions } from "typeorm";\n${IMPORT_MIGRATION}
export const dataSourceOptions: DataSourceOptions = { ${OPTIONS} };\n`,
    `does not export a TypeORM DataSource (exports: "dataSourceOptions")`,
  ],
];

const { server } = await serverForTests();
const services: CompiledService[] = [];
// Plain Node, as in the toolkit image: vitest's and tsx's module interop would hide the CommonJS case.
const cli = plainCli();
afterAll(async () => {
  cli.remove();
  for (const s of services) s.remove();
  await server?.stop();
});

let databases = 0;
function compiled(module: "commonjs" | "esm", dataSource: string): string {
  const service = compileService(module, { "src/data-source.ts": dataSource, "src/migrations/1700000000401-CreateWidget.ts": MIGRATION });
  services.push(service);
  return service.out("src/data-source.ts");
}

describe.skipIf(!server)("pipelines/src/migrate/load: compiled DataSource modules (PostgreSQL)", () => {
  const pg = server as NonNullable<typeof server>;

  const loadable = LOADABLE.flatMap(([name, source, modules]) => modules.map((module) => [module, name, source] as const));
  it.each(loadable)("%s, %s: migrate run applies its migration", async (module, _name, source) => {
    const url = await pg.database(`load${++databases}`);
    const result = await cli.run(["migrate", "run", "--data-source", compiled(module, source), "--json"], { ...process.env, DATABASE_URL: url });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout) as RunReport).toMatchObject({ status: "applied", applied: ["CreateWidget1700000000401"] });
    expect(await pg.query(url, `SELECT to_regclass('widget')::text AS t`)).toEqual([{ t: "widget" }]);
  });

  const refused = REFUSED.flatMap(([name, source, expected]) => (["commonjs", "esm"] as const).map((module) => [module, name, source, expected] as const));
  it.each(refused)("%s, %s: refused, exit 2, nothing applied", async (module, _name, source, expected) => {
    const url = await pg.database(`load${++databases}`);
    const file = compiled(module, source);
    const result = await cli.run(["migrate", "run", "--data-source", file], { ...process.env, DATABASE_URL: url });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`SLIPWAY_MIGRATE_NO_DATA_SOURCE: ${JSON.stringify(file)} ${expected}`);
    expect(await pg.query(url, `SELECT count(*)::int AS n FROM pg_class WHERE relnamespace = 'public'::regnamespace`)).toEqual([{ n: 0 }]);
  });
});

// Hand-written, as people write them before learning TypeORM's naming rule: no `name`, no timestamp.
const NO_TIMESTAMP = `import { MigrationInterface, QueryRunner } from "typeorm";

export class AddIndexes implements MigrationInterface {
    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(\`CREATE INDEX "widget_id" ON "widget" ("id")\`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(\`DROP INDEX "widget_id"\`);
    }
}
`;

describe.skipIf(!server)("pipelines/src/migrate/load: migrations TypeORM refuses (PostgreSQL)", () => {
  const pg = server as NonNullable<typeof server>;

  function service(module: "commonjs" | "esm", sources: Record<string, string>): CompiledService {
    const compiled = compileService(module, sources);
    services.push(compiled);
    return compiled;
  }

  async function refused(file: string) {
    const url = await pg.database(`load${++databases}`);
    const result = await migrate(["migrate", "run", "--data-source", file], { ...process.env, DATABASE_URL: url });
    expect(result.code).toBe(2);
    expect(result.stderr).not.toContain("SLIPWAY_INTERNAL");
    expect(result.stderr).toContain("Nothing was changed.");
    expect(await pg.query(url, `SELECT count(*)::int AS n FROM pg_class WHERE relnamespace = 'public'::regnamespace`)).toEqual([{ n: 0 }]);
    return result.stderr;
  }

  it("a migration class without a timestamp in its name: the class and its file", async () => {
    const svc = service("commonjs", {
      "src/data-source.ts": `import { DataSource } from "typeorm";\n${IMPORT_MIGRATION}import { AddIndexes } from "./migrations/add-indexes.js";
export const AppDataSource = new DataSource({ type: "postgres", url: process.env.DATABASE_URL, migrations: [CreateWidget1700000000401, AddIndexes] });\n`,
      "src/migrations/1700000000401-CreateWidget.ts": MIGRATION,
      "src/migrations/add-indexes.ts": NO_TIMESTAMP,
    });
    const stderr = await refused(svc.out("src/data-source.ts"));
    expect(stderr).toContain(`SLIPWAY_MIGRATE_MIGRATIONS_INVALID: TypeORM refuses the migrations of "${svc.out("src/data-source.ts")}": "AddIndexes" has no timestamp at the end of its name`);
    expect(stderr).toContain(`"AddIndexes": "${svc.out("src/migrations/add-indexes.ts")}". TypeORM reads the timestamp`);
  });

  // A migration file renamed in src/ while the old compiled file stays in dist/ (tsc never deletes outputs),
  // found by the NestJS glob: TypeORM's "Duplicate migrations".
  it.each([
    ["commonjs", `__dirname + "/migrations/*{.ts,.js}"`],
    ["esm", `fileURLToPath(new URL("migrations", import.meta.url)) + "/*.js"`],
  ] as const)("%s: the same migration twice (a stale compiled copy): both files", async (module, glob) => {
    const svc = service(module, {
      "src/data-source.ts": `import { fileURLToPath } from "node:url";\nimport { DataSource } from "typeorm";
export default new DataSource({ type: "postgres", url: process.env.DATABASE_URL, migrations: [${glob}] });\n`,
      "src/migrations/1700000000401-CreateWidget.ts": MIGRATION,
      "src/migrations/1700000000401-create-widget.ts": MIGRATION,
    });
    const stderr = await refused(svc.out("src/data-source.ts"));
    expect(stderr).toContain(`TypeORM refuses the migrations of "${svc.out("src/data-source.ts")}": "CreateWidget1700000000401" is defined 2 times`);
    expect(stderr).toContain(svc.out("src/migrations/1700000000401-CreateWidget.ts"));
    expect(stderr).toContain(svc.out("src/migrations/1700000000401-create-widget.ts"));
  });
});
