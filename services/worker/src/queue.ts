import type { Pool, PoolClient } from "pg";

export type JobStatus = "queued" | "running" | "done" | "dead";

/** A job as the worker sees it after claiming it. */
export interface Job {
  id: string;
  queue: string;
  kind: string;
  idempotencyKey: string;
  payload: unknown;
  /** Including the current one. */
  attempts: number;
  maxAttempts: number;
}

export interface NewJob {
  kind: string;
  idempotencyKey: string;
  payload: unknown;
  queue?: string;
  maxAttempts?: number;
  /** Not before this time; now by default. */
  runAt?: Date;
}

interface JobRow {
  id: string;
  queue: string;
  kind: string;
  idempotency_key: string;
  payload: unknown;
  attempts: number;
  max_attempts: number;
}

/** Adds a job; producers (the api, a cron) call this. Returns the job id. */
export async function enqueue(pool: Pool, job: NewJob): Promise<string> {
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO jobs (queue, kind, idempotency_key, payload, max_attempts, run_at)
     VALUES ($1, $2, $3, $4::jsonb, $5, coalesce($6, now()))
     RETURNING id`,
    [job.queue ?? "default", job.kind, job.idempotencyKey, JSON.stringify(job.payload ?? {}), job.maxAttempts ?? 5, job.runAt ?? null],
  );
  return (rows[0] as { id: string }).id;
}

/**
 * Claims the next due job of `queue` for `workerId` until now + leaseMs.
 *
 * FOR UPDATE SKIP LOCKED lets any number of workers claim concurrently: each one locks
 * a different row and none waits for another. A running job whose lease has run out
 * (its worker died or hung) is claimed again, which counts as a new attempt.
 */
export async function claimJob(pool: Pool, queue: string, workerId: string, leaseMs: number): Promise<Job | undefined> {
  const { rows } = await pool.query<JobRow>(
    `WITH next AS (
       SELECT id FROM jobs
       WHERE queue = $1
         AND ((status = 'queued' AND run_at <= now())
           OR (status = 'running' AND locked_until < now() AND attempts < max_attempts))
       ORDER BY run_at, id
       LIMIT 1
       FOR UPDATE SKIP LOCKED
     )
     UPDATE jobs
     SET status = 'running', attempts = jobs.attempts + 1, locked_by = $2,
         last_error = CASE WHEN jobs.status = 'running'
                           THEN 'lease expired: the worker died or hung while processing' ELSE jobs.last_error END,
         locked_until = now() + make_interval(secs => $3::double precision / 1000), updated_at = now()
     FROM next
     WHERE jobs.id = next.id
     RETURNING jobs.id, jobs.queue, jobs.kind, jobs.idempotency_key, jobs.payload, jobs.attempts, jobs.max_attempts`,
    [queue, workerId, leaseMs],
  );
  const row = rows[0];
  if (row === undefined) return undefined;
  return {
    id: row.id,
    queue: row.queue,
    kind: row.kind,
    idempotencyKey: row.idempotency_key,
    payload: row.payload,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
  };
}

/** Whether a result is already recorded under this idempotency key. */
export async function hasResult(pool: Pool, idempotencyKey: string): Promise<boolean> {
  const { rowCount } = await pool.query("SELECT 1 FROM job_results WHERE idempotency_key = $1", [idempotencyKey]);
  return (rowCount ?? 0) > 0;
}

/**
 * Records the job's result and marks it done, atomically. The primary key on
 * job_results.idempotency_key keeps one result per key however many times the work ran;
 * "duplicate" says another run got there first. The first run to finish wins, so the job
 * is marked done even if this worker's lease has meanwhile passed to another.
 */
export async function completeJob(pool: Pool, job: Job, result: unknown): Promise<"done" | "duplicate"> {
  return withTransaction(pool, async (client) => {
    const inserted = await client.query(
      `INSERT INTO job_results (idempotency_key, job_id, result) VALUES ($1, $2, $3::jsonb)
       ON CONFLICT (idempotency_key) DO NOTHING`,
      [job.idempotencyKey, job.id, JSON.stringify(result ?? null)],
    );
    await client.query(
      `UPDATE jobs SET status = 'done', locked_by = NULL, locked_until = NULL, finished_at = now(), updated_at = now()
       WHERE id = $1 AND status <> 'done'`,
      [job.id],
    );
    return inserted.rowCount === 1 ? "done" : "duplicate";
  });
}

/**
 * Records a failed attempt: back to the queue in `retryInMs`, or dead when `retryInMs` is
 * undefined. The retry time is computed by the database, whose clock every worker shares.
 * Fenced by the lease: a worker that lost its lease does not overwrite the state another
 * worker now owns ("stale").
 */
export async function failJob(
  pool: Pool,
  job: Job,
  workerId: string,
  error: string,
  retryInMs: number | undefined,
): Promise<"retry" | "dead" | "stale"> {
  const { rowCount } = await pool.query(
    `UPDATE jobs
     SET status = CASE WHEN $3::double precision IS NULL THEN 'dead' ELSE 'queued' END,
         run_at = coalesce(now() + make_interval(secs => $3::double precision / 1000), run_at),
         finished_at = CASE WHEN $3::double precision IS NULL THEN now() END,
         last_error = $4, locked_by = NULL, locked_until = NULL, updated_at = now()
     WHERE id = $1 AND locked_by = $2 AND status = 'running'`,
    [job.id, workerId, retryInMs ?? null, error],
  );
  if (rowCount !== 1) return "stale";
  return retryInMs === undefined ? "dead" : "retry";
}

/**
 * Marks dead the running jobs of `queue` whose lease expired on their last allowed
 * attempt: a job that keeps killing its worker must not be retried forever.
 */
export async function buryExpiredJobs(pool: Pool, queue: string): Promise<number> {
  const { rowCount } = await pool.query(
    `UPDATE jobs
     SET status = 'dead', finished_at = now(), updated_at = now(), locked_by = NULL, locked_until = NULL,
         last_error = 'lease expired on the last attempt: the worker died or hung while processing'
     WHERE queue = $1 AND status = 'running' AND locked_until < now() AND attempts >= max_attempts`,
    [queue],
  );
  return rowCount ?? 0;
}

/** Number of jobs of `queue` per status, for the queue-depth gauge. */
export async function countJobs(pool: Pool, queue: string): Promise<Record<JobStatus, number>> {
  const { rows } = await pool.query<{ status: JobStatus; count: number }>(
    "SELECT status, count(*)::int AS count FROM jobs WHERE queue = $1 GROUP BY status",
    [queue],
  );
  const counts: Record<JobStatus, number> = { queued: 0, running: 0, done: 0, dead: 0 };
  for (const row of rows) counts[row.status] = row.count;
  return counts;
}

async function withTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const result = await work(client);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
