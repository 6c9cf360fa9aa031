import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer as createHttpServer } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { maskSecrets, registerEnvSecrets, registerSecret, registerUrlCredentials } from "../../../pipelines/src/cli/secrets.js";
import { cliProcess, REPO_ROOT } from "../../helpers/cli.js";
import type { TestTls } from "../../standins/azure/tls.js";
import { makeTestTls } from "../../standins/azure/tls.js";

const TENANT = "11111111-1111-1111-1111-111111111111";
const CLIENT = "22222222-2222-2222-2222-222222222222";
const PRELOAD = join(REPO_ROOT, "test", "standins", "azure", "resolve-azurecr.cjs");

/** Every file under `dir`, with its content, for "the canary is in no written file". */
function filesUnder(dir: string): { path: string; text: string }[] {
  const out: { path: string; text: string }[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...filesUnder(path));
    else out.push({ path, text: readFileSync(path, "utf8") });
  }
  return out;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString("utf8")));
    req.on("end", () => resolve(body));
  });
}

function json(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(value));
}

describe("pipelines/src/cli/secrets: the one masker", () => {
  it.each([
    ["as is", (s: string) => `error: ${s}`],
    ["URL-encoded", (s: string) => `body client_secret=${encodeURIComponent(s)}&x=1`],
    ["form-encoded", (s: string) => `body ${new URLSearchParams({ client_secret: s }).toString()}`],
    ["JSON-escaped", (s: string) => JSON.stringify({ echo: s })],
    ["in HTTP Basic auth", (s: string) => `Authorization: Basic ${Buffer.from(`deploy:${s}`).toString("base64")}`],
    ["in Basic auth at another offset", (s: string) => `Authorization: Basic ${Buffer.from(`ab:${s}`).toString("base64")}`],
    ["in Basic auth at a third offset", (s: string) => `Authorization: Basic ${Buffer.from(`abc:${s}`).toString("base64")}`],
  ])("masks a registered credential %s", (_name, shape) => {
    const secret = 'Unit+Canary/"S3cret"=42 ~';
    registerSecret(secret);
    const text = maskSecrets(shape(secret));
    expect(text).toContain("***");
    expect(text).not.toContain(secret);
    expect(text).not.toContain(encodeURIComponent(secret));
    // Not even a long run of the base64 of the secret survives.
    expect(text).not.toMatch(/VW5pdCtDYW5hcnkv|Q2FuYXJ5L|NhbmFyeS8i/);
  });

  it("knows the credentials of the environment: tokens, secrets, DATABASE_URL and *_DATABASE_URL passwords, the federated token file", () => {
    const dir = mkdtempSync(join(tmpdir(), "slipway-mask-"));
    try {
      writeFileSync(join(dir, "token"), "eyJfederated.Canary-File-Token.sig\n");
      registerEnvSecrets({
        SLIPWAY_GIT_TOKEN: "ghp_CanaryGitToken",
        AZURE_CLIENT_SECRET: "Canary-Client-Secret",
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: "Canary-Request-Token",
        SYSTEM_ACCESSTOKEN: "Canary-System-Token",
        idToken: "eyJCanary.IdToken.sig",
        DATABASE_URL: "postgres://deploy:Canary%2FPw@db:5432/app",
        ORDERS_DATABASE_URL: "postgres://orders:Orders-Canary@db/orders",
        AZURE_FEDERATED_TOKEN_FILE: join(dir, "token"),
        HOME: "/home/runner",
      });
      const text = maskSecrets(
        "ghp_CanaryGitToken Canary-Client-Secret Canary-Request-Token Canary-System-Token eyJCanary.IdToken.sig " +
          "postgres://deploy:Canary%2FPw@db/app Canary/Pw postgres://orders:Orders-Canary@db eyJfederated.Canary-File-Token.sig /home/runner",
      );
      expect(text).not.toMatch(/Canary/);
      // Not secrets: the host, the user name, HOME.
      expect(text).toContain("@db/app");
      expect(text).toContain("/home/runner");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("takes the userinfo of an address that does not parse as a URL", () => {
    registerUrlCredentials("postgres://deploy:Un#parse@ble-Canary@db:5432/app");
    expect(maskSecrets("saw Un#parse@ble-Canary")).toBe("saw ***");
  });
});

describe("pipelines/src/cli/main: no credential of the process in any output", () => {
  it("a DataSource module that logs and throws with DATABASE_URL and ORDERS_DATABASE_URL: neither password is printed", { timeout: 120_000 }, async () => {
    const dataSource = join(REPO_ROOT, "test", "fixtures", "migrate", "throws-url", "data-source.mjs");
    const result = await cliProcess(["migrate", "status", "--data-source", dataSource], REPO_ROOT, {
      PATH: process.env.PATH,
      DATABASE_URL: "postgres://deploy:Db-Canary-Pw@127.0.0.1:5432/app",
      ORDERS_DATABASE_URL: "postgres://orders:Orders-Canary-Pw@127.0.0.1:5432/orders",
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("SLIPWAY_MIGRATE_DATA_SOURCE_LOAD");
    // The whole userinfo is masked, the host stays.
    expect(result.stderr).toContain("cannot reach postgres://***@127.0.0.1:5432/app (orders: postgres://***@127.0.0.1:5432/orders)");
    expect(result.stdout).toContain("connecting with postgres://***@127.0.0.1:5432/app");
    expect(result.stdout + result.stderr).not.toContain("Canary");
  });

  describe("a hostile Entra ID / ACR that echoes the request into its error", () => {
    let tls: TestTls;
    let port = 0;
    let echo: "aad" | "acr" = "aad";
    const AAD_TOKEN = "eyJ0eXAiOiJKV1QifQ.Aad-Canary-Access-Token.c2ln";
    const server = () =>
      createHttpsServer({ key: tls.key, cert: tls.cert }, (req, res) => {
        void (async () => {
          const body = await readBody(req);
          const url = new URL(req.url ?? "/", `https://localhost:${port}`);
          const seen = `${req.headers.authorization ?? ""} ${body}`;
          if (url.pathname.endsWith("/v2.0/.well-known/openid-configuration")) {
            const base = `https://localhost:${port}/${TENANT}`;
            return json(res, 200, {
              token_endpoint: `${base}/oauth2/v2.0/token`,
              authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
              end_session_endpoint: `${base}/oauth2/v2.0/logout`,
              jwks_uri: `${base}/discovery/v2.0/keys`,
              issuer: `${base}/v2.0`,
              response_types_supported: ["code", "id_token", "token"],
              token_endpoint_auth_methods_supported: ["client_secret_post"],
              tenant_region_scope: null,
            });
          }
          if (url.pathname.endsWith("/oauth2/v2.0/token")) {
            if (echo === "aad") {
              return json(res, 401, {
                error: "invalid_client",
                error_description: `AADSTS7000215: Invalid client secret provided. Request was: ${seen} Trace ID: x`,
                error_codes: [7000215],
              });
            }
            return json(res, 200, { token_type: "Bearer", expires_in: 3599, ext_expires_in: 3599, access_token: AAD_TOKEN });
          }
          if (url.pathname === "/oauth2/exchange") {
            const basic = Buffer.from(`00000000-0000-0000-0000-000000000000:${AAD_TOKEN}`).toString("base64");
            return json(res, 400, { errors: [{ code: "DENIED", message: `cannot use ${seen} (Basic ${basic})` }] });
          }
          json(res, 404, { error: "not_found", echo: seen });
        })();
      });
    let running: ReturnType<typeof server>;
    let dir: string;

    beforeAll(async () => {
      tls = makeTestTls();
      running = server();
      await new Promise<void>((resolve) => running.listen(0, "127.0.0.1", resolve));
      port = (running.address() as AddressInfo).port;
    });
    afterAll(async () => {
      await new Promise<void>((resolve) => running.close(() => resolve()));
      rmSync(tls.dir, { recursive: true, force: true });
    });

    const login = (extra: NodeJS.ProcessEnv) => {
      dir = mkdtempSync(join(tmpdir(), "slipway-mask-out-"));
      return cliProcess(
        ["acr", "login", "--registry", `hostile.azurecr.io:${port}`, "--mode", "client-secret", "--tenant-id", TENANT, "--client-id", CLIENT,
          "--authority-host", `https://localhost:${port}`, "--out", join(dir, "token")],
        REPO_ROOT,
        { PATH: process.env.PATH, HOME: dir, NODE_EXTRA_CA_CERTS: tls.caFile, NODE_OPTIONS: `--require ${PRELOAD}`, ...extra },
      );
    };

    it("Entra ID echoes the client secret (form-encoded) it received: masked, nothing written", { timeout: 120_000 }, async () => {
      echo = "aad";
      const secret = "Client~Canary+Secret/With=Chars";
      const result = await login({ AZURE_CLIENT_SECRET: secret });
      try {
        expect(result.code).not.toBe(0);
        expect(result.stderr).toContain("AADSTS7000215");
        // Proof the server did echo the body: the masked form field is there.
        expect(result.stderr).toContain("client_secret=***");
        for (const text of [result.stdout, result.stderr, ...filesUnder(dir).map((f) => f.text)]) {
          expect(text).not.toContain("Canary");
          expect(text).not.toContain(encodeURIComponent(secret));
        }
        expect(filesUnder(dir)).toEqual([]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it("ACR's /oauth2/exchange echoes the Entra access token obtained at run time (form-encoded, in Basic auth): masked", { timeout: 120_000 }, async () => {
      echo = "acr";
      const result = await login({ AZURE_CLIENT_SECRET: "another-Client-Secret" });
      try {
        expect(result.code).not.toBe(0);
        expect(result.stderr).toContain("SLIPWAY_ACR_EXCHANGE_FAILED");
        expect(result.stderr).toContain("access_token=***");
        for (const text of [result.stdout, result.stderr, ...filesUnder(dir).map((f) => f.text)]) {
          expect(text).not.toContain("Aad-Canary");
          expect(text).not.toContain(Buffer.from(AAD_TOKEN).toString("base64").slice(8, 40));
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe("a Kubernetes API that answers 500 with the credential it received in the body", () => {
    let port = 0;
    const api = createHttpServer((req, res) => {
      void readBody(req).then(() => {
        json(res, 500, { kind: "Status", apiVersion: "v1", status: "Failure", code: 500, reason: "InternalError", message: `internal error handling request with Authorization: ${req.headers.authorization ?? "none"}` });
      });
    });
    beforeAll(async () => {
      await new Promise<void>((resolve) => api.listen(0, "127.0.0.1", resolve));
      port = (api.address() as AddressInfo).port;
    });
    afterAll(() => new Promise<void>((resolve) => api.close(() => resolve())));

    it.each([
      ["a bearer token", "token: Kube-Canary-Bearer-Token", "Kube-Canary-Bearer-Token"],
      ["basic auth", "username: admin\n    password: Kube-Canary-Password", Buffer.from("admin:Kube-Canary-Password").toString("base64").slice(4, 28)],
    ])("rollout verify with %s in the kubeconfig: not in stdout, stderr or the diagnostics", { timeout: 120_000 }, async (_name, user, canary) => {
      const dir = mkdtempSync(join(tmpdir(), "slipway-mask-kube-"));
      try {
        writeFileSync(
          join(dir, "kubeconfig"),
          `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: http://127.0.0.1:${port}\n    insecure-skip-tls-verify: true\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\ncurrent-context: c\nusers:\n- name: u\n  user:\n    ${user}\n`,
        );
        const result = await cliProcess(
          ["rollout", "verify", "--kubeconfig", join(dir, "kubeconfig"), "--namespace", "shop", "--deployment", "api", "--timeout", "3s", "--diagnostics", join(dir, "diag"), "--json"],
          REPO_ROOT,
          { PATH: process.env.PATH, HOME: dir },
        );
        expect(result.code).not.toBe(0);
        const output = [result.stdout, result.stderr, ...filesUnder(dir).filter((f) => !f.path.endsWith("kubeconfig")).map((f) => f.text)].join("\n");
        // The server's echo reached the output, masked.
        expect(output).toMatch(/Authorization: (Bearer|Basic) \*\*\*/);
        expect(output).not.toContain(canary);
        expect(output).not.toContain("Canary");
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
