/**
 * The Entra ID identity modes and how a flag's value names one. No Azure SDK here: slipway.yaml's schema
 * needs the names, and every command reads slipway.yaml (./identity.ts builds the credentials).
 */
export const ENTRA_MODES = ["azure-cli", "workload-identity", "managed-identity", "client-secret", "github-oidc", "azure-pipelines"] as const;
export type EntraMode = (typeof ENTRA_MODES)[number];

/** `rollout verify --azure-identity`: the Entra ID modes plus `auto` (choose from the environment) and `none` (the kubeconfig's own credentials). */
export const AKS_IDENTITY_MODES = ["none", "auto", ...ENTRA_MODES] as const;

/** `acr --mode`: the Entra ID modes plus `static`, the only one that stores a credential (for non-ACR registries). */
export const ACR_IDENTITY_MODES = [...ENTRA_MODES, "static"] as const;

/** Names a mode had before the areas shared one list; still accepted on the command line. */
export const ENTRA_MODE_ALIASES: Readonly<Record<string, EntraMode>> = { "azure-devops": "azure-pipelines" };

/** The mode `value` names among an area's `modes`, aliases resolved; undefined when it names none. */
export function parseMode<M extends string>(value: string, modes: readonly M[]): M | undefined {
  const canonical = ENTRA_MODE_ALIASES[value] ?? value;
  return (modes as readonly string[]).includes(canonical) ? (canonical as M) : undefined;
}

export function isEntraMode(mode: string): mode is EntraMode {
  return (ENTRA_MODES as readonly string[]).includes(mode);
}

