import { z } from "zod";

/** A release's life in one environment: recorded pending, then verified or failed; rolled-back when abandoned. */
export const LEDGER_STATUSES = ["pending", "verified", "failed", "rolled-back"] as const;
export type LedgerStatus = (typeof LEDGER_STATUSES)[number];

const Sha = z.string().regex(/^[0-9a-f]{7,64}$/, "a commit SHA (7 to 64 lowercase hex digits)");
const EntryId = z.string().regex(/^[1-9][0-9]{0,9}$/, "a release number (1, 2, ...)");

export const LedgerImage = z.strictObject({
  image: z.string().min(1),
  tag: z.string().min(1),
  /** Required: a rollback must restore exactly the bytes that were verified, not whatever the tag points at now. */
  digest: z.string().regex(/^sha256:[0-9a-f]{64}$/, "sha256: and 64 lowercase hex digits"),
});
export type LedgerImage = z.infer<typeof LedgerImage>;

/**
 * What we read of `slipway migrate run --json`: the migrations this release applied (a failed rollout
 * may want them reverted) and the newest migration in the database after it (where `migrate revert --to`
 * returns to when this release is restored).
 */
export const MigrationsSummary = z.strictObject({
  status: z.string().min(1),
  applied: z.array(z.string().min(1)),
  head: z.string().min(1).nullable(),
});
export type MigrationsSummary = z.infer<typeof MigrationsSummary>;

/** What we read of `slipway scan gate --json`. */
export const ScanSummary = z.strictObject({
  passed: z.boolean(),
  counts: z.record(z.string(), z.record(z.string(), z.number().int().nonnegative())),
  failing: z.number().int().nonnegative(),
});
export type ScanSummary = z.infer<typeof ScanSummary>;

/**
 * The migrations one service applied in a release (`slipway migrate run --json`), with the image whose
 * code carries their `down()`: a rollback reverts them with that image, never with older code.
 */
export const ServiceMigrations = MigrationsSummary.extend({
  service: z.string().min(1),
  image: z.string().min(1).optional(),
});
export type ServiceMigrations = z.infer<typeof ServiceMigrations>;

/** One status change of a release, with its time: the ledger's own audit trail besides git's. */
export const StatusChange = z.strictObject({ status: z.enum(LEDGER_STATUSES), at: z.iso.datetime() });

export const LedgerEntry = z.strictObject({
  id: EntryId,
  sourceSha: Sha,
  images: z.array(LedgerImage).min(1),
  /** The environment's folder in the GitOps repository that this release edited (absent in old ledgers). */
  path: z.string().optional(),
  gitopsCommit: Sha.optional(),
  /** Old single-service form; new releases record `migrated`. */
  migrations: MigrationsSummary.optional(),
  migrated: z.array(ServiceMigrations).optional(),
  scan: ScanSummary.optional(),
  status: z.enum(LEDGER_STATUSES),
  at: z.iso.datetime(),
  /** Every status the release went through, oldest first (absent in old ledgers). */
  history: z.array(StatusChange).optional(),
  /** Set on the entry a rollback adds: the id of the release it restored. */
  restoredFrom: EntryId.optional(),
  /** Set on a promoted release: the environment and release whose verified images it took. */
  promotedFrom: z.strictObject({ environment: z.string().min(1), id: EntryId }).optional(),
});
export type LedgerEntry = z.infer<typeof LedgerEntry>;

/** `.slipway/ledger/<environment>.json` in the GitOps repository: entries oldest first, newest last. */
export const LedgerFile = z
  .strictObject({
    version: z.literal(1),
    environment: z.string().min(1),
    entries: z.array(LedgerEntry),
  })
  .superRefine((ledger, ctx) => {
    const seen = new Set<string>();
    ledger.entries.forEach((entry, index) => {
      if (seen.has(entry.id)) ctx.addIssue({ code: "custom", path: ["entries", index, "id"], message: `id ${JSON.stringify(entry.id)} appears twice` });
      seen.add(entry.id);
    });
  });
export type LedgerFile = z.infer<typeof LedgerFile>;

export const LedgerSettings = z
  .strictObject({
    keep: z
      .number()
      .int()
      .min(2)
      .max(1000)
      .optional()
      .meta({ description: "How many releases each environment's ledger keeps (oldest dropped first; git history keeps the rest). Default: 50." }),
  })
  .meta({ description: "Release ledger: one JSON file per environment in the GitOps repository (.slipway/ledger/<env>.json)." });
export type LedgerSettings = z.infer<typeof LedgerSettings>;
