import { basename } from "node:path";
import picomatch from "picomatch";
import { formatImageRef, isValidDigest, parseImageRef, sameImage } from "../../../image/reference.js";
import type { ImageScalar } from "../../targets.js";
import { readImageScalar, updateImageScalar } from "../../targets.js";
import type { Edit, Format, FormatChange, FormatName, FormatOptions, FormatUpdate, HelmKeyPath, ImageTarget, Occurrence } from "../../types.js";
import type { Doc } from "../../yaml-edit.js";
import { child, childPair, getPath, isMap, parseYamlFile, resolve, scalarText, TextEdits, walk } from "../../yaml-edit.js";

/**
 * Helm values. Detected layouts, anywhere in the tree:
 *   image: { registry?, repository, tag, digest? }   (the `helm create` and Bitnami layouts)
 *   image: { registry?, image, tag, digest? }        (ingress-nginx `controller.image`; Flux v1's helm-operator
 *                                                     documented `image: repo/image` + `tag:` side by side)
 *   image: repo:tag                                   (one string)
 * plus the key paths listed in slipway.yaml `gitops.helm.images` for charts that use other names.
 * A tag written `TAG@sha256:…` (Renovate's helm-values digest pinning, renovatebot/renovate#9070; the
 * `helm create` template renders `repository:tag`, so this pins) keeps that form.
 * Also used by the HelmRelease format on `spec.values`.
 *
 * Which files: `values*.yaml` by name, the globs of `gitops.helm.valuesFiles`, and by content any YAML
 * document that is not a Kubernetes object (no `apiVersion` + `kind`) outside a Kustomization file,
 * so `payments-values.yaml` or `envs/prod.yaml` are read too (Renovate matches `values.yaml` by name only).
 */
const VALUES_FILE = /^values(?:[-._][^/]*)?\.ya?ml$/;
const KUSTOMIZATION_FILES = new Set(["kustomization.yaml", "kustomization.yml", "Kustomization"]);

export function isValuesFile(path: string, options: FormatOptions): boolean {
  if (VALUES_FILE.test(basename(path))) return true;
  return options.valuesGlobs ? picomatch(options.valuesGlobs)(path) : false;
}

/** A document that Kubernetes would apply (it has both `apiVersion` and `kind`), as opposed to values. */
export function isKubernetesObject(doc: Doc, content: string): boolean {
  return scalarText(content, child(doc, doc.contents, "apiVersion")) !== null && scalarText(content, child(doc, doc.contents, "kind")) !== null;
}

/** Values by content: a mapping that is not a Kubernetes object, in a file that is not a Kustomization. */
export function looksLikeValues(doc: Doc, content: string, path: string): boolean {
  return !KUSTOMIZATION_FILES.has(basename(path)) && isMap(doc.contents) && !isKubernetesObject(doc, content);
}

/** `TAG@sha256:…` in a tag field: the tag and its digest; otherwise the text as the tag. */
function splitTag(text: string): { tag: string; digest?: string } {
  const at = text.indexOf("@");
  if (at < 0) return { tag: text };
  const digest = text.slice(at + 1);
  return isValidDigest(digest) ? { tag: text.slice(0, at), digest } : { tag: text };
}

/** `image.repository` + `image.tag` (+ `registry`, `digest`) at `field`. */
export interface ImageMap {
  kind: "map";
  map: unknown;
  keys: { repository: string; tag: string; digest: string; registry: string | null };
  /** The tag field holds `TAG@sha256:…`: a digest is written there too, so the pin is kept. */
  tagHasDigest: boolean;
  /** The repository, tag and digest nodes: two entries on the same three are one image, not two. */
  nodes: [unknown, unknown, unknown];
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
  const { tag, digest: inline } = splitTag(scalarText(content, get(keys.tag)) ?? "");
  const digest = (keys.digest ? scalarText(content, get(keys.digest)) : null) || inline || "";
  return {
    kind: "map",
    map: rootForPaths ?? node,
    keys,
    tagHasDigest: inline !== undefined,
    nodes: [get(keys.repository), get(keys.tag), keys.digest ? get(keys.digest) : undefined],
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
  // ingress-nginx / Flux v1 helm-operator: `image:` names the repository (no tag) beside `tag:`.
  const imageKeyed = { repository: "image", tag: "tag", digest: "digest", registry: "registry" };
  // A key configured as a repository holds a name, not a whole reference: never edit it as one.
  for (const keyPath of keyPaths) {
    const node = keyPath.repository ? getPath(doc, root, keyPath.repository.split(".")) : undefined;
    if (node !== undefined) seen.add(node);
  }
  const visit = (value: unknown, path: string, key: string | number): void => {
    const node = resolve(doc, value);
    if (seen.has(node)) return;
    if (isMap(node)) {
      const named = scalarText(content, child(doc, node, "image"));
      const ref = named === null ? null : parseImageRef(named);
      const split = ref !== null && ref.tag === undefined && ref.digest === undefined && childPair(doc, node, "tag") !== undefined;
      const item = readImageMap(doc, content, node, standard, format, object, join(path)) ?? (split ? readImageMap(doc, content, node, imageKeyed, format, object, join(path)) : null);
      if (item) {
        seen.add(node);
        // The repository scalar of a split layout is not a whole reference of its own.
        seen.add(item.nodes[0]);
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
      // Named by every key it edits: two entries may share a repository (one image, a second digest key
      // such as ingress-nginx's digestChroot; or one repository with a tag per component), and each is
      // edited. Only an entry on the very same repository, tag and digest as one already found is skipped.
      const keys = { repository: keyPath.repository, tag: keyPath.tag, digest: keyPath.digest ?? "", registry: null };
      const field = [keyPath.repository, keyPath.tag, ...(keyPath.digest ? [keyPath.digest] : [])].map(join).join(" + ");
      const item = readImageMap(doc, content, undefined, keys, format, object, field, root);
      const same = (f: HelmFound): boolean => f.kind === "map" && f.nodes.every((n, i) => n === item?.nodes[i]);
      if (item && !found.some(same)) {
        seen.add(item.nodes[0]);
        found.push(item);
      }
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
    const pinned = hasDigestKey || item.tagHasDigest;
    const next = formatImageRef({ name, tag: target.tag, digest: pinned ? target.digest : undefined });
    const note =
      target.digest && !pinned
        ? "these values have no digest key: the digest was not written"
        : item.tagHasDigest && !target.digest
          ? "the tag held a digest and no digest was given: the old pin was removed"
          : undefined;
    if (next === occurrence.value) continue;
    const tagText = item.tagHasDigest && target.digest ? `${target.tag}@${target.digest}` : target.tag;
    edits.setScalar(nodeOf(keys.tag), tagText, byPath ? keys.tag : `${occurrence.field}.${keys.tag}`);
    // An emptied digest key lets the chart fall back to the tag instead of pinning the old image.
    if (hasDigestKey) edits.setScalar(digestNode, target.digest ?? "", byPath ? keys.digest : `${occurrence.field}.${keys.digest}`);
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
  const byName = isValuesFile(path, options);
  return parseYamlFile(content, path)
    .filter((doc) => byName || looksLikeValues(doc, content, path))
    .map((doc) => ({
      doc,
      found: scanValues(doc, content, doc.contents, "", "values", "helm-values", options.helmKeyPaths),
    }));
}

export const helmValues: Format = valuesFormat("helm-values", scan);
