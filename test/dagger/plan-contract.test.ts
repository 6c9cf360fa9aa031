import { afterEach, describe, expect, it } from "vitest";
import { dockerfileInContext, parsePlan, selectServices } from "../../.dagger/src/plan.js";
import { cli } from "../helpers/cli.js";
import { commitAll, removeTree, tempRepo } from "../helpers/repo.js";

// The module reads what the CLI prints: run the real `slipway plan --json` on a real repository and
// feed it to the module's parser, so a change of the CLI's output that breaks the module fails here.
describe(".dagger/src/plan against `slipway plan --json`", () => {
  const dirs: string[] = [];
  afterEach(() => {
    while (dirs.length) removeTree(dirs.pop() as string);
  });
  const pkg = (name: string, extra: Record<string, unknown> = {}) => `${JSON.stringify({ name, version: "1.0.0", ...extra })}\n`;
  const DOCKERFILE = "ARG NODE_IMAGE=node:20-bookworm-slim\nFROM ${NODE_IMAGE}\n";

  it("parses the CLI's plan and selects what the CLI marked affected", async () => {
    const dir = tempRepo({
      "package.json": pkg("root", { private: true, workspaces: ["services/*"] }),
      "package-lock.json": "{}\n",
      "services/api/package.json": pkg("@acme/api", { scripts: { lint: "eslint .", test: "vitest run", build: "tsc" } }),
      "services/api/Dockerfile": DOCKERFILE,
      "services/worker/package.json": pkg("@acme/worker", { scripts: { test: "vitest run" } }),
      "services/worker/Dockerfile": DOCKERFILE,
    });
    dirs.push(dir);
    commitAll(dir, "change api", { "services/api/src/main.ts": "export {};\n" });

    const result = await cli(["plan", "--source", dir, "--base", "HEAD~1", "--json"]);
    expect(result.stderr).toBe("");
    const parsed = parsePlan(result.stdout);
    expect(parsed.base).toBe("HEAD~1");
    expect(parsed.services.map((s) => [s.name, s.path, s.context, dockerfileInContext(s), s.scripts])).toEqual([
      ["api", "services/api", ".", "services/api/Dockerfile", { lint: true, test: true, build: true }],
      ["worker", "services/worker", ".", "services/worker/Dockerfile", { lint: false, test: true, build: false }],
    ]);
    const { selected, unaffected } = selectServices(parsed, "affected");
    expect(selected.map((s) => s.name)).toEqual(["api"]);
    expect(unaffected).toEqual(["worker"]);
  });

  it("`--service` narrows the plan the same way the module does", async () => {
    const dir = tempRepo({
      "package.json": pkg("root", { private: true, workspaces: ["services/*"] }),
      "package-lock.json": "{}\n",
      "services/api/package.json": pkg("@acme/api"),
      "services/api/Dockerfile": DOCKERFILE,
      "services/worker/package.json": pkg("@acme/worker"),
      "services/worker/Dockerfile": DOCKERFILE,
    });
    dirs.push(dir);
    const result = await cli(["plan", "--source", dir, "--service", "worker", "--json"]);
    const parsed = parsePlan(result.stdout);
    expect(parsed.affected).toEqual(["worker"]);
    expect(selectServices(parsed, "affected", ["worker"]).selected.map((s) => s.name)).toEqual(["worker"]);

    const unknown = await cli(["plan", "--source", dir, "--service", "wrker", "--json"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^SLIPWAY_UNKNOWN_SERVICE: unknown service "wrker"/);
  });
});
