// Values of `slipway migrate` that its flags and help need apart from ./schema.ts: importing them must not
// load zod (issue 16, start-up: `slipway migrate status --help`).

/** How pending migrations are wrapped in transactions (TypeORM's own modes, same names). */
export const TRANSACTION_MODES = ["all", "each", "none"] as const;

/** What `migrate run` and `revert` do without a setting (./schema.ts checks it covers every setting). */
export const MIGRATE_DEFAULTS = { transaction: "each", destructive: "warn", lockTimeout: 60 } as const;
