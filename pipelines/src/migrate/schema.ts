import { z } from "zod";

/** How pending migrations are wrapped in transactions (TypeORM's own modes, same names). */
export const TransactionMode = z
  .enum(["all", "each", "none"])
  .meta({ description: "all: one transaction for the run; each: one per migration (default); none: no transaction." });
export type TransactionMode = z.infer<typeof TransactionMode>;

/** `migrate:` in slipway.yaml. */
export const MigrateSettings = z
  .strictObject({
    transaction: TransactionMode.optional().meta({
      description:
        "Transaction mode of `slipway migrate run` and `revert`. Default `each`. A migration may opt out with `transaction = false` (each) or in with `transaction = true` (none).",
    }),
    destructive: z
      .enum(["warn", "block"])
      .optional()
      .meta({
        description:
          "What a destructive statement found in a pending migration (DROP TABLE/COLUMN, type change, rename, NOT NULL without default on a filled table) does: `warn` (default) reports it, `block` stops the run before anything is applied.",
      }),
    lockTimeout: z
      .number()
      .int()
      .min(0)
      .max(3600)
      .optional()
      .meta({ description: "Seconds a run waits for another run's migration lock before failing. Default 60." }),
  })
  .meta({ description: "TypeORM migrations: transaction mode, destructive-statement policy, lock timeout." });
export type MigrateSettings = z.infer<typeof MigrateSettings>;

export const MIGRATE_DEFAULTS = { transaction: "each", destructive: "warn", lockTimeout: 60 } as const satisfies Required<MigrateSettings>;
