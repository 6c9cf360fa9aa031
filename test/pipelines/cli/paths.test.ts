import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli } from "../../helpers/cli.js";

/** "Billion laughs": seven levels of nine aliases each expand to 9^7 strings. */
const ALIAS_BOMB = [
  'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
  "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]",
  "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]",
  "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]",
  "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]",
  "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]",
  "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]",
  "",
].join("\n");

const SHA = "0123456789abcdef0123456789abcdef01234567";
const DIGEST = `sha256:${"a".repeat(64)}`;

/** Every path under `dir` with its kind and size: "nothing written" means this does not change. */
function listing(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((p) => {
      const s = statSync(join(dir, p));
      return `${p} ${s.isDirectory() ? "dir" : s.isFIFO() ? "fifo" : s.size}`;
    })
    .sort();
}

describe("pipelines/src/cli/paths: every file-path flag refuses the wrong kind of path (exit 2, nothing written)", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "slipway-paths-"));
    writeFileSync(join(dir, "file.txt"), "a file\n");
    mkdirSync(join(dir, "folder"));
    execFileSync("mkfifo", [join(dir, "fifo")]);
    writeFileSync(join(dir, "bomb.yaml"), ALIAS_BOMB);
    writeFileSync(join(dir, "trivy.json"), JSON.stringify({ SchemaVersion: 2, ArtifactName: ".", ArtifactType: "filesystem", Results: [] }));
    writeFileSync(join(dir, "kubeconfig"), "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n");
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const report = ["--trivy", "trivy.json"];
  const rollout = ["rollout", "verify", "--namespace", "shop", "--deployment", "api"];
  const acrStatic = ["acr", "login", "--registry", "registry.example:5000", "--mode", "static", "--username", "ci"];
  const ledger = ["ledger", "record", "--env", "dev", "--source-sha", SHA, "--set", `api=sha-0123456789ab@${DIGEST}`, "--status", "pending", "--repo", "folder", "--branch", "main"];

  it.each([
    // slipway.yaml: an alias bomb is bad input (exit 2), never SLIPWAY_INTERNAL (exit 1 reads as "gate failed").
    ["config check --config with an alias bomb", ["config", "check", "--config", "bomb.yaml"], "SLIPWAY_CONFIG_YAML", "resource exhaustion"],
    ["scan gate --config with an alias bomb", ["scan", "gate", ...report, "--config", "bomb.yaml"], "SLIPWAY_CONFIG_YAML", "resource exhaustion"],
    ["config check --config a directory", ["config", "check", "--config", "folder"], "SLIPWAY_PATH_INVALID", '/folder" is a directory, not a file'],
    ["config check --config a fifo", ["config", "check", "--config", "fifo"], "SLIPWAY_PATH_INVALID", '/fifo" is a fifo (named pipe), not a file'],
    ["plan --config a fifo", ["plan", "--source", ".", "--config", "fifo"], "SLIPWAY_PATH_INVALID", "is a fifo"],
    ["scan gate --trivy a directory", ["scan", "gate", "--trivy", "folder"], "SLIPWAY_PATH_INVALID", '--trivy "folder" is a directory, not a file'],
    ["scan gate --osv a fifo", ["scan", "gate", "--osv", "fifo"], "SLIPWAY_PATH_INVALID", '--osv "fifo" is a fifo'],
    ["scan gate --sarif a directory", ["scan", "gate", ...report, "--sarif", "folder"], "SLIPWAY_PATH_INVALID", '--sarif "folder" is a directory, not a file'],
    ["scan gate --junit a fifo", ["scan", "gate", ...report, "--junit", "fifo"], "SLIPWAY_PATH_INVALID", '--junit "fifo" is a fifo'],
    ["scan gate --markdown in a missing folder", ["scan", "gate", ...report, "--markdown", "missing/gate.md"], "SLIPWAY_PATH_INVALID", "is in a folder that does not exist"],
    ["scan gate --sarif under a file", ["scan", "gate", ...report, "--sarif", "file.txt/gate.sarif"], "SLIPWAY_PATH_INVALID", "is under a file"],
    ["gitops commit-push --workdir a file", ["gitops", "commit-push", "--repo", "folder", "--branch", "main", "--set", "api=1.0", "--workdir", "file.txt"], "SLIPWAY_PATH_INVALID", '--workdir "file.txt" is a file, not a directory'],
    ["gitops commit-push --workdir under a file", ["gitops", "commit-push", "--repo", "folder", "--branch", "main", "--set", "api=1.0", "--workdir", "file.txt/work"], "SLIPWAY_PATH_INVALID", "is under a file"],
    ["gitops commit-push --message-from a directory", ["gitops", "commit-push", "--repo", "folder", "--branch", "main", "--set", "api=1.0", "--message-from", "folder"], "SLIPWAY_PATH_INVALID", '--message-from "folder" is a directory'],
    ["gitops commit-push --ssh-key a fifo", ["gitops", "commit-push", "--repo", "folder", "--branch", "main", "--set", "api=1.0", "--ssh-key", "fifo"], "SLIPWAY_USAGE", "is not a file"],
    ["rollout verify --kubeconfig a directory", [...rollout, "--kubeconfig", "folder"], "SLIPWAY_PATH_INVALID", "is a directory, not a file"],
    ["rollout verify --kubeconfig a fifo", [...rollout, "--kubeconfig", "fifo"], "SLIPWAY_PATH_INVALID", "is a fifo"],
    ["rollout verify --diagnostics a file", [...rollout, "--kubeconfig", "kubeconfig", "--diagnostics", "file.txt"], "SLIPWAY_PATH_INVALID", '--diagnostics "file.txt" is a file, not a directory'],
    ["migrate status --data-source a directory", ["migrate", "status", "--data-source", "folder"], "SLIPWAY_PATH_INVALID", '/folder" is a directory, not a file'],
    ["migrate status --data-source a fifo", ["migrate", "status", "--data-source", "fifo"], "SLIPWAY_PATH_INVALID", "is a fifo"],
    ["acr login --out a directory", [...acrStatic, "--out", "folder"], "SLIPWAY_PATH_INVALID", '--out "folder" is a directory, not a file'],
    ["acr login --out a fifo", [...acrStatic, "--out", "fifo"], "SLIPWAY_PATH_INVALID", '--out "fifo" is a fifo'],
    ["acr login --ca-file a directory", [...acrStatic, "--out", "token", "--ca-file", "folder"], "SLIPWAY_PATH_INVALID", '--ca-file "folder" is a directory'],
    ["ledger record --migrations a directory", [...ledger, "--migrations", "folder"], "SLIPWAY_PATH_INVALID", '--migrations "folder" is a directory'],
    ["ledger record --scan a fifo", [...ledger, "--scan", "fifo"], "SLIPWAY_PATH_INVALID", '--scan "fifo" is a fifo'],
  ])("%s", { timeout: 60_000 }, async (_name, argv, code, text) => {
    const before = listing(dir);
    const result = await cli(argv, dir, { PATH: process.env.PATH, HOME: dir, SLIPWAY_REGISTRY_PASSWORD: "registry-password" });
    expect(result.stderr.split("\n")[0]).toContain(`${code}: `);
    expect(result.stderr).toContain(text);
    expect(result.stderr).not.toContain("SLIPWAY_INTERNAL");
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(listing(dir)).toEqual(before);
  });
});
