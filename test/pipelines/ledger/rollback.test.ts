import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cli, cliProcess, REPO_ROOT } from "../../helpers/cli.js";
import { remoteFile, remoteLog, remoteTip, useScratch } from "../../helpers/gitops-remote.js";
import { git } from "../../helpers/repo.js";
import { startGitHttpServer } from "../gitops/git-http.js";

const { tmp, bareRemote } = useScratch();

const REG = "myacr.azurecr.io/shop";
const digest = (c: string): string => `sha256:${c.repeat(64)}`;
const SRC = ["1111111111111111111111111111111111111111", "2222222222222222222222222222222222222222", "3333333333333333333333333333333333333333"];

function deployment(name: string, ref: string): string {
  return [
    "apiVersion: apps/v1",
    "kind: Deployment",
    "metadata:",
    `  name: ${name} # keep`,
    "spec:",
    "  replicas: 2",
    "  template:",
    "    spec:",
    "      containers:",
    `        - name: ${name}`,
    `          image: ${REG}/${name}:${ref}  # the ${name} service`,
    "          ports: [{ containerPort: 8080 }]",
    "",
  ].join("\n");
}

const DECOY = "# mentions nothing we deploy\nkind: ConfigMap\nmetadata: { name: settings }\ndata: { image: other.io/api:0.0.1 }\n";

/** Release `n` (1-based) of api and worker: tag n.0.0, digest of n's letter. */
function release(n: number): { sets: string[]; files: Record<string, string> } {
  const d = ["a", "b", "c"][n - 1] as string;
  const w = ["d", "e", "f"][n - 1] as string;
  return {
    sets: [`${REG}/api=${n}.0.0@${digest(d)}`, `${REG}/worker=${n}.0.0@${digest(w)}`],
    files: {
      "clusters/prod/api.yaml": deployment("api", `${n}.0.0@${digest(d)}`),
      "clusters/prod/worker.yaml": deployment("worker", `${n}.0.0@${digest(w)}`),
      "clusters/prod/configmap.yaml": DECOY,
    },
  };
}

function migrateReport(dir: string, name: string, applied: string[], all: string[]): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify({ action: "run", status: applied.length ? "applied" : "nothing-to-do", applied, final: { applied: all.map((n, i) => ({ name: n, timestamp: i })) } }));
  return file;
}

describe("pipelines/src/ledger (ledger record/mark/show and rollback against real bare remotes)", () => {
  it("rollback after two verified releases and a failed one restores release 2's tags and digests in one new commit", async () => {
    const bare = bareRemote(release(1).files);
    const cwd = tmp("slipway-cwd-");
    const base = ["--repo", bare, "--branch", "main", "--env", "prod"];
    const ok = async (argv: string[]): Promise<string> => {
      const r = await cli(argv, cwd);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      return r.stdout;
    };
    await ok(["ledger", "record", ...base, "--source-sha", SRC[0] as string, ...release(1).sets.flatMap((s) => ["--set", s]), "--status", "verified", "--migrations", migrateReport(cwd, "m1.json", ["M1"], ["M1"])]);
    for (const n of [2, 3]) {
      const bumped = JSON.parse(await ok(["gitops", "commit-push", "--repo", bare, "--branch", "main", ...release(n).sets.flatMap((s) => ["--set", s]), "--json"])) as { commit: string };
      const applied = n === 2 ? ["M2"] : ["M3a", "M3b"];
      const all = n === 2 ? ["M1", "M2"] : ["M1", "M2", "M3a", "M3b"];
      await ok(["ledger", "record", ...base, "--source-sha", SRC[n - 1] as string, ...release(n).sets.flatMap((s) => ["--set", s]), "--gitops-commit", bumped.commit, "--status", "pending", "--migrations", migrateReport(cwd, `m${n}.json`, applied, all)]);
      await ok(["ledger", "mark", ...base, "--id", String(n), "--status", n === 2 ? "verified" : "failed"]);
    }
    for (const [path, content] of Object.entries(release(3).files)) expect(remoteFile(bare, path)).toBe(content);
    const before = remoteTip(bare);
    const commits = remoteLog(bare).length;

    const out = await ok(["rollback", ...base]);

    // Golden: the manifests are release 2's bytes exactly; only the image lines differ from release 3, the decoy is untouched.
    for (const [path, content] of Object.entries(release(2).files)) expect(remoteFile(bare, path)).toBe(content);
    const diff = git(bare, "diff", "-U0", before, "main", "--", "clusters").split("\n").filter((l) => /^[-+] /.test(l));
    expect(diff).toEqual([
      `-          image: ${REG}/api:3.0.0@${digest("c")}  # the api service`,
      `+          image: ${REG}/api:2.0.0@${digest("b")}  # the api service`,
      `-          image: ${REG}/worker:3.0.0@${digest("f")}  # the worker service`,
      `+          image: ${REG}/worker:2.0.0@${digest("e")}  # the worker service`,
    ]);
    // One new commit, on top of the old tip (never a force-push), history linear.
    expect(remoteLog(bare)).toHaveLength(commits + 1);
    expect(remoteLog(bare)[0]?.split(" ")).toEqual([remoteTip(bare), before]);
    git(bare, "merge-base", "--is-ancestor", before, "main");
    expect(git(bare, "diff", "--name-only", before, "main").trim().split("\n").sort()).toEqual([".slipway/ledger/prod.json", "clusters/prod/api.yaml", "clusters/prod/worker.yaml"]);
    expect(git(bare, "log", "-1", "--format=%B", "main")).toContain("Slipway-Source-Commit: 2222222222222222222222222222222222222222");
    expect(out).toContain("restored release 2");
    // An old-form migration report names no service: the plan says so, newest first, and where to stop.
    expect(out).toContain("(service not recorded): release 3 applied M3b, M3a");
    expect(out).toContain("slipway migrate revert (--service NAME | --data-source PATH) --to M2");

    const ledger = JSON.parse(remoteFile(bare, ".slipway/ledger/prod.json")) as { entries: Array<Record<string, unknown>> };
    expect(ledger.entries.map((e) => [e.id, e.status, e.restoredFrom])).toEqual([["1", "verified", undefined], ["2", "verified", undefined], ["3", "rolled-back", undefined], ["4", "pending", "2"]]);
    expect(ledger.entries[3]?.images).toEqual(ledger.entries[1]?.images);
    const shown = JSON.parse(await ok(["ledger", "show", ...base, "--json"])) as { entries: unknown[]; commit: string };
    expect(shown.entries).toEqual(ledger.entries);
    expect(shown.commit).toBe(remoteTip(bare));

    // Twice: no commit; release 4 is still pending, so the rollback is reported unfinished (what is left).
    const again = await ok(["rollback", ...base]);
    expect(again).toContain("UNFINISHED ROLLBACK: release 4 (pending) already restores release 2 in Git; it abandoned release 3.");
    expect(remoteLog(bare)).toHaveLength(commits + 1);
  });

  it("with nothing verified to go back to: exit 2 with a clear error, the remote unchanged", async () => {
    const bare = bareRemote(release(1).files);
    const cwd = tmp("slipway-cwd-");
    const base = ["--repo", bare, "--branch", "main", "--env", "prod"];
    expect((await cli(["ledger", "record", ...base, "--source-sha", SRC[0] as string, ...release(1).sets.flatMap((s) => ["--set", s]), "--status", "failed"], cwd)).code).toBe(0);
    const before = remoteTip(bare);
    const result = await cli(["rollback", ...base], cwd);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("SLIPWAY_ROLLBACK_NOTHING_VERIFIED");
    expect(result.stderr).toContain("prod");
    expect(remoteTip(bare)).toBe(before);
    // Another environment has no ledger at all: same answer.
    const other = await cli(["rollback", "--repo", bare, "--branch", "main", "--env", "staging"], cwd);
    expect(other.code).toBe(2);
    expect(remoteTip(bare)).toBe(before);
  });

  it("a malformed ledger is an error naming the file and the field; nothing is pushed", async () => {
    const bad = { version: 1, environment: "prod", entries: [{ id: "1", sourceSha: SRC[0], images: [{ image: `${REG}/api`, tag: "1.0.0", digest: digest("a") }], status: "done", at: "2026-01-01T00:00:00.000Z" }] };
    const bare = bareRemote({ ...release(1).files, ".slipway/ledger/prod.json": JSON.stringify(bad, null, 2) });
    const cwd = tmp("slipway-cwd-");
    const base = ["--repo", bare, "--branch", "main", "--env", "prod"];
    const before = remoteTip(bare);
    for (const argv of [
      ["ledger", "record", ...base, "--source-sha", SRC[1] as string, ...release(2).sets.flatMap((s) => ["--set", s]), "--status", "pending"],
      ["ledger", "mark", ...base, "--id", "1", "--status", "verified"],
      ["rollback", ...base],
      ["ledger", "show", ...base],
    ]) {
      const result = await cli(argv, cwd);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain("SLIPWAY_LEDGER_INVALID: .slipway/ledger/prod.json");
      expect(result.stderr).toContain("entries[0].status");
      expect(remoteTip(bare)).toBe(before);
    }
  });

  it("bad input changes nothing: an unknown id to mark, a --set without digest, a rolled-back status by hand (exit 2)", async () => {
    const bare = bareRemote(release(1).files);
    const cwd = tmp("slipway-cwd-");
    const base = ["--repo", bare, "--branch", "main", "--env", "prod"];
    expect((await cli(["ledger", "record", ...base, "--source-sha", SRC[0] as string, ...release(1).sets.flatMap((s) => ["--set", s]), "--status", "pending"], cwd)).code).toBe(0);
    const before = remoteTip(bare);
    const cases: Array<[string[], string]> = [
      [["ledger", "mark", ...base, "--id", "7", "--status", "verified"], "SLIPWAY_LEDGER_ENTRY_NOT_FOUND"],
      [["ledger", "record", ...base, "--source-sha", SRC[1] as string, "--set", `${REG}/api=2.0.0`, "--status", "pending"], "has no digest"],
      [["ledger", "record", ...base, "--source-sha", SRC[1] as string, ...release(2).sets.flatMap((s) => ["--set", s]), "--status", "rolled-back"], "--status"],
      [["rollback", ...base, "--to", "1"], "SLIPWAY_LEDGER_NOT_VERIFIED"],
    ];
    for (const [argv, expected] of cases) {
      const result = await cli(argv, cwd);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toContain(expected);
      expect(remoteTip(bare)).toBe(before);
    }
  });

  it("concurrent `ledger record` from several processes: every entry lands once, ids 1..N, history linear", async () => {
    const bare = bareRemote(release(1).files);
    const cwd = tmp("slipway-cwd-");
    const config = join(cwd, "slipway.yaml");
    writeFileSync(config, "{}\n");
    const shas = Array.from({ length: 5 }, (_, i) => `${i + 1}`.repeat(7) + "0".repeat(33));
    const results = await Promise.all(
      shas.map((sha) =>
        cliProcess(["ledger", "record", "--repo", bare, "--branch", "main", "--env", "prod", "--source-sha", sha, "--set", release(1).sets[0] as string, "--status", "verified", "--max-attempts", "100", "--config", config], REPO_ROOT),
      ),
    );
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const ledger = JSON.parse(remoteFile(bare, ".slipway/ledger/prod.json")) as { entries: Array<{ id: string; sourceSha: string }> };
    expect(ledger.entries.map((e) => e.id)).toEqual(["1", "2", "3", "4", "5"]);
    expect(ledger.entries.map((e) => e.sourceSha).sort()).toEqual([...shas].sort());
    const log = remoteLog(bare);
    expect(log).toHaveLength(6);
    expect(log.every((l) => l.split(" ").length <= 2)).toBe(true);
  });

  it("over HTTPS-style auth the token from SLIPWAY_GIT_TOKEN is in no output and no .git/config", async () => {
    const TOKEN = "ghs_ledgerTokenDoNotLeak1234567890";
    const bare = bareRemote(release(1).files);
    const server = await startGitHttpServer(join(bare, ".."), "x-access-token", TOKEN);
    try {
      const cwd = tmp("slipway-cwd-");
      const env = { ...process.env, SLIPWAY_GIT_TOKEN: TOKEN };
      const base = ["--repo", `${server.url}/gitops.git`, "--branch", "main", "--env", "prod"];
      const outputs: string[] = [];
      const run = async (argv: string[]): Promise<void> => {
        const r = await cli(argv, cwd, env);
        outputs.push(r.stdout, r.stderr);
        expect(r.code, r.stderr).toBe(0);
      };
      await run(["ledger", "record", ...base, "--source-sha", SRC[0] as string, ...release(1).sets.flatMap((s) => ["--set", s]), "--status", "verified"]);
      await run(["ledger", "record", ...base, "--source-sha", SRC[1] as string, ...release(2).sets.flatMap((s) => ["--set", s]), "--status", "failed"]);
      const workdir = join(tmp("slipway-keep-"), "clone");
      await run(["rollback", ...base, "--workdir", workdir, "--json"]);
      await run(["ledger", "show", ...base]);
      expect(server.authorized).toBeGreaterThan(0);
      for (const text of outputs) expect(text).not.toContain(TOKEN);
      expect(readFileSync(join(workdir, ".git", "config"), "utf8")).not.toContain(TOKEN);
      const entries = (JSON.parse(remoteFile(bare, ".slipway/ledger/prod.json")) as { entries: Array<{ status: string }> }).entries.map((e) => e.status);
      expect(entries).toEqual(["verified", "rolled-back", "pending"]);
    } finally {
      await server.close();
    }
  });
});
