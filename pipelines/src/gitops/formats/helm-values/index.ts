import { basename } from "node:path";
import picomatch from "picomatch";
import { formatImageRef, sameImage } from "../../../image/reference.js";
import type { ImageScalar } from "../../targets.js";
import { readImageScalar, updateImageScalar } from "../../targets.js";
import type { Edit, Format, FormatChange, FormatName, FormatOptions, FormatUpdate, HelmKeyPath, ImageTarget, Occurrence } from "../../types.js";
import type { Doc } from "../../yaml-edit.js";
import { child, childPair, getPath, isMap, parseYamlFile, resolve, scalarText, TextEdits, walk } from "../../yaml-edit.js";

/**
 * Helm values. Detected layouts, anywhere in the tree:
 *   image: { registry?, repository, tag, digest? }   (the `helm create` and Bitnami layouts)
 *   image: repo:tag                                   (one string)
 * plus the key paths listed in slipway.yaml `gitops.helm.images` for charts that use other names.
 * Also used by the HelmRelease format on `spec.values`.
 */
const VALUES_FILE = /^values(?:[-._][^/]*)?\.ya?ml$/;

export function isValuesFile(path: string, options: FormatOptions): boolean {
  if (VALUES_FILE.test(basename(path))) return true;
  return options.valuesGlobs ? picomatch(options.valuesGlobs)(path) : false;
}

/** `image.repository` + `image.tag` (+ `registry`, `digest`) at `field`. */
export interface ImageMap {
  kind: "map";
  map: unknown;
  keys: { repository: string; tag: string; digest: string; registry: string | null };
  occurrence: Occurrence;
}

export type HelmFound = ImageScalar | ImageMap;

function readImageMap(
  doc: Doc,
  content: string,
  node: unknown,
  keys: ImageMap["keys"],
  format: FormatName,
  object: string,
  field: string,
  rootForPaths?: unknown,
): ImageMap | null {
  const get = (key: string): unknown => (rootForPaths === undefined ? child(doc, node, key) : getPath(doc, rootForPaths, key.split(".")));
  const repository = scalarText(content, get(keys.repository));
  if (!repository) return null;
  const hasTag = rootForPaths === undefined ? childPair(doc, node, keys.tag) !== undefined : get(keys.tag) !== undefined;
  if (!hasTag) return null;
  const registry = keys.registry ? scalarText(content, get(keys.registry)) : null;
  const name = registry ? `${registry}/${repository}` : repository;
  const tag = scalarText(content, get(keys.tag)) ?? "";
  const digest = scalarText(content, get(keys.digest)) ?? "";
  return {
    kind: "map",
    map: rootForPaths ?? node,
    keys,
    occurrence: { format, object, field, image: name, value: formatImageRef({ name, tag: tag || undefined, digest: digest || undefined }) },
  };
}

/** Every image in a values tree rooted at `root`; `prefix` is the root's own key path for messages. */
export function scanValues(
  doc: Doc,
  content: string,
  root: unknown,
  prefix: string,
  object: string,
  format: FormatName,
  keyPaths: HelmKeyPath[],
): HelmFound[] {
  const found: HelmFound[] = [];
  const seen = new Set<unknown>();
  const join = (p: string): string => (prefix && p ? `${prefix}.${p}` : prefix || p);
  const standard = { repository: "repository", tag: "tag", digest: "digest", registry: "registry" };
  const visit = (value: unknown, path: string, key: string | number): void => {
    const node = resolve(doc, value);
    if (seen.has(node)) return;
    if (isMap(node)) {
      const item = readImageMap(doc, content, node, standard, format, object, join(path));
      if (item) {
        seen.add(node);
        found.push(item);
      }
    } else if (key === "image") {
      const item = readImageScalar(content, node, format, object, join(path));
      if (item) {
        seen.add(node);
        found.push(item);
      }
    }
  };
  visit(root, "", "");
  walk(doc, root, "", visit);
  for (const keyPath of keyPaths) {
    if (keyPath.image) {
      const node = getPath(doc, root, keyPath.image.split("."));
      const item = node !== undefined && !seen.has(node) ? readImageScalar(content, node, format, object, join(keyPath.image)) : null;
      if (item) {
        seen.add(node);
        found.push(item);
      }
    } else if (keyPath.repository && keyPath.tag) {
      const keys = { repository: keyPath.repository, tag: keyPath.tag, digest: keyPath.digest ?? "", registry: null };
      const item = readImageMap(doc, content, undefined, keys, format, object, join(keyPath.repository), root);
      if (item && !found.some((f) => f.occurrence.field === item.occurrence.field)) found.push(item);
    }
  }
  return found;
}

/** Applies targets to what scanValues found. */
export function updateValues(doc: Doc, edits: TextEdits, found: HelmFound[], targets: ImageTarget[]): Edit[] {
  const records: Edit[] = [];
  for (const item of found) {
    if (item.kind === "scalar") {
      const edit = updateImageScalar(edits, item, targets);
      if (edit) records.push(edit);
      continue;
    }
    const { occurrence, keys } = item;
    const name = occurrence.image as string;
    const target = targets.find((t) => sameImage(t.image, name));
    if (!target) continue;
    const byPath = keys.registry === null;
    const nodeOf = (key: string): unknown => (byPath ? getPath(doc, item.map, key.split(".")) : child(doc, item.map, key));
    const digestNode = keys.digest ? nodeOf(keys.digest) : undefined;
    const hasDigestKey = digestNode !== undefined;
    const next = formatImageRef({ name, tag: target.tag, digest: hasDigestKey ? target.digest : undefined });
    const note = target.digest && !hasDigestKey ? "these values have no digest key: the digest was not written" : undefined;
    if (next === occurrence.value) continue;
    edits.setScalar(nodeOf(keys.tag), target.tag, `${occurrence.field}.${keys.tag}`);
    // An emptied digest key lets the chart fall back to the tag instead of pinning the old image.
    if (hasDigestKey) edits.setScalar(digestNode, target.digest ?? "", `${occurrence.field}.${keys.digest}`);
    records.push({ format: occurrence.format, object: occurrence.object, field: occurrence.field, image: name, old: occurrence.value, new: next, ...(note ? { note } : {}) });
  }
  return records;
}

/** Where a format finds Helm values in a file: each YAML document with what scanValues found in it. */
export type ValuesScan = (content: string, path: string, options: FormatOptions) => { doc: Doc; found: HelmFound[] }[];

/** A format whose images are Helm values wherever `scan` finds them (values files, HelmRelease `spec.values`). */
export function valuesFormat(name: FormatName, scan: ValuesScan): Format {
  function extract(content: string, path: string, options: FormatOptions): Occurrence[] {
    return scan(content, path, options).flatMap((d) => d.found.map((f) => f.occurrence));
  }
  function update(content: string, change: FormatChange): FormatUpdate {
    const edits = new TextEdits(content, change.path);
    const records = scan(content, change.path, change.options).flatMap(({ doc, found }) => updateValues(doc, edits, found, change.images));
    return { content: edits.apply(), edits: records };
  }
  return { name, extract, update };
}

function scan(content: string, path: string, options: FormatOptions): { doc: Doc; found: HelmFound[] }[] {
  if (!isValuesFile(path, options)) return [];
  return parseYamlFile(content, path).map((doc) => ({
    doc,
    found: scanValues(doc, content, doc.contents, "", "values", "helm-values", options.helmKeyPaths),
  }));
}

export const helmValues: Format = valuesFormat("helm-values", scan);
