// `slipway rollback` plans first (issue 12): the plan (target, abandoned releases, manifest lines, migrations
// to revert per service, registry tags to mark), --dry-run that pushes nothing, --to that abandons every
// newer release in one commit, --force for a release that was never verified. Real git, real bare remotes.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cli } from "../../helpers/cli.js";
import { remoteFile, remoteLog, remoteTip, useScratch } from "../../helpers/gitops-remote.js";
import { git } from "../../helpers/repo.js";

const { tmp, bareRemote } = useScratch();

const REG = "myacr.azurecr.io/shop";
const digest = (c: string): string => `sha256:${c.repeat(64)}`;
const SHA = (c: string): string => c.repeat(40);

function deployment(name: string, ref: string): string {
  return ["apiVersion: apps/v1", "kind: Deployment", `metadata: { name: ${name} }`, "spec:", "  template:", "    spec:", "      containers:", `        - name: ${name}`, `          image: ${REG}/${name}:${ref}`, ""].join("\n");
}

const AT = (day: number): string => `2026-03-0${day}T03:00:00.000Z`;

/**
 * The ledger `release begin` + `ledger mark` write for three prod releases (same fields, recorded by hand so
 * the tests stay fast): 1 (api 1.0.0 a, worker 1.0.0 d; migration M1) verified, 2 (api b, worker e; M2)
 * verified, 3 (api c, worker still e; M3a + M3b) with `last` as its status. prod's folder runs release 3.
 */
function ledger(last: "failed" | "pending"): string {
  const releases: Array<[string, string, string, string, string[], string[]]> = [
    ["1", "a", "1.0.0", "d", ["M1"], ["M1"]],
    ["2", "b", "2.0.0", "e", ["M2"], ["M1", "M2"]],
    ["3", "c", "2.0.0", "e", ["M3a", "M3b"], ["M1", "M2", "M3a", "M3b"]],
  ];
  const entries = releases.map(([id, api, workerTag, worker, applied, all]) => {
    const status = id === "3" ? last : "verified";
    const at = AT(Number(id));
    return {
      id,
      sourceSha: SHA(id),
      images: [
        { image: `${REG}/api`, tag: `${id}.0.0`, digest: digest(api) },
        { image: `${REG}/worker`, tag: workerTag, digest: digest(worker) },
      ],
      path: "clusters/prod",
      migrated: [{ status: "applied", applied, head: all.at(-1), service: "api", image: `${REG}/api@${digest(api)}` }],
      status,
      at,
      history: status === "pending" ? [{ status, at }] : [{ status: "pending", at }, { status, at }],
    };
  });
  return `${JSON.stringify({ version: 1, environment: "prod", entries }, null, 2)}\n`;
}

/** prod on release 3 (dev on release 1, a decoy that must stay untouched), a slipway.yaml declaring both. */
function setup(last: "failed" | "pending"): { bare: string; cwd: string } {
  const bare = bareRemote({
    "clusters/dev/api.yaml": deployment("api", `1.0.0@${digest("a")}`),
    "clusters/dev/worker.yaml": deployment("worker", `1.0.0@${digest("d")}`),
    "clusters/prod/api.yaml": deployment("api", `3.0.0@${digest("c")}`),
    "clusters/prod/worker.yaml": deployment("worker", `2.0.0@${digest("e")}`),
    ".slipway/ledger/prod.json": ledger(last),
  });
  const cwd = tmp("slipway-plan-");
  const config = ["gitops:", `  repository: ${bare}`, "  branch: main", "environments:"];
  for (const env of ["dev", "prod"]) config.push(`  ${env}:`, `    gitops: { path: clusters/${env} }`, "    kubernetes: { namespace: shop, deployments: [api, worker] }", "    migrate: [api]");
  writeFileSync(join(cwd, "slipway.yaml"), `${config.join("\n")}\n`);
  return { bare, cwd };
}

async function ok(argv: string[], cwd: string): Promise<string> {
  const r = await cli(argv, cwd);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return r.stdout;
}

function statuses(bare: string): Array<[string, string, string | undefined]> {
  const ledger = JSON.parse(remoteFile(bare, ".slipway/ledger/prod.json")) as { entries: Array<{ id: string; status: string; restoredFrom?: string }> };
  return ledger.entries.map((e) => [e.id, e.status, e.restoredFrom]);
}

interface Plan {
  target: { id: string };
  forced: boolean;
  abandoned: Array<{ id: string }>;
  git: { changes: Array<{ file: string; old: string; new: string }>; ledger: { rolledBack: string[]; newRelease: string } };
  migrations: Array<{ service: string | null; steps: Array<{ release: string; image: string | null; revert: string[] }>; revertTo: string | null; command: string; order: string; allowDestructiveRevert: boolean | string[] }>;
  registry: Array<{ image: string; tag: string; digest: string }>;
}

describe("pipelines/src/ledger/rollback (the plan, --dry-run, --to, --force)", () => {
  it("--dry-run prints the plan (Git lines, migrations newest first with their image, registry tags) and pushes nothing", async () => {
    const { bare, cwd } = setup("failed");
    const before = remoteTip(bare);
    const commits = remoteLog(bare).length;

    const text = await ok(["rollback", "--env", "prod", "--dry-run"], cwd);
    const json = JSON.parse(await ok(["rollback", "--env", "prod", "--dry-run", "--json"], cwd)) as { environment: string; commit: string; pushed: boolean; alreadyAt: boolean; plan: Plan };

    expect(remoteTip(bare)).toBe(before);
    expect(remoteLog(bare)).toHaveLength(commits);
    expect(json).toMatchObject({ environment: "prod", commit: before, pushed: false, alreadyAt: false });
    const { plan } = json;
    expect(plan.target.id).toBe("2");
    expect(plan.abandoned.map((a) => a.id)).toEqual(["3"]);
    // Only api moves: release 3 kept release 2's worker.
    expect(plan.git.changes).toEqual([expect.objectContaining({ file: "clusters/prod/api.yaml", old: `${REG}/api:3.0.0@${digest("c")}`, new: `${REG}/api:2.0.0@${digest("b")}` })]);
    expect(plan.git.ledger).toEqual({ file: ".slipway/ledger/prod.json", rolledBack: ["3"], newRelease: "4" });
    expect(plan.migrations).toEqual([
      { service: "api", steps: [{ release: "3", image: `${REG}/api@${digest("c")}`, revert: ["M3b", "M3a"] }], revertTo: "M2", command: "slipway migrate revert --service api --to M2", order: "git-first", allowDestructiveRevert: false },
    ]);
    // The worker digest runs again after the rollback: it is not marked failed.
    expect(plan.registry).toEqual([
      { release: "3", image: `${REG}/api`, digest: digest("c"), tag: "failed-3", policy: "failed-tag", action: `${REG}/api:failed-3 -> ${digest("c")}` },
    ]);

    expect(text).toContain(`ROLLBACK PLAN for prod (ledger read at ${before.slice(0, 12)} on main)`);
    expect(text).toContain("Return to   release 2 (verified, recorded 2026-03-02T03:00:00.000Z, source 222222222222)");
    expect(text).toContain("Abandon     release 3 (failed, recorded 2026-03-03T03:00:00.000Z, source 333333333333) -> rolled-back");
    expect(text).toContain(`         - ${REG}/api:3.0.0@${digest("c")}\n         + ${REG}/api:2.0.0@${digest("b")}`);
    expect(text).toContain(`api: release 3 applied M3b, M3a  (down() in ${REG}/api@${digest("c")})`);
    expect(text).toContain("run: slipway migrate revert --service api --to M2");
    expect(text).toContain(`${REG}/api:failed-3 -> ${digest("c")}`);
    expect(text).toContain("DRY RUN: nothing was pushed");
    expect(text).not.toContain("worker.yaml");
  });

  it("--to two releases back abandons both in one commit; the plan is printed before the DONE lines", async () => {
    const { bare, cwd } = setup("pending");
    const before = remoteTip(bare);

    const out = await ok(["rollback", "--env", "prod", "--to", "1"], cwd);

    expect(out.indexOf("ROLLBACK PLAN")).toBeLessThan(out.indexOf("DONE:"));
    expect(out).toMatch(/Abandon {5}release 3 \(pending, .*\) -> rolled-back\n {12}release 2 \(verified, .*\) -> rolled-back/);
    expect(out).toContain("api: release 3 applied M3b, M3a");
    expect(out).toContain("api: release 2 applied M2");
    expect(out).toContain("run: slipway migrate revert --service api --to M1");
    expect(out).toContain("releases 3, 2 -> rolled-back; new release 4 (pending) restores release 1");
    expect(remoteLog(bare)[0]?.split(" ")).toEqual([remoteTip(bare), before]);
    expect(git(bare, "diff", "--name-only", before, "main").trim().split("\n").sort()).toEqual([".slipway/ledger/prod.json", "clusters/prod/api.yaml", "clusters/prod/worker.yaml"]);
    expect(remoteFile(bare, "clusters/prod/api.yaml")).toBe(deployment("api", `1.0.0@${digest("a")}`));
    expect(remoteFile(bare, "clusters/prod/worker.yaml")).toBe(deployment("worker", `1.0.0@${digest("d")}`));
    expect(remoteFile(bare, "clusters/dev/api.yaml")).toBe(deployment("api", `1.0.0@${digest("a")}`));
    expect(statuses(bare)).toEqual([["1", "verified", undefined], ["2", "rolled-back", undefined], ["3", "rolled-back", undefined], ["4", "pending", "1"]]);
    expect(git(bare, "log", "-1", "--format=%s", "main").trim()).toBe("revert(prod): roll back to release 1, abandoning releases 3, 2");

    // Again: release 4 already runs release 1's images; nothing is pushed. Release 4 is still pending, so
    // the rollback is unfinished: the plan says what is left (the migrations of 3 and 2, the verification).
    const after = remoteTip(bare);
    const again = JSON.parse(await ok(["rollback", "--env", "prod", "--to", "1", "--json"], cwd)) as { alreadyAt: boolean; pushed: boolean; plan: Plan & { resume: unknown } };
    expect(again).toMatchObject({ alreadyAt: true, pushed: false });
    expect(again.plan.resume).toEqual({ entry: "4", abandoned: [expect.objectContaining({ id: "3" }), expect.objectContaining({ id: "2" })] });
    expect(again.plan.migrations).toEqual([
      {
        service: "api",
        steps: [{ release: "3", image: `${REG}/api@${digest("c")}`, revert: ["M3b", "M3a"] }, { release: "2", image: `${REG}/api@${digest("b")}`, revert: ["M2"] }],
        revertTo: "M1",
        command: "slipway migrate revert --service api --to M1",
        order: "git-first",
        allowDestructiveRevert: false,
      },
    ]);
    const text = await ok(["rollback", "--env", "prod", "--to", "1"], cwd);
    expect(text).toContain("UNFINISHED ROLLBACK: release 4 (pending) already restores release 1 in Git; it abandoned releases 3, 2.");
    expect(text).toContain("run: slipway migrate revert --service api --to M1   (idempotent");
    expect(text).toContain("slipway ledger mark --env prod --id 4 --status verified");
    expect(remoteTip(bare)).toBe(after);

    // Once release 4 is verified, the rollback is complete: nothing to do, nothing unfinished.
    await ok(["ledger", "mark", "--env", "prod", "--id", "4", "--status", "verified"], cwd);
    const done = JSON.parse(await ok(["rollback", "--env", "prod", "--to", "1", "--json"], cwd)) as { alreadyAt: boolean; plan: { resume: unknown } };
    expect(done).toMatchObject({ alreadyAt: true, plan: { resume: null } });
  });

  it("--to a release never verified is refused, and allowed with --force, which the plan says loudly", async () => {
    const { bare, cwd } = setup("failed");
    const before = remoteTip(bare);

    const refused = await cli(["rollback", "--env", "prod", "--to", "3"], cwd);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`SLIPWAY_LEDGER_NOT_VERIFIED: release "3" of prod is failed, not verified`);
    expect(refused.stderr).toContain("--force");
    const noTo = await cli(["rollback", "--env", "prod", "--force"], cwd);
    expect(noTo.code).toBe(2);
    expect(noTo.stderr).toContain("--force needs --to ID");
    expect(remoteTip(bare)).toBe(before);

    // Release 3 is the newest and runs its own images: forcing it is already-at. Abandon it first, then force back to it.
    await ok(["rollback", "--env", "prod"], cwd);
    const dry = await ok(["rollback", "--env", "prod", "--to", "3", "--force", "--dry-run"], cwd);
    expect(dry).toContain("!!! FORCED: release 3 is rolled-back, it was NEVER VERIFIED");
    const tip = remoteTip(bare);
    const forced = JSON.parse(await ok(["rollback", "--env", "prod", "--to", "3", "--force", "--json"], cwd)) as { pushed: boolean; entry: { id: string; restoredFrom: string }; plan: Plan };
    expect(forced.plan.forced).toBe(true);
    expect(forced.plan.abandoned.map((a) => a.id)).toEqual(["4"]);
    expect(forced).toMatchObject({ pushed: true, entry: { id: "5", restoredFrom: "3" } });
    expect(remoteLog(bare)[0]?.split(" ")[1]).toBe(tip);
    expect(git(bare, "log", "-1", "--format=%s", "main").trim()).toBe("revert(prod): roll back to release 3 (FORCED: it is rolled-back), abandoning release 4");
    expect(statuses(bare)).toEqual([["1", "verified", undefined], ["2", "verified", undefined], ["3", "rolled-back", undefined], ["4", "rolled-back", "2"], ["5", "pending", "3"]]);
  });
});
