// A push the server refuses for good (a protection rule, a hook, no permission) is reported at once with
// the server's own words; only a lost race is retried. Real bare remotes with real server-side hooks.
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SlipwayError } from "../../../pipelines/src/errors.js";
import { classifyPushFailure, commitPush } from "../../../pipelines/src/gitops/git.js";
import type { CommitPushInput } from "../../../pipelines/src/gitops/git.js";
import { parseTargets } from "../../../pipelines/src/gitops/input.js";
import { cliProcess, REPO_ROOT } from "../../helpers/cli.js";
import { remoteLog, useScratch } from "../../helpers/gitops-remote.js";

const { tmp, bareRemote } = useScratch();

const MANIFEST = "apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: api }\nspec:\n  template:\n    spec:\n      containers:\n        - name: api\n          image: myacr.azurecr.io/shop/api:1.0.0\n";

function input(repo: string, extra: Partial<CommitPushInput> = {}): CommitPushInput {
  return {
    repo,
    branch: "main",
    ...parseTargets(["myacr.azurecr.io/shop/api=1.1.0"], []),
    options: { helmKeyPaths: [] },
    auth: {},
    author: { name: "Slipway", email: "slipway@example.invalid" },
    maxAttempts: 20,
    backoffMs: 1,
    log: () => undefined,
    ...extra,
  };
}

/** A server-side hook (what GitLab, Gitea and Azure DevOps Server run for protected branches) that declines. */
function declineWith(bare: string, lines: string[]): void {
  const hook = join(bare, "hooks", "pre-receive");
  writeFileSync(hook, `#!/bin/sh\n${lines.map((l) => `echo ${JSON.stringify(l)} >&2`).join("\n")}\nexit 1\n`);
  chmodSync(hook, 0o755);
}

describe("pipelines/src/gitops/git (a push the server refuses)", () => {
  it("a declining pre-receive hook fails at once, after one attempt, with every line the server said", async () => {
    const bare = bareRemote({ "apps/api.yaml": MANIFEST });
    const before = remoteLog(bare);
    const said = Array.from({ length: 12 }, (_, i) => `policy line ${i + 1}: main is protected, open a pull request`);
    declineWith(bare, said);
    let attempts = 0;
    const error = await commitPush(input(bare, { beforePush: async () => void attempts++ })).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SlipwayError);
    const e = error as SlipwayError;
    expect(e.code).toBe("SLIPWAY_GITOPS_PUSH_REJECTED");
    expect(e.exitCode).toBe(1);
    expect(attempts).toBe(1);
    const details = e.details.join("\n");
    for (const line of said) expect(details).toContain(`remote: ${line}`);
    expect(details).toMatch(/\[remote rejected\].*pre-receive hook declined/);
    expect(remoteLog(bare)).toEqual(before);
  });

  it("the CLI says so on stderr with exit 1, and does not print `pushed`", async () => {
    const bare = bareRemote({ "apps/api.yaml": MANIFEST });
    declineWith(bare, ["GH006: Protected branch update failed for refs/heads/main."]);
    const dir = tmp("slipway-cli-");
    writeFileSync(join(dir, "slipway.yaml"), "{}\n");
    const result = await cliProcess(
      ["gitops", "commit-push", "--repo", bare, "--branch", "main", "--set", "myacr.azurecr.io/shop/api=1.1.0", "--config", join(dir, "slipway.yaml")],
      REPO_ROOT,
    );
    expect(result.code).toBe(1);
    expect(result.stdout).not.toMatch(/pushed/);
    expect(result.stderr).toMatch(/^SLIPWAY_GITOPS_PUSH_REJECTED: the git server refused the push to "main"/);
    expect(result.stderr).toContain("remote: GH006: Protected branch update failed for refs/heads/main.");
    expect(result.stderr).not.toMatch(/attempt 2/);
  });

  // Shapes from git's own transport.c (print_ref_status) and the hosts' documented messages.
  it.each([
    ["a lost race (fetch first)", " ! [rejected]        HEAD -> main (fetch first)\nerror: failed to push some refs to 'x'\n", "race"],
    ["a lost race (non-fast-forward)", " ! [rejected]        HEAD -> main (non-fast-forward)\nerror: failed to push some refs to 'x'", "race"],
    ["a server-side lost ref update", "remote: error: cannot lock ref 'refs/heads/main': is at 1 but expected 2\n ! [remote rejected] HEAD -> main (failed to update ref)", "race"],
    ["a hook", " ! [remote rejected] HEAD -> main (pre-receive hook declined)\nerror: failed to push some refs to 'x'", "refused"],
    ["GitHub branch protection", "remote: error: GH006: Protected branch update failed for refs/heads/main.\n ! [remote rejected] HEAD -> main (protected branch hook declined)", "refused"],
    ["Azure Repos policy", "remote: TF402455: Pushes to this branch are not permitted; you must use a pull request to update this branch.\n ! [remote rejected] HEAD -> main (TF402455)", "refused"],
    ["no write permission", "remote: Permission to acme/gitops.git denied to bot.\nfatal: unable to access 'https://github.com/acme/gitops.git/': The requested URL returned error: 403", "refused"],
    ["a network failure", "fatal: unable to access 'https://git.example/': Could not resolve host: git.example", "unknown"],
  ])("classifies %s", (_name, stderr, expected) => {
    expect(classifyPushFailure(stderr)).toBe(expected);
  });
});
