// slipway.yaml's JSON Schema as a user's editor gets it (issue 16): saved from `slipway config schema` into
// the user's own repository and named by a yaml-language-server modeline; it carries the defaults, and the
// error for a bad slipway.yaml says how to wire it up (it used to name a path inside this repository).
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import ajvFormats from "ajv-formats";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { configJsonSchema } from "../../../pipelines/src/config/json-schema.js";
import { cli, cliProcess } from "../../helpers/cli.js";
import { removeTree, tempTree } from "../../helpers/repo.js";

const CLEAN_ENV: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: tmpdir() };
const made: string[] = [];
afterAll(() => made.forEach(removeTree));

type Node = Record<string, unknown>;

/** Every subschema that has a `default`, with its JSON pointer. */
function defaults(node: unknown, path = ""): [string, Node][] {
  if (Array.isArray(node)) return node.flatMap((n, i) => defaults(n, `${path}/${i}`));
  if (typeof node !== "object" || node === null) return [];
  const here: [string, Node][] = "default" in node ? [[path, node as Node]] : [];
  return [...here, ...Object.entries(node).flatMap(([k, v]) => defaults(v, `${path}/${k}`))];
}

describe("slipway.yaml's JSON Schema in a user's editor", () => {
  const schema = JSON.parse(configJsonSchema()) as Node;

  it("carries the defaults its descriptions state, each one valid for its own key", () => {
    const found = Object.fromEntries(defaults(schema).map(([path, node]) => [path, node.default]));
    expect(found).toMatchObject({
      "/properties/ledger/properties/keep": 50,
      "/properties/migrate/properties/transaction": "each",
      "/properties/migrate/properties/lockTimeout": 60,
      "/properties/gitops/properties/branch": "main",
      "/properties/rollout/properties/timeout": "10m",
      "/properties/scan/properties/policy/properties/vulnerability/properties/failOn": ["CRITICAL", "HIGH"],
      "/properties/publish/properties/tags/properties/semver": true,
    });
    const ajv = new Ajv2020({ strict: false });
    ajvFormats.default(ajv);
    for (const [path, node] of defaults(schema)) {
      const { default: value, ...rest } = node;
      expect(ajv.validate(rest, value), `${path}: default ${JSON.stringify(value)}`).toBe(true);
    }
    // A default told in words names no value: none is made up.
    expect(found["/properties/environments/additionalProperties/properties/migrate"]).toBeUndefined();
  });

  it("saved from `slipway config schema` into a user's repository, it checks slipway.yaml as yaml-language-server would", async () => {
    const repo = tempTree({});
    made.push(repo);
    const saved = await cliProcess(["config", "schema"], repo, CLEAN_ENV);
    expect(saved.code).toBe(0);
    writeFileSync(join(repo, "slipway.schema.json"), saved.stdout);
    const modeline = "# yaml-language-server: $schema=slipway.schema.json\n";
    writeFileSync(join(repo, "slipway.yaml"), `${modeline}ledger:\n  keep: 20\nmigrate:\n  transaction: each\n`);
    // The modeline is a comment to slipway: the file is valid.
    expect((await cli(["config", "check"], repo, CLEAN_ENV)).stdout).toBe(`${join(repo, "slipway.yaml")}: valid\n`);
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    ajvFormats.default(ajv);
    const validate = ajv.compile(JSON.parse(saved.stdout) as object);
    expect(validate(parse(`${modeline}ledger:\n  keep: 20\n`))).toBe(true);
    // What an editor underlines, slipway refuses too.
    const bad = `${modeline}ledger:\n  kep: 20\n`;
    expect(validate(parse(bad))).toBe(false);
    writeFileSync(join(repo, "slipway.yaml"), bad);
    const refused = await cli(["config", "check"], repo, CLEAN_ENV);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("SLIPWAY_CONFIG_INVALID");
    // The way to wire the editor, from the user's repository: nothing in it points into Slipway's own tree.
    expect(refused.stderr).toContain("`slipway config schema > slipway.schema.json`");
    expect(refused.stderr).toContain("`# yaml-language-server: $schema=slipway.schema.json`");
    expect(refused.stderr).not.toContain("pipelines/schema");
  });
});
