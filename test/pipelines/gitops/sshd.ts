import type { ChildProcess } from "node:child_process";
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { freePort } from "../../helpers/net.js";

/**
 * A real OpenSSH server (Debian `openssh-server`) on 127.0.0.1, key-only, for git over SSH tests.
 * Returns null when sshd is not installed (the caller decides: skip locally, fail in CI).
 */
export interface SshServer {
  port: number;
  user: string;
  /** Private key the server accepts. */
  clientKey: string;
  /** known_hosts line for the server's host key. */
  knownHosts: string;
  close: () => void;
}

export const SSHD = "/usr/sbin/sshd";

export async function startSshServer(): Promise<SshServer | null> {
  if (!existsSync(SSHD)) return null;
  const dir = mkdtempSync(join(tmpdir(), "slipway-sshd-"));
  const keygen = (file: string): void => {
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", file]);
  };
  keygen(join(dir, "host_key"));
  keygen(join(dir, "client_key"));
  writeFileSync(join(dir, "authorized_keys"), readFileSync(join(dir, "client_key.pub")));
  // sshd refuses to start without its privilege separation directory.
  mkdirSync("/run/sshd", { recursive: true });
  const port = await freePort();
  const config = [
    `Port ${port}`,
    "ListenAddress 127.0.0.1",
    `HostKey ${join(dir, "host_key")}`,
    `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
    `PidFile ${join(dir, "sshd.pid")}`,
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "PubkeyAuthentication yes",
    "PermitRootLogin prohibit-password",
    "StrictModes no",
    "UsePAM no",
    "",
  ].join("\n");
  writeFileSync(join(dir, "sshd_config"), config);
  const child: ChildProcess = spawn(SSHD, ["-D", "-e", "-f", join(dir, "sshd_config")], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  child.stderr?.on("data", (d: Buffer) => (log += d.toString()));
  // Ready when the port accepts connections.
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (ok) break;
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`sshd did not start: ${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const hostPub = readFileSync(join(dir, "host_key.pub"), "utf8").trim().split(" ").slice(0, 2).join(" ");
  writeFileSync(join(dir, "known_hosts"), `[127.0.0.1]:${port} ${hostPub}\n`);
  return {
    port,
    user: userInfo().username,
    clientKey: join(dir, "client_key"),
    knownHosts: join(dir, "known_hosts"),
    close: () => {
      child.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
