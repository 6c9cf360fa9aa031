import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDataSource } from "../src/data-source.js";
import { silentLogger } from "../src/log.js";
import { startApi } from "../src/server.js";
import type { RunningApi } from "../src/server.js";
import { freePort, startPostgres } from "./support/postgres.js";
import type { TestPostgres } from "./support/postgres.js";

// Response bodies are read ad hoc; the assertions themselves check their shape.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type JsonBody = any;

const ALL_MIGRATIONS = ["CreateCustomers1795305600000", "CreateOrders1795309200000", "AddOrderStatus1795356000000"];

describe("services/api HTTP", () => {
  let postgres: TestPostgres;
  let databaseUrl: string;
  let api: RunningApi;
  let base: string;

  beforeAll(async () => {
    postgres = await startPostgres();
    databaseUrl = await postgres.createDatabase("api");
    api = await startApi({ port: 0, databaseUrl, drainDelayMs: 0, shutdownTimeoutMs: 5_000 }, silentLogger);
    await api.connected;
    base = `http://127.0.0.1:${api.port}`;
  });

  afterAll(async () => {
    await api?.stop();
    await postgres?.stop();
  });

  async function call(method: string, path: string, body?: unknown): Promise<{ status: number; headers: Headers; json: JsonBody }> {
    const response = await fetch(`${base}${path}`, {
      method,
      ...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, json: text === "" ? undefined : JSON.parse(text) };
  }

  // Runs the migrations the way `slipway migrate` does: its own DataSource from the same module.
  async function migrate(action: "run" | "undo-last"): Promise<void> {
    const dataSource = await createDataSource(databaseUrl).initialize();
    try {
      if (action === "run") await dataSource.runMigrations();
      else await dataSource.undoLastMigration();
    } finally {
      await dataSource.destroy();
    }
  }

  it("is live but not ready until the migrations have run, and not ready again when one is reverted", async () => {
    expect(await call("GET", "/healthz")).toMatchObject({ status: 200, json: { status: "ok" } });
    expect(await call("GET", "/readyz")).toMatchObject({
      status: 503,
      json: { status: "not-ready", reason: "migrations-pending", pending: ALL_MIGRATIONS },
    });

    await migrate("run");
    expect(await call("GET", "/readyz")).toMatchObject({ status: 200, json: { status: "ready" } });

    await migrate("undo-last");
    expect(await call("GET", "/readyz")).toMatchObject({ status: 503, json: { pending: ["AddOrderStatus1795356000000"] } });

    await migrate("run");
    expect((await call("GET", "/readyz")).status).toBe(200);
  });

  it("creates a customer and orders, then reads, lists and filters them", async () => {
    const customer = await call("POST", "/customers", { email: "Grace@Example.com", name: "Grace Hopper" });
    expect(customer.status).toBe(201);
    expect(customer.json).toMatchObject({ email: "grace@example.com", name: "Grace Hopper" });
    expect(customer.headers.get("location")).toBe(`/customers/${customer.json.id}`);
    expect(await call("GET", `/customers/${customer.json.id}`)).toMatchObject({ status: 200, json: customer.json });

    const first = await call("POST", "/orders", { customerId: customer.json.id, sku: "COBOL-101", quantity: 2 });
    expect(first).toMatchObject({ status: 201, json: { customerId: customer.json.id, sku: "COBOL-101", quantity: 2, status: "pending" } });
    const second = await call("POST", "/orders", { customerId: customer.json.id, sku: "UNIVAC-1", quantity: 1 });
    expect(second.status).toBe(201);

    expect(await call("GET", `/orders/${first.json.id}`)).toMatchObject({ status: 200, json: first.json });
    const listed = await call("GET", `/orders?customerId=${customer.json.id}`);
    expect(listed.json.orders.map((order: { sku: string }) => order.sku).sort()).toEqual(["COBOL-101", "UNIVAC-1"]);

    expect(await call("PATCH", `/orders/${first.json.id}`, { status: "paid" })).toMatchObject({ status: 200, json: { status: "paid" } });
    const paid = await call("GET", `/orders?customerId=${customer.json.id}&status=paid`);
    expect(paid.json.orders.map((order: { id: string }) => order.id)).toEqual([first.json.id]);
  });

  it("refuses an order status change the lifecycle does not allow, naming the allowed ones", async () => {
    const customer = await call("POST", "/customers", { email: "linus@example.com", name: "Linus" });
    const order = await call("POST", "/orders", { customerId: customer.json.id, sku: "KERNEL-1", quantity: 1 });
    await call("PATCH", `/orders/${order.json.id}`, { status: "cancelled" });

    const refused = await call("PATCH", `/orders/${order.json.id}`, { status: "shipped" });
    expect(refused).toMatchObject({
      status: 409,
      json: { error: { code: "INVALID_STATUS_TRANSITION", details: { from: "cancelled", to: "shipped", allowed: [] } } },
    });
    expect((await call("GET", `/orders/${order.json.id}`)).json.status).toBe("cancelled");
  });

  it("answers client mistakes with a stable code and every problem at once", async () => {
    const invalid = await call("POST", "/orders", { customerId: "nope", sku: "lower", quantity: 0, extra: true });
    expect(invalid.status).toBe(400);
    expect(invalid.json.error.code).toBe("VALIDATION_FAILED");
    expect(invalid.json.error.details.issues.map((issue: { path: string }) => issue.path).sort()).toEqual([
      "body",
      "customerId",
      "quantity",
      "sku",
    ]);

    const ghost = await call("POST", "/orders", { customerId: "6f1c1d0e-8d7a-4b7e-9f57-1f0b0a0c0d0e", sku: "SKU-1", quantity: 1 });
    expect(ghost).toMatchObject({ status: 422, json: { error: { code: "CUSTOMER_NOT_FOUND" } } });

    await call("POST", "/customers", { email: "dup@example.com", name: "First" });
    const duplicate = await call("POST", "/customers", { email: "DUP@example.com", name: "Second" });
    expect(duplicate).toMatchObject({ status: 409, json: { error: { code: "EMAIL_TAKEN" } } });

    expect(await call("GET", "/orders/6f1c1d0e-8d7a-4b7e-9f57-1f0b0a0c0d0e")).toMatchObject({ status: 404, json: { error: { code: "NOT_FOUND" } } });
    expect((await call("GET", "/orders/not-a-uuid")).status).toBe(404);
    expect((await call("GET", "/nowhere")).status).toBe(404);

    const wrongMethod = await call("DELETE", "/orders");
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get("allow")).toBe("GET, HEAD, POST");

    const notJson = await fetch(`${base}/customers`, { method: "POST", headers: { "content-type": "text/plain" }, body: "hi" });
    expect(notJson.status).toBe(415);
    const broken = await fetch(`${base}/customers`, { method: "POST", headers: { "content-type": "application/json" }, body: "{" });
    expect(broken.status).toBe(400);
    expect(((await broken.json()) as { error: { code: string } }).error.code).toBe("INVALID_JSON");
    const huge = await fetch(`${base}/customers`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "x".repeat(100_000) }),
    });
    expect(huge.status).toBe(413);
  });

  it("exposes default process metrics and a request histogram labelled by route pattern", async () => {
    const customer = await call("POST", "/customers", { email: "metrics@example.com", name: "Metrics" });
    await call("GET", `/customers/${customer.json.id}`);

    const response = await fetch(`${base}/metrics`);
    expect(response.headers.get("content-type")).toMatch(/^text\/plain/);
    const text = await response.text();
    expect(text).toContain("process_cpu_user_seconds_total");
    expect(text).toMatch(/^http_request_duration_seconds_count\{method="GET",route="\/customers\/:id",status_code="200"\} [1-9]/m);
    expect(text).toMatch(/^http_request_duration_seconds_count\{method="POST",route="\/customers",status_code="201"\} [1-9]/m);
    // The raw id never becomes a label value.
    expect(text).not.toContain(customer.json.id);
  });

  it("on stop, fails readiness, finishes the request in flight, then refuses new connections", async () => {
    // A second api on the same database, so this test can stop it without affecting the others.
    const other = await startApi({ port: 0, databaseUrl, drainDelayMs: 1_000, shutdownTimeoutMs: 5_000 }, silentLogger);
    await other.connected;
    const otherBase = `http://127.0.0.1:${other.port}`;
    const customer = await call("POST", "/customers", { email: "slow@example.com", name: "Slow" });

    // Hold a lock so that the api's next read of customers waits until we let go.
    const blocker = new pg.Client({ connectionString: databaseUrl });
    await blocker.connect();
    await blocker.query("BEGIN");
    await blocker.query("LOCK TABLE customers IN ACCESS EXCLUSIVE MODE");
    const inFlight = fetch(`${otherBase}/customers/${customer.json.id}`);
    await waitFor(async () => {
      const { rows } = await blocker.query(
        `SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE application_name = 'slipway-api' AND wait_event_type = 'Lock'`,
      );
      return rows[0].waiting > 0;
    });

    const stopped = other.stop();
    // During the drain delay the pod still answers, but reports itself not ready.
    const draining = await fetch(`${otherBase}/readyz`);
    expect(draining.status).toBe(503);
    expect(draining.headers.get("connection")).toBe("close");

    await blocker.query("COMMIT");
    await blocker.end();
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(((await response.json()) as { id: string }).id).toBe(customer.json.id);

    await stopped;
    expect(other.dataSource.isInitialized).toBe(false);
    await expect(fetch(`${otherBase}/healthz`)).rejects.toThrow();
  });

  it("starts while the database is unreachable: live, not ready, and stops promptly", async () => {
    const unreachable = `postgres://nobody:secret@127.0.0.1:${await freePort()}/none`;
    const lonely = await startApi({ port: 0, databaseUrl: unreachable, drainDelayMs: 0, shutdownTimeoutMs: 1_000 }, silentLogger);
    const lonelyBase = `http://127.0.0.1:${lonely.port}`;
    try {
      expect((await fetch(`${lonelyBase}/healthz`)).status).toBe(200);
      const readiness = await fetch(`${lonelyBase}/readyz`);
      expect(readiness.status).toBe(503);
      expect(await readiness.json()).toMatchObject({ reason: "database-not-connected" });
      const write = await fetch(`${lonelyBase}/customers`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: "a@example.com", name: "A" }),
      });
      expect(write.status).toBe(503);
      expect(write.headers.get("retry-after")).toBe("5");
    } finally {
      const started = Date.now();
      await lonely.stop();
      // Well under the retry loop's backoff: stopping interrupts it instead of waiting it out.
      expect(Date.now() - started).toBeLessThan(5_000);
    }
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
