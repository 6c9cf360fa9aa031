// The security functions (scanImage, scanSecrets, scanDependencies, secretsCheck, dependenciesCheck, and
// ci with its gates on) end to end through the real SDK and the Dagger API stand-in, on small sample
// repositories made here. The pinned scanner images cannot be pulled, so stand-in scanner images
// (test/standins/scanners/scanner.mjs) are built in the test's engine under exactly the pinned
// references: they read the mounted source, its history or the image tarball and write the real tools'
// report formats; the verdicts come from `slipway scan gate`.
import { beforeAll, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { dag } from "@dagger.io/dagger";
import { DEFAULT_IMAGES } from "../../../pipelines/src/scan/argv.js";
import { commitAll, git, tempRepo, tempTree } from "../../helpers/repo.js";
import { SOURCE_IGNORE } from "./context.js";
import type { E2E } from "./context.js";
import { BASE_IMAGE, canary, inSession, rejection, REPO_ROOT } from "./world.js";

const MINUTES = 60_000;
/** scanDependencies / dependenciesCheck also ignore .git (`@argument({ ignore })` in .dagger/src/index.ts). */
const DEPENDENCIES_IGNORE = [...SOURCE_IGNORE, ".git"];
/** Images whose stand-in scanners misbehave (STANDIN_SCANNER_MODE), pinned through slipway.yaml scan.images. */
const GARBAGE = "standin/scanner-garbage:1.0.0";
const CRASH = "standin/scanner-crash:1.0.0";

/** An AWS access key pair that looks real to a detector (random, so it is found only where it was planted). */
function fakeAwsKey(): { id: string; secret: string } {
  const upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  const id = `AKIA${[...randomBytes(16)].map((b) => upper[b % 32]).join("")}`;
  const secret = randomBytes(30).toString("base64").replace(/[+/]/g, "x");
  return { id, secret };
}

/** The git RUN of the toolkit's runtime stage, reused verbatim so the engine builds that layer once. */
function toolkitGitRun(): string {
  const dockerfile = readFileSync(join(REPO_ROOT, "pipelines/Dockerfile"), "utf8");
  const runtime = dockerfile.slice(dockerfile.indexOf("AS runtime"));
  const match = /^RUN apt-get update(?:[^\n]*\\\n)*[^\n]*/m.exec(runtime);
  if (!match) throw new Error("pipelines/Dockerfile: no `RUN apt-get update` in the runtime stage");
  return match[0];
}

const lockfile = (name: string, deps: Record<string, string>, workspaces?: string[]) =>
  JSON.stringify(
    {
      name,
      version: "1.0.0",
      lockfileVersion: 3,
      requires: true,
      packages: {
        "": { name, version: "1.0.0", ...(workspaces ? { workspaces } : {}), ...(Object.keys(deps).length ? { dependencies: deps } : {}) },
        ...(workspaces ? { "node_modules/hello": { resolved: "services/hello", link: true }, "services/hello": { name: "hello", version: "1.0.0" } } : {}),
        ...Object.fromEntries(
          Object.entries(deps).map(([dep, version]) => [
            `node_modules/${dep}`,
            { version, resolved: `https://registry.npmjs.org/${dep}/-/${dep}-${version}.tgz`, integrity: "sha512-AAAA", license: "MIT" },
          ]),
        ),
      },
    },
    null,
    2,
  );

/** A workspace with one service and no dependencies (npm ci takes a second); the CI token left in .git/config. */
function cleanRepo(gitToken: string): string {
  const dir = tempRepo({
    "package.json": JSON.stringify({ name: "sample", version: "1.0.0", private: true, workspaces: ["services/*"] }, null, 2),
    "package-lock.json": lockfile("sample", {}, ["services/*"]),
    ".dockerignore": ".git\n**/node_modules\n",
    "services/hello/package.json": JSON.stringify({ name: "hello", version: "1.0.0", scripts: { test: "node --test", build: "node --check index.js" } }, null, 2),
    "services/hello/index.js": "console.log('hello');\n",
    "services/hello/test/hello.test.js": "import test from 'node:test';\nimport assert from 'node:assert';\ntest('adds', () => assert.equal(1 + 1, 2));\n",
    "services/hello/Dockerfile": "FROM node:20-bookworm-slim\nWORKDIR /app\nCOPY services/hello/package.json services/hello/index.js ./\nUSER node\nCMD [\"node\", \"index.js\"]\n",
  });
  // What actions/checkout leaves behind with persist-credentials (the default).
  git(dir, "config", "http.https://github.com/.extraheader", `AUTHORIZATION: basic ${gitToken}`);
  return dir;
}

export function scanSuite(e2e: E2E): void {
  describe("security functions through the stand-in", () => {
    const { slipway, source, look } = e2e;

    beforeAll(async () => {
      const { engine } = e2e.world();
      const wrapper = (tool: string) => `#!/bin/sh\nexec /usr/local/bin/node /opt/standin/scanner.mjs ${tool} "$@"\n`;
      const context = tempTree({
        "scanner.mjs": readFileSync(join(REPO_ROOT, "test/standins/scanners/scanner.mjs"), "utf8"),
        "bin/trivy": wrapper("trivy"),
        "bin/trufflehog": wrapper("trufflehog"),
        "bin/osv-scanner": wrapper("osv-scanner"),
        "bin/npm": wrapper("npm"),
        // Each binary where the pinned image has it (pipelines/src/scan/argv.ts SCANNER_BINARIES); git for TruffleHog.
        Dockerfile: [
          `FROM ${BASE_IMAGE}`,
          toolkitGitRun(),
          "COPY scanner.mjs /opt/standin/scanner.mjs",
          "COPY bin/trivy /usr/local/bin/trivy",
          "COPY bin/trufflehog /usr/bin/trufflehog",
          "COPY bin/osv-scanner /osv-scanner",
          "COPY bin/npm /usr/local/bin/npm",
          "RUN chmod 0755 /usr/local/bin/trivy /usr/bin/trufflehog /osv-scanner /usr/local/bin/npm",
          "",
        ].join("\n"),
      });
      const scanners = "standin/scanners:local";
      await engine.dockerOk(["build", "--quiet", "--network", "host", "--tag", scanners, context], { timeoutMs: 10 * MINUTES });
      for (const ref of Object.values(DEFAULT_IMAGES)) await engine.dockerOk(["tag", scanners, ref]);
      for (const [ref, mode] of [[GARBAGE, "garbage"], [CRASH, "crash"]] as const) {
        const broken = tempTree({ Dockerfile: `FROM ${scanners}\nENV STANDIN_SCANNER_MODE=${mode}\n` });
        await engine.dockerOk(["build", "--quiet", "--tag", ref, broken]);
      }
    }, 15 * MINUTES);

    it("scanSecrets: a fake AWS key planted in history fails the gate (counts, summary, SARIF, JUnit) without showing the key; since HEAD passes", async () => {
      const key = fakeAwsKey();
      const repo = tempRepo({ "README.md": "# leaky\n" });
      commitAll(repo, "add config", { "config/aws.js": `export const aws = {\n  accessKeyId: "${key.id}",\n  secretAccessKey: "${key.secret}",\n};\n` });
      const { failed, sinceHead } = await inSession(async () => {
        const dir = source(repo);
        const [report, recent] = await Promise.all([slipway().scanSecrets(dir), slipway().scanSecrets(dir, "HEAD")]);
        return {
          failed: {
            passed: report.passed,
            counts: JSON.parse(report.counts) as Record<string, Record<string, number>>,
            failing: report.failing,
            failure: report.failure,
            summary: await report.summary(),
            sarif: await report.sarif().contents(),
            junit: await report.junit().contents(),
            gate: await report.report().contents(),
          },
          sinceHead: { passed: recent.passed, failing: recent.failing, summary: await recent.summary() },
        };
      });
      look(failed);
      look(sinceHead);
      expect(failed.passed).toBe(false);
      expect(failed.failing).toBe(1);
      expect(failed.counts.secret?.HIGH).toBe(1);
      expect(failed.failure).toMatch(/secrets gate failed: 1 finding\(s\) over the policy/);
      expect(failed.failure).toMatch(/HIGH secret AWS in config\/aws\.js/);
      expect(failed.summary).toContain("AWS");
      expect(failed.summary).toContain("config/aws.js");
      const sarif = JSON.parse(failed.sarif) as { version: string; runs: Array<{ tool: { driver: { name: string } }; results: Array<{ ruleId: string; level: string; locations: Array<{ physicalLocation: { artifactLocation: { uri: string } } }> }> }> };
      expect(sarif.version).toBe("2.1.0");
      const results = sarif.runs.flatMap((run) => run.results.map((r) => ({ tool: run.tool.driver.name, rule: r.ruleId, uri: r.locations[0]?.physicalLocation.artifactLocation.uri })));
      expect(results).toEqual([expect.objectContaining({ uri: "config/aws.js" })]);
      expect(results[0]?.tool.toLowerCase()).toContain("trufflehog");
      expect(results[0]?.rule).toContain("AWS");
      expect(failed.junit).toMatch(/<failure [^>]*>/);
      expect(failed.junit).toContain("config/aws.js");
      for (const text of Object.values(failed)) {
        expect(String(text)).not.toContain(key.id);
        expect(String(text)).not.toContain(key.secret);
      }
      // Nothing was committed after HEAD: TruffleHog sees no commit, the gate passes.
      expect(sinceHead).toEqual({ passed: true, failing: 0, summary: expect.any(String) });
    }, 15 * MINUTES);

    it("secretsCheck throws the gate's Markdown summary on the planted key (never the key); dependenciesCheck throws on lodash 4.17.20", async () => {
      const key = fakeAwsKey();
      const leaky = tempRepo({ "src/settings.js": `const id = "${key.id}";\nconst secret = "${key.secret}";\n` });
      const vulnerable = tempTree({
        "package.json": JSON.stringify({ name: "vulnerable", version: "1.0.0", dependencies: { lodash: "4.17.20" } }, null, 2),
        "package-lock.json": lockfile("vulnerable", { lodash: "4.17.20" }),
      });
      const [secrets, dependencies] = await inSession(() =>
        Promise.all([
          rejection(slipway().secretsCheck(source(leaky))),
          rejection(slipway().dependenciesCheck(dag.host().directory(vulnerable, { exclude: DEPENDENCIES_IGNORE }))),
        ]),
      );
      look(secrets);
      look(dependencies);
      expect(secrets.message).toMatch(/^#+ /m);
      expect(secrets.message).toContain("AWS");
      expect(secrets.message).toContain("src/settings.js");
      expect(secrets.message).not.toContain(key.id);
      expect(secrets.message).not.toContain(key.secret);
      expect(dependencies.message).toMatch(/^#+ /m);
      expect(dependencies.message).toContain("lodash");
      expect(dependencies.message).toMatch(/CVE-2021-23337|GHSA-35jh-r3h4-6jhm/);
    }, 15 * MINUTES);

    it("scanDependencies: npm audit, OSV-Scanner and Trivy fs agree on lodash 4.17.20 as one HIGH finding; the gate fails with its reports", async () => {
      const vulnerable = tempTree({
        "package.json": JSON.stringify({ name: "vulnerable", version: "1.0.0", dependencies: { lodash: "4.17.20" } }, null, 2),
        "package-lock.json": lockfile("vulnerable", { lodash: "4.17.20" }),
      });
      const got = await inSession(async () => {
        const report = await slipway().scanDependencies(dag.host().directory(vulnerable, { exclude: DEPENDENCIES_IGNORE }));
        return { passed: report.passed, failing: report.failing, counts: JSON.parse(report.counts) as Record<string, Record<string, number>>, failure: report.failure, sarif: await report.sarif().contents() };
      });
      look(got);
      expect(got.passed).toBe(false);
      expect(got.failing).toBe(1);
      expect(got.counts.vulnerability?.HIGH).toBe(1);
      expect(got.failure).toMatch(/HIGH vulnerability (CVE-2021-23337|GHSA-35jh-r3h4-6jhm) in lodash/);
      const sarif = JSON.parse(got.sarif) as { runs: Array<{ tool: { driver: { name: string } } }> };
      // One run per tool that reported: all three saw it.
      expect(sarif.runs.map((r) => r.tool.driver.name.toLowerCase()).sort().join(" ")).toMatch(/npm.*osv.*trivy/);
    }, 15 * MINUTES);

    it("scanImage: Trivy on the image tarball finds lodash 4.17.20 under node_modules", async () => {
      const pkg = JSON.stringify({ name: "lodash", version: "4.17.20", main: "lodash.js" });
      const got = await inSession(async () => {
        const image = dag.container().from(BASE_IMAGE).withNewFile("/app/node_modules/lodash/package.json", pkg);
        const report = await slipway().scanImage(image);
        return { name: report.name, passed: report.passed, failure: report.failure, junit: await report.junit().contents() };
      });
      look(got);
      expect(got.name).toBe("image");
      expect(got.passed).toBe(false);
      expect(got.failure).toMatch(/HIGH vulnerability CVE-2021-23337 in lodash/);
      expect(got.junit).toMatch(/<failure [^>]*>/);
    }, 15 * MINUTES);

    it("a scanner that writes garbage or crashes makes the gate fail closed (SLIPWAY_SCAN_ERROR, never a pass)", async () => {
      const config = (images: string) => `scan:\n  images:\n${images}`;
      const garbage = tempRepo({ "slipway.yaml": config(`    trufflehog: ${GARBAGE}\n`), "README.md": "x\n" });
      const crash = tempTree({ "slipway.yaml": config(`    osvScanner: ${CRASH}\n`), "package.json": "{}\n", "package-lock.json": lockfile("crash", {}) });
      const [secrets, dependencies] = await inSession(() =>
        Promise.all([
          rejection(slipway().scanSecrets(source(garbage))),
          rejection(slipway().scanDependencies(dag.host().directory(crash, { exclude: DEPENDENCIES_IGNORE }))),
        ]),
      );
      look(secrets);
      look(dependencies);
      expect(secrets.message).toMatch(/SLIPWAY_SCAN_ERROR: the secrets gate could not decide/);
      expect(secrets.message).toMatch(/trufflehog/);
      expect(dependencies.message).toMatch(/SLIPWAY_SCAN_ERROR/);
      expect(dependencies.message).toMatch(/osv/);
      expect(dependencies.message).toContain("crashed");
    }, 15 * MINUTES);

    it("ci with scans on a clean sample repository: every gate and the image scan pass; .git (and its CI token) reaches no scanner that does not read history", async () => {
      const gitToken = canary("git-config-token");
      const repo = cleanRepo(gitToken);
      const got = await inSession(async () => {
        const run = await slipway().ci(source(repo));
        return {
          passed: run.passed,
          gates: run.gates.map((g) => ({ name: g.name, status: g.status, failure: g.failure })),
          services: run.services.map((s) => ({ name: s.name, test: s.test, image: s.image, scan: s.scan })),
          scans: await Promise.all(run.scans.map(async (s) => ({ name: s.name, passed: s.passed, summary: await s.summary(), sarif: await s.sarif().contents() }))),
          summary: run.summary(),
          report: await run.report().contents(),
        };
      });
      look(got);
      expect(got.gates, got.summary).toEqual([
        { name: "secrets", status: "passed", failure: "" },
        { name: "dependencies", status: "passed", failure: "" },
      ]);
      expect(got.services).toEqual([{ name: "hello", test: "passed", image: "built", scan: "passed" }]);
      expect(got.passed).toBe(true);
      expect(got.scans.map((s) => [s.name, s.passed])).toEqual([["secrets", true], ["dependencies", true], ["image hello", true]]);
      expect(JSON.stringify(got)).not.toContain(gitToken);
    }, 20 * MINUTES);
  });
}
