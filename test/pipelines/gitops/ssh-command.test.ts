// --ssh-key and --known-hosts reach git through GIT_SSH_COMMAND, which git runs with `sh -c`: hostile
// file names must stay file names. Driven through real git (and a real ssh client) on a port where
// nothing listens, so the command line is really run by the shell.
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { commitPush, gitEnvironment, shellQuote } from "../../../pipelines/src/gitops/git.js";
import { parseTargets } from "../../../pipelines/src/gitops/input.js";
import { cli } from "../../helpers/cli.js";
import { useScratch } from "../../helpers/gitops-remote.js";
import { freePort } from "../../helpers/net.js";
import { execFileSync } from "node:child_process";

const { tmp } = useScratch();

describe("pipelines/src/gitops/git (the ssh command line)", () => {
  it.each([
    ["$(touch PWNED)"],
    ["`touch PWNED`"],
    ["it's; touch PWNED"],
    ['a"b $HOME %d'],
  ])("shellQuote keeps %j one word with its exact value", (value) => {
    const dir = tmp("slipway-quote-");
    const printed = execFileSync("sh", ["-c", `printf '%s' ${shellQuote(value)}`], { cwd: dir, encoding: "utf8" });
    expect(printed).toBe(value);
    expect(existsSync(join(dir, "PWNED"))).toBe(false);
  });

  it("a key and known_hosts file named like shell commands run nothing when git connects", async () => {
    const dir = tmp("slipway-ssh-");
    const marker = join(dir, "PWNED");
    // A file name cannot hold "/": the payload reaches the marker through HOME, which git's environment keeps.
    const home = process.env.HOME;
    process.env.HOME = `${dir}/`;
    const sshKey = join(dir, "key$(touch ${HOME}PWNED)");
    const knownHosts = join(dir, "hosts`touch ${HOME}PWNED`");
    writeFileSync(sshKey, "not a key\n");
    writeFileSync(knownHosts, "");
    expect(gitEnvironment({ sshKey, knownHosts }, dir).env.GIT_SSH_COMMAND).toContain(shellQuote(sshKey));
    const port = await freePort();
    const error = await commitPush({
      repo: `ssh://git@127.0.0.1:${port}/gitops.git`,
      branch: "main",
      ...parseTargets(["myacr.azurecr.io/shop/api=1.1.0"], []),
      options: { helmKeyPaths: [] },
      auth: { sshKey, knownHosts },
      author: { name: "Slipway", email: "slipway@example.invalid" },
      maxAttempts: 1,
      log: () => undefined,
    })
      .then(
        () => null,
        (e: unknown) => e as Error,
      )
      .finally(() => {
        process.env.HOME = home;
      });
    // ssh really ran (and found nothing listening), and the shell ran no command from the names.
    expect(error).toBeInstanceOf(Error);
    expect(`${error?.message}\n${JSON.stringify(error)}`).toMatch(/Connection refused|connect to host|Could not read from remote/);
    expect(existsSync(marker)).toBe(false);
  });

  it.each([
    ["--ssh-key", "missing-key"],
    ["--known-hosts", "missing-hosts"],
  ])("%s naming no file is exit 2 before anything runs", async (flag, name) => {
    const dir = tmp("slipway-ssh-");
    writeFileSync(join(dir, "key"), "k\n");
    const args = ["gitops", "commit-push", "--repo", "git@example.invalid:acme/gitops.git", "--branch", "main", "--set", "myacr.azurecr.io/shop/api=1.1.0"];
    const extra = flag === "--ssh-key" ? ["--ssh-key", name] : ["--ssh-key", "key", "--known-hosts", name];
    writeFileSync(join(dir, "slipway.yaml"), "{}\n");
    const result = await cli([...args, ...extra], dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(new RegExp(`^SLIPWAY_USAGE: ${flag} "${name}" is not a file`));
  });
});
