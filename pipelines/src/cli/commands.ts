import type { Command } from "./command.js";

/**
 * Every command of the `slipway` CLI, by area. Each area exports its commands from `<area>/commands.ts`
 * and is loaded only when one of its commands runs: the areas pull in large libraries
 * (@kubernetes/client-node, @azure/*, TypeORM's loader), and loading them all cost every invocation
 * close to a second and 140 MB before it did anything.
 */
export const AREAS: { words: string[]; load: () => Promise<Command[]> }[] = [
  { words: ["config"], load: async () => Object.values(await import("../config/commands.js")) as Command[] },
  { words: ["plan"], load: async () => [(await import("../plan/commands.js")).planCommand] },
  { words: ["acr"], load: async () => (await import("../acr/commands.js")).ACR_COMMANDS },
  { words: ["rollout"], load: async () => [(await import("../rollout/commands.js")).rolloutVerify] },
  { words: ["migrate"], load: async () => (await import("../migrate/commands.js")).MIGRATE_COMMANDS },
  { words: ["scan"], load: async () => (await import("../scan/commands.js")).SCAN_COMMANDS },
  { words: ["gitops"], load: async () => (await import("../gitops/commands.js")).GITOPS_COMMANDS },
  { words: ["ledger", "rollback"], load: async () => (await import("../ledger/commands.js")).LEDGER_COMMANDS },
  { words: ["env", "release"], load: async () => (await import("../release/commands.js")).RELEASE_COMMANDS },
];

/** The commands that can answer `argv`: one area's when the first word names it, else all (help, typos). */
export async function loadCommands(argv: string[] = []): Promise<Command[]> {
  const area = AREAS.find((a) => a.words.includes(argv[0] ?? ""));
  const lists = await Promise.all((area ? [area] : AREAS).map((a) => a.load()));
  return lists.flat();
}
