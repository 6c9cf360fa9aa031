import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { z } from "zod";
import type { Io } from "../cli/command.js";
import { checkInputFile } from "../cli/paths.js";
import { ledgerInputInvalid, usageError } from "../errors.js";
import { parseSet } from "../gitops/input.js";
import type { LedgerImage, MigrationsSummary, ScanSummary } from "./schema.js";

/**
 * What the ledger commands (`ledger record`, `release begin`) read from the other commands' --json
 * reports and from --set flags: only the fields the ledger keeps; the rest stays in the pipeline's artifacts.
 */

function readJson(io: Io, flag: string, path: string): unknown {
  const file = resolve(io.cwd, path);
  if (!existsSync(file)) throw ledgerInputInvalid(flag, path, ["the file does not exist"]);
  checkInputFile(flag, path, file);
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw ledgerInputInvalid(flag, path, [`not JSON: ${error instanceof Error ? error.message : String(error)}`]);
  }
}

function problems(error: z.ZodError): string[] {
  return error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
}

const MigrateReport = z.object({
  status: z.string().min(1),
  applied: z.array(z.string()),
  final: z.object({ applied: z.array(z.object({ name: z.string().min(1) })) }),
});
const GateReport = z.object({
  passed: z.boolean(),
  counts: z.record(z.string(), z.record(z.string(), z.number().int().nonnegative())),
  failing: z.array(z.unknown()),
});

/** `slipway migrate run --json`: what was applied, and the newest migration in the database after it. */
export function migrationsFrom(io: Io, flag: string, path: string): MigrationsSummary {
  const parsed = MigrateReport.safeParse(readJson(io, flag, path));
  if (!parsed.success) throw ledgerInputInvalid(flag, path, problems(parsed.error));
  return { status: parsed.data.status, applied: parsed.data.applied, head: parsed.data.final.applied.at(-1)?.name ?? null };
}

/** `slipway scan gate --json`: passed, counts and how many findings failed it. */
export function scanFrom(io: Io, path: string): ScanSummary {
  const parsed = GateReport.safeParse(readJson(io, "--scan", path));
  if (!parsed.success) throw ledgerInputInvalid("--scan", path, problems(parsed.error));
  return { passed: parsed.data.passed, counts: parsed.data.counts, failing: parsed.data.failing.length };
}

/** --set IMAGE=TAG@sha256:DIGEST, digests required: a rollback must restore exactly the bytes released. */
export function imagesFrom(sets: string[] | undefined, usage: string): LedgerImage[] {
  if (!sets || sets.length === 0) throw usageError("give at least one --set IMAGE=TAG@sha256:DIGEST", usage);
  return sets.map((value) => {
    const target = parseSet(value);
    if (!target.digest) throw usageError(`--set ${JSON.stringify(value)} has no digest: the ledger records IMAGE=TAG@sha256:DIGEST`, usage);
    return { image: target.image, tag: target.tag, digest: target.digest };
  });
}
