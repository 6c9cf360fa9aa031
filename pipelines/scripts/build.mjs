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
 * The Kubernetes client, 2.5 MB once bundled (its generated API classes), is parsed again at every start of
 * `rollout verify`. So it is built apart, as the CommonJS file chunks/kube.cjs, with a V8 code cache beside
 * it (chunks/kube.cjs.cache, made below by running it once), and `@kubernetes/client-node` as our sources
 * import it resolves to a module that loads that file through src/cli/code-cache.ts. These are the names our
 * sources import as values (types are erased); a name missing here fails this build ("No matching export").
 */
const KUBE_EXPORTS = ["AppsV1Api", "CoreV1Api", "CustomObjectsApi", "KubeConfig", "ListWatch", "PatchStrategy", "Watch", "setHeaderOptions"];
const kubeClientWithCodeCache = {
  name: "kube-client-with-code-cache",
  setup(b) {
    b.onResolve({ filter: /^@kubernetes\/client-node$/ }, (args) => (args.importer.startsWith(join(root, "src")) ? { path: "kube-client", namespace: "slipway-kube" } : undefined));
    b.onLoad({ filter: /.*/, namespace: "slipway-kube" }, () => ({
      contents: [
        `import { requireWithCodeCache } from ${JSON.stringify(join(root, "src", "cli", "code-cache.ts"))};`,
        'import { fileURLToPath } from "node:url";',
        // This module is only reached from chunks (rollout's commands load it when they run), so beside them.
        'const kube = requireWithCodeCache(fileURLToPath(new URL("./kube.cjs", import.meta.url)));',
        `export const { ${KUBE_EXPORTS.join(", ")} } = kube;`,
      ].join("\n"),
      resolveDir: root,
      loader: "js",
    }));
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
  plugins: [zodWithoutLocales, kubeClientWithCodeCache],
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
const kube = await build({
  ...common,
  stdin: { contents: `export { ${KUBE_EXPORTS.join(", ")} } from "@kubernetes/client-node";`, resolveDir: root, sourcefile: "kube-client.js", loader: "js" },
  outfile: join(written, "chunks", "kube.cjs"),
  format: "cjs",
});
writeCodeCache(join(written, "chunks", "kube.cjs"));
// What each output holds, for the start-up test (test/pipelines/cli/bundle.test.ts) and for a look at sizes.
result.metafile.inputs = { ...result.metafile.inputs, ...kube.metafile.inputs };
result.metafile.outputs = { ...result.metafile.outputs, ...kube.metafile.outputs };
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
 * Compiles and runs `file` once in this process as Node would run a CommonJS module, uses the Kubernetes
 * client the way `rollout verify` starts (a kubeconfig read, the three API clients made), then writes V8's
 * code cache of what was compiled to `file.cache`. The cache holds V8's version and flags: a Node other than
 * the one that built it rejects it, and the file is then compiled as usual (src/cli/code-cache.ts).
 */
function writeCodeCache(file) {
  const source = readFileSync(file, "utf8");
  // The same wrapper and source as src/cli/code-cache.ts, or V8 would reject the cache.
  const script = new Script(`(function (exports, require, module, __filename, __dirname) { ${source}\n})`, { filename: file });
  const module = { exports: {} };
  script.runInThisContext().call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
  const { KubeConfig, AppsV1Api, CoreV1Api, CustomObjectsApi, Watch } = module.exports;
  const kc = new KubeConfig();
  kc.loadFromString(
    "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\n",
  );
  for (const api of [AppsV1Api, CoreV1Api, CustomObjectsApi]) kc.makeApiClient(api);
  new Watch(kc);
  writeFileSync(`${file}.cache`, script.createCachedData());
}
