import type { Pool } from "pg";

/**
 * The queue's tables. Every statement is idempotent, so the worker applies them at start-up.
 * This is version 1 of the schema: a change that is not additive and idempotent needs a
 * real migration, not an edit here.
 */
export const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS jobs (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  queue text NOT NULL DEFAULT 'default',
  kind text NOT NULL,
  -- Not unique: a producer may deliver the same message twice. Uniqueness is enforced on
  -- the result instead (job_results), which is what makes processing idempotent.
  idempotency_key text NOT NULL,
  payload jsonb NOT NULL DEFAULT '{}'::jsonb,
  status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'dead')),
  attempts integer NOT NULL DEFAULT 0,
  max_attempts integer NOT NULL DEFAULT 5 CHECK (max_attempts > 0),
  run_at timestamptz NOT NULL DEFAULT now(),
  locked_by text,
  locked_until timestamptz,
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz
);
-- What claimJob scans: due queued jobs, and running jobs whose lease ran out.
CREATE INDEX IF NOT EXISTS jobs_queued_idx ON jobs (queue, run_at, id) WHERE status = 'queued';
CREATE INDEX IF NOT EXISTS jobs_running_idx ON jobs (queue, locked_until) WHERE status = 'running';

CREATE TABLE IF NOT EXISTS job_results (
  idempotency_key text PRIMARY KEY,
  job_id bigint NOT NULL REFERENCES jobs (id),
  result jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
`;

/**
 * Creates the queue's tables if missing. Replicas start together on a rollout, and
 * concurrent CREATE ... IF NOT EXISTS can still collide in the catalog, so an advisory
 * lock makes them take turns.
 */
export async function ensureSchema(pool: Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    await client.query("SELECT pg_advisory_xact_lock(hashtext('slipway-worker-schema'))");
    await client.query(SCHEMA_SQL);
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
