import type { Format, FormatChange, FormatOptions, FormatUpdate, Occurrence } from "../../types.js";
import type { Doc } from "../../yaml-edit.js";
import { child, objectId, parseYamlFile, scalarText, TextEdits } from "../../yaml-edit.js";
import type { HelmFound } from "../helm-values/index.js";
import { scanValues, updateValues } from "../helm-values/index.js";

/** Flux HelmRelease (helm.toolkit.fluxcd.io): the inline `spec.values`, read as Helm values. */
function scan(content: string, path: string, options: FormatOptions): { doc: Doc; found: HelmFound[] }[] {
  // Cheap screen: most files are not HelmReleases; parse only those that say so.
  if (!content.includes("HelmRelease")) return [];
  return parseYamlFile(content, path).flatMap((doc, index) => {
    const kind = scalarText(content, child(doc, doc.contents, "kind"));
    const apiVersion = scalarText(content, child(doc, doc.contents, "apiVersion")) ?? "";
    if (kind !== "HelmRelease" || !apiVersion.startsWith("helm.toolkit.fluxcd.io/")) return [];
    const values = child(doc, child(doc, doc.contents, "spec"), "values");
    if (values === undefined) return [];
    const object = objectId(doc, content, index);
    return [{ doc, found: scanValues(doc, content, values, "spec.values", object, "helmrelease", options.helmKeyPaths) }];
  });
}

function extract(content: string, path: string, options: FormatOptions): Occurrence[] {
  return scan(content, path, options).flatMap((d) => d.found.map((f) => f.occurrence));
}

function update(content: string, change: FormatChange): FormatUpdate {
  const edits = new TextEdits(content, change.path);
  const records = scan(content, change.path, change.options).flatMap(({ doc, found }) => updateValues(doc, edits, found, change.images));
  return { content: edits.apply(), edits: records };
}

export const helmRelease: Format = { name: "helmrelease", extract, update };
