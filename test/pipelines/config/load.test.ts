import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { configJsonSchema } from "../../../pipelines/src/config/json-schema.js";
import { parseConfig } from "../../../pipelines/src/config/load.js";
import { cliProcess, REPO_ROOT } from "../../helpers/cli.js";
import { removeTree, tempTree } from "../../helpers/repo.js";
import { thrown } from "../../helpers/errors.js";

function problems(text: string): { code: string; details: string[] } {
  const { code, details } = thrown(() => parseConfig(text, "slipway.yaml"));
  return { code, details };
}

describe("pipelines/src/config/load", () => {
  it.each([
    ["empty file", "", {}],
    ["globs", "services: ['apps/*', '*/']\n", { services: ["apps/*", "*/"] }],
    [
      "explicit entry",
      "version: 1\nservices:\n  - name: orders\n    path: src/orders\n    dockerfile: docker/orders.Dockerfile\n    context: .\n",
      { version: 1, services: [{ name: "orders", path: "src/orders", dockerfile: "docker/orders.Dockerfile", context: "." }] },
    ],
    ["plan settings", "plan:\n  affectsAll: [tsconfig.base.json]\n  ignore: ['**/*.md']\n", { plan: { affectsAll: ["tsconfig.base.json"], ignore: ["**/*.md"] } }],
  ])("accepts %s", (_name, text, expected) => {
    expect(parseConfig(text, "slipway.yaml")).toEqual(expected);
  });

  it("reports every problem at once, each with its path, value and line", () => {
    const result = problems(
      [
        "services:",
        "  - 3",
        "  - name: Orders/API",
        "    path: ../outside",
        "    colour: blue",
        "  - path: 7",
        "plan:",
        "  ignore: docs",
        "bogus: true",
        "",
      ].join("\n"),
    );
    expect(result.code).toBe("SLIPWAY_CONFIG_INVALID");
    const lines = result.details.filter((d) => d.startsWith("- "));
    expect(lines).toEqual([
      expect.stringMatching(/^- services\[0\]: expected a glob string .*got 3 \(line 2\)$/),
      expect.stringMatching(/^- services\[1\]\.name: .*got "Orders\/API" \(line 3\)$/),
      expect.stringMatching(/^- services\[1\]\.path: .*without '\.\.'.*got "\.\.\/outside" \(line 4\)$/),
      expect.stringMatching(/^- services\[1\]: unknown key "colour" \(line 5\)$/),
      expect.stringMatching(/^- services\[2\]\.path: .*string.*got 7 \(line 6\)$/),
      expect.stringMatching(/^- plan\.ignore: .*array.*got "docs" \(line 8\)$/),
      expect.stringMatching(/^- \(root\): unknown key "bogus" \(line 9\)$/),
    ]);
  });

  it("reports YAML syntax errors with their line before looking at keys", () => {
    const result = problems("services:\n  - api\n bad: [\n");
    expect(result.code).toBe("SLIPWAY_CONFIG_YAML");
    expect(result.details[0]).toMatch(/^- line \d+, column \d+: /);
  });

  it("rejects duplicate keys instead of keeping the last one", () => {
    expect(problems("services: [a/*]\nservices: [b/*]\n").code).toBe("SLIPWAY_CONFIG_YAML");
  });

  it("keeps the committed JSON Schema in sync with the zod schema (run `npm run schema`)", () => {
    const committed = readFileSync(join(REPO_ROOT, "pipelines", "schema", "slipway.schema.json"), "utf8");
    expect(committed).toBe(configJsonSchema());
  });

  it("publishes a JSON Schema that editors can use to flag unknown keys", () => {
    const schema = JSON.parse(configJsonSchema()) as { additionalProperties?: boolean; properties: Record<string, unknown> };
    expect(schema.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(["services", "plan"]));
  });
});

describe("slipway config check", () => {
  it("exits 0 for a valid file and 2 with all problems on stderr for an invalid one", async () => {
    const dir = tempTree({
      "good.yaml": "services: ['services/*']\n",
      "bad.yaml": "services:\n  - name: a/b\n    path: x\nunknown: 1\n",
    });
    try {
      const good = await cliProcess(["config", "check", "--config", join(dir, "good.yaml")]);
      expect(good).toMatchObject({ code: 0, stderr: "" });
      const bad = await cliProcess(["config", "check", "--config", join(dir, "bad.yaml")]);
      expect(bad.code).toBe(2);
      expect(bad.stdout).toBe("");
      expect(bad.stderr).toContain("SLIPWAY_CONFIG_INVALID");
      expect(bad.stderr).toContain('services[0].name');
      expect(bad.stderr).toContain('unknown key "unknown"');
      expect(bad.stderr).not.toMatch(/\n\s+at /); // no stack trace for a user error
      const missing = await cliProcess(["config", "check", "--config", join(dir, "nope.yaml")]);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain("SLIPWAY_CONFIG_NOT_FOUND");
    } finally {
      removeTree(dir);
    }
  });

  it("rejects an unknown flag with the usage, suggesting the flag meant", async () => {
    const result = await cliProcess(["config", "check", "--fiel", "x"]);
    expect(result.code).toBe(2);
    // A typo of the deprecated --file suggests what replaced it.
    expect(result.stderr.split("\n")[0]).toBe("SLIPWAY_USAGE: unknown flag --fiel for `slipway config check`; did you mean --config?");
    expect(result.stderr).toContain("slipway config check [--config slipway.yaml]");
  });

  it("still takes the deprecated --file, saying so in one line on stderr", async () => {
    const dir = tempTree({ "good.yaml": "services: ['services/*']\n" });
    try {
      const old = await cliProcess(["config", "check", "--file", join(dir, "good.yaml")]);
      expect(old).toEqual({ code: 0, stdout: `${join(dir, "good.yaml")}: valid\n`, stderr: "warning: --file is deprecated, use --config (same meaning)\n" });
      const both = await cliProcess(["config", "check", "--file", "a.yaml", "--config", "b.yaml"]);
      expect(both.code).toBe(2);
      expect(both.stderr.split("\n")[0]).toBe("SLIPWAY_USAGE: --file and --config name the same thing: give --config only");
    } finally {
      removeTree(dir);
    }
  });
});
