import type { ClientOptions } from "../azure/http.js";
import type { EntraIdentity, IdentityCredential, MissingInput } from "../azure/identity.js";
import { createCredential as createEntraCredential, resolveEntraIdentity } from "../azure/identity.js";
import { acrIdentityMissing } from "../errors.js";
import type { IdentityMode, PublishIdentity } from "./schema.js";
import { detectMode } from "./mode.js";

/** Everything one identity needs, settled from flags, slipway.yaml and the environment (in that order). */
export type ResolvedIdentity = Omit<EntraIdentity, "mode"> & {
  mode: IdentityMode;
  username?: string;
  password?: string;
};

// detectMode and identityMode live in ./mode.ts, which loads neither zod nor the Azure SDK: `acr tags`
// needs them and nothing else of this module (issue 16, start-up).
export { detectMode, identityMode } from "./mode.js";

const describeMissing = (m: MissingInput): string => `${m.flag ? `${m.flag} (${m.env})` : m.env}${m.or ? ` or ${m.or}` : ""}`;

/**
 * Settles the identity and reports every missing input at once. Secrets only ever come from the
 * environment (never flags: flags show in process lists and CI logs).
 */
export function resolveIdentity(
  flags: { mode?: IdentityMode; tenantId?: string; clientId?: string; authorityHost?: string; serviceConnectionId?: string; username?: string },
  config: PublishIdentity | undefined,
  env: NodeJS.ProcessEnv,
): ResolvedIdentity {
  const mode = flags.mode ?? config?.mode ?? detectMode(env);
  if (mode === "static") {
    const missing: string[] = [];
    const need = (value: string | undefined, name: string): string | undefined => {
      if (value === undefined || value === "") missing.push(name);
      return value;
    };
    const username = need(flags.username ?? config?.username ?? env.SLIPWAY_REGISTRY_USERNAME, "--username (SLIPWAY_REGISTRY_USERNAME)");
    const password = need(env.SLIPWAY_REGISTRY_PASSWORD, "SLIPWAY_REGISTRY_PASSWORD");
    if (missing.length > 0) throw acrIdentityMissing(mode, missing);
    return { mode, username, password };
  }
  const { identity, missing } = resolveEntraIdentity(
    mode,
    {
      tenantId: flags.tenantId ?? config?.tenantId,
      clientId: flags.clientId ?? config?.clientId,
      authorityHost: flags.authorityHost ?? config?.authorityHost,
      serviceConnectionId: flags.serviceConnectionId ?? config?.serviceConnectionId,
    },
    env,
  );
  if (missing.length > 0) throw acrIdentityMissing(mode, missing.map(describeMissing));
  return identity;
}

/** The Entra ID credential for an ACR mode (static mode has none: it sends basic auth). */
export function createCredential(id: ResolvedIdentity, options: ClientOptions = {}, now: () => number = Date.now): IdentityCredential {
  if (id.mode === "static") throw new Error("static mode has no Entra ID credential");
  return createEntraCredential({ ...id, mode: id.mode }, options, now);
}
