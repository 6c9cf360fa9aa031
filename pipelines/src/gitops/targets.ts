import { formatImageRef, parseImageRef, sameImage } from "../image/reference.js";
import type { Edit, FormatName, ImageTarget, Occurrence } from "./types.js";
import type { Doc, TextEdits } from "./yaml-edit.js";
import { scalarText } from "./yaml-edit.js";

/** The first target for `name`, or undefined. Targets are validated unique by name before this. */
export function targetFor(targets: ImageTarget[], name: string): ImageTarget | undefined {
  return targets.find((t) => sameImage(t.image, name));
}

/** A scalar holding a whole reference (`image: acr.io/api:1.0`), found at `node`. */
export interface ImageScalar {
  kind: "scalar";
  node: unknown;
  occurrence: Occurrence;
}

/** Reads an image reference scalar; null when the value is not a reference. */
export function readImageScalar(
  content: string,
  node: unknown,
  format: FormatName,
  object: string,
  field: string,
): ImageScalar | null {
  const text = scalarText(content, node);
  if (text === null) return null;
  const ref = parseImageRef(text);
  if (!ref) return null;
  return { kind: "scalar", node, occurrence: { format, object, field, image: ref.name, value: text } };
}

/** Points a reference scalar at the target, keeping the name as written; the old digest goes. */
export function updateImageScalar(edits: TextEdits, found: ImageScalar, targets: ImageTarget[]): Edit | null {
  const { occurrence } = found;
  const ref = parseImageRef(occurrence.value);
  if (!ref || !occurrence.image) return null;
  const target = targetFor(targets, occurrence.image);
  if (!target) return null;
  const next = formatImageRef({ name: ref.name, tag: target.tag, digest: target.digest });
  if (next === occurrence.value) return null;
  edits.setScalar(found.node, next, occurrence.field);
  return { format: occurrence.format, object: occurrence.object, field: occurrence.field, image: ref.name, old: occurrence.value, new: next };
}

export function docsOf(docs: Doc[]): Array<{ doc: Doc; index: number }> {
  return docs.map((doc, index) => ({ doc, index }));
}
