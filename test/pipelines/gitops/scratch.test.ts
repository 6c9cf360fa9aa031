// A commit-push (or ledger) run keeps its clone and askpass helper in a `slipway-gitops-*` folder in TMPDIR.
// Stopped with SIGINT/SIGTERM it removes that folder and exits 130/143; one killed harder (SIGKILL, a lost
// machine) leaves it behind, and the next run removes it once it is old and its owner process is gone.
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { OWNER_FILE, STALE_AFTER_MS } from "../../../pipelines/src/gitops/scratch.js";
import { cliEntry, cliProcess, REPO_ROOT } from "../../helpers/cli.js";
import { remoteFile, remoteLog, useScratch } from "../../helpers/gitops-remote.js";

const { tmp, bareRemote } = useScratch();

const IMAGE = "myacr.azurecr.io/shop/api";
const MANIFEST = `apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: api }\nspec:\n  template:\n    spec:\n      containers:\n        - name: api\n          image: ${IMAGE}:1.0.0\n`;

function scratchFolders(dir: string): string[] {
  return readdirSync(dir).filter((n) => n.startsWith("slipway-gitops-") || n.startsWith("slipway-ledger-")).sort();
}

async function until(condition: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function config(): string {
  const file = join(tmp("slipway-cfg-"), "slipway.yaml");
  writeFileSync(file, "{}\n");
  return file;
}

describe("pipelines/src/gitops/scratch (no scratch folder outlives its run)", () => {
  it.each([
    ["SIGTERM", 143],
    ["SIGINT", 130],
  ] as const)("a commit-push stopped with %s while the server holds its push removes its folder and exits %i", async (signal, code) => {
    const bare = bareRemote({ "apps/api.yaml": MANIFEST });
    const before = remoteLog(bare);
    // A server-side hook that keeps the push waiting (a slow policy check), then declines it.
    const started = join(tmp("slipway-hook-"), "started");
    const hook = join(bare, "hooks", "pre-receive");
    writeFileSync(hook, `#!/bin/sh\ntouch '${started}'\nsleep 20\nexit 1\n`);
    chmodSync(hook, 0o755);
    const tmpdir = tmp("slipway-tmpdir-");

    const child = spawn(process.execPath, [...cliEntry(), "gitops", "commit-push", "--repo", bare, "--branch", "main", "--set", `${IMAGE}=1.1.0`, "--config", config()], {
      cwd: REPO_ROOT,
      env: { ...process.env, TMPDIR: tmpdir, NODE_NO_WARNINGS: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (c, s) => resolve({ code: c, signal: s })));

    await until(() => existsSync(started), 180_000);
    const folders = scratchFolders(tmpdir);
    expect(folders).toHaveLength(1);
    expect(readFileSync(join(tmpdir, folders[0] as string, OWNER_FILE), "utf8").trim()).toBe(String(child.pid));

    child.kill(signal);
    const end = await exited;

    expect(end, output).toEqual({ code, signal: null });
    expect(scratchFolders(tmpdir)).toEqual([]);
    expect(output).not.toMatch(/pushed/);
    expect(remoteLog(bare)).toEqual(before);
  }, 300_000);

  it("the next run removes stale folders of dead runs, and keeps young ones, live owners' and other folders", async () => {
    const tmpdir = tmp("slipway-tmpdir-");
    const dead = spawnSync("true").pid;
    const old = new Date(Date.now() - STALE_AFTER_MS - 10 * 60 * 1000);
    const folder = (name: string, owner: number | null, stale: boolean): void => {
      const dir = join(tmpdir, name);
      mkdirSync(join(dir, "repo", ".git"), { recursive: true });
      writeFileSync(join(dir, "askpass.sh"), "#!/bin/sh\n");
      if (owner !== null) writeFileSync(join(dir, OWNER_FILE), `${owner}\n`);
      if (stale) utimesSync(dir, old, old);
    };
    folder("slipway-gitops-deadOld", dead, true);
    folder("slipway-ledger-deadOld", dead, true);
    folder("slipway-gitops-noOwnerOld", null, true);
    folder("slipway-gitops-liveOld", process.pid, true);
    folder("slipway-gitops-deadYoung", dead, false);
    folder("unrelated-old", dead, true);
    const bare = bareRemote({ "apps/api.yaml": MANIFEST });

    const result = await cliProcess(["gitops", "commit-push", "--repo", bare, "--branch", "main", "--set", `${IMAGE}=1.1.0`, "--config", config()], REPO_ROOT, { ...process.env, TMPDIR: tmpdir });

    expect(result.code, result.stderr).toBe(0);
    expect(remoteFile(bare, "apps/api.yaml")).toContain(`${IMAGE}:1.1.0`);
    // Its own folder is gone too; only the ones that may still be in use (and not ours) remain. (tsx keeps its cache in TMPDIR.)
    expect(readdirSync(tmpdir).filter((n) => !n.startsWith("tsx-")).sort()).toEqual(["slipway-gitops-deadYoung", "slipway-gitops-liveOld", "unrelated-old"]);
  }, 180_000);
});
