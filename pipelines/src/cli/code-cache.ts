import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { Script, constants } from "node:vm";

/*
 * Loads a CommonJS file of the bundle with the V8 code cache written beside it at build time
 * (pipelines/scripts/build.mjs writes `<file>.cache`), so that V8 deserializes the compiled code instead of
 * parsing the source again at every start. Used for the Kubernetes client (2.5 MB, most of it generated API
 * classes: parsing it was about 70 ms of every `rollout verify` start, issue 16) and zod (loaded by every
 * command that reads slipway.yaml, a ledger or a report).
 * By hand because nothing here does it: Node 22's module.enableCompileCache() does this for every module, but
 * the CLI supports Node 20 (engines >=20.19), which has no such API; `v8-compile-cache` (the npm package)
 * patches require() for every CommonJS module of the process and breaks on modules that are ES modules.
 * A cache V8 refuses (another Node version made it) costs only its read: the source is then compiled as usual.
 * V8 checks a cache against its own version, its flags and the source's length, not the source's text: the
 * cache is written by the same build that writes the file, and a file changed by hand must lose its cache.
 * Only the bundle reaches this module (the build resolves `@kubernetes/client-node` and `zod` to modules that
 * call it: CACHED in pipelines/scripts/build.mjs); the sources run by tsx and the tests import the packages.
 */

/** What the last loads found, by file: for `SLIPWAY_TRACE_CODE_CACHE=1` and the bundle's tests. */
export type CodeCacheUse = "accepted" | "rejected" | "absent";

export function requireWithCodeCache(file: string, trace: (line: string) => void = defaultTrace): unknown {
  const source = readFileSync(file, "utf8");
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(`${file}.cache`);
  } catch {
    cachedData = undefined;
  }
  // The wrapper Node itself puts around a CommonJS module (require, module, exports, __filename, __dirname).
  const script = new Script(`(function (exports, require, module, __filename, __dirname) { ${source}\n})`, {
    filename: file,
    ...(cachedData ? { cachedData } : {}),
    // A dynamic import() in the file resolves as it would in a module Node loaded (the bundle has none today).
    importModuleDynamically: constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const use: CodeCacheUse = cachedData === undefined ? "absent" : script.cachedDataRejected === true ? "rejected" : "accepted";
  trace(`code cache: ${file} ${use}${cachedData ? ` (${cachedData.length} bytes)` : ""}`);
  const module = { exports: {} as unknown };
  const wrapper = script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: { exports: unknown }, filename: string, dirname: string) => void;
  wrapper.call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
  return module.exports;
}

function defaultTrace(line: string): void {
  if (process.env.SLIPWAY_TRACE_CODE_CACHE === "1") process.stderr.write(`${line}\n`);
}
