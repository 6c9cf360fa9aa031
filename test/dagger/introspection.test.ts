// The Dagger surface of the module, checked offline with the SDK's own introspector (DESIGN.md, "How we
// verify"): what it prints is what `dagger functions` / `dagger call <fn> --help` would show.
import { cpSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { Api, RawModule } from "./introspect.js";
import { clientGenDts, functionFlags, introspect, normalize, repoRoot } from "./introspect.js";

const moduleSrc = join(repoRoot, ".dagger/src");
const expected = JSON.parse(readFileSync(join(repoRoot, "test/dagger/api.expected.json"), "utf8")) as Api;

let raw: RawModule;
let api: Api;
let up: string[];

beforeAll(async () => {
  const files = readdirSync(moduleSrc).filter((f) => f.endsWith(".ts"));
  const [scanned, flags] = await Promise.all([introspect(moduleSrc), functionFlags(moduleSrc, files)]);
  raw = scanned;
  api = normalize(raw, flags.cache, flags.checks);
  up = flags.up;
});

describe(".dagger/src (introspected)", () => {
  it("exposes exactly the documented API (test/dagger/api.expected.json)", () => {
    expect(api).toEqual(expected);
  });

  it("documents the module, every object, field, function and argument (they become --help)", () => {
    const missing: string[] = [];
    if (!api.description) missing.push("module");
    for (const [objectName, object] of Object.entries(api.objects)) {
      if (!object.description) missing.push(objectName);
      for (const arg of object.constructorArgs ?? []) if (!arg.description) missing.push(`${objectName}(${arg.name})`);
      for (const [name, field] of Object.entries(object.fields)) if (!field.description) missing.push(`${objectName}.${name}`);
      for (const [name, fn] of Object.entries(object.functions)) {
        if (!fn.description) missing.push(`${objectName}.${name}`);
        for (const arg of fn.args) if (!arg.description) missing.push(`${objectName}.${name}(${arg.name})`);
      }
    }
    expect(missing).toEqual([]);
  });

  it("declares no type named like a core Dagger type and no @up() function", () => {
    const core = new Set([...readFileSync(clientGenDts, "utf8").matchAll(/^export declare (?:class|enum) (\w+)/gm)].map((m) => m[1]));
    expect(core.has("Container")).toBe(true); // the list is real
    const own = [...Object.keys(raw.objects), ...Object.keys(raw.enums), ...Object.keys(raw.interfaces)];
    expect(own.filter((name) => core.has(name) || core.has(`${name}_`))).toEqual([]);
    expect(up).toEqual([]);
  });

  it("notices a changed doc string (the comparison can fail)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "slipway-module-"));
    cpSync(moduleSrc, join(dir, "src"), { recursive: true });
    // The copy must resolve @dagger.io/dagger like the original does.
    symlinkSync(join(repoRoot, "node_modules"), join(dir, "node_modules"), "dir");
    const index = join(dir, "src/index.ts");
    const source = readFileSync(index, "utf8");
    const original = "Git ref to compute the affected services against";
    expect(source).toContain(original);
    writeFileSync(index, source.replace(original, "Ref to diff against"));
    const changed = normalize(await introspect(join(dir, "src")));
    const ci = changed.objects.Slipway?.functions.ci;
    expect(ci?.args.find((a) => a.name === "base")?.description).toMatch(/^Ref to diff against/);
    expect(changed).not.toEqual(normalize(raw));
  });
});
