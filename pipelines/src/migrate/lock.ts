import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { QueryRunner } from "./typeorm.js";

/**
 * One migration run at a time per database and migrations table. The lock is a session lock of the
 * connection that runs the migrations, so it is released by the server when that connection ends, a
 * killed process included (no stale lock files or rows to clean up).
 */
export interface MigrationLock {
  /** Waits at most `timeoutSeconds`; true when the lock is ours. `onWait` is called once, when another session holds it. */
  acquire(timeoutSeconds: number, onWait?: () => void): Promise<boolean>;
  release(): Promise<void>;
  /** Sessions holding the lock right now, for `status` and the timeout message. */
  holders(): Promise<LockHolder[]>;
}

export interface LockHolder {
  pid: number;
  application?: string;
  since?: string;
}

const POLL_MS = 200;

/** A stable signed 64-bit key derived from the lock name (advisory locks take a bigint). */
export function advisoryKey(name: string): bigint {
  return createHash("sha256").update(name).digest().readBigInt64BE(0);
}

export function lockName(migrationsTable: string): string {
  return `slipway-migrate:${migrationsTable}`;
}

function rows(result: unknown): Record<string, unknown>[] {
  return Array.isArray(result) ? (result as Record<string, unknown>[]) : [];
}

/**
 * PostgreSQL session-level advisory lock. `pg_try_advisory_lock` polled until the deadline rather than
 * `pg_advisory_lock` under `lock_timeout`: the wait stays bounded even if the server's lock_timeout is
 * configured otherwise, and we can tell "timed out" from any other error.
 */
export function postgresLock(queryRunner: QueryRunner, name: string): MigrationLock {
  const key = advisoryKey(name);
  // pg_locks shows a bigint advisory key as classid (high 32 bits) and objid (low 32 bits), objsubid 1.
  const unsigned = BigInt.asUintN(64, key);
  const classid = (unsigned >> 32n).toString();
  const objid = (unsigned & 0xffffffffn).toString();
  return {
    async acquire(timeoutSeconds, onWait) {
      const deadline = Date.now() + timeoutSeconds * 1000;
      for (let tries = 0; ; tries++) {
        const [row] = rows(await queryRunner.query("SELECT pg_try_advisory_lock($1::bigint) AS locked", [key.toString()]));
        if (row?.locked === true) return true;
        if (Date.now() >= deadline) return false;
        if (tries === 0) onWait?.();
        await sleep(Math.min(POLL_MS, Math.max(0, deadline - Date.now())));
      }
    },
    async release() {
      await queryRunner.query("SELECT pg_advisory_unlock($1::bigint)", [key.toString()]);
    },
    async holders() {
      const result = await queryRunner.query(
        `SELECT l.pid, a.application_name, a.backend_start
           FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
          WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
            AND l.classid = $1::oid AND l.objid = $2::oid AND l.objsubid = 1`,
        [classid, objid],
      );
      return rows(result).map((r) => ({
        pid: Number(r.pid),
        ...(r.application_name ? { application: String(r.application_name) } : {}),
        ...(r.backend_start ? { since: new Date(r.backend_start as string).toISOString() } : {}),
      }));
    },
  };
}

/**
 * MySQL / MariaDB named lock (GET_LOCK waits up to its own timeout; names are at most 64 characters).
 * NOT covered by tests: no MySQL server can run in our test environment.
 */
export function mysqlLock(queryRunner: QueryRunner, name: string): MigrationLock {
  const lock = name.length <= 64 ? name : `slipway-migrate:${createHash("sha256").update(name).digest("hex").slice(0, 40)}`;
  return {
    async acquire(timeoutSeconds, onWait) {
      // GET_LOCK with a timeout of 0 answers at once (https://dev.mysql.com/doc/refman/8.0/en/locking-functions.html):
      // only a lock held by another session makes us wait, and say so.
      const [free] = rows(await queryRunner.query("SELECT GET_LOCK(?, 0) AS locked", [lock]));
      if (Number(free?.locked) === 1) return true;
      if (timeoutSeconds === 0) return false;
      onWait?.();
      const [row] = rows(await queryRunner.query("SELECT GET_LOCK(?, ?) AS locked", [lock, timeoutSeconds]));
      return Number(row?.locked) === 1;
    },
    async release() {
      await queryRunner.query("SELECT RELEASE_LOCK(?)", [lock]);
    },
    async holders() {
      const [row] = rows(await queryRunner.query("SELECT IS_USED_LOCK(?) AS holder", [lock]));
      return row?.holder === null || row?.holder === undefined ? [] : [{ pid: Number(row.holder) }];
    },
  };
}

/** The lock for a driver, or null when the database has no session locks we support. */
export function lockFor(driverType: string, queryRunner: QueryRunner, name: string): MigrationLock | null {
  if (driverType === "postgres") return postgresLock(queryRunner, name);
  if (driverType === "mysql" || driverType === "mariadb" || driverType === "aurora-mysql") return mysqlLock(queryRunner, name);
  return null;
}
