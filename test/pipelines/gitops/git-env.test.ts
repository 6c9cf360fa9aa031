import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { gitEnvironment } from "../../../pipelines/src/gitops/git.js";

const dirs: string[] = [];
function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), "slipway-gitenv-"));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  while (dirs.length) rmSync(dirs.pop() as string, { recursive: true, force: true });
});

describe("pipelines/src/gitops/git gitEnvironment", () => {
  const ambient = {
    PATH: "/usr/bin",
    HOME: "/home/ci",
    GIT_SSL_CAINFO: "/etc/ssl/corp-ca.pem",
    SSL_CERT_FILE: "/etc/ssl/certs/ca-certificates.crt",
    GIT_DIR: "/somewhere/else/.git",
    GIT_CONFIG_PARAMETERS: "'core.sshCommand=evil'",
    AWS_SECRET_ACCESS_KEY: "not-for-git",
  };

  it("passes the CA settings a private git server needs, and nothing that redirects or leaks", () => {
    const { env, allow } = gitEnvironment({}, scratch(), ambient);
    expect(env).toMatchObject({ GIT_SSL_CAINFO: "/etc/ssl/corp-ca.pem", SSL_CERT_FILE: "/etc/ssl/certs/ca-certificates.crt", PATH: "/usr/bin" });
    expect(allow).toContain("GIT_SSL_CAINFO");
    expect(env).not.toHaveProperty("GIT_DIR");
    expect(env).not.toHaveProperty("GIT_CONFIG_PARAMETERS");
    expect(env).not.toHaveProperty("AWS_SECRET_ACCESS_KEY");
  });

  it("hands a token only to the askpass helper, whose script does not contain it", () => {
    const dir = scratch();
    const { env } = gitEnvironment({ token: "ghp_CANARYTOKEN1234" }, dir, ambient);
    expect(env.SLIPWAY_GIT_TOKEN).toBe("ghp_CANARYTOKEN1234");
    expect(readFileSync(env.GIT_ASKPASS as string, "utf8")).not.toContain("CANARY");
    expect(Object.entries(env).filter(([, v]) => v.includes("CANARY")).map(([k]) => k)).toEqual(["SLIPWAY_GIT_TOKEN"]);
  });
});
