// Runs the Dagger TypeScript SDK's own introspector offline and reduces its output to the documented API
// (test/dagger/api.expected.json). This is what the engine runs when it loads the module, minus the
// registration call: with DRY_RUN set, introspection_entrypoint.js prints the scanned module as JSON
// and exits before connecting to an engine (node_modules/@dagger.io/dagger/dist/src/module/entrypoint/
// introspection_entrypoint.js). Its arguments: <moduleName> <userSourceCodeDir> <typescriptClientFile>;
// the client file must be named client.gen.ts, the name the scanner looks for to tell core types
// (Container, Directory, ...) from the module's own (introspector/typescript_module/ast.js CLIENT_GEN_FILE).
import { execFile } from "node:child_process";
import { copyFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

export const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
export const sdkRoot = join(repoRoot, "node_modules/@dagger.io/dagger");
export const clientGenDts = join(sdkRoot, "dist/src/api/client.gen.d.ts");
const entrypoint = join(sdkRoot, "dist/src/module/entrypoint/introspection_entrypoint.js");

const run = promisify(execFile);

/** A copy of the SDK's generated client declarations, named as the scanner expects. */
export function clientGenCopy(): string {
  const file = join(mkdtempSync(join(tmpdir(), "slipway-client-gen-")), "client.gen.ts");
  copyFileSync(clientGenDts, file);
  return file;
}

/** The introspector's JSON for the module whose sources are in `srcDir` (e.g. .dagger/src). */
export async function introspect(srcDir: string, moduleName = "slipway"): Promise<RawModule> {
  const { stdout } = await run(process.execPath, [entrypoint, moduleName, srcDir, clientGenCopy()], {
    cwd: repoRoot,
    env: { ...process.env, DRY_RUN: "1" },
    maxBuffer: 16 * 1024 * 1024,
  });
  try {
    return JSON.parse(stdout) as RawModule;
  } catch {
    throw new Error(`the introspector did not print JSON:\n${stdout.slice(0, 2000)}`);
  }
}

// --- The introspector's output (DaggerModule.toJSON and friends), only what we read ---
export type RawTypeDef = { kind: string; name?: string; typeDef?: RawTypeDef };
export type RawArgument = {
  name: string;
  description?: string;
  deprecated?: string;
  type: RawTypeDef;
  isVariadic: boolean;
  isNullable: boolean;
  isOptional: boolean;
  defaultValue?: unknown;
  defaultPath?: string;
  defaultAddress?: string;
  ignore?: string[];
};
export type RawFunction = {
  name: string;
  description?: string;
  deprecated?: string;
  alias?: string;
  arguments: Record<string, RawArgument>;
  returnType: RawTypeDef;
};
export type RawProperty = {
  name: string;
  description?: string;
  deprecated?: string;
  alias?: string;
  type: RawTypeDef;
  isExposed: boolean;
};
export type RawObject = {
  name: string;
  description?: string;
  deprecated?: string;
  constructor?: { arguments: Record<string, RawArgument> };
  methods: Record<string, RawFunction>;
  properties: Record<string, RawProperty>;
};
export type RawModule = {
  name: string;
  description?: string;
  objects: Record<string, RawObject>;
  enums: Record<string, { name: string; description?: string; values: Record<string, unknown> }>;
  interfaces: Record<string, unknown>;
};

// --- The documented shape ---
export type ApiArgument = {
  name: string;
  type: string;
  description: string;
  default?: unknown;
  defaultPath?: string;
  ignore?: string[];
  deprecated?: string;
};
export type ApiFunction = {
  description: string;
  returns: string;
  cache?: string;
  /** True for a `@check()` function (run by `dagger check`). */
  check?: boolean;
  args: ApiArgument[];
  deprecated?: string;
};
export type ApiField = { type: string; description: string };
export type ApiObject = {
  description: string;
  /** Arguments of the object's constructor (only the main object has one). Not "constructor": every JS object has that key. */
  constructorArgs?: ApiArgument[];
  fields: Record<string, ApiField>;
  functions: Record<string, ApiFunction>;
};
export type Api = {
  module: string;
  description: string;
  objects: Record<string, ApiObject>;
  enums: Record<string, unknown>;
  interfaces: Record<string, unknown>;
};

const SCALARS: Record<string, string> = {
  STRING_KIND: "String",
  INTEGER_KIND: "Int",
  FLOAT_KIND: "Float",
  BOOLEAN_KIND: "Boolean",
  VOID_KIND: "Void",
};

/** A type as GraphQL (and `dagger functions`) prints it, without the outer `!`. */
function typeName(t: RawTypeDef): string {
  if (t.kind === "LIST_KIND") {
    if (!t.typeDef) throw new Error("list type without element type");
    return `[${typeName(t.typeDef)}!]`;
  }
  const scalar = SCALARS[t.kind];
  if (scalar) return scalar;
  if (!t.name) throw new Error(`type of kind ${t.kind} without a name`);
  return t.name;
}

/** One paragraph per doc string: line wrapping in the source is not part of the API. */
function text(description: string | undefined): string {
  return (description ?? "").replace(/\s*\n\s*/g, " ").trim();
}

function argument(a: RawArgument): ApiArgument {
  const optional = a.isOptional || a.isNullable;
  return {
    name: a.name,
    type: `${a.isVariadic ? "..." : ""}${typeName(a.type)}${optional ? "" : "!"}`,
    description: text(a.description),
    ...(a.defaultValue !== undefined ? { default: a.defaultValue } : {}),
    ...(a.defaultPath !== undefined ? { defaultPath: a.defaultPath } : {}),
    ...(a.ignore !== undefined ? { ignore: a.ignore } : {}),
    ...(a.deprecated !== undefined ? { deprecated: a.deprecated } : {}),
  };
}

function sorted<T>(entries: Array<[string, T]>): Record<string, T> {
  return Object.fromEntries([...entries].sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * The API as users see it: objects, their exposed fields, functions (name, doc, return type, cache
 * policy) and arguments in declaration order (type with `!` when required, doc, default, defaultPath,
 * ignore). Private state (fields without @func) is not API and is left out. Objects, fields and
 * functions are sorted by name so the shape does not depend on declaration order.
 */
export function normalize(raw: RawModule, cache: Record<string, string> = {}, checks: string[] = []): Api {
  return {
    module: raw.name,
    description: text(raw.description),
    objects: sorted(
      Object.values(raw.objects).map((o): [string, ApiObject] => [
        o.name,
        {
          description: text(o.description),
          // `constructor` is an own key only when the class declares one (toJSON drops undefined).
          ...(Object.hasOwn(o, "constructor") && o.constructor
            ? { constructorArgs: Object.values(o.constructor.arguments).map(argument) }
            : {}),
          fields: sorted(
            Object.values(o.properties)
              .filter((p) => p.isExposed)
              .map((p): [string, ApiField] => [p.alias ?? p.name, { type: `${typeName(p.type)}!`, description: text(p.description) }]),
          ),
          functions: sorted(
            Object.values(o.methods).map((f): [string, ApiFunction] => {
              const policy = cache[`${o.name}.${f.alias ?? f.name}`];
              return [
                f.alias ?? f.name,
                {
                  description: text(f.description),
                  returns: `${typeName(f.returnType)}!`,
                  ...(policy !== undefined ? { cache: policy } : {}),
                  ...(checks.includes(`${o.name}.${f.alias ?? f.name}`) ? { check: true } : {}),
                  args: Object.values(f.arguments).map(argument),
                  ...(f.deprecated !== undefined ? { deprecated: f.deprecated } : {}),
                },
              ];
            }),
          ),
        },
      ]),
    ),
    enums: sorted(Object.entries(raw.enums)),
    interfaces: sorted(Object.entries(raw.interfaces)),
  };
}

type ScannedModule = {
  objects: Record<
    string,
    { name: string; methods: Record<string, { name: string; alias?: string; cache?: string; isUp: boolean; isCheck?: boolean }> }
  >;
};

/**
 * Per function `Object.function`: the `@func({ cache })` policy and whether it is an `@up()` or a
 * `@check()`. The DRY_RUN JSON leaves these out (DaggerFunction.toJSON), so they come from the same
 * scanner, in process.
 */
export async function functionFlags(
  srcDir: string,
  files: string[],
): Promise<{ cache: Record<string, string>; up: string[]; checks: string[] }> {
  const scanner = (await import(join(sdkRoot, "dist/src/module/introspector/index.js"))) as {
    scan: (files: string[], moduleName: string, loadModule: boolean) => Promise<ScannedModule>;
  };
  const module = await scanner.scan([...files.map((f) => join(srcDir, f)), clientGenCopy()], "slipway", false);
  const cache: Record<string, string> = {};
  const up: string[] = [];
  const checks: string[] = [];
  for (const object of Object.values(module.objects)) {
    for (const fn of Object.values(object.methods ?? {})) {
      const key = `${object.name}.${fn.alias ?? fn.name}`;
      if (fn.cache !== undefined) cache[key] = fn.cache;
      if (fn.isUp) up.push(key);
      if (fn.isCheck) checks.push(key);
    }
  }
  return { cache, up, checks };
}
