import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SlipwayError } from "../../../pipelines/src/errors.js";
import type { CommitPushInput } from "../../../pipelines/src/gitops/git.js";
import { commitPush } from "../../../pipelines/src/gitops/git.js";
import { parseTargets } from "../../../pipelines/src/gitops/input.js";
import { cli, cliProcess, REPO_ROOT } from "../../helpers/cli.js";
import { remoteFile, remoteLog, useScratch } from "../../helpers/gitops-remote.js";
import { git, removeTree } from "../../helpers/repo.js";
import { makeTestTls } from "../../standins/azure/tls.js";
import { startGitHttpServer } from "./git-http.js";
import { SSHD, startSshServer } from "./sshd.js";

const { tmp, bareRemote } = useScratch();

/** Another writer: clone, change, commit, push. Returns the new remote tip. */
function otherWriter(bare: string, files: Record<string, string>): string {
  const dir = tmp("slipway-other-");
  git(dir, "clone", "-q", bare, "w");
  const work = join(dir, "w");
  for (const [p, c] of Object.entries(files)) writeFileSync(join(work, p), c);
  git(work, "commit", "-qam", "other writer");
  git(work, "push", "-q", "origin", "HEAD:main");
  return git(work, "rev-parse", "HEAD").trim();
}

function deployment(name: string, tag: string): string {
  return [
    "apiVersion: apps/v1",
    "kind: Deployment",
    "metadata:",
    `  name: ${name}`,
    "spec:",
    "  template:",
    "    spec:",
    "      containers:",
    `        - name: ${name}`,
    `          image: myacr.azurecr.io/shop/${name}:${tag} # the ${name} service`,
    "",
  ].join("\n");
}

function kustomization(names: string[], tag: string): string {
  return ["kind: Kustomization", "images:", ...names.flatMap((n) => [`- name: myacr.azurecr.io/shop/${n}`, `  newTag: ${tag}`]), ""].join("\n");
}

function input(repo: string, sets: string[], extra: Partial<CommitPushInput> = {}): CommitPushInput {
  return {
    repo,
    branch: "main",
    ...parseTargets(sets, []),
    options: { helmKeyPaths: [] },
    auth: {},
    author: { name: "Slipway", email: "slipway@example.invalid" },
    maxAttempts: 60,
    log: () => undefined,
    ...extra,
  };
}

/** cliProcess runs from the repo root (tsx resolves from there): pin the config to an empty file. */
function emptyConfig(dir: string): string {
  const file = join(dir, "slipway.yaml");
  writeFileSync(file, "{}\n");
  return file;
}

const SHA = "0123456789abcdef0123456789abcdef01234567";

describe("pipelines/src/gitops/git (commit-push against real bare remotes)", () => {
  it("makes one commit for all services, with the change list and the source SHA as a trailer", async () => {
    const bare = bareRemote({ "apps/api.yaml": deployment("api", "1.0.0"), "apps/worker.yaml": deployment("worker", "1.0.0") });
    const result = await cli(
      ["gitops", "commit-push", "--repo", bare, "--branch", "main", "--set", "myacr.azurecr.io/shop/api=1.1.0", "--set", "myacr.azurecr.io/shop/worker=2.0.0", "--source-sha", SHA],
      tmp("slipway-cwd-"),
    );
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const log = remoteLog(bare);
    expect(log).toHaveLength(2);
    expect(result.stdout).toContain(`pushed ${log[0]?.split(" ")[0]} to main`);
    expect(remoteFile(bare, "apps/api.yaml")).toBe(deployment("api", "1.1.0"));
    expect(remoteFile(bare, "apps/worker.yaml")).toBe(deployment("worker", "2.0.0"));
    const message = git(bare, "log", "-1", "--format=%B", "main");
    expect(message).toMatch(/^chore\(gitops\): bump api 1\.1\.0, worker 2\.0\.0\n/);
    expect(message).toContain("- apps/api.yaml Deployment/api spec.template.spec.containers[0].image: myacr.azurecr.io/shop/api:1.0.0 -> myacr.azurecr.io/shop/api:1.1.0");
    expect(git(bare, "log", "-1", "--format=%(trailers:key=Slipway-Source-Commit,valueonly)", "main").trim()).toBe(SHA);
    expect(git(bare, "log", "-1", "--format=%an <%ae>", "main").trim()).toBe("Slipway <slipway@users.noreply.github.com>");
  });

  it("the same bump twice gives one commit; the second run says 'already at' and exits 0", async () => {
    const bare = bareRemote({ "apps/api.yaml": deployment("api", "1.0.0") });
    const argv = ["gitops", "commit-push", "--repo", bare, "--branch", "main", "--set", "myacr.azurecr.io/shop/api=1.1.0"];
    expect((await cli(argv, tmp("slipway-cwd-"))).code).toBe(0);
    const tip = remoteLog(bare)[0]?.split(" ")[0];
    const again = await cli(argv, tmp("slipway-cwd-"));
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("already at myacr.azurecr.io/shop/api=1.1.0");
    expect(again.stdout).toContain(`no commit: main is already at the requested images (${tip})`);
    expect(remoteLog(bare)).toHaveLength(2);
  });

  it("--message-from renders the template with {{summary}} and {{changes}}", async () => {
    const bare = bareRemote({ "apps/api.yaml": deployment("api", "1.0.0") });
    const cwd = tmp("slipway-cwd-");
    writeFileSync(join(cwd, "msg.txt"), "release: {{summary}}\n\n{{changes}}\n");
    const result = await cli(["gitops", "commit-push", "--repo", bare, "--branch", "main", "--set", "myacr.azurecr.io/shop/api=1.1.0", "--message-from", "msg.txt", "--source-sha", SHA], cwd);
    expect(result.code).toBe(0);
    expect(git(bare, "log", "-1", "--format=%B", "main")).toBe(
      `release: api 1.1.0\n\n- apps/api.yaml Deployment/api spec.template.spec.containers[0].image: myacr.azurecr.io/shop/api:1.0.0 -> myacr.azurecr.io/shop/api:1.1.0\n\nSlipway-Source-Commit: ${SHA}\n\n`,
    );
  });

  // Ten writers: every one of them still loses races and re-applies its change on a new tip (asserted
  // below); twenty cost a minute of the suite's two cores (each retry is real git processes) for the same
  // proof.
  it("10 concurrent bumpers of different services: all 10 changes land, history stays linear", async () => {
    const names = Array.from({ length: 10 }, (_, i) => `svc-${String(i).padStart(2, "0")}`);
    // Each service has its own Deployment AND an entry in one shared kustomization, two lines apart,
    // so concurrent rebases genuinely conflict and must be re-applied on the new tip.
    const files: Record<string, string> = { "clusters/prod/kustomization.yaml": kustomization(names, "1.0.0") };
    for (const n of names) files[`apps/${n}.yaml`] = deployment(n, "1.0.0");
    const bare = bareRemote(files);
    // allSettled: every writer finishes before the remote is removed, and a failure shows its message.
    const settled = await Promise.allSettled(names.map((n) => commitPush(input(bare, [`myacr.azurecr.io/shop/${n}=2.0.0`]))));
    const failures = settled.flatMap((s) => (s.status === "rejected" ? [s.reason instanceof SlipwayError ? s.reason.render() : String(s.reason)] : []));
    expect(failures).toEqual([]);
    const results = settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
    expect(results.every((r) => r.pushed)).toBe(true);
    const log = remoteLog(bare);
    expect(log).toHaveLength(names.length + 1);
    // Every writer's reported commit is a real commit of the remote's history (under load, output read too
    // early once made a rejected push read as pushed, and rev-parse HEAD as "").
    const shas = new Set(log.map((line) => line.split(" ")[0]));
    for (const r of results) expect(shas.has(r.commit), `reported commit ${JSON.stringify(r.commit)}`).toBe(true);
    // Linear: every commit has exactly one parent (the root none), and no merge commits.
    expect(log.slice(0, -1).every((line) => line.split(" ").length === 2)).toBe(true);
    expect(remoteFile(bare, "clusters/prod/kustomization.yaml")).toBe(kustomization(names, "2.0.0"));
    for (const n of names) expect(remoteFile(bare, `apps/${n}.yaml`)).toBe(deployment(n, "2.0.0"));
    expect(results.some((r) => r.attempts > 1)).toBe(true);
    git(bare, "fsck", "--no-progress");
  }, 5 * 60_000);

  it("a conflict rebase cannot solve (another commit set the same field) fails naming the file; the remote keeps the other commit", async () => {
    const bare = bareRemote({ "apps/api.yaml": deployment("api", "1.0.0") });
    let theirs = "";
    const run = commitPush(
      input(bare, ["myacr.azurecr.io/shop/api=1.1.0"], {
        beforePush: async (_dir, attempt) => {
          if (attempt === 1) theirs = otherWriter(bare, { "apps/api.yaml": deployment("api", "9.9.9") });
        },
      }),
    );
    const error = await run.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SlipwayError);
    expect((error as SlipwayError).code).toBe("SLIPWAY_GITOPS_CONFLICT");
    expect((error as SlipwayError).message).toContain("apps/api.yaml");
    expect((error as SlipwayError).message).toContain("myacr.azurecr.io/shop/api:9.9.9");
    expect(remoteLog(bare)[0]?.split(" ")[0]).toBe(theirs);
    expect(remoteFile(bare, "apps/api.yaml")).toBe(deployment("api", "9.9.9"));
  });

  it("a malformed YAML file that mentions the image fails with exit 2 naming the file; nothing is pushed", async () => {
    const bare = bareRemote({
      "apps/api.yaml": deployment("api", "1.0.0"),
      "apps/broken.yaml": "kind: Deployment\nspec:\n  image: myacr.azurecr.io/shop/api:1.0.0\n   bad: [unclosed\n",
    });
    const before = remoteLog(bare);
    const result = await cli(["gitops", "commit-push", "--repo", bare, "--branch", "main", "--set", "myacr.azurecr.io/shop/api=1.1.0"], tmp("slipway-cwd-"));
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^SLIPWAY_GITOPS_YAML: apps\/broken\.yaml is not valid YAML: line \d+/);
    expect(remoteLog(bare)).toEqual(before);
  });

  it("an image found nowhere is an error naming it (exit 2), unless --allow-missing", async () => {
    const bare = bareRemote({ "apps/api.yaml": deployment("api", "1.0.0") });
    const argv = ["gitops", "commit-push", "--repo", bare, "--branch", "main", "--set", "myacr.azurecr.io/shop/api=1.1.0", "--set", "myacr.azurecr.io/shop/typo=1.0.0"];
    const failed = await cli(argv, tmp("slipway-cwd-"));
    expect(failed.code).toBe(2);
    expect(failed.stderr).toContain('SLIPWAY_GITOPS_IMAGE_NOT_FOUND: "myacr.azurecr.io/shop/typo=1.0.0" not found');
    expect(remoteLog(bare)).toHaveLength(1);
    const allowed = await cli([...argv, "--allow-missing"], tmp("slipway-cwd-"));
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toContain("not found (allowed): myacr.azurecr.io/shop/typo=1.0.0");
    expect(remoteLog(bare)).toHaveLength(2);
  });
});

describe("pipelines/src/gitops/git (token over HTTPS-style auth through GIT_ASKPASS)", () => {
  const TOKEN = "ghp_S3cretTokenValue1234567890";

  it("pushes with the token from SLIPWAY_GIT_TOKEN; the token is in no URL, .git/config, stdout or stderr", async () => {
    const bare = bareRemote({ "apps/api.yaml": deployment("api", "1.0.0") });
    const server = await startGitHttpServer(join(bare, ".."), "x-access-token", TOKEN);
    try {
      const cwd = tmp("slipway-cwd-");
      const workdir = join(tmp("slipway-keep-"), "clone");
      const env = { ...process.env, SLIPWAY_GIT_TOKEN: TOKEN };
      // A real process: exit code and both streams exactly as a user (or a CI log) sees them.
      const result = await cliProcess(
        ["gitops", "commit-push", "--repo", `${server.url}/gitops.git`, "--branch", "main", "--set", "myacr.azurecr.io/shop/api=1.1.0", "--workdir", workdir, "--json", "--config", emptyConfig(cwd)],
        REPO_ROOT,
        env,
      );
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      expect(server.authorized).toBeGreaterThan(0);
      expect(remoteFile(bare, "apps/api.yaml")).toBe(deployment("api", "1.1.0"));
      const config = readFileSync(join(workdir, ".git", "config"), "utf8");
      expect(config).toContain(`${server.url}/gitops.git`);
      for (const text of [config, result.stdout, result.stderr]) expect(text).not.toContain(TOKEN);
      expect(existsSync(join(workdir, ".git", "askpass.sh"))).toBe(false);
    } finally {
      await server.close();
    }
  });

  it("a wrong token fails with a clear error that does not contain the token; the remote is unchanged", async () => {
    const bare = bareRemote({ "apps/api.yaml": deployment("api", "1.0.0") });
    const server = await startGitHttpServer(join(bare, ".."), "x-access-token", TOKEN);
    try {
      const wrong = "ghp_WrongTokenValue0987654321";
      const result = await cliProcess(
        ["gitops", "commit-push", "--repo", `${server.url}/gitops.git`, "--branch", "main", "--set", "myacr.azurecr.io/shop/api=1.1.0", "--config", emptyConfig(tmp("slipway-cwd-"))],
        REPO_ROOT,
        { ...process.env, SLIPWAY_GIT_TOKEN: wrong },
      );
      expect(result.code).toBe(1);
      expect(result.stderr).toContain("SLIPWAY_GITOPS_CLONE_FAILED");
      expect(result.stderr + result.stdout).not.toContain(wrong);
      expect(server.refused).toBeGreaterThan(0);
      expect(remoteLog(bare)).toHaveLength(1);
    } finally {
      await server.close();
    }
  });

  it("over HTTPS behind a private CA: untrusted, a clone error naming the certificate and the CA hint; with GIT_SSL_CAINFO it pushes", async () => {
    const bare = bareRemote({ "apps/api.yaml": deployment("api", "1.0.0") });
    const tls = makeTestTls();
    const server = await startGitHttpServer(join(bare, ".."), "x-access-token", TOKEN, { tls: { cert: tls.cert, key: tls.key } });
    try {
      const argv = ["gitops", "commit-push", "--repo", `${server.url}/gitops.git`, "--branch", "main", "--set", "myacr.azurecr.io/shop/api=1.1.0", "--config", emptyConfig(tmp("slipway-cwd-"))];
      const env: NodeJS.ProcessEnv = { ...process.env, SLIPWAY_GIT_TOKEN: TOKEN };
      delete env.GIT_SSL_CAINFO;
      const untrusted = await cliProcess(argv, REPO_ROOT, env);
      expect(untrusted.code).toBe(1);
      expect(untrusted.stderr).toContain("SLIPWAY_GITOPS_CLONE_FAILED");
      expect(untrusted.stderr).toMatch(/server certificate verification failed|SSL certificate problem/);
      expect(untrusted.stderr).toContain("caCertificates");
      expect(server.authorized).toBe(0);
      expect(remoteLog(bare)).toHaveLength(1);

      const trusted = await cliProcess(argv, REPO_ROOT, { ...env, GIT_SSL_CAINFO: tls.caFile });
      expect(trusted.stderr).toBe("");
      expect(trusted.code).toBe(0);
      expect(remoteFile(bare, "apps/api.yaml")).toBe(deployment("api", "1.1.0"));
    } finally {
      await server.close();
      removeTree(tls.dir);
    }
  });

  it("a URL carrying credentials is refused before anything runs, without echoing them", async () => {
    const result = await cli(
      ["gitops", "commit-push", "--repo", `https://bot:${TOKEN}@example.invalid/gitops.git`, "--branch", "main", "--set", "myacr.azurecr.io/shop/api=1.1.0"],
      tmp("slipway-cwd-"),
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("SLIPWAY_GITOPS_CREDENTIALS_IN_URL");
    expect(result.stderr).not.toContain(TOKEN);
  });
});

// Keep the helper honest: git itself must be present (it is part of every CI image we target).
execFileSync("git", ["--version"]);

describe("pipelines/src/gitops/git (SSH key)", () => {
  it("clones and pushes over SSH with --ssh-key and --known-hosts (real OpenSSH server)", async (ctx) => {
    const server = await startSshServer();
    if (!server) {
      // A system component: in CI (bootstrap installs openssh-server) its absence is a failure.
      if (process.env.CI === "true") throw new Error(`${SSHD} is missing: install the Debian package openssh-server`);
      ctx.skip(`${SSHD} is not installed (apt-get install openssh-server); SSH transport not tested`);
      return;
    }
    try {
      const bare = bareRemote({ "apps/api.yaml": deployment("api", "1.0.0") });
      const result = await cli(
        [
          "gitops", "commit-push",
          "--repo", `ssh://${server.user}@127.0.0.1:${server.port}${bare}`,
          "--branch", "main",
          "--set", "myacr.azurecr.io/shop/api=1.1.0",
          "--ssh-key", server.clientKey,
          "--known-hosts", server.knownHosts,
        ],
        tmp("slipway-cwd-"),
      );
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      expect(remoteFile(bare, "apps/api.yaml")).toBe(deployment("api", "1.1.0"));
    } finally {
      server.close();
    }
  });
});
