// What the image tests do with the engine: build an image from one of our Dockerfiles, read its
// configuration, run containers and watch their state, as a user of plain Docker would.
import { setTimeout as sleep } from "node:timers/promises";
import type { DockerEngine } from "./engine.js";
import { tail } from "./exec.js";

export interface BuildResult {
  ok: boolean;
  seconds: number;
  /** The whole build output (BuildKit's plain progress). */
  log: string;
}

/** `docker build -f <dockerfile> .` from `context`, with the base image swapped through NODE_IMAGE. */
export async function buildImage(
  engine: DockerEngine,
  options: { dockerfile: string; tag: string; context: string; nodeImage: string },
): Promise<BuildResult> {
  const args = [
    "build",
    "--file", options.dockerfile,
    "--tag", options.tag,
    "--build-arg", `NODE_IMAGE=${options.nodeImage}`,
    // See startEngine: the engine has no bridge, builds use the host's network to reach npm and Debian.
    "--network", "host",
    options.context,
  ];
  const result = await engine.docker(args, { cwd: options.context, timeoutMs: 15 * 60_000 });
  return { ok: result.code === 0, seconds: result.seconds, log: `${result.stdout}\n${result.stderr}` };
}

/** The assertion message for a failed build: which Dockerfile, and the end of the build log. */
export function buildFailure(dockerfile: string, build: BuildResult): string {
  return `docker build -f ${dockerfile} . failed after ${build.seconds.toFixed(1)} s; end of the build log:\n${tail(build.log, 60)}`;
}

/** Runs async tasks with at most `limit` of them at a time, in the order given. */
export function limiter(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    running += 1;
    try {
      return await task();
    } finally {
      running -= 1;
      waiting.shift()?.();
    }
  };
}

/** The parts of `docker image inspect` the tests read. */
export interface ImageConfig {
  User: string;
  Healthcheck?: { Test?: string[]; Interval?: number; Timeout?: number; StartPeriod?: number; Retries?: number };
  Entrypoint: string[] | null;
  Cmd: string[] | null;
  WorkingDir: string;
  Env: string[];
}

export async function imageConfig(engine: DockerEngine, tag: string): Promise<ImageConfig> {
  const result = await engine.dockerOk(["image", "inspect", "--format", "{{json .Config}}", tag]);
  return JSON.parse(result.stdout) as ImageConfig;
}

/** The parts of `docker inspect <container>` .State the tests read. */
export interface ContainerState {
  Status: string;
  Running: boolean;
  ExitCode: number;
  OOMKilled: boolean;
  Health?: { Status: string; FailingStreak: number; Log: { ExitCode: number; Output: string }[] };
}

export async function containerState(engine: DockerEngine, id: string): Promise<ContainerState & { RestartCount: number }> {
  const result = await engine.dockerOk(["inspect", "--format", "{{json .State}}|{{.RestartCount}}", id]);
  const [state = "{}", restarts = "0"] = result.stdout.trim().split("|");
  return { ...(JSON.parse(state) as ContainerState), RestartCount: Number(restarts) };
}

/** The end of a container's logs, for failure messages. */
export async function containerLogs(engine: DockerEngine, id: string, lines = 30): Promise<string> {
  const result = await engine.docker(["logs", "--tail", String(lines), id]);
  return tail(`${result.stdout}${result.stderr}`, lines);
}

/**
 * Waits until Docker reports the container `healthy`. Throws, with the container's logs and its last
 * health probes, when it exits, turns `unhealthy`, or is not healthy within `timeoutMs`.
 */
export async function waitHealthy(engine: DockerEngine, id: string, timeoutMs: number): Promise<{ seconds: number }> {
  const started = performance.now();
  for (;;) {
    const state = await containerState(engine, id);
    if (state.Health?.Status === "healthy") return { seconds: (performance.now() - started) / 1000 };
    const elapsed = performance.now() - started;
    if (!state.Running || state.Health?.Status === "unhealthy" || elapsed > timeoutMs) {
      const why = !state.Running
        ? `exited with code ${state.ExitCode}${state.OOMKilled ? " (OOM killed)" : ""}`
        : `health is ${state.Health?.Status ?? "not reported"} after ${(elapsed / 1000).toFixed(1)} s`;
      const probes = (state.Health?.Log ?? []).map((probe) => `  exit ${probe.ExitCode}: ${probe.Output.trim()}`).join("\n");
      throw new Error(`container ${id.slice(0, 12)} ${why}\nlast health probes:\n${probes || "  (none)"}\nlogs:\n${await containerLogs(engine, id)}`);
    }
    await sleep(250);
  }
}

/**
 * The packages installed in the node_modules folders under `root` in an image (scoped ones as
 * `@scope/name`), read by the image's own node with no network.
 */
export async function installedPackages(engine: DockerEngine, image: string, root: string): Promise<string[]> {
  const script = `
    const fs = require("node:fs"), path = require("node:path");
    const found = new Set();
    const entries = (dir) => { try { return fs.readdirSync(dir, { withFileTypes: true }); } catch { return []; } };
    const walk = (dir) => {
      for (const e of entries(dir)) {
        if (!e.isDirectory()) continue;
        const full = path.join(dir, e.name);
        if (e.name === "node_modules") {
          for (const p of entries(full)) {
            if (!p.isDirectory() || p.name.startsWith(".")) continue;
            const names = p.name.startsWith("@") ? entries(path.join(full, p.name)).map((s) => p.name + "/" + s.name) : [p.name];
            for (const name of names) { found.add(name); walk(path.join(full, name)); }
          }
        } else walk(full);
      }
    };
    walk(process.argv[1]);
    console.log(JSON.stringify([...found].sort()));`;
  const result = await engine.dockerOk([
    "run", "--rm", "--network", "none", "--entrypoint", "node", image, "-e", script, root,
  ]);
  return JSON.parse(result.stdout) as string[];
}
