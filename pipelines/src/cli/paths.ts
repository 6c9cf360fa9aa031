import { statSync } from "node:fs";
import type { Stats } from "node:fs";
import { dirname } from "node:path";
import { pathInvalid } from "../errors.js";

/**
 * Checks of the paths a command is given, before it reads or writes anything: each wrong kind of thing
 * (a directory for a file, a file for a directory, a fifo, a missing parent) is SLIPWAY_PATH_INVALID naming
 * the flag and the value, exit 2. A fifo is refused because reading one blocks until someone writes to it.
 */

function stat(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

function kindOf(s: Stats): string {
  if (s.isFile()) return "a file";
  if (s.isDirectory()) return "a directory";
  if (s.isFIFO()) return "a fifo (named pipe)";
  if (s.isSocket()) return "a socket";
  return "a device";
}

/** A file to read: must exist and be a regular file. `missing` builds the command's own not-found error. */
export function checkInputFile(flag: string, value: string, path: string, missing?: () => Error): void {
  const s = stat(path);
  if (!s) {
    if (missing) throw missing();
    throw pathInvalid(flag, value, "does not exist", `Pass the path of an existing file (relative paths start at ${JSON.stringify(process.cwd())}).`);
  }
  if (!s.isFile()) throw pathInvalid(flag, value, `is ${kindOf(s)}, not a file`, "Pass the path of a regular file.");
}

/** A directory to read: must exist and be a directory. */
export function checkInputDir(flag: string, value: string, path: string): void {
  const s = stat(path);
  if (!s) throw pathInvalid(flag, value, "does not exist", "Pass the path of an existing directory.");
  if (!s.isDirectory()) throw pathInvalid(flag, value, `is ${kindOf(s)}, not a directory`, "Pass the path of a directory.");
}

/** A file to write: its folder must exist, and the path must not be a directory, fifo or device. */
export function checkOutputFile(flag: string, value: string, path: string): void {
  const s = stat(path);
  if (s && !s.isFile()) throw pathInvalid(flag, value, `is ${kindOf(s)}, not a file`, "Pass the path of a file to create or replace.");
  const parent = stat(dirname(path));
  if (!parent) throw pathInvalid(flag, value, `is in a folder that does not exist (${JSON.stringify(dirname(path))})`, "Create the folder first, or pass a path in an existing one.");
  if (!parent.isDirectory()) throw pathInvalid(flag, value, `is under ${kindOf(parent)}, not a folder (${JSON.stringify(dirname(path))})`, "Pass a path in an existing folder.");
}

/** A directory to write into (created if missing): must not be a file, nor lie under one. */
export function checkOutputDir(flag: string, value: string, path: string): void {
  const s = stat(path);
  if (s) {
    if (!s.isDirectory()) throw pathInvalid(flag, value, `is ${kindOf(s)}, not a directory`, "Pass the path of a directory (it is created when missing).");
    return;
  }
  // The nearest existing ancestor must be a directory, or creating the folder fails half-way.
  for (let up = dirname(path); ; up = dirname(up)) {
    const a = stat(up);
    if (a) {
      if (!a.isDirectory()) throw pathInvalid(flag, value, `is under ${kindOf(a)} (${JSON.stringify(up)}), not a folder`, "Pass a path whose parents are folders.");
      return;
    }
    if (dirname(up) === up) return;
  }
}
