// What a service's Dockerfile copies from its build context, to warn before the build when the planned
// context does not hold it (e.g. `COPY package-lock.json ./` when the context is the service folder of a
// workspace member). dockerfile-ast is the parser behind the Dockerfile language server: it handles line
// continuations, the escape directive, flags, JSON and heredoc forms, which a line scan gets wrong.
import { existsSync, readFileSync } from "node:fs";
import { join, posix, resolve, sep } from "node:path";
import { DockerfileParser } from "dockerfile-ast";
import { globSync } from "tinyglobby";

/** A source of a COPY/ADD that reads the build context, with its line (1-based). */
export interface CopySource {
  instruction: "COPY" | "ADD";
  source: string;
  line: number;
}

const REMOTE = /^(?:https?:\/\/|git@|git:\/\/)/;

/**
 * Context paths the Dockerfile copies: COPY/ADD sources without `--from` (another stage or image), not
 * heredocs, not URLs (ADD), not containing build variables (unknown until build time).
 */
export function copySources(dockerfile: string): CopySource[] {
  const out: CopySource[] = [];
  for (const instruction of DockerfileParser.parse(dockerfile).getInstructions()) {
    const keyword = instruction.getKeyword();
    if (keyword !== "COPY" && keyword !== "ADD") continue;
    const flags = "getFlags" in instruction ? (instruction as unknown as { getFlags(): Array<{ getName(): string }> }).getFlags() : [];
    if (flags.some((f) => f.getName() === "from")) continue;
    const content = (instruction.getArgumentsContent() ?? "").trim();
    let args: string[];
    if (content.startsWith("[")) {
      try {
        const parsed: unknown = JSON.parse(content);
        args = Array.isArray(parsed) && parsed.every((a) => typeof a === "string") ? (parsed as string[]) : [];
      } catch {
        args = instruction.getArguments().map((a) => a.getValue());
      }
    } else {
      args = instruction.getArguments().map((a) => a.getValue());
    }
    if (args.some((a) => a.startsWith("<<"))) continue;
    const line = instruction.getRange().start.line + 1;
    for (const source of args.slice(0, -1)) {
      if (REMOTE.test(source) || source.includes("$")) continue;
      out.push({ instruction: keyword, source, line });
    }
  }
  return out;
}

/**
 * Sources that the context does not hold: a missing path, a glob that matches nothing, or a path that
 * leaves the context (Docker refuses those). Paths are relative to the context; a leading `/` too.
 * .dockerignore is not applied: a file it excludes is reported as present (a missed warning, never a false one).
 */
export function missingInContext(contextDir: string, sources: CopySource[]): Array<CopySource & { why: string }> {
  const root = resolve(contextDir);
  const missing: Array<CopySource & { why: string }> = [];
  for (const entry of sources) {
    const rel = posix.normalize(entry.source.replace(/^\/+/, "")).replace(/\/+$/, "") || ".";
    const full = resolve(root, rel);
    if (full !== root && !full.startsWith(root + sep)) {
      missing.push({ ...entry, why: "is outside the build context" });
      continue;
    }
    if (/[*?[]/.test(rel)) {
      if (globSync(rel, { cwd: root, dot: true, onlyFiles: false, expandDirectories: false }).length === 0) {
        missing.push({ ...entry, why: "matches nothing in the build context" });
      }
      continue;
    }
    if (!existsSync(join(root, rel))) missing.push({ ...entry, why: "does not exist in the build context" });
  }
  return missing;
}

/** One warning per missing source of one service's Dockerfile. */
export function dockerfileWarnings(root: string, service: { name: string; dockerfile: string; context: string }): string[] {
  const sources = copySources(readFileSync(join(root, service.dockerfile), "utf8"));
  return missingInContext(join(root, service.context), sources).map(
    (m) =>
      `service "${service.name}": ${service.dockerfile}:${m.line} ${m.instruction} ${JSON.stringify(m.source)} ${m.why} ` +
      `"${service.context}"; set \`context\` for it in slipway.yaml, or fix the Dockerfile`,
  );
}
