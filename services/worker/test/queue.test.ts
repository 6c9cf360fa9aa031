import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureSchema } from "../src/db-schema.js";
import { PermanentJobError } from "../src/handlers.js";
import type { JobHandler } from "../src/handlers.js";
import { silentLogger } from "../src/log.js";
import { createMetrics } from "../src/metrics.js";
import { claimJob, enqueue } from "../src/queue.js";
import { startService } from "../src/service.js";
import { startWorker } from "../src/worker.js";
import type { RunningWorker, WorkerOptions } from "../src/worker.js";
import { startPostgres } from "./support/postgres.js";
import type { TestPostgres } from "./support/postgres.js";

interface JobState {
  idempotency_key: string;
  status: string;
  attempts: number;
  last_error: string | null;
}

describe("services/worker queue", () => {
  let postgres: TestPostgres;
  let databaseUrl: string;
  let pool: pg.Pool;
  const running: RunningWorker[] = [];

  beforeAll(async () => {
    postgres = await startPostgres();
    databaseUrl = await postgres.createDatabase("worker");
    pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
    await ensureSchema(pool);
  });

  afterAll(async () => {
    await Promise.all(running.map((worker) => worker.stop()));
    await pool?.end();
    await postgres?.stop();
  });

  /** A worker with its own connection pool, as a separate replica would have. */
  function worker(queue: string, handlers: Record<string, JobHandler>, overrides: Partial<WorkerOptions> = {}): RunningWorker {
    const ownPool = new pg.Pool({ connectionString: databaseUrl, max: 3 });
    const started = startWorker({
      pool: ownPool,
      queue,
      handlers: new Map(Object.entries(handlers)),
      concurrency: 2,
      pollIntervalMs: 10,
      leaseMs: 30_000,
      backoff: { baseMs: 20, maxMs: 200 },
      metrics: createMetrics(ownPool, queue),
      log: silentLogger,
      ...overrides,
    });
    const stop = async (): Promise<void> => {
      await started.stop();
      await ownPool.end().catch(() => undefined);
    };
    const handle = { ...started, stop: () => (stopping ??= stop()) };
    let stopping: Promise<void> | undefined;
    running.push(handle);
    return handle;
  }

  async function jobs(queue: string): Promise<JobState[]> {
    const { rows } = await pool.query<JobState>(
      "SELECT idempotency_key, status, attempts, last_error FROM jobs WHERE queue = $1 ORDER BY id",
      [queue],
    );
    return rows;
  }

  async function results(prefix: string): Promise<{ idempotency_key: string; result: unknown }[]> {
    const { rows } = await pool.query(
      "SELECT idempotency_key, result FROM job_results WHERE idempotency_key LIKE $1 ORDER BY idempotency_key",
      [`${prefix}%`],
    );
    return rows;
  }

  async function settled(queue: string, count: number): Promise<JobState[]> {
    await waitFor(async () => (await jobs(queue)).filter((job) => job.status === "done" || job.status === "dead").length === count);
    return jobs(queue);
  }

  it("sets up its schema from several replicas starting at once", async () => {
    const pools = Array.from({ length: 4 }, () => new pg.Pool({ connectionString: databaseUrl, max: 1 }));
    try {
      await Promise.all(pools.map((replicaPool) => ensureSchema(replicaPool)));
    } finally {
      await Promise.all(pools.map((replicaPool) => replicaPool.end()));
    }
    const { rows } = await pool.query("SELECT to_regclass('jobs') AS jobs, to_regclass('job_results') AS results");
    expect(rows).toEqual([{ jobs: "jobs", results: "job_results" }]);
  });

  it("processes each job exactly once with four workers on the same queue", async () => {
    const queue = "parallel";
    const count = 120;
    const calls = new Map<string, number>();
    const workersSeen = new Set<string>();
    const handler: JobHandler = async (payload, context) => {
      calls.set(context.idempotencyKey, (calls.get(context.idempotencyKey) ?? 0) + 1);
      workersSeen.add(context.workerId);
      // Enough of a pause for the workers' claims to interleave.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 4));
      return { echoed: payload };
    };
    for (let index = 0; index < count; index += 1) {
      await enqueue(pool, { queue, kind: "echo", idempotencyKey: `parallel-${index}`, payload: { index } });
    }

    for (let replica = 0; replica < 4; replica += 1) worker(queue, { echo: handler });
    const final = await settled(queue, count);

    // Listed rather than counted, so a failure names the jobs that ran twice.
    expect(final.filter((job) => job.status !== "done" || job.attempts !== 1)).toEqual([]);
    expect([...calls].filter(([, times]) => times !== 1)).toEqual([]);
    expect(calls.size).toBe(count);
    expect(await results("parallel-")).toHaveLength(count);
    expect(workersSeen.size).toBeGreaterThan(1);
  });

  it("runs the work once for a message delivered twice, and records one result", async () => {
    const queue = "redelivered";
    let calls = 0;
    await enqueue(pool, { queue, kind: "count", idempotencyKey: "redelivered-1", payload: { n: 1 } });
    await enqueue(pool, { queue, kind: "count", idempotencyKey: "redelivered-1", payload: { n: 1 } });

    worker(queue, { count: async () => ({ calls: ++calls }) }, { concurrency: 1 });
    const final = await settled(queue, 2);

    expect(final.map((job) => job.status)).toEqual(["done", "done"]);
    expect(calls).toBe(1);
    expect(await results("redelivered-")).toEqual([{ idempotency_key: "redelivered-1", result: { calls: 1 } }]);
  });

  it("records one result when two workers process the same key at the same time", async () => {
    const queue = "raced";
    let inside = 0;
    let release: () => void = () => {};
    const bothInside = new Promise<void>((resolve) => (release = resolve));
    // Both runs get past the "result already recorded?" check before either records one,
    // so only the unique key on job_results stands between them and two results.
    const handler: JobHandler = async (_payload, context) => {
      inside += 1;
      if (inside === 2) release();
      await bothInside;
      return { by: context.workerId };
    };
    await enqueue(pool, { queue, kind: "race", idempotencyKey: "raced-1", payload: {} });
    await enqueue(pool, { queue, kind: "race", idempotencyKey: "raced-1", payload: {} });

    worker(queue, { race: handler }, { concurrency: 2 });
    const final = await settled(queue, 2);

    expect(inside).toBe(2);
    expect(final.map((job) => job.status)).toEqual(["done", "done"]);
    expect(await results("raced-")).toHaveLength(1);
  });

  it("retries a failing job with growing backoff, then marks it dead after max attempts", async () => {
    const queue = "doomed";
    const calledAt: number[] = [];
    await enqueue(pool, { queue, kind: "flaky", idempotencyKey: "doomed-1", payload: {}, maxAttempts: 3 });

    worker(
      queue,
      {
        flaky: async () => {
          calledAt.push(Date.now());
          throw new Error(`upstream refused (call ${calledAt.length})`);
        },
      },
      { concurrency: 1, backoff: { baseMs: 100, maxMs: 1_000 }, random: () => 0 },
    );
    const [job] = await settled(queue, 1);

    expect(job).toEqual({ idempotency_key: "doomed-1", status: "dead", attempts: 3, last_error: "upstream refused (call 3)" });
    expect(calledAt).toHaveLength(3);
    // random() = 0 gives the lower half of equal jitter: 50 ms after the 1st failure, 100 ms after the 2nd.
    const [first = 0, second = 0, third = 0] = calledAt;
    expect(second - first).toBeGreaterThanOrEqual(50);
    expect(third - second).toBeGreaterThanOrEqual(100);
    expect(await results("doomed-")).toEqual([]);
  });

  it("succeeds on a later attempt after transient failures", async () => {
    const queue = "recovering";
    let calls = 0;
    await enqueue(pool, { queue, kind: "flaky", idempotencyKey: "recovering-1", payload: {}, maxAttempts: 5 });

    worker(queue, {
      flaky: async () => {
        calls += 1;
        if (calls < 3) throw new Error(`timeout (call ${calls})`);
        return { calls };
      },
    });
    const [job] = await settled(queue, 1);

    expect(job).toMatchObject({ status: "done", attempts: 3, last_error: "timeout (call 2)" });
    expect(await results("recovering-")).toEqual([{ idempotency_key: "recovering-1", result: { calls: 3 } }]);
  });

  it("sends a job straight to dead on a permanent error or an unknown kind", async () => {
    const queue = "hopeless";
    await enqueue(pool, { queue, kind: "strict", idempotencyKey: "hopeless-1", payload: {}, maxAttempts: 5 });
    await enqueue(pool, { queue, kind: "nobody-handles-this", idempotencyKey: "hopeless-2", payload: {}, maxAttempts: 5 });

    worker(queue, {
      strict: async () => {
        throw new PermanentJobError("payload names an order that does not exist");
      },
    });
    const final = await settled(queue, 2);

    expect(final).toEqual([
      { idempotency_key: "hopeless-1", status: "dead", attempts: 1, last_error: "payload names an order that does not exist" },
      { idempotency_key: "hopeless-2", status: "dead", attempts: 1, last_error: 'no handler for job kind "nobody-handles-this"' },
    ]);
  });

  it("takes over a job whose worker died once its lease expires", async () => {
    const queue = "orphaned";
    await enqueue(pool, { queue, kind: "echo", idempotencyKey: "orphaned-1", payload: {}, maxAttempts: 3 });
    await enqueue(pool, { queue, kind: "echo", idempotencyKey: "orphaned-2", payload: {}, maxAttempts: 1 });
    // Two workers claim a job each and vanish without a word.
    expect(await claimJob(pool, queue, "crashed-a", 300)).toMatchObject({ idempotencyKey: "orphaned-1", attempts: 1 });
    expect(await claimJob(pool, queue, "crashed-b", 300)).toMatchObject({ idempotencyKey: "orphaned-2", attempts: 1 });

    worker(queue, { echo: async () => ({ ok: true }) });
    const final = await settled(queue, 2);

    expect(final).toEqual([
      {
        idempotency_key: "orphaned-1",
        status: "done",
        attempts: 2,
        last_error: "lease expired: the worker died or hung while processing",
      },
      // Its one allowed attempt died with its worker: dead, not retried forever.
      {
        idempotency_key: "orphaned-2",
        status: "dead",
        attempts: 1,
        last_error: "lease expired on the last attempt: the worker died or hung while processing",
      },
    ]);
  });

  it("gives up an attempt that outlives its lease and retries it", async () => {
    const queue = "slow";
    let calls = 0;
    await enqueue(pool, { queue, kind: "slow", idempotencyKey: "slow-1", payload: {}, maxAttempts: 3 });

    worker(
      queue,
      {
        slow: async () => {
          calls += 1;
          // The first attempt ignores its signal and overruns the lease.
          if (calls === 1) await new Promise((resolve) => setTimeout(resolve, 1_000));
          return { calls };
        },
      },
      // One slot: nothing else in this worker could take the job over when its lease expires.
      { leaseMs: 200, concurrency: 1 },
    );
    const [job] = await settled(queue, 1);

    expect(job).toMatchObject({ status: "done", attempts: 2, last_error: "attempt took longer than 160 ms (lease 200 ms)" });
  });

  it("on stop, finishes the job in flight and claims nothing more", async () => {
    const queue = "stopping";
    let release: () => void = () => {};
    const started = new Promise<void>((resolve) => (release = resolve));
    await enqueue(pool, { queue, kind: "slow", idempotencyKey: "stopping-1", payload: {} });

    const replica = worker(
      queue,
      {
        slow: async () => {
          release();
          await new Promise((resolve) => setTimeout(resolve, 200));
          return { finished: true };
        },
      },
      { concurrency: 1 },
    );
    await started;
    const stopped = replica.stop();
    await enqueue(pool, { queue, kind: "slow", idempotencyKey: "stopping-2", payload: {} });
    await stopped;

    expect((await jobs(queue)).map((job) => job.status)).toEqual(["done", "queued"]);
  });

  it("serves /healthz and /metrics, with job outcomes and queue depth", async () => {
    const queue = "observed";
    await enqueue(pool, { queue, kind: "invoice.render", idempotencyKey: "observed-1", payload: invoice() });
    await enqueue(pool, { queue, kind: "invoice.render", idempotencyKey: "observed-2", payload: { lines: [] } });

    const service = await startService(
      {
        databaseUrl,
        port: 0,
        queue,
        concurrency: 1,
        pollIntervalMs: 10,
        leaseMs: 5_000,
        backoff: { baseMs: 10, maxMs: 10 },
        shutdownTimeoutMs: 5_000,
      },
      silentLogger,
    );
    try {
      await service.started;
      await settled(queue, 2);
      const base = `http://127.0.0.1:${service.port}`;

      const health = await fetch(`${base}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: "ok" });

      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toMatch(/^worker_jobs_total\{kind="invoice.render",outcome="done"\} 1$/m);
      expect(metrics).toMatch(/^worker_jobs_total\{kind="invoice.render",outcome="dead"\} 1$/m);
      expect(metrics).toMatch(/^worker_queue_jobs\{status="done"\} 1$/m);
      expect(metrics).toMatch(/^worker_queue_jobs\{status="dead"\} 1$/m);
      expect(metrics).toContain("process_resident_memory_bytes");
      expect(await results("observed-")).toEqual([
        { idempotency_key: "observed-1", result: { orderId: invoice().orderId, currency: "EUR", lineCount: 2, totalCents: 2_550 } },
      ]);
    } finally {
      await service.stop();
    }
  });
});

function invoice(): { orderId: string; currency: string; lines: unknown[] } {
  return {
    orderId: "6f1c1d0e-8d7a-4b7e-9f57-1f0b0a0c0d0e",
    currency: "EUR",
    lines: [
      { sku: "SKU-1", quantity: 2, unitPriceCents: 1_000 },
      { sku: "SKU-2", quantity: 1, unitPriceCents: 550 },
    ],
  };
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
