import { createServer, type Server, type Socket } from "node:net";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { compileService } from "./compile.js";
import { migrate, migrateProcess, REPO } from "./harness.js";
import { freePort } from "./postgres.js";

const SLOW = join(REPO, "test", "fixtures", "migrate", "slow", "data-source.mjs");
// Every URL carries this password (or pieces of it): no message may show it.
const CANARY = "Canary-S3cret";

describe("pipelines/src/migrate/url: DATABASE_URL", () => {
  // Shapes people paste: the password as the provider shows it, unencoded (Azure Database for PostgreSQL's
  // portal, Heroku-style URLs), and libpq's sslmode values (libpq docs "SSL Support": disable, allow, prefer,
  // require, verify-ca, verify-full) of which node-postgres knows all but `allow` (pg-connection-string parse).
  it.each([
    ["'#' in the password", `postgres://deploy:Can#ary-S3cret@db.postgres.database.azure.com:5432/app`, "a '/', '?' or '#' in the user name or password is not percent-encoded"],
    ["'#' after digits (WHATWG would read a port)", `postgres://deploy:5432#Canary-S3cret@127.0.0.1:5432/app`, "a '/', '?' or '#' in the user name or password is not percent-encoded"],
    ["'/' in the password", `postgres://deploy:Can/ary-S3cret@127.0.0.1:5432/app`, "a '/', '?' or '#' in the user name or password is not percent-encoded"],
    ["'?' in the password", `postgres://deploy:Can?ary-S3cret@127.0.0.1:5432/app`, "a '/', '?' or '#' in the user name or password is not percent-encoded"],
    ["'%' in the password", `postgres://deploy:Canary%-S3cret@127.0.0.1:5432/app`, "a '%' in the user name or password is not followed by two hex digits"],
    ["a port above 65535", `postgres://deploy:${CANARY}@127.0.0.1:65536/app`, `port "65536" is not a number between 1 and 65535`],
    ["a port that is not a number", `postgres://deploy:${CANARY}@127.0.0.1:54x2/app`, `port "54x2" is not a number between 1 and 65535`],
    ["sslmode=allow (libpq only)", `postgres://deploy:${CANARY}@127.0.0.1:5432/app?sslmode=allow`, `sslmode "allow" is not one node-postgres supports (disable, prefer, require, verify-ca, verify-full, no-verify)`],
    ["a misspelt sslmode", `postgres://deploy:${CANARY}@127.0.0.1:5432/app?sslmode=required`, `sslmode "required" is not one node-postgres supports`],
    ["no scheme", `deploy:${CANARY}@127.0.0.1:5432/app`, "it does not start with a scheme such as postgres://"],
  ])("%s: SLIPWAY_MIGRATE_DATABASE_URL_INVALID, exit 2, the password never shown", async (_name, url, problem) => {
    const result = await migrate(["migrate", "status", "--data-source", SLOW], { ...process.env, DATABASE_URL: url });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`SLIPWAY_MIGRATE_DATABASE_URL_INVALID: DATABASE_URL is not a usable connection URL: ${problem}`);
    for (const piece of [CANARY, "ary-S3cret", "Canary%-S3cret"]) expect(result.stderr + result.stdout).not.toContain(piece);
  });

  it.each([
    // Encoded as the error's details ask; Azure's portal string with sslmode=require; raw '@' (WHATWG and
    // TypeORM both take the last '@'); IPv6 host.
    ["an encoded password", (port: number) => `postgres://deploy:Can%23ary%2FS3cret%25@127.0.0.1:${port}/app`],
    ["sslmode=require", (port: number) => `postgres://deploy:${CANARY}@127.0.0.1:${port}/app?sslmode=require`],
    ["sslmode=disable", (port: number) => `postgres://deploy:${CANARY}@127.0.0.1:${port}/app?sslmode=disable`],
    ["a raw '@' in the password", (port: number) => `postgres://deploy:Can@ary-S3cret@127.0.0.1:${port}/app`],
    ["an IPv6 host", (port: number) => `postgres://deploy:${CANARY}@[::1]:${port}/app`],
  ])("%s is accepted and tried (nothing listens: SLIPWAY_MIGRATE_DB_UNREACHABLE)", async (_name, url) => {
    const port = await freePort();
    const result = await migrate(["migrate", "status", "--data-source", SLOW], { ...process.env, DATABASE_URL: url(port) });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`SLIPWAY_MIGRATE_DB_UNREACHABLE: cannot connect to the database at postgres `);
    expect(result.stderr).toContain(`:${port}/app: connect ECONNREFUSED`);
    for (const piece of [CANARY, "ary-S3cret", "ary%2FS3cret"]) expect(result.stderr + result.stdout).not.toContain(piece);
  });
});

describe("pipelines/src/migrate/commands: SLIPWAY_DATABASE_URLS_FILE (one Secret for every service of a release)", () => {
  it("picks the --service's line; a service without one is SLIPWAY_MIGRATE_DATABASE_URL_MISSING naming the services it has; no URL is ever shown", async () => {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), "slipway-urls-"));
    const file = join(dir, "database-urls");
    writeFileSync(file, `# per service\napi=postgres://api:${CANARY}@127.0.0.1:${port}/api\nworker = postgres://worker:Other-${CANARY}@127.0.0.1:${port}/worker\n`);
    try {
      const env = { ...process.env, DATABASE_URL: "", SLIPWAY_DATABASE_URLS_FILE: file };
      const api = await migrate(["migrate", "status", "--data-source", SLOW, "--service", "api"], env);
      expect(api.code).toBe(2);
      expect(api.stderr).toContain(`SLIPWAY_MIGRATE_DB_UNREACHABLE: cannot connect to the database at postgres 127.0.0.1:${port}/api`);
      const missing = await migrate(["migrate", "status", "--data-source", SLOW, "--service", "billing"], env);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain(`SLIPWAY_MIGRATE_DATABASE_URL_MISSING: no database URL for service "billing": SLIPWAY_DATABASE_URLS_FILE it has no line for this service`);
      expect(missing.stderr).toContain("It has lines for: api, worker.");
      for (const r of [api, missing]) expect(r.stderr + r.stdout).not.toContain(CANARY);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("pipelines/src/migrate/load: connect timeout", () => {
  // A server that takes the TCP connection and never answers (a stuck proxy, a half-open private endpoint).
  const sockets: Socket[] = [];
  const silent: Server = createServer((socket) => void sockets.push(socket));
  const service = compileService("commonjs", {
    // connectTimeoutMS as the services/api DataSource sets it (5 s there).
    "src/data-source.ts": `import { DataSource } from "typeorm";
export const AppDataSource = new DataSource({ type: "postgres", url: process.env.DATABASE_URL, connectTimeoutMS: 500, migrations: [] });\n`,
  });
  // No connectTimeoutMS, as TypeORM's docs and most projects write it: node-postgres would wait forever.
  const unbounded = compileService("commonjs", {
    "src/data-source.ts": `import { DataSource } from "typeorm";
export const AppDataSource = new DataSource({ type: "postgres", url: process.env.DATABASE_URL, migrations: [] });\n`,
  });
  afterAll(() => {
    for (const s of sockets) s.destroy();
    silent.close();
    service.remove();
    unbounded.remove();
  });

  it("is SLIPWAY_MIGRATE_DB_TIMEOUT (exit 3), naming host and port, never the password", async () => {
    await new Promise<void>((ok) => silent.listen(0, "127.0.0.1", ok));
    const port = (silent.address() as { port: number }).port;
    const result = await migrate(["migrate", "status", "--data-source", service.out("src/data-source.ts")], {
      ...process.env,
      DATABASE_URL: `postgres://deploy:${CANARY}@127.0.0.1:${port}/app`,
    });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(`SLIPWAY_MIGRATE_DB_TIMEOUT: the database at postgres 127.0.0.1:${port}/app did not answer within the connect timeout`);
    expect(result.stderr + result.stdout).not.toContain(CANARY);
  });

  it("a DataSource without connectTimeoutMS still ends: SLIPWAY_DB_CONNECT_TIMEOUT bounds the wait (default 30s)", async () => {
    if (!silent.listening) await new Promise<void>((ok) => silent.listen(0, "127.0.0.1", ok));
    const port = (silent.address() as { port: number }).port;
    // A real process: the variable is read from the process environment.
    const result = await migrateProcess(["migrate", "status", "--data-source", unbounded.out("src/data-source.ts")], {
      ...process.env,
      DATABASE_URL: `postgres://deploy:${CANARY}@127.0.0.1:${port}/app`,
      SLIPWAY_DB_CONNECT_TIMEOUT: "1s",
    }).done;
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(`SLIPWAY_MIGRATE_DB_TIMEOUT: the database at postgres 127.0.0.1:${port}/app did not answer within the connect timeout`);
    expect(result.stderr + result.stdout).not.toContain(CANARY);
  });
});
