import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import ts from "typescript";
import { REPO } from "./harness.js";

/**
 * A throwaway "service" whose TypeScript sources are compiled by the project's own TypeScript, as `tsc`
 * emits them for `"module": "commonjs"` (a NestJS project's default) or ESM. Its node_modules is the
 * workspace's, so `require("typeorm")` resolves to the same copy `slipway migrate` loads.
 */
export interface CompiledService {
  dir: string;
  /** The compiled path of a source: `src/data-source.ts` → `<dir>/dist/data-source.js`. */
  out(source: string): string;
  remove(): void;
}

export function compileService(module: "commonjs" | "esm", sources: Record<string, string>): CompiledService {
  const dir = mkdtempSync(join(tmpdir(), `slipway-ds-${module}-`));
  symlinkSync(join(REPO, "node_modules"), join(dir, "node_modules"), "dir");
  // A NestJS package.json has no "type" (CommonJS); an ESM service says "module".
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "svc", private: true, ...(module === "esm" ? { type: "module" } : {}) }));
  const compilerOptions: ts.CompilerOptions = {
    // The options of `nest new`'s tsconfig.json (commonjs, ES2021, decorators), or NodeNext for ESM.
    module: module === "esm" ? ts.ModuleKind.ESNext : ts.ModuleKind.CommonJS,
    target: ts.ScriptTarget.ES2021,
    esModuleInterop: true,
    experimentalDecorators: true,
    emitDecoratorMetadata: true,
  };
  const out = (source: string) => join(dir, source.replace(/^src\//, "dist/").replace(/\.ts$/, ".js"));
  for (const [source, text] of Object.entries(sources)) {
    const { outputText, diagnostics } = ts.transpileModule(text, { compilerOptions, fileName: source, reportDiagnostics: true });
    if (diagnostics?.length) throw new Error(`${source}: ${ts.flattenDiagnosticMessageText(diagnostics[0]?.messageText ?? "", "\n")}`);
    mkdirSync(dirname(out(source)), { recursive: true });
    writeFileSync(out(source), outputText);
  }
  return { dir, out, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * The `slipway` CLI as the toolkit image runs it: JavaScript emitted from pipelines/src, executed by plain
 * Node. Vitest and tsx both add their own CommonJS interop to `import()` (a CommonJS module's
 * `exports.default` becomes the namespace's `default`), which plain Node does not: loading DataSources is
 * only tested for real this way. Compiled once per test file with the project's TypeScript (the
 * repository's tsconfig has isolatedModules, so per-file emit equals `tsc`'s).
 */
export interface PlainCli {
  run(argv: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }>;
  remove(): void;
}

export function plainCli(): PlainCli {
  const dir = mkdtempSync(join(tmpdir(), "slipway-plain-cli-"));
  const src = join(REPO, "pipelines", "src");
  symlinkSync(join(REPO, "node_modules"), join(dir, "node_modules"), "dir");
  mkdirSync(join(dir, "pipelines"));
  symlinkSync(join(REPO, "pipelines", "node_modules"), join(dir, "pipelines", "node_modules"), "dir");
  writeFileSync(join(dir, "pipelines", "package.json"), JSON.stringify({ name: "@slipway/pipelines", private: true, type: "module" }));
  const compilerOptions: ts.CompilerOptions = { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, esModuleInterop: true, isolatedModules: true };
  for (const entry of readdirSync(src, { recursive: true, encoding: "utf8" })) {
    if (!entry.endsWith(".ts") || entry.endsWith(".d.ts")) continue;
    const target = join(dir, "pipelines", "dist", entry.replace(/\.ts$/, ".js"));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, ts.transpileModule(readFileSync(join(src, entry), "utf8"), { compilerOptions, fileName: entry }).outputText);
  }
  const main = join(dir, "pipelines", "dist", "cli", "main.js");
  const script = `const { run, processIo } = await import(${JSON.stringify(pathToFileURL(main).href)}); process.exitCode = await run(process.argv.slice(1), processIo());`;
  return {
    run: (argv, env) =>
      new Promise((resolve) => {
        execFile(process.execPath, ["--input-type=module", "-e", script, ...argv], { cwd: REPO, env: { ...env, NODE_NO_WARNINGS: "1" } }, (error, stdout, stderr) => {
          resolve({ code: error ? (typeof error.code === "number" ? error.code : 128) : 0, stdout, stderr });
        });
      }),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
