import { afterEach, describe, expect, it } from "vitest";
import { currentRevision, publicSourceUrl } from "../../../pipelines/src/git/revision.js";
import { git, removeTree, tempRepo, tempTree } from "../../helpers/repo.js";

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) removeTree(dirs.pop() as string);
});

describe("pipelines/src/git/revision", () => {
  it.each([
    ["https://x-access-token:ghs_SECRET@github.com/acme/shop.git", "https://github.com/acme/shop"],
    ["https://user:pat@dev.azure.com/org/proj/_git/repo", "https://dev.azure.com/org/proj/_git/repo"],
    ["https://dev.azure.com/acme/shop/_git/shop", "https://dev.azure.com/acme/shop/_git/shop"],
    ["https://github.com/acme/shop.git/", "https://github.com/acme/shop"],
    ["git@github.com:acme/shop.git", "https://github.com/acme/shop"],
    ["github.com:acme/shop", "https://github.com/acme/shop"],
    ["ssh://git@ssh.dev.azure.com/v3/acme/shop/shop", "https://ssh.dev.azure.com/v3/acme/shop/shop"],
    ["ssh://git@ssh.dev.azure.com:22/v3/org/proj/repo", "https://ssh.dev.azure.com/v3/org/proj/repo"],
    ["http://localhost:3000/acme/shop.git", "http://localhost:3000/acme/shop"],
    ["https://git.example.com:8443/acme/shop", "https://git.example.com:8443/acme/shop"],
    ["/srv/git/shop.git", null],
    ["file:///srv/git/shop.git", null],
    ["", null],
  ])("source URL of remote %j is %j, never with credentials", (remote, expected) => {
    expect(publicSourceUrl(remote)).toBe(expected);
  });

  it("reads HEAD, its committer date and the origin URL without credentials", async () => {
    const dir = tempRepo({ "README.md": "x\n" });
    dirs.push(dir);
    git(dir, "remote", "add", "origin", "https://x-access-token:ghs_canary@github.com/acme/shop.git");
    const revision = await currentRevision(dir);
    expect(revision).toEqual({
      sha: git(dir, "rev-parse", "HEAD").trim(),
      committedAt: new Date(git(dir, "show", "-s", "--format=%cI", "HEAD").trim()).toISOString(),
      sourceUrl: "https://github.com/acme/shop",
    });
  });

  it("has no revision outside a repository or before the first commit", async () => {
    const plain = tempTree({ "a.txt": "a\n" });
    const empty = tempTree({});
    dirs.push(plain, empty);
    git(empty, "init", "-q");
    expect(await currentRevision(plain)).toBeNull();
    expect(await currentRevision(empty)).toBeNull();
  });
});
