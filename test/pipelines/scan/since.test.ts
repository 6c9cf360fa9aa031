import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertFullHistory, resolveSinceCommit } from "../../../pipelines/src/scan/since.js";
import { commitAll, git, removeTree, tempRepo, tempTree } from "../../helpers/repo.js";

const USAGE = "slipway scan argv --scanner trufflehog [--since REF]";

// A CI checkout as actions/checkout leaves it: a clone of "upstream" whose main is known only as
// origin/main, with an annotated tag, and the pull request's own commit on top.
let upstream: string;
let checkout: string;
let shallow: string;
let scratch: string;
let first: string;
let base: string;
let head: string;

beforeAll(() => {
  upstream = tempRepo({ "README.md": "one\n" });
  first = git(upstream, "rev-parse", "HEAD").trim();
  base = commitAll(upstream, "second", { "README.md": "two\n" });
  git(upstream, "tag", "-a", "v1.0.0", "-m", "release");
  scratch = mkdtempSync(join(tmpdir(), "slipway-since-"));
  checkout = join(scratch, "checkout");
  git(scratch, "clone", "-q", upstream, checkout);
  git(checkout, "checkout", "-q", "-b", "feature");
  head = commitAll(checkout, "feature", { "src/app.ts": "export {};\n" });
  // fetch-depth 1: only the tip, the base commit is not there.
  shallow = join(scratch, "shallow");
  git(scratch, "clone", "-q", "--depth", "1", `file://${upstream}`, shallow);
});

afterAll(() => {
  for (const dir of [upstream, scratch]) removeTree(dir);
});

describe("pipelines/src/scan/since", () => {
  // Refs and expected commits are functions: the repositories are made in beforeAll.
  it.each([
    ["a remote-tracking ref", () => "origin/main", () => base],
    ["an annotated tag, peeled to its commit", () => "v1.0.0", () => base],
    ["a relative ref", () => "HEAD~2", () => first],
    ["an abbreviated SHA", () => first.slice(0, 10), () => first],
    ["the local branch", () => "feature", () => head],
  ])("resolves %s to the full commit SHA", async (_name, ref, expected) => {
    const sha = await resolveSinceCommit(checkout, ref(), USAGE);
    expect(sha).toBe(expected());
    expect(sha).toMatch(/^[0-9a-f]{40}$/);
  });

  it("names an unknown ref and hints at fetching full history (exit 2)", async () => {
    await expect(resolveSinceCommit(checkout, "origin/develop", USAGE)).rejects.toMatchObject({
      code: "SLIPWAY_BASE_NOT_FOUND",
      exitCode: 2,
      message: 'base ref "origin/develop" does not exist in this repository',
      details: expect.arrayContaining([expect.stringContaining("fetch-depth: 0")]),
    });
  });

  it("does not find the base commit in a shallow clone, and says why", async () => {
    await expect(resolveSinceCommit(shallow, first, USAGE)).rejects.toMatchObject({ code: "SLIPWAY_BASE_NOT_FOUND", message: expect.stringContaining(first) });
  });

  it("refuses a whole-history scan of a shallow clone (it would pass on one commit), and says how to get the history", async () => {
    await expect(assertFullHistory(shallow)).rejects.toMatchObject({
      code: "SLIPWAY_SHALLOW_HISTORY",
      exitCode: 2,
      message: expect.stringContaining("shallow clone"),
      details: expect.arrayContaining([expect.stringContaining("fetch-depth: 0"), expect.stringContaining("--source .")]),
    });
    await expect(assertFullHistory(checkout)).resolves.toBeUndefined();
    // Since a commit the clone has, the range is complete: allowed.
    const tip = git(shallow, "rev-parse", "HEAD").trim();
    await expect(resolveSinceCommit(shallow, tip, USAGE)).resolves.toBe(tip);
  });

  it.each(["--output=/tmp/pwned", "-n", "main;id", "a b", ""])("refuses %j before it reaches git", async (ref) => {
    await expect(resolveSinceCommit(checkout, ref, USAGE)).rejects.toMatchObject({ code: "SLIPWAY_USAGE", exitCode: 2, message: expect.stringContaining(JSON.stringify(ref)) });
  });

  it("explains that --since needs a git repository", async () => {
    const plain = tempTree({ "package.json": "{}\n" });
    try {
      await expect(resolveSinceCommit(plain, "main", USAGE)).rejects.toMatchObject({ code: "SLIPWAY_NOT_A_GIT_REPO", message: expect.stringContaining("--since needs git history") });
      await expect(resolveSinceCommit(join(plain, "missing"), "main", USAGE)).rejects.toMatchObject({ code: "SLIPWAY_SOURCE_NOT_FOUND" });
    } finally {
      removeTree(plain);
    }
  });
});
