// `slipway acr prune` (issue 12, registry hygiene): deletes the manifests of one repository that no release
// ledger of any environment references, keeping the newest N verified releases of each environment, every
// digest a ledger entry of ANY environment names (promote shares digests between environments; a failed or
// rolled-back entry still documents what ran), manifests younger than --min-age (a release may have pushed
// them and not yet recorded them) and locked ones. Plan first, pure; then the deletes, one at a time, oldest
// first, each bound in time; a failure stops and says exactly what was deleted and what is left.
import { acrPruneIncomplete, acrPruneUnsupported, isSlipwayError } from "../errors.js";
import type { LedgerFile } from "../ledger/schema.js";
import { isAcrMode } from "./registry.js";
import type { RegistryAccess } from "./verify.js";
import { acrClient, guarded } from "./verify.js";

/** What we read of ACR's manifest properties (REST "Manifests - Get List", the SDK's ArtifactManifestProperties). */
export interface StoredManifest {
  digest: string;
  tags: string[];
  lastUpdatedOn: string;
  /** ACR changeableAttributes: false once locked. */
  canDelete: boolean;
  canWrite: boolean;
  /** An index's children (multi-arch): deleting one would break the index. */
  children: string[];
}

export interface PruneDecision {
  digest: string;
  tags: string[];
  lastUpdatedOn: string;
  action: "delete" | "keep";
  /** Why it is kept (every reason), or why it may go. */
  reasons: string[];
}

export interface PrunePlan {
  registry: string;
  repository: string;
  keep: number;
  /** Environments whose ledger was read, with how many entries each. */
  ledgers: Array<{ environment: string; entries: number }>;
  /** Oldest first: the order of the deletes. */
  delete: PruneDecision[];
  keepList: PruneDecision[];
}

export interface PruneResult {
  registry: string;
  repository: string;
  dryRun: boolean;
  complete: boolean;
  deleted: string[];
  /** Planned deletions not done (a failure stopped the run). */
  left: string[];
  plan: PrunePlan;
}

/** The path of an image reference inside its registry: `host[:port]/shop/api` -> `shop/api`. */
function repositoryOf(image: string): string {
  const slash = image.indexOf("/");
  const first = slash < 0 ? "" : image.slice(0, slash);
  // A first component with a dot, a colon or "localhost" is a registry host (the rule docker's reference parser uses).
  return slash >= 0 && (first.includes(".") || first.includes(":") || first === "localhost") ? image.slice(slash + 1) : image;
}

/**
 * Why each digest must stay, from every ledger: the newest `keep` verified releases of each environment that
 * ran this repository, the current (newest) and pending entries, and any other entry at all. Digests are
 * content addresses: a digest a ledger names under another repository's name is protected too.
 */
export function protectedDigests(ledgers: LedgerFile[], repository: string, keep: number): Map<string, string[]> {
  const reasons = new Map<string, string[]>();
  const add = (digest: string, reason: string) => reasons.set(digest, [...(reasons.get(digest) ?? []), reason]);
  for (const ledger of ledgers) {
    const env = ledger.environment;
    const newest = ledger.entries.at(-1);
    const verified = ledger.entries.filter((e) => e.status === "verified" && e.images.some((i) => repositoryOf(i.image) === repository)).slice(-keep);
    for (const entry of ledger.entries) {
      for (const image of entry.images) {
        if (entry === newest) add(image.digest, `${env}: run by the current release ${entry.id} (${entry.status})`);
        else if (entry.status === "pending") add(image.digest, `${env}: release ${entry.id} is pending`);
        else if (verified.includes(entry)) add(image.digest, `${env}: release ${entry.id}, one of the last ${keep} verified`);
        else add(image.digest, `${env}: referenced by release ${entry.id} (${entry.status})`);
      }
    }
  }
  return reasons;
}

export function planPrune(input: {
  registry: string;
  repository: string;
  ledgers: LedgerFile[];
  manifests: StoredManifest[];
  keep: number;
  minAgeMs: number;
  now: Date;
}): PrunePlan {
  const referenced = protectedDigests(input.ledgers, input.repository, input.keep);
  const decisions: PruneDecision[] = input.manifests.map((m) => {
    const reasons = [...(referenced.get(m.digest) ?? [])];
    const age = input.now.getTime() - new Date(m.lastUpdatedOn).getTime();
    if (age < input.minAgeMs) reasons.push(`pushed ${Math.max(0, Math.round(age / 1000))} s ago, younger than --min-age (a release may not have recorded it yet)`);
    if (!m.canDelete || !m.canWrite) reasons.push("locked in the registry (canDelete/canWrite false)");
    return { digest: m.digest, tags: [...m.tags].sort(), lastUpdatedOn: m.lastUpdatedOn, action: reasons.length > 0 ? "keep" : "delete", reasons };
  });
  // A child of a kept index (multi-arch) stays with it.
  for (const parent of input.manifests) {
    if (decisions.find((d) => d.digest === parent.digest)?.action !== "keep") continue;
    for (const child of parent.children) {
      const d = decisions.find((x) => x.digest === child);
      if (d) {
        if (d.action === "delete") d.reasons = [];
        d.action = "keep";
        d.reasons.push(`part of the kept index ${parent.digest}`);
      }
    }
  }
  for (const d of decisions) {
    if (d.action === "delete") d.reasons = [d.tags.length === 0 ? "untagged, referenced by no ledger" : `tags ${d.tags.join(", ")}; referenced by no ledger`];
  }
  const byAge = (a: PruneDecision, b: PruneDecision) => a.lastUpdatedOn.localeCompare(b.lastUpdatedOn) || a.digest.localeCompare(b.digest);
  return {
    registry: input.registry,
    repository: input.repository,
    keep: input.keep,
    ledgers: input.ledgers.map((l) => ({ environment: l.environment, entries: l.entries.length })),
    delete: decisions.filter((d) => d.action === "delete").sort(byAge),
    keepList: decisions.filter((d) => d.action === "keep").sort(byAge),
  };
}

/** Every manifest of the repository, tagged or not, through ACR's /acr/v1 listing (paged by the SDK's Link header). */
export async function listManifests(access: RegistryAccess, repository: string): Promise<StoredManifest[]> {
  if (!isAcrMode(access.identity.mode)) throw acrPruneUnsupported(access.registry);
  const pages = acrClient(access).getRepository(repository).listManifestProperties({ order: "LastUpdatedOnDescending" }).byPage({ maxPageSize: 100 });
  const manifests: StoredManifest[] = [];
  // Each page is its own request, raced against the registry deadline (an async iterator takes no signal).
  for (let n = 1; ; n += 1) {
    const page = await guarded(access, `listing the manifests of ${repository} (page ${n})`, () => pages.next());
    if (page === null) return manifests; // 404: no such repository, nothing to prune
    if (page.done) return manifests;
    for (const m of page.value) {
      manifests.push({
        digest: m.digest,
        tags: m.tags,
        lastUpdatedOn: m.lastUpdatedOn.toISOString(),
        canDelete: m.canDelete !== false,
        canWrite: m.canWrite !== false,
        children: m.relatedArtifacts.map((r) => r.digest),
      });
    }
  }
}

/**
 * Deletes the plan's manifests, oldest first (ACR deletes a manifest with its tags). A manifest already gone
 * (404) counts as deleted. The first failure stops the run: SLIPWAY_ACR_PRUNE_INCOMPLETE names what was
 * deleted and what is left, after `onProgress` has reported each delete.
 */
export async function applyPrune(access: RegistryAccess, plan: PrunePlan, onProgress: (line: string) => void = () => {}): Promise<{ deleted: string[] }> {
  const client = acrClient(access);
  const deleted: string[] = [];
  const todo = plan.delete.map((d) => d.digest);
  for (const [n, digest] of todo.entries()) {
    try {
      await guarded(access, `deleting ${plan.repository}@${digest}`, (abortSignal) => client.getArtifact(plan.repository, digest).delete({ abortSignal }));
    } catch (error) {
      const message = isSlipwayError(error) ? `${error.code}: ${error.message}` : error instanceof Error ? error.message : String(error);
      throw Object.assign(acrPruneIncomplete(`${plan.registry}/${plan.repository}`, deleted, todo.slice(n), message), { deleted, left: todo.slice(n) });
    }
    deleted.push(digest);
    onProgress(`deleted ${plan.registry}/${plan.repository}@${digest}`);
  }
  return { deleted };
}

function short(digest: string): string {
  return digest.slice(0, 19);
}

/** The plan as a person reads it: what goes, what stays and why. */
export function renderPrunePlan(plan: PrunePlan, dryRun: boolean): string {
  const lines = [
    `PRUNE PLAN for ${plan.registry}/${plan.repository} (keep the last ${plan.keep} verified per environment and everything a ledger references)`,
    `ledgers read: ${plan.ledgers.map((l) => `${l.environment} (${l.entries} entries)`).join(", ")}`,
    "",
    `Delete (${plan.delete.length}), oldest first:`,
    ...plan.delete.map((d) => `  - ${d.digest}  ${d.lastUpdatedOn}  ${d.reasons.join("; ")}`),
    ...(plan.delete.length === 0 ? ["  nothing"] : []),
    "",
    `Keep (${plan.keepList.length}):`,
    ...plan.keepList.map((d) => `  = ${short(d.digest)}…  ${d.tags.length ? `[${d.tags.join(", ")}] ` : ""}${d.reasons.join("; ")}`),
  ];
  if (dryRun) lines.push("", "DRY RUN: nothing was deleted. Run the same command without --dry-run to delete the manifests above.");
  return `${lines.join("\n")}\n`;
}
