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

export const LedgerEntry = z.strictObject({
  id: EntryId,
  sourceSha: Sha,
  images: z.array(LedgerImage).min(1),
  gitopsCommit: Sha.optional(),
  migrations: MigrationsSummary.optional(),
  scan: ScanSummary.optional(),
  status: z.enum(LEDGER_STATUSES),
  at: z.iso.datetime(),
  /** Set on the entry a rollback adds: the id of the release it restored. */
  restoredFrom: EntryId.optional(),
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
