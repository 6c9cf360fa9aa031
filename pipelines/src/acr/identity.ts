import { readFileSync } from "node:fs";
import type { TokenCredential } from "@azure/identity";
import { AzureCliCredential, AzurePipelinesCredential, ClientAssertionCredential } from "@azure/identity";
import { acrIdentityMissing, acrOidcRequestFailed, acrOidcTokenInvalid } from "../errors.js";
import type { ClientOptions } from "./http.js";
import { httpRequest, jwtClaims } from "./http.js";
import type { IdentityMode, PublishIdentity } from "./schema.js";
import { IDENTITY_MODES } from "./schema.js";

/** The audience Entra ID expects in a federated token (the federated credential's default). */
export const FEDERATION_AUDIENCE = "api://AzureADTokenExchange";

/** Entra ID hosts MSAL knows (public and sovereign clouds); any other host skips instance discovery. */
const KNOWN_AUTHORITY_HOSTS = ["login.microsoftonline.com", "login.microsoftonline.us", "login.chinacloudapi.cn", "login.partner.microsoftonline.cn"];

/** Re-mint a federated token when fewer than this many ms remain (GitHub's last about 10 minutes). */
const REMINT_MARGIN_MS = 2 * 60_000;

/** Everything one identity needs, settled from flags, slipway.yaml and the environment (in that order). */
export interface ResolvedIdentity {
  mode: IdentityMode;
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
  username?: string;
  password?: string;
}

/** Default mode from where we run: the CI tells us (GITHUB_ACTIONS, TF_BUILD, AKS workload identity webhook). */
export function detectMode(env: NodeJS.ProcessEnv): IdentityMode {
  if (env.GITHUB_ACTIONS === "true") return "github-oidc";
  if (env.TF_BUILD?.toLowerCase() === "true") return "azure-pipelines";
  if (env.AZURE_FEDERATED_TOKEN_FILE) return "workload-identity";
  return "azure-cli";
}

export function isIdentityMode(value: string): value is IdentityMode {
  return (IDENTITY_MODES as readonly string[]).includes(value);
}

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
  const pick = (flag: string | undefined, conf: string | undefined, ...names: string[]): string | undefined =>
    flag ?? conf ?? names.map((n) => env[n]).find((v) => v !== undefined && v !== "");
  const id: ResolvedIdentity = {
    mode,
    tenantId: pick(flags.tenantId, config?.tenantId, "AZURE_TENANT_ID", ...(mode === "azure-pipelines" ? ["tenantId"] : [])),
    clientId: pick(flags.clientId, config?.clientId, "AZURE_CLIENT_ID", ...(mode === "azure-pipelines" ? ["servicePrincipalId"] : [])),
    authorityHost: pick(flags.authorityHost, config?.authorityHost, "AZURE_AUTHORITY_HOST"),
  };
  const missing: string[] = [];
  const need = (value: string | undefined, name: string): string | undefined => {
    if (value === undefined || value === "") missing.push(name);
    return value;
  };
  switch (mode) {
    case "github-oidc":
      need(id.tenantId, "--tenant-id (AZURE_TENANT_ID)");
      need(id.clientId, "--client-id (AZURE_CLIENT_ID)");
      id.oidcRequestUrl = need(env.ACTIONS_ID_TOKEN_REQUEST_URL, "ACTIONS_ID_TOKEN_REQUEST_URL");
      id.oidcRequestToken = need(env.ACTIONS_ID_TOKEN_REQUEST_TOKEN, "ACTIONS_ID_TOKEN_REQUEST_TOKEN");
      break;
    case "azure-pipelines": {
      need(id.tenantId, "--tenant-id (AZURE_TENANT_ID)");
      need(id.clientId, "--client-id (AZURE_CLIENT_ID)");
      id.idToken = env.idToken || env.AZURE_PIPELINES_ID_TOKEN || undefined;
      if (!id.idToken) {
        id.serviceConnectionId = need(
          pick(flags.serviceConnectionId, config?.serviceConnectionId, "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID"),
          "--service-connection-id (AZURESUBSCRIPTION_SERVICE_CONNECTION_ID) or idToken",
        );
        id.systemAccessToken = need(env.SYSTEM_ACCESSTOKEN, "SYSTEM_ACCESSTOKEN");
        need(env.SYSTEM_OIDCREQUESTURI, "SYSTEM_OIDCREQUESTURI");
      }
      break;
    }
    case "workload-identity":
      need(id.tenantId, "--tenant-id (AZURE_TENANT_ID)");
      need(id.clientId, "--client-id (AZURE_CLIENT_ID)");
      id.federatedTokenFile = need(env.AZURE_FEDERATED_TOKEN_FILE, "AZURE_FEDERATED_TOKEN_FILE");
      break;
    case "azure-cli":
      break;
    case "static":
      id.username = need(flags.username ?? config?.username ?? env.SLIPWAY_REGISTRY_USERNAME, "--username (SLIPWAY_REGISTRY_USERNAME)");
      id.password = need(env.SLIPWAY_REGISTRY_PASSWORD, "SLIPWAY_REGISTRY_PASSWORD");
      break;
  }
  if (missing.length > 0) throw acrIdentityMissing(mode, missing);
  return id;
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
function credentialOptions(id: ResolvedIdentity, options: ClientOptions) {
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

/** The Entra ID credential for an ACR mode. The federated token is read or minted again on each token request. */
export function createCredential(id: ResolvedIdentity, options: ClientOptions = {}, now: () => number = Date.now): IdentityCredential {
  let failure: unknown;
  const guard =
    (get: () => Promise<string>) =>
    async (): Promise<string> => {
      failure = undefined;
      try {
        return await get();
      } catch (error) {
        failure = error;
        throw error;
      }
    };
  return { credential: buildCredential(id, options, now, guard), assertionError: () => failure };
}

function buildCredential(
  id: ResolvedIdentity,
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
    case "azure-cli":
      return new AzureCliCredential({ tenantId: id.tenantId });
    case "static":
      throw new Error("static mode has no Entra ID credential");
  }
}
