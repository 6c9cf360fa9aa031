import { z } from "zod";
import { ORDER_STATUSES } from "./entities/order.js";
import type { Issue } from "./http/errors.js";

// Request shapes. Unknown fields are rejected rather than ignored, so a client typo
// ("quantitiy") is reported instead of silently dropped.

export const CreateCustomerInput = z.strictObject({
  // Stored lower-cased so the unique constraint means "one customer per mailbox".
  email: z.email().max(254).transform((email) => email.toLowerCase()),
  name: z.string().trim().min(1).max(200),
});
export type CreateCustomerInput = z.infer<typeof CreateCustomerInput>;

export const CreateOrderInput = z.strictObject({
  customerId: z.uuid(),
  sku: z.string().regex(/^[A-Z0-9][A-Z0-9-]{2,31}$/, "must be 3-32 upper-case letters, digits or dashes"),
  quantity: z.number().int().min(1).max(1000),
});
export type CreateOrderInput = z.infer<typeof CreateOrderInput>;

export const UpdateOrderInput = z.strictObject({
  status: z.enum(ORDER_STATUSES),
});
export type UpdateOrderInput = z.infer<typeof UpdateOrderInput>;

export const ListOrdersQuery = z.strictObject({
  customerId: z.uuid().optional(),
  status: z.enum(ORDER_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
export type ListOrdersQuery = z.infer<typeof ListOrdersQuery>;

export const Uuid = z.uuid();

/** Validates input against a schema and returns every problem at once, each with its path. */
export function parseInput<S extends z.ZodType>(
  schema: S,
  input: unknown,
  root = "body",
): { ok: true; value: z.infer<S> } | { ok: false; issues: Issue[] } {
  const result = schema.safeParse(input);
  if (result.success) return { ok: true, value: result.data };
  return {
    ok: false,
    issues: result.error.issues.map((issue) => ({
      path: issue.path.length === 0 ? root : issue.path.map(String).join("."),
      message: issue.message,
    })),
  };
}
