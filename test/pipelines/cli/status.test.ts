// The live status line for long waits (issue 16): on a terminal only, rewritten in place with \r and
// clear-line, gone before the normal output; nothing of it through a pipe, with --json, TERM=dumb or CI=true.
// The terminal is a real pseudo-terminal made by script(1); the waits are real: the migration lock held in
// an embedded PostgreSQL, and a Deployment of the Kubernetes stand-in that becomes ready after a moment.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { Command } from "../../../pipelines/src/cli/command.js";
import { run } from "../../../pipelines/src/cli/main.js";
import { clearSecrets, registerSecret } from "../../../pipelines/src/cli/secrets.js";
import type { StatusClock } from "../../../pipelines/src/cli/status.js";
import { liveEnabled, statusLine } from "../../../pipelines/src/cli/status.js";
import { advisoryKey, lockName } from "../../../pipelines/src/migrate/lock.js";
import { cliEntry, cliProcess, REPO_ROOT } from "../../helpers/cli.js";
import { prepare, startTimeline } from "../../standins/kubernetes/harness.js";
import { scenario } from "../../standins/kubernetes/scenarios.js";
import { silentPeer } from "../../helpers/net.js";
import { serverForTests } from "../migrate/postgres.js";
import { receiver } from "../notify/receiver.js";

const ESC = "\u001b";
const CLEAR = `\r${ESC}[2K`;
/** A control sequence: ESC [ parameter letter. */
const CSI = new RegExp(`^${ESC}\\[(\\d*)([A-Za-z])`);
/** No live drawing at all: no clear-line, no cursor-up, no erase-below, no bare \r (colours may be there). */
const LIVE = new RegExp(`\r(?!\n)|${ESC}\\[(?:\\d*A|2K|J)`);

afterEach(() => clearSecrets());

/** A clock the test moves: intervals fire in order as `advance` passes their times. */
function fakeClock(): StatusClock & { advance: (ms: number) => void; pending: () => number } {
  let now = 0;
  let next = 0;
  const timers = new Map<number, { at: number; every: number; fn: () => void }>();
  return {
    now: () => now,
    setInterval: (fn, ms) => {
      timers.set(++next, { at: now + ms, every: ms, fn });
      return next;
    },
    clearInterval: (handle) => void timers.delete(handle as number),
    advance: (ms) => {
      const end = now + ms;
      for (;;) {
        const due = [...timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        now = due[1].at;
        due[1].at += due[1].every;
        due[1].fn();
      }
      now = end;
    },
    pending: () => timers.size,
  };
}

function terminal(columns = 100): { writes: string[]; write: (t: string) => void; columns: number } {
  const writes: string[] = [];
  return { writes, write: (t) => void writes.push(t), columns };
}

/**
 * What a terminal shows after `raw` (a VT100 subset: \r, \n, cursor up, clear line, erase below; colours
 * dropped). Written here: the few sequences our output uses, so a test can assert what is left on screen.
 */
function screen(raw: string): string {
  const lines: string[] = [""];
  let row = 0;
  let col = 0;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i] as string;
    if (c === "\u001b") {
      const m = CSI.exec(raw.slice(i));
      if (!m) continue;
      i += m[0].length - 1;
      const n = Number(m[1] || "1");
      if (m[2] === "A") row = Math.max(0, row - n);
      else if (m[2] === "K") lines[row] = "";
      else if (m[2] === "J") {
        lines.length = row + 1;
        lines[row] = (lines[row] ?? "").slice(0, col);
      }
      continue;
    }
    if (c === "\r") col = 0;
    else if (c === "\n") {
      row++;
      col = 0;
      if (lines[row] === undefined) lines[row] = "";
    } else {
      const line = (lines[row] ?? "").padEnd(col);
      lines[row] = line.slice(0, col) + c + line.slice(col + 1);
      col++;
    }
  }
  return lines.join("\n");
}

describe("pipelines/src/cli/status: when the status line is drawn", () => {
  it.each<[string, boolean | undefined, NodeJS.ProcessEnv, boolean, "auto" | "tty" | "lines", boolean]>([
    ["stderr a terminal", true, {}, false, "auto", true],
    ["a pipe or a file", false, {}, false, "auto", false],
    ["unknown (the Dagger module, tests)", undefined, {}, false, "auto", false],
    ["--json on a terminal", true, {}, true, "auto", false],
    ["TERM=dumb", true, { TERM: "dumb" }, false, "auto", false],
    ["CI=true (GitHub Actions)", true, { CI: "true" }, false, "auto", false],
    ["TF_BUILD (Azure Pipelines)", true, { TF_BUILD: "True" }, false, "auto", false],
    ["NO_COLOR (about colour only)", true, { NO_COLOR: "1" }, false, "auto", true],
    ["SLIPWAY_PROGRESS=lines on a terminal", true, {}, false, "lines", false],
    ["SLIPWAY_PROGRESS=tty into a pipe", false, {}, false, "tty", true],
    ["SLIPWAY_PROGRESS=tty with --json", true, {}, true, "tty", false],
  ])("%s", (_name, isTTY, env, json, setting, live) => {
    expect(liveEnabled(setting, isTTY, env, json)).toBe(live);
  });
});

describe("pipelines/src/cli/status: the line", () => {
  it("draws from the first tick on (a short wait shows nothing), with the elapsed time, rewritten with \\r and clear-line", () => {
    const clock = fakeClock();
    const tty = terminal();
    const status = statusLine(tty, true, { clock });
    status.show("migrate: waiting for the migration lock");
    clock.advance(999);
    expect(tty.writes).toEqual([]);
    clock.advance(2001);
    expect(tty.writes).toEqual([`${CLEAR}migrate: waiting for the migration lock (1s)`, `${CLEAR}migrate: waiting for the migration lock (2s)`, `${CLEAR}migrate: waiting for the migration lock (3s)`]);
    // A new text while shown: at once, the time still counted from the start of the wait.
    status.show("gitops: pushing again (attempt 2/20)");
    expect(tty.writes.at(-1)).toBe(`${CLEAR}gitops: pushing again (attempt 2/20) (3s)`);
    clock.advance(62_000);
    expect(tty.writes.at(-1)).toBe(`${CLEAR}gitops: pushing again (attempt 2/20) (1m05s)`);
    status.clear();
    expect(tty.writes.at(-1)).toBe(CLEAR);
    expect(clock.pending()).toBe(0);
    // A short wait after it: nothing.
    const before = tty.writes.length;
    status.show("registry: reading tag");
    status.clear();
    expect(tty.writes.length).toBe(before);
  });

  it("a tick that comes when the clock says 999 ms still reads (1s): timers and Date.now() are different clocks", () => {
    // As on a real machine: the interval runs on libuv's monotonic clock, now() on the wall clock, which was a
    // millisecond ahead of it when the wait began (measured: 17 of 60 first frames read "(0s)" before).
    const clock = fakeClock();
    let ahead = 1;
    const wall: StatusClock = { ...clock, now: () => clock.now() + ahead };
    const tty = terminal();
    const status = statusLine(tty, true, { clock: wall });
    clock.advance(5);
    status.show("gitops: cloning main");
    ahead = 0;
    clock.advance(2000);
    expect(tty.writes).toEqual([`${CLEAR}gitops: cloning main (1s)`, `${CLEAR}gitops: cloning main (2s)`]);
  });

  it("other output erases the line first and the line comes back under it; a line left unfinished holds it back", () => {
    const clock = fakeClock();
    const tty = terminal();
    const status = statusLine(tty, true, { clock });
    status.show("waiting");
    clock.advance(1000);
    status.around("push rejected (attempt 1/20)\n", (t) => tty.write(t));
    expect(tty.writes.slice(-3)).toEqual([CLEAR, "push rejected (attempt 1/20)\n", `${CLEAR}waiting (1s)`]);
    status.around("Password: ", (t) => tty.write(t));
    clock.advance(3000);
    // Not drawn over the unfinished line (\r would wipe it) until some output ends it.
    expect(tty.writes.slice(-2)).toEqual([CLEAR, "Password: "]);
    status.around("\n", (t) => tty.write(t));
    expect(tty.writes.at(-1)).toBe(`${CLEAR}waiting (4s)`);
    status.end();
    expect(tty.writes.at(-1)).toBe(CLEAR);
    status.show("after the end");
    clock.advance(5000);
    expect(tty.writes.at(-1)).toBe(CLEAR);
    expect(screen(tty.writes.join(""))).toBe("push rejected (attempt 1/20)\nPassword: \n");
  });

  it("a wait interrupted by other steps keeps counting from when it began (release begin polls between pushes)", () => {
    const clock = fakeClock();
    const tty = terminal();
    const status = statusLine(tty, true, { clock });
    const began = clock.now();
    clock.advance(5000);
    status.show("release: waiting for the prod release in progress to end (--wait 600 s)", began);
    clock.advance(1000);
    status.clear();
    clock.advance(2000);
    status.show("release: waiting for the prod release in progress to end (--wait 600 s)", began);
    clock.advance(1000);
    expect(tty.writes).toEqual([
      `${CLEAR}release: waiting for the prod release in progress to end (--wait 600 s) (6s)`,
      CLEAR,
      `${CLEAR}release: waiting for the prod release in progress to end (--wait 600 s) (9s)`,
    ]);
  });

  it("off: writes nothing and passes output through", () => {
    const clock = fakeClock();
    const tty = terminal();
    const status = statusLine(tty, false, { clock });
    status.show("waiting");
    clock.advance(5000);
    status.around("result\n", (t) => tty.write(t));
    status.end();
    expect(tty.writes).toEqual(["result\n"]);
    expect(clock.pending()).toBe(0);
  });

  it("masks a credential before cutting the line to the terminal's width, so no prefix of it shows", () => {
    const token = "ghp_Zx81kQv0c9TmR2wLpY7sDfGhJ4nBvC6e";
    registerSecret(token);
    const clock = fakeClock();
    const tty = terminal(40);
    const status = statusLine(tty, true, { clock });
    status.show(`gitops: pushing to https://x:${token}@git.example.com/acme/gitops.git`);
    clock.advance(1000);
    expect(tty.writes[0]).toBe(`${CLEAR}gitops: pushing to https://x:***@… (1s)`);
    expect([...(tty.writes[0] ?? "").slice(CLEAR.length)]).toHaveLength(39);
  });
});

describe("pipelines/src/cli/main: the status line around a command", () => {
  // A command as the CLI runs it: a wait told to io.status, its log line, then its result.
  const waiting: Command = {
    path: ["wait"],
    summary: "waits",
    usage: "slipway wait [--json]",
    options: { json: { type: "boolean" } },
    run: async ({ io, values }) => {
      io.status?.("waiting for the lock");
      await sleep(1300);
      io.stderr("lock held by pid 42\n");
      await sleep(50);
      io.stdout(values.json ? '{"schemaVersion":1}\n' : "done\n");
      return 0;
    },
  };
  const runIn = async (argv: string[], io: { stderrIsTTY?: boolean; env?: NodeJS.ProcessEnv }) => {
    let all = "";
    const code = await run(argv, { stdout: (t) => (all += t), stderr: (t) => (all += t), cwd: REPO_ROOT, env: io.env ?? {}, stderrIsTTY: io.stderrIsTTY }, [waiting]);
    return { code, all };
  };

  it("on a terminal: drawn, erased before each output, gone at the end; off with --json or into a pipe", async () => {
    const [tty, json, piped] = await Promise.all([runIn(["wait"], { stderrIsTTY: true }), runIn(["wait", "--json"], { stderrIsTTY: true }), runIn(["wait"], {})]);
    // Real timers: a loaded machine may draw the first tick late, so the elapsed time is any whole second from 1s.
    const line = `\\r${ESC}\\[2Kwaiting for the lock \\([1-9]\\d*s\\)`;
    expect(tty.all).toMatch(new RegExp(line));
    expect(tty.all).toMatch(new RegExp(`done\\n${line}\\r${ESC}\\[2K$`));
    expect(screen(tty.all)).toBe("lock held by pid 42\ndone\n");
    expect(json.all).toBe('lock held by pid 42\n{"schemaVersion":1}\n');
    expect(piped.all).toBe("lock held by pid 42\ndone\n");
  });
});

describe("pipelines/src/notify: the retry wait on the status line", () => {
  it("a 503 with Retry-After: 2 shows the wait on a terminal (no part of the webhook URL), then the result replaces it; nothing with --json", async () => {
    const secretPath = "services/T9/B9/st4tusL1neW3bh00kS3cret";
    // One receiver per run, so the two runs wait side by side.
    const flaky = () => receiver((_req, res, n) => (n === 1 ? res.writeHead(503, { "retry-after": "2" }).end("busy") : res.writeHead(200).end("ok")));
    const hooks = await Promise.all([flaky(), flaky()]);
    const dir = mkdtempSync(join(tmpdir(), "slipway-status-"));
    try {
      const file = join(dir, "slipway.yaml");
      writeFileSync(
        file,
        ["version: 1", "gitops: { repository: https://github.com/acme/gitops.git }", "environments:", "  prod:", "    gitops: { path: clusters/prod }", "    kubernetes: { namespace: shop, selector: app=shop }", "    notify:", "      slack: { webhookEnv: SLACK_HOOK }", "      on: [started]", ""].join("\n"),
      );
      const argv = ["notify", "--env", "prod", "--event", "started", "--config", file];
      const inTty = async (extra: string[], base: string) => {
        let all = "";
        const code = await run([...argv, ...extra], { stdout: (t) => (all += t), stderr: (t) => (all += t), cwd: dir, env: { SLACK_HOOK: `${base}/${secretPath}` }, stderrIsTTY: true });
        return { code, all };
      };
      const [tty, json] = await Promise.all([inTty([], hooks[0].base), inTty(["--json"], hooks[1].base)]);
      expect(tty.code, tty.all).toBe(0);
      // The elapsed time on the line is real: under load a tick comes late (CI once drew 0s then 2s: the 0s was
      // the clocks' skew, fixed), so any whole second from 1s will do.
      expect(tty.all).toMatch(new RegExp(`\\r${ESC}\\[2Knotify: slack not delivered \\(HTTP 503: busy\\); attempt 2/2 in 2s \\([1-9]\\d*s\\)`));
      expect(screen(tty.all)).toBe("slack: delivered (HTTP 200, attempt 2)\n");
      expect(json.code, json.all).toBe(0);
      expect(json.all).not.toMatch(LIVE);
      expect(JSON.parse(json.all)).toMatchObject({ delivered: 1 });
      for (const hook of hooks) expect(hook.received).toHaveLength(2);
      for (const out of [tty.all, json.all]) expect(out).not.toContain("st4tusL1neW3bh00kS3cret");
    } finally {
      await Promise.all(hooks.map((h) => h.close()));
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

/** script(1) (Debian bsdutils, installed by test/bootstrap.sh): with CI=true its absence fails the suite instead of skipping it. */
const hasScript = existsSync("/usr/bin/script");
if (!hasScript && process.env.CI === "true") throw new Error("/usr/bin/script is missing: install the Debian package bsdutils (test/bootstrap.sh)");
if (!hasScript) console.warn("SKIPPED the status line in a real terminal: /usr/bin/script not found (apt-get install bsdutils)");

/** Runs the real CLI under script(1): stdout and stderr are one pseudo-terminal, as in a user's shell. */
function inTerminal(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; out: string }> {
  // script(1) takes one command line: every word is a fixed path, a flag of this test or a temporary path, quoted.
  const quote = (word: string) => `'${word.replace(/'/g, "'\\''")}'`;
  const command = [process.execPath, ...cliEntry(), ...args].map(quote).join(" ");
  return new Promise((resolve) => {
    execFile("script", ["-qec", command, "/dev/null"], { cwd: REPO_ROOT, env: { ...env, NODE_NO_WARNINGS: "1" }, timeout: 60_000 }, (error, stdout) =>
      // The terminal turns each \n into \r\n.
      resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, out: stdout.replace(/\r\n/g, "\n") }),
    );
  });
}


/**
 * The status line `text` was drawn at least twice, each time after a clear-line, with the time so far rising
 * (a loaded machine may delay a tick, so not necessarily 1s, 2s).
 */
function expectCountingUp(out: string, text: string): void {
  const times = out.split(CLEAR).flatMap((frame) => (frame.startsWith(`${text} (`) ? [Number(/^ \((\d+)s\)$/.exec(frame.slice(text.length))?.[1])] : []));
  expect(times.length, JSON.stringify(out)).toBeGreaterThanOrEqual(2);
  expect(times[0]).toBeGreaterThanOrEqual(1);
  expect(times).toEqual([...times].sort((a, b) => a - b));
  expect(new Set(times).size).toBeGreaterThanOrEqual(2);
}

const { server } = hasScript ? await serverForTests() : { server: null };
afterAll(async () => {
  await server?.stop();
});

describe.skipIf(!hasScript)("the status line in a real terminal (script(1))", () => {
  it.concurrent("gitops commit-push waits for a git server that never answers: the clone's wait counts up, then the timeout error replaces it", async () => {
    const peer = await silentPeer();
    const dir = mkdtempSync(join(tmpdir(), "slipway-status-git-"));
    try {
      writeFileSync(join(dir, "slipway.yaml"), "{}\n");
      const repo = `https://127.0.0.1:${peer.port}/acme/gitops.git`;
      const args = ["gitops", "commit-push", "--repo", repo, "--branch", "main", "--set", "myacr.azurecr.io/shop/api=1.1.0", "--config", join(dir, "slipway.yaml")];
      const tty = await inTerminal(args, { PATH: process.env.PATH, HOME: dir, SLIPWAY_GIT_TIMEOUT: "4s" });
      expect(tty.code, tty.out).toBe(3);
      expectCountingUp(tty.out, `gitops: cloning main of ${repo}`);
      expect(screen(tty.out)).toMatch(/^SLIPWAY_GIT_TIMEOUT: git clone with "https:\/\/127\.0\.0\.1:\d+\/acme\/gitops\.git" did not finish within 4 s/);
      expect(screen(tty.out)).not.toContain("gitops: cloning");
    } finally {
      await peer.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  (server ? it.concurrent : it.skip)("migrate waits for the lock: the line counts up with \\r on the terminal and is replaced by the result; nothing of it piped or with TERM=dumb", async () => {
    const db = server as NonNullable<typeof server>;
    const url = await db.database("status_line");
    // The environment of a user's shell: no CI variable of the machine running the tests.
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: url };
    const SLOW = join(REPO_ROOT, "test", "fixtures", "migrate", "slow", "data-source.mjs");
    const args = ["migrate", "run", "--data-source", SLOW, "--dry-run", "--lock-timeout", "60"];
    const gate = new pg.Client({ connectionString: url });
    await gate.connect();
    await gate.query("SELECT pg_advisory_lock($1::bigint)", [advisoryKey(lockName("migrations")).toString()]);
    // --json and CI=true on a terminal are rollout verify's below: three CLI processes per test keep it short.
    const runs = Promise.all([inTerminal(args, env), inTerminal(args, { ...env, TERM: "dumb" }), cliProcess(args, REPO_ROOT, env)]);
    try {
      // Every run polls for the lock; then long enough for the line to tick twice.
      const polling = async () =>
        (await db.query<{ n: number }>(url, `SELECT count(DISTINCT pid)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND query LIKE '%pg_try_advisory_lock%' AND pid <> pg_backend_pid()`))[0]?.n === 3;
      const deadline = Date.now() + 40_000;
      while (!(await polling()) && Date.now() < deadline) await sleep(100);
      await sleep(3200);
    } finally {
      await gate.end();
    }
    const [tty, dumb, piped] = await runs;
    const waiting = `migrate: waiting for the migration lock on postgres 127.0.0.1:${db.port}/status_line, held by another run (up to 60s)`;
    expect(tty.code, tty.out).toBe(0);
    // A pseudo-terminal of unknown size is taken as 80 columns: the text is cut, the elapsed time kept.
    const cut = `${[...waiting].slice(0, 79 - " (1s)".length - 1).join("")}…`;
    expectCountingUp(tty.out, cut);
    // What stays on the screen: the result, as through a pipe; none of the status line.
    expect(screen(tty.out)).toBe(piped.stdout + piped.stderr);
    expect(piped.stdout).toMatch(/^database: postgres .*\ndry run: would apply 3: /);
    expect(dumb.code, dumb.out).toBe(0);
    expect(dumb.out).not.toMatch(LIVE);
    expect(dumb.out).toBe(piped.stdout + piped.stderr);
    expect(piped.stdout + piped.stderr).not.toMatch(LIVE);
  }, 90_000);

  it("rollout verify waits for a Deployment: its line redrawn in place on the terminal, erased before the verdict; nothing of it with --json or CI=true", async () => {
    const s = scenario("healthy rollout");
    const variants: [string, string[], NodeJS.ProcessEnv][] = [
      ["tty", [], {}],
      ["json", ["--json"], {}],
      ["ci", [], { CI: "true" }],
    ];
    const results = await Promise.all(
      variants.map(async ([name, extra, envExtra]) => {
        const prepared = await prepare(s);
        try {
          let ended = false;
          const argv = ["rollout", "verify", "--kubeconfig", prepared.kubeconfig, "--namespace", "shop", "--deployment", s.workload, ...s.flags, ...extra];
          const env = { PATH: process.env.PATH, HOME: prepared.dir, ...envExtra };
          // --json runs in-process with a terminal's stderr (the same decision, one process start fewer).
          const inProcess = async (): Promise<{ code: number; out: string }> => {
            let out = "";
            const code = await run(argv, { stdout: (t) => (out += t), stderr: (t) => (out += t), cwd: prepared.dir, env, stderrIsTTY: true });
            return { code, out };
          };
          const ours = (name === "json" ? inProcess() : inTerminal(argv, env)).finally(() => (ended = true));
          // The Deployment becomes ready after a moment, once our watch is on.
          const timeline = await startTimeline(prepared, s, { stepMs: 400, deadlineMs: 5000 }, () => (ended ? 0 : 1));
          const result = await ours;
          await timeline.timeline;
          return [name, result] as const;
        } finally {
          await prepared.cleanup();
        }
      }),
    );
    const by = Object.fromEntries(results);
    const tty = by.tty as { code: number; out: string };
    expect(tty.code, tty.out).toBe(0);
    // Redrawn in place: several frames of the Deployment's line, then erased.
    expect(tty.out.split("\u001b[2K· deployment/api").length - 1, JSON.stringify(tty.out)).toBeGreaterThan(1);
    expect(tty.out).toContain("\u001b[1A\u001b[J");
    const shown = screen(tty.out);
    expect(shown).toMatch(/^rollout healthy in [\d.]+m?s: deployment\/api\n$/);
    for (const name of ["json", "ci"]) {
      const other = by[name] as { code: number; out: string };
      expect(other.code, `${name}: ${other.out}`).toBe(0);
      expect(other.out, name).not.toMatch(LIVE);
      expect(other.out, name).not.toContain("· deployment/api");
      // Instead, the log of state changes on stderr, as in a CI log.
      expect(other.out, name).toMatch(/^\[\s*[\d.]+m?s\] deployment\/api: /m);
    }
    expect((by.json as { out: string }).out).toMatch(/"verdict":\s*"healthy"/);
  }, 90_000);
});
