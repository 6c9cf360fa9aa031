import { cpSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { cli, REPO_ROOT } from "../../helpers/cli.js";
import { removeTree } from "../../helpers/repo.js";

const FIXTURES = join(REPO_ROOT, "test", "fixtures", "gitops");
const CASES = readdirSync(FIXTURES).filter((d) => statSync(join(FIXTURES, d)).isDirectory()).sort();

interface CaseArgs {
  set?: string[];
  policy?: string[];
  config?: unknown;
}

/** Every file under `dir`, relative path -> bytes as text (CRLF kept). */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const visit = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) visit(p);
      else out[relative(dir, p)] = readFileSync(p, "latin1");
    }
  };
  visit(dir);
  return out;
}

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) removeTree(dirs.pop() as string);
});

/** Copies a case's input to a temp dir (plus slipway.yaml when the case has config); returns argv. */
function prepare(name: string): { work: string; cwd: string; argv: string[] } {
  const args = JSON.parse(readFileSync(join(FIXTURES, name, "case.json"), "utf8")) as CaseArgs;
  const work = mkdtempSync(join(tmpdir(), `slipway-golden-${name}-`));
  const cwd = mkdtempSync(join(tmpdir(), "slipway-golden-cwd-"));
  dirs.push(work, cwd);
  cpSync(join(FIXTURES, name, "input"), work, { recursive: true });
  if (args.config) writeFileSync(join(cwd, "slipway.yaml"), stringify(args.config));
  const argv = ["gitops", "bump", "--repo", work, ...(args.set ?? []).flatMap((s) => ["--set", s]), ...(args.policy ?? []).flatMap((p) => ["--policy", p])];
  return { work, cwd, argv };
}

describe("pipelines/src/gitops (golden directories)", () => {
  it.each(CASES)("%s: the tree after the bump equals expected/ byte for byte, decoys untouched", async (name) => {
    const { work, cwd, argv } = prepare(name);
    const result = await cli(argv, cwd);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(tree(work)).toEqual(tree(join(FIXTURES, name, "expected")));
  });

  it.each(CASES)("%s: a second identical bump changes nothing and says 'already at'", async (name) => {
    const { work, cwd, argv } = prepare(name);
    expect((await cli(argv, cwd)).code).toBe(0);
    const again = await cli([...argv, "--json"], cwd);
    expect(again.code).toBe(0);
    const out = JSON.parse(again.stdout) as { written: string[]; record: { files: object; alreadyAt: string[]; changed: string[] } };
    expect(out.written).toEqual([]);
    expect(out.record.files).toEqual({});
    expect(out.record.changed).toEqual([]);
    expect(out.record.alreadyAt.length).toBeGreaterThan(0);
    expect(tree(work)).toEqual(tree(join(FIXTURES, name, "expected")));
  });

  it.each(CASES)("%s: --dry-run reports the changes and writes nothing", async (name) => {
    const { work, cwd, argv } = prepare(name);
    const result = await cli([...argv, "--dry-run", "--json"], cwd);
    expect(result.code).toBe(0);
    const out = JSON.parse(result.stdout) as { written: string[]; record: { files: Record<string, unknown> } };
    expect(out.written).toEqual([]);
    expect(Object.keys(out.record.files).length).toBeGreaterThan(0);
    expect(tree(work)).toEqual(tree(join(FIXTURES, name, "input")));
  });
});
