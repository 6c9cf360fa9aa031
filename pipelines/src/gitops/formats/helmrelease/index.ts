import type { Format, FormatOptions } from "../../types.js";
import type { Doc } from "../../yaml-edit.js";
import { child, objectId, parseYamlFile, scalarText } from "../../yaml-edit.js";
import type { HelmFound } from "../helm-values/index.js";
import { scanValues, valuesFormat } from "../helm-values/index.js";

/** Flux HelmRelease (helm.toolkit.fluxcd.io): the inline `spec.values`, read and updated as Helm values. */
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

export const helmRelease: Format = valuesFormat("helmrelease", scan);
