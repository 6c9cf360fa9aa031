import { maskSecrets } from "./secrets.js";

/*
 * The live status line for long waits (issue 16): one line on stderr, rewritten in place (\r, clear line),
 * saying what is being waited for and for how long, as `kubectl rollout status` and `flux reconcile` keep a
 * person at a terminal informed. It is for people only: off into a pipe or a file, with --json, with
 * TERM=dumb, in CI (CI=true, or TF_BUILD in Azure Pipelines, even when the runner allocates a
 * pseudo-terminal), and with SLIPWAY_PROGRESS=lines. NO_COLOR does not turn it off: it asks for no colour
 * (https://no-color.org), and the line has none. Any other output first erases the line, so the normal
 * output replaces it and nothing of it is left in what a user copies from the terminal.
 *
 * The CLI (main.ts) makes one per command and hands it to the command as `io.status`; a command, or the
 * functional core through a hook, calls `status(text)` when a wait starts or changes and `status(null)`
 * when it ends. rollout verify draws its own block of lines (../rollout/progress.ts), enabled by the same rule.
 */

/** SLIPWAY_PROGRESS: `auto` (default) draws live on a terminal, `tty` always (also into a pipe), `lines` never. */
export const PROGRESS_SETTINGS = ["auto", "tty", "lines"] as const;
export type ProgressSetting = (typeof PROGRESS_SETTINGS)[number];

/** The setting named by SLIPWAY_PROGRESS (unset or empty: `auto`); undefined for anything else. */
export function parseProgressSetting(value: string | undefined): ProgressSetting | undefined {
  if (value === undefined || value.trim() === "") return "auto";
  const v = value.trim().toLowerCase();
  return (PROGRESS_SETTINGS as readonly string[]).includes(v) ? (v as ProgressSetting) : undefined;
}

/**
 * CI=true (GitHub Actions, GitLab, most others) or TF_BUILD (Azure Pipelines, which sets no CI): a log, not a
 * person at a terminal, even when the runner allocates a pseudo-terminal.
 */
export function inCi(env: NodeJS.ProcessEnv): boolean {
  const ci = env.CI?.trim().toLowerCase();
  return (ci !== undefined && ci !== "" && ci !== "false" && ci !== "0") || Boolean(env.TF_BUILD);
}

/**
 * Whether live output (this status line, rollout verify's lines) is drawn: never with --json; else
 * SLIPWAY_PROGRESS=tty|lines decides; else only when stderr is a terminal, outside CI, TERM not "dumb".
 */
export function liveEnabled(setting: ProgressSetting, stderrIsTTY: boolean | undefined, env: NodeJS.ProcessEnv, json = false): boolean {
  if (json) return false;
  if (setting !== "auto") return setting === "tty";
  return stderrIsTTY === true && !inCi(env) && env.TERM !== "dumb";
}

export interface StatusClock {
  now: () => number;
  setInterval: (fn: () => void, ms: number) => unknown;
  clearInterval: (handle: unknown) => void;
}

const SYSTEM_CLOCK: StatusClock = {
  now: () => Date.now(),
  // unref: a status line never keeps the process alive.
  setInterval: (fn, ms) => setInterval(fn, ms).unref(),
  clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout),
};

export interface StatusStream {
  /** Writes to the terminal as it is (the status line masks its own text first). */
  write: (text: string) => void;
  /** Terminal width, read at every frame so a resized terminal is followed (0 or unset: 80, as a pty of unknown size says 0). */
  columns?: number;
}

export interface StatusLine {
  /** True when drawing; false: every call is a no-op. */
  readonly live: boolean;
  /**
   * Shows `text` with the time since this wait began (the first show after a clear), from the first tick
   * on (a wait shorter than a tick shows nothing); replaces what was shown. `startedAt` (the clock's ms):
   * when the wait began, for a wait that other steps interrupt (a poll between pushes).
   */
  show: (text: string, startedAt?: number) => void;
  /** Erases the line: the wait is over. */
  clear: () => void;
  /**
   * Writes `output` (any other output to the same terminal) through `write` with the line erased first; a
   * line still waiting comes back under the output.
   */
  around: (output: string, write: (output: string) => void) => void;
  /** Erases the line and stops the timer for good: the command is done. */
  end: () => void;
}

const CLEAR = "\r\u001b[2K";
const DEFAULT_COLUMNS = 80;
export const STATUS_TICK_MS = 1000;

const OFF: StatusLine = { live: false, show: () => undefined, clear: () => undefined, around: (output, write) => write(output), end: () => undefined };

/** Whole seconds while waiting (a tenth would flicker): `0s`, `12s`, `2m05s`. */
export function elapsedText(ms: number): string {
  const s = Math.floor(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
}

export function statusLine(stream: StatusStream, live: boolean, options: { clock?: StatusClock; tickMs?: number } = {}): StatusLine {
  if (!live) return OFF;
  const clock = options.clock ?? SYSTEM_CLOCK;
  const tickMs = options.tickMs ?? STATUS_TICK_MS;
  let text: string | null = null;
  let since = 0;
  let drawn = false;
  let ticker: unknown;
  // When the ticker started (the clock's ms) and how often it fired since: a tick's frame never shows less.
  // Timers run on libuv's monotonic clock, Date.now() on the wall clock; a tick often comes when Date.now()
  // says 999 ms, and the first frame read "(0s)" after a second of waiting (17 of 60 first frames, measured).
  let tickerStartedAt = 0;
  let ticks = 0;
  let ended = false;
  // Other output left a line unfinished: drawing now would erase it (\r clears the whole line).
  let held = false;

  const draw = (): void => {
    if (text === null || held) return;
    const width = Math.max(30, (stream.columns || DEFAULT_COLUMNS) - 1);
    // Masked before it is cut to the width: a credential cut in half would no longer be recognised. Cut
    // to the width: a line that wraps cannot be erased with \r.
    // The elapsed time is kept whole: a line too long for the terminal loses the text's tail, not the time.
    const time = ` (${elapsedText(Math.max(clock.now() - since, tickerStartedAt - since + ticks * tickMs))})`;
    const line = `${truncate(maskSecrets(text), width - time.length)}${time}`;
    stream.write(`${CLEAR}${line}`);
    drawn = true;
  };
  const erase = (): void => {
    if (drawn) stream.write(CLEAR);
    drawn = false;
  };
  const stopTicker = (): void => {
    if (ticker !== undefined) clock.clearInterval(ticker);
    ticker = undefined;
  };

  return {
    live: true,
    show: (next, startedAt) => {
      if (ended) return;
      if (startedAt !== undefined) since = startedAt;
      else if (text === null) since = clock.now();
      text = next;
      // A wait is first drawn at the first tick: one that ends sooner (most registry and git requests)
      // never flickers a line. A line already shown takes the new text at once.
      if (drawn) draw();
      if (ticker === undefined) {
        tickerStartedAt = clock.now();
        ticks = 0;
        ticker = clock.setInterval(() => {
          ticks++;
          draw();
        }, tickMs);
      }
    },
    clear: () => {
      text = null;
      stopTicker();
      erase();
    },
    around: (output, write) => {
      erase();
      write(output);
      // Back under the output at once when it ended its line; otherwise held until some output ends it.
      if (output !== "") held = !output.endsWith("\n");
      draw();
    },
    end: () => {
      text = null;
      stopTicker();
      erase();
      ended = true;
    },
  };
}

function truncate(text: string, width: number): string {
  const chars = [...text];
  return chars.length <= width ? text : `${chars.slice(0, width - 1).join("")}…`;
}
