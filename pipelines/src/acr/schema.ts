import { z } from "zod";
import { ACR_IDENTITY_MODES } from "../azure/modes.js";

/**
 * How the pipeline proves who it is to the registry: an Entra ID mode (the same ones AKS verification takes),
 * or `static`, the only one that stores a credential (for non-ACR registries).
 */
export const IDENTITY_MODES = ACR_IDENTITY_MODES;
export type IdentityMode = (typeof IDENTITY_MODES)[number];

/** When to lock pushed images (ACR `canDelete`/`canWrite` false): never, release (semver) images only, or every image. */
export const LOCK_POLICIES = ["none", "release", "all"] as const;
export type LockPolicy = (typeof LOCK_POLICIES)[number];

const Guid = z
  .string()
  .regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, "a GUID like 00000000-0000-0000-0000-000000000000");

export const PublishIdentity = z.strictObject({
  mode: z.enum(IDENTITY_MODES).optional().meta({ description: "Identity mode. Default: github-oidc in GitHub Actions, azure-pipelines in Azure DevOps, else azure-cli." }),
  tenantId: Guid.optional().meta({ description: "Entra ID tenant (directory) id. Env: AZURE_TENANT_ID." }),
  clientId: Guid.optional().meta({ description: "Client id of the app registration or user-assigned managed identity. Env: AZURE_CLIENT_ID." }),
  serviceConnectionId: z.string().min(1).optional().meta({ description: "azure-pipelines: id of the Azure Resource Manager service connection (workload identity federation)." }),
  authorityHost: z.url({ protocol: /^https$/ }).optional().meta({ description: "Entra ID authority host for sovereign clouds. Env: AZURE_AUTHORITY_HOST." }),
  username: z.string().min(1).optional().meta({ description: "static: registry username (the password comes from SLIPWAY_REGISTRY_PASSWORD, never from this file)." }),
});
export type PublishIdentity = z.infer<typeof PublishIdentity>;

export const PublishTags = z.strictObject({
  branch: z.boolean().optional().meta({ description: "Also tag with the branch name (sanitised). Default false." }),
  latest: z.boolean().optional().meta({ description: "Also tag `latest`. Default false." }),
  semver: z.boolean().optional().meta({ description: "When HEAD is at a vX.Y.Z tag, also tag X.Y.Z, X.Y and X. Default true." }),
  extra: z
    .array(z.string({ error: "a tag must be a string: quote values YAML reads as numbers, booleans or null (e.g. \"1.20\")" }))
    .optional()
    .meta({ description: "Extra fixed tags; validated like Docker does." }),
});
export type PublishTags = z.infer<typeof PublishTags>;

export const PublishSettings = z
  .strictObject({
    registry: z.string().min(1).optional().meta({ description: "Login server, e.g. myregistry.azurecr.io." }),
    repositoryPrefix: z
      .string()
      .regex(/^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/, "lowercase path components separated by '/'")
      .optional()
      .meta({ description: "Repository path before the service name, e.g. `shop` gives shop/api." }),
    identity: PublishIdentity.optional(),
    tags: PublishTags.optional(),
    lock: z.enum(LOCK_POLICIES).optional().meta({ description: "Lock pushed images after verification: none (default), release, all." }),
  })
  .meta({ description: "Publishing images to Azure Container Registry (or another OCI registry)." });
export type PublishSettings = z.infer<typeof PublishSettings>;
