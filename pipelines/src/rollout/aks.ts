import type { AccessToken, TokenCredential } from "@azure/identity";
import type { KubeConfig, User } from "@kubernetes/client-node";
import type { EntraMode } from "../azure/identity.js";
import { AKS_IDENTITY_MODES } from "../azure/modes.js";
import { azureIdentityUnavailable, azureTokenFailed } from "../errors.js";
import { registerSecret } from "../cli/secrets.js";

/**
 * AKS with Entra ID: clusters with AKS-managed Entra integration accept an Entra access token for the
 * AKS AAD server application (this fixed app id) as a bearer token. `az aks get-credentials` writes a
 * kubeconfig whose user execs `kubelogin get-token --server-id <id>`; we get the same token through
 * @azure/identity instead, so no kubelogin binary is needed in the toolkit image.
 * https://learn.microsoft.com/azure/aks/kubelogin-authentication
 */
export const AKS_AAD_SERVER_APP_ID = "6dae42f8-4368-4678-94ff-3960e28e3630";

/** `--azure-identity`: the Entra ID modes publishing takes, plus `auto` (choose from the environment) and `none` (the kubeconfig's own credentials). */
export const IDENTITY_MODES = AKS_IDENTITY_MODES;
export type IdentityMode = (typeof IDENTITY_MODES)[number];

/** The AKS server app id a kubelogin exec user asks for, or null when the user does not exec kubelogin. */
export function kubeloginServerId(user: User | null): string | null {
  const exec = user?.exec as { command?: string; args?: string[] } | undefined;
  if (!exec?.command || !/(^|[\\/])kubelogin(\.exe)?$/.test(exec.command)) return null;
  const args = exec.args ?? [];
  const i = args.indexOf("--server-id");
  const inline = args.find((a) => a.startsWith("--server-id="));
  return (i >= 0 ? args[i + 1] : inline?.slice("--server-id=".length)) ?? AKS_AAD_SERVER_APP_ID;
}

/**
 * Picks the identity: an explicit mode wins; `auto` takes the first mode whose inputs the environment
 * holds (GitHub OIDC, Azure DevOps workload identity federation, AKS/Kubernetes workload identity,
 * a client secret, a managed identity endpoint), else the Azure CLI login. `none` (the default unless
 * the kubeconfig execs kubelogin) uses the kubeconfig's own credentials.
 */
export function selectIdentityMode(requested: IdentityMode | undefined, env: NodeJS.ProcessEnv, kubeconfigUsesKubelogin: boolean): EntraMode | null {
  const mode = requested ?? (kubeconfigUsesKubelogin ? "auto" : "none");
  if (mode === "none") return null;
  if (mode !== "auto") return mode;
  if (env.ACTIONS_ID_TOKEN_REQUEST_URL && env.ACTIONS_ID_TOKEN_REQUEST_TOKEN) return "github-oidc";
  if (env.SYSTEM_OIDCREQUESTURI && env.AZURESUBSCRIPTION_SERVICE_CONNECTION_ID) return "azure-pipelines";
  if (env.AZURE_FEDERATED_TOKEN_FILE) return "workload-identity";
  if (env.AZURE_CLIENT_SECRET) return "client-secret";
  if (env.IDENTITY_ENDPOINT || env.MSI_ENDPOINT) return "managed-identity";
  return "azure-cli";
}

/**
 * Builds the @azure/identity credential of a mode from the environment; names every missing variable.
 * @azure/identity (with MSAL, about 490 KB of the bundle) is loaded here, only for a kubelogin kubeconfig
 * or an --azure-identity, not with this module: every other `rollout verify` starts without it (issue 16).
 */
export async function credentialFor(mode: EntraMode, env: NodeJS.ProcessEnv): Promise<TokenCredential> {
  const { createCredential, resolveEntraIdentity } = await import("../azure/identity.js");
  const { identity, missing } = resolveEntraIdentity(mode, {}, env);
  if (missing.length > 0) throw azureIdentityUnavailable(mode, missing.map((m) => m.env));
  return createCredential(identity).credential;
}

// client-node's Authenticator interface (dist/auth.d.ts) is not exported from its index.
type Authenticator = Parameters<KubeConfig["addAuthenticator"]>[0];

/** The kubeconfig auth-provider name our authenticator answers to (no built-in client-node provider uses it). */
export const AKS_AUTH_PROVIDER = "slipway-aks-entra";
/** Get a new token this long before the current one expires (Entra tokens live 60-90 minutes). */
const REFRESH_MARGIN_MS = 5 * 60_000;

/**
 * A client-node Authenticator that puts an Entra token for the AKS server app on every request,
 * fetching a new one shortly before the current one expires, so a long `--timeout` outlives a token.
 * Tokens stay in memory; the kubeconfig file is never rewritten.
 */
export class AksTokenAuthenticator implements Authenticator {
  private current: AccessToken | undefined;

  constructor(
    private readonly credential: TokenCredential,
    readonly scope: string,
    private readonly mode: string,
    private readonly now: () => number = Date.now,
  ) {}

  isAuthProvider(user: User): boolean {
    return (user.authProvider as { name?: string } | undefined)?.name === AKS_AUTH_PROVIDER;
  }

  async token(): Promise<AccessToken> {
    if (this.current && this.current.expiresOnTimestamp - this.now() > REFRESH_MARGIN_MS) return this.current;
    let token: AccessToken | null;
    try {
      token = await this.credential.getToken(this.scope);
    } catch (error) {
      // @azure/identity messages name the credential and the missing setup, never a secret value.
      const first = (error instanceof Error ? error.message : String(error)).split("\n")[0] ?? "";
      throw azureTokenFailed(this.mode, this.scope, first, error);
    }
    if (!token?.token) throw azureTokenFailed(this.mode, this.scope, "the credential returned no token");
    registerSecret(token.token);
    this.current = token;
    return token;
  }

  async applyAuthentication(_user: User, opts: { headers?: Record<string, unknown> }): Promise<void> {
    opts.headers = { ...opts.headers, Authorization: `Bearer ${(await this.token()).token}` };
  }
}

/**
 * Replaces the current context's user (typically `exec: kubelogin`) with our Entra authenticator.
 * The first token is fetched at once, so a wrong identity fails before any Kubernetes request.
 */
export async function injectAksToken(kc: KubeConfig, credential: TokenCredential, mode: string, now: () => number = Date.now): Promise<{ expiresOn: number; serverId: string }> {
  const userName = kc.getContextObject(kc.getCurrentContext())?.user;
  const serverId = kubeloginServerId(kc.getCurrentUser()) ?? AKS_AAD_SERVER_APP_ID;
  const authenticator = new AksTokenAuthenticator(credential, `${serverId}/.default`, mode, now);
  const first = await authenticator.token();
  kc.loadFromOptions({
    clusters: kc.clusters,
    contexts: kc.contexts,
    currentContext: kc.currentContext,
    users: kc.users.map((u) => (u.name === userName ? { name: u.name, authProvider: { name: AKS_AUTH_PROVIDER, config: {} } } : u)),
  });
  kc.addAuthenticator(authenticator);
  return { expiresOn: first.expiresOnTimestamp, serverId };
}
