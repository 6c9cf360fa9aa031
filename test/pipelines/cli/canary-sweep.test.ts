// The canary sweep (issue 15): every command that holds a credential, driven into every failure we can
// provoke here - a refused connection, a peer that never answers, a hostile server that echoes the request
// (headers and body) into its error, a wrong credential, malformed input - with a unique canary in every
// credential the process knows. No canary may appear in stdout, stderr or any file the command wrote.
// Real CLI processes; the peers are local servers (test/helpers/net.ts silentPeer, an echo server here).
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliProcess, REPO_ROOT } from "../../helpers/cli.js";
import { freePort, silentPeer } from "../../helpers/net.js";
import type { TestTls } from "../../standins/azure/tls.js";
import { makeTestTls } from "../../standins/azure/tls.js";

const CANARY = {
  gitToken: "Canary-Git-Token-7f3a9c",
  dbPassword: "Canary-Db-Pass-52e1b8",
  clientSecret: "Canary-Client-Secret-0d94ae",
  oidcRequestToken: "Canary-Oidc-Request-61c7f2",
  systemToken: "Canary-System-Token-9b08d3",
  registryPassword: "Canary-Registry-Pass-3e5f17",
  kubeToken: "Canary-Kube-Token-c4a2e0",
};
/** Forms a credential takes on the wire: as is, URL-encoded, in Basic auth (any offset of its base64). */
function forms(value: string): string[] {
  return [value, encodeURIComponent(value), Buffer.from(`x:${value}`).toString("base64").slice(4, 20), Buffer.from(value).toString("base64").slice(0, 16)];
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...filesUnder(path));
    else out.push(path);
  }
  return out;
}

type Mode = "refused" | "hung" | "echo" | "wrong-credential" | "malformed";
type Peers = { refused: number; hung: number; echo: number };
interface Path {
  command: string;
  mode: Mode;
  argv: (dir: string, p: Peers) => string[];
  env?: (p: Peers) => NodeJS.ProcessEnv;
  /** Files the test itself wrote (inputs), not checked. */
  inputs?: (dir: string, p: Peers) => Record<string, string>;
}

const kubeconfig = (port: number) =>
  [
    "apiVersion: v1",
    "kind: Config",
    `clusters: [{ name: c, cluster: { server: 'https://127.0.0.1:${port}', insecure-skip-tls-verify: true } }]`,
    `users: [{ name: u, user: { token: ${CANARY.kubeToken} } }]`,
    "contexts: [{ name: c, context: { cluster: c, user: u } }]",
    "current-context: c",
    "",
  ].join("\n");

const git = (command: string, argv: string[]): Path[] => [
  { command, mode: "refused", argv: (_d, p) => [...argv, "--repo", `https://127.0.0.1:${p.refused}/acme/gitops.git`] },
  { command, mode: "hung", argv: (_d, p) => [...argv, "--repo", `https://127.0.0.1:${p.hung}/acme/gitops.git`], env: () => ({ SLIPWAY_GIT_TIMEOUT: "3s" }) },
  { command, mode: "echo", argv: (_d, p) => [...argv, "--repo", `https://127.0.0.1:${p.echo}/acme/gitops.git`] },
  { command, mode: "malformed", argv: () => [...argv, "--repo", `https://bot:${CANARY.gitToken}/x@github.com:99999/acme/gitops.git`] },
];

const rollout = (mode: Mode, port: (p: Peers) => number): Path => ({
  command: "rollout verify",
  mode,
  argv: (dir) => ["rollout", "verify", "--kubeconfig", join(dir, "kubeconfig"), "-n", "shop", "--deployment", "api", "--timeout", "3s", "--diagnostics", join(dir, "diag"), "--json"],
  inputs: (_d, p) => ({ kubeconfig: kubeconfig(port(p)) }),
});

const acr = (mode: Mode, authority: (p: Peers) => string, identity: string[], env: NodeJS.ProcessEnv = {}): Path => ({
  command: `acr login (${identity[1]})`,
  mode,
  argv: (dir, p) => ["acr", "login", "--registry", `canary.azurecr.io:${p.echo}`, "--tenant-id", "11111111-1111-1111-1111-111111111111", "--client-id", "22222222-2222-2222-2222-222222222222", ...identity, "--authority-host", authority(p), "--out", join(dir, "token")],
  env: () => env,
});

// After the push: `acr check` and `acr verify` against a registry that never answers or echoes the request;
// ACR mode (Entra ID client secret) and static mode (basic auth with SLIPWAY_REGISTRY_PASSWORD).
const registry = (command: "check" | "verify", mode: Mode, port: (p: Peers) => number, identity: "client-secret" | "static"): Path => ({
  command: `acr ${command} (${identity})`,
  mode,
  argv: (_d, p) => [
    "acr",
    command,
    "--registry",
    identity === "static" ? `127.0.0.1:${port(p)}` : `canary.azurecr.io:${port(p)}`,
    "--repository",
    "shop/api",
    "--tag",
    "sha-0123456789ab",
    ...(command === "verify" ? ["--digest", `sha256:${"b".repeat(64)}`] : []),
    ...(identity === "static"
      ? ["--mode", "static", "--username", "bot"]
      : ["--mode", "client-secret", "--tenant-id", "11111111-1111-1111-1111-111111111111", "--client-id", "22222222-2222-2222-2222-222222222222", "--authority-host", `https://127.0.0.1:${p.echo}`]),
  ],
  env: () => ({ SLIPWAY_REGISTRY_TIMEOUT: "3s" }),
});

const API_DATA_SOURCE = join(REPO_ROOT, "services", "api", "dist", "data-source.js");
const migrate = (mode: Mode, url: (p: Peers) => string): Path => ({
  command: "migrate status",
  mode,
  argv: () => ["migrate", "status", "--data-source", API_DATA_SOURCE],
  env: (p) => ({ DATABASE_URL: url(p) }),
});

const PATHS: Path[] = [
  ...git("gitops commit-push", ["gitops", "commit-push", "--branch", "main", "--set", "myacr.azurecr.io/shop/api=1.1.0"]),
  ...git("ledger record", ["ledger", "record", "--branch", "main", "--env", "prod", "--status", "pending", "--source-sha", "0123456789abcdef0123456789abcdef01234567", "--set", `myacr.azurecr.io/shop/api=sha-1@sha256:${"a".repeat(64)}`]),
  ...git("ledger show", ["ledger", "show", "--branch", "main", "--env", "prod"]),
  ...git("rollback", ["rollback", "--branch", "main", "--env", "prod"]),
  rollout("refused", (p) => p.refused),
  rollout("hung", (p) => p.hung),
  rollout("echo", (p) => p.echo),
  acr("refused", (p) => `https://127.0.0.1:${p.refused}`, ["--mode", "client-secret"]),
  acr("hung", (p) => `https://127.0.0.1:${p.hung}`, ["--mode", "client-secret"]),
  acr("echo", (p) => `https://127.0.0.1:${p.echo}`, ["--mode", "client-secret"]),
  acr("wrong-credential", (p) => `https://127.0.0.1:${p.echo}`, ["--mode", "github-oidc"], {}),
  acr("echo", (p) => `https://127.0.0.1:${p.echo}`, ["--mode", "azure-pipelines"], {}),
  registry("check", "hung", (p) => p.hung, "static"),
  registry("check", "hung", (p) => p.hung, "client-secret"),
  registry("verify", "hung", (p) => p.hung, "static"),
  registry("check", "echo", (p) => p.echo, "static"),
  registry("verify", "echo", (p) => p.echo, "client-secret"),
  migrate("refused", (p) => `postgres://app:${CANARY.dbPassword}@127.0.0.1:${p.refused}/shop`),
  migrate("hung", (p) => `postgres://app:${CANARY.dbPassword}@127.0.0.1:${p.hung}/shop`),
  migrate("malformed", () => `postgres://app:${CANARY.dbPassword}#x@db.internal:5432/shop`),
  migrate("malformed", () => `postgres://app:${CANARY.dbPassword}@db.internal:99999/shop`),
];

/** Answers everything with an error that carries the whole request: headers, path and body. */
function echoHandler(req: IncomingMessage, res: ServerResponse): void {
  let body = "";
  req.on("data", (c: Buffer) => (body += c.toString("utf8")));
  req.on("end", () => {
    const seen = JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body });
    res.writeHead(req.headers.authorization ? 401 : 500, { "content-type": "application/json", "www-authenticate": 'Basic realm="echo"' });
    res.end(JSON.stringify({ error: "invalid_request", error_description: `request was ${seen}`, message: `request was ${seen}` }));
  });
}

describe("canary sweep: no credential in any output of any failure path", () => {
  let tls: TestTls;
  let echo: Server;
  let hung: Awaited<ReturnType<typeof silentPeer>>;
  let peers: Peers;

  beforeAll(async () => {
    tls = makeTestTls();
    echo = createHttpsServer({ cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) }, echoHandler);
    await new Promise<void>((resolve) => echo.listen(0, "127.0.0.1", resolve));
    hung = await silentPeer();
    peers = { refused: await freePort(), hung: hung.port, echo: (echo.address() as AddressInfo).port };
  });
  afterAll(async () => {
    await hung?.close();
    await new Promise<void>((resolve) => echo.close(() => resolve()));
    echo.closeAllConnections();
    rmSync(tls.dir, { recursive: true, force: true });
  });

  it(`${PATHS.length} command x failure paths with ${Object.keys(CANARY).length} canaries: every one fails, none prints or writes a canary`, { timeout: 600_000 }, async () => {
    const run = async (path: Path) => {
      const dir = mkdtempSync(join(tmpdir(), "slipway-sweep-"));
      try {
        const inputs = path.inputs?.(dir, peers) ?? {};
        for (const [name, text] of Object.entries(inputs)) writeFileSync(join(dir, name), text);
        const env: NodeJS.ProcessEnv = {
          PATH: process.env.PATH,
          HOME: dir,
          NODE_EXTRA_CA_CERTS: tls.caFile,
          GIT_SSL_CAINFO: tls.caFile,
          NODE_OPTIONS: `--require ${join(REPO_ROOT, "test", "standins", "azure", "resolve-azurecr.cjs")}`,
          SLIPWAY_GIT_TOKEN: CANARY.gitToken,
          DATABASE_URL: `postgres://app:${CANARY.dbPassword}@127.0.0.1:${peers.refused}/shop`,
          AZURE_CLIENT_SECRET: CANARY.clientSecret,
          ACTIONS_ID_TOKEN_REQUEST_URL: `https://127.0.0.1:${peers.echo}/oidc`,
          ACTIONS_ID_TOKEN_REQUEST_TOKEN: CANARY.oidcRequestToken,
          SYSTEM_ACCESSTOKEN: CANARY.systemToken,
          SYSTEM_OIDCREQUESTURI: `https://127.0.0.1:${peers.echo}/ado`,
          AZURESUBSCRIPTION_SERVICE_CONNECTION_ID: "33333333-3333-3333-3333-333333333333",
          SLIPWAY_REGISTRY_PASSWORD: CANARY.registryPassword,
          SLIPWAY_AZURE_TIMEOUT: "3s",
          ...path.env?.(peers),
        };
        // From the repository root (tsx resolves from there), which has no slipway.yaml: defaults apply.
        const result = await Promise.race([
          cliProcess(path.argv(dir, peers), REPO_ROOT, env),
          new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => setTimeout(() => resolve({ code: -1, stdout: "", stderr: "DID NOT END within 60 s" }), 60_000).unref()),
        ]);
        const written = filesUnder(dir).filter((f) => !Object.keys(inputs).some((name) => f === join(dir, name)));
        const texts = [result.stdout, result.stderr, ...written.map((f) => readFileSync(f, "utf8"))].join("\n");
        const leaks = Object.entries(CANARY).flatMap(([name, value]) => (forms(value).some((form) => texts.includes(form)) ? [name] : []));
        return { path: `${path.command} [${path.mode}]`, mode: path.mode, code: result.code, leaks, tail: result.stderr.split("\n")[0] ?? "" };
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    };
    // Mostly waiting on peers and timeouts: several at once.
    const results: Awaited<ReturnType<typeof run>>[] = [];
    for (let i = 0; i < PATHS.length; i += 9) results.push(...(await Promise.all(PATHS.slice(i, i + 9).map(run))));
    for (const r of results) console.log(`  ${r.path}: exit ${r.code} ${r.tail.slice(0, 110)}`);
    console.log(`canary sweep: ${results.length} command x failure paths, ${Object.keys(CANARY).length} canaries, ${results.filter((r) => r.leaks.length > 0).length} leaking`);
    expect(results.filter((r) => r.code === 0 || r.code === -1).map((r) => `${r.path}: exit ${r.code} ${r.tail}`)).toEqual([]);
    // A peer that never answers is "could not tell" (3: timed out, 4: rollout unknown), never a plain failure.
    expect(results.filter((r) => r.mode === "hung" && r.code !== 3 && r.code !== 4).map((r) => `${r.path}: exit ${r.code} ${r.tail}`)).toEqual([]);
    expect(results.filter((r) => r.leaks.length > 0).map((r) => `${r.path} leaked ${r.leaks.join(", ")}: ${r.tail}`)).toEqual([]);
  });
});
