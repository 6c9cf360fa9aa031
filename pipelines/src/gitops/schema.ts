import { z } from "zod";

const KeyPath = z
  .string()
  .regex(/^[^.\s]+(?:\.[^.\s]+)*$/, "a dot-separated key path, e.g. `api.image.tag`")
  .meta({ description: "Dot-separated key path from the root of the values." });

export const HelmKeyPathEntry = z
  .strictObject({
    image: KeyPath.optional().meta({ description: "Key holding a whole reference `repo:tag`." }),
    repository: KeyPath.optional().meta({ description: "Key holding the repository (image name)." }),
    tag: KeyPath.optional().meta({ description: "Key holding the tag." }),
    digest: KeyPath.optional().meta({ description: "Key holding the digest, if the chart has one." }),
  })
  .refine((e) => (e.image !== undefined) !== (e.repository !== undefined && e.tag !== undefined), {
    message: "give either `image`, or `repository` and `tag` (and optionally `digest`)",
  })
  .meta({ description: "Where a chart with its own layout keeps an image." });

export const GitopsSettings = z
  .strictObject({
    repository: z
      .string()
      .min(1)
      .optional()
      .meta({ description: "Clone URL of the GitOps repository (https or ssh), without credentials." }),
    branch: z.string().min(1).optional().meta({ description: "Branch Flux or Argo CD reconciles. Default: main." }),
    path: z
      .string()
      .min(1)
      .refine((p) => !p.startsWith("/") && !p.split(/[\\/]/).includes(".."), { message: "must be a path relative to the repository root, without '..'" })
      .optional()
      .meta({ description: "Folder inside the GitOps repository to edit, e.g. `clusters/prod`. Default: the whole repository." }),
    helm: z
      .strictObject({
        valuesFiles: z
          .array(z.string().min(1))
          .optional()
          .meta({ description: "Extra globs of Helm values files besides `values*.yaml`, e.g. `envs/*/overrides.yaml`." }),
        images: z.array(HelmKeyPathEntry).optional().meta({ description: "Key paths for charts that do not use `image.repository` + `image.tag`." }),
      })
      .optional(),
    allowUnedited: z
      .boolean()
      .optional()
      .meta({
        description:
          "Bump what can be edited even when an image is named where no format can edit it (e.g. an Argo Rollout); those places are listed in the change record. Default: false (SLIPWAY_GITOPS_UNEDITED, exit 2).",
      }),
    commit: z
      .strictObject({
        author: z
          .strictObject({ name: z.string().min(1), email: z.string().regex(/^[^\s@<>]+@[^\s@<>]+$/, "an e-mail address") })
          .optional()
          .meta({ description: "Author of the bump commit. Default: Slipway <slipway@users.noreply.github.com>." }),
      })
      .optional(),
  })
  .meta({ description: "GitOps image bump: where the manifests live and how commits are made." });
export type GitopsSettings = z.infer<typeof GitopsSettings>;
