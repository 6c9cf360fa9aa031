import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { OciImageManifest } from "@azure/container-registry";
import { ContainerRegistryContentClient } from "@azure/container-registry";
import type { PipelineRequest, SendRequest } from "@azure/core-rest-pipeline";
import type { TokenCredential } from "@azure/identity";
import { resolveAzurecrToLoopback } from "../../standins/azure/dns.js";
import type { AzureStandins } from "../../standins/azure/server.js";
import { GITHUB_ISSUER, startAzureStandins } from "../../standins/azure/server.js";
import type { TestTls } from "../../standins/azure/tls.js";
import { makeTestTls } from "../../standins/azure/tls.js";
import type { RunningRegistry } from "./registry-server.js";
import { startRegistry } from "./registry-server.js";

export const TENANT = "11111111-1111-1111-1111-111111111111";
export const CLIENT = "22222222-2222-2222-2222-222222222222";
/** An app registration that exists but was never granted AcrPush. */
export const READER_CLIENT = "33333333-3333-3333-3333-333333333333";
export const GITHUB_SUBJECT = "repo:acme/shop:ref:refs/heads/main";
export const ADO_CONNECTION = "44444444-4444-4444-4444-444444444444";

export interface World {
  tls: TestTls;
  registry: RunningRegistry;
  azure: AzureStandins;
  /** Env for a child process: trusts the test CA and resolves *.azurecr.io to 127.0.0.1. */
  childEnv(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

export async function startWorld(options: { githubRequestToken?: string } = {}): Promise<World> {
  const tls = makeTestTls();
  const registry = await startRegistry(tls);
  const restoreDns = resolveAzurecrToLoopback();
  const azure = await startAzureStandins({
    tls,
    backend: registry.host,
    backendStorage: join(registry.storage, "data"),
    apps: [
      {
        tenantId: TENANT,
        clientId: CLIENT,
        federated: [
          { issuer: GITHUB_ISSUER, subject: GITHUB_SUBJECT },
          { issuer: "https://vstoken.dev.azure.com/org-id", subject: `sc://acme/shop/${ADO_CONNECTION}` },
          { issuer: "https://oidc.prod-aks.azure.com/cluster-issuer/", subject: "system:serviceaccount:ci:slipway" },
        ],
      },
      { tenantId: TENANT, clientId: READER_CLIENT, federated: [{ issuer: GITHUB_ISSUER, subject: GITHUB_SUBJECT }] },
    ],
    acrPush: [CLIENT],
    ...(options.githubRequestToken ? { githubRequestToken: options.githubRequestToken } : {}),
  });
  const preload = join(import.meta.dirname, "..", "..", "standins", "azure", "resolve-azurecr.cjs");
  return {
    tls,
    registry,
    azure,
    childEnv(extra = {}) {
      // Only what the CLI needs: no inherited CI variables that would change the detected mode.
      return {
        PATH: process.env.PATH,
        HOME: tls.dir,
        NODE_EXTRA_CA_CERTS: tls.caFile,
        NODE_OPTIONS: `--require ${preload}`,
        ...extra,
      };
    },
    async stop() {
      await azure.close();
      restoreDns();
      await registry.stop();
      rmSync(tls.dir, { recursive: true, force: true });
    },
  };
}

/**
 * A small real image made here: a gzipped tar layer holding one file, an OCI config naming it, and an OCI
 * manifest, pushed with the SDK's content client (blobs first, then the manifest under `tag`).
 */
export async function pushImage(
  endpoint: string,
  repository: string,
  credential: TokenCredential,
  tag: string,
  options: { ca: string; content?: string; basic?: { username: string; password: string } },
): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "slipway-image-"));
  try {
    writeFileSync(join(dir, "hello.txt"), options.content ?? `hello from ${repository}:${tag}\n`);
    execFileSync("tar", ["--mtime=@0", "--owner=0", "--group=0", "-czf", join(dir, "layer.tar.gz"), "-C", dir, "hello.txt"]);
    const layer = readFileSync(join(dir, "layer.tar.gz"));
    const diffId = execFileSync("sh", ["-c", `gzip -dc '${join(dir, "layer.tar.gz")}' | sha256sum | cut -d' ' -f1`], { encoding: "utf8" }).trim();
    const basic = options.basic;
    // Basic auth for a plain registry with htpasswd: the SDK itself only speaks ACR's bearer flow.
    const additionalPolicies = basic
      ? [
          {
            position: "perCall" as const,
            policy: {
              name: "testBasicAuth",
              sendRequest: (request: PipelineRequest, next: SendRequest) => {
                request.headers.set("Authorization", `Basic ${Buffer.from(`${basic.username}:${basic.password}`).toString("base64")}`);
                return next(request);
              },
            },
          },
        ]
      : [];
    const client = new ContainerRegistryContentClient(endpoint, repository, credential, { tlsOptions: { ca: options.ca }, additionalPolicies });
    const config = Buffer.from(
      JSON.stringify({ architecture: "amd64", os: "linux", config: {}, rootfs: { type: "layers", diff_ids: [`sha256:${diffId}`] } }),
    );
    const configBlob = await client.uploadBlob(config);
    const layerBlob = await client.uploadBlob(layer);
    const manifest: OciImageManifest = {
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: configBlob.digest, size: configBlob.sizeInBytes },
      layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: layerBlob.digest, size: layerBlob.sizeInBytes }],
      annotations: { "org.opencontainers.image.title": repository },
    };
    const result = await client.setManifest(manifest, { tag });
    return result.digest;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Tags an existing manifest (what a second `docker push` of the same image does). */
export async function tagImage(endpoint: string, repository: string, credential: TokenCredential, digest: string, tag: string, ca: string): Promise<void> {
  const client = new ContainerRegistryContentClient(endpoint, repository, credential, { tlsOptions: { ca } });
  const manifest = await client.getManifest(digest);
  await client.setManifest(manifest.content, { tag, mediaType: manifest.mediaType });
}
