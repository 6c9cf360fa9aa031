import { z } from "zod";

/** What a handler gets besides the payload. */
export interface JobContext {
  /** Pass this on to external calls (e.g. as an Idempotency-Key header) so that they, too, happen once. */
  idempotencyKey: string;
  attempt: number;
  workerId: string;
  /** Aborted shortly before the job's lease runs out; the attempt then counts as failed. */
  signal: AbortSignal;
}

/** Turns a job's payload into its result, which is stored as JSON. */
export type JobHandler = (payload: unknown, context: JobContext) => Promise<unknown>;

export type Handlers = ReadonlyMap<string, JobHandler>;

/**
 * Thrown for failures that retrying cannot fix (an invalid payload, an unknown kind):
 * the job goes straight to dead instead of using up its attempts.
 */
export class PermanentJobError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PermanentJobError";
  }
}

const InvoicePayload = z.strictObject({
  orderId: z.uuid(),
  currency: z.enum(["EUR", "USD", "GBP"]),
  lines: z
    .array(
      z.strictObject({
        sku: z.string().min(1),
        quantity: z.number().int().min(1),
        unitPriceCents: z.number().int().min(0),
      }),
    )
    .min(1),
});

/** The sample job: totals an order's invoice. Pure, so running it twice gives the same result. */
export async function renderInvoice(payload: unknown): Promise<{ orderId: string; currency: string; lineCount: number; totalCents: number }> {
  const parsed = InvoicePayload.safeParse(payload);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.map(String).join(".") || "payload"}: ${issue.message}`);
    throw new PermanentJobError(`invalid invoice.render payload: ${problems.join("; ")}`);
  }
  const { orderId, currency, lines } = parsed.data;
  const totalCents = lines.reduce((sum, line) => sum + line.quantity * line.unitPriceCents, 0);
  return { orderId, currency, lineCount: lines.length, totalCents };
}

export const defaultHandlers: Handlers = new Map<string, JobHandler>([["invoice.render", renderInvoice]]);
