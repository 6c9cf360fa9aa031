// The ledger is a state machine: pending -> verified | failed; verified | failed (| pending) -> rolled-back;
// rolled-back is final; a failed release never becomes verified. Rollback trusts `verified`, so a release
// that did not hold must never be marked back into it.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { setStatus, TRANSITIONS } from "../../../pipelines/src/ledger/ledger.js";
import type { LedgerEntry, LedgerFile, LedgerStatus } from "../../../pipelines/src/ledger/schema.js";
import { LEDGER_STATUSES } from "../../../pipelines/src/ledger/schema.js";
import { cli } from "../../helpers/cli.js";
import { thrown } from "../../helpers/errors.js";
import { remoteFile, remoteLog, useScratch } from "../../helpers/gitops-remote.js";

const { tmp, bareRemote } = useScratch();

const NOW = "2026-01-02T03:04:05.000Z";

function ledgerWith(status: LedgerStatus): LedgerFile {
  const entry: LedgerEntry = { id: "7", sourceSha: "a".repeat(40), images: [{ image: "r.io/api", tag: "1.0.0", digest: `sha256:${"b".repeat(64)}` }], status, at: NOW };
  return { version: 1, environment: "prod", entries: [entry] };
}

// Every (from, to) pair: allowed ones change the status, the same status is a no-op, all others are refused.
const ALLOWED: Array<[LedgerStatus, LedgerStatus]> = [
  ["pending", "verified"],
  ["pending", "failed"],
  ["pending", "rolled-back"],
  ["verified", "rolled-back"],
  ["failed", "rolled-back"],
];
const PAIRS = LEDGER_STATUSES.flatMap((from) => LEDGER_STATUSES.map((to) => [from, to] as [LedgerStatus, LedgerStatus]));
const verdict = (from: LedgerStatus, to: LedgerStatus): "changes" | "no-op" | "refused" =>
  from === to ? "no-op" : ALLOWED.some(([f, t]) => f === from && t === to) ? "changes" : "refused";

describe("pipelines/src/ledger/ledger (release status transitions)", () => {
  it("the table in the code is the life cycle", () => {
    expect(TRANSITIONS).toEqual({ pending: ["verified", "failed", "rolled-back"], verified: ["rolled-back"], failed: ["rolled-back"], "rolled-back": [] });
  });

  it.each(PAIRS.map(([from, to]) => [from, to, verdict(from, to)] as const))("%s -> %s %s", (from, to, expected) => {
    const ledger = ledgerWith(from);
    if (expected === "refused") {
      const error = thrown(() => setStatus(ledger, "7", to));
      expect(error.code).toBe("SLIPWAY_LEDGER_TRANSITION");
      expect(error.exitCode).toBe(2);
      expect(error.message).toBe(`release "7" of prod is ${from}: it cannot become ${to}`);
      expect(ledger.entries[0]?.status).toBe(from);
      return;
    }
    const after = setStatus(ledger, "7", to);
    expect(after.entries[0]?.status).toBe(to);
    if (expected === "no-op") expect(after).toBe(ledger);
  });
});

describe("slipway ledger mark (transitions against a real bare remote)", () => {
  const REG = "myacr.azurecr.io/shop";
  const digest = (c: string): string => `sha256:${c.repeat(64)}`;
  const manifest = (ref: string): string =>
    `apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: api }\nspec:\n  template:\n    spec:\n      containers:\n        - name: api\n          image: ${REG}/api:${ref}\n`;

  it("a rolled-back release, or a failed one, cannot be marked verified: exit 2 naming id, current and requested status; the remote unchanged", async () => {
    const bare = bareRemote({ "clusters/prod/api.yaml": manifest(`2.0.0@${digest("b")}`) });
    const cwd = tmp("slipway-cwd-");
    writeFileSync(join(cwd, "slipway.yaml"), "{}\n");
    const base = ["--repo", bare, "--branch", "main", "--env", "prod"];
    const ok = async (argv: string[]): Promise<void> => {
      const r = await cli(argv, cwd);
      expect(r.code, r.stderr).toBe(0);
    };
    await ok(["ledger", "record", ...base, "--source-sha", "1".repeat(40), "--set", `${REG}/api=1.0.0@${digest("a")}`, "--status", "verified"]);
    await ok(["ledger", "record", ...base, "--source-sha", "2".repeat(40), "--set", `${REG}/api=2.0.0@${digest("b")}`, "--status", "pending"]);
    await ok(["ledger", "mark", ...base, "--id", "2", "--status", "failed"]);
    // Marking it failed again is a no-op (a retried step), not an error.
    await ok(["ledger", "mark", ...base, "--id", "2", "--status", "failed"]);
    const failedTip = remoteLog(bare);

    const fromFailed = await cli(["ledger", "mark", ...base, "--id", "2", "--status", "verified"], cwd);
    expect(fromFailed.code).toBe(2);
    expect(fromFailed.stderr).toMatch(/^SLIPWAY_LEDGER_TRANSITION: release "2" of prod is failed: it cannot become verified\n/);
    expect(fromFailed.stdout).toBe("");
    expect(remoteLog(bare)).toEqual(failedTip);

    await ok(["rollback", ...base]);
    const rolledBackTip = remoteLog(bare);
    const entries = (): Array<[string, string]> => (JSON.parse(remoteFile(bare, ".slipway/ledger/prod.json")) as { entries: LedgerEntry[] }).entries.map((e) => [e.id, e.status]);
    expect(entries()).toEqual([["1", "verified"], ["2", "rolled-back"], ["3", "pending"]]);

    for (const status of ["verified", "failed"]) {
      const result = await cli(["ledger", "mark", ...base, "--id", "2", "--status", status], cwd);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(new RegExp(`^SLIPWAY_LEDGER_TRANSITION: release "2" of prod is rolled-back: it cannot become ${status}\\n  rolled-back is final`));
    }
    expect(remoteLog(bare)).toEqual(rolledBackTip);
    expect(entries()).toEqual([["1", "verified"], ["2", "rolled-back"], ["3", "pending"]]);
    // Nine clones and five pushes on real git: slow on a loaded machine.
  }, 300_000);
});
