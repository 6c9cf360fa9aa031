import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { flagSpecs } from "../../../pipelines/src/cli/command.js";
import { AREAS, commandIndex, loadCommands } from "../../../pipelines/src/cli/commands.js";
import { closest, closestCommand, editDistance } from "../../../pipelines/src/cli/suggest.js";
import { cli, cliProcess, REPO_ROOT } from "../../helpers/cli.js";
import { anchor, commandTable, README, readmeBlock, SECTIONS } from "./readme-cli.js";

const VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, "pipelines", "package.json"), "utf8")) as { version: string }).version;
/** No CI variables, no KUBECONFIG or SLIPWAY_CONFIG from the machine running the tests. */
const CLEAN_ENV: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: tmpdir() };
const run = (argv: string[], env: NodeJS.ProcessEnv = CLEAN_ENV, cwd = REPO_ROOT) => cli(argv, cwd, env);
/** The last line of stderr: where the JSON error object is with --json. */
const lastLine = (text: string) => text.trimEnd().split("\n").at(-1) ?? "";

describe("pipelines/src/cli: help and version", () => {
  it("slipway --help lists every command, in its real text", async () => {
    const result = await run(["--help"]);
    expect(result.code).toBe(0);
    await expect(result.stdout).toMatchFileSnapshot("help/slipway.txt");
    for (const { words } of commandIndex()) expect(result.stdout).toContain(`\n  ${words} `);
  });

  it("slipway alone prints the same help and exits 2 (no command given)", async () => {
    const [bare, help] = await Promise.all([run([]), run(["--help"])]);
    expect(bare).toEqual({ code: 2, stdout: help.stdout, stderr: "" });
  });

  const commands = commandIndex().map((c) => c.words);
  it.each(commands)("slipway %s --help prints that command's help (flags, defaults, env, examples)", async (words) => {
    const argv = words.split(" ");
    const [long, short, viaHelp] = await Promise.all([run([...argv, "--help"]), run([...argv, "-h"]), run(["help", ...argv])]);
    expect(long.code).toBe(0);
    expect(long.stderr).toBe("");
    await expect(long.stdout).toMatchFileSnapshot(`help/${argv.join("-")}.txt`);
    expect(short.stdout).toBe(long.stdout);
    expect(viaHelp.stdout).toBe(long.stdout);
  });

  it("--help wins over missing required flags and bad values", async () => {
    const result = await run(["rollout", "verify", "--namespace", "NOT A NAME", "--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Usage:\n  slipway rollout verify");
  });

  const groups = [...new Set(commands.filter((w) => w.includes(" ")).map((w) => w.split(" ")[0] as string))];
  it.each(groups)("slipway %s --help and slipway help %s list the group's commands", async (group) => {
    const [flag, help, bare] = await Promise.all([run([group, "--help"]), run(["help", group]), run([group])]);
    expect(flag.code).toBe(0);
    await expect(flag.stdout).toMatchFileSnapshot(`help/group-${group}.txt`);
    expect(help.stdout).toBe(flag.stdout);
    // A group alone chose no command: the same list, exit 2 (as `slipway` alone).
    expect(bare).toEqual({ code: 2, stdout: flag.stdout, stderr: "" });
  });

  it("slipway --version prints the package's version; version --json adds the runtime", async () => {
    expect(await run(["--version"])).toEqual({ code: 0, stdout: `slipway ${VERSION}\n`, stderr: "" });
    const text = await run(["version"]);
    expect(text.stdout).toBe(`slipway ${VERSION}\nnode ${process.version}, ${process.platform}/${process.arch}\n`);
    const json = await run(["version", "--json"]);
    expect(JSON.parse(json.stdout)).toEqual({ schemaVersion: 1, version: VERSION, node: process.version, platform: `${process.platform}/${process.arch}` });
  });

  it("the version is the one the installed CLI reports (a real process from the compiled code's source)", async () => {
    const result = await cliProcess(["--version"], REPO_ROOT, CLEAN_ENV);
    expect(result).toEqual({ code: 0, stdout: `slipway ${VERSION}\n`, stderr: "" });
  });

  it("every flag of every command has a one-line description, every command examples", async () => {
    const missing: string[] = [];
    for (const command of await loadCommands()) {
      for (const [name, spec] of flagSpecs(command)) {
        if (spec.deprecatedFor === undefined && (!spec.describe || spec.describe.includes("\n"))) missing.push(`slipway ${command.path.join(" ")} --${name}`);
      }
      if (!command.examples?.length) missing.push(`slipway ${command.path.join(" ")}: no example`);
    }
    expect(missing).toEqual([]);
  });

  it("the command index (read by --help without loading any area) agrees with the commands' own definitions", async () => {
    for (const area of AREAS) {
      const loaded = await area.load();
      expect(Object.fromEntries(loaded.map((c) => [c.path.join(" "), c.summary]))).toEqual(area.commands);
      for (const c of loaded) expect(area.words).toContain(c.path[0]);
    }
  });
});

describe("pipelines/src/cli/suggest: did you mean", () => {
  it.each([
    ["kitten", "sitting", 3],
    ["", "abc", 3],
    ["json", "json", 0],
    ["kubconfig", "kubeconfig", 1],
    ["plna", "plan", 1],
  ])("editDistance(%j, %j) = %i", (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
  });

  it("suggests a near name, a name the typo starts, and nothing for a far one", () => {
    expect(closest("jsn", ["json", "config"])).toBe("json");
    expect(closest("kube", ["kubeconfig", "context"])).toBe("kubeconfig");
    expect(closest("zzzzzz", ["json", "config"])).toBeUndefined();
    expect(closestCommand(["rolout", "verify"], ["rollout verify", "rollback", "rollout"])).toBe("rollout verify");
  });

  it.each([
    [["rolout", "verify"], "unknown command \"rolout verify\"; did you mean `slipway rollout verify`?"],
    [["plna"], "unknown command \"plna\"; did you mean `slipway plan`?"],
    [["scan", "gat"], "unknown command \"scan gat\"; did you mean `slipway scan gate`?"],
    [["relase", "begin", "--env", "dev"], "unknown command \"relase begin\"; did you mean `slipway release begin`?"],
    [["versoin"], "unknown command \"versoin\"; did you mean `slipway version`?"],
    [["deploy"], "unknown command \"deploy\""],
  ])("slipway %j: SLIPWAY_UNKNOWN_COMMAND with the nearest command", async (argv, message) => {
    const result = await run(argv);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr.split("\n")[0]).toBe(`SLIPWAY_UNKNOWN_COMMAND: ${message}`);
  });

  it.each([
    [["rollout", "verify", "--kubconfig", "k"], "unknown flag --kubconfig for `slipway rollout verify`; did you mean --kubeconfig?"],
    [["plan", "--source", ".", "--jsn"], "unknown flag --jsn for `slipway plan`; did you mean --json?"],
    [["gitops", "bump", "--dryrun"], "unknown flag --dryrun for `slipway gitops bump`; did you mean --dry-run?"],
    [["env", "list", "--colour"], "unknown flag --colour for `slipway env list`"],
  ])("slipway %j: SLIPWAY_USAGE naming the flag and the nearest one", async (argv, message) => {
    const result = await run(argv);
    expect(result.code).toBe(2);
    expect(result.stderr.split("\n")[0]).toBe(`SLIPWAY_USAGE: ${message}`);
    expect(result.stderr).toContain(`Run \`slipway ${argv.slice(0, argv[0] === "plan" ? 1 : 2).join(" ")} --help\` for every flag.`);
  });
});

describe("pipelines/src/cli: --json everywhere, versioned, errors included", () => {
  it("config check --json", async () => {
    const dir = mkdtempSync(join(tmpdir(), "slipway-cli-json-"));
    try {
      writeFileSync(join(dir, "slipway.yaml"), "services: ['services/*']\n");
      expect(JSON.parse((await run(["config", "check", "--json"], CLEAN_ENV, dir)).stdout)).toEqual({ schemaVersion: 1, file: join(dir, "slipway.yaml"), valid: true, defaults: false });
      expect(JSON.parse((await run(["config", "check", "--source", tmpdir(), "--json"], CLEAN_ENV, dir)).stdout)).toMatchObject({ schemaVersion: 1, valid: true });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("scan argv --json prints the same JSON as without it, with schemaVersion", async () => {
    const argv = ["scan", "argv", "--scanner", "trivy-fs", "--source", "/src", "--out", "/out"];
    const [plain, json] = await Promise.all([run(argv), run([...argv, "--json"])]);
    expect(json.code).toBe(0);
    expect(json.stdout).toBe(plain.stdout);
    expect(JSON.parse(json.stdout)).toMatchObject({ schemaVersion: 1, argv: expect.arrayContaining(["fs"]) });
  });

  it("acr tags --json prints the same JSON as without it, with schemaVersion", async () => {
    const argv = ["acr", "tags", "--service", "api", "--registry", "myacr.azurecr.io", "--source", REPO_ROOT];
    const [plain, json] = await Promise.all([run(argv), run([...argv, "--json"])]);
    expect(json.code).toBe(0);
    expect(json.stdout).toBe(plain.stdout);
    expect(JSON.parse(json.stdout)).toMatchObject({ schemaVersion: 1, service: "api", registry: "myacr.azurecr.io", tags: expect.arrayContaining([expect.stringMatching(/^sha-[0-9a-f]{12}$/)]) });
  });

  it("config schema and env list --json are versioned objects too; config schema alone is the schema document to save", async () => {
    const [plain, json] = await Promise.all([run(["config", "schema"]), run(["config", "schema", "--json"])]);
    expect(JSON.parse(plain.stdout)).toHaveProperty("$schema", "https://json-schema.org/draft/2020-12/schema");
    expect(JSON.parse(json.stdout)).toEqual({ schemaVersion: 1, schema: JSON.parse(plain.stdout) });
    expect(JSON.parse((await run(["env", "list", "--json"], CLEAN_ENV, tmpdir())).stdout)).toEqual({ schemaVersion: 1, environments: [] });
  });

  it("with --json an error ends stderr as one JSON object after the usual text", async () => {
    const result = await run(["plan", "--json"]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr.split("\n")[0]).toBe("SLIPWAY_USAGE: --source is required");
    expect(JSON.parse(lastLine(result.stderr))).toEqual({
      schemaVersion: 1,
      error: { code: "SLIPWAY_USAGE", message: "--source is required", hint: "Usage:\n  slipway plan --source DIR [--base REF] [--service NAME]... [--config FILE] [--json]", exitCode: 2 },
    });
  });

  it("a flag error and an unknown command are JSON objects too; without --json there is none", async () => {
    const flag = await run(["plan", "--json", "--bogus"]);
    expect(JSON.parse(lastLine(flag.stderr)).error).toMatchObject({ code: "SLIPWAY_USAGE", message: "unknown flag --bogus for `slipway plan`", exitCode: 2 });
    const command = await run(["plna", "--json"]);
    expect(JSON.parse(lastLine(command.stderr)).error).toMatchObject({ code: "SLIPWAY_UNKNOWN_COMMAND", message: "unknown command \"plna\"; did you mean `slipway plan`?" });
    const text = await run(["plan"]);
    expect(text.stderr).not.toContain("schemaVersion");
  });

  it("a credential in an error's text is masked in its JSON object too", async () => {
    const token = "ghp_canaryCANARY1234567890";
    const result = await run(["gitops", "commit-push", "--repo", `https://x:${token}@127.0.0.1:9/gitops.git`, "--branch", "-bad", "--set", "a=1", "--json"], { ...CLEAN_ENV, SLIPWAY_GIT_TOKEN: token });
    expect(result.code).toBe(2);
    expect(JSON.parse(lastLine(result.stderr)).error.code).toBe("SLIPWAY_USAGE");
    expect(result.stderr).not.toContain(token);
  });
});

describe("pipelines/src/cli: defaults from the environment", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "slipway-cli-env-"));
    writeFileSync(join(dir, "bad.yaml"), "services:\n  - name: a/b\n    path: x\n");
    writeFileSync(join(dir, "good.yaml"), "services: ['services/*']\n");
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("SLIPWAY_CONFIG is the --config of every command; the flag wins", async () => {
    const env = { ...CLEAN_ENV, SLIPWAY_CONFIG: join(dir, "bad.yaml") };
    const check = await run(["config", "check"], env, tmpdir());
    expect(check.code).toBe(2);
    expect(check.stderr.split("\n")[0]).toMatch(/^SLIPWAY_CONFIG_INVALID: \S*\/bad\.yaml has 1 problem$/);
    const plan = await run(["plan", "--source", REPO_ROOT], env);
    expect(plan.stderr.split("\n")[0]).toContain("SLIPWAY_CONFIG_INVALID");
    expect(await run(["config", "check", "--config", join(dir, "good.yaml")], env, tmpdir())).toMatchObject({ code: 0, stdout: `${join(dir, "good.yaml")}: valid\n` });
    // Empty counts as not set.
    expect((await run(["config", "check"], { ...CLEAN_ENV, SLIPWAY_CONFIG: "" }, tmpdir())).stdout).toBe("no slipway.yaml: defaults apply\n");
  });

  it("KUBECONFIG is rollout verify's --kubeconfig; without either the error names both", async () => {
    const argv = ["rollout", "verify", "-n", "shop", "--deployment", "api"];
    const missing = join(dir, "no-such-kubeconfig");
    const fromEnv = await run(argv, { ...CLEAN_ENV, KUBECONFIG: missing });
    expect(fromEnv.code).toBe(2);
    expect(fromEnv.stderr).toContain(missing);
    const neither = await run(argv);
    expect(neither.code).toBe(2);
    expect(neither.stderr).toContain("--kubeconfig FILE is required (or KUBECONFIG in the environment)");
    // kubectl merges a list of files; we read one and say so.
    const list = `${missing}${delimiter}${join(dir, "other")}`;
    const several = await run(argv, { ...CLEAN_ENV, KUBECONFIG: list });
    expect(several.code).toBe(2);
    expect(several.stderr).toContain(`--kubeconfig ${JSON.stringify(list)}: expected one file: KUBECONFIG lists several`);
  });
});

describe("README: the CLI section", () => {
  it("its command table is the one the help text generates (npx tsx test/pipelines/cli/readme-cli.ts rewrites it)", async () => {
    const readme = readFileSync(README, "utf8");
    const start = readme.indexOf("## The `slipway` CLI");
    const section = readme.slice(start, readme.indexOf("\n## ", start + 1));
    expect(readmeBlock(section), "the CLI section holds the generated block").not.toBeNull();
    expect(readmeBlock(section)).toBe(await commandTable());
    for (const words of [...commandIndex().map((c) => c.words), "version", "help"]) expect(section).toContain(`\`slipway ${words}`);
  });

  it("every section the table points to is a heading of the README", () => {
    const headings = new Set([...readFileSync(README, "utf8").matchAll(/^#{2,4} (.+)$/gm)].map((m) => anchor(m[1] as string)));
    for (const [words, heading] of Object.entries(SECTIONS)) expect(headings.has(anchor(heading)), `${words}: ${heading}`).toBe(true);
  });
});
