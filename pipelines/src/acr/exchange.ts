import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { registerSecret } from "../cli/secrets.js";
import { parseDuration } from "../rollout/duration.js";
import { acrAadRejected, acrAadTimedOut, acrAadUnavailable, acrExchangeDenied, acrExchangeFailed, isSlipwayError } from "../errors.js";
import type { ClientOptions } from "../azure/http.js";
import { httpRequest, jwtClaims } from "../azure/http.js";
import type { IdentityCredential } from "../azure/identity.js";
import type { ResolvedIdentity } from "./identity.js";
import { ACR_AAD_SCOPE, ACR_TOKEN_USERNAME } from "./registry.js";

/** Entra ID answered with an AADSTS code in the error text (`AADSTS700024: Client assertion ...`). */
function aadCodeOf(text: string): string | undefined {
  return /AADSTS\d+/.exec(text)?.[0];
}

function errorText(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    if (current instanceof Error) {
      parts.push(current.message);
      const response = (current as { errorResponse?: { errorDescription?: string } }).errorResponse;
      if (response?.errorDescription) parts.push(response.errorDescription);
      current = (current as { cause?: unknown }).cause;
    } else {
      parts.push(String(current));
      break;
    }
  }
  return parts.join("\n");
}

/** An Entra ID access token for ACR, with failures turned into catalog errors. */
/**
 * How long Entra ID may take to issue the token. @azure/identity has no deadline of its own: an authority
 * host that accepts the connection and never answers held `acr login` forever (found by the canary sweep).
 */
const AAD_TIMEOUT_MS = 60_000;

export async function aadTokenForAcr(id: ResolvedIdentity, identity: IdentityCredential): Promise<string> {
  // SLIPWAY_AZURE_TIMEOUT (a duration such as 2m) for a slow sovereign cloud or proxy.
  const limit = parseDuration(process.env.SLIPWAY_AZURE_TIMEOUT ?? "") ?? AAD_TIMEOUT_MS;
  const deadline = AbortSignal.timeout(limit);
  try {
    // MSAL's own requests (authority discovery) do not honour the signal: race it as well.
    const expired = new Promise<never>((_, reject) => deadline.addEventListener("abort", () => reject(new Error("deadline")), { once: true }));
    const token = await Promise.race([identity.credential.getToken(ACR_AAD_SCOPE, { abortSignal: deadline }), expired]);
    if (!token) throw new Error("the credential returned no token");
    registerSecret(token.token);
    return token.token;
  } catch (error) {
    const own = identity.assertionError();
    if (isSlipwayError(own)) throw own;
    if (isSlipwayError(error)) throw error;
    if (deadline.aborted) throw acrAadTimedOut(id.mode, limit);
    const text = errorText(error);
    const code = aadCodeOf(text);
    if (code) {
      const line = text.split("\n").find((l) => l.includes(code)) ?? text;
      throw acrAadRejected(code, line.slice(line.indexOf(code)).replace(/\s*Trace ID:.*$/s, ""));
    }
    throw acrAadUnavailable(id.mode, text, error);
  }
}

/**
 * ACR's token exchange (docs: azure/acr "AAD-OAuth.md"): POST /oauth2/exchange, form
 * `grant_type=access_token&service=<login server>&tenant=<tenant>&access_token=<AAD token>` →
 * `{ "refresh_token": "<jwt>" }`. The SDK does this internally but does not expose it, and `docker login`
 * (Dagger's withRegistryAuth) needs the refresh token itself.
 */
export async function exchangeForRefreshToken(
  registry: string,
  aadToken: string,
  tenantId: string | undefined,
  mode: string,
  options: ClientOptions = {},
): Promise<{ refreshToken: string; expiresOn: string | null }> {
  const form = new URLSearchParams({ grant_type: "access_token", service: registry, access_token: aadToken });
  if (tenantId) form.set("tenant", tenantId);
  let lastError = "";
  // Transient failures (network, 5xx, 429) are retried a bounded number of times; 4xx are terminal.
  for (let attempt = 0; attempt < 3; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, 500 * 2 ** attempt));
    let result;
    try {
      result = await httpRequest(`https://${registry}/oauth2/exchange`, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
        body: form.toString(),
      }, options);
    } catch (error) {
      lastError = (error as { code?: string }).code ?? (error instanceof Error ? error.message : String(error));
      continue;
    }
    if (result.status === 401 || result.status === 403) throw acrExchangeDenied(registry, result.status, mode);
    if (result.status === 200) {
      let token: unknown;
      try {
        token = (JSON.parse(result.body) as { refresh_token?: unknown }).refresh_token;
      } catch {
        token = undefined;
      }
      if (typeof token !== "string" || token === "") throw acrExchangeFailed(registry, 200, "the answer holds no refresh_token");
      registerSecret(token);
      const exp = jwtClaims(token)?.exp;
      return { refreshToken: token, expiresOn: typeof exp === "number" ? new Date(exp * 1000).toISOString() : null };
    }
    if (result.status >= 500 || result.status === 429) {
      lastError = `HTTP ${result.status}`;
      continue;
    }
    // ACR error bodies are `{ "errors": [{ "code", "message" }] }`; they never echo the token.
    let detail = `HTTP ${result.status}`;
    try {
      const body = JSON.parse(result.body) as { errors?: { code?: string; message?: string }[] };
      const first = body.errors?.[0];
      if (first) detail = `${first.code ?? ""} ${first.message ?? ""}`.trim();
    } catch {
      /* not JSON: keep the status */
    }
    throw acrExchangeFailed(registry, result.status, detail);
  }
  throw acrExchangeFailed(registry, lastError, "gave up after 3 attempts");
}

/**
 * Writes a secret to `path` with mode 0600: a fresh file in the same directory (O_EXCL, never following a
 * planted symlink), fsynced, then renamed over the target, so no reader ever sees a partial token.
 */
export function writeSecretFile(path: string, value: string): void {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  const fd = openSync(temp, "wx", 0o600);
  try {
    writeSync(fd, value);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw error;
  }
  closeSync(fd);
  renameSync(temp, path);
}

export interface LoginResult {
  registry: string;
  mode: string;
  username: string;
  passwordFile: string;
  expiresOn: string | null;
}

export { ACR_TOKEN_USERNAME };
