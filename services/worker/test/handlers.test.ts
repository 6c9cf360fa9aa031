import { describe, expect, it } from "vitest";
import { PermanentJobError, defaultHandlers, renderInvoice } from "../src/handlers.js";

const ORDER_ID = "6f1c1d0e-8d7a-4b7e-9f57-1f0b0a0c0d0e";

describe("services/worker/src/handlers", () => {
  it("registers invoice.render", () => {
    expect([...defaultHandlers.keys()]).toEqual(["invoice.render"]);
  });

  it("totals an invoice", async () => {
    const result = await renderInvoice({
      orderId: ORDER_ID,
      currency: "GBP",
      lines: [
        { sku: "A", quantity: 3, unitPriceCents: 199 },
        { sku: "B", quantity: 1, unitPriceCents: 0 },
      ],
    });
    expect(result).toEqual({ orderId: ORDER_ID, currency: "GBP", lineCount: 2, totalCents: 597 });
  });

  it("rejects a bad payload as permanent, naming every problem", async () => {
    const rendering = renderInvoice({ orderId: "42", currency: "XXX", lines: [{ sku: "A", quantity: 0, unitPriceCents: 1 }] });
    await expect(rendering).rejects.toBeInstanceOf(PermanentJobError);
    await expect(rendering).rejects.toThrow(/orderId: .*; currency: .*; lines\.0\.quantity: /);
  });
});
