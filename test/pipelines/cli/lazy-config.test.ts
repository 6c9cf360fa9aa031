// Start-up (issue 16): without a slipway.yaml to read, a command loads neither zod nor any area's schema
// (defaults apply); with one, the file is validated as before. Which modules load, not how long they take:
// speed is measured in `npm run bench`, never by a timed test.
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../helpers/cli.js";
import { removeTree, tempRepo } from "../../helpers/repo.js";
import { npmWorkspace } from "../../helpers/sample-repos.js";

const CLI = join(REPO_ROOT, "pipelines", "src", "cli", "main.ts");
// A module resolve hook (node:module register) that names every zod module the process loads, on stderr.
const HOOK = `export async function resolve(s, c, next) { const r = await next(s, c); if (/node_modules\\/zod\\//.test(r.url)) process.stderr.write("LOADED zod\\n"); return r; }`;
const REGISTER = `data:text/javascript,${encodeURIComponent(`import { register } from "node:module"; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(HOOK)}`)});`)}`;

const repos: string[] = [];
afterAll(() => repos.forEach(removeTree));

function slipway(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["--import", REGISTER, "--import", import.meta.resolve("tsx"), CLI, ...args], { cwd, env: { PATH: process.env.PATH, HOME: tmpdir(), NODE_NO_WARNINGS: "1" } }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

describe("pipelines/src/cli/output: slipway.yaml's loader only when there is a slipway.yaml", () => {
  it("plan on a repository without one loads no zod; with one, zod validates it (a typo is still refused)", async () => {
    const bare = tempRepo(npmWorkspace());
    const configured = tempRepo({ ...npmWorkspace(), "slipway.yaml": "ledger:\n  keep: 5\n" });
    repos.push(bare, configured);
    const [without, withConfig] = await Promise.all([slipway(["plan", "--source", bare, "--json"], bare), slipway(["plan", "--source", configured, "--json"], tmpdir())]);
    expect(without.code, without.stderr).toBe(0);
    expect(JSON.parse(without.stdout)).toMatchObject({ schemaVersion: 1, services: expect.arrayContaining([expect.objectContaining({ name: "api" })]) });
    expect(without.stderr).not.toContain("LOADED zod");
    expect(withConfig.code, withConfig.stderr).toBe(0);
    expect(withConfig.stderr).toContain("LOADED zod");
    writeFileSync(join(configured, "slipway.yaml"), "ledger:\n  kep: 5\n");
    const typo = await slipway(["plan", "--source", configured], tmpdir());
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('SLIPWAY_CONFIG_INVALID');
  });
});
