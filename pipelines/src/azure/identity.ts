import { readFileSync } from "node:fs";
import type { TokenCredential } from "@azure/identity";
import {
  AzureCliCredential,
  AzurePipelinesCredential,
  ClientAssertionCredential,
  ClientSecretCredential,
  ManagedIdentityCredential,
} from "@azure/identity";
import { registerSecret } from "../cli/secrets.js";
import { acrOidcRequestFailed, acrOidcTokenInvalid } from "../errors.js";
import type { ClientOptions } from "./http.js";
import type { EntraMode } from "./modes.js";
import { httpRequest, jwtClaims } from "./http.js";

/**
 * Entra ID identities, one set of modes for every area that needs an Entra token: publishing to ACR
 * (`slipway acr --mode`) and AKS clusters (`slipway rollout verify --azure-identity`). Each area adds
 * its own non-Entra modes (`static` registry credentials; `auto`, `none` for kubeconfigs) and its own
 * error codes; which inputs a mode needs, where they come from and how the credential is built is here.
 */
// The mode names and their parsing live in ./modes.ts, which loads no Azure SDK: slipway.yaml's schema
// needs them, and every command reads slipway.yaml (issue 16: @azure/identity cost every command its load time).
export { ENTRA_MODE_ALIASES, ENTRA_MODES, isEntraMode, parseMode } from "./modes.js";
export type { EntraMode } from "./modes.js";

/** The audience Entra ID expects in a federated token (the federated credential's default). */
export const FEDERATION_AUDIENCE = "api://AzureADTokenExchange";

/** Entra ID hosts MSAL knows (public and sovereign clouds); any other host skips instance discovery. */
const KNOWN_AUTHORITY_HOSTS = ["login.microsoftonline.com", "login.microsoftonline.us", "login.chinacloudapi.cn", "login.partner.microsoftonline.cn"];

/** Re-mint a federated token when fewer than this many ms remain (GitHub's last about 10 minutes). */
const REMINT_MARGIN_MS = 2 * 60_000;

/** Everything one Entra identity needs, settled from explicit values (flags, config) and the environment. */
export interface EntraIdentity {
  mode: EntraMode;
  tenantId?: string;
  clientId?: string;
  authorityHost?: string;
  serviceConnectionId?: string;
  /** azure-pipelines without a service connection: the `idToken` AzureCLI@2 exposes. */
  idToken?: string;
  systemAccessToken?: string;
  oidcRequestUrl?: string;
  oidcRequestToken?: string;
  federatedTokenFile?: string;
  clientSecret?: string;
}

/** Values given explicitly (flags, then slipway.yaml); they win over the environment. Never secrets. */
export interface EntraInputs {
  tenantId?: string;
  clientId?: string;
  authorityHost?: string;
  serviceConnectionId?: string;
}

/** An input a mode needs but did not get: its environment variable, the flag that can give it, an alternative. */
export interface MissingInput {
  env: string;
  flag?: string;
  or?: string;
}

/**
 * Settles an Entra identity and lists every missing input at once (each area raises its own error).
 * Secrets only ever come from the environment, never from flags: flags show in process lists and CI logs.
 */
export function resolveEntraIdentity(mode: EntraMode, given: EntraInputs, env: NodeJS.ProcessEnv): { identity: EntraIdentity; missing: MissingInput[] } {
  const pick = (value: string | undefined, ...names: string[]): string | undefined => value ?? names.map((n) => env[n]).find((v) => v !== undefined && v !== "");
  // AzureCLI@2 with addSpnToEnvironment names the tenant and client `tenantId` and `servicePrincipalId`.
  const identity: EntraIdentity = {
    mode,
    tenantId: pick(given.tenantId, "AZURE_TENANT_ID", ...(mode === "azure-pipelines" ? ["tenantId"] : [])),
    clientId: pick(given.clientId, "AZURE_CLIENT_ID", ...(mode === "azure-pipelines" ? ["servicePrincipalId"] : [])),
    authorityHost: pick(given.authorityHost, "AZURE_AUTHORITY_HOST"),
  };
  const missing: MissingInput[] = [];
  const need = (value: string | undefined, input: MissingInput): string | undefined => {
    if (value === undefined || value === "") missing.push(input);
    return value;
  };
  const tenantAndClient = (): void => {
    need(identity.tenantId, { env: "AZURE_TENANT_ID", flag: "--tenant-id" });
    need(identity.clientId, { env: "AZURE_CLIENT_ID", flag: "--client-id" });
  };
  switch (mode) {
    case "github-oidc":
      tenantAndClient();
      identity.oidcRequestUrl = need(env.ACTIONS_ID_TOKEN_REQUEST_URL, { env: "ACTIONS_ID_TOKEN_REQUEST_URL" });
      identity.oidcRequestToken = need(env.ACTIONS_ID_TOKEN_REQUEST_TOKEN, { env: "ACTIONS_ID_TOKEN_REQUEST_TOKEN" });
      break;
    case "azure-pipelines":
      tenantAndClient();
      identity.idToken = env.idToken || env.AZURE_PIPELINES_ID_TOKEN || undefined;
      if (!identity.idToken) {
        identity.serviceConnectionId = need(pick(given.serviceConnectionId, "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID"), {
          env: "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID",
          flag: "--service-connection-id",
          or: "idToken",
        });
        identity.systemAccessToken = need(env.SYSTEM_ACCESSTOKEN, { env: "SYSTEM_ACCESSTOKEN" });
        // AzurePipelinesCredential reads it from the environment itself; checked here to name it with the rest.
        need(env.SYSTEM_OIDCREQUESTURI, { env: "SYSTEM_OIDCREQUESTURI" });
      }
      break;
    case "workload-identity":
      tenantAndClient();
      identity.federatedTokenFile = need(env.AZURE_FEDERATED_TOKEN_FILE, { env: "AZURE_FEDERATED_TOKEN_FILE" });
      break;
    case "client-secret":
      tenantAndClient();
      identity.clientSecret = need(env.AZURE_CLIENT_SECRET, { env: "AZURE_CLIENT_SECRET" });
      break;
    case "managed-identity":
    case "azure-cli":
      break;
  }
  return { identity, missing };
}

/** Checks a federated token before sending it, so the common mistakes get a precise message. */
export function checkFederatedToken(token: string, source: string, now: number): void {
  const claims = jwtClaims(token.trim());
  if (!claims) {
    throw acrOidcTokenInvalid(source, "is not a JWT", "Pass the token itself (three base64url parts separated by '.').");
  }
  const exp = typeof claims.exp === "number" ? claims.exp * 1000 : undefined;
  if (exp !== undefined && exp <= now) {
    throw acrOidcTokenInvalid(
      source,
      `expired at ${new Date(exp).toISOString()}`,
      "Federated tokens are short-lived (GitHub: about 10 minutes): request it right before use, not at the start of a long job.",
    );
  }
  const aud = claims.aud;
  const audiences = Array.isArray(aud) ? aud.map(String) : aud === undefined ? [] : [String(aud)];
  if (!audiences.includes(FEDERATION_AUDIENCE)) {
    throw acrOidcTokenInvalid(
      source,
      `has audience ${JSON.stringify(audiences.join(", "))}, not ${FEDERATION_AUDIENCE}`,
      `Request the token for audience ${FEDERATION_AUDIENCE} (the default of Entra ID federated credentials).`,
    );
  }
}

/**
 * GitHub Actions OIDC: GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=... with the request token as bearer,
 * answer `{ "value": "<jwt>" }` (docs.github.com: "Configuring OpenID Connect in cloud providers").
 * The JWT is kept until close to expiry and minted again after, so long jobs keep working.
 */
export class GitHubOidcTokenSource {
  private cached: { token: string; expiresAt: number } | null = null;
  mints = 0;

  constructor(
    private readonly requestUrl: string,
    private readonly requestToken: string,
    private readonly options: ClientOptions = {},
    private readonly now: () => number = Date.now,
  ) {}

  async getToken(): Promise<string> {
    if (this.cached && this.cached.expiresAt - REMINT_MARGIN_MS > this.now()) return this.cached.token;
    const url = new URL(this.requestUrl);
    url.searchParams.set("audience", FEDERATION_AUDIENCE);
    let result;
    try {
      result = await httpRequest(url.toString(), { method: "GET", headers: { Authorization: `Bearer ${this.requestToken}`, Accept: "application/json" } }, this.options);
    } catch (error) {
      throw acrOidcRequestFailed(error instanceof Error ? (error as { code?: string }).code ?? "network error" : "network error", "Check that the job can reach the GitHub OIDC endpoint.");
    }
    if (result.status !== 200) {
      throw acrOidcRequestFailed(
        `HTTP ${result.status}`,
        result.status === 401 || result.status === 403
          ? "The job needs `permissions: id-token: write` (and the request token is only valid inside that job)."
          : "GitHub's OIDC endpoint answered with an error; retry the job.",
      );
    }
    let token: unknown;
    try {
      token = (JSON.parse(result.body) as { value?: unknown }).value;
    } catch {
      token = undefined;
    }
    if (typeof token !== "string") throw acrOidcRequestFailed("no token in the answer", "GitHub's OIDC endpoint answered without `value`.");
    checkFederatedToken(token, "GitHub OIDC", this.now());
    const exp = jwtClaims(token)?.exp;
    this.cached = { token, expiresAt: typeof exp === "number" ? exp * 1000 : this.now() + 5 * 60_000 };
    this.mints++;
    return token;
  }
}

/** Options for @azure/identity credentials: authority host, and no instance discovery for hosts MSAL does not know. */
function credentialOptions(id: EntraIdentity, options: ClientOptions) {
  const host = id.authorityHost ? new URL(id.authorityHost).hostname : undefined;
  return {
    authorityHost: id.authorityHost,
    // MSAL validates an unknown authority by asking login.microsoftonline.com; private clouds (Azure Stack) and
    // our stand-in cannot be discovered that way, and the authority host was given explicitly anyway.
    disableInstanceDiscovery: host !== undefined && !KNOWN_AUTHORITY_HOSTS.includes(host),
    tlsOptions: options.tlsOptions,
    retryOptions: { maxRetries: 2 },
  };
}

export interface IdentityCredential {
  credential: TokenCredential;
  /** Our own error raised while producing the federated token (@azure/identity wraps it; we want it whole). */
  assertionError(): unknown;
}

/** The @azure/identity credential of a settled identity. A federated token is read or minted again on each token request. */
export function createCredential(id: EntraIdentity, options: ClientOptions = {}, now: () => number = Date.now): IdentityCredential {
  let failure: unknown;
  const guard =
    (get: () => Promise<string>) =>
    async (): Promise<string> => {
      failure = undefined;
      try {
        const token = await get();
        // A federated token (GitHub OIDC, idToken, the projected file) is a credential the process now knows.
        registerSecret(token);
        return token;
      } catch (error) {
        failure = error;
        throw error;
      }
    };
  return { credential: registering(buildCredential(id, options, now, guard)), assertionError: () => failure };
}

/** Every Entra access token the credential hands out is registered with the masker before anyone sends it. */
function registering(credential: TokenCredential): TokenCredential {
  // Patched on the instance, so it stays the @azure/identity class it is.
  const getToken = credential.getToken.bind(credential);
  credential.getToken = async (scopes, options) => {
    const token = await getToken(scopes, options);
    registerSecret(token?.token);
    return token;
  };
  return credential;
}

function buildCredential(
  id: EntraIdentity,
  options: ClientOptions,
  now: () => number,
  guard: (get: () => Promise<string>) => () => Promise<string>,
): TokenCredential {
  const common = credentialOptions(id, options);
  const tenantId = id.tenantId ?? "";
  const clientId = id.clientId ?? "";
  switch (id.mode) {
    case "github-oidc": {
      const source = new GitHubOidcTokenSource(id.oidcRequestUrl ?? "", id.oidcRequestToken ?? "", options, now);
      return new ClientAssertionCredential(tenantId, clientId, guard(() => source.getToken()), common);
    }
    case "azure-pipelines": {
      if (id.idToken) {
        const token = id.idToken;
        return new ClientAssertionCredential(
          tenantId,
          clientId,
          guard(async () => {
            checkFederatedToken(token, "idToken (AzureCLI@2)", now());
            return token;
          }),
          common,
        );
      }
      return new AzurePipelinesCredential(tenantId, clientId, id.serviceConnectionId ?? "", id.systemAccessToken ?? "", common);
    }
    case "workload-identity": {
      // Read on each request: the kubelet rotates the projected token file (about hourly).
      const file = id.federatedTokenFile ?? "";
      return new ClientAssertionCredential(
        tenantId,
        clientId,
        guard(async () => {
          let token: string;
          try {
            token = readFileSync(file, "utf8").trim();
          } catch {
            throw acrOidcTokenInvalid(`AZURE_FEDERATED_TOKEN_FILE ${JSON.stringify(file)}`, "cannot be read", "Check the workload identity webhook mounted the projected token.");
          }
          checkFederatedToken(token, `AZURE_FEDERATED_TOKEN_FILE ${JSON.stringify(file)}`, now());
          return token;
        }),
        common,
      );
    }
    case "client-secret":
      return new ClientSecretCredential(tenantId, clientId, id.clientSecret ?? "", common);
    case "managed-identity":
      // A user-assigned identity is named by its client id; without one, the system-assigned identity.
      return id.clientId ? new ManagedIdentityCredential({ clientId: id.clientId }) : new ManagedIdentityCredential();
    case "azure-cli":
      return new AzureCliCredential({ tenantId: id.tenantId });
  }
}
