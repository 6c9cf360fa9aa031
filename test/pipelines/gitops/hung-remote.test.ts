// A git server that accepts the connection and never answers: commit-push gives up after
// SLIPWAY_GIT_TIMEOUT with exit 3 and a clear error, and the process ends.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cliProcess, REPO_ROOT } from "../../helpers/cli.js";
import { useScratch } from "../../helpers/gitops-remote.js";
import { silentPeer } from "../../helpers/net.js";

const { tmp } = useScratch();
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (closers.length) await closers.pop()?.();
});

describe("slipway gitops commit-push against a git server that never answers", () => {
  it("stops after SLIPWAY_GIT_TIMEOUT with SLIPWAY_GIT_TIMEOUT, exit 3", async () => {
    const peer = await silentPeer();
    closers.push(peer.close);
    const dir = tmp("slipway-hung-git-");
    writeFileSync(join(dir, "slipway.yaml"), "{}\n");
    const started = Date.now();
    const result = await cliProcess(
      ["gitops", "commit-push", "--repo", `https://127.0.0.1:${peer.port}/acme/gitops.git`, "--branch", "main", "--set", "myacr.azurecr.io/shop/api=1.1.0", "--config", join(dir, "slipway.yaml")],
      REPO_ROOT,
      { ...process.env, SLIPWAY_GIT_TIMEOUT: "3s" },
    );
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toMatch(/^SLIPWAY_GIT_TIMEOUT: git clone with "https:\/\/127\.0\.0\.1:\d+\/acme\/gitops\.git" did not finish within 3 s/);
    expect(Date.now() - started).toBeLessThan(60_000);
  }, 120_000);
});
