// A peer that accepts connections and never answers must not keep `slipway rollout verify` alive: the
// timeout ends the process with exit 4, could not check (it used to print its timeout and then hang on the open socket).
// And a timeout Node's timers cannot hold is refused instead of firing at once.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cli, cliProcess } from "../../helpers/cli.js";
import { useScratch } from "../../helpers/gitops-remote.js";
import { silentPeer as startSilentPeer } from "../../helpers/net.js";

const { tmp } = useScratch();
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (closers.length) await closers.pop()?.();
});

async function silentPeer(): Promise<number> {
  const peer = await startSilentPeer();
  closers.push(peer.close);
  return peer.port;
}

function kubeconfig(dir: string, port: number): string {
  const file = join(dir, "kubeconfig");
  writeFileSync(
    file,
    [
      "apiVersion: v1",
      "kind: Config",
      "clusters: [{ name: hung, cluster: { server: 'https://127.0.0.1:" + port + "', insecure-skip-tls-verify: true } }]",
      "users: [{ name: u, user: { token: not-a-real-token } }]",
      "contexts: [{ name: hung, context: { cluster: hung, user: u } }]",
      "current-context: hung",
      "",
    ].join("\n"),
  );
  return file;
}

describe("slipway rollout verify against a peer that never answers", () => {
  // Exit 4 (verdict unknown): the first list never completed, so nothing was seen to time out (issue 14).
  it("--timeout 3s ends the process with exit 4 (could not check) soon after the timeout", async () => {
    const port = await silentPeer();
    const dir = tmp("slipway-hung-");
    const started = Date.now();
    const result = await cliProcess(["rollout", "verify", "--kubeconfig", kubeconfig(dir, port), "-n", "shop", "--deployment", "api", "--timeout", "3s"]);
    const elapsed = Date.now() - started;
    expect(result.code, result.stderr).toBe(4);
    expect(result.stderr).toContain("SLIPWAY_ROLLOUT_UNKNOWN");
    // The process ended by itself (execFile resolves only on exit); generous bound for a loaded machine.
    expect(elapsed).toBeLessThan(60_000);
  }, 120_000);

  it.each(["597h", "25h", "1441m"])("refuses --timeout %s (beyond what a timer can hold or a rollout should take) with exit 2", async (timeout) => {
    const result = await cli(["rollout", "verify", "--kubeconfig", "k", "-n", "shop", "--deployment", "api", "--timeout", timeout]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`--timeout "${timeout}": expected a duration such as \`90s\`, \`10m\` or \`1h30m\`, longer than zero and at most 24h`);
  });
});
