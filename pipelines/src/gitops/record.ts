import type { Edit, ImageTarget, PolicyTarget } from "./types.js";

/**
 * The change record (Flux update.Result, Kargo step output): file -> object -> what changed.
 * Commit messages, reports and `--json` output are all rendered from it.
 */
export interface FieldChange {
  field: string;
  format: Edit["format"];
  image?: string;
  old: string;
  new: string;
  marker?: string;
  note?: string;
}

export interface ChangeRecord {
  /** Repo-relative file -> object id -> changed fields, sorted. */
  files: Record<string, Record<string, FieldChange[]>>;
  /** Targets that changed at least one field. */
  changed: string[];
  /** Targets found only where they already had the requested value. */
  alreadyAt: string[];
  /** Targets found nowhere (an error unless --allow-missing). */
  missing: string[];
  /** `file:line image`: places that name a target where no format could edit it (an error unless --allow-unedited). */
  unedited: string[];
}

export function targetLabel(target: ImageTarget | PolicyTarget): string {
  const value = `${target.tag}${target.digest ? `@${target.digest}` : ""}`;
  return "policy" in target ? `${target.policy}=${target.image}:${value}` : `${target.image}=${value}`;
}

export function buildRecord(
  editsByFile: Map<string, Edit[]>,
  status: { changed: string[]; alreadyAt: string[]; missing: string[]; unedited: string[] },
): ChangeRecord {
  const files: ChangeRecord["files"] = {};
  for (const file of [...editsByFile.keys()].sort()) {
    const objects: Record<string, FieldChange[]> = {};
    for (const edit of editsByFile.get(file) ?? []) {
      const { object, ...rest } = edit;
      const change: FieldChange = { field: rest.field, format: rest.format, old: rest.old, new: rest.new };
      if (rest.image) change.image = rest.image;
      if (rest.marker) change.marker = rest.marker;
      if (rest.note) change.note = rest.note;
      (objects[object] ??= []).push(change);
    }
    files[file] = objects;
  }
  return { files, ...status };
}

export function isEmpty(record: ChangeRecord): boolean {
  return Object.keys(record.files).length === 0;
}

export function flatten(record: ChangeRecord): Array<FieldChange & { file: string; object: string }> {
  return Object.entries(record.files).flatMap(([file, objects]) =>
    Object.entries(objects).flatMap(([object, changes]) => changes.map((c) => ({ file, object, ...c }))),
  );
}

/** Human summary for the terminal. */
export function renderRecord(record: ChangeRecord, dryRun: boolean): string {
  const lines: string[] = [];
  for (const [file, objects] of Object.entries(record.files)) {
    lines.push(file);
    for (const [object, changes] of Object.entries(objects)) {
      for (const c of changes) {
        lines.push(`  ${object} ${c.field}: ${c.old} -> ${c.new}${c.marker ? `  (marker ${c.marker})` : ""}${c.note ? `  [${c.note}]` : ""}`);
      }
    }
  }
  for (const label of record.alreadyAt) lines.push(`already at ${label}`);
  for (const label of record.missing) lines.push(`not found (allowed): ${label}`);
  for (const place of record.unedited) lines.push(`not edited (allowed): ${place}`);
  const count = flatten(record).length;
  const fileCount = Object.keys(record.files).length;
  lines.push(
    count === 0
      ? "nothing to change"
      : `${dryRun ? "would change" : "changed"} ${count} field${count === 1 ? "" : "s"} in ${fileCount} file${fileCount === 1 ? "" : "s"}`,
  );
  return `${lines.join("\n")}\n`;
}

/** Short names of what moved: `api 1.4.0, worker 2.0.1`. */
function summary(record: ChangeRecord): string {
  const seen = new Map<string, string>();
  for (const c of flatten(record)) {
    const name = (c.image ?? c.marker ?? c.field).split("/").pop() ?? c.field;
    const value = c.new.includes(":") && c.image && c.new.startsWith(c.image) ? c.new.slice(c.image.length + 1) : c.new;
    if (!seen.has(name)) seen.set(name, value);
  }
  return [...seen].map(([n, v]) => `${n} ${v.length > 40 ? `${v.slice(0, 40)}...` : v}`).join(", ");
}

/**
 * The commit message: a subject naming what moved, one line per changed field, and the source
 * commit as a git trailer (`git interpret-trailers` reads it; the verifier and ledger look it up).
 * A template from --message-from may use {{summary}} and {{changes}}.
 */
export function renderCommitMessage(record: ChangeRecord, sourceSha: string | undefined, template?: string): string {
  const changes = flatten(record)
    .map((c) => `- ${c.file} ${c.object} ${c.field}: ${c.old} -> ${c.new}`)
    .join("\n");
  const body = template
    ? template.replaceAll("{{summary}}", summary(record)).replaceAll("{{changes}}", changes).trimEnd()
    : `chore(gitops): bump ${summary(record)}\n\n${changes}`;
  return `${body}\n${sourceSha ? `\nSlipway-Source-Commit: ${sourceSha}\n` : ""}`;
}
