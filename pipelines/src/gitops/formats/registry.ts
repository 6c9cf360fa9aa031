import type { Format, FormatName } from "../types.js";
import { fluxMarkers } from "./flux-markers/index.js";
import { helmValues } from "./helm-values/index.js";
import { helmRelease } from "./helmrelease/index.js";
import { kustomize } from "./kustomize/index.js";
import { plain } from "./plain/index.js";

/**
 * Every manifest format, one module each (Renovate lib/modules/manager). The folder name under
 * formats/ is the key; a contract test checks this map and the folders agree.
 * Order matters only for the change record: markers last, so a marked field edited by --set first
 * is verified against both.
 */
export const FORMATS: ReadonlyMap<FormatName, Format> = new Map<FormatName, Format>([
  ["kustomize", kustomize],
  ["helm-values", helmValues],
  ["plain", plain],
  ["helmrelease", helmRelease],
  ["flux-markers", fluxMarkers],
]);
