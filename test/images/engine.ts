// A private Docker engine for one test file: its own dockerd (data root, exec root, pid file and unix
// socket in a temp dir), so the tests neither need nor disturb a system daemon or another test run.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describeRun, exec, findExecutable, tail } from "./exec.js";
import type { ExecOptions, ExecResult } from "./exec.js";

/** The tools the image tests drive, with the Debian package that provides each (see test/bootstrap.sh). */
export const REQUIRED_TOOLS = [
  { command: "dockerd", pkg: "docker.io" },
  { command: "docker", pkg: "docker.io" },
  { command: "debootstrap", pkg: "debootstrap" },
] as const;

/** Why the image tests cannot run here, or undefined when they can. */
export function missingRequirements(): string | undefined {
  const missing = REQUIRED_TOOLS.filter((tool) => findExecutable(tool.command) === undefined);
  if (missing.length > 0) {
    const packages = [...new Set(missing.map((tool) => tool.pkg))].join(" ");
    return `${missing.map((tool) => tool.command).join(", ")} not found (Debian: apt-get install ${packages})`;
  }
  // dockerd and debootstrap both need root.
  if (process.getuid?.() !== 0) return "not running as root (dockerd and debootstrap need root)";
  return undefined;
}

export interface DockerEngine {
  /** Where the engine lives and its process: enough for another process to use it (attachEngine). */
  info: EngineInfo;
  /** The environment every docker command of the tests runs with (DOCKER_HOST among others). */
  env: NodeJS.ProcessEnv;
  /** Runs the docker client against this engine; never rejects for a non-zero exit. */
  docker(args: readonly string[], options?: Omit<ExecOptions, "env">): Promise<ExecResult>;
  /** Like docker(), but throws with the command and the end of its output when it does not exit 0. */
  dockerOk(args: readonly string[], options?: Omit<ExecOptions, "env">): Promise<ExecResult>;
  /** The end of dockerd's own log, for failure messages. */
  logTail(lines?: number): string;
  stop(): Promise<void>;
}

/** A running engine: its directory (socket, data, log) and dockerd's pid. */
export interface EngineInfo {
  dir: string;
  pid: number;
}

/**
 * The client that came with the engine: Debian's docker.io installs /usr/sbin/dockerd and /usr/bin/docker
 * of the same version, and that client uses the engine's built-in BuildKit by itself. A newer client
 * earlier on PATH (e.g. /usr/local/bin/docker 28) would need the buildx plugin for BuildKit.
 */
function engineClient(dockerd: string): string | undefined {
  const beside = join(dirname(dirname(dockerd)), "bin", "docker");
  return existsSync(beside) ? beside : findExecutable("docker");
}

/**
 * Starts dockerd and waits until `docker info` answers.
 *
 * Networking: the daemon creates no bridge and touches no iptables rules (`--bridge=none
 * --iptables=false`), and builds and containers use the host's network. A second daemon that
 * managed docker0 and the DOCKER chains would fight any other engine on this machine (the system's,
 * or another test run's) over the same interface and rules; the images themselves do not depend on
 * the network mode. Containers reach PostgreSQL on 127.0.0.1 and the tests reach them the same way.
 */
export interface EngineOptions {
  /**
   * Extra entries of the engine host's /etc/hosts (name -> address), e.g. a registry's real-looking name
   * for a stand-in on 127.0.0.1. dockerd then runs in a mount namespace of its own with that /etc/hosts
   * bound over the machine's (which stays untouched), so the daemon resolves the names when it pushes, and
   * so do the host-network containers and builds, which get a copy of the daemon's /etc/hosts (libnetwork,
   * host mode). This is what a Dagger engine container started with `--add-host` does: the engine resolves
   * registries through its /etc/hosts, and its execs ask the engine's dnsmasq, which reads that file too
   * (dagger/dagger network/netinst/dnsmasq.go: its config has no `no-hosts`).
   */
  hosts?: Record<string, string>;
  /**
   * dockerd's `--cgroup-parent`: the cgroup every container of this engine is made under (an absolute
   * path such as /slipway-bench-123/containers), so a benchmark can read the CPU its containers used from
   * that cgroup's cpuacct.usage, which keeps the time of containers already removed. Default: docker's /docker,
   * shared by every engine on the machine.
   */
  cgroupParent?: string;
}

export async function startEngine(options: EngineOptions = {}): Promise<DockerEngine> {
  const dockerd = findExecutable("dockerd");
  const docker = dockerd === undefined ? undefined : engineClient(dockerd);
  if (dockerd === undefined || docker === undefined) throw new Error(missingRequirements() ?? "docker not found");

  // Short paths: the daemon's and containerd's unix sockets live under these (108-byte limit).
  const dir = mkdtempSync(join(tmpdir(), "slipway-docker-"));
  await useMemoryIfAvailable(dir);
  const socket = join(dir, "docker.sock");
  const logFile = join(dir, "dockerd.log");
  for (const sub of ["data", "exec", "config"]) mkdirSync(join(dir, sub));

  const env = clientEnv(dir);

  const log = openSync(logFile, "a");
  const hosts = Object.entries(options.hosts ?? {});
  let hostsFile: string | undefined;
  if (hosts.length > 0) {
    hostsFile = join(dir, "hosts");
    writeFileSync(hostsFile, `${readFileSync("/etc/hosts", "utf8").trimEnd()}\n${hosts.map(([name, address]) => `${address} ${name}`).join("\n")}\n`);
  }
  // A fixed script; the hosts file and dockerd's argv are its arguments, never part of the script.
  const inNamespace = (argv: string[]): [string, string[]] =>
    hostsFile === undefined ? [argv[0] as string, argv.slice(1)] : ["unshare", ["--mount", "--", "sh", "-c", 'mount --bind "$1" /etc/hosts && shift && exec "$@"', "sh", hostsFile, ...argv]];
  const child: ChildProcess = spawn(
    ...inNamespace([
      dockerd,
      `--host=unix://${socket}`,
      `--data-root=${join(dir, "data")}`,
      `--exec-root=${join(dir, "exec")}`,
      `--pidfile=${join(dir, "dockerd.pid")}`,
      "--bridge=none",
      "--iptables=false",
      "--ip-masq=false",
      "--ip-forward=false",
      "--userland-proxy=false",
      "--log-level=warn",
      ...(options.cgroupParent === undefined ? [] : [`--cgroup-parent=${options.cgroupParent}`]),
    ]),
    { stdio: ["ignore", log, log], detached: false },
  );
  closeSync(log);
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exitedPromise = new Promise<void>((resolve) => {
    child.once("exit", (code, signal) => {
      exited = { code, signal };
      resolve();
    });
  });

  const logTail = (lines = 30) => engineLogTail(dir, lines);
  const run = (args: readonly string[], options: Omit<ExecOptions, "env"> = {}) => exec(docker, args, { ...options, env });

  async function stop(): Promise<void> {
    if (exited === undefined) {
      child.kill("SIGTERM");
      // dockerd stops its containers and containerd, and unmounts its layers, before it exits.
      const graceful = await Promise.race([exitedPromise.then(() => true), sleep(30_000, false, { ref: false })]);
      if (!graceful) {
        console.warn(`dockerd did not stop within 30 s of SIGTERM; killing it. End of its log:\n${logTail(20)}`);
        child.kill("SIGKILL");
        await exitedPromise;
      }
    }
    await removeEngineDir(dir);
  }

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited !== undefined) {
      const message = `dockerd exited during start-up (code ${exited.code}, signal ${exited.signal}):\n${logTail()}`;
      await removeEngineDir(dir);
      throw new Error(message);
    }
    const info = await run(["info", "--format", "{{.ServerVersion}} {{.Driver}}"], { timeoutMs: 10_000 });
    if (info.code === 0) break;
    if (Date.now() > deadline) {
      const message = `dockerd did not answer within 60 s: ${describeRun("docker", ["info"], info, 5)}\ndockerd log:\n${logTail()}`;
      await stop();
      throw new Error(message);
    }
    await sleep(250);
  }

  return engineAt({ dir, pid: child.pid ?? 0 }, docker, stop);
}

function engineAt(info: EngineInfo, docker: string, stop: () => Promise<void>): DockerEngine {
  const env = clientEnv(info.dir);
  const run = (args: readonly string[], options: Omit<ExecOptions, "env"> = {}) => exec(docker, args, { ...options, env });
  return {
    info,
    env,
    docker: run,
    async dockerOk(args, options) {
      const result = await run(args, options);
      if (result.code !== 0) throw new Error(describeRun("docker", args, result));
      return result;
    },
    logTail: (lines) => engineLogTail(info.dir, lines),
    stop,
  };
}

function engineLogTail(dir: string, lines = 30): string {
  const logFile = join(dir, "dockerd.log");
  return existsSync(logFile) ? tail(readFileSync(logFile, "utf8"), lines) : "(no dockerd log)";
}

/** Whether a process runs (a zombie has exited: its parent just has not reaped it yet). */
export function processRuns(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

/**
 * An engine that another process of this machine started (see shared-engine.ts). Its stop() stops the
 * engine by pid, as startEngine's does by its child handle, and removes its directory.
 */
export function attachEngine(info: EngineInfo): DockerEngine {
  const dockerd = findExecutable("dockerd");
  const docker = dockerd === undefined ? undefined : engineClient(dockerd);
  if (docker === undefined) throw new Error(missingRequirements() ?? "docker not found");
  return engineAt(info, docker, async () => {
    if (processRuns(info.pid)) {
      process.kill(info.pid, "SIGTERM");
      const deadline = Date.now() + 30_000;
      while (processRuns(info.pid) && Date.now() < deadline) await sleep(100);
      if (processRuns(info.pid)) {
        console.warn(`dockerd did not stop within 30 s of SIGTERM; killing it. End of its log:\n${engineLogTail(info.dir, 20)}`);
        process.kill(info.pid, "SIGKILL");
        while (processRuns(info.pid)) await sleep(100);
      }
    }
    await removeEngineDir(info.dir);
  });
}

/** The docker client's environment for the engine in `dir`. */
function clientEnv(dir: string): NodeJS.ProcessEnv {
  const socket = join(dir, "docker.sock");
  return {
    ...process.env,
    DOCKER_HOST: `unix://${socket}`,
    // An empty client config: no credential helpers or contexts from the user's ~/.docker.
    DOCKER_CONFIG: join(dir, "config"),
    // BuildKit, the builder of `docker build` since Docker 23 (and of Dagger): it runs independent
    // stages in parallel and commits no intermediate layers (the toolkit built in 74 s here, against
    // 157 s with the classic builder). Its Dockerfile frontend is built into the engine: nothing is
    // pulled, as long as no Dockerfile names another one with a `# syntax=` line.
    DOCKER_BUILDKIT: "1",
    BUILDKIT_PROGRESS: "plain",
    DOCKER_CLI_HINTS: "false",
  };
}

/**
 * Room for the engine's layers and build cache: about 2 GB after one run of test/images, and the e2e
 * suite's containers besides when they share the engine (shared-engine.ts). A tmpfs takes memory only
 * for what it holds.
 */
const TMPFS_SIZE = "10g";
const TMPFS_MIN_AVAILABLE_KB = 8 * 1024 * 1024;

/**
 * Puts the engine's directory on a tmpfs of its own when the machine has the memory to spare. On disk,
 * removing one run's layers (some 150,000 files, mostly node_modules) took 20 to 60 s here, as long as
 * the builds themselves (the root filesystem is mounted with `discard`); unmounting a tmpfs takes no time,
 * and builds write their layers faster. Otherwise the directory simply stays on disk.
 */
async function useMemoryIfAvailable(dir: string): Promise<void> {
  const available = /^MemAvailable:\s+(\d+) kB$/m.exec(readFileSync("/proc/meminfo", "utf8"))?.[1];
  if (available === undefined || Number(available) < TMPFS_MIN_AVAILABLE_KB) return;
  const mounted = await exec("mount", ["-t", "tmpfs", "-o", `size=${TMPFS_SIZE},mode=0700`, "tmpfs", dir]);
  if (mounted.code !== 0) console.warn(`the Docker engine's data stays on disk: ${mounted.stderr.trim()}`);
}

/**
 * Removes the engine's directory. dockerd leaves the default network namespace bind-mounted at
 * <exec-root>/netns/default when it exits (and overlay layers when it had to be killed); those are
 * unmounted first, deepest first, then the tmpfs (if any), or removing the directory fails with EBUSY.
 */
async function removeEngineDir(dir: string): Promise<void> {
  const mounts = readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    // Field 5 is the mount point, with spaces and such octal-escaped (none in our temp paths).
    .map((line) => line.split(" ")[4] ?? "")
    .filter((mountPoint) => mountPoint === dir || mountPoint.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const mountPoint of mounts) await exec("umount", ["-l", mountPoint]);
  // rm(1) rather than fs.rmSync: on disk the tree holds every layer's node_modules, and rm is much
  // faster at that than node's recursive remove.
  const removed = await exec("rm", ["-rf", "--one-file-system", dir]);
  // Cleaning up must not fail the tests; the next run uses a fresh directory anyway.
  if (removed.code !== 0) console.warn(`could not remove ${dir}: ${removed.stderr.trim()}`);
}
