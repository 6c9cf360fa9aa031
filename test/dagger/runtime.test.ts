// The module loaded exactly as Dagger 0.21's TypeScript runtime loads it (shared/DAGGER-0.21.md): against
// the runtime's bundled SDK only, typechecked with its tsconfig rewrite, and every file executed by Node's
// own ESM linker. The introspection test only scans the sources; this one is what a first `dagger call`
// does.
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BUNDLED_SDK, importInNode, prepareRuntimeModule, repoRoot, TypecheckError } from "./runtime/bundle.js";
import { runtimeSetup } from "./runtime/setup.js";
import type { PackageJson, RuntimeSetup } from "./runtime/setup.js";

describe(".dagger (as the 0.21 runtime loads it)", () => {
  it("typechecks against the bundled SDK and every file links and runs under Node's ESM loader", async () => {
    const module = await prepareRuntimeModule({ name: "runtime-test" });
    expect(module.files).toContain("src/index.js");
    expect(await importInNode(module)).toEqual({});
  }, 120_000);

  it("fails on a value import the bundle does not export (ExecError), in tsc and in Node", async () => {
    const copy = mkdtempSync(join(tmpdir(), "slipway-module-"));
    cpSync(join(repoRoot, ".dagger"), copy, { recursive: true, filter: (src) => !src.includes("/sdk") });
    const file = join(copy, "src/exec.ts");
    writeFileSync(file, `import { ExecError as __E } from "@dagger.io/dagger";\nexport const __probe = __E;\n${readFileSync(file, "utf8")}`);
    const failure = await prepareRuntimeModule({ moduleDir: copy, name: "runtime-test-bad" }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(TypecheckError);
    expect((failure as TypecheckError).output).toMatch(/has no exported member 'ExecError'/);
    // What the engine would do with it: Node refuses to link the module, so no function could run.
    const loaded = await prepareRuntimeModule({ moduleDir: copy, name: "runtime-test-bad", skipTypecheck: true });
    const failures = await importInNode(loaded);
    expect(failures["src/exec.js"]).toMatch(/^SyntaxError: .*does not provide an export named 'ExecError'/);
    // index.js imports exec.js, so the entry point fails too (Node reports it differently once a
    // dependency has failed to link in the same process).
    expect(failures["src/index.js"]).toBeDefined();
  }, 120_000);

  it("the bundle re-exports exactly the documented names, each defined by the npm SDK 0.21.9", async () => {
    const sdk = JSON.parse(readFileSync(join(repoRoot, "node_modules/@dagger.io/dagger/package.json"), "utf8")) as { version: string };
    expect(sdk.version).toBe("0.21.9");
    const values = BUNDLED_SDK.flatMap((e) => e.values ?? []);
    expect(values.sort()).toEqual(["argument", "check", "connect", "connection", "Context", "entrypoint", "enumType", "field", "func", "generate", "object"].sort());
    const module = await prepareRuntimeModule({ name: "runtime-test-names", skipTypecheck: true });
    const exported = await import(join(module.dir, "node_modules/@dagger.io/dagger/sdk/index.js"));
    for (const name of [...values, "dag", "Container", "ReturnType", "CacheSharingMode"]) expect(exported[name], name).toBeDefined();
    for (const name of ["ExecError", "GraphQLRequestError", "up", "DaggerSDKError"]) expect(exported[name], name).toBeUndefined();
  }, 120_000);
});

describe(".dagger/package.json (as the 0.21 runtime sets the module up)", () => {
  it("selects the bundled SDK and yarn 1.22.22, runs no setup and installs nothing on a fresh engine", () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, ".dagger/package.json"), "utf8")) as PackageJson;
    const files = readdirSync(join(repoRoot, ".dagger"));
    expect(runtimeSetup(pkg, files)).toEqual({ runtime: "node", sdkLib: "bundle", packageManager: "yarn", version: "1.22.22", setup: [] });
  });

  it.each<[string, PackageJson | undefined, string[], Partial<RuntimeSetup>]>([
    ["no package.json: yarn install (needs the registry)", undefined, [], { packageManager: "yarn", install: ["yarn", "install", "--prod"] }],
    ["no typescript dependency", { dependencies: {} }, [], { install: ["yarn", "install", "--prod"] }],
    ["another typescript", { dependencies: { typescript: "5.8.2" } }, [], { install: ["yarn", "install", "--prod"] }],
    ["an npm lockfile: npm 10.7.0 reinstalled unless the image has it", { dependencies: { typescript: "5.9.3" } }, ["package-lock.json"], { packageManager: "npm", setup: [["sh", "-c", "npm -v | grep -qx 10\\.7\\.0 || npm install -g npm@10.7.0"]] }],
    ["@dagger.io/dagger as a dependency: not the bundle", { dependencies: { typescript: "5.9.3", "@dagger.io/dagger": "0.21.9" } }, [], { sdkLib: "remote", install: ["yarn", "install", "--prod"] }],
  ])("%s", (_, pkg, files, expected) => {
    expect(runtimeSetup(pkg, files)).toMatchObject(expected);
  });
});
