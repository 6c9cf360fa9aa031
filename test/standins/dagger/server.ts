// A stand-in for a Dagger 0.21 engine session: the GraphQL API the SDK talks to (schema.ts), served over
// HTTP with the session token as basic-auth user (SDK common/graphql/client.js), and backed by a real
// Docker engine (test/images/engine.ts). The SDK finds it through DAGGER_SESSION_PORT and
// DAGGER_SESSION_TOKEN, exactly as module code finds a real session (common/graphql/connect.js).
//
// Model: every object is immutable and named by the digest of the call that made it (parent id, field,
// arguments), like the engine's call IDs, so the same chain sent again (the SDK re-sends whole chains)
// names the same object and is evaluated once. A Directory or File is a host temp dir; a Container is a
// Docker image plus the state the engine keeps beside it (env, secrets, mounts, user, workdir, labels);
// `withExec` is a `docker create/start` of that image and a `docker commit`. What this does NOT reproduce
// is listed in README.md.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { spawn } from "node:child_process";
import { createReadStream, existsSync } from "node:fs";
import { appendFile, chmod, chown, cp, lstat, mkdir, mkdtemp, readFile, readdir, realpath, rm, stat, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, normalize, posix, relative, sep } from "node:path";
import { buildSchema, graphql, GraphQLError } from "graphql";
import picomatch from "picomatch";
import type { DockerEngine } from "../../images/engine.js";
import { findExecutable } from "../../images/exec.js";
import { SDL } from "./schema.js";

/** Exec output kept in an ExecError: the last 100 KiB (core/container_exec.go, maxExecErrorOutputBytes). */
export const EXEC_ERROR_OUTPUT_BYTES = 100 * 1024;
/** What the engine writes in place of a secret value in exec output (core/container_exec.go, secret scrubbing). */
export const SCRUBBED = "***";

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type Args = Record<string, unknown>;

export interface DaggerStandin {
  /** DAGGER_SESSION_PORT and DAGGER_SESSION_TOKEN, for process.env before the SDK connects. */
  env: { DAGGER_SESSION_PORT: string; DAGGER_SESSION_TOKEN: string };
  /** Every GraphQL document received, for tests that assert what the SDK sent. */
  queries: string[];
  /** Every secret plaintext the session knows (tests check none leaked). */
  secrets(): string[];
  stop(): Promise<void>;
}

export interface StandinOptions {
  engine: DockerEngine;
  /** Timeout of one docker command (a build or an exec), ms. */
  commandTimeoutMs?: number;
}

/** Runs docker against the engine; stdin from a file when given. Never a shell: argv only. */
interface Docker {
  run(args: string[], options?: { stdinFile?: string; timeoutMs?: number }): Promise<{ code: number | null; stdout: string; stderr: string }>;
  /** How many docker client processes ran (SLIPWAY_STANDIN_TRACE reports it per session). */
  calls(): number;
}

function dockerOf(engine: DockerEngine, defaultTimeout: number): Docker {
  // The client packaged with the engine (as test/images/engine.ts picks it): a newer client elsewhere on
  // PATH would need the buildx plugin for BuildKit.
  const dockerd = findExecutable("dockerd");
  const beside = dockerd === undefined ? undefined : join(dirname(dirname(dockerd)), "bin", "docker");
  const client = beside !== undefined && existsSync(beside) ? beside : "docker";
  let calls = 0;
  return {
    calls: () => calls,
    run(args, options = {}) {
      calls++;
      return new Promise((resolve) => {
        const child = spawn(client, args, { env: engine.env, stdio: [options.stdinFile ? "pipe" : "ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout?.setEncoding("utf8").on("data", (c: string) => (stdout += c));
        child.stderr?.setEncoding("utf8").on("data", (c: string) => (stderr += c));
        if (options.stdinFile && child.stdin) createReadStream(options.stdinFile).pipe(child.stdin);
        // Bounded in time like every call of ours: a hung container must not hang the suite.
        const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? defaultTimeout);
        child.once("error", (e) => {
          clearTimeout(timer);
          resolve({ code: 127, stdout, stderr: `${stderr}\n${e.message}` });
        });
        child.once("close", (code) => {
          clearTimeout(timer);
          resolve({ code, stdout, stderr });
        });
      });
    },
  };
}

/** The parts of `docker image inspect` .Config we carry. */
interface ImageConfig {
  Env: string[] | null;
  WorkingDir: string;
  User: string;
  Entrypoint: string[] | null;
  Cmd: string[] | null;
  Labels: Record<string, string> | null;
}

interface Mount {
  path: string;
  kind: "directory" | "file" | "cache" | "secret";
  directory?: DirectoryObj;
  file?: FileObj;
  cache?: CacheVolumeObj;
  secret?: SecretObj;
  owner?: string;
  mode?: number;
  readOnly?: boolean;
}

/** A container's evaluated state. */
interface ContainerState {
  image?: string;
  /**
   * The root filesystem after the last exec, not yet committed: most execs are only read (stdout), so the
   * stopped container is committed the first time an operation needs its filesystem (lazy, once).
   */
  commit?: () => Promise<string>;
  /** The stopped container of the last exec (its filesystem), while the session keeps it: read from directly. */
  execContainer?: string;
  /**
   * Content added by withDirectory/withFile/withNewFile on top of `image` and not yet in an image: copied
   * into the next exec's container before it starts, or committed when an operation needs the image.
   */
  pending?: PendingContent[];
  env: Array<[string, string]>;
  secretEnv: Array<[string, SecretObj]>;
  mounts: Mount[];
  workdir: string;
  user: string;
  entrypoint: string[];
  cmd: string[];
  labels: Array<[string, string]>;
  annotations: Array<[string, string]>;
  auth: Array<{ address: string; username: string; secret: SecretObj }>;
  exec?: { args: string[]; exitCode: number; stdout: string; stderr: string };
}

/** One withDirectory/withFile/withNewFile: staged on the host when applied, into the container at `path`. */
interface PendingContent {
  path: string;
  owner?: string;
  stage: (dir: string) => Promise<void>;
}

const EMPTY: ContainerState = { env: [], secretEnv: [], mounts: [], workdir: "/", user: "", entrypoint: [], cmd: [], labels: [], annotations: [], auth: [] };

function set<V>(list: Array<[string, V]>, name: string, value: V): Array<[string, V]> {
  return [...list.filter(([k]) => k !== name), [name, value]];
}

/** Dagger ID of a call: the digest of parent, field and arguments (objects by their own IDs). */
function callId(type: string, parent: string, field: string, args: Args): string {
  const digest = createHash("sha256").update(JSON.stringify([parent, field, args])).digest("hex");
  return `${type}:${digest}`;
}

class Session {
  readonly objects = new Map<string, Obj>();
  readonly secretValues = new Set<string>();
  readonly root: string;
  readonly run = randomBytes(4).toString("hex");
  /**
   * Stopped exec containers: kept (also once committed) until the session stops, so that a file or
   * directory an exec wrote is copied out of its container directly, without a commit.
   */
  readonly execContainers = new Set<string>();
  constructor(
    readonly docker: Docker,
    root: string,
  ) {
    this.root = root;
  }

  /** The object a call names, made once: the same chain sent again is the same object. */
  intern<T extends Obj>(id: string, make: () => T): T {
    const existing = this.objects.get(id);
    if (existing) return existing as T;
    const made = make();
    this.objects.set(id, made);
    return made;
  }

  get<T extends Obj>(id: unknown, type: string): T {
    const obj = typeof id === "string" ? this.objects.get(id) : undefined;
    if (!obj || obj.__typename !== type) throw new Error(`invalid ${type} ID ${JSON.stringify(id)}: not an object of this session`);
    return obj as T;
  }

  async tempDir(prefix: string): Promise<string> {
    return mkdtemp(join(this.root, `${prefix}-`));
  }

  /** Exec output with every secret value the session knows replaced (core/container_exec.go scrubs secrets given to the exec; we scrub all of them). */
  scrub(text: string): string {
    let out = text;
    for (const value of this.secretValues) if (value.length > 0) out = out.split(value).join(SCRUBBED);
    return out;
  }

  async dockerOk(args: string[], options?: { stdinFile?: string; timeoutMs?: number }): Promise<string> {
    const result = await this.docker.run(args, options);
    if (result.code !== 0) throw new Error(this.scrub(`docker ${args[0]} failed (exit ${result.code}): ${result.stderr.trim().slice(-4000)}`));
    return result.stdout;
  }
}

type Obj = ContainerObj | DirectoryObj | FileObj | SecretObj | CacheVolumeObj;

/** Memoized lazy evaluation; a failure is not kept, so asking again retries (the engine does not cache failed execs). */
/**
 * With SLIPWAY_STANDIN_TRACE=<file>, every Container operation the stand-in evaluates appends a line
 * (seconds, field, the first words of its arguments) to the file: where a slow e2e test spends its time.
 */
async function trace<S, T>(field: string, args: Args, make: (state: S) => Promise<T> | T, state: S): Promise<T> {
  const file = process.env.SLIPWAY_STANDIN_TRACE;
  if (!file) return make(state);
  const started = performance.now();
  try {
    return await make(state);
  } finally {
    const what = field === "withExec" ? (args.args as string[]).slice(0, 4).join(" ") : typeof args.path === "string" ? args.path : typeof args.address === "string" ? args.address : "";
    await appendFile(file, `${((performance.now() - started) / 1000).toFixed(1).padStart(7)} s  ${field} ${what.slice(0, 100)}\n`);
  }
}

function lazy<T>(make: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= make().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}

// ---------------------------------------------------------------- paths and filters

/** A path inside a root, refusing anything that leaves it (`..`, absolute tricks). */
function inside(root: string, path: string): string {
  const rel = normalize(posix.join("/", path)).slice(1);
  const full = join(root, rel);
  if (relative(root, full).startsWith("..")) throw new Error(`path ${JSON.stringify(path)} leaves its directory`);
  return full;
}

/** Resolves symlinks of `full` and refuses a target outside `root` (never follow a symlink out). */
async function realInside(root: string, full: string, what: string): Promise<string> {
  const real = await realpath(full).catch(() => {
    throw new Error(`${what}: no such file or directory`);
  });
  const realRoot = await realpath(root);
  if (real !== realRoot && !real.startsWith(realRoot + sep)) throw new Error(`${what}: symlink points outside the directory`);
  return real;
}

/**
 * Include/exclude filters with the engine's pattern semantics (moby/patternmatcher, as used by
 * core/schema/directory.go withDirectory and host.directory): a pattern matches a path or any of its
 * parents; `!pattern` re-includes.
 */
function pathFilter(exclude: string[] = [], include: string[] = []): (rel: string) => boolean {
  const compile = (patterns: string[]) =>
    patterns.map((p) => ({ negate: p.startsWith("!"), match: picomatch(p.replace(/^!/, "").replace(/^\/+|\/+$/g, ""), { dot: true }) }));
  const ex = compile(exclude);
  const inc = compile(include);
  const matches = (rules: ReturnType<typeof compile>, rel: string): boolean => {
    const parts = rel.split("/");
    let hit = false;
    for (const rule of rules) {
      for (let i = 1; i <= parts.length; i++) {
        if (rule.match(parts.slice(0, i).join("/"))) {
          hit = !rule.negate;
          break;
        }
      }
    }
    return hit;
  };
  return (rel) => {
    if (ex.length > 0 && matches(ex, rel)) return false;
    if (inc.length > 0) {
      // A directory on the way to an included path stays (so its children can be tested).
      return matches(inc, rel) || inc.some((r) => !r.negate);
    }
    return true;
  };
}

/** Copies a tree without following symlinks (they are copied as links), keeping what `keep` accepts. */
async function copyTree(from: string, to: string, keep: (rel: string) => boolean = () => true): Promise<void> {
  await mkdir(to, { recursive: true });
  const walk = async (rel: string): Promise<void> => {
    const entries = await readdir(join(from, rel), { withFileTypes: true });
    for (const entry of entries) {
      const childRel = rel ? `${rel}/${entry.name}` : entry.name;
      if (!keep(childRel)) continue;
      const src = join(from, childRel);
      const dst = join(to, childRel);
      if (entry.isDirectory()) {
        await mkdir(dst, { recursive: true });
        await walk(childRel);
      } else {
        await mkdir(dirname(dst), { recursive: true });
        if (entry.isSymbolicLink()) await cp(src, dst, { verbatimSymlinks: true, preserveTimestamps: true });
        else await cp(src, dst, { preserveTimestamps: true, errorOnExist: false, force: true, mode: 0 });
      }
    }
  };
  await walk("");
}

/** uid:gid of an owner spec ("node", "1000", "10001:10001") from the image's /etc/passwd and /etc/group (core/container.go resolveUIDGID). */
function resolveOwner(owner: string, passwd: string, group: string): { uid: number; gid: number } {
  const [user = "", grp] = owner.split(":");
  const users = passwd.split("\n").map((l) => l.split(":"));
  const groups = group.split("\n").map((l) => l.split(":"));
  let uid: number;
  let gid: number;
  if (/^\d+$/.test(user)) {
    uid = Number(user);
    gid = Number(users.find((u) => u[2] === user)?.[3] ?? user);
  } else {
    const found = users.find((u) => u[0] === user);
    if (!found) throw new Error(`owner ${JSON.stringify(owner)}: no user ${user} in the container's /etc/passwd`);
    uid = Number(found[2]);
    gid = Number(found[3]);
  }
  if (grp !== undefined) {
    if (/^\d+$/.test(grp)) gid = Number(grp);
    else {
      const g = groups.find((x) => x[0] === grp);
      if (!g) throw new Error(`owner ${JSON.stringify(owner)}: no group ${grp} in the container's /etc/group`);
      gid = Number(g[2]);
    }
  }
  return { uid, gid };
}

async function chownTree(path: string, uid: number, gid: number): Promise<void> {
  await chown(path, uid, gid).catch(() => undefined);
  const info = await lstat(path);
  if (!info.isDirectory()) return;
  for (const entry of await readdir(path)) {
    const child = join(path, entry);
    const st = await lstat(child);
    if (st.isSymbolicLink()) continue;
    await chownTree(child, uid, gid);
  }
}

// ---------------------------------------------------------------- Directory and File

class DirectoryObj {
  readonly __typename = "Directory";
  readonly path: () => Promise<string>;
  constructor(
    readonly s: Session,
    readonly key: string,
    make: () => Promise<string>,
  ) {
    this.path = lazy(make);
  }
  id(): string {
    return this.key;
  }
  async sync(): Promise<string> {
    await this.path();
    return this.key;
  }
  private derive(field: string, args: Args, make: (src: string, dst: string) => Promise<void>): DirectoryObj {
    const id = callId("Directory", this.key, field, args);
    return this.s.intern(id, () => new DirectoryObj(this.s, id, async () => {
      const dst = await this.s.tempDir("dir");
      await copyTree(await this.path(), dst);
      await make(await this.path(), dst);
      return dst;
    }));
  }
  withNewFile(args: { path: string; contents: string; permissions?: number }): DirectoryObj {
    return this.derive("withNewFile", args, async (_src, dst) => {
      const full = inside(dst, args.path);
      await mkdir(dirname(full), { recursive: true });
      await writeFile(full, args.contents, { mode: args.permissions ?? 0o644 });
      await chmod(full, args.permissions ?? 0o644);
    });
  }
  withDirectory(args: { path: string; source: string; exclude?: string[]; include?: string[]; owner?: string; permissions?: number }): DirectoryObj {
    const source = this.s.get<DirectoryObj>(args.source, "Directory");
    return this.derive("withDirectory", args, async (_src, dst) => {
      await copyTree(await source.path(), inside(dst, args.path), pathFilter(args.exclude, args.include));
    });
  }
  withFile(args: { path: string; source: string; permissions?: number }): DirectoryObj {
    const source = this.s.get<FileObj>(args.source, "File");
    return this.derive("withFile", args, async (_src, dst) => {
      const full = inside(dst, args.path);
      await mkdir(dirname(full), { recursive: true });
      await cp(await source.hostPath(), full);
      if (args.permissions !== undefined) await chmod(full, args.permissions);
    });
  }
  directory(args: { path: string }): DirectoryObj {
    const id = callId("Directory", this.key, "directory", args);
    return this.s.intern(id, () => new DirectoryObj(this.s, id, async () => {
      const root = await this.path();
      const real = await realInside(root, inside(root, args.path), `directory ${args.path}`);
      if (!(await stat(real)).isDirectory()) throw new Error(`path ${args.path} is not a directory`);
      const dst = await this.s.tempDir("dir");
      await copyTree(real, dst);
      return dst;
    }));
  }
  file(args: { path: string }): FileObj {
    const id = callId("File", this.key, "file", args);
    return this.s.intern(id, () => new FileObj(this.s, id, async () => {
      const root = await this.path();
      const real = await realInside(root, inside(root, args.path), `file ${args.path}`);
      if (!(await stat(real)).isFile()) throw new Error(`path ${args.path} is not a file`);
      return real;
    }));
  }
  /** Directory entries, sorted; sub-directories end with "/" (core/directory.go Entries since v0.12). */
  async entries(args: { path?: string }): Promise<string[]> {
    const root = await this.path();
    const dir = await realInside(root, inside(root, args.path ?? "."), `entries ${args.path ?? "."}`);
    const list = await readdir(dir, { withFileTypes: true });
    return list.map((e) => (e.isDirectory() ? `${e.name}/` : e.name)).sort();
  }
  async export(args: { path: string }): Promise<string> {
    await copyTree(await this.path(), args.path);
    return args.path;
  }
  dockerBuild(args: { dockerfile?: string; platform?: string; buildArgs?: Array<{ name: string; value: string }>; target?: string; secrets?: string[] }): ContainerObj {
    const id = callId("Container", this.key, "dockerBuild", args);
    return this.s.intern(id, () => new ContainerObj(this.s, id, async () => trace("dockerBuild", { path: args.dockerfile ?? "Dockerfile" }, () => dockerBuild(this.s, this, args), undefined)));
  }
}

class FileObj {
  readonly __typename = "File";
  readonly hostPath: () => Promise<string>;
  constructor(
    readonly s: Session,
    readonly key: string,
    make: () => Promise<string>,
  ) {
    this.hostPath = lazy(make);
  }
  id(): string {
    return this.key;
  }
  async sync(): Promise<string> {
    await this.hostPath();
    return this.key;
  }
  async contents(args: { offsetLines?: number; limitLines?: number }): Promise<string> {
    const text = await readFile(await this.hostPath(), "utf8");
    if (args.offsetLines === undefined && args.limitLines === undefined) return text;
    const lines = text.split(/(?<=\n)/);
    const start = args.offsetLines ?? 0;
    return lines.slice(start, args.limitLines === undefined ? undefined : start + args.limitLines).join("");
  }
  async export(args: { path: string }): Promise<string> {
    await mkdir(dirname(args.path), { recursive: true });
    await cp(await this.hostPath(), args.path);
    return args.path;
  }
}

class SecretObj {
  readonly __typename = "Secret";
  constructor(
    readonly key: string,
    readonly secretName: string,
    readonly value: string,
  ) {}
  id(): string {
    return this.key;
  }
  name(): string {
    return this.secretName;
  }
  plaintext(): string {
    return this.value;
  }
}

class CacheVolumeObj {
  readonly __typename = "CacheVolume";
  constructor(
    readonly key: string,
    readonly volume: string,
  ) {}
  id(): string {
    return this.key;
  }
}

// ---------------------------------------------------------------- Container

/** The GraphQL error the SDK turns into its ExecError (SDK common/graphql/compute_query.js reads extensions._type == "EXEC_ERROR"). */
function execError(s: Session, args: string[], exitCode: number, stdout: string, stderr: string): GraphQLError {
  const last = (text: string) => {
    const buf = Buffer.from(text);
    return buf.length <= EXEC_ERROR_OUTPUT_BYTES ? text : buf.subarray(buf.length - EXEC_ERROR_OUTPUT_BYTES).toString("utf8");
  };
  // Message as core/container_exec.go formats it (buildkit's ExitError), the command scrubbed too.
  const message = s.scrub(`process "${args.join(" ")}" did not complete successfully: exit code: ${exitCode}`);
  return new GraphQLError(message, {
    extensions: { _type: "EXEC_ERROR", cmd: args.map((a) => s.scrub(a)), exitCode, stdout: last(s.scrub(stdout)), stderr: last(s.scrub(stderr)) },
  });
}

/** ReturnType accepted exit codes (core/container_exec.go): ANY is 0-127 and 192-255, so signals (128-191) still fail. */
function accepted(expect: string | undefined, code: number): boolean {
  if (expect === "ANY") return code <= 127 || code >= 192;
  if (expect === "FAILURE") return code !== 0 && (code <= 127 || code >= 192);
  return code === 0;
}

async function inspectImage(s: Session, ref: string): Promise<{ id: string; config: ImageConfig }> {
  const out = await s.docker.run(["image", "inspect", "--format", "{{json .}}", ref]);
  if (out.code !== 0) throw new Error(`failed to resolve image ${ref}: not in the local engine (nothing can be pulled here): ${out.stderr.trim()}`);
  const image = JSON.parse(out.stdout) as { Id: string; Config: ImageConfig };
  return { id: image.Id, config: image.Config };
}

function stateFromImage(id: string, config: ImageConfig): ContainerState {
  return {
    ...EMPTY,
    image: id,
    env: (config.Env ?? []).map((e) => {
      const at = e.indexOf("=");
      return [e.slice(0, at), e.slice(at + 1)] as [string, string];
    }),
    // Working directory and user come from the image config (core/container.go FromRefString / mergeImageConfig).
    workdir: config.WorkingDir || "/",
    user: config.User ?? "",
    entrypoint: config.Entrypoint ?? [],
    cmd: config.Cmd ?? [],
    labels: Object.entries(config.Labels ?? {}),
  };
}

async function dockerBuild(s: Session, dir: DirectoryObj, args: { dockerfile?: string; buildArgs?: Array<{ name: string; value: string }>; target?: string }): Promise<ContainerState> {
  const root = await dir.path();
  const dockerfile = args.dockerfile ?? "Dockerfile";
  const dockerfilePath = await realInside(root, inside(root, dockerfile), `dockerfile ${dockerfile}`);
  const text = await readFile(dockerfilePath, "utf8");
  // A `# syntax=` frontend other than docker/dockerfile is refused (core/schema/directory.go dockerBuild).
  const syntax = /^#\s*syntax\s*=\s*(\S+)/im.exec(text.split("\n").filter((l) => l.startsWith("#")).join("\n"));
  if (syntax && !/^(docker\.io\/)?docker\/dockerfile(:|@|$)/.test(syntax[1] ?? "")) {
    throw new Error(`unsupported frontend ${syntax[1]}: only docker/dockerfile frontends are supported`);
  }
  // The context is filtered by <dockerfile>.dockerignore, else .dockerignore at its root, and by nothing
  // else (core/schema/directory.go): without one, everything (.git included) is in the context.
  let patterns: string[] = [];
  for (const name of [`${dockerfile}.dockerignore`, ".dockerignore"]) {
    const content = await readFile(inside(root, name), "utf8").catch(() => undefined);
    if (content !== undefined) {
      patterns = content.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
      break;
    }
  }
  const context = await s.tempDir("ctx");
  await copyTree(root, context, pathFilter(patterns));
  // The Dockerfile itself is always sent; the ignore files were applied here, so docker applies none.
  await mkdir(dirname(inside(context, dockerfile)), { recursive: true });
  await cp(dockerfilePath, inside(context, dockerfile));
  await rm(inside(context, ".dockerignore"), { force: true });
  await rm(inside(context, `${dockerfile}.dockerignore`), { force: true });
  const iidFile = join(await s.tempDir("iid"), "iid");
  const build = await s.docker.run(
    [
      "build", "--quiet", "--network", "host", "--iidfile", iidFile, "--file", inside(context, dockerfile),
      ...(args.target ? ["--target", args.target] : []),
      ...(args.buildArgs ?? []).flatMap((a) => ["--build-arg", `${a.name}=${a.value}`]),
      context,
    ],
    { timeoutMs: 20 * 60_000 },
  );
  await rm(context, { recursive: true, force: true });
  if (build.code !== 0) throw new Error(s.scrub(`failed to solve: docker build -f ${dockerfile} failed: ${build.stderr.trim().slice(-8000)}`));
  const image = (await readFile(iidFile, "utf8")).trim();
  const { config } = await inspectImage(s, image);
  return stateFromImage(image, config);
}

class ContainerObj {
  readonly __typename = "Container";
  readonly state: () => Promise<ContainerState>;
  constructor(
    readonly s: Session,
    readonly key: string,
    make: () => Promise<ContainerState>,
  ) {
    this.state = lazy(make);
    this.image = lazy(async () => {
      const st = await this.base();
      if (!st.pending?.length) return st;
      return { ...st, image: await materialize(this.s, st.image, st.pending), pending: undefined, execContainer: undefined };
    });
  }
  id(): string {
    return this.key;
  }
  async sync(): Promise<string> {
    await this.state();
    return this.key;
  }
  private derive(field: string, args: Args, make: (state: ContainerState) => Promise<ContainerState> | ContainerState): ContainerObj {
    const id = callId("Container", this.key, field, args);
    return this.s.intern(id, () => new ContainerObj(this.s, id, async () => trace(field, args, make, await this.state())));
  }
  /** The state with its root filesystem as an image (pending content committed into it), made once. */
  private readonly image: () => Promise<ContainerState & { image: string }>;
  private withImage(): Promise<ContainerState & { image: string }> {
    return this.image();
  }
  /** The state with the last exec committed; content added since stays pending (the next exec applies it). */
  private async base(): Promise<ContainerState & { image: string }> {
    const state = await this.state();
    if (state.commit) return { ...state, image: await state.commit(), commit: undefined };
    if (!state.image) throw new Error("container has no root filesystem: call from() first");
    return state as ContainerState & { image: string };
  }

  from(args: { address: string }): ContainerObj {
    return this.derive("from", args, async () => {
      const { id, config } = await inspectImage(this.s, args.address);
      return stateFromImage(id, config);
    });
  }
  withEnvVariable(args: { name: string; value: string; expand?: boolean }): ContainerObj {
    return this.derive("withEnvVariable", args, (st) => {
      const value = args.expand ? args.value.replace(/\$\{?(\w+)\}?/g, (_m, n: string) => st.env.find(([k]) => k === n)?.[1] ?? "") : args.value;
      return { ...st, env: set(st.env, args.name, value) };
    });
  }
  async envVariable(args: { name: string }): Promise<string | null> {
    return (await this.state()).env.find(([k]) => k === args.name)?.[1] ?? null;
  }
  withSecretVariable(args: { name: string; secret: string }): ContainerObj {
    const secret = this.s.get<SecretObj>(args.secret, "Secret");
    return this.derive("withSecretVariable", args, (st) => ({ ...st, secretEnv: set(st.secretEnv, args.name, secret) }));
  }
  private mount(field: string, args: Args & { path: string }, mount: Omit<Mount, "path">): ContainerObj {
    return this.derive(field, args, (st) => ({ ...st, mounts: [...st.mounts.filter((m) => m.path !== posix.normalize(args.path)), { ...mount, path: posix.normalize(args.path) }] }));
  }
  withMountedSecret(args: { path: string; source: string; owner?: string; mode?: number }): ContainerObj {
    const secret = this.s.get<SecretObj>(args.source, "Secret");
    // Secret files default to mode 0400 (core/schema/container.go withMountedSecret).
    return this.mount("withMountedSecret", args, { kind: "secret", secret, mode: args.mode ?? 0o400, ...(args.owner ? { owner: args.owner } : {}) });
  }
  withMountedCache(args: { path: string; cache: string; owner?: string; sharing?: string }): ContainerObj {
    const cache = this.s.get<CacheVolumeObj>(args.cache, "CacheVolume");
    return this.mount("withMountedCache", args, { kind: "cache", cache, ...(args.owner ? { owner: args.owner } : {}) });
  }
  withMountedDirectory(args: { path: string; source: string; owner?: string; readOnly?: boolean }): ContainerObj {
    const directory = this.s.get<DirectoryObj>(args.source, "Directory");
    return this.mount("withMountedDirectory", args, { kind: "directory", directory, ...(args.owner ? { owner: args.owner } : {}), ...(args.readOnly ? { readOnly: true } : {}) });
  }
  withMountedFile(args: { path: string; source: string; owner?: string }): ContainerObj {
    const file = this.s.get<FileObj>(args.source, "File");
    return this.mount("withMountedFile", args, { kind: "file", file, ...(args.owner ? { owner: args.owner } : {}) });
  }
  withWorkdir(args: { path: string }): ContainerObj {
    return this.derive("withWorkdir", args, (st) => ({ ...st, workdir: posix.resolve(st.workdir, args.path) }));
  }
  async workdir(): Promise<string> {
    return (await this.state()).workdir;
  }
  withUser(args: { name: string }): ContainerObj {
    return this.derive("withUser", args, (st) => ({ ...st, user: args.name }));
  }
  async user(): Promise<string> {
    return (await this.state()).user;
  }
  withLabel(args: { name: string; value: string }): ContainerObj {
    return this.derive("withLabel", args, (st) => ({ ...st, labels: set(st.labels, args.name, args.value) }));
  }
  async label(args: { name: string }): Promise<string | null> {
    return (await this.state()).labels.find(([k]) => k === args.name)?.[1] ?? null;
  }
  withAnnotation(args: { name: string; value: string }): ContainerObj {
    return this.derive("withAnnotation", args, (st) => ({ ...st, annotations: set(st.annotations, args.name, args.value) }));
  }
  withRegistryAuth(args: { address: string; username: string; secret: string }): ContainerObj {
    const secret = this.s.get<SecretObj>(args.secret, "Secret");
    return this.derive("withRegistryAuth", args, (st) => ({ ...st, auth: [...st.auth.filter((a) => a.address !== args.address), { address: args.address, username: args.username, secret }] }));
  }

  /**
   * withDirectory/withFile/withNewFile: the content is staged and copied into the container's filesystem
   * when an operation needs it (an exec copies it into its own container before it starts; anything else
   * commits it), not here: a create, copy and commit per file added cost more than most execs.
   */
  private async addContent(path: string, stage: (dir: string) => Promise<void>, owner?: string): Promise<ContainerState> {
    const st = await this.base();
    return { ...st, execContainer: undefined, pending: [...(st.pending ?? []), { path: posix.resolve(st.workdir, path), stage, ...(owner ? { owner } : {}) }] };
  }

  withDirectory(args: { path: string; source: string; exclude?: string[]; include?: string[]; owner?: string; permissions?: number }): ContainerObj {
    const source = this.s.get<DirectoryObj>(args.source, "Directory");
    return this.derive("withDirectory", args, () => this.addContent(args.path, async (dir) => copyTree(await source.path(), dir, pathFilter(args.exclude, args.include)), args.owner));
  }
  withFile(args: { path: string; source: string; permissions?: number; owner?: string }): ContainerObj {
    const source = this.s.get<FileObj>(args.source, "File");
    return this.derive("withFile", args, () => {
      return this.addContent(args.path, async (file) => {
        await cp(await source.hostPath(), file);
        if (args.permissions !== undefined) await chmod(file, args.permissions);
      }, args.owner);
    });
  }
  withNewFile(args: { path: string; contents: string; permissions?: number; owner?: string }): ContainerObj {
    return this.derive("withNewFile", args, () => {
      return this.addContent(args.path, async (file) => {
        await writeFile(file, args.contents);
        await chmod(file, args.permissions ?? 0o644);
      }, args.owner);
    });
  }

  withExec(args: { args: string[]; useEntrypoint?: boolean; expect?: string; redirectStdout?: string; redirectStderr?: string; stdin?: string; expand?: boolean; noInit?: boolean }): ContainerObj {
    return this.derive("withExec", args, async () => runExec(this.s, await this.base(), args));
  }
  private async lastExec(): Promise<NonNullable<ContainerState["exec"]>> {
    const st = await this.state();
    if (!st.exec) throw new Error("no command has been set");
    return st.exec;
  }
  async stdout(): Promise<string> {
    return (await this.lastExec()).stdout;
  }
  async stderr(): Promise<string> {
    return (await this.lastExec()).stderr;
  }
  async exitCode(): Promise<number> {
    return (await this.lastExec()).exitCode;
  }

  /** A path of the container's filesystem (image or mount) copied out to the host. */
  private async copyOut(path: string, kind: "file" | "directory"): Promise<string> {
    const current = await this.state();
    const target = posix.resolve(current.workdir, path);
    const mount = [...current.mounts].reverse().find((m) => target === m.path || target.startsWith(`${m.path}/`));
    const dst = join(await this.s.tempDir("out"), "x");
    if (mount?.kind === "directory" && mount.directory) {
      const root = await mount.directory.path();
      const real = await realInside(root, inside(root, posix.relative(mount.path, target)), `${kind} ${path}`);
      await (kind === "directory" ? copyTree(real, dst) : cp(real, dst));
      return dst;
    }
    const copied = async (container: string): Promise<string> => {
      const out = await this.s.docker.run(["cp", `${container}:${target}`, dst]);
      if (out.code !== 0) throw new Error(`${kind} ${path}: no such ${kind} in the container`);
      const info = await lstat(dst);
      if (kind === "file" && !info.isFile()) throw new Error(`${kind} ${path}: not a file`);
      if (kind === "directory" && !info.isDirectory()) throw new Error(`${kind} ${path}: not a directory`);
      return dst;
    };
    // Straight out of the last exec's stopped container when nothing was added since and no mount covers
    // the path (docker cp would read a mount where the image has none).
    if (current.execContainer && !current.pending?.length && !current.mounts.some((m) => m.path === target || m.path.startsWith(`${target}/`) || target.startsWith(`${m.path}/`))) {
      return copied(current.execContainer);
    }
    const st = await this.withImage();
    const name = `standin-${this.s.run}-${randomBytes(6).toString("hex")}`;
    await this.s.dockerOk(["create", "--name", name, "--entrypoint", "/", st.image]);
    try {
      return await copied(name);
    } finally {
      await this.s.docker.run(["rm", "--force", name]);
    }
  }
  file(args: { path: string }): FileObj {
    const id = callId("File", this.key, "file", args);
    return this.s.intern(id, () => new FileObj(this.s, id, () => this.copyOut(args.path, "file")));
  }
  directory(args: { path: string }): DirectoryObj {
    const id = callId("Directory", this.key, "directory", args);
    return this.s.intern(id, () => new DirectoryObj(this.s, id, () => this.copyOut(args.path, "directory")));
  }

  /** The image as a user of it sees it: this container's filesystem with its config, labels, env (secrets never). */
  async finalImage(tag: string): Promise<void> {
    const st = await this.withImage();
    const name = `standin-${this.s.run}-${randomBytes(6).toString("hex")}`;
    const root = await this.s.tempDir("img");
    try {
      // export + import: a fresh config with exactly our state (docker commit would keep the run's secret env).
      await this.s.dockerOk(["create", "--name", name, "--entrypoint", "/", st.image]);
      const tarFile = join(root, "fs.tar");
      await this.s.dockerOk(["export", "--output", tarFile, name]);
      const changes = [
        ...st.env.map(([k, v]) => `ENV ${k}=${JSON.stringify(v)}`),
        `WORKDIR ${st.workdir}`,
        ...(st.user ? [`USER ${st.user}`] : []),
        ...(st.entrypoint.length ? [`ENTRYPOINT ${JSON.stringify(st.entrypoint)}`] : []),
        ...(st.cmd.length ? [`CMD ${JSON.stringify(st.cmd)}`] : []),
        ...st.labels.map(([k, v]) => `LABEL ${JSON.stringify(k)}=${JSON.stringify(v)}`),
      ];
      await this.s.dockerOk(["import", ...changes.flatMap((c) => ["--change", c]), tarFile, tag]);
    } finally {
      await this.s.docker.run(["rm", "--force", name]);
      await rm(root, { recursive: true, force: true });
    }
  }

  asTarball(args: Args): FileObj {
    const id = callId("File", this.key, "asTarball", args);
    return this.s.intern(id, () => new FileObj(this.s, id, async () => {
      const tag = `standin-tarball-${this.s.run}:${id.slice(-12)}`;
      await this.finalImage(tag);
      const out = join(await this.s.tempDir("tar"), "image.tar");
      await this.s.dockerOk(["save", "--output", out, tag]);
      return out;
    }));
  }

  async publish(args: { address: string }): Promise<string> {
    const st = await this.withImage();
    const tag = args.address;
    await this.finalImage(tag);
    const config = await this.s.tempDir("docker-config");
    const host = tag.split("/")[0] ?? "";
    const auths: Record<string, { auth: string }> = {};
    for (const a of st.auth) auths[a.address] = { auth: Buffer.from(`${a.username}:${a.secret.value}`).toString("base64") };
    await writeFile(join(config, "config.json"), JSON.stringify({ auths }), { mode: 0o600 });
    try {
      const pushed = await this.s.docker.run(["--config", config, "push", tag], { timeoutMs: 5 * 60_000 });
      if (pushed.code !== 0) throw new Error(this.s.scrub(`failed to publish ${tag} to ${host}: ${pushed.stderr.trim().slice(-2000)}`));
      const digest = /digest: (sha256:[0-9a-f]{64})/.exec(pushed.stdout)?.[1];
      if (!digest) throw new Error(`failed to publish ${tag}: no digest in the push output`);
      // Like the engine: the reference with the pushed manifest's digest (core/container.go Publish).
      return `${tag.replace(/@.*$/, "")}@${digest}`;
    } finally {
      await rm(config, { recursive: true, force: true });
    }
  }
}

async function runTool(argv: string[]): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn(argv[0] as string, argv.slice(1), { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.setEncoding("utf8").on("data", (c: string) => (err += c));
    child.once("error", reject);
    child.once("close", (code) => (code === 0 ? resolve() : reject(new Error(`${argv[0]} failed: ${err.trim()}`))));
  });
}

/** uid/gid of an owner inside a created container (its /etc/passwd and /etc/group). */
async function ownerIn(s: Session, container: string, owner: string): Promise<{ uid: number; gid: number }> {
  if (/^\d+(:\d+)?$/.test(owner)) {
    const [u, g] = owner.split(":");
    if (g !== undefined) return { uid: Number(u), gid: Number(g) };
  }
  const dir = await s.tempDir("passwd");
  try {
    const read = async (file: string) => {
      const out = await s.docker.run(["cp", `${container}:${file}`, join(dir, posix.basename(file))]);
      return out.code === 0 ? readFile(join(dir, posix.basename(file)), "utf8") : "";
    };
    return resolveOwner(owner, await read("/etc/passwd"), await read("/etc/group"));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Copies pending content (withDirectory/withFile/withNewFile, in order) into a created container: each
 * staged on the host, owned as asked (the owner looked up in the container's /etc/passwd and /etc/group,
 * as the engine does), and copied as a tar of its leaf.
 */
async function applyPending(s: Session, container: string, pending: PendingContent[]): Promise<void> {
  for (const item of pending) {
    const root = await s.tempDir("add");
    try {
      const staged = join(root, "fs", item.path);
      await mkdir(dirname(staged), { recursive: true });
      await item.stage(staged);
      if (item.owner) {
        const { uid, gid } = await ownerIn(s, container, item.owner);
        await chownTree(staged, uid, gid);
      }
      const tarFile = join(root, "content.tar");
      // Only the new content's leaf: parents that already exist in the image keep their owner and mode.
      await runTool(["tar", "--numeric-owner", "-C", join(root, "fs"), "-cf", tarFile, relative(join(root, "fs"), staged)]);
      // No `-a`: with it dockerd chowns everything to the image's configured USER (moby daemon
      // tarCopyOptions), and fails on a numeric "10001:10001" it cannot look up; without it the tar's
      // numeric owners, set above, stay.
      await s.dockerOk(["cp", "-", `${container}:/`], { stdinFile: tarFile });
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  }
}

/** An image of `image` with the pending content in it (for operations other than an exec). */
async function materialize(s: Session, image: string, pending: PendingContent[]): Promise<string> {
  const name = `standin-${s.run}-${randomBytes(6).toString("hex")}`;
  await s.dockerOk(["create", "--name", name, "--entrypoint", "/", image]);
  try {
    await applyPending(s, name, pending);
    return (await s.dockerOk(["commit", name])).trim();
  } finally {
    await s.docker.run(["rm", "--force", name]);
  }
}

/**
 * One exec: `docker create` of the current image with the container's env and secrets (and nothing of
 * this process's environment), its mounts, user and working directory, then start, wait, commit.
 */
async function runExec(
  s: Session,
  st: ContainerState & { image: string },
  args: { args: string[]; useEntrypoint?: boolean; expect?: string; redirectStdout?: string; redirectStderr?: string; stdin?: string; noInit?: boolean },
): Promise<ContainerState> {
  if (args.args.length === 0 && !args.useEntrypoint) throw new Error("withExec: args must not be empty");
  const name = `standin-${s.run}-${randomBytes(6).toString("hex")}`;
  const work = await s.tempDir("exec");
  let kept = false;
  // Only the container's own env plus its secrets (core/container_exec.go): the env file is written
  // here, never argv, so no secret shows in a process list.
  const envFile = join(work, "env");
  try {
    const env = [...st.env, ...st.secretEnv.map(([k, secret]): [string, string] => [k, secret.value])];
    for (const [k, v] of env) if (/[\n\r]/.test(v)) throw new Error(`env ${k}: values with newlines are not supported by the stand-in`);
    await writeFile(envFile, env.map(([k, v]) => `${k}=${v}`).join("\n") + "\n", { mode: 0o600 });

    const probe = `standin-${s.run}-${randomBytes(6).toString("hex")}`;
    const needsOwner = st.mounts.some((m) => m.owner);
    if (needsOwner) await s.dockerOk(["create", "--name", probe, "--entrypoint", "/", st.image]);
    const mountArgs: string[] = [];
    try {
      for (const [i, m] of st.mounts.entries()) {
        const owner = m.owner ? await ownerIn(s, probe, m.owner) : undefined;
        if (m.kind === "directory" && m.directory && m.readOnly && !owner) {
          // Read-only and not re-owned: nothing can change the Directory, so its own tree is bound.
          mountArgs.push("--mount", `type=bind,src=${await m.directory.path()},dst=${m.path},readonly`);
        } else if (m.kind === "directory" && m.directory) {
          // A copy per exec: the engine's Directory is immutable, writes in the mount do not reach it.
          const copy = join(work, `m${i}`);
          // One cp(1) (links kept as links, modes and times kept): a file-by-file copy in this process cost
          // seconds of CPU per exec for a repository's tree.
          // The root keeps the mode a mounted Directory has (0755), not its host folder's (a mkdtemp's 0700).
          await mkdir(copy);
          await runTool(["cp", "-a", "--", `${await m.directory.path()}/.`, copy]);
          await chmod(copy, 0o755);
          if (owner) await chownTree(copy, owner.uid, owner.gid);
          mountArgs.push("--mount", `type=bind,src=${copy},dst=${m.path}${m.readOnly ? ",readonly" : ""}`);
        } else if (m.kind === "file" && m.file) {
          const copy = join(work, `m${i}`);
          await cp(await m.file.hostPath(), copy);
          if (owner) await chown(copy, owner.uid, owner.gid);
          mountArgs.push("--mount", `type=bind,src=${copy},dst=${m.path}`);
        } else if (m.kind === "secret" && m.secret) {
          const copy = join(work, `m${i}`);
          await writeFile(copy, m.secret.value, { mode: m.mode ?? 0o400 });
          await chmod(copy, m.mode ?? 0o400);
          if (owner) await chown(copy, owner.uid, owner.gid);
          mountArgs.push("--mount", `type=bind,src=${copy},dst=${m.path},readonly`);
        } else if (m.kind === "cache" && m.cache) {
          if (owner) {
            // The owner applies when the cache is first made (core/schema/container.go withMountedCache).
            await s.dockerOk(["run", "--rm", "--user", "0", "--entrypoint", "chown", "--mount", `type=volume,src=${m.cache.volume},dst=/cache`, st.image, `${owner.uid}:${owner.gid}`, "/cache"]);
          }
          mountArgs.push("--mount", `type=volume,src=${m.cache.volume},dst=${m.path}`);
        }
      }
    } finally {
      if (needsOwner) await s.docker.run(["rm", "--force", probe]);
    }

    // withExec skips the image ENTRYPOINT unless useEntrypoint (core/container.go, WithExec).
    const argv = args.useEntrypoint ? [...st.entrypoint, ...args.args] : args.args;
    const [command, ...rest] = argv;
    const create = [
      "--name", name, "--network", "host", "--env-file", envFile,
      // The engine runs every exec under its own init unless noInit (core/schema/container.go withExec
      // noInit; dagger-init): the command is not pid 1, so signals and reaping behave as usual.
      ...(args.noInit ? [] : ["--init"]),
      "--workdir", st.workdir, ...(st.user ? ["--user", st.user] : []),
      "--entrypoint", command as string, ...mountArgs, st.image, ...rest,
    ];
    // Content added since the last image goes into this exec's container before it starts; without any,
    // `docker run` creates, starts and waits in one client call. Both exit with the command's code; only
    // a non-zero one is read from the container's state (an OOM kill, or a start that failed in runc).
    let started: Awaited<ReturnType<Docker["run"]>>;
    if (st.pending?.length) {
      await s.dockerOk(["create", ...create]);
      kept = true;
      s.execContainers.add(name);
      await applyPending(s, name, st.pending);
      started = await s.docker.run(["start", "--attach", name]);
    } else {
      started = await s.docker.run(["run", ...create]);
      kept = true;
      s.execContainers.add(name);
    }
    let exitCode = 0;
    if (started.code !== 0) {
      const inspected = await s.docker.run(["inspect", "--format", "{{.State.ExitCode}}|{{.State.OOMKilled}}", name]);
      if (inspected.code !== 0) throw new Error(s.scrub(`docker run failed (exit ${started.code}): ${started.stderr.trim().slice(-4000)}`));
      exitCode = Number(inspected.stdout.trim().split("|")[0]);
      if (inspected.stdout.includes("|true")) exitCode = 137;
    }
    const stdout = s.scrub(started.stdout);
    const stderr = s.scrub(started.stderr);
    if (!accepted(args.expect, exitCode)) throw execError(s, argv, exitCode, started.stdout, started.stderr);
    // redirectStdout/redirectStderr: the raw stream lands in a file of the container (core/container_exec.go).
    for (const [path, text] of [[args.redirectStdout, started.stdout], [args.redirectStderr, started.stderr]] as const) {
      if (!path) continue;
      const file = join(work, "redirect");
      await writeFile(file, text);
      const target = posix.resolve(st.workdir, path);
      await s.dockerOk(["cp", file, `${name}:${target}`]);
    }
    // The stopped container is the new root filesystem; it is committed only when an operation needs it
    // (a chained exec, an export), not for an exec that is only read, and files are copied out of it
    // directly. A speed-up of the stand-in alone (a `docker commit` per exec cost ~0.3 s); the engine's
    // BuildKit snapshots lazily as well. The container stays until the session stops.
    const commit = lazy(async () => (await s.dockerOk(["commit", name])).trim());
    return { ...st, image: undefined, pending: undefined, commit, execContainer: name, exec: { args: argv, exitCode, stdout: args.redirectStdout ? "" : stdout, stderr: args.redirectStderr ? "" : stderr } };
  } finally {
    if (!kept) {
      await s.docker.run(["rm", "--force", name]);
      await rm(work, { recursive: true, force: true });
    } else {
      // The copies the exec had mounted (and the env file) are gone, but the kept container still names
      // them: `docker cp` out of a stopped container mounts its binds again, and fails on a missing
      // source. Empty stand-ins keep that working; secret and env values never outlive the exec.
      await rm(envFile, { force: true });
      for (const [i, m] of st.mounts.entries()) {
        const copy = join(work, `m${i}`);
        if (!existsSync(copy)) continue;
        await rm(copy, { recursive: true, force: true });
        if (m.kind === "directory") await mkdir(copy);
        else await writeFile(copy, "");
      }
    }
  }
}

// ---------------------------------------------------------------- the HTTP server

export async function startDaggerStandin(options: StandinOptions): Promise<DaggerStandin> {
  const root = await mkdtemp(join(tmpdir(), "slipway-dagger-"));
  const s = new Session(dockerOf(options.engine, options.commandTimeoutMs ?? 10 * 60_000), root);
  const schema = buildSchema(SDL);
  const token = randomBytes(24).toString("hex");
  const queries: string[] = [];
  const hostDirs = new Map<string, DirectoryObj>();

  const emptyContainer = () => s.intern(callId("Container", "", "container", {}), () => new ContainerObj(s, callId("Container", "", "container", {}), async () => EMPTY));
  const emptyDirectory = () => {
    const id = callId("Directory", "", "directory", {});
    return s.intern(id, () => new DirectoryObj(s, id, () => s.tempDir("dir")));
  };
  const load = (type: string) => (args: { id: string }) => s.get(args.id, type);
  const rootValue = {
    node: (args: { id: string }) => {
      const obj = s.objects.get(args.id);
      if (!obj) throw new Error(`invalid ID ${JSON.stringify(args.id)}: not an object of this session`);
      return obj;
    },
    container: () => emptyContainer(),
    directory: () => emptyDirectory(),
    cacheVolume: (args: { key: string }) => {
      const id = callId("CacheVolume", "", "cacheVolume", { key: args.key });
      // A named Docker volume per key, shared by every run of this session (core/cache.go keys volumes by name).
      return s.intern(id, () => new CacheVolumeObj(id, `standin-${s.run}-${createHash("sha256").update(args.key).digest("hex").slice(0, 16)}`));
    },
    setSecret: (args: { name: string; plaintext: string }) => {
      s.secretValues.add(args.plaintext);
      // Named by the secret's name and a digest of its value, never the value (core/schema/secret.go setSecret).
      const id = callId("Secret", "", "setSecret", { name: args.name, digest: createHash("sha256").update(`${s.run}\0${args.plaintext}`).digest("hex") });
      return s.intern(id, () => new SecretObj(id, args.name, args.plaintext));
    },
    host: () => {
      const directory = (args: { path: string; exclude?: string[]; include?: string[] }): DirectoryObj => {
        const id = callId("Directory", "", "host.directory", args as unknown as Args);
        // A snapshot taken once per session and call, like the engine's host sync.
        let dir = hostDirs.get(id);
        if (!dir) {
          dir = s.intern(id, () => new DirectoryObj(s, id, async () => {
            const dst = await s.tempDir("host");
            await copyTree(args.path, dst, pathFilter(args.exclude, args.include));
            return dst;
          }));
          hostDirs.set(id, dir);
        }
        return dir;
      };
      return {
        directory,
        // host.file(path) is host.directory(<its folder>, include: [<its name>]).file(<its name>) (core/schema/host.go file).
        file: (args: { path: string }) => directory({ path: posix.dirname(args.path), include: [posix.basename(args.path)] }).file({ path: posix.basename(args.path) }),
      };
    },
    loadContainerFromID: load("Container"),
    loadDirectoryFromID: load("Directory"),
    loadFileFromID: load("File"),
    loadSecretFromID: load("Secret"),
    loadCacheVolumeFromID: load("CacheVolume"),
  };

  const server = createServer((req, res) => {
    const expected = Buffer.from(`Basic ${Buffer.from(`${token}:`).toString("base64")}`);
    const given = Buffer.from(req.headers.authorization ?? "");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      res.writeHead(401, { "content-type": "text/plain" }).end("unauthorized");
      return;
    }
    if (req.method !== "POST" || !req.url?.startsWith("/query")) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
      return;
    }
    let body = "";
    req.setEncoding("utf8").on("data", (c: string) => (body += c));
    req.on("end", () => {
      void (async () => {
        let payload: { query?: string; variables?: Record<string, unknown> };
        try {
          payload = JSON.parse(body) as typeof payload;
        } catch {
          res.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify({ errors: [{ message: "body is not JSON" }] }));
          return;
        }
        queries.push(payload.query ?? "");
        const result = await graphql({ schema, source: payload.query ?? "", rootValue, variableValues: payload.variables ?? null });
        const errors = result.errors?.map((e) => ({ ...e.toJSON(), message: s.scrub(e.message) }));
        const out: Json = JSON.parse(JSON.stringify({ data: result.data ?? null, ...(errors ? { errors } : {}) })) as Json;
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(out));
      })();
    });
  });
  // Long execs (npm ci, builds) answer after minutes.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  // A query can take minutes (a build, npm ci) and the SDK reuses keep-alive sockets: Node's defaults
  // (requestTimeout 300 s, keepAliveTimeout 5 s) reset connections under it (seen as ECONNRESET in CI).
  // The engine's session server has no such limits.
  server.requestTimeout = 0;
  server.headersTimeout = 0;
  server.keepAliveTimeout = 10 * 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    env: { DAGGER_SESSION_PORT: String(port), DAGGER_SESSION_TOKEN: token },
    queries,
    secrets: () => [...s.secretValues],
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      if (s.execContainers.size) await s.docker.run(["rm", "--force", ...s.execContainers]);
      if (process.env.SLIPWAY_STANDIN_TRACE) await appendFile(process.env.SLIPWAY_STANDIN_TRACE, `session ${s.run}: ${s.docker.calls()} docker calls\n`);
      const volumes = await s.docker.run(["volume", "ls", "--quiet", "--filter", `name=standin-${s.run}-`]);
      const names = volumes.stdout.split("\n").filter(Boolean);
      if (names.length) await s.docker.run(["volume", "rm", "--force", ...names]);
      await rm(root, { recursive: true, force: true });
    },
  };
}

