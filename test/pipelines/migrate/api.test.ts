import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunReport, StatusReport } from "../../../pipelines/src/migrate/engine.js";
import { migrate, REPO } from "./harness.js";
import { migrationsRows, schemaSnapshot, serverForTests } from "./postgres.js";

// The real `api` service, compiled as it ships (dist/data-source.js), with its own typeorm.
const DATA_SOURCE = join(REPO, "services", "api", "dist", "data-source.js");
const NAMES = ["CreateCustomers1795305600000", "CreateOrders1795309200000", "AddOrderStatus1795356000000"];

const { server } = await serverForTests();
afterAll(async () => {
  await server?.stop();
});

describe.skipIf(!server)("pipelines/src/migrate with services/api (PostgreSQL)", () => {
  const pg = server as NonNullable<typeof server>;
  beforeAll(() => {
    execFileSync("npm", ["run", "build", "-w", "services/api"], { cwd: REPO, stdio: "pipe" });
  }, 120_000);

  it("run, status, revert --to, run again", async () => {
    const url = await pg.database("api");
    const env = { ...process.env, DATABASE_URL: url };

    const before = JSON.parse((await migrate(["migrate", "status", "--data-source", DATA_SOURCE, "--json"], env)).stdout) as StatusReport;
    expect(before).toMatchObject({ applied: [], pending: NAMES, newerReleaseRan: false });

    const first = await migrate(["migrate", "run", "--data-source", DATA_SOURCE, "--json"], env);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout) as RunReport).toMatchObject({ status: "applied", applied: NAMES, transaction: "each", clean: true });
    const migrated = await schemaSnapshot(pg, url);
    expect(migrated).toEqual(expect.arrayContaining([expect.stringMatching(/^relation customer(s)? r$/), expect.stringMatching(/^relation order(s)? r$/)]));

    const status = JSON.parse((await migrate(["migrate", "status", "--data-source", DATA_SOURCE, "--json"], env)).stdout) as StatusReport;
    expect(status.applied.map((m) => m.name)).toEqual(NAMES);
    expect(status.pending).toEqual([]);

    const reverted = await migrate(["migrate", "revert", "--data-source", DATA_SOURCE, "--to", NAMES[0] as string, "--json"], env);
    expect(reverted.code).toBe(0);
    expect(JSON.parse(reverted.stdout) as RunReport).toMatchObject({ status: "reverted", reverted: [NAMES[2], NAMES[1]] });
    expect((await migrationsRows(pg, url)).map((r) => r.split(" ")[2])).toEqual(NAMES.slice(0, 1));
    expect(await schemaSnapshot(pg, url)).not.toEqual(migrated);

    const again = await migrate(["migrate", "run", "--data-source", DATA_SOURCE, "--json"], env);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout) as RunReport).toMatchObject({ status: "applied", applied: NAMES.slice(1) });
    expect(await schemaSnapshot(pg, url)).toEqual(migrated);
  });
});
