// Human output (issue 16): tables with headers, colours for severities and verdicts on a terminal only,
// off with NO_COLOR, on with FORCE_COLOR. The terminal is a real pseudo-terminal made by script(1).
import { execFile } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stripVTControlCharacters } from "node:util";
import { describe, expect, it } from "vitest";
import { colourEnabled, painter, table, verdict } from "../../../pipelines/src/cli/style.js";
import { cli, REPO_ROOT } from "../../helpers/cli.js";
import { useScratch } from "../../helpers/gitops-remote.js";

const { bareRemote, tmp } = useScratch();
const ESC = "\u001b[";
const RED = `${ESC}31m`;
const GREEN = `${ESC}32m`;
const strip = (text: string) => stripVTControlCharacters(text);
const CLEAN_ENV: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: tmpdir() };
const TRIVY = join(REPO_ROOT, "test", "fixtures", "scan", "trivy-fs.json");

describe("pipelines/src/cli/style: when colours are on", () => {
  it.each([
    ["a terminal", {}, true, true],
    ["a pipe or a file", {}, false, false],
    ["NO_COLOR on a terminal", { NO_COLOR: "1" }, true, false],
    ["NO_COLOR empty (not set, per no-color.org)", { NO_COLOR: "" }, true, true],
    ["FORCE_COLOR into a pipe", { FORCE_COLOR: "1" }, false, true],
    ["FORCE_COLOR=0 on a terminal", { FORCE_COLOR: "0" }, true, false],
    ["NO_COLOR beats FORCE_COLOR", { NO_COLOR: "1", FORCE_COLOR: "1" }, false, false],
    ["TERM=dumb on a terminal", { TERM: "dumb" }, true, false],
  ] as const)("%s", (_name, env, isTTY, on) => {
    expect(colourEnabled(env, isTTY)).toBe(on);
  });

  it("a table keeps its columns aligned whatever colours its cells carry", () => {
    const paint = painter({ env: { FORCE_COLOR: "1" } });
    const rows = [
      ["1", "verified", "x"],
      ["12", "failed", "y"],
    ];
    const coloured = table(["ID", "STATUS", "NOTE"], rows, (column, cell, padded) => (column === 1 ? verdict(paint, cell, padded) : padded));
    expect(coloured).toContain(`${GREEN}verified${ESC}39m`);
    expect(strip(coloured)).toBe(table(["ID", "STATUS", "NOTE"], rows));
    expect(strip(coloured)).toBe("ID  STATUS    NOTE\n1   verified  x\n12  failed    y\n");
  });
});

describe("slipway ledger show and env list: tables with headers", () => {
  it("ledger show: one row per release under ID STATUS RECORDED SOURCE IMAGES NOTES; status coloured only when asked", async () => {
    const image = "myacr.azurecr.io/shop/api";
    const bare = bareRemote({ "apps/api.yaml": `apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: api }\nspec:\n  template:\n    spec:\n      containers:\n        - name: api\n          image: ${image}:1.0.0\n` });
    const cwd = tmp("slipway-cwd-");
    const base = ["--repo", bare, "--branch", "main", "--env", "prod"];
    for (const [sha, tag, status] of [
      ["a".repeat(40), "1.0.0", "verified"],
      ["b".repeat(40), "1.1.0", "failed"],
    ] as const) {
      const recorded = await cli(["ledger", "record", ...base, "--source-sha", sha, "--set", `${image}=${tag}@sha256:${sha.slice(0, 1).repeat(64)}`, "--status", status], cwd, CLEAN_ENV);
      expect(recorded.code, recorded.stderr).toBe(0);
    }
    const [piped, forced, noColor] = await Promise.all([
      cli(["ledger", "show", ...base], cwd, CLEAN_ENV),
      cli(["ledger", "show", ...base], cwd, { ...CLEAN_ENV, FORCE_COLOR: "1" }),
      cli(["ledger", "show", ...base], cwd, { ...CLEAN_ENV, FORCE_COLOR: "1", NO_COLOR: "1" }),
    ]);
    const lines = piped.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^ID {2}STATUS {4}RECORDED +SOURCE +IMAGES +NOTES$/);
    expect(lines[1]).toMatch(/^1 {3}verified {2}\d{4}-\d\d-\d\dT[\d:.]+Z {2}aaaaaaaaaaaa {2}api:1\.0\.0$/);
    expect(lines[2]).toMatch(/^2 {3}failed {4}\S+ {2}bbbbbbbbbbbb {2}api:1\.1\.0$/);
    expect(piped.stdout).not.toContain(ESC);
    expect(forced.stdout).toContain(`${GREEN}verified${ESC}39m`);
    expect(forced.stdout).toContain(`${RED}failed  ${ESC}39m`);
    expect(strip(forced.stdout)).toBe(piped.stdout);
    expect(noColor.stdout).toBe(piped.stdout);
  });

  it("env list: ENVIRONMENT PROMOTES FROM BRANCH GITOPS PATH NAMESPACE REGISTRY", async () => {
    const dir = tmp("slipway-envs-");
    const yaml = [
      "gitops: { repository: https://git.example.com/acme/gitops.git }",
      "environments:",
      "  dev: { gitops: { path: clusters/dev }, kubernetes: { namespace: shop-dev, deployments: [api] } }",
      "  prod: { promoteFrom: dev, registry: prodacr.azurecr.io, gitops: { path: clusters/prod, branch: release }, kubernetes: { namespace: shop, deployments: [api] } }",
      "",
    ].join("\n");
    writeFileSync(join(dir, "slipway.yaml"), yaml);
    const result = await cli(["env", "list"], dir, CLEAN_ENV);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(
      [
        "ENVIRONMENT  PROMOTES FROM  BRANCH   GITOPS PATH    NAMESPACE  REGISTRY",
        "dev          -              main     clusters/dev   shop-dev   -",
        "prod         dev            release  clusters/prod  shop       prodacr.azurecr.io",
        "",
      ].join("\n"),
    );
  });
});

/** Runs the real CLI under script(1): its stdout is a pseudo-terminal, as in a user's shell. */
function inTerminal(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  // script(1) takes one command line: every word here is a fixed path or flag of this test, quoted.
  const quote = (word: string) => `'${word.replace(/'/g, "'\\''")}'`;
  const command = [process.execPath, "--import", import.meta.resolve("tsx"), join(REPO_ROOT, "pipelines", "src", "cli", "main.ts"), ...args].map(quote).join(" ");
  return new Promise((resolve) => {
    execFile("script", ["-qec", command, "/dev/null"], { cwd: REPO_ROOT, env: { ...env, NODE_NO_WARNINGS: "1" }, timeout: 30_000 }, (_error, stdout) => resolve(stdout));
  });
}

/** script(1) (Debian bsdutils, installed by test/bootstrap.sh): with CI=true its absence fails the suite instead of skipping it. */
const hasScript = existsSync("/usr/bin/script");
if (!hasScript && process.env.CI === "true") throw new Error("/usr/bin/script is missing: install the Debian package bsdutils (test/bootstrap.sh)");
if (!hasScript) console.warn("SKIPPED colours in a real terminal: /usr/bin/script not found (apt-get install bsdutils)");

describe.skipIf(!hasScript)("colours in a real terminal (script(1))", () => {
  it("scan gate: the verdict and severities in colour on a terminal; none with NO_COLOR; the same words either way", async () => {
    const args = ["scan", "gate", "--trivy", TRIVY];
    const [tty, noColor] = await Promise.all([inTerminal(args, CLEAN_ENV), inTerminal(args, { ...CLEAN_ENV, NO_COLOR: "1" })]);
    expect(tty).toContain(`security gate ${RED}FAILED${ESC}39m`);
    expect(tty).toMatch(new RegExp(`${RED.replace("[", "\\[")}${ESC.replace("[", "\\[")}1mCRITICAL`));
    expect(noColor).toContain("security gate FAILED");
    expect(noColor).not.toContain(ESC);
    expect(strip(tty)).toBe(noColor);
  });

  it("into a pipe: no colour unless FORCE_COLOR", async () => {
    const piped = await cli(["scan", "gate", "--trivy", TRIVY], REPO_ROOT, CLEAN_ENV);
    expect(piped.stdout).toContain("security gate FAILED");
    expect(piped.stdout).not.toContain(ESC);
    const forced = await cli(["scan", "gate", "--trivy", TRIVY], REPO_ROOT, { ...CLEAN_ENV, FORCE_COLOR: "1" });
    expect(forced.stdout).toContain(`security gate ${RED}FAILED${ESC}39m`);
  });
});
