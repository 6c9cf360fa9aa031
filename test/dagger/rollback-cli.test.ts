import { describe, expect, it } from "vitest";
import { parseRollback, rollbackCommand } from "../../.dagger/src/release-cli.js";
import { parseFlags } from "../../pipelines/src/cli/command.js";
import { rollbackCommand as cliRollback } from "../../pipelines/src/ledger/commands.js";

describe(".dagger/src/release-cli (rollback)", () => {
  it("builds argv the real CLI accepts, with --json and no token", () => {
    const argv = rollbackCommand({ repository: "https://github.com/acme/gitops.git", branch: "main", environment: "prod", to: "7", path: "clusters/prod" });
    expect(argv).toEqual(["slipway", "rollback", "--repo", "https://github.com/acme/gitops.git", "--branch", "main", "--env", "prod", "--to", "7", "--path", "clusters/prod", "--json"]);
    expect(parseFlags(cliRollback, argv.slice(2)).values).toMatchObject({ env: "prod", to: "7", json: true });
  });

  it("dry run and force: the plan as text (no --json), --force passed; both accepted by the CLI", () => {
    const argv = rollbackCommand({ environment: "prod", to: "3", force: true, dryRun: true });
    expect(argv).toEqual(["slipway", "rollback", "--env", "prod", "--to", "3", "--force", "--dry-run"]);
    expect(parseFlags(cliRollback, argv.slice(2)).values).toMatchObject({ env: "prod", to: "3", force: true, "dry-run": true });
  });

  it("refuses a URL with credentials without echoing them", () => {
    expect(() => rollbackCommand({ repository: "https://x-access-token:ghp_SECRET@github.com/acme/gitops.git", branch: "main", environment: "prod" })).toThrow(/^(?!.*ghp_SECRET).*credentials/);
  });

  it("reads the commit; a malformed answer names the field", () => {
    const sha = "a".repeat(40);
    expect(parseRollback(["slipway", "rollback"], JSON.stringify({ environment: "prod", commit: sha, pushed: true, alreadyAt: false })).commit).toBe(sha);
    expect(() => parseRollback(["slipway", "rollback"], JSON.stringify({ environment: "prod", commit: sha, pushed: true }))).toThrow("alreadyAt: expected a boolean");
  });
});
