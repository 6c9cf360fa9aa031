import { readFileSync } from "node:fs";
import { relative } from "node:path";
import { LineCounter, parseDocument } from "yaml";
import type { z } from "zod";
import { checkInputFile } from "../cli/paths.js";
import { configInvalid, configNotFound, configUnreadableYaml } from "../errors.js";
import { findConfigFile } from "./find.js";
import { SlipwayConfig } from "./schema.js";

export { CONFIG_FILE_NAMES, findConfigFile } from "./find.js";

export interface LoadedConfig {
  /** Absolute path of the file read, or null when the repo has none and defaults apply. */
  file: string | null;
  config: SlipwayConfig;
}

/** Renders a zod issue path the way a user writes it: `services[1].name`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out || "(root)";
}

/** Every problem at once, each with its path and, where the YAML tells us, its line. */
export function formatIssues(issues: readonly z.core.$ZodIssue[], lineOf?: (path: readonly PropertyKey[]) => number | undefined): string[] {
  return expandUnions(issues).map((issue) => {
    let message = issue.message;
    if (issue.code === "unrecognized_keys") {
      // zod reports unknown keys on the parent object; name each key so the user can find it.
      message = `unknown key${issue.keys.length === 1 ? "" : "s"} ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}`;
    }
    const keyPath = issue.code === "unrecognized_keys" && issue.keys[0] !== undefined ? [...issue.path, issue.keys[0]] : issue.path;
    const line = lineOf?.(keyPath);
    // Name the offending value when it is a scalar (config holds no secrets; objects would be noise).
    const input = (issue as { input?: unknown }).input;
    const got = input === undefined || (typeof input === "object" && input !== null) ? "" : `, got ${JSON.stringify(input)}`;
    return `${formatPath(issue.path)}: ${message}${got}${line ? ` (line ${line})` : ""}`;
  });
}

/**
 * A union (glob string | service entry) fails as a whole; when the input clearly meant one branch
 * (only that branch got past the type check), report that branch's precise issues instead.
 */
function expandUnions(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue[] {
  return issues.flatMap((issue) => {
    if (issue.code !== "invalid_union" || !("errors" in issue) || !Array.isArray(issue.errors)) return [issue];
    const plausible = issue.errors.filter((branch) => !branch.every((b) => b.code === "invalid_type" && b.path.length === 0));
    if (plausible.length !== 1) return [issue];
    return expandUnions((plausible[0] as z.core.$ZodIssue[]).map((b) => ({ ...b, path: [...issue.path, ...b.path] })));
  });
}

/** Alias expansions allowed in slipway.yaml (the yaml library's default; a real config uses a handful). */
const MAX_ALIAS_COUNT = 100;

/** Parses and validates config text. Throws SlipwayError with every problem; never returns a partial config. */
export function parseConfig(text: string, displayName: string): SlipwayConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw configUnreadableYaml(
      displayName,
      doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        const text = (e.message.split("\n")[0] ?? "").replace(/ at line \d+, column \d+:?$/, "");
        return `${pos ? `line ${pos.line}, column ${pos.col}: ` : ""}${text}`;
      }),
    );
  }
  let data: unknown;
  try {
    // An alias bomb ("billion laughs": aliases of aliases) expands to gigabytes; the yaml library refuses more
    // than maxAliasCount alias expansions with a ReferenceError, which is bad input, not a crash.
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) ?? {};
  } catch (error) {
    throw configUnreadableYaml(displayName, [error instanceof Error ? (error.message.split("\n")[0] ?? error.message) : String(error)]);
  }
  const result = SlipwayConfig.safeParse(data, { reportInput: true });
  if (result.success) return result.data;
  const lineOf = (path: readonly PropertyKey[]): number | undefined => {
    const node = doc.getIn(path as unknown[], true) as { range?: [number, number, number] } | undefined;
    const offset = node && typeof node === "object" && node.range ? node.range[0] : undefined;
    return offset === undefined ? undefined : lineCounter.linePos(offset).line;
  };
  throw configInvalid(displayName, formatIssues(result.error.issues, lineOf));
}

/**
 * Loads the config of a repository. `file`, when given, must exist; without it, the repo's
 * slipway.yaml is used if present and defaults otherwise.
 */
export function loadConfig(sourceDir: string, file?: string): LoadedConfig {
  const path = file ?? findConfigFile(sourceDir);
  if (path === null) return { file: null, config: {} };
  // A directory or fifo is not "missing" (and reading a fifo would block): SLIPWAY_PATH_INVALID.
  checkInputFile("config file", file ?? path, path, () => configNotFound(file ?? path));
  const display = relative(process.cwd(), path) || path;
  return { file: path, config: parseConfig(readFileSync(path, "utf8"), display) };
}
