import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { RunReport } from "../../../pipelines/src/migrate/engine.js";
import { compileService } from "./compile.js";
import { migrate } from "./harness.js";
import { serverForTests } from "./postgres.js";

// A repository with one service whose compiled DataSource is at dist/data-source.js, and its slipway.yaml.
const repo = compileService("commonjs", {
  "src/data-source.ts": `import { DataSource } from "typeorm";
class CreateJob1700000000601 { name = "CreateJob1700000000601"; async up(q: any) { await q.query(\`CREATE TABLE "job" ("id" integer)\`); } async down(q: any) { await q.query(\`DROP TABLE "job"\`); } }
export const AppDataSource = new DataSource({ type: "postgres", url: process.env.DATABASE_URL, migrations: [CreateJob1700000000601] });\n`,
});
function config(yaml: string): void {
  writeFileSync(join(repo.dir, "slipway.yaml"), yaml);
}

const { server } = await serverForTests();
afterAll(async () => {
  repo.remove();
  await server?.stop();
});

describe.skipIf(!server)("pipelines/src/migrate/commands: migrate.services in slipway.yaml (PostgreSQL)", () => {
  const pg = server as NonNullable<typeof server>;
  let databases = 0;
  async function env() {
    return { ...process.env, DATABASE_URL: await pg.database(`svc${++databases}`) };
  }

  it.each([
    ["the service's DataSource and transaction mode", "migrate:\n  transaction: each\n  services:\n    jobs:\n      dataSource: dist/data-source.js\n      transaction: none\n", [], "none"],
    ["the global mode when the service sets none", "migrate:\n  transaction: all\n  services:\n    jobs:\n      dataSource: dist/data-source.js\n", [], "all"],
    ["a flag over the service's setting", "migrate:\n  services:\n    jobs:\n      dataSource: dist/data-source.js\n      transaction: none\n", ["--transaction", "all"], "all"],
    // --data-source wins over the configured path (which here does not exist).
    ["--data-source over the configured path", "migrate:\n  services:\n    jobs:\n      dataSource: dist/old.js\n      transaction: none\n", ["--data-source", join(repo.dir, "dist", "data-source.js")], "none"],
  ])("--service jobs uses %s", async (_name, yaml, flags, mode) => {
    config(yaml);
    const result = await migrate(["migrate", "run", "--service", "jobs", "--source", repo.dir, "--json", ...flags], await env());
    expect(result.stderr).toBe("");
    expect(JSON.parse(result.stdout) as RunReport).toMatchObject({ status: "applied", applied: ["CreateJob1700000000601"], transaction: mode });
  });

  it("a service without an entry and no --data-source: the service's own dist/data-source.js (what the Dagger function relies on)", async () => {
    writeFileSync(join(repo.dir, "Dockerfile"), "FROM node:20-bookworm-slim\n");
    config("services: [{ name: jobs, path: . }]\nmigrate:\n  services:\n    api:\n      dataSource: services/api/dist/data-source.js\n");
    const result = await migrate(["migrate", "run", "--service", "jobs", "--source", repo.dir, "--json"], await env());
    expect(result.stderr).toBe("");
    expect(JSON.parse(result.stdout) as RunReport).toMatchObject({ status: "applied", applied: ["CreateJob1700000000601"] });
    const unknown = await migrate(["migrate", "status", "--service", "billing", "--source", repo.dir], await env());
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('SLIPWAY_UNKNOWN_SERVICE: unknown service "billing"');
  });

  it("invalid entries are reported together, with their paths", async () => {
    config("migrate:\n  services:\n    jobs:\n      dataSource: /abs/data-source.js\n      transaction: sometimes\n    Bad_Name:\n      dataSource: x.js\n");
    const result = await migrate(["migrate", "status", "--service", "jobs", "--source", repo.dir], await env());
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("SLIPWAY_CONFIG_INVALID");
    expect(result.stderr).toContain("migrate.services.jobs.dataSource: must be a path relative to the repository root");
    expect(result.stderr).toContain("migrate.services.jobs.transaction:");
    expect(result.stderr).toContain("migrate.services.Bad_Name");
  });
});
