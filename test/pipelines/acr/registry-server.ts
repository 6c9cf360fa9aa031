import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestTls } from "../../standins/azure/tls.js";
import { freePort } from "../../helpers/net.js";

export const DOCKER_REGISTRY = "/usr/bin/docker-registry";

/**
 * Whether the real registry can run here. In CI (CI=true) a missing binary is a failure, not a skip:
 * test/bootstrap.sh installs the Debian package `docker-registry`.
 */
export function registryAvailable(): boolean {
  if (existsSync(DOCKER_REGISTRY)) return true;
  if (process.env.CI === "true") throw new Error(`${DOCKER_REGISTRY} is missing: install the Debian package docker-registry (test/bootstrap.sh)`);
  console.warn(`skipping real-registry tests: ${DOCKER_REGISTRY} not found (apt-get install docker-registry)`);
  return false;
}

export interface RunningRegistry {
  host: string;
  port: number;
  storage: string;
  stop(): Promise<void>;
}

function ping(port: number, ca: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: "127.0.0.1", port, path: "/v2/", method: "GET", ca, timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", () => resolve(0));
    req.on("timeout", () => req.destroy());
    req.end();
  });
}

/** The Debian `docker-registry` (distribution v2) on a free port, TLS with the test CA, storing to a temp dir. */
export async function startRegistry(tls: TestTls, options: { htpasswd?: string } = {}): Promise<RunningRegistry> {
  const storage = mkdtempSync(join(tmpdir(), "slipway-registry-"));
  const port = await freePort();
  const config = join(storage, "config.yml");
  writeFileSync(
    config,
    [
      "version: 0.1",
      "log:",
      "  level: error",
      "storage:",
      "  filesystem:",
      `    rootdirectory: ${join(storage, "data")}`,
      "  delete:",
      "    enabled: true",
      "http:",
      `  addr: 127.0.0.1:${port}`,
      "  relativeurls: true",
      "  tls:",
      `    certificate: ${tls.certFile}`,
      `    key: ${tls.keyFile}`,
      ...(options.htpasswd ? ["auth:", "  htpasswd:", "    realm: slipway-test", `    path: ${options.htpasswd}`] : []),
      "",
    ].join("\n"),
  );
  const child: ChildProcess = spawn(DOCKER_REGISTRY, ["serve", config], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  const deadline = Date.now() + 15_000;
  // With basic auth /v2/ answers 401: the server is up either way.
  while (![200, 401].includes(await ping(port, tls.ca))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill();
      throw new Error(`docker-registry did not start on port ${port}: ${stderr.slice(-500)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    host: `127.0.0.1:${port}`,
    port,
    storage,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await exited;
      }
      rmSync(storage, { recursive: true, force: true });
    },
  };
}
