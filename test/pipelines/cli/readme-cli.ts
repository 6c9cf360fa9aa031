// The README's command table, generated from the CLI's own help text (issue 16): each row is a command's
// usage and summary exactly as `slipway <command> --help` prints them, so the README cannot drift from the
// CLI. test/pipelines/cli/help.test.ts compares; `npx tsx test/pipelines/cli/readme-cli.ts` rewrites the block.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { commandIndex } from "../../../pipelines/src/cli/commands.js";
import { run } from "../../../pipelines/src/cli/main.js";
import { REPO_ROOT } from "../../helpers/cli.js";

export const README = join(REPO_ROOT, "README.md");
export const BEGIN = "<!-- BEGIN slipway commands: generated from each command's --help by `npx tsx test/pipelines/cli/readme-cli.ts`; a test fails when it differs -->";
export const END = "<!-- END slipway commands -->";

/** The README section that tells more about each group of commands (the test checks each heading exists). */
export const SECTIONS: Record<string, string> = {
  config: "Configuration: `slipway.yaml`",
  plan: "`slipway plan`",
  scan: "Security gates",
  acr: "Publishing images to Azure Container Registry (no stored credentials)",
  "acr prune": "Registry hygiene",
  "acr abandon": "Rolling back",
  migrate: "Database migrations (TypeORM)",
  gitops: "GitOps image bump",
  rollout: "Rollout verification",
  env: "Environments and releases",
  release: "Environments and releases",
  ledger: "Release ledger and rollback",
  rollback: "Rolling back",
  notify: "Notifications",
  report: "Run reports",
};

/** GitHub's heading anchor: lower case, punctuation but '-' and '_' dropped, spaces to '-'. */
export function anchor(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

async function helpOf(words: string[]): Promise<{ summary: string; usage: string[] }> {
  let out = "";
  const code = await run(["help", ...words], { stdout: (t) => (out += t), stderr: () => undefined, cwd: REPO_ROOT, env: { PATH: process.env.PATH } });
  if (code !== 0) throw new Error(`slipway help ${words.join(" ")} exited ${code}`);
  const lines = out.split("\n");
  const at = lines.indexOf("Usage:");
  const usage: string[] = [];
  for (let i = at + 1; i < lines.length && (lines[i] ?? "").startsWith("  "); i++) usage.push((lines[i] as string).trim());
  return { summary: lines[0] ?? "", usage };
}

/** In a GFM table cell '|' ends the cell even inside a code span. */
const cell = (text: string) => text.replace(/\|/g, "\\|");

export async function commandTable(): Promise<string> {
  const rows = ["| Command | What it does |", "|---|---|"];
  for (const words of [...commandIndex().map((c) => c.words), "version", "help"]) {
    const { summary, usage } = await helpOf(words.split(" "));
    const section = SECTIONS[words] ?? SECTIONS[words.split(" ")[0] as string];
    const see = section === undefined ? "" : ` See [${section.replace(/`/g, "")}](#${anchor(section)}).`;
    rows.push(`| ${usage.map((u) => `\`${cell(u)}\``).join("<br>")} | ${cell(summary.replace(/\.$/, ""))}.${see} |`);
  }
  return `${BEGIN}\n${rows.join("\n")}\n${END}`;
}

/** The generated block as the README has it now, or null without markers. */
export function readmeBlock(readme: string): string | null {
  const start = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  return start === -1 || end === -1 ? null : readme.slice(start, end + END.length);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const readme = readFileSync(README, "utf8");
  const block = readmeBlock(readme);
  if (block === null) throw new Error(`README.md has no ${BEGIN} ... ${END} block`);
  writeFileSync(README, readme.replace(block, await commandTable()));
  console.log("README.md: command table regenerated");
}
