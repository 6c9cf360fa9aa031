import { z } from "zod";
import { MIGRATE_DEFAULTS, TRANSACTION_MODES } from "./constants.js";

/** How pending migrations are wrapped in transactions (TypeORM's own modes, same names). */
export const TransactionMode = z
  .enum(TRANSACTION_MODES)
  .meta({ description: "all: one transaction for the run; each: one per migration (default); none: no transaction." });
export type TransactionMode = z.infer<typeof TransactionMode>;

const transaction = TransactionMode.optional().meta({
  description:
    "Transaction mode of `slipway migrate run` and `revert`. Default `each`. A migration may opt out with `transaction = false` (each) or in with `transaction = true` (none).",
});
const destructive = z
  .enum(["warn", "block"])
  .optional()
  .meta({
    description:
      "What a destructive statement found in a pending migration (DROP TABLE/COLUMN, type change, rename, NOT NULL without default on a filled table) does: `warn` (default) reports it, `block` stops the run before anything is applied.",
  });
const allowDestructiveRevert = z
  .union([
    z.boolean(),
    z.array(z.string().regex(/[0-9]{13}/, "a migration name as TypeORM records it (ending in its 13-digit timestamp)")).min(1),
  ])
  .optional()
  .meta({
    description:
      "Revert migrations whose down() destroys data (drops a table or column that holds data, truncates, deletes rows, changes a column's type on a table with rows) or cannot be checked (missing or empty down(), `transaction = false`, fails when tried): `true` for all, or a list of migration names. Default: such a revert stops before anything is reverted (SLIPWAY_MIGRATE_REVERT_DESTRUCTIVE).",
  });
const rollbackOrder = z
  .enum(["git-first", "database-first"])
  .optional()
  .meta({
    description:
      "In a rollback (`dagger call rollback`), what returns first for this service: `git-first` (default: the restored code runs on the newer schema for the minutes between, which expand-then-contract migrations make safe) or `database-first` (the migrations are reverted before the Git commit, for a service whose older code cannot run on the newer schema; the abandoned code then runs on the older schema meanwhile).",
  });
const lockTimeout = z
  .number()
  .int()
  .min(0)
  .max(3600)
  .optional()
  .meta({ description: "Seconds a run waits for another run's migration lock before failing. Default 60." });

/** `migrate.services.<name>` in slipway.yaml: what `slipway migrate --service <name>` uses unless flags say otherwise. */
export const ServiceMigrateSettings = z
  .strictObject({
    dataSource: z
      .string()
      .min(1)
      .refine((p) => !p.startsWith("/") && !p.split(/[\\/]/).includes(".."), { message: "must be a path relative to the repository root, without '..'" })
      .optional()
      .meta({ description: "The service's compiled DataSource module, relative to the repository root, e.g. `services/api/dist/data-source.js`." }),
    transaction,
    destructive,
    lockTimeout,
    allowDestructiveRevert,
    rollbackOrder,
  })
  .meta({ description: "Migration settings of one service; each overrides the same setting of `migrate:`." });
export type ServiceMigrateSettings = z.infer<typeof ServiceMigrateSettings>;

/** `migrate:` in slipway.yaml. */
export const MigrateSettings = z
  .strictObject({
    transaction,
    destructive,
    lockTimeout,
    allowDestructiveRevert,
    rollbackOrder,
    services: z
      .record(
        // The service name rule of config/schema.ts ServiceName (not imported: that module imports this one).
        z.string().regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, "a service name: lowercase letters, digits and '-'"),
        ServiceMigrateSettings,
      )
      .optional()
      .meta({ description: "Per-service settings, by service name (`slipway migrate --service NAME`)." }),
  })
  .meta({ description: "TypeORM migrations: transaction mode, destructive-statement policy, lock timeout, per-service DataSource and settings." });
export type MigrateSettings = z.infer<typeof MigrateSettings>;

export { MIGRATE_DEFAULTS } from "./constants.js";
// The defaults cover every setting but the per-service and opt-in ones (a new setting must get one there).
MIGRATE_DEFAULTS satisfies Required<Omit<MigrateSettings, "services" | "allowDestructiveRevert" | "rollbackOrder">>;
