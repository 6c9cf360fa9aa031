import { ACR_IDENTITY_MODES, parseMode } from "../azure/modes.js";
import type { IdentityMode } from "./schema.js";

// The identity mode of the acr commands, apart from ./identity.ts (the Azure SDK) and ./schema.ts (zod):
// `acr tags` decides which registry hosts it accepts by it and needs neither (issue 16, start-up).

/** Default mode from where we run: the CI tells us (GITHUB_ACTIONS, TF_BUILD, AKS workload identity webhook). */
export function detectMode(env: NodeJS.ProcessEnv): IdentityMode {
  if (env.GITHUB_ACTIONS === "true") return "github-oidc";
  if (env.TF_BUILD?.toLowerCase() === "true") return "azure-pipelines";
  if (env.AZURE_FEDERATED_TOKEN_FILE) return "workload-identity";
  return "azure-cli";
}

/** A `--mode` value: one of the acr identity modes or an old alias (azure-devops), as its canonical name. */
export function identityMode(value: string): IdentityMode | undefined {
  return parseMode(value, ACR_IDENTITY_MODES);
}
