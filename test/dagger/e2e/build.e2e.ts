// `build` on a repository as teams have them: no .dockerignore and a Dockerfile that copies the whole
// context. The checkout's .git (where actions/checkout leaves the job's token) must not reach the image.
import { describe, expect, it } from "vitest";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempRepo } from "../../helpers/repo.js";
import { ReturnType } from "@dagger.io/dagger";
import type { E2E } from "./context.js";
import { BASE_IMAGE, canary, inSession } from "./world.js";

export function buildSuite(e2e: E2E): void {
  describe("build on a repository without .dockerignore", () => {
    it("builds the image from a context without .git: the checkout's token never reaches the image", async () => {
      const token = canary("checkout-token");
      // An npm workspace: the member builds from the repository root, where .git is.
      const repo = tempRepo({
        "package.json": JSON.stringify({ name: "root", private: true, workspaces: ["services/*"] }),
        "services/svc/package.json": JSON.stringify({ name: "svc", version: "1.0.0", private: true }),
        "services/svc/Dockerfile": `FROM ${BASE_IMAGE}\nWORKDIR /app\nCOPY . .\n`,
        "README.md": "sample\n",
      });
      // What actions/checkout writes with persist-credentials (its default).
      writeFileSync(join(repo, ".git", "config"), `[http "https://github.com/"]\n\textraheader = AUTHORIZATION: basic ${token}\n`, { flag: "a" });
      const [files, grep] = await inSession(async () => {
        const image = await e2e.slipway().build(e2e.source(repo), "svc");
        return Promise.all([
          image.withExec(["find", "/app", "-maxdepth", "3"]).stdout(),
          image.withExec(["grep", "-rl", token, "/app"], { expect: ReturnType.Any }).stdout(),
        ]);
      });
      e2e.look(files);
      expect(files.split("\n")).toContain("/app/services/svc/Dockerfile");
      expect(files.split("\n")).toContain("/app/README.md");
      expect(files).not.toMatch(/\/\.git(\/|$)/m);
      expect(grep).toBe("");
    }, 10 * 60_000);
  });
}
