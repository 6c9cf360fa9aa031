/** What formats exchange with the orchestrator. Formats are string in, string out (STYLE.md). */

export const FORMAT_NAMES = ["kustomize", "helm-values", "plain", "helmrelease", "flux-markers"] as const;
export type FormatName = (typeof FORMAT_NAMES)[number];

/** `--set IMAGE=TAG[@sha256:DIGEST]`: every field holding IMAGE gets this tag (and digest). */
export interface ImageTarget {
  image: string;
  tag: string;
  digest?: string;
}

/** `--policy NS:NAME=IMAGE:TAG[@sha256:DIGEST]`: what a Flux ImagePolicy would report as latest. */
export interface PolicyTarget {
  /** `namespace:name`, as in the marker. */
  policy: string;
  image: string;
  tag: string;
  digest?: string;
}

/** A Helm key path pair from slipway.yaml `gitops.helm.images`, relative to the values root. */
export interface HelmKeyPath {
  /** Key holding a whole reference `repo:tag`. */
  image?: string;
  repository?: string;
  tag?: string;
  digest?: string;
}

export interface FormatOptions {
  helmKeyPaths: HelmKeyPath[];
  /** Extra globs (repo-relative) of Helm values files besides `values*.yaml`. */
  valuesGlobs?: string[];
}

/** One place in a file where an image (or a marked field) is set. */
export interface Occurrence {
  format: FormatName;
  /** The Kubernetes object (`Deployment/prod/api`), or `Kustomization`, or `values`. */
  object: string;
  /** Key path inside the object, e.g. `spec.template.spec.containers[0].image`. */
  field: string;
  /** Image name as written (registry/repository), when the field names one. */
  image?: string;
  /** The current value as a user reads it, e.g. `acr.io/api:1.2.0@sha256:...` or a marker's tag. */
  value: string;
  /** Flux marker, e.g. `flux-system:api:tag`. */
  marker?: string;
  /** Another name that selects this field (Kustomize `name` when `newName` renames it). */
  alias?: string;
}

export interface FormatChange {
  /** Repo-relative path, for messages only (formats never touch the file system). */
  path: string;
  images: ImageTarget[];
  policies: PolicyTarget[];
  options: FormatOptions;
}

/** One edited field: the unit of the change record. */
export interface Edit {
  format: FormatName;
  object: string;
  field: string;
  image?: string;
  old: string;
  new: string;
  marker?: string;
  note?: string;
}

export interface FormatUpdate {
  content: string;
  edits: Edit[];
}

export interface Format {
  name: FormatName;
  /** Every image occurrence this format understands in `content`; [] when the file is not its kind. */
  extract(content: string, path: string, options: FormatOptions): Occurrence[];
  /** Edits in place: the returned content equals the input byte for byte outside the changed scalars. */
  update(content: string, change: FormatChange): FormatUpdate;
}
