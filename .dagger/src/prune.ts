// `prune` (issue 12, registry hygiene): the argv of `slipway acr prune` in the toolkit. Every decision (what
// the ledgers reference, what is kept and why, what a failure leaves) is the CLI's (pipelines/src/acr/prune.ts).
import type { Container } from "@dagger.io/dagger";

import { cliFailure, optional } from "./cli.js";
import { fresh, runCommand } from "./exec.js";

export type PruneRequest = {
  repository: string;
  keep: number;
  dryRun: boolean;
  registry?: string;
  mode?: string;
  minAge?: string;
  /** The GitOps repository and branch holding the ledgers; default: slipway.yaml's (gitops:, environments:). */
  gitopsRepository?: string;
  branch?: string;
};

/** The source is mounted at `src`: slipway.yaml's publish: (registry, identity ids) and gitops:/environments:. */
export function pruneCliCommand(request: PruneRequest, src: string): string[] {
  return [
    "slipway", "acr", "prune",
    "--repository", request.repository,
    "--keep", String(request.keep),
    ...optional("--registry", request.registry),
    ...optional("--mode", request.mode),
    ...optional("--min-age", request.minAge),
    ...optional("--repo", request.gitopsRepository),
    ...optional("--branch", request.branch),
    ...(request.dryRun ? ["--dry-run"] : []),
    "--source", src,
  ];
}

/**
 * Runs the prune in `ctr` (the toolkit with the identity, the source at `src` and the GitOps token). Returns
 * the CLI's text (plan, then each delete); a failure keeps that text in the error, before the CLI's own.
 */
export async function runPrune(ctr: Container, request: PruneRequest, src: string): Promise<string> {
  const command = pruneCliCommand(request, src);
  const { run } = await runCommand(fresh(ctr), command);
  if (run.exitCode !== 0) throw cliFailure(command, run, true);
  return run.stdout;
}
