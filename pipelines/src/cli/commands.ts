import type { Command } from "./command.js";

/** An area of the CLI: the first words that select it, its commands (words → summary) and its loader. */
export interface Area {
  words: string[];
  /**
   * Each command's words and summary, as its definition says (a test checks they agree): `slipway --help`,
   * group help and "did you mean" read them here, so they load no area at all.
   */
  commands: Record<string, string>;
  load: () => Promise<Command[]>;
}

/**
 * Every command of the `slipway` CLI, by area. Each area exports its commands from `<area>/commands.ts`
 * and is loaded only when one of its commands runs or shows its help: the areas pull in large libraries
 * (@kubernetes/client-node, @azure/*, TypeORM's loader), and loading them all cost every invocation
 * close to a second and 140 MB before it did anything.
 */
export const AREAS: Area[] = [
  {
    words: ["config"],
    commands: { "config check": "Validate slipway.yaml and report every problem at once", "config schema": "Print the JSON Schema of slipway.yaml" },
    load: async () => Object.values(await import("../config/commands.js")) as Command[],
  },
  {
    words: ["plan"],
    commands: { plan: "List the services and which are affected since a base ref" },
    load: async () => [(await import("../plan/commands.js")).planCommand],
  },
  {
    words: ["scan"],
    commands: {
      "scan gate": "Decide the security gate from scanner JSON reports under slipway.yaml policy; write SARIF, JUnit, Markdown",
      "scan argv": "Print (JSON) the pinned image and argv that run one scanner, for the Dagger module",
    },
    load: async () => (await import("../scan/commands.js")).SCAN_COMMANDS,
  },
  {
    words: ["acr"],
    commands: {
      "acr login": "Exchange a federated identity for an ACR refresh token, written only to --out (mode 0600)",
      "acr tags": "Compute the immutable tags, refs and OCI annotations of a service image from git",
      "acr check": "Before a push: refuse to move an immutable tag; report when this commit is already published",
      "acr verify": "After a push: every tag resolves to the pushed digest; optionally lock the image (canDelete/canWrite false)",
      "acr mark": "Tag an image already in the registry by digest (e.g. failed-<id> after a rollback), never moving an existing tag",
      "acr prune": "Delete a repository's manifests no release ledger references, keeping the last N verified releases of each environment; plan first",
      "acr abandon": "After a rollback: tag an abandoned image failed-<id>, lock it, or delete its mutable tags (the rollback registry policy); the digest is never deleted",
    },
    load: async () => (await import("../acr/commands.js")).ACR_COMMANDS,
  },
  {
    words: ["migrate"],
    commands: {
      "migrate status": "Show applied and pending TypeORM migrations, unknown ones, the lock and interrupted runs",
      "migrate run": "Apply pending migrations under a lock; on failure revert what this run applied",
      "migrate revert": "Revert applied migrations down to --to NAME (kept) or the last --count N, each in its own transaction",
    },
    load: async () => (await import("../migrate/commands.js")).MIGRATE_COMMANDS,
  },
  {
    words: ["gitops"],
    commands: {
      "gitops bump": "Set image tags/digests in a GitOps checkout, editing YAML in place; print the change record",
      "gitops commit-push": "Clone the GitOps repo, bump images, make one commit and push it, retrying on concurrent writers",
    },
    load: async () => (await import("../gitops/commands.js")).GITOPS_COMMANDS,
  },
  {
    words: ["rollout"],
    commands: { "rollout verify": "Wait for the GitOps commit to be applied, then prove the Deployments, StatefulSets and DaemonSets healthy, failing fast" },
    load: async () => [(await import("../rollout/commands.js")).rolloutVerify],
  },
  {
    words: ["env", "release"],
    commands: {
      "env show": "Print one environment of slipway.yaml with every default applied (GitOps folder, registry, identity ids, Kubernetes target, migrations)",
      "env list": "List the environments of slipway.yaml and where each promotes from",
      "release begin": "Start a release of an environment: bump its GitOps folder and record the release pending in its ledger, in ONE commit",
      "release candidate": "Name the verified release an environment would promote: images by digest from its promoteFrom environment's ledger",
    },
    load: async () => (await import("../release/commands.js")).RELEASE_COMMANDS,
  },
  {
    words: ["ledger", "rollback"],
    commands: {
      "ledger record": "Record a release (source SHA, image digests, GitOps commit, migrations, scan) in the environment's ledger",
      "ledger mark": "Set a recorded release's status to verified or failed (after rollout verify)",
      "ledger show": "Print an environment's release ledger, newest last",
      rollback:
        "Return an environment to an earlier verified release from the ledger: prints the plan first (Git, migrations, registry), then one new commit, never a force-push",
    },
    load: async () => (await import("../ledger/commands.js")).LEDGER_COMMANDS,
  },
  {
    words: ["notify"],
    commands: {
      notify: "Post a release event (started, verified, failed, rolled-back) to the environment's Slack and Teams webhooks; a failed post is a warning",
    },
    load: async () => (await import("../notify/commands.js")).NOTIFY_COMMANDS,
  },
  {
    words: ["report"],
    commands: {
      report: "Render a run report (ci, release, promote, rollback) as Markdown, one self-contained HTML page, JUnit or SARIF",
    },
    load: async () => (await import("../report/commands.js")).REPORT_COMMANDS,
  },
];

/** Every command's words and summary, in the order `slipway --help` lists them, without loading any area. */
export function commandIndex(): { words: string; summary: string }[] {
  return AREAS.flatMap((a) => Object.entries(a.commands).map(([words, summary]) => ({ words, summary })));
}

/** The commands that can answer `argv`: one area's when the first word names it, else all. */
export async function loadCommands(argv: string[] = []): Promise<Command[]> {
  const area = AREAS.find((a) => a.words.includes(argv[0] ?? ""));
  const lists = await Promise.all((area ? [area] : AREAS).map((a) => a.load()));
  return lists.flat();
}
