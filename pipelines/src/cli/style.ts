/*
 * Human output: tables with a header row, and colours for severities and verdicts (issue 16).
 *
 * Colour follows the conventions kubectl-adjacent tools share (https://no-color.org, https://force-color.org):
 * NO_COLOR set and not empty turns it off; else FORCE_COLOR set (not "0" or "false") turns it on, also into
 * a pipe or a file; else it is on only when stdout is a terminal (and TERM is not "dumb"). The SGR codes are written by hand: Node's
 * util.styleText decides by process.stdout on some versions (22.13+) and not on others (20), while a
 * command writes to its Io, which tests and the Dagger module replace.
 */

export type Colour = "red" | "green" | "yellow" | "dim" | "bold";

/** Wraps text in a colour, or returns it as it is when colour is off. */
export type Paint = (colour: Colour, text: string) => string;

const SGR: Record<Colour, [number, number]> = { red: [31, 39], green: [32, 39], yellow: [33, 39], dim: [2, 22], bold: [1, 22] };

export const plain: Paint = (_colour, text) => text;

const ansi: Paint = (colour, text) => (text === "" ? text : `\u001b[${SGR[colour][0]}m${text}\u001b[${SGR[colour][1]}m`);

/** Whether a command's stdout gets colours: NO_COLOR, then FORCE_COLOR, then whether it is a terminal. */
export function colourEnabled(env: NodeJS.ProcessEnv, isTTY: boolean | undefined): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== "") return force !== "0" && force.toLowerCase() !== "false";
  return isTTY === true && env.TERM !== "dumb";
}

export function painter(io: { env: NodeJS.ProcessEnv; isTTY?: boolean }): Paint {
  return colourEnabled(io.env, io.isTTY) ? ansi : plain;
}

/** The colour of a word that says how something went: a verdict, a status, a severity. Unknown words stay plain. */
const VERDICT_COLOURS: Record<string, Colour> = {
  // Verdicts and statuses: rollout verify, the ledger, the security gate, notify.
  healthy: "green",
  verified: "green",
  passed: "green",
  delivered: "green",
  applied: "green",
  failed: "red",
  FAILED: "red",
  timeout: "red",
  unverifiable: "red",
  pending: "yellow",
  waiting: "yellow",
  paused: "yellow",
  unknown: "yellow",
  skipped: "dim",
  "rolled-back": "dim",
  // Severities, worst first (Trivy's scale).
  CRITICAL: "red",
  HIGH: "red",
  MEDIUM: "yellow",
  LOW: "dim",
  UNKNOWN: "dim",
};

/** Paints `text` in the colour of `word` (text defaults to the word itself, e.g. a padded cell). */
export function verdict(paint: Paint, word: string, text: string = word): string {
  const colour = VERDICT_COLOURS[word];
  return colour === undefined ? text : paint(colour, word === "CRITICAL" ? paint("bold", text) : text);
}

/**
 * A table as kubectl prints one: upper-case headers, columns two spaces apart, no trailing blanks.
 * `style(column, cell, padded)` may colour a cell: widths are measured before it, so colours never shift columns.
 */
export function table(header: string[], rows: string[][], style?: (column: number, cell: string, padded: string) => string): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const last = header.length - 1;
  const line = (cells: string[], styled: boolean): string =>
    cells
      .map((cell, i) => {
        const padded = i === last ? cell : cell.padEnd(widths[i] ?? 0);
        return styled && style ? style(i, cell, padded) : padded;
      })
      .join("  ")
      .trimEnd();
  return `${[line(header, false), ...rows.map((r) => line(r, true))].join("\n")}\n`;
}
