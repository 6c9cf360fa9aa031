import { createHmac, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { join } from "node:path";
import type { Server } from "node:https";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { TestTls } from "./tls.js";

/**
 * Stand-ins for the Azure endpoints that cannot run here, built from their published protocols:
 * - Entra ID (AAD) v2.0: `/{tenant}/v2.0/.well-known/openid-configuration` and `/{tenant}/oauth2/v2.0/token`
 *   (client credentials with a federated `client_assertion`, RFC 7523), with the AADSTS errors of the
 *   federated-credential checks (700024 time range, 700211 issuer, 700212 audience, 700213 subject, 700016, 90002).
 * - The OIDC issuers in front of it: GitHub Actions' ID-token request URL (`{ value }`) and Azure DevOps'
 *   `oidctoken` endpoint (`{ oidcToken }`).
 * - ACR (docs: Azure/acr "docs/AAD-OAuth.md"): `POST /oauth2/exchange` (AAD access token → ACR refresh token,
 *   401 unless the principal holds AcrPush), `POST /oauth2/token` (refresh token → access token for a scope),
 *   the `/acr/v1` tag and manifest properties (changeableAttributes), the manifest listing (`/acr/v1/{name}/_manifests`,
 *   paged with a Link header, read from the real registry's storage: `backendStorage`) and tag delete, and `/v2/*`
 *   behind a Bearer challenge, proxied to a real registry (docker-registry with relativeurls, so its Location
 *   headers pass through). Locks are enforced as ACR does: a tag by its own attributes, a manifest delete by the
 *   manifest's; a manifest delete takes its tags with it. `failManifestDeletesAfter` injects a registry failure.
 *
 * Tokens are JWTs signed with HMAC-SHA256 and a per-run key (no JOSE library is installed; the stand-in only
 * needs tokens that the clients can read `exp` from and that it can check were issued by itself).
 */

export const ACR_AUDIENCE = "https://containerregistry.azure.net";
export const GITHUB_ISSUER = "https://token.actions.githubusercontent.com";
export const FEDERATION_AUDIENCE = "api://AzureADTokenExchange";

export interface FederatedCredential {
  issuer: string;
  subject: string;
  audience?: string;
}

export interface AppRegistration {
  tenantId: string;
  clientId: string;
  federated: FederatedCredential[];
}

export interface RecordedRequest {
  server: "aad" | "acr" | "issuer";
  method: string;
  path: string;
  /** Form fields / query of the request (tests assert on names, and that nothing secret leaks elsewhere). */
  fields: Record<string, string>;
}

interface Attributes {
  deleteEnabled: boolean;
  writeEnabled: boolean;
  readEnabled: boolean;
  listEnabled: boolean;
}

export interface AzureStandins {
  /** https://localhost:PORT: pass as authorityHost / AZURE_AUTHORITY_HOST. */
  authorityHost: string;
  /** GitHub's ACTIONS_ID_TOKEN_REQUEST_URL (with its api-version query, like the real one). */
  githubRequestUrl: string;
  githubRequestToken: string;
  /** Azure DevOps SYSTEM_OIDCREQUESTURI and the SYSTEM_ACCESSTOKEN it accepts. */
  adoOidcRequestUri: string;
  adoAccessToken: string;
  /** Login server of the ACR stand-in: `<name>.azurecr.io:PORT` (resolve *.azurecr.io to 127.0.0.1, see dns.ts). */
  registry: string;
  requests: RecordedRequest[];
  /** Every token this stand-in minted (federated, Entra ID, ACR refresh and access): all secrets, for canary checks. */
  issued: string[];
  apps: AppRegistration[];
  /** Client ids holding AcrPush on the registry. */
  acrPush: Set<string>;
  /** GitHub subject of the next minted token (what the workflow's ref/environment would give). */
  githubSubject: string;
  /** Seconds a minted GitHub/ADO token lives (GitHub: about 10 minutes). */
  issuedTokenLifetime: number;
  /** Mint a JWT as an OIDC issuer would (for workload identity files, AzureCLI@2 idToken, negative cases). */
  mintFederatedToken(claims: { iss?: string; sub: string; aud?: string | string[]; exp?: number; nbf?: number }): string;
  /** A refresh token is valid iff this stand-in issued it and it has not expired. */
  isValidRefreshToken(token: string): boolean;
  /**
   * Fault injection: after this many more manifest deletes succeed, every further one answers 503 (a registry
   * failing mid-way through a prune). null: no fault.
   */
  failManifestDeletesAfter: number | null;
  close(): Promise<void>;
}

function b64url(value: string | Buffer): string {
  return Buffer.from(value).toString("base64url");
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (body += chunk));
    req.on("end", () => resolve(body));
    req.on("error", reject);
  });
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", ...headers });
  res.end(JSON.stringify(body));
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)));
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

export async function startAzureStandins(options: {
  tls: TestTls;
  /** host:port of the real registry behind the ACR stand-in. */
  backend: string;
  /**
   * The real registry's filesystem storage root (its `storage.filesystem.rootdirectory`). The distribution API
   * cannot list untagged manifests, which ACR's `/acr/v1/{name}/_manifests` does: with the storage the stand-in
   * reads them, with their tags, where the registry keeps them (docker/distribution `registry/storage/paths.go`).
   */
  backendStorage?: string;
  registryName?: string;
  apps: AppRegistration[];
  acrPush?: string[];
  /** The ACTIONS_ID_TOKEN_REQUEST_TOKEN the GitHub issuer accepts (default: a random one), e.g. a test's canary. */
  githubRequestToken?: string;
}): Promise<AzureStandins> {
  const key = randomBytes(32);
  const issued: string[] = [];
  const now = () => Math.floor(Date.now() / 1000);
  const sign = (claims: Record<string, unknown>): string => {
    const head = b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
    const body = b64url(JSON.stringify(claims));
    const sig = createHmac("sha256", key).update(`${head}.${body}`).digest("base64url");
    const token = `${head}.${body}.${sig}`;
    issued.push(token);
    return token;
  };
  const verify = (token: string): Record<string, unknown> | null => {
    const [head, body, sig] = token.split(".");
    if (!head || !body || !sig) return null;
    const expected = createHmac("sha256", key).update(`${head}.${body}`).digest();
    const given = Buffer.from(sig, "base64url");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    try {
      return JSON.parse(Buffer.from(body, "base64url").toString("utf8")) as Record<string, unknown>;
    } catch {
      return null;
    }
  };

  const requests: RecordedRequest[] = [];
  const state = {
    apps: options.apps,
    acrPush: new Set(options.acrPush ?? []),
    githubSubject: "repo:acme/shop:ref:refs/heads/main",
    issuedTokenLifetime: 600,
  };
  const githubRequestToken = options.githubRequestToken ?? `gh-request-${randomUUID()}`;
  const adoAccessToken = `ado-access-${randomUUID()}`;

  // ---- issuers: GitHub Actions and Azure DevOps ----------------------------------------------------
  const issuer = createServer({ key: options.tls.key, cert: options.tls.cert }, (req, res) => {
    void (async () => {
      const url = new URL(req.url ?? "/", "https://localhost");
      const body = await readBody(req);
      requests.push({ server: "issuer", method: req.method ?? "", path: url.pathname, fields: Object.fromEntries(url.searchParams) });
      if (url.pathname === "/github/idtoken" && req.method === "GET") {
        if (req.headers.authorization?.toLowerCase() !== `bearer ${githubRequestToken}`) return json(res, 401, { message: "Bad credentials" });
        const aud = url.searchParams.get("audience") ?? "https://github.com/acme";
        return json(res, 200, {
          count: 1,
          value: sign({ iss: GITHUB_ISSUER, sub: state.githubSubject, aud, iat: now(), nbf: now() - 5, exp: now() + state.issuedTokenLifetime, jti: randomUUID() }),
        });
      }
      if (url.pathname === "/ado/oidctoken" && req.method === "POST") {
        if (req.headers.authorization !== `Bearer ${adoAccessToken}`) return json(res, 401, { message: "TF400813: not authorized" });
        const connection = url.searchParams.get("serviceConnectionId") ?? "";
        void body;
        return json(res, 200, {
          oidcToken: sign({ iss: "https://vstoken.dev.azure.com/org-id", sub: `sc://acme/shop/${connection}`, aud: FEDERATION_AUDIENCE, exp: now() + state.issuedTokenLifetime, nbf: now() - 5 }),
        });
      }
      json(res, 404, { message: "Not Found" });
    })();
  });

  // ---- Entra ID --------------------------------------------------------------------------------------
  let aadBase = "";
  const aadError = (res: ServerResponse, status: number, error: string, code: number, text: string) =>
    json(res, status, {
      error,
      error_description: `AADSTS${code}: ${text} Trace ID: ${randomUUID()} Correlation ID: ${randomUUID()} Timestamp: ${new Date().toISOString()}`,
      error_codes: [code],
      timestamp: new Date().toISOString(),
      trace_id: randomUUID(),
      correlation_id: randomUUID(),
    });
  const aad = createServer({ key: options.tls.key, cert: options.tls.cert }, (req, res) => {
    void (async () => {
      const url = new URL(req.url ?? "/", aadBase);
      const body = await readBody(req);
      const form = Object.fromEntries(new URLSearchParams(body));
      requests.push({ server: "aad", method: req.method ?? "", path: url.pathname, fields: form });
      const parts = url.pathname.split("/").filter(Boolean);
      const tenant = parts[0] ?? "";
      const knownTenant = state.apps.some((a) => a.tenantId === tenant);
      if (parts.slice(1).join("/") === "v2.0/.well-known/openid-configuration") {
        if (!knownTenant) return aadError(res, 400, "invalid_tenant", 90002, `Tenant '${tenant}' not found.`);
        return json(res, 200, {
          token_endpoint: `${aadBase}/${tenant}/oauth2/v2.0/token`,
          authorization_endpoint: `${aadBase}/${tenant}/oauth2/v2.0/authorize`,
          end_session_endpoint: `${aadBase}/${tenant}/oauth2/v2.0/logout`,
          jwks_uri: `${aadBase}/${tenant}/discovery/v2.0/keys`,
          issuer: `${aadBase}/${tenant}/v2.0`,
          response_types_supported: ["code", "id_token", "token"],
          token_endpoint_auth_methods_supported: ["client_secret_post", "private_key_jwt", "client_secret_basic"],
          tenant_region_scope: null,
        });
      }
      if (parts.slice(1).join("/") !== "oauth2/v2.0/token" || req.method !== "POST") return json(res, 404, { error: "not_found" });
      if (!knownTenant) return aadError(res, 400, "invalid_request", 90002, `Tenant '${tenant}' not found.`);
      const app = state.apps.find((a) => a.tenantId === tenant && a.clientId === form.client_id);
      if (!app) return aadError(res, 400, "unauthorized_client", 700016, `Application with identifier '${form.client_id}' was not found in the directory.`);
      if (form.grant_type !== "client_credentials") return aadError(res, 400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.");
      if (form.scope !== `${ACR_AUDIENCE}/.default`) return aadError(res, 400, "invalid_resource", 500011, `The resource principal named ${form.scope} was not found.`);
      if (form.client_assertion_type !== "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" || !form.client_assertion) {
        return aadError(res, 401, "invalid_client", 7000218, "The request body must contain client_assertion or client_secret.");
      }
      const claims = verify(form.client_assertion);
      if (!claims) return aadError(res, 400, "invalid_request", 50027, "JWT token is invalid or malformed.");
      const t = now();
      if (typeof claims.exp !== "number" || claims.exp < t || (typeof claims.nbf === "number" && claims.nbf > t + 300)) {
        return aadError(res, 400, "invalid_client", 700024, `Client assertion is not within its valid time range. Current time: ${new Date(t * 1000).toISOString()}.`);
      }
      const audiences = Array.isArray(claims.aud) ? claims.aud.map(String) : [String(claims.aud)];
      const byIssuer = app.federated.filter((f) => f.issuer === claims.iss);
      if (byIssuer.length === 0) return aadError(res, 400, "invalid_client", 700211, `No matching federated identity record found for presented assertion issuer '${String(claims.iss)}'.`);
      const byAudience = byIssuer.filter((f) => audiences.includes(f.audience ?? FEDERATION_AUDIENCE));
      if (byAudience.length === 0) return aadError(res, 400, "invalid_client", 700212, `No matching federated identity record found for presented assertion audience '${audiences.join(",")}'.`);
      if (!byAudience.some((f) => f.subject === claims.sub)) {
        return aadError(res, 400, "invalid_client", 700213, `No matching federated identity record found for presented assertion subject '${String(claims.sub)}'.`);
      }
      json(res, 200, {
        token_type: "Bearer",
        expires_in: 3599,
        ext_expires_in: 3599,
        access_token: sign({ aud: ACR_AUDIENCE, iss: `https://sts.windows.net/${tenant}/`, tid: tenant, appid: app.clientId, oid: app.clientId, exp: t + 3599 }),
      });
    })();
  });

  // ---- ACR -----------------------------------------------------------------------------------------
  let registry = "";
  const tagAttributes = new Map<string, Attributes>();
  const manifestAttributes = new Map<string, Attributes>();
  const created = new Map<string, string>();
  const defaults = (): Attributes => ({ deleteEnabled: true, writeEnabled: true, readEnabled: true, listEnabled: true });
  const acrError = (res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}) =>
    json(res, status, { errors: [{ code, message, detail: null }] }, headers);
  const challenge = (scope: string) => `Bearer realm="https://${registry}/oauth2/token",service="${registry}",scope="${scope}"`;

  /** HEAD on the real registry: the digest a reference resolves to, or null. */
  const backendDigest = (name: string, reference: string): Promise<string | null> =>
    new Promise((resolve, reject) => {
      const [host, port] = options.backend.split(":");
      const req = httpsRequest(
        {
          host,
          port: Number(port),
          method: "HEAD",
          path: `/v2/${name}/manifests/${reference}`,
          ca: options.tls.ca,
          headers: {
            Accept: [
              "application/vnd.oci.image.manifest.v1+json",
              "application/vnd.oci.image.index.v1+json",
              "application/vnd.docker.distribution.manifest.v2+json",
              "application/vnd.docker.distribution.manifest.list.v2+json",
            ].join(", "),
          },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode === 200 ? String(res.headers["docker-content-digest"] ?? "") || null : null);
        },
      );
      req.on("error", reject);
      req.end();
    });

  // ---- the real registry's storage (docker/distribution registry/storage/paths.go) --------------------
  const faults = { failManifestDeletesAfter: null as number | null };
  const repoDir = (name: string) => (options.backendStorage ? join(options.backendStorage, "docker", "registry", "v2", "repositories", ...name.split("/"), "_manifests") : null);
  const readLink = (file: string): string | null => (existsSync(file) ? readFileSync(file, "utf8").trim() : null);
  /** tag -> digest, from `_manifests/tags/<tag>/current/link`. */
  const storedTags = (name: string): Map<string, string> => {
    const dir = repoDir(name);
    const tags = new Map<string, string>();
    if (!dir || !existsSync(join(dir, "tags"))) return tags;
    for (const tag of readdirSync(join(dir, "tags"))) {
      const digest = readLink(join(dir, "tags", tag, "current", "link"));
      if (digest) tags.set(tag, digest);
    }
    return tags;
  };
  /** Every manifest revision the repository holds (tagged or not), with the time its link was written. */
  const storedManifests = (name: string): Array<{ digest: string; updated: Date }> => {
    const dir = repoDir(name);
    const root = dir ? join(dir, "revisions", "sha256") : null;
    if (!root || !existsSync(root)) return [];
    return readdirSync(root).flatMap((hex) => {
      const link = join(root, hex, "link");
      return existsSync(link) ? [{ digest: `sha256:${hex}`, updated: statSync(link).mtime }] : [];
    });
  };
  const tagsOf = (name: string, digest: string) => [...storedTags(name)].filter(([, d]) => d === digest).map(([t]) => t).sort();
  /** What distribution's tagStore.Untag does: remove the tag's folder. */
  const removeTag = (name: string, tag: string) => {
    const dir = repoDir(name);
    if (dir) rmSync(join(dir, "tags", tag), { recursive: true, force: true });
  };
  const manifestBody = (name: string, digest: string, updated: Date, attributes: Attributes) => {
    const id = `${name}@${digest}`;
    if (!created.has(id)) created.set(id, updated.toISOString());
    return { digest, imageSize: 0, createdTime: created.get(id), lastUpdateTime: updated.toISOString(), tags: tagsOf(name, digest), changeableAttributes: attributes };
  };
  /**
   * ACR's lock (docs: "Lock a container image in an Azure container registry", container-registry-image-lock):
   * writeEnabled false means the image can be neither deleted nor updated; deleteEnabled false alone forbids deleting.
   */
  const manifestLocked = (name: string, digest: string, op: "delete"): boolean => {
    const a = manifestAttributes.get(`${name}@${digest}`);
    if (!a) return false;
    return a.writeEnabled === false || (op === "delete" && a.deleteEnabled === false);
  };

  const bearerClaims = (req: IncomingMessage): Record<string, unknown> | null => {
    const header = req.headers.authorization ?? "";
    if (!header.startsWith("Bearer ")) return null;
    const claims = verify(header.slice(7));
    return claims && claims.typ === "access" && typeof claims.exp === "number" && claims.exp > now() ? claims : null;
  };

  const acr = createServer({ key: options.tls.key, cert: options.tls.cert }, (req, res) => {
    void (async () => {
      const url = new URL(req.url ?? "/", `https://${registry}`);
      const isV2 = url.pathname.startsWith("/v2/");
      const body = isV2 ? "" : await readBody(req);
      const form = Object.fromEntries(new URLSearchParams(body));
      requests.push({ server: "acr", method: req.method ?? "", path: url.pathname, fields: req.method === "GET" ? Object.fromEntries(url.searchParams) : form });

      if (url.pathname === "/oauth2/exchange" && req.method === "POST") {
        if (form.grant_type !== "access_token") return acrError(res, 400, "UNSUPPORTED", "grant_type must be access_token");
        if (form.service !== registry) return acrError(res, 400, "INVALID_SERVICE", `service must be ${registry}`);
        const aadClaims = verify(form.access_token ?? "");
        if (!aadClaims || aadClaims.aud !== ACR_AUDIENCE || typeof aadClaims.exp !== "number" || aadClaims.exp < now()) {
          return acrError(res, 401, "UNAUTHORIZED", "authentication required, visit https://aka.ms/acr/authorization for more information.");
        }
        if (!state.acrPush.has(String(aadClaims.appid))) {
          return acrError(res, 401, "UNAUTHORIZED", "authentication required, visit https://aka.ms/acr/authorization for more information.");
        }
        return json(res, 200, { refresh_token: sign({ typ: "refresh", sub: aadClaims.appid, tenant: form.tenant ?? aadClaims.tid, aud: registry, exp: now() + 3 * 3600, jti: randomUUID() }) });
      }

      if (url.pathname === "/oauth2/token" && req.method === "POST") {
        if (form.grant_type === "refresh_token") {
          const refresh = verify(form.refresh_token ?? "");
          if (!refresh || refresh.typ !== "refresh" || (refresh.exp as number) < now() || refresh.aud !== registry) {
            return acrError(res, 401, "UNAUTHORIZED", "authentication required");
          }
          return json(res, 200, { access_token: sign({ typ: "access", sub: refresh.sub, scope: form.scope, exp: now() + 75 * 60 }) });
        }
        // Anonymous pull (grant_type=password with no credentials) is disabled on this registry.
        return acrError(res, 401, "UNAUTHORIZED", "authentication required");
      }

      // What `docker login/push` does with a username and password: GET /oauth2/token?service&scope with Basic
      // auth (Azure/acr docs/Token-BasicAuth.md; REST "Access Tokens - Get From Login"). With AAD, the username
      // is 00000000-0000-0000-0000-000000000000 and the password an ACR refresh token (`az acr login --expose-token`).
      if (url.pathname === "/oauth2/token" && req.method === "GET") {
        const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? "")?.[1];
        const [user, ...rest] = Buffer.from(basic ?? "", "base64").toString("utf8").split(":");
        const refresh = verify(rest.join(":"));
        if (user !== "00000000-0000-0000-0000-000000000000" || !refresh || refresh.typ !== "refresh" || (refresh.exp as number) < now() || refresh.aud !== registry) {
          return acrError(res, 401, "UNAUTHORIZED", "authentication required");
        }
        const scope = url.searchParams.getAll("scope").join(" ");
        return json(res, 200, { access_token: sign({ typ: "access", sub: refresh.sub, scope, exp: now() + 75 * 60 }) });
      }

      if (url.pathname.startsWith("/acr/v1/")) {
        const claims = bearerClaims(req);
        const rest = url.pathname.slice("/acr/v1/".length);
        const tagAt = rest.indexOf("/_tags/");
        const manifestAt = rest.indexOf("/_manifests/");
        const listing = rest.endsWith("/_manifests") && tagAt < 0 && manifestAt < 0;
        const name = decodeURIComponent(listing ? rest.slice(0, -"/_manifests".length) : rest.slice(0, Math.max(tagAt, manifestAt)));
        if (!claims) return acrError(res, 401, "UNAUTHORIZED", "authentication required", { "WWW-Authenticate": challenge(`repository:${name}:metadata_read`) });
        const patch = req.method === "PATCH" ? (JSON.parse(body || "{}") as Partial<Attributes>) : null;
        if (listing && req.method === "GET") {
          // REST "Manifests - Get List" (GET /acr/v1/{name}/_manifests?last&n&orderby=timedesc|timeasc): a page of
          // manifests and, when more follow, a Link header `<next>; rel="next"` (what the SDK's extractNextLink reads).
          if (!options.backendStorage) return acrError(res, 501, "UNSUPPORTED", "this stand-in was started without backendStorage");
          const order = url.searchParams.get("orderby");
          const all = storedManifests(name).sort((a, b) => (order === "timeasc" ? a.updated.getTime() - b.updated.getTime() : order === "timedesc" ? b.updated.getTime() - a.updated.getTime() : a.digest.localeCompare(b.digest)));
          if (all.length === 0) return acrError(res, 404, "NAME_UNKNOWN", `repository name not known to registry`);
          const last = url.searchParams.get("last");
          const start = last ? all.findIndex((m) => m.digest === last) + 1 : 0;
          const n = Number(url.searchParams.get("n") ?? "") || 100;
          const page = all.slice(start, start + n);
          const more = start + n < all.length && page.length > 0;
          const next = more ? `</acr/v1/${encodeURIComponent(name)}/_manifests?last=${encodeURIComponent(page.at(-1)?.digest ?? "")}&n=${n}${order ? `&orderby=${order}` : ""}>; rel="next"` : null;
          return json(
            res,
            200,
            { registry, imageName: name, manifests: page.map((m) => manifestBody(name, m.digest, m.updated, manifestAttributes.get(`${name}@${m.digest}`) ?? defaults())) },
            next ? { Link: next } : {},
          );
        }
        if (tagAt >= 0 && req.method === "DELETE") {
          // REST "Tag - Delete" (DELETE /acr/v1/{name}/_tags/{reference}, 202): the tag goes, the manifest stays.
          const tag = decodeURIComponent(rest.slice(tagAt + "/_tags/".length));
          const digest = await backendDigest(name, tag);
          if (!digest) return acrError(res, 404, "TAG_UNKNOWN", "the specified tag does not exist");
          const a = tagAttributes.get(`${name}:${tag}`);
          if (a && (a.deleteEnabled === false || a.writeEnabled === false)) return acrError(res, 405, "DENIED", "The operation is disallowed on this registry, repository or image.");
          removeTag(name, tag);
          tagAttributes.delete(`${name}:${tag}`);
          res.writeHead(202);
          return res.end();
        }
        if (tagAt >= 0) {
          const tag = decodeURIComponent(rest.slice(tagAt + "/_tags/".length));
          const digest = await backendDigest(name, tag);
          if (!digest) return acrError(res, 404, "TAG_UNKNOWN", `the specified tag does not exist`);
          const id = `${name}:${tag}`;
          const attributes = { ...(tagAttributes.get(id) ?? defaults()), ...(patch ?? {}) };
          tagAttributes.set(id, attributes);
          if (!created.has(id)) created.set(id, new Date().toISOString());
          return json(res, 200, {
            registry,
            imageName: name,
            tag: { name: tag, digest, createdTime: created.get(id), lastUpdateTime: new Date().toISOString(), signed: false, changeableAttributes: attributes },
          });
        }
        if (manifestAt >= 0) {
          const digest = decodeURIComponent(rest.slice(manifestAt + "/_manifests/".length));
          if (!(await backendDigest(name, digest))) return acrError(res, 404, "MANIFEST_UNKNOWN", "manifest unknown");
          const id = `${name}@${digest}`;
          const attributes = { ...(manifestAttributes.get(id) ?? defaults()), ...(patch ?? {}) };
          manifestAttributes.set(id, attributes);
          if (!created.has(id)) created.set(id, new Date().toISOString());
          return json(res, 200, {
            registry,
            imageName: name,
            manifest: { digest, createdTime: created.get(id), lastUpdateTime: new Date().toISOString(), tags: options.backendStorage ? tagsOf(name, digest) : [], changeableAttributes: attributes },
          });
        }
        return acrError(res, 404, "NAME_UNKNOWN", "unknown route");
      }

      if (url.pathname === "/v2/" || isV2) {
        const claims = bearerClaims(req);
        const name = /^\/v2\/(.+?)\/(?:manifests|blobs|tags)\//.exec(url.pathname)?.[1] ?? "";
        if (!claims) {
          res.writeHead(401, { "WWW-Authenticate": challenge(`repository:${name}:pull,push`), "Content-Type": "application/json" });
          req.resume();
          return res.end(JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] }));
        }
        // A locked tag or manifest cannot be overwritten or deleted (ACR answers 405 with DENIED).
        const manifestRef = /^\/v2\/(.+?)\/manifests\/(.+)$/.exec(url.pathname);
        if (manifestRef && (req.method === "PUT" || req.method === "DELETE")) {
          // The SDK percent-encodes the repository ("shop%2Fapi") and digest ("sha256%3A...").
          const repo = decodeURIComponent(manifestRef[1] ?? "");
          const reference = decodeURIComponent(manifestRef[2] ?? "");
          // A tag is guarded by its own attributes (a locked manifest's other tags can still move, as the
          // verify test relies on); a manifest by its own: writeEnabled or deleteEnabled false refuses a delete.
          const locked =
            (req.method === "PUT" && tagAttributes.get(`${repo}:${reference}`)?.writeEnabled === false) ||
            (req.method === "DELETE" && manifestLocked(repo, reference, "delete"));
          if (locked) {
            req.resume();
            return acrError(res, 405, "DENIED", "The operation is disallowed on this registry, repository or image.");
          }
          if (req.method === "DELETE" && faults.failManifestDeletesAfter !== null) {
            if (faults.failManifestDeletesAfter <= 0) {
              req.resume();
              return acrError(res, 503, "UNAVAILABLE", "service unavailable (injected by the test)");
            }
            faults.failManifestDeletesAfter -= 1;
          }
          if (req.method === "DELETE" && reference.startsWith("sha256:")) {
            // ACR deletes a manifest with every tag that names it (docs: `az acr repository delete --image`);
            // distribution 2.8 leaves the tag folders, so the stand-in removes them after the registry's 202.
            const tags = tagsOf(repo, reference);
            res.on("finish", () => {
              if (res.statusCode === 202) for (const tag of tags) removeTag(repo, tag);
            });
          }
        }
        const [host, port] = options.backend.split(":");
        const headers = { ...req.headers };
        delete headers.authorization;
        delete headers.host;
        const upstream = httpsRequest({ host, port: Number(port), method: req.method, path: url.pathname + url.search, headers, ca: options.tls.ca }, (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        });
        upstream.on("error", () => acrError(res, 502, "BAD_GATEWAY", "backend unreachable"));
        req.pipe(upstream);
        return;
      }
      acrError(res, 404, "NOT_FOUND", "unknown route");
    })();
  });

  const [issuerPort, aadPort, acrPort] = await Promise.all([listen(issuer), listen(aad), listen(acr)]);
  aadBase = `https://localhost:${aadPort}`;
  registry = `${options.registryName ?? "slipwaytest"}.azurecr.io:${acrPort}`;

  return {
    authorityHost: aadBase,
    githubRequestUrl: `https://localhost:${issuerPort}/github/idtoken?api-version=2.0`,
    githubRequestToken,
    adoOidcRequestUri: `https://localhost:${issuerPort}/ado/oidctoken`,
    adoAccessToken,
    registry,
    requests,
    issued,
    get apps() {
      return state.apps;
    },
    set apps(value: AppRegistration[]) {
      state.apps = value;
    },
    acrPush: state.acrPush,
    get githubSubject() {
      return state.githubSubject;
    },
    set githubSubject(value: string) {
      state.githubSubject = value;
    },
    get issuedTokenLifetime() {
      return state.issuedTokenLifetime;
    },
    set issuedTokenLifetime(value: number) {
      state.issuedTokenLifetime = value;
    },
    mintFederatedToken(claims) {
      return sign({ iss: GITHUB_ISSUER, aud: FEDERATION_AUDIENCE, exp: now() + 600, ...claims });
    },
    get failManifestDeletesAfter() {
      return faults.failManifestDeletesAfter;
    },
    set failManifestDeletesAfter(value: number | null) {
      faults.failManifestDeletesAfter = value;
    },
    isValidRefreshToken(token) {
      const claims = verify(token);
      return !!claims && claims.typ === "refresh" && (claims.exp as number) > now();
    },
    async close() {
      await Promise.all([close(issuer), close(aad), close(acr)]);
    },
  };
}
