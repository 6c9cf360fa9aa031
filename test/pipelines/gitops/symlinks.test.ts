// A GitOps repository is content anyone with push access wrote: a symbolic link in it must never take a
// read or a write out of the clone. Real repositories with real links, real bare remotes, the real CLI.
import { readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { mkdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { commitPush } from "../../../pipelines/src/gitops/git.js";
import type { CommitPushInput } from "../../../pipelines/src/gitops/git.js";
import { parseTargets } from "../../../pipelines/src/gitops/input.js";
import { cli } from "../../helpers/cli.js";
import { rejected } from "../../helpers/errors.js";
import { remoteFile, remoteLog, useScratch } from "../../helpers/gitops-remote.js";
import { git, writeTree } from "../../helpers/repo.js";

const { tmp } = useScratch();

const IMAGE = "myacr.azurecr.io/shop/api";
const manifest = (tag: string): string =>
  `apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: api }\nspec:\n  template:\n    spec:\n      containers:\n        - name: api\n          image: ${IMAGE}:${tag}\n`;
const DIGEST = `sha256:${"a".repeat(64)}`;
const SOURCE = "1111111111111111111111111111111111111111";

/** A bare remote whose main holds `files` and the symbolic links `links` (path -> link text), committed as links. */
function remoteWithLinks(files: Record<string, string>, links: Record<string, string>): string {
  const work = tmp("slipway-linked-");
  writeTree(work, files);
  for (const [path, target] of Object.entries(links)) {
    mkdirSync(dirname(join(work, path)), { recursive: true });
    symlinkSync(target, join(work, path));
  }
  git(work, "init", "-q", "-b", "main");
  git(work, "add", "-A");
  git(work, "commit", "-q", "-m", "initial");
  const bare = join(tmp("slipway-remote-"), "gitops.git");
  git(work, "clone", "-q", "--bare", work, bare);
  return bare;
}

/** A folder outside every repository, with `files`; `snapshot()` lists every file and its bytes. */
function outside(files: Record<string, string>): { dir: string; snapshot: () => Record<string, string> } {
  const dir = tmp("slipway-outside-");
  writeTree(dir, files);
  const snapshot = (): Record<string, string> =>
    Object.fromEntries(
      (readdirSync(dir, { recursive: true, withFileTypes: true }) as Array<{ name: string; parentPath: string; isFile(): boolean }>)
        .filter((e) => e.isFile())
        .map((e) => [join(e.parentPath, e.name), readFileSync(join(e.parentPath, e.name), "utf8")]),
    );
  return { dir, snapshot };
}

function cwdWithConfig(): string {
  const cwd = tmp("slipway-cwd-");
  writeFileSync(join(cwd, "slipway.yaml"), "{}\n");
  return cwd;
}

const push = (bare: string, ...more: string[]): string[] => ["gitops", "commit-push", "--repo", bare, "--branch", "main", "--set", `${IMAGE}=1.1.0`, ...more];

describe("pipelines/src/gitops (symbolic links never lead out of the GitOps repository)", () => {
  it.each([
    ["a manifest linked to a file outside", (out: string) => ({ "apps/api.yaml": join(out, "api.yaml") }), "apps/api.yaml"],
    ["a folder linked to a folder outside", (out: string) => ({ apps: out }), "apps"],
    ["a relative link climbing out of the clone", () => ({ "apps/api.yaml": "../../../../../../../../../../../../../../../../../../../../../../../../../../../tmp/nowhere.yaml" }), "apps/api.yaml"],
  ])("commit-push refuses %s: exit 2, nothing written outside, the remote unchanged, never `pushed`", async (_name, links, link) => {
    const out = outside({ "api.yaml": manifest("1.0.0"), "other.txt": "kept\n" });
    const before = out.snapshot();
    const bare = remoteWithLinks({ "README.md": "gitops\n" }, links(out.dir));
    const log = remoteLog(bare);

    const result = await cli(push(bare), cwdWithConfig());

    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(new RegExp(`^SLIPWAY_GITOPS_SYMLINK_ESCAPE: ${link.replaceAll(".", "\\.")} is a symbolic link to ".+", outside the repository: refusing to follow it`));
    expect(result.stderr).not.toContain(join(tmpdir(), "slipway-gitops-"));
    expect(result.stdout).not.toMatch(/pushed/);
    expect(out.snapshot()).toEqual(before);
    expect(remoteLog(bare)).toEqual(log);
  });

  it("a link to / is refused at once, without walking the filesystem", async () => {
    const bare = remoteWithLinks({ "apps/api.yaml": manifest("1.0.0") }, { "apps/host": "/" });
    const log = remoteLog(bare);
    const started = Date.now();
    const result = await cli(push(bare), cwdWithConfig());
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/^SLIPWAY_GITOPS_SYMLINK_ESCAPE: apps\/host is a symbolic link to "\/", outside the repository/);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(remoteLog(bare)).toEqual(log);
  }, 60_000);

  it("a link into the repository's .git folder is refused", async () => {
    const bare = remoteWithLinks({ "apps/api.yaml": manifest("1.0.0") }, { "apps/meta": "../.git" });
    const result = await cli(push(bare), cwdWithConfig());
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/^SLIPWAY_GITOPS_SYMLINK_ESCAPE: apps\/meta is a symbolic link to "\.\.\/\.git", into the repository's \.git folder/);
  });

  it("a link inside the repository is followed: the real file is edited once, pushed, and the record says which link led there", async () => {
    const bare = remoteWithLinks(
      { "apps/api.yaml": manifest("1.0.0"), "base/worker.yaml": manifest("1.0.0").replace("name: api }", "name: worker }") },
      { "clusters/prod/api.yaml": "../../apps/api.yaml", "clusters/prod/base": "../../base" },
    );
    const log = remoteLog(bare);

    const result = await cli(push(bare, "--path", "clusters/prod", "--json"), cwdWithConfig());

    expect(result.code, result.stderr).toBe(0);
    const out = JSON.parse(result.stdout) as { pushed: boolean; commit: string; record: { files: Record<string, Record<string, Array<{ new: string; note?: string }>>> } };
    expect(out.pushed).toBe(true);
    expect(Object.keys(out.record.files).sort()).toEqual(["apps/api.yaml", "base/worker.yaml"]);
    expect(out.record.files["apps/api.yaml"]?.["Deployment/api"]?.[0]?.note).toBe("through link clusters/prod/api.yaml");
    expect(out.record.files["base/worker.yaml"]?.["Deployment/worker"]?.[0]?.note).toBeUndefined();
    expect(remoteLog(bare)).toHaveLength(log.length + 1);
    // The commit changes the real files; the links stay links, pointing where they did.
    expect(git(bare, "diff", "--name-only", "main~1", "main").trim().split("\n").sort()).toEqual(["apps/api.yaml", "base/worker.yaml"]);
    expect(remoteFile(bare, "apps/api.yaml")).toBe(manifest("1.1.0"));
    expect(git(bare, "ls-tree", "main", "clusters/prod/api.yaml")).toMatch(/^120000 /);
    expect(remoteFile(bare, "clusters/prod/api.yaml")).toBe("../../apps/api.yaml");
  });

  it("a commit that does not hold every recorded file is never pushed (SLIPWAY_GITOPS_COMMIT_INCOMPLETE)", async () => {
    const bare = remoteWithLinks({ "apps/api.yaml": manifest("1.0.0"), "notes.txt": "unchanged\n" }, {});
    const log = remoteLog(bare);
    const input: CommitPushInput = {
      repo: bare,
      branch: "main",
      ...parseTargets([`${IMAGE}=1.0.0`], []),
      options: { helmKeyPaths: [] },
      auth: {},
      author: { name: "Slipway", email: "slipway@example.invalid" },
      maxAttempts: 3,
      log: () => undefined,
      // Claims a file it did not change: the commit would be empty, and old code pushed it as success.
      alsoWrite: () => ["notes.txt"],
    };
    const error = await rejected(commitPush(input));
    expect(error.code).toBe("SLIPWAY_GITOPS_COMMIT_INCOMPLETE");
    expect(error.exitCode).toBe(1);
    expect(error.message).toContain('"notes.txt"');
    expect(remoteLog(bare)).toEqual(log);
  });
});

describe("pipelines/src/ledger (the ledger file never leads out of the GitOps repository)", () => {
  const ledgerArgs = (bare: string): string[] => ["--repo", bare, "--branch", "main", "--env", "prod"];

  it("ledger record with .slipway linked outside: exit 2, no file created there, the remote unchanged", async () => {
    const out = outside({ "keep.txt": "kept\n" });
    const before = out.snapshot();
    const bare = remoteWithLinks({ "apps/api.yaml": manifest("1.0.0") }, { ".slipway": out.dir });
    const log = remoteLog(bare);

    const result = await cli(["ledger", "record", ...ledgerArgs(bare), "--source-sha", SOURCE, "--set", `${IMAGE}=1.0.0@${DIGEST}`, "--status", "pending"], cwdWithConfig());

    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/^SLIPWAY_GITOPS_SYMLINK_ESCAPE: \.slipway is a symbolic link to ".+", outside the repository/);
    expect(out.snapshot()).toEqual(before);
    expect(readdirSync(out.dir)).toEqual(["keep.txt"]);
    expect(remoteLog(bare)).toEqual(log);
  });

  it.each([["ledger", "show"], ["ledger", "mark"], ["rollback"]])("%s with the ledger file linked to a runner file neither reads nor prints it (exit 2)", async (...words) => {
    const canary = "runner-secret-canary-4f1d";
    const out = outside({ "credentials.txt": `{"token": "${canary}"}\n` });
    const before = out.snapshot();
    const bare = remoteWithLinks({ "apps/api.yaml": manifest("1.0.0") }, { ".slipway/ledger/prod.json": join(out.dir, "credentials.txt") });
    const log = remoteLog(bare);
    const extra = words[1] === "mark" ? ["--id", "1", "--status", "verified"] : [];

    const result = await cli([...words, ...ledgerArgs(bare), ...extra], cwdWithConfig());

    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/^SLIPWAY_GITOPS_SYMLINK_ESCAPE: \.slipway\/ledger\/prod\.json is a symbolic link to ".+credentials\.txt", outside the repository/);
    expect(result.stdout + result.stderr).not.toContain(canary);
    expect(out.snapshot()).toEqual(before);
    expect(remoteLog(bare)).toEqual(log);
  });

  it("a ledger folder linked inside the repository is written at its real path", async () => {
    const bare = remoteWithLinks({ "apps/api.yaml": manifest("1.0.0"), "releases/.keep": "" }, { ".slipway": "releases" });
    const result = await cli(["ledger", "record", ...ledgerArgs(bare), "--source-sha", SOURCE, "--set", `${IMAGE}=1.0.0@${DIGEST}`, "--status", "pending"], cwdWithConfig());
    expect(result.code, result.stderr).toBe(0);
    expect(git(bare, "diff", "--name-only", "main~1", "main").trim()).toBe("releases/ledger/prod.json");
    expect((JSON.parse(remoteFile(bare, "releases/ledger/prod.json")) as { entries: unknown[] }).entries).toHaveLength(1);
    const shown = await cli(["ledger", "show", ...ledgerArgs(bare), "--json"], cwdWithConfig());
    expect(shown.code, shown.stderr).toBe(0);
    expect((JSON.parse(shown.stdout) as { entries: unknown[] }).entries).toHaveLength(1);
  });
});
