// `publish` end to end: the module through the real SDK against the Dagger API stand-in, the toolkit's
// `slipway acr login/tags/check/verify` against the Entra ID and ACR stand-ins (test/standins/azure), and the
// engine's `Container.publish` pushing into the real Debian docker-registry behind them (test/pipelines/acr
// world). The toolkit reaches https://slipwaytest.azurecr.io:PORT by its name (the engine host's
// ENGINE_HOSTS) and trusts the test CA through the module's `caCertificates` argument.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { request } from "node:https";
import { rmSync } from "node:fs";
import { dag } from "@dagger.io/dagger";
import { git, tempRepo } from "../../helpers/repo.js";
import { CLIENT, READER_CLIENT, startWorld as startAcrWorld, TENANT } from "../../pipelines/acr/world.js";
import type { World as AcrWorld } from "../../pipelines/acr/world.js";
import type { E2E } from "./context.js";
import { BASE_IMAGE, canary, inSession, rejection } from "./world.js";

type Published = { service: string; refs: string[]; digest: string; reused: boolean; locked: boolean };

/** GET (or HEAD) on the real registry's own HTTP API, behind no stand-in: status, Docker-Content-Digest and body. */
function registryGet(acr: AcrWorld, path: string, method = "GET"): Promise<{ status: number; digest: string | undefined; body: string }> {
  const [host, port] = acr.registry.host.split(":");
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host,
        port: Number(port),
        path,
        method,
        ca: acr.tls.ca,
        headers: { Accept: "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json" },
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8").on("data", (c: string) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, digest: res.headers["docker-content-digest"] as string | undefined, body }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

export function publishSuite(e2e: E2E): void {
  describe("publish through the stand-in", () => {
    let acr: AcrWorld;
    let repo: string;
    let head: string;
    /** The job's ACTIONS_ID_TOKEN_REQUEST_TOKEN: the issuer stand-in accepts exactly this canary. */
    const requestToken = canary("gh-request-token");

    beforeAll(async () => {
      acr = await startAcrWorld({ githubRequestToken: requestToken });
      // A repository with one service and no npm dependencies; its image is a layer on the base image.
      repo = tempRepo({
        "slipway.yaml": "publish:\n  repositoryPrefix: shop\n  lock: all\n",
        "services/svc/package.json": JSON.stringify({ name: "svc", version: "1.0.0", private: true }),
        "services/svc/Dockerfile": `FROM ${BASE_IMAGE}\nWORKDIR /app\nCOPY package.json .\nUSER 10001:10001\n`,
      });
      head = git(repo, "rev-parse", "HEAD").trim();
    }, 60_000);

    afterAll(async () => {
      await acr?.stop();
      if (repo) rmSync(repo, { recursive: true, force: true });
    });

    /** `publish` as a GitHub Actions job calls it (github-oidc), with the test CA for the toolkit. */
    const publish = (clientId: string) =>
      inSession(() => {
        const slipway = e2e.slipway({ caCertificates: dag.host().directory(acr.tls.dir, { include: ["ca.pem"] }).file("ca.pem") });
        return slipway.publish(
          e2e.source(repo),
          acr.azure.registry,
          "github-oidc",
          TENANT,
          clientId,
          acr.azure.githubRequestUrl,
          dag.setSecret("oidc-request-token", requestToken),
          undefined, undefined, undefined, undefined, undefined,
          acr.azure.authorityHost,
        );
      });

    /** Writes to the registry seen by the ACR stand-in (blob uploads, manifest puts). */
    const writes = () => acr.azure.requests.filter((r) => r.server === "acr" && r.path.startsWith("/v2/") && ["POST", "PUT", "PATCH"].includes(r.method)).length;
    /** Every text read must hold neither the canary nor any token the Azure stand-ins minted. */
    const noTokenIn = (text: string) => {
      for (const token of [requestToken, ...acr.azure.issued]) expect(text.includes(token), "a token leaked into an output").toBe(false);
    };

    it("pushes the service under its immutable tag and returns what the registry holds: one digest under every ref, locked", async () => {
      const out = e2e.look(await publish(CLIENT));
      noTokenIn(out);
      const published = JSON.parse(out) as Published[];
      const ref = `${acr.azure.registry}/shop/svc:sha-${head.slice(0, 12)}`;
      expect(published).toEqual([{ service: "svc", refs: [ref], digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/), reused: false, locked: true }]);
      const [entry] = published as [Published];

      // The real registry (not the stand-in, not our code) holds that manifest under the tag.
      const byTag = await registryGet(acr, `/v2/shop/svc/manifests/sha-${head.slice(0, 12)}`, "HEAD");
      expect(byTag.status).toBe(200);
      expect(byTag.digest).toBe(entry.digest);
      // The image's config carries the OCI labels of the commit, and no credential of the run.
      const manifest = JSON.parse((await registryGet(acr, `/v2/shop/svc/manifests/${entry.digest}`)).body) as { config: { digest: string } };
      const config = e2e.look((await registryGet(acr, `/v2/shop/svc/blobs/${manifest.config.digest}`)).body);
      noTokenIn(config);
      const labels = (JSON.parse(config) as { config: { Labels: Record<string, string>; User: string } }).config;
      expect(labels.Labels["org.opencontainers.image.revision"]).toBe(head);
      expect(labels.User).toBe("10001:10001");
    }, 15 * 60_000);

    it("a second publish of the same commit reuses the digest and pushes nothing", async () => {
      const before = writes();
      const first = (await registryGet(acr, `/v2/shop/svc/manifests/sha-${head.slice(0, 12)}`, "HEAD")).digest;
      const out = e2e.look(await publish(CLIENT));
      noTokenIn(out);
      // The re-run proves the tags again and (re)applies the lock: `locked` is what the registry reports.
      expect(JSON.parse(out)).toEqual([{ service: "svc", refs: [`${acr.azure.registry}/shop/svc:sha-${head.slice(0, 12)}`], digest: first, reused: true, locked: true }]);
      expect(writes()).toBe(before);
    }, 15 * 60_000);

    it("an identity without AcrPush fails with the CLI's coded error, and no token or canary in it", async () => {
      const error = e2e.look(await rejection(publish(READER_CLIENT)));
      expect(error.message).toMatch(/SLIPWAY_ACR_EXCHANGE_DENIED/);
      expect(error.message).toContain("AcrPush");
      noTokenIn(`${error.message}\n${JSON.stringify(error)}`);
    }, 15 * 60_000);
  });
}
