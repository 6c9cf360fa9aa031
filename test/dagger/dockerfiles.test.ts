// The images the module builds come from plain Dockerfiles (DESIGN.md): the toolkit's
// (pipelines/Dockerfile) and each service's. No engine can build them here, so they are checked
// statically against the rules in dockerfile-rules.ts; the rules are tested on small inline cases too.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { dockerfileProblems } from "./dockerfile-rules.js";
import { repoRoot } from "./introspect.js";

// Services are the folders under services/ with a package.json and a Dockerfile, as `slipway plan`
// discovers them by default (pipelines/src/plan/services.ts).
const serviceDirs = readdirSync(join(repoRoot, "services"), { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(repoRoot, "services", d.name, "package.json")))
  .map((d) => d.name)
  .sort();
const serviceDockerfiles = serviceDirs
  .map((name) => `services/${name}/Dockerfile`)
  .filter((path) => existsSync(join(repoRoot, path)));

const read = (path: string) => readFileSync(join(repoRoot, path), "utf8");

describe("Dockerfiles of the repository", () => {
  it("pipelines/Dockerfile (toolkit) follows the rules", () => {
    expect(dockerfileProblems(read("pipelines/Dockerfile"), "toolkit")).toEqual([]);
  });

  it("pipelines/Dockerfile puts slipway on PATH and installs git in the runtime stage", () => {
    const text = read("pipelines/Dockerfile");
    const runtime = text.slice(text.lastIndexOf("\nFROM "));
    expect(runtime).toMatch(/apt-get install[^\n]*--no-install-recommends[^\n]*\bgit\b/);
    expect(runtime).toMatch(/\/usr\/local\/bin\/slipway/);
    expect(runtime).toMatch(/^WORKDIR \/src$/m);
  });

  it("finds the sample services' Dockerfiles", () => {
    // A service without a Dockerfile is not built by the pipeline at all; an empty list here would
    // make the per-service checks below vacuous.
    expect(serviceDockerfiles.length).toBeGreaterThan(0);
  });

  it.each(serviceDockerfiles)("%s follows the rules", (path) => {
    expect(dockerfileProblems(read(path), "service")).toEqual([]);
  });
});

const GOOD_SERVICE = `
# syntax comment
ARG NODE_IMAGE=node:20-bookworm-slim
FROM \${NODE_IMAGE} AS build
WORKDIR /app
RUN npm ci \\
  # a comment inside a continued instruction
  && npm run build
FROM build AS pruned
RUN npm prune --omit=dev
FROM $NODE_IMAGE
COPY --from=pruned /app /app
USER 10001:10001
HEALTHCHECK --interval=10s CMD ["node", "healthcheck.js"]
CMD ["node", "dist/main.js"]
`;

describe("dockerfileProblems", () => {
  it("accepts a Dockerfile that follows every rule", () => {
    expect(dockerfileProblems(GOOD_SERVICE, "service")).toEqual([]);
  });

  it.each([
    ["no ARG NODE_IMAGE", GOOD_SERVICE.replace("ARG NODE_IMAGE=node:20-bookworm-slim", ""), "no `ARG NODE_IMAGE=...` before the first FROM"],
    ["ARG without default", GOOD_SERVICE.replace("ARG NODE_IMAGE=node:20-bookworm-slim", "ARG NODE_IMAGE"), "`ARG NODE_IMAGE` has no default value"],
    ["a FROM with a literal image", GOOD_SERVICE.replace("FROM $NODE_IMAGE", "FROM node:22-alpine"), "FROM node:22-alpine (line 11) does not use ${NODE_IMAGE} or an earlier stage"],
    ["single stage", "ARG NODE_IMAGE=node:20\nFROM ${NODE_IMAGE}\nUSER 10001\nHEALTHCHECK CMD true\nCMD [\"node\",\"x.js\"]\n", "not multi-stage: 1 FROM instruction(s)"],
    ["no USER", GOOD_SERVICE.replace("USER 10001:10001\n", ""), "final stage has no USER: it would run as root"],
    ["another uid", GOOD_SERVICE.replace("USER 10001:10001", "USER node"), "final stage USER is node, expected uid 10001"],
    ["no HEALTHCHECK", GOOD_SERVICE.replace(/HEALTHCHECK.*\n/, ""), "final stage has no HEALTHCHECK"],
    ["HEALTHCHECK NONE", GOOD_SERVICE.replace(/HEALTHCHECK.*\n/, "HEALTHCHECK NONE\n"), "final stage disables HEALTHCHECK"],
    ["npm start in exec form", GOOD_SERVICE.replace('CMD ["node", "dist/main.js"]', 'CMD ["npm", "start"]'), 'final CMD runs npm: ["npm", "start"]'],
    ["npm in shell form", GOOD_SERVICE.replace('CMD ["node", "dist/main.js"]', "CMD cd /app && npm run start"), "final CMD runs npm: cd /app && npm run start"],
    ["no command", GOOD_SERVICE.replace('CMD ["node", "dist/main.js"]\n', ""), "final stage has no CMD or ENTRYPOINT"],
    ["a # syntax= directive", `# syntax=docker/dockerfile:1\n${GOOD_SERVICE}`, "`# syntax=docker/dockerfile:1` directive: BuildKit would pull that frontend image, so offline builds fail"],
  ])("reports %s", (_case, content, problem) => {
    expect(dockerfileProblems(content, "service")).toContain(problem);
  });

  it("only looks at the final stage for USER, HEALTHCHECK and CMD", () => {
    const content = `${GOOD_SERVICE}FROM build AS extra\nUSER 10001\n`;
    expect(dockerfileProblems(content, "service")).toEqual(["final stage has no HEALTHCHECK", "final stage has no CMD or ENTRYPOINT"]);
  });

  it("accepts any non-root USER for the toolkit but not root", () => {
    const toolkit = "ARG NODE_IMAGE=node:20\nFROM ${NODE_IMAGE} AS build\nFROM ${NODE_IMAGE}\nUSER slipway\nENTRYPOINT [\"slipway\"]\n";
    expect(dockerfileProblems(toolkit, "toolkit")).toEqual([]);
    expect(dockerfileProblems(toolkit.replace("USER slipway", "USER 0:0"), "toolkit")).toEqual(["final stage USER is 0:0: root"]);
  });
});
