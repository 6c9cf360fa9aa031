// `npm run build -w pipelines`: the `slipway` CLI as one ESM bundle with esbuild, split into chunks
// (issue 16). dist/slipway.js holds the dispatcher, the help and the command index; each area's commands
// and each library they use (zod, simple-git, semver, @kubernetes/client-node, @azure/*, dockerfile-ast)
// sit in chunks that Node reads only when a command's dynamic import() reaches them, so `slipway --help`
// parses about 90 KB instead of everything. Measured against one single file holding all of it (lazy
// only in evaluation, esbuild's __esm wrappers): the single file was slower for every command (`--help`
// 463 ms vs 155 ms, `plan --source . --json` 1255 ms vs 574 ms, node -e 0 at 118-241 ms), since Node
// still reads and pre-parses the whole 9 MB; see the note of issue 16 for the figures.
// The bundle holds every runtime dependency: the installed package and the toolkit image need no
// node_modules. `tsc` (npm run typecheck) stays the type checker; esbuild only strips types.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Script } from "node:vm";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
// `--outdir DIR`: a bundle elsewhere (test/pipelines/cli/bundle.test.ts builds its own); dist by default.
const at = process.argv.indexOf("--outdir");
const dist = at === -1 ? join(root, "dist") : resolve(process.argv[at + 1] ?? "");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));

// Built beside dist and swapped in by two renames: a CLI process started from the old dist (tests run
// many, `npm pack` rebuilds) never sees a half-written bundle, and nothing of an earlier build (tsc's
// per-file output, older chunks) stays beside the new one.
// Under node_modules (same file system, so renames work; ignored by eslint, which `npm run verify` runs
// beside the build), never beside dist where a linter or a glob would find half a bundle.
const staging = join(root, "node_modules", ".cache", "slipway-build");
mkdirSync(staging, { recursive: true });
const next = join(staging, `next-${process.pid}`);
const old = join(staging, `old-${process.pid}`);
/**
 * zod's `z` namespace re-exports every message locale (`z.locales`: 48 of them, 290 KB of the 568 KB zod
 * takes in the bundle), and a namespace object cannot be tree-shaken. Slipway's messages are English, the
 * locale zod configures by itself (zod/v4/classic/external.js calls `config(en())`; it and zod/v4/core/index.js re-export the barrel), and nothing here calls
 * `z.config(z.locales.X())`; so the locales barrel resolves to English alone. Every command that reads
 * slipway.yaml loads zod: this is parse time saved at each of their starts (issue 16).
 */
const zodWithoutLocales = {
  name: "zod-without-locales",
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]v4[\\/](?:classic[\\/]external|core[\\/]index)\.js$/.test(args.importer) ? { path: join(dirname(args.importer), "..", "locales", "index.js"), namespace: "slipway-zod-locales" } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "slipway-zod-locales" }, (args) => ({ contents: 'export { default as en } from "./en.js";', resolveDir: dirname(args.path) }));
  },
};
/**
 * Libraries parsed again at every start of the commands that use them, built apart as CommonJS files
 * (chunks/NAME.cjs) with a V8 code cache beside each (NAME.cjs.cache, made below by running the file once and
 * using the library as a command starts to): the Kubernetes client (2.5 MB, most of it generated API classes,
 * about 70 ms of every `rollout verify` start) and zod (its schemas are built by every command that reads
 * slipway.yaml, a ledger or a report: ~35 ms of theirs). The package, as our sources import it, resolves to a
 * module that loads that file through src/cli/code-cache.ts. `exports` are the names our sources import as
 * values (types are erased); a name missing there fails this build ("No matching export").
 */
const CACHED = [
  {
    name: "kube",
    package: "@kubernetes/client-node",
    exports: ["AppsV1Api", "CoreV1Api", "CustomObjectsApi", "KubeConfig", "ListWatch", "PatchStrategy", "Watch", "setHeaderOptions"],
    warm({ KubeConfig, AppsV1Api, CoreV1Api, CustomObjectsApi, Watch }) {
      const kc = new KubeConfig();
      kc.loadFromString(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\n",
      );
      for (const api of [AppsV1Api, CoreV1Api, CustomObjectsApi]) kc.makeApiClient(api);
      new Watch(kc);
    },
  },
  {
    name: "zod",
    package: "zod",
    exports: ["z"],
    // The kinds of schema slipway.yaml's, the ledger's and the reports' are made of, a parse that passes, one
    // that fails (the issues our errors list) and a JSON Schema (`config schema`).
    warm({ z }) {
      const Fields = z
        .object({
          name: z.string().min(1).regex(/^[a-z][a-z0-9-]*$/, "a name"),
          count: z.number().int().min(0).max(100).default(1),
          kind: z.enum(["a", "b"]).optional(),
          tags: z.array(z.string()).max(10).optional(),
          when: z.union([z.literal("always"), z.object({ after: z.string() }).strict()]).optional(),
          map: z.record(z.string(), z.boolean()).optional(),
        })
        .strict();
      const Entry = Fields.superRefine((value, ctx) => {
        if (value.count === 99) ctx.addIssue({ code: "custom", message: "not 99" });
      });
      const File = z.object({ version: z.literal(1), entries: z.array(Entry).default([]), extra: Fields.extend({ more: z.string().nullable() }).partial().optional() }).strict();
      File.safeParse({ version: 1, entries: [{ name: "api", count: 2, kind: "a", tags: ["x"], when: { after: "y" }, map: { k: true } }] });
      File.safeParse({ version: 2, entries: [{ name: "Bad", count: -1, unknown: 1 }] });
      z.toJSONSchema(File, { io: "input" });
    },
  },
];
const cachedLibraries = {
  name: "libraries-with-code-cache",
  setup(b) {
    const byPackage = new Map(CACHED.map((c) => [c.package, c]));
    const filter = new RegExp(`^(?:${CACHED.map((c) => c.package.replace(/[/.]/g, "\\$&")).join("|")})$`);
    b.onResolve({ filter }, (args) => (args.importer.startsWith(join(root, "src")) ? { path: byPackage.get(args.path).name, namespace: "slipway-cached" } : undefined));
    b.onLoad({ filter: /.*/, namespace: "slipway-cached" }, (args) => {
      const lib = CACHED.find((c) => c.name === args.path);
      return {
        contents: [
          `import { requireWithCodeCache } from ${JSON.stringify(join(root, "src", "cli", "code-cache.ts"))};`,
          'import { fileURLToPath } from "node:url";',
          // Chunks sit in chunks/ beside the file; the entry (dist/slipway.js) holds no library today.
          `const at = new URL(import.meta.url.includes("/chunks/") ? "./${lib.name}.cjs" : "./chunks/${lib.name}.cjs", import.meta.url);`,
          `export const { ${lib.exports.join(", ")} } = requireWithCodeCache(fileURLToPath(at));`,
        ].join("\n"),
        resolveDir: root,
        loader: "js",
      };
    });
  },
};
/** What both builds (the ESM bundle and kube.cjs) share. */
const common = {
  // Paths in the metafile relative to pipelines/ (src/..., ../node_modules/...), whatever the caller's cwd.
  absWorkingDir: root,
  bundle: true,
  platform: "node",
  // engines.node in package.json.
  target: "node20.19",
  // Whitespace and syntax only: identifiers keep their names, so an unexpected error's stack still
  // says which function failed.
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: "linked",
  metafile: true,
  logLevel: "warning",
};
const result = await build({
  ...common,
  entryPoints: { slipway: join(root, "src", "cli", "main.ts") },
  // --outdir: written in place (a fresh folder of the caller's, perhaps on another file system).
  outdir: at === -1 ? next : dist,
  chunkNames: "chunks/[name]-[hash]",
  splitting: true,
  format: "esm",
  plugins: [zodWithoutLocales, cachedLibraries],
  // The version `slipway --version` prints, fixed at build time: the bundle has no package.json at a
  // known distance (it is installed under node_modules/@slipway/cli/dist, or in /opt/slipway).
  define: { SLIPWAY_BUILD_VERSION: JSON.stringify(pkg.version) },
  // CommonJS dependencies (simple-git, @azure/*, ...) call require() for Node's built-ins; an ESM
  // bundle has no `require`, so each chunk gets one (esbuild's documented fix for "Dynamic require of
  // X is not supported", https://github.com/evanw/esbuild/issues/1921). __dirname and __filename too,
  // for the few packages that read them at load (`open`, loaded only by an interactive Azure login).
  banner: {
    js: [
      // One require for every chunk (they sit in two folders of one package and require only built-ins and
      // bundled code), made by the first chunk that loads: a command loads 10-20 chunks.
      'import { createRequire as __slipwayCreateRequire } from "node:module";',
      "const require = (globalThis.__slipwayRequire ??= __slipwayCreateRequire(import.meta.url));",
      // Node >= 20.11 (engines says 20.19) gives both without parsing the URL in every chunk.
      "const __filename = import.meta.filename;",
      "const __dirname = import.meta.dirname;",
    ].join(" "),
  },
});
const written = at === -1 ? next : dist;
// What each output holds, for the start-up test (test/pipelines/cli/bundle.test.ts) and for a look at sizes.
for (const lib of CACHED) {
  const file = join(written, "chunks", `${lib.name}.cjs`);
  const built = await build({
    ...common,
    stdin: { contents: `export { ${lib.exports.join(", ")} } from "${lib.package}";`, resolveDir: root, sourcefile: `${lib.name}-client.js`, loader: "js" },
    outfile: file,
    format: "cjs",
    plugins: [zodWithoutLocales],
  });
  writeCodeCache(file, lib.warm);
  result.metafile.inputs = { ...result.metafile.inputs, ...built.metafile.inputs };
  result.metafile.outputs = { ...result.metafile.outputs, ...built.metafile.outputs };
}
writeFileSync(join(written, "meta.json"), JSON.stringify(result.metafile));
if (at === -1) {
  try {
    renameSync(dist, old);
  } catch (error) {
    if (error.code !== "ENOENT") throw error;
  }
  renameSync(next, dist);
  rmSync(old, { recursive: true, force: true });
}

/**
 * Compiles and runs `file` once in this process as Node would run a CommonJS module, uses the library as the
 * commands do when they start (`warm`), then writes V8's code cache of what was compiled to `file.cache`.
 * The cache holds V8's version and flags: a Node other than the one that built it rejects it, and the file
 * is then compiled as usual (src/cli/code-cache.ts).
 */
function writeCodeCache(file, warm) {
  const source = readFileSync(file, "utf8");
  // The same wrapper and source as src/cli/code-cache.ts, or V8 would reject the cache.
  const script = new Script(`(function (exports, require, module, __filename, __dirname) { ${source}\n})`, { filename: file });
  const module = { exports: {} };
  script.runInThisContext().call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
  warm(module.exports);
  writeFileSync(`${file}.cache`, script.createCachedData());
}
