import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, posix, relative, resolve as resolvePath } from "node:path";
import picomatch from "picomatch";
import { glob } from "tinyglobby";
import { gitopsDirNotFound, gitopsImageNotFound, gitopsUnedited, gitopsVerifyFailed } from "../errors.js";
import { MARKER_TOKEN } from "./formats/flux-markers/index.js";
import { FORMATS } from "./formats/registry.js";
import { parseImageRef, sameImage, screenToken } from "../image/reference.js";
import type { ChangeRecord } from "./record.js";
import { buildRecord, targetLabel } from "./record.js";
import type { Edit, FormatOptions, ImageTarget, Occurrence, PolicyTarget } from "./types.js";
import type { Doc } from "./yaml-edit.js";
import { isScalar, objectId, parseYamlFile, walk } from "./yaml-edit.js";
import { isKubernetesObject } from "./formats/helm-values/index.js";
import { realInside, symlinksUnder } from "./paths.js";

export interface BumpInput {
  /** Root of the GitOps checkout; file names in the record are relative to it. */
  root: string;
  /** Only files under this folder (relative to root). */
  path?: string;
  images: ImageTarget[];
  policies: PolicyTarget[];
  options: FormatOptions;
  allowMissing?: boolean;
  /** Bump what can be edited even where a target is named in a place no format edits (listed in the record). */
  allowUnedited?: boolean;
  dryRun?: boolean;
}

export interface BumpResult {
  record: ChangeRecord;
  /** Repo-relative files written (none in dry-run). */
  written: string[];
}

/** YAML files and extension-less `Kustomization` files; never inside .git or node_modules. */
const PATTERNS = ["**/*.yaml", "**/*.yml", "**/Kustomization"];
const IGNORE = ["**/.git/**", "**/node_modules/**"];

function matchesImage(target: ImageTarget, occurrence: Occurrence): boolean {
  if (occurrence.image && sameImage(target.image, occurrence.image)) return true;
  return occurrence.alias !== undefined && sameImage(target.image, occurrence.alias);
}

function policyOf(marker: string): string {
  return marker.split(":").slice(0, 2).join(":");
}

/**
 * The orchestrator (Flux image-automation-controller internal/update): list files, screen them
 * cheaply, let each format extract and update, verify every edit by extracting again, and write back
 * only files that changed, and only once every file has been verified (nothing half-written).
 */
export async function bump(input: BumpInput): Promise<BumpResult> {
  const root = resolvePath(input.root);
  if (!existsSync(root) || !statSync(root).isDirectory()) throw gitopsDirNotFound(input.root, "GitOps repository");
  const base = resolvePath(root, input.path ?? ".");
  if (!existsSync(base) || !statSync(base).isDirectory() || relative(root, base).startsWith("..")) {
    throw gitopsDirNotFound(input.path ?? ".", "path");
  }
  const manifests = await manifestFiles(root, realInside(root, relative(root, base)).real);
  const files = [...manifests.keys()].sort();
  const tokens = input.images.map((t) => screenToken(t.image));
  if (input.policies.length > 0) tokens.push(MARKER_TOKEN);

  const editsByFile = new Map<string, Edit[]>();
  const contents = new Map<string, string>();
  const editedKeys = new Set<string>();
  const matched: Occurrence[] = [];
  const unedited: Array<{ file: string; line: number; image: string }> = [];
  const key = (file: string, o: { format: string; object: string; field: string }): string => `${file}\0${o.format}\0${o.object}\0${o.field}`;

  for (const file of files) {
    const original = readFileSync(join(root, file), "utf8");
    if (!tokens.some((t) => original.includes(t))) continue;
    let current = original;
    const fileEdits: Edit[] = [];
    // Per target, the objects (`Deployment/prod/api`, `values`) where some format found it.
    const handled = new Map<ImageTarget, Set<string>>();
    for (const format of FORMATS.values()) {
      const found = format.extract(current, file, input.options);
      for (const o of found) {
        const isMatch = input.images.some((t) => matchesImage(t, o)) || (o.marker !== undefined && input.policies.some((p) => p.policy === policyOf(o.marker as string)));
        if (isMatch) matched.push(Object.assign({ file }, o));
        for (const t of input.images) if (matchesImage(t, o)) handled.set(t, (handled.get(t) ?? new Set()).add(o.object));
      }
      if (found.length === 0) continue;
      const result = format.update(current, { path: file, images: input.images, policies: input.policies, options: input.options });
      if (result.edits.length === 0) continue;
      current = result.content;
      fileEdits.push(...result.edits);
    }
    const named = input.images.filter((t) => original.includes(screenToken(t.image)));
    if (named.length > 0) unedited.push(...uneditedPlaces(file, original, named, handled));
    if (fileEdits.length === 0) continue;
    verify(file, current, fileEdits, input.options);
    // The real file is edited (once, however many links lead to it); the record says which links led there.
    const links = manifests.get(file) ?? [];
    if (links.length > 0) for (const e of fileEdits) e.note = [e.note, `through link ${links.join(", ")}`].filter(Boolean).join("; ");
    for (const e of fileEdits) editedKeys.add(key(file, e));
    editsByFile.set(file, fileEdits);
    contents.set(file, current);
  }

  const status = { changed: [] as string[], alreadyAt: [] as string[], missing: [] as string[], unedited: unedited.map((u) => `${u.file}:${u.line} ${u.image}`) };
  const classify = (label: string, hits: Array<Occurrence & { file?: string }>): void => {
    if (hits.length === 0) status.missing.push(label);
    else if (hits.some((o) => editedKeys.has(key(o.file ?? "", o)))) status.changed.push(label);
    else status.alreadyAt.push(label);
  };
  for (const t of input.images) classify(targetLabel(t), matched.filter((o) => matchesImage(t, o)));
  for (const p of input.policies) classify(targetLabel(p), matched.filter((o) => o.marker !== undefined && policyOf(o.marker) === p.policy));
  if (status.missing.length > 0 && !input.allowMissing) {
    throw gitopsImageNotFound(status.missing, relative(process.cwd(), base) || ".");
  }
  if (unedited.length > 0 && !input.allowUnedited) throw gitopsUnedited(unedited);

  const written: string[] = [];
  if (!input.dryRun) {
    for (const [file, content] of contents) {
      writeFileSync(join(root, file), content);
      written.push(file);
    }
  }
  return { record: buildRecord(editsByFile, status), written };
}

const isManifestName = picomatch(PATTERNS);

/**
 * The manifests under `start` (real repo-relative path): real path -> the links that lead to it. The glob
 * follows no link (one to `/` would walk the whole filesystem); each link is resolved by `realInside`,
 * which refuses any that leaves the repository, and one that stays inside is followed: a linked folder is
 * walked in its real place, a linked file named like a manifest is read at its real path. So every file is
 * edited once, at its real path, and nothing outside the repository is ever read or written.
 */
async function manifestFiles(root: string, start: string): Promise<Map<string, string[]>> {
  const files = new Map<string, string[]>();
  const queue = [start];
  const walked = new Set<string>();
  while (queue.length > 0) {
    const dir = queue.shift() as string;
    if (walked.has(dir)) continue;
    walked.add(dir);
    for (const name of await glob(PATTERNS, { cwd: join(root, dir), ignore: IGNORE, dot: false, onlyFiles: true, followSymbolicLinks: false })) {
      const file = posix.normalize(posix.join(dir, name));
      if (!files.has(file)) files.set(file, []);
    }
    for (const link of symlinksUnder(root, dir)) {
      const { real } = realInside(root, link);
      const absolute = join(root, real);
      if (!existsSync(absolute)) continue;
      if (statSync(absolute).isDirectory()) queue.push(real);
      else if (isManifestName(link)) files.set(real, [...(files.get(real) ?? []), link]);
    }
  }
  return files;
}

/**
 * Where a file names a target that no format extracted: every scalar that is a reference to it with a tag
 * or digest (an Argo Rollout's container, a CRD, an env value), and in documents that are not Kubernetes
 * objects also the bare name (a values layout we do not detect, `repo: r.io/api` + `version: 1.0`). A bare
 * name in a Kubernetes object (a Flux ImageRepository's `spec.image`) carries no tag to move and is fine.
 * Comments, labels and annotations are not counted: nothing pulls an image from them.
 */
function uneditedPlaces(
  file: string,
  content: string,
  targets: ImageTarget[],
  handled: Map<ImageTarget, Set<string>>,
): Array<{ file: string; line: number; image: string }> {
  const places: Array<{ file: string; line: number; image: string }> = [];
  parseYamlFile(content, file).forEach((doc: Doc, index) => {
    const values = !isKubernetesObject(doc, content);
    const object = objectId(doc, content, index);
    // A document where a format found the target is handled (the edit there is verified); the others are not.
    const open = targets.filter((t) => !handled.get(t)?.has(object) && !(values && handled.get(t)?.has("values")));
    if (open.length === 0) return;
    walk(doc, doc.contents, "", (node, path) => {
      // Labels and annotations describe; nothing pulls an image from them.
      if (!values && (path === "metadata" || path.startsWith("metadata."))) return;
      if (!isScalar(node) || typeof node.value !== "string" || !node.range) return;
      const ref = parseImageRef(node.value);
      if (!ref || (!values && ref.tag === undefined && ref.digest === undefined)) return;
      const target = open.find((t) => sameImage(t.image, ref.name));
      if (!target) return;
      const line = content.slice(0, node.range[0]).split("\n").length;
      if (!places.some((p) => p.line === line)) places.push({ file, line, image: target.image });
    });
  });
  return places;
}

/** Renovate auto-replace: re-extract the new text and check every edited field reads as intended. */
function verify(file: string, content: string, edits: Edit[], options: FormatOptions): void {
  const byFormat = new Map<string, Occurrence[]>();
  for (const edit of edits) {
    let occurrences = byFormat.get(edit.format);
    if (!occurrences) {
      occurrences = FORMATS.get(edit.format)?.extract(content, file, options) ?? [];
      byFormat.set(edit.format, occurrences);
    }
    const now = occurrences.find((o) => o.object === edit.object && o.field === edit.field);
    if (!now || now.value !== edit.new) {
      throw gitopsVerifyFailed(file, edit.object, edit.field, edit.new, now ? now.value : "(field no longer found)");
    }
  }
}
