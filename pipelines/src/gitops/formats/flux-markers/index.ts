import { formatImageRef, parseImageRef } from "../../../image/reference.js";
import type { Edit, Format, FormatChange, FormatUpdate, Occurrence, PolicyTarget } from "../../types.js";
import { gitopsUnsupported } from "../../../errors.js";
import { objectId, parseYamlFile, scalarText, TextEdits, walk } from "../../yaml-edit.js";

/**
 * Flux image automation setters: a field marked with a line comment `# {"$imagepolicy": "NS:NAME"}`
 * gets the value the policy selects. image-automation-controller `internal/update/setters.go` defines
 * one setter per suffix from the policy's `status.latestRef` (image-reflector-controller `api/v1`
 * `ImageRef{Name, Tag, Digest}`):
 *   NS:NAME         -> latestRef.String(): NAME:TAG, or NAME:TAG@DIGEST when the policy reflects a digest
 *   NS:NAME:tag     -> latestRef.Tag: the tag only, never the digest
 *   NS:NAME:name    -> latestRef.Name
 *   NS:NAME:digest  -> latestRef.Digest
 * Like kyaml setters, a value a YAML 1.1 reader would re-type is written double-quoted.
 * One deliberate difference: Flux writes "" into a `:digest` field when the policy has no digest
 * (digestReflectionPolicy Never); we refuse instead, since that silently drops a pin.
 */
export const MARKER_TOKEN = '"$imagepolicy"';
const SUFFIXES = ["tag", "name", "digest"] as const;
type Suffix = (typeof SUFFIXES)[number];

interface Marked {
  node: unknown;
  policy: string;
  suffix: Suffix | null;
  occurrence: Occurrence;
}

/** Parses the JSON comment after a scalar on its line; null when there is no marker. */
export function parseMarker(comment: string): { policy: string; suffix: Suffix | null; raw: string } | null {
  const match = /^[ \t]*#[ \t]*(\{.*\})[ \t]*\r?$/.exec(comment);
  if (!match || !match[1]?.includes("$imagepolicy")) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(match[1]);
  } catch {
    return null;
  }
  const raw = (parsed as Record<string, unknown>)["$imagepolicy"];
  if (typeof raw !== "string") return null;
  const parts = raw.split(":");
  if (parts.length === 2 && parts[0] && parts[1]) return { policy: raw, suffix: null, raw };
  if (parts.length === 3 && parts[0] && parts[1] && (SUFFIXES as readonly string[]).includes(parts[2] as string)) {
    return { policy: `${parts[0]}:${parts[1]}`, suffix: parts[2] as Suffix, raw };
  }
  return null;
}

function scan(content: string, path: string): Marked[] {
  if (!content.includes(MARKER_TOKEN)) return [];
  const found: Marked[] = [];
  parseYamlFile(content, path).forEach((doc, index) => {
    const object = objectId(doc, content, index);
    walk(doc, doc.contents, "", (value, field) => {
      const text = scalarText(content, value);
      const range = (value as { range?: [number, number, number] }).range;
      if (text === null || !range) return;
      const eol = content.indexOf("\n", range[1]);
      const marker = parseMarker(content.slice(range[1], eol < 0 ? content.length : eol));
      if (!marker) return;
      const image = marker.suffix === null ? parseImageRef(text)?.name : marker.suffix === "name" ? text : undefined;
      found.push({
        node: value,
        policy: marker.policy,
        suffix: marker.suffix,
        occurrence: { format: "flux-markers", object, field, value: text, marker: marker.raw, ...(image ? { image } : {}) },
      });
    });
  });
  return found;
}

/** The value Flux would write for this marker form. */
export function markerValue(target: PolicyTarget, suffix: Suffix | null): string | null {
  switch (suffix) {
    case null:
      return formatImageRef({ name: target.image, tag: target.tag, digest: target.digest });
    case "tag":
      return target.tag;
    case "name":
      return target.image;
    case "digest":
      return target.digest ?? null;
  }
}

function extract(content: string, path: string): Occurrence[] {
  return scan(content, path).map((m) => m.occurrence);
}

function update(content: string, change: FormatChange): FormatUpdate {
  const edits = new TextEdits(content, change.path);
  const records: Edit[] = [];
  for (const marked of scan(content, change.path)) {
    const target = change.policies.find((p) => p.policy === marked.policy);
    if (!target) continue;
    const next = markerValue(target, marked.suffix);
    if (next === null) {
      throw gitopsUnsupported(
        change.path,
        marked.occurrence.field,
        `marker ${JSON.stringify(marked.occurrence.marker)} needs a digest`,
        `Pass the digest with the policy: --policy ${target.policy}=${target.image}:${target.tag}@sha256:<digest>.`,
      );
    }
    if (next === marked.occurrence.value) continue;
    edits.setScalar(marked.node, next, marked.occurrence.field);
    const { object, field, marker, image } = marked.occurrence;
    records.push({ format: "flux-markers", object, field, old: marked.occurrence.value, new: next, ...(marker ? { marker } : {}), image: image ?? target.image });
  }
  return { content: edits.apply(), edits: records };
}

export const fluxMarkers: Format = { name: "flux-markers", extract, update };
