// The bundle loads the Kubernetes client (chunks/kube.cjs) with a V8 code cache made at build time
// (issue 16). Whatever the cache file holds (nothing, V8's own cache, another Node's or garbage bytes), the
// module loads and works; the trace says which of those it was. The build's own cache of the real client
// is checked on a built bundle by bundle.test.ts and package.test.ts.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { requireWithCodeCache } from "../../../pipelines/src/cli/code-cache.js";
import { removeTree } from "../../helpers/repo.js";

const dir = mkdtempSync(join(tmpdir(), "slipway-code-cache-"));
afterAll(() => removeTree(dir));

// A CommonJS module using what Node gives one: require of a built-in, module.exports, __filename.
const SOURCE = 'const { basename } = require("node:path");\nclass Greeter { hello(n) { return `hello ${n} from ${basename(__filename)}`; } }\nmodule.exports = { Greeter, twice: (x) => x * 2 };\n';

function load(file: string): { exports: { Greeter: new () => { hello: (n: string) => string }; twice: (x: number) => number }; trace: string[] } {
  const trace: string[] = [];
  const exports = requireWithCodeCache(file, (line) => trace.push(line)) as ReturnType<typeof load>["exports"];
  return { exports, trace };
}

/**
 * V8's cache of `file` as the build makes it (the same wrapper around the same source, run once), made in
 * a process of its own: V8 also keeps compiled code per isolate, and a source this process compiled already
 * would be served from there whatever the cache file holds.
 */
function cacheOf(file: string): Buffer {
  const make = [
    'const { readFileSync, writeFileSync } = require("node:fs"); const { Script } = require("node:vm"); const file = process.argv[1];',
    'const script = new Script(`(function (exports, require, module, __filename, __dirname) { ${readFileSync(file, "utf8")}\\n})`, { filename: file });',
    "script.runInThisContext(); writeFileSync(`${file}.cache`, script.createCachedData());",
  ].join("\n");
  execFileSync(process.execPath, ["-e", make, file]);
  return readFileSync(`${file}.cache`);
}

/** A module of its own for each case (see cacheOf). */
function moduleFile(name: string): string {
  const file = join(dir, `${name}.cjs`);
  writeFileSync(file, `// ${name}\n${SOURCE}`);
  return file;
}

describe("pipelines/src/cli/code-cache: requireWithCodeCache", () => {
  it("without a cache file: compiled from the source", () => {
    const file = moduleFile("absent");
    const { exports, trace } = load(file);
    expect(trace).toEqual([`code cache: ${file} absent`]);
    expect(new exports.Greeter().hello("ops")).toBe("hello ops from absent.cjs");
  });

  it("with V8's cache of it: accepted, and the module works", () => {
    const file = moduleFile("accepted");
    const cache = cacheOf(file);
    const { exports, trace } = load(file);
    expect(trace).toEqual([`code cache: ${file} accepted (${cache.length} bytes)`]);
    expect(exports.twice(21)).toBe(42);
    expect(new exports.Greeter().hello("dev")).toBe("hello dev from accepted.cjs");
  });

  it("another Node's cache or a damaged file: refused, and the source is compiled as usual", () => {
    const file = moduleFile("damaged");
    writeFileSync(`${file}.cache`, Buffer.from("not a V8 code cache at all"));
    const { exports, trace } = load(file);
    expect(trace).toEqual([`code cache: ${file} rejected (26 bytes)`]);
    expect(new exports.Greeter().hello("prod")).toBe("hello prod from damaged.cjs");
  });

  it("a cache of other source (of another length) is refused, never run: the file's own code is what runs", () => {
    const file = join(dir, "changed.cjs");
    writeFileSync(file, 'module.exports = "old";\n');
    cacheOf(file);
    writeFileSync(file, 'module.exports = "new, and longer than the old source";\n');
    const { exports, trace } = load(file) as unknown as { exports: string; trace: string[] };
    expect(trace[0]).toMatch(/ rejected \(\d+ bytes\)$/);
    expect(exports).toBe("new, and longer than the old source");
  });
});
