import type { TlsSettings } from "@azure/core-rest-pipeline";
import { createDefaultHttpClient, createHttpHeaders, createPipelineRequest } from "@azure/core-rest-pipeline";

/** Client options shared by every request we make: extra CA for private registries and tests. */
export interface ClientOptions {
  tlsOptions?: TlsSettings;
}

export interface HttpResult {
  status: number;
  body: string;
  headers: Record<string, string>;
}

const client = createDefaultHttpClient();

/**
 * One HTTP request through Azure's core pipeline HTTP client (the one @azure/identity and
 * @azure/container-registry use), so TLS settings and proxies behave the same for our own calls.
 */
export async function httpRequest(
  url: string,
  init: { method: "GET" | "POST"; headers?: Record<string, string>; body?: string; timeoutMs?: number },
  options: ClientOptions = {},
): Promise<HttpResult> {
  const request = createPipelineRequest({
    url,
    method: init.method,
    headers: createHttpHeaders(init.headers ?? {}),
    body: init.body,
    timeout: init.timeoutMs ?? 30_000,
  });
  // Set after creation: createPipelineRequest does not copy tlsSettings from its options.
  if (options.tlsOptions) request.tlsSettings = options.tlsOptions;
  const response = await client.sendRequest(request);
  return { status: response.status, body: response.bodyAsText ?? "", headers: response.headers.toJSON() };
}

/** Claims of a JWT, read without verifying it (the issuer verifies; we only explain failures early). */
export function jwtClaims(token: string): Record<string, unknown> | null {
  const part = token.split(".")[1];
  if (!part) return null;
  try {
    const value: unknown = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
    return value && typeof value === "object" ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
