import { describe, expect, it } from "vitest";
import { ORDER_STATUSES } from "../src/entities/order.js";
import type { OrderStatus } from "../src/entities/order.js";
import { allowedTransitions, canTransition } from "../src/order-status.js";
import { CreateCustomerInput, CreateOrderInput, ListOrdersQuery, parseInput } from "../src/schema.js";

const CUSTOMER_ID = "6f1c1d0e-8d7a-4b7e-9f57-1f0b0a0c0d0e";

describe("services/api/src/schema", () => {
  it("normalises a valid customer: email lower-cased, name trimmed", () => {
    expect(parseInput(CreateCustomerInput, { email: "Ada@Example.COM", name: "  Ada Lovelace " })).toEqual({
      ok: true,
      value: { email: "ada@example.com", name: "Ada Lovelace" },
    });
  });

  it.each([
    { input: { email: "not-an-email", name: "A" }, paths: ["email"] },
    { input: { email: "a@example.com", name: "   " }, paths: ["name"] },
    { input: { email: "a@example.com" }, paths: ["name"] },
    { input: { email: "a@example.com", name: "A", admin: true }, paths: ["body"] },
    { input: [], paths: ["body"] },
  ])("rejects customer $input at $paths", ({ input, paths }) => {
    const result = parseInput(CreateCustomerInput, input);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues.map((issue) => issue.path)).toEqual(paths);
  });

  it("accepts an order and reports every problem of a bad one at once", () => {
    expect(parseInput(CreateOrderInput, { customerId: CUSTOMER_ID, sku: "SKU-42", quantity: 3 })).toEqual({
      ok: true,
      value: { customerId: CUSTOMER_ID, sku: "SKU-42", quantity: 3 },
    });

    const result = parseInput(CreateOrderInput, { customerId: "42", sku: "sku 42", quantity: 1.5 });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues.map((issue) => issue.path)).toEqual(["customerId", "sku", "quantity"]);
  });

  it.each([
    { quantity: 0, ok: false },
    { quantity: 1, ok: true },
    { quantity: 1000, ok: true },
    { quantity: 1001, ok: false },
    { quantity: "2", ok: false },
  ])("order quantity $quantity valid: $ok", ({ quantity, ok }) => {
    expect(parseInput(CreateOrderInput, { customerId: CUSTOMER_ID, sku: "SKU-1", quantity }).ok).toBe(ok);
  });

  it("reads list filters from the query string, with a default and a ceiling on limit", () => {
    expect(parseInput(ListOrdersQuery, {})).toEqual({ ok: true, value: { limit: 50 } });
    expect(parseInput(ListOrdersQuery, { status: "paid", limit: "10" })).toEqual({ ok: true, value: { status: "paid", limit: 10 } });

    const result = parseInput(ListOrdersQuery, { limit: "5000", status: "lost" }, "query");
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues.map((issue) => issue.path).sort()).toEqual(["limit", "status"]);
  });
});

describe("services/api/src/order-status", () => {
  // Every (from, to) pair, so a change to the lifecycle shows up here as a diff.
  const expected: Record<OrderStatus, OrderStatus[]> = {
    pending: ["pending", "paid", "cancelled"],
    paid: ["paid", "shipped", "cancelled"],
    shipped: ["shipped"],
    cancelled: ["cancelled"],
  };

  it.each(ORDER_STATUSES.map((from) => ({ from })))("from $from", ({ from }) => {
    expect(ORDER_STATUSES.filter((to) => canTransition(from, to))).toEqual(
      ORDER_STATUSES.filter((to) => expected[from].includes(to)),
    );
    expect(allowedTransitions(from)).toEqual(expected[from].filter((to) => to !== from));
  });
});
