import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";
import { markCommand, parseLedgerChange, recordCommand } from "../../.dagger/src/release-cli.js";
import { cli } from "../helpers/cli.js";
import { useScratch } from "../helpers/gitops-remote.js";

const { bareRemote } = useScratch();

/** A bare GitOps remote with one kustomization, as `--repo` takes it. */
function remote(): string {
  return bareRemote({ "clusters/prod/kustomization.yaml": "images:\n  - name: myacr.azurecr.io/shop/api\n    newTag: sha-000000000000\n" });
}

const SOURCE_SHA = "0123456789abcdef0123456789abcdef01234567";
const SET = `myacr.azurecr.io/shop/api=sha-0123456789ab@sha256:${"b".repeat(64)}`;

/** Runs the argv the module would run, through the real CLI (in-process), and parses it as the module does. */
async function run(argv: string[]): Promise<ReturnType<typeof parseLedgerChange>> {
  const result = await cli(argv.slice(1), tmpdir());
  expect(result.stderr).not.toMatch(/SLIPWAY_[A-Z_]+:/);
  expect(result.code).toBe(0);
  return parseLedgerChange(argv, result.stdout);
}

describe(".dagger/src/release-cli (ledger record and mark)", () => {
  it("records a pending release and marks it verified through the real CLI", async () => {
    const repository = remote();
    const recorded = await run(recordCommand({ repository, branch: "main", environment: "prod", sourceSha: SOURCE_SHA, set: [SET], status: "pending" }));
    expect(recorded.entry).toMatchObject({ id: "1", status: "pending" });
    const marked = await run(markCommand({ repository, branch: "main", environment: "prod", id: recorded.entry.id, status: "verified" }));
    expect(marked.entry).toMatchObject({ id: "1", status: "verified" });
    const ledger = JSON.parse(execFileSync("git", ["--git-dir", repository, "show", "main:.slipway/ledger/prod.json"], { encoding: "utf8" })) as {
      entries: { id: string; status: string; sourceSha: string }[];
    };
    expect(ledger.entries.map((e) => [e.id, e.status, e.sourceSha])).toEqual([["1", "verified", SOURCE_SHA]]);
  });

  it.each([
    ["a status the ledger does not take", () => recordCommand({ repository: "r", branch: "main", environment: "prod", sourceSha: SOURCE_SHA, set: [SET], status: "rolled-back" }), /status "rolled-back"/],
    ["no image", () => recordCommand({ repository: "r", branch: "main", environment: "prod", sourceSha: SOURCE_SHA, set: [], status: "pending" }), /at least one set/],
    ["marking pending", () => markCommand({ repository: "r", branch: "main", environment: "prod", id: "1", status: "pending" }), /verified, failed/],
    [
      "a URL with credentials (not echoed)",
      () => markCommand({ repository: "https://u:ghp_CANARY@github.com/acme/gitops.git", branch: "main", environment: "prod", id: "1", status: "failed" }),
      /^(?!.*ghp_CANARY).*credentials/,
    ],
  ])("refuses %s before running anything", (_name, build, message) => {
    expect(build).toThrow(message);
  });

  it("names the field when the CLI's answer is not what the module reads", () => {
    expect(() => parseLedgerChange(["slipway", "ledger", "record"], JSON.stringify({ environment: "prod", entry: {} }))).toThrow("entry: expected { id, status }");
  });
});
