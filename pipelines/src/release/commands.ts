import { defineCommand } from "../cli/command.js";
import type { Io } from "../cli/command.js";
import { commandConfig, printResult } from "../cli/output.js";
import { table } from "../cli/style.js";
import { EXIT, isSlipwayError, ledgerNotVerified, ledgerNothingVerified, releaseGateFailed, releaseInProgress, releaseNotVerifiedFor, usageError } from "../errors.js";
import { formatOptions, PUSH_OPTIONS, pushTarget } from "../gitops/commands.js";
import { renderRecord } from "../gitops/record.js";
// The ledger's path and default here; its reading and the inputs' checks (zod schemas) load when a release
// command runs: `env show`, `env list` and every --help need none of them (issue 16, start-up).
import { DEFAULT_KEEP, ledgerPath } from "../ledger/path.js";
import type * as LedgerInput from "../ledger/input.js";
import type { LedgerEntry, LedgerImage, ServiceMigrations } from "../ledger/schema.js";
import { parseDuration } from "../rollout/duration.js";
import { resolveEnvironment } from "./environment.js";
import type { ResolvedEnvironment } from "./environment.js";

const PUSH_FLAGS = "[--max-attempts N] [--ssh-key FILE] [--known-hosts FILE] [--author 'Name <email>'] [--json] [--config FILE]";
const showUsage = "slipway env show --env ENV [--json] [--config FILE]";
const listUsage = "slipway env list [--json] [--config FILE]";
const beginUsage =
  "slipway release begin --env ENV --source-sha SHA --set IMAGE=TAG@sha256:DIGEST... [--migrated SERVICE=REPORT.json]... [--scan GATE.json] " +
  `[--promoted-from ENV:ID] [--wait 10m] [--stale-after 1h] ${PUSH_FLAGS}`;
const candidateUsage = `slipway release candidate --env ENV [--from ENV] [--id ID | --source-sha SHA] ${PUSH_FLAGS}`;

const SHA = /^[0-9a-f]{7,64}$/;
/** How long `begin` waits by default for a release of the same environment that is still pending. */
const DEFAULT_WAIT_MS = 10 * 60_000;
/**
 * A pending release older than this is taken as abandoned (its pipeline died) and no longer blocks the
 * next one. Default above a rollout's default timeout (10m) with the steps around it.
 */
const DEFAULT_STALE_MS = 60 * 60_000;
const POLL_MS = 5_000;

function environmentOf(io: Io, name: string | undefined, config: string | undefined, usage: string): ResolvedEnvironment {
  if (name === undefined) throw usageError("--env is required", usage);
  ledgerPath(name);
  const loaded = commandConfig(io, config);
  return resolveEnvironment(loaded.config, name, loaded.file);
}

function durationFlag(flag: string, value: string | undefined, fallback: number, usage: string): number {
  if (value === undefined) return fallback;
  const ms = parseDuration(value);
  if (ms === null) throw usageError(`${flag} ${JSON.stringify(value)} is not a duration such as 30s, 10m or 1h (at most 24h)`, usage);
  return ms;
}

export const envShow = defineCommand({
  path: ["env", "show"],
  summary: "Print one environment of slipway.yaml with every default applied (GitOps folder, registry, identity ids, Kubernetes target, migrations)",
  usage: showUsage,
  options: { env: { type: "string", describe: "the environment of slipway.yaml (required)" }, json: { type: "boolean" }, config: { type: "string" } },
  examples: ["slipway env show --env prod", "slipway env show --env dev --config deploy/slipway.yaml --json"],
  async run({ values, io }) {
    const env = environmentOf(io, values.env, values.config, showUsage);
    printResult(io, values.json, env, () => {
      const k = env.kubernetes;
      const target = k.argocdApplication ? `Argo CD ${k.argocdApplication}` : [k.fluxKustomization && `Flux Kustomization ${k.fluxKustomization}`, k.fluxHelmRelease && `Flux HelmRelease ${k.fluxHelmRelease}`].filter(Boolean).join(", ") || "no GitOps controller check";
      return [
        `environment ${env.name}`,
        `  gitops:     ${env.gitops.repository} ${env.gitops.branch} ${env.gitops.path || "."}`,
        `  ledger:     ${env.ledger}`,
        `  registry:   ${env.registry ?? "(publish.registry unset)"}${env.identity.mode ? ` (identity ${env.identity.mode})` : ""}`,
        `  kubernetes: namespace ${k.namespace}, ${k.selector ? `selector ${k.selector}` : `deployments ${k.deployments.join(", ")}`}; ${target}`,
        `  migrate:    ${env.migrate.length > 0 ? env.migrate.map((m) => m.service).join(", ") : "(none)"}`,
        `  promotes from: ${env.promoteFrom ?? "(nothing: releases enter here)"}`,
        "",
      ].join("\n");
    });
    return EXIT.ok;
  },
});

export const envList = defineCommand({
  path: ["env", "list"],
  summary: "List the environments of slipway.yaml and where each promotes from",
  usage: listUsage,
  options: { json: { type: "boolean" }, config: { type: "string" } },
  examples: ["slipway env list", "slipway env list --json"],
  async run({ values, io }) {
    const loaded = commandConfig(io, values.config);
    const envs = Object.keys(loaded.config.environments ?? {}).map((name) => resolveEnvironment(loaded.config, name, loaded.file));
    // {schemaVersion, environments} like every other command's --json (it was a bare array until issue 16).
    printResult(io, values.json, { environments: envs }, () =>
      envs.length === 0
        ? "slipway.yaml declares no environments\n"
        : table(
            ["ENVIRONMENT", "PROMOTES FROM", "BRANCH", "GITOPS PATH", "NAMESPACE", "REGISTRY"],
            envs.map((e) => [e.name, e.promoteFrom ?? "-", e.gitops.branch, e.gitops.path || ".", e.kubernetes.namespace, e.registry ?? "-"]),
          ),
    );
    return EXIT.ok;
  },
});

function migratedFrom(io: Io, values: string[], images: LedgerImage[], usage: string, migrationsFrom: typeof LedgerInput.migrationsFrom): ServiceMigrations[] {
  return values.map((value) => {
    const at = value.indexOf("=");
    const service = value.slice(0, at);
    const path = value.slice(at + 1);
    if (at <= 0 || path === "") throw usageError(`--migrated ${JSON.stringify(value)} must be SERVICE=FILE (the service's \`slipway migrate run --json\` report)`, usage);
    // The image whose code carries these migrations' down(): the released image of the same service.
    const image = images.find((i) => i.image === service || i.image.endsWith(`/${service}`));
    return { service, ...migrationsFrom(io, "--migrated", path), ...(image ? { image: `${image.image}@${image.digest}` } : {}) };
  });
}

function sameRelease(entry: LedgerEntry, sourceSha: string, images: LedgerImage[], path: string): boolean {
  const key = (list: LedgerImage[]) => list.map((i) => `${i.image}=${i.tag}@${i.digest}`).sort().join("\n");
  return entry.sourceSha === sourceSha && (entry.path ?? "") === path && key(entry.images) === key(images);
}

/** When a pending release last changed: a release in flight keeps the environment until it ends or goes stale. */
function lastChange(entry: LedgerEntry): number {
  return Date.parse(entry.history?.at(-1)?.at ?? entry.at);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const releaseBegin = defineCommand({
  path: ["release", "begin"],
  summary: "Start a release of an environment: bump its GitOps folder and record the release pending in its ledger, in ONE commit",
  usage: beginUsage,
  options: {
    ...PUSH_OPTIONS,
    env: { type: "string", describe: "the environment to release to (required)" },
    "source-sha": { type: "string", describe: "the services' commit being released (required)" },
    set: { type: "string", multiple: true, value: "IMAGE=TAG@sha256:DIGEST", describe: "an image released, by digest (required)" },
    migrated: { type: "string", multiple: true, value: "SERVICE=REPORT.json", describe: "a service's `slipway migrate run --json` report" },
    scan: { type: "string" },
    "promoted-from": { type: "string", value: "ENV:ID", describe: "the verified release this one promotes, e.g. staging:12" },
    wait: { type: "string", value: "DURATION", describe: "wait this long for a pending release of the environment to end", defaultText: "10m" },
    "stale-after": { type: "string", value: "DURATION", describe: "a pending release unchanged this long is taken as abandoned", defaultText: "1h" },
  },
  examples: [
    "SLIPWAY_GIT_TOKEN=... slipway release begin --env dev --source-sha $GITHUB_SHA --set myacr.azurecr.io/shop/api=sha-0123456789ab@sha256:<64 hex> --scan gate.json --json",
  ],
  async run({ values, io }) {
    const env = environmentOf(io, values.env, values.config, beginUsage);
    const { target, gitops } = pushTarget(values, io, beginUsage, env.name);
    const sourceSha = values["source-sha"];
    if (sourceSha === undefined || !SHA.test(sourceSha)) throw usageError(`--source-sha ${sourceSha === undefined ? "is required" : `${JSON.stringify(sourceSha)} is not a commit SHA`}`, beginUsage);
    const [{ appendEntry }, { imagesFrom, migrationsFrom, scanFrom }] = await Promise.all([import("../ledger/ledger.js"), import("../ledger/input.js")]);
    const images = imagesFrom(values.set, beginUsage);
    const migrated = migratedFrom(io, values.migrated ?? [], images, beginUsage, migrationsFrom);
    const scan = values.scan === undefined ? undefined : scanFrom(io, values.scan);
    if (scan && !scan.passed) throw releaseGateFailed(env.name, "(new)");
    let promotedFrom: { environment: string; id: string } | undefined;
    if (values["promoted-from"] !== undefined) {
      const match = /^([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?):([1-9][0-9]{0,9})$/.exec(values["promoted-from"]);
      if (!match) throw usageError(`--promoted-from ${JSON.stringify(values["promoted-from"])} must be ENV:ID, e.g. staging:12`, beginUsage);
      promotedFrom = { environment: match[1] as string, id: match[2] as string };
    }
    const waitMs = durationFlag("--wait", values.wait, DEFAULT_WAIT_MS, beginUsage);
    const staleMs = durationFlag("--stale-after", values["stale-after"], DEFAULT_STALE_MS, beginUsage);
    const keep = commandConfig(io, values.config).config.ledger?.keep ?? DEFAULT_KEEP;
    // git is loaded here, not for `--help` (issue 16).
    const { changeLedger, readLedger } = await import("../ledger/git.js");
    const started = Date.now();
    const blockedBy = (newest: LedgerEntry) => releaseInProgress(env.name, newest.id, newest.sourceSha, newest.history?.at(-1)?.at ?? newest.at, Date.now() - started);
    for (;;) {
      try {
        const { push, result } = await changeLedger(
          {
            ...target,
            path: env.gitops.path,
            images: images.map((i) => ({ ...i })),
            policies: [],
            options: formatOptions(gitops),
            allowMissing: false,
            sourceSha,
            messageTemplate: `release(${env.name}): ${sourceSha.slice(0, 12)}${promotedFrom ? ` promoted from ${promotedFrom.environment} release ${promotedFrom.id}` : ""}\n\n{{changes}}`,
          },
          env.ledger,
          env.name,
          (ledger) => {
            // Decided on the ledger at the branch tip, again after every lost race: two releases of one
            // environment never interleave, since the second sees the first one's pending entry.
            const newest = ledger.entries.at(-1);
            // Our own entry already on the tip (a push that landed although git reported it failed, then
            // retried; or this step run again): the release is recorded, nothing more to write.
            if (newest?.status === "pending" && sameRelease(newest, sourceSha, images, env.gitops.path)) return { ledger, result: newest };
            if (newest?.status === "pending" && Date.now() - lastChange(newest) < staleMs) throw blockedBy(newest);
            const added = appendEntry(
              ledger,
              {
                sourceSha,
                images,
                path: env.gitops.path,
                ...(migrated.length > 0 ? { migrated } : {}),
                ...(scan ? { scan } : {}),
                ...(promotedFrom ? { promotedFrom } : {}),
                status: "pending",
              },
              keep,
              new Date(),
            );
            return { ledger: added.ledger, result: added.entry };
          },
        );
        const entry = { ...result, gitopsCommit: push.commit };
        printResult(io, values.json, { environment: env.name, path: env.gitops.path, entry, ...push }, () =>
          [renderRecord(push.record, false).trimEnd(), `release ${entry.id} of ${env.name} recorded pending in ${env.ledger}`, `pushed ${push.commit} to ${target.branch} (attempt ${push.attempts})`, ""].join("\n"),
        );
        return EXIT.ok;
      } catch (caught) {
        let error = caught;
        if (isSlipwayError(error) && error.code === "SLIPWAY_GITOPS_CONFLICT") {
          // Another writer changed the same image lines between our clone and our push. When that writer
          // was a release of this environment, its pending entry is now on the tip: wait for it like any
          // release in progress. Anyone else's edit is a real conflict, reported as such.
          const { ledger } = await readLedger(target, env.ledger, env.name);
          const newest = ledger.entries.at(-1);
          if (newest?.status !== "pending" || Date.now() - lastChange(newest) >= staleMs) throw error;
          error = blockedBy(newest);
        }
        if (!isSlipwayError(error) || error.code !== "SLIPWAY_RELEASE_IN_PROGRESS") throw error;
        if (Date.now() - started >= waitMs) throw error;
        io.stderr(`${error.message}; waiting (up to ${Math.round(waitMs / 1000)} s)\n`);
        // Timed as --wait is, from the first attempt: the pushes between polls clear the line, the wait goes on.
        io.status?.(`release: waiting for the ${env.name} release in progress to end (--wait ${Math.round(waitMs / 1000)} s)`, started);
        await sleep(Math.min(POLL_MS, Math.max(0, waitMs - (Date.now() - started))));
      }
    }
  },
});

/**
 * What `promote` takes: the newest release verified in the source environment (or `--id`, which must be
 * verified), read from its ledger. Nothing is written.
 */
export const releaseCandidate = defineCommand({
  path: ["release", "candidate"],
  summary: "Name the verified release an environment would promote: images by digest from its promoteFrom environment's ledger",
  usage: candidateUsage,
  options: {
    ...PUSH_OPTIONS,
    env: { type: "string", describe: "the environment that would promote (required)" },
    from: { type: "string", value: "ENV", describe: "the environment to promote from", defaultText: "the environment's promoteFrom in slipway.yaml" },
    id: { type: "string", describe: "this release of --from, which must be verified", defaultText: "the newest verified" },
    "source-sha": { type: "string", describe: "the newest verified release of this commit (a pipeline promotes its own release)" },
  },
  examples: ["slipway release candidate --env prod --json", "slipway release candidate --env prod --from staging --id 12"],
  async run({ values, io }) {
    const env = environmentOf(io, values.env, values.config, candidateUsage);
    const fromName = values.from ?? env.promoteFrom;
    if (fromName === null || fromName === undefined) {
      throw usageError(`environment ${JSON.stringify(env.name)} has no promoteFrom in slipway.yaml: give --from ENV`, candidateUsage);
    }
    const from = environmentOf(io, fromName, values.config, candidateUsage);
    const { target } = pushTarget(values, io, candidateUsage, from.name);
    const [{ readLedger }, { findEntry }] = await Promise.all([import("../ledger/git.js"), import("../ledger/ledger.js")]);
    const { ledger, head } = await readLedger(target, from.ledger, from.name);
    let entry: LedgerEntry | undefined;
    if (values.id !== undefined) {
      entry = findEntry(ledger, values.id);
      if (entry.status !== "verified") throw ledgerNotVerified(from.name, values.id, entry.status);
    } else {
      const sha = values["source-sha"];
      if (sha !== undefined && !SHA.test(sha)) throw usageError(`--source-sha ${JSON.stringify(sha)} is not a commit SHA`, candidateUsage);
      // With --source-sha: the release this pipeline run made, not whatever was verified since.
      entry = ledger.entries.findLast((e) => e.status === "verified" && (sha === undefined || e.sourceSha === sha || (sha.length < 40 && e.sourceSha.startsWith(sha))));
      if (!entry && sha !== undefined) throw releaseNotVerifiedFor(from.name, sha);
      if (!entry) throw ledgerNothingVerified(from.name, ledger.entries.length);
    }
    const chosen = entry;
    const sets = chosen.images.map((i) => `${i.image}=${i.tag}@${i.digest}`);
    printResult(io, values.json, { environment: env.name, from: from.name, entry: chosen, sets, ledgerCommit: head }, () =>
      `${env.name} would promote ${from.name} release ${chosen.id} (source ${chosen.sourceSha.slice(0, 12)}, verified):\n${sets.map((s) => `  ${s}`).join("\n")}\n`,
    );
    return EXIT.ok;
  },
});

export const RELEASE_COMMANDS = [envShow, envList, releaseBegin, releaseCandidate];
