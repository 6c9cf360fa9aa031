import { basename } from "node:path";
import type { YAMLMap } from "yaml";
import { formatImageRef, sameImage } from "../../../image/reference.js";
import type { Edit, Format, FormatChange, FormatUpdate, Occurrence } from "../../types.js";
import type { Doc } from "../../yaml-edit.js";
import { child, childPair, isMap, isSeq, objectId, parseYamlFile, resolve, scalarText, TextEdits } from "../../yaml-edit.js";

/**
 * Kustomize `images:` (kustomize api/types/image.go): `name` selects the image in the resources,
 * `newName` renames it, `newTag` and `digest` set the reference (both are written when both are set).
 */
export const KUSTOMIZATION_FILES = new Set(["kustomization.yaml", "kustomization.yml", "Kustomization"]);

interface Entry {
  doc: Doc;
  map: YAMLMap;
  name: string;
  newName: string | null;
  occurrence: Occurrence;
}

function scan(content: string, path: string): Entry[] {
  if (!KUSTOMIZATION_FILES.has(basename(path))) return [];
  const entries: Entry[] = [];
  parseYamlFile(content, path).forEach((doc, index) => {
    const images = resolve(doc, child(doc, doc.contents, "images"));
    if (!isSeq(images)) return;
    const object = objectId(doc, content, index);
    images.items.forEach((item, i) => {
      const map = resolve(doc, item);
      if (!isMap(map)) return;
      const name = scalarText(content, child(doc, map, "name"));
      if (!name) return;
      const newName = scalarText(content, child(doc, map, "newName"));
      const tag = scalarText(content, child(doc, map, "newTag")) ?? undefined;
      const digest = scalarText(content, child(doc, map, "digest")) ?? undefined;
      const image = newName ?? name;
      entries.push({
        doc,
        map,
        name,
        newName,
        occurrence: { format: "kustomize", object, field: `images[${i}]`, image, ...(newName ? { alias: name } : {}), value: formatImageRef({ name: image, tag: tag || undefined, digest: digest || undefined }) },
      });
    });
  });
  return entries;
}

function extract(content: string, path: string): Occurrence[] {
  return scan(content, path).map((e) => e.occurrence);
}

function update(content: string, change: FormatChange): FormatUpdate {
  const edits = new TextEdits(content, change.path);
  const records: Edit[] = [];
  for (const entry of scan(content, change.path)) {
    // `--set` may name the image as the resources spell it (`name`) or as it is renamed to (`newName`).
    const target = change.images.find((t) => sameImage(t.image, entry.name) || (entry.newName !== null && sameImage(t.image, entry.newName)));
    if (!target) continue;
    const image = entry.occurrence.image as string;
    const next = formatImageRef({ name: image, tag: target.tag, digest: target.digest });
    if (next === entry.occurrence.value) continue;
    const field = entry.occurrence.field;
    setOrInsert(edits, entry, "newTag", target.tag, field);
    if (target.digest) setOrInsert(edits, entry, "digest", target.digest, field);
    // A digest left from an earlier release would pin the old image: kustomize prefers it over the tag.
    else if (childPair(entry.doc, entry.map, "digest")) edits.deletePair(entry.map, "digest", `${field}.digest`);
    records.push({ format: "kustomize", object: entry.occurrence.object, field, image, old: entry.occurrence.value, new: next });
  }
  return { content: edits.apply(), edits: records };
}

function setOrInsert(edits: TextEdits, entry: Entry, key: string, value: string, field: string): void {
  const pair = childPair(entry.doc, entry.map, key);
  if (pair) edits.setScalar(pair.value, value, `${field}.${key}`);
  else edits.insertPair(entry.map, key, value, `${field}.${key}`);
}

export const kustomize: Format = { name: "kustomize", extract, update };
