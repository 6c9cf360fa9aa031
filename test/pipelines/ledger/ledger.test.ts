import { describe, expect, it } from "vitest";
import { appendEntry, applyRollback, ledgerPath, parseLedger, planRollback, renderLedger } from "../../../pipelines/src/ledger/ledger.js";
import type { LedgerEntry, LedgerFile } from "../../../pipelines/src/ledger/schema.js";
import { thrown } from "../../helpers/errors.js";

const D = (c: string): string => `sha256:${c.repeat(64)}`;
const NOW = new Date("2026-01-02T03:04:05.000Z");

function entry(id: string, tag: string, status: LedgerEntry["status"]): LedgerEntry {
  return { id, sourceSha: `${id}`.padEnd(40, "a"), images: [{ image: "r.io/api", tag, digest: D(id) }], status, at: NOW.toISOString() };
}

function ledger(...entries: LedgerEntry[]): LedgerFile {
  return { version: 1, environment: "prod", entries };
}

describe("pipelines/src/ledger/ledger", () => {
  it("a missing file is an empty ledger; a rendered ledger parses back to itself", () => {
    expect(parseLedger(null, ".slipway/ledger/prod.json", "prod")).toEqual(ledger());
    const full = ledger(entry("1", "1.0.0", "verified"), entry("2", "2.0.0", "failed"));
    expect(parseLedger(renderLedger(full), "f", "prod")).toEqual(full);
  });

  it.each([
    ["not JSON", "{ entries: ", ["not JSON"]],
    ["a bad status", JSON.stringify({ ...ledger(entry("1", "1.0.0", "verified")), entries: [{ ...entry("1", "1.0.0", "verified"), status: "ok" }] }), ["entries[0].status"]],
    ["a missing digest", JSON.stringify(ledger({ ...entry("1", "1.0.0", "verified"), images: [{ image: "r.io/api", tag: "1" }] } as unknown as LedgerEntry)), ["entries[0].images[0].digest"]],
    ["a duplicate id", JSON.stringify(ledger(entry("1", "1.0.0", "verified"), entry("1", "2.0.0", "verified"))), ["entries[1].id", "appears twice"]],
    ["another environment's file", JSON.stringify({ ...ledger(), environment: "staging" }), ["environment", "staging"]],
  ])("a ledger with %s is an error naming the file and the field, never a reset", (_name, content, expected) => {
    const error = thrown(() => parseLedger(content, ".slipway/ledger/prod.json", "prod"));
    expect(error.code).toBe("SLIPWAY_LEDGER_INVALID");
    expect(error.exitCode).toBe(2);
    const text = error.render();
    expect(text).toContain(".slipway/ledger/prod.json");
    for (const part of expected) expect(text).toContain(part);
  });

  it("environment names cannot leave the ledger folder", () => {
    expect(ledgerPath("prod-eu")).toBe(".slipway/ledger/prod-eu.json");
    for (const bad of ["../x", "Prod", "a/b", ""]) expect(thrown(() => ledgerPath(bad)).exitCode).toBe(2);
  });

  it("appends with the next id and keeps only the newest N", () => {
    let l = ledger();
    for (let i = 1; i <= 5; i++) l = appendEntry(l, { sourceSha: "abcdef1", images: entry("1", "x", "verified").images, status: "verified" }, 3, NOW).ledger;
    expect(l.entries.map((e) => e.id)).toEqual(["3", "4", "5"]);
  });

  it.each([
    ["the newest verified before the newest", [entry("1", "1", "verified"), entry("2", "2", "verified"), entry("3", "3", "failed")], undefined, "2", false],
    ["a verified newest goes one back", [entry("1", "1", "verified"), entry("2", "2", "verified")], undefined, "1", false],
    ["skips failed and rolled-back", [entry("1", "1", "verified"), entry("2", "2", "rolled-back"), entry("3", "3", "failed"), entry("4", "4", "pending")], undefined, "1", false],
    ["--to picks one", [entry("1", "1", "verified"), entry("2", "2", "verified"), entry("3", "3", "failed")], "1", "1", false],
    ["same images as the newest is already-at", [entry("1", "1", "verified"), { ...entry("2", "2", "verified") }, { ...entry("2", "2", "pending"), id: "3" }], undefined, "2", true],
  ])("planRollback: %s", (_name, entries, to, target, alreadyAt) => {
    const plan = planRollback(ledger(...entries), to);
    expect(plan.target.id).toBe(target);
    expect(plan.alreadyAt).toBe(alreadyAt);
  });

  it.each([
    ["an empty ledger", [], undefined, "SLIPWAY_ROLLBACK_NOTHING_VERIFIED"],
    ["only the newest is verified", [entry("1", "1", "failed"), entry("2", "2", "verified")], undefined, "SLIPWAY_ROLLBACK_NOTHING_VERIFIED"],
    ["--to an unknown id", [entry("1", "1", "verified"), entry("2", "2", "failed")], "9", "SLIPWAY_LEDGER_ENTRY_NOT_FOUND"],
    ["--to a failed release", [entry("1", "1", "failed"), entry("2", "2", "failed")], "1", "SLIPWAY_LEDGER_NOT_VERIFIED"],
  ])("planRollback refuses %s (exit 2)", (_name, entries, to, code) => {
    const error = thrown(() => planRollback(ledger(...entries), to));
    expect(error.code).toBe(code);
    expect(error.exitCode).toBe(2);
  });

  it.each([
    ["default: the newest only", [entry("1", "1", "verified"), entry("2", "2", "verified"), entry("3", "3", "failed")], undefined, false, ["3"], false],
    ["--to two back abandons both, newest first", [entry("1", "1", "verified"), entry("2", "2", "verified"), entry("3", "3", "pending")], "1", false, ["3", "2"], false],
    ["rolled-back releases are not abandoned twice", [entry("1", "1", "verified"), entry("2", "2", "rolled-back"), entry("3", "3", "failed")], "1", false, ["3"], false],
    ["--force returns to a failed release", [entry("1", "1", "verified"), entry("2", "2", "failed"), entry("3", "3", "failed")], "2", true, ["3"], true],
  ])("planRollback abandons: %s", (_name, entries, to, force, abandoned, forced) => {
    const plan = planRollback(ledger(...entries), to, force);
    expect(plan.abandoned.map((e) => e.id)).toEqual(abandoned);
    expect(plan.forced).toBe(forced);
  });

  it("without --force the refusal names --force; applyRollback marks every abandoned release in one change", () => {
    const refused = thrown(() => planRollback(ledger(entry("1", "1", "failed"), entry("2", "2", "failed")), "1"));
    expect(refused.render()).toContain("add --force");
    const l = ledger(entry("1", "1", "verified"), entry("2", "2", "verified"), entry("3", "3", "pending"));
    const { ledger: after, entry: added } = applyRollback(l, planRollback(l, "1"), 50, NOW);
    expect(after.entries.map((e) => [e.id, e.status])).toEqual([["1", "verified"], ["2", "rolled-back"], ["3", "rolled-back"], ["4", "pending"]]);
    expect(added.restoredFrom).toBe("1");
  });

  it("applyRollback marks the abandoned release and adds a pending entry restoring the target; refuses when the ledger moved", () => {
    const l = ledger(entry("1", "1", "verified"), entry("2", "2", "verified"), entry("3", "3", "failed"));
    const plan = planRollback(l);
    const { ledger: after, entry: added } = applyRollback(l, plan, 50, NOW);
    expect(after.entries.map((e) => [e.id, e.status])).toEqual([["1", "verified"], ["2", "verified"], ["3", "rolled-back"], ["4", "pending"]]);
    expect(added).toEqual({ id: "4", sourceSha: plan.target.sourceSha, images: plan.target.images, status: "pending", restoredFrom: "2", at: NOW.toISOString(), history: [{ status: "pending", at: NOW.toISOString() }] });
    // The abandoned release's history: its status when recorded (old ledgers have none), then rolled-back.
    expect(after.entries[2]?.history).toEqual([{ status: "failed", at: l.entries[2]?.at }, { status: "rolled-back", at: NOW.toISOString() }]);
    const moved = ledger(...l.entries, entry("4", "4", "pending"));
    expect(thrown(() => applyRollback(moved, plan, 50, NOW)).code).toBe("SLIPWAY_LEDGER_MOVED");
  });
});
