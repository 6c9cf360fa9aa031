import { existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { rootCertificates } from "node:tls";
import { dirname, join, resolve } from "node:path";
import { ALWAYS_JSON, defineCommand } from "../cli/command.js";
import { commandConfig, printJson } from "../cli/output.js";
import type { CommandContext, Io } from "../cli/command.js";
import type { SlipwayConfig } from "../config/schema.js";
import { acrPruneKeepInvalid, acrPruneNoLedger, EXIT, usageError } from "../errors.js";
import type { LoginResult } from "./exchange.js";
import type { ClientOptions } from "../azure/http.js";
import { ACR_IDENTITY_MODES as IDENTITY_MODES } from "../azure/modes.js";
import type { ResolvedIdentity } from "./identity.js";
import { ACR_TOKEN_USERNAME, parseRegistry, repositoryFor } from "./registry.js";
import type { PublishSettings } from "./schema.js";
import { checkInputFile, checkOutputFile } from "../cli/paths.js";
import type { PushTarget } from "../gitops/commands.js";

/**
 * The modules that reach Entra ID, git and the registry (@azure/identity, @azure/container-registry,
 * simple-git), loaded when a command runs rather than with this module: `--help` needs none (issue 16).
 */
async function acr() {
  const [identity, exchange, labels, tags, verify] = await Promise.all([import("./identity.js"), import("./exchange.js"), import("./labels.js"), import("./tags.js"), import("./verify.js")]);
  return { ...identity, ...exchange, ...labels, ...tags, ...verify };
}
type Acr = Awaited<ReturnType<typeof acr>>;

/** What `acr tags` uses: git, the tag rules and the identity mode; no Azure SDK, no zod (issue 16). */
async function tagging() {
  const [mode, labels, tags] = await Promise.all([import("./mode.js"), import("./labels.js"), import("./tags.js")]);
  return { ...mode, ...labels, ...tags };
}

const REPOSITORY_OPTION = { type: "string", value: "REPO", describe: "the repository in the registry, e.g. shop/api (required)" } as const;

const identityOptions = {
  registry: { type: "string", describe: "the registry: NAME.azurecr.io (any host with --mode static)" },
  mode: { type: "string", value: IDENTITY_MODES.join("|"), describe: "how to get an Entra ID token", defaultText: "publish.identity.mode in slipway.yaml, else detected from the CI environment" },
  "tenant-id": { type: "string", value: "ID", describe: "the Entra ID tenant", defaultText: "publish.identity.tenantId in slipway.yaml, else AZURE_TENANT_ID" },
  "client-id": { type: "string", value: "ID", describe: "the app registration or managed identity", defaultText: "publish.identity.clientId in slipway.yaml, else AZURE_CLIENT_ID" },
  "authority-host": { type: "string", value: "URL", describe: "the Entra ID authority (sovereign clouds)", defaultText: "publish.identity.authorityHost in slipway.yaml, else AZURE_AUTHORITY_HOST, else Azure's public cloud" },
  "service-connection-id": { type: "string", value: "ID", describe: "azure-pipelines: the service connection whose OIDC token is requested", defaultText: "publish.identity.serviceConnectionId in slipway.yaml" },
  username: { type: "string", value: "NAME", describe: "static: the registry user (the password only ever from SLIPWAY_REGISTRY_PASSWORD)", defaultText: "publish.identity.username in slipway.yaml, else SLIPWAY_REGISTRY_USERNAME" },
  source: { type: "string", describe: "the repository whose slipway.yaml publish: section applies" },
  config: { type: "string" },
  "ca-file": { type: "string", value: "PEM", describe: "extra CA certificates for a registry or proxy behind a private CA", env: "SLIPWAY_CA_FILE" },
  json: ALWAYS_JSON,
} as const;

const IDENTITY_USAGE =
  `--registry HOST [--mode ${IDENTITY_MODES.join("|")}] [--tenant-id ID] [--client-id ID] [--authority-host URL] ` +
  "[--service-connection-id ID] [--username NAME] [--ca-file PEM] [--source DIR] [--config FILE] [--json]";

type IdentityValues = CommandContext<typeof identityOptions>["values"];

function publishSettings(values: { source?: string; config?: string }, io: Io): PublishSettings {
  const { config } = commandConfig(io, values.config, resolve(io.cwd, values.source ?? "."));
  return (config as SlipwayConfig & { publish?: PublishSettings }).publish ?? {};
}

/**
 * Extra CA certificates (a registry or proxy behind a private CA): added to Node's bundled roots, never replacing
 * them, so Entra ID and GitHub stay verifiable in the same run. NODE_EXTRA_CA_CERTS works too; this also works
 * in-process and per command.
 */
function clientOptions(values: IdentityValues, io: Io, usage: string): ClientOptions {
  const file = values["ca-file"] ?? io.env.SLIPWAY_CA_FILE;
  if (file === undefined || file === "") return {};
  const path = resolve(io.cwd, file);
  if (!existsSync(path)) throw usageError(`--ca-file ${JSON.stringify(file)} does not exist`, usage);
  checkInputFile("--ca-file", file, path);
  const pem = readFileSync(path, "utf8");
  if (!pem.includes("-----BEGIN CERTIFICATE-----")) throw usageError(`--ca-file ${JSON.stringify(file)} holds no PEM certificate`, usage);
  return { tlsOptions: { ca: [...rootCertificates, pem] } };
}

/** Flags > slipway.yaml `publish:` > environment. Validates the registry against the mode before any network call. */
function settle(
  m: Acr,
  values: IdentityValues,
  io: Io,
  usage: string,
): { registry: string; identity: ResolvedIdentity; settings: PublishSettings; options: ClientOptions } {
  const settings = publishSettings(values, io);
  const mode = values.mode === undefined ? undefined : m.identityMode(values.mode);
  if (values.mode !== undefined && mode === undefined) {
    throw usageError(`--mode ${JSON.stringify(values.mode)} is not one of ${IDENTITY_MODES.join(", ")}`, usage);
  }
  const registryInput = values.registry ?? settings.registry;
  if (registryInput === undefined) throw usageError("--registry is required (or set publish.registry in slipway.yaml)", usage);
  const identity = m.resolveIdentity(
    {
      mode,
      tenantId: values["tenant-id"],
      clientId: values["client-id"],
      authorityHost: values["authority-host"],
      serviceConnectionId: values["service-connection-id"],
      username: values.username,
    },
    settings.identity,
    io.env,
  );
  return { registry: parseRegistry(registryInput, identity.mode), identity, settings, options: clientOptions(values, io, usage) };
}

const loginUsage = `slipway acr login ${IDENTITY_USAGE} [--out FILE]`;

export const acrLogin = defineCommand({
  path: ["acr", "login"],
  summary: "Exchange a federated identity for an ACR refresh token, written only to --out (mode 0600)",
  usage: loginUsage,
  options: { ...identityOptions, out: { type: "string", value: "FILE", describe: "where the token is written (mode 0600); never printed", defaultText: "slipway-registry-<registry>.token in RUNNER_TEMP, AGENT_TEMPDIRECTORY or the temporary folder" } },
  examples: ["slipway acr login --registry myacr.azurecr.io --mode github --tenant-id $TENANT --client-id $CLIENT --out /run/acr.token"],
  async run({ values, io }) {
    const m = await acr();
    const { registry, identity, options } = settle(m, values, io, loginUsage);
    const out = resolve(io.cwd, values.out ?? join(io.env.RUNNER_TEMP ?? io.env.AGENT_TEMPDIRECTORY ?? tmpdir(), `slipway-registry-${registry.replace(/[^a-z0-9.-]/g, "_")}.token`));
    // Checked before any token is requested, so a typo in --out costs no identity round trip.
    if (!existsSync(dirname(out))) throw usageError(`--out ${JSON.stringify(values.out ?? out)}: folder ${JSON.stringify(dirname(out))} does not exist`, loginUsage);
    checkOutputFile("--out", values.out ?? out, out);
    let password: string;
    let username: string;
    let expiresOn: string | null = null;
    if (identity.mode === "static") {
      username = identity.username ?? "";
      password = identity.password ?? "";
    } else {
      const aad = await m.aadTokenForAcr(identity, m.createCredential(identity, options));
      const exchanged = await m.exchangeForRefreshToken(registry, aad, identity.tenantId, identity.mode, options);
      username = ACR_TOKEN_USERNAME;
      password = exchanged.refreshToken;
      expiresOn = exchanged.expiresOn;
    }
    m.writeSecretFile(out, password);
    const result: LoginResult = { registry, mode: identity.mode, username, passwordFile: out, expiresOn };
    printJson(io, result);
    return EXIT.ok;
  },
});

const tagsUsage = "slipway acr tags --service NAME [--source DIR] [--registry HOST] [--mode M] [--branch-tag] [--latest] [--tag TAG]... [--config FILE] [--json]";

export const acrTags = defineCommand({
  path: ["acr", "tags"],
  summary: "Compute the immutable tags, refs and OCI annotations of a service image from git",
  usage: tagsUsage,
  options: {
    service: { type: "string", describe: "the service whose image is tagged (required)" },
    source: { type: "string", describe: "the repository: its HEAD commit, tags and branch name the image" },
    registry: { type: "string" },
    mode: { type: "string", value: IDENTITY_MODES.join("|"), describe: "the identity mode, which decides the registry hosts accepted", defaultText: "publish.identity.mode in slipway.yaml, else detected" },
    "branch-tag": { type: "boolean", describe: "add a moving branch-<name> tag", defaultText: "publish.tags.branch in slipway.yaml, else off" },
    latest: { type: "boolean", describe: "add a moving latest tag", defaultText: "publish.tags.latest in slipway.yaml, else off" },
    tag: { type: "string", multiple: true, describe: "an extra tag" },
    config: { type: "string" },
    json: ALWAYS_JSON,
  },
  examples: ["slipway acr tags --service api --registry myacr.azurecr.io", "slipway acr tags --service api --source . --latest --tag canary"],
  async run({ values, io }) {
    if (values.service === undefined) throw usageError("--service is required", tagsUsage);
    const m = await tagging();
    const requested = values.mode === undefined ? undefined : m.identityMode(values.mode);
    if (values.mode !== undefined && requested === undefined) {
      throw usageError(`--mode ${JSON.stringify(values.mode)} is not one of ${IDENTITY_MODES.join(", ")}`, tagsUsage);
    }
    const source = resolve(io.cwd, values.source ?? ".");
    const settings = publishSettings(values, io);
    const registryInput = values.registry ?? settings.registry;
    if (registryInput === undefined) throw usageError("--registry is required (or set publish.registry in slipway.yaml)", tagsUsage);
    const mode = requested ?? settings.identity?.mode ?? m.detectMode(io.env);
    const registry = parseRegistry(registryInput, mode);
    const repository = repositoryFor(values.service, settings.repositoryPrefix);
    for (const tag of [...(values.tag ?? []), ...(settings.tags?.extra ?? [])]) m.validateTag(tag);
    const info = await m.readSource(source, io.env);
    const plan = m.computeTags({
      sha: info.sha,
      gitTags: info.gitTags,
      service: values.service,
      branch: info.branch ?? undefined,
      branchTag: values["branch-tag"] ?? settings.tags?.branch ?? false,
      latest: values.latest ?? settings.tags?.latest ?? false,
      semver: settings.tags?.semver ?? true,
      extra: [...(values.tag ?? []), ...(settings.tags?.extra ?? [])],
    });
    const lock = settings.lock ?? "none";
    const output = {
      service: values.service,
      registry,
      repository,
      version: plan.version,
      tags: plan.tags,
      immutable: plan.immutable,
      refs: plan.tags.map((t) => `${registry}/${repository}:${t}`),
      lock: lock === "all" || (lock === "release" && plan.version !== null),
      annotations: m.ociAnnotations({ source: info, service: values.service, version: plan.version }),
    };
    printJson(io, output);
    return EXIT.ok;
  },
});

const checkUsage = `slipway acr check --repository REPO --tag TAG... ${IDENTITY_USAGE}`;

export const acrCheck = defineCommand({
  path: ["acr", "check"],
  summary: "Before a push: refuse to move an immutable tag; report when this commit is already published",
  usage: checkUsage,
  options: {
    ...identityOptions,
    repository: REPOSITORY_OPTION,
    tag: { type: "string", multiple: true, describe: "a tag about to be pushed, sha-<12> first (required)" },
  },
  examples: ["slipway acr check --registry myacr.azurecr.io --repository shop/api --tag sha-0123456789ab --tag 1.4.0"],
  async run({ values, io }) {
    if (values.repository === undefined) throw usageError("--repository is required", checkUsage);
    if (!values.tag?.length) throw usageError("--tag is required: the immutable tags, sha-<12> first", checkUsage);
    const m = await acr();
    values.tag.forEach(m.validateTag);
    const { registry, identity, options } = settle(m, values, io, checkUsage);
    const result = await m.preflight({ registry, identity, options, status: io.status }, values.repository, values.tag);
    printJson(io, { registry, repository: values.repository, ...result });
    return EXIT.ok;
  },
});

const verifyUsage = `slipway acr verify --repository REPO --digest sha256:... --tag TAG... [--lock] [--lock-tag TAG]... ${IDENTITY_USAGE}`;

export const acrVerify = defineCommand({
  path: ["acr", "verify"],
  summary: "After a push: every tag resolves to the pushed digest; optionally lock the image (canDelete/canWrite false)",
  usage: verifyUsage,
  options: {
    ...identityOptions,
    repository: REPOSITORY_OPTION,
    digest: { type: "string", value: "sha256:...", describe: "the digest the push returned (required)" },
    tag: { type: "string", multiple: true, describe: "a tag pushed, each must resolve to --digest (required)" },
    lock: { type: "boolean", describe: "lock the image: canDelete and canWrite false" },
    "lock-tag": { type: "string", multiple: true, value: "TAG", describe: "with --lock: the tags to lock", defaultText: "every --tag" },
  },
  examples: ["slipway acr verify --registry myacr.azurecr.io --repository shop/api --digest sha256:<64 hex> --tag sha-0123456789ab --lock"],
  async run({ values, io }) {
    if (values.repository === undefined) throw usageError("--repository is required", verifyUsage);
    if (values.digest === undefined) throw usageError("--digest is required", verifyUsage);
    if (!values.tag?.length) throw usageError("--tag is required (repeat it for each tag pushed)", verifyUsage);
    const m = await acr();
    m.checkDigest(values.digest);
    values.tag.forEach(m.validateTag);
    (values["lock-tag"] ?? []).forEach(m.validateTag);
    const { registry, identity, options } = settle(m, values, io, verifyUsage);
    const result = await m.verifyPublished(
      { registry, identity, options, status: io.status },
      { repository: values.repository, digest: values.digest, tags: values.tag, lock: values.lock ?? false, lockTags: values["lock-tag"] },
    );
    printJson(io, result);
    return EXIT.ok;
  },
});

const markUsage = `slipway acr mark --repository REPO --digest sha256:... --tag TAG ${IDENTITY_USAGE}`;

export const acrMark = defineCommand({
  path: ["acr", "mark"],
  summary: "Tag an image already in the registry by digest (e.g. failed-<id> after a rollback), never moving an existing tag",
  usage: markUsage,
  options: {
    ...identityOptions,
    repository: REPOSITORY_OPTION,
    digest: { type: "string", value: "sha256:...", describe: "the image to tag, by digest (required)" },
    tag: { type: "string", value: "TAG", describe: "the tag to put on it, e.g. failed-7 (required)" },
  },
  examples: ["slipway acr mark --registry myacr.azurecr.io --repository shop/api --digest sha256:<64 hex> --tag failed-7"],
  async run({ values, io }) {
    if (values.repository === undefined) throw usageError("--repository is required", markUsage);
    if (values.digest === undefined) throw usageError("--digest is required", markUsage);
    if (values.tag === undefined) throw usageError("--tag is required", markUsage);
    const m = await acr();
    m.checkDigest(values.digest);
    m.validateTag(values.tag);
    const { registry, identity, options } = settle(m, values, io, markUsage);
    const result = await m.markImage({ registry, identity, options, status: io.status }, { repository: values.repository, digest: values.digest, tag: values.tag });
    printJson(io, result);
    return EXIT.ok;
  },
});

const pruneUsage = `slipway acr prune --repository REPO --keep N [--dry-run] [--min-age DURATION] [--repo URL|DIR] [--branch B] [--ssh-key FILE] [--known-hosts FILE] ${IDENTITY_USAGE}`;

/** Default --min-age: a manifest pushed this recently may belong to a release that has not recorded it yet. */
const PRUNE_MIN_AGE = "1h";

/**
 * Where the ledgers are: the --repo/--branch GitOps repository (or gitops: in slipway.yaml), and the
 * repository and branch of every environment slipway.yaml declares, each read once.
 */
async function ledgerSources(values: Record<string, unknown>, io: Io): Promise<{ targets: PushTarget[]; declared: string[] }> {
  const [{ pushTarget }, { resolveEnvironment }] = await Promise.all([import("../gitops/commands.js"), import("../release/environment.js")]);
  const flags = values as Parameters<typeof pushTarget>[0];
  const loaded = commandConfig(io, flags.config);
  const declared = Object.keys(loaded.config.environments ?? {});
  const targets: PushTarget[] = [];
  const seen = new Set<string>();
  const add = (target: PushTarget) => {
    const key = `${target.repo}#${target.branch}`;
    if (!seen.has(key)) targets.push(target);
    seen.add(key);
  };
  if (flags.repo !== undefined || loaded.config.gitops?.repository !== undefined || declared.length === 0) add(pushTarget(flags, io, pruneUsage).target);
  for (const name of declared) {
    const env = resolveEnvironment(loaded.config, name, loaded.file);
    if (flags.repo !== undefined) continue; // --repo names the one repository holding every ledger
    add(pushTarget({ ...flags, repo: env.gitops.repository, branch: flags.branch ?? env.gitops.branch }, io, pruneUsage).target);
  }
  return { targets, declared };
}

export const acrPrune = defineCommand({
  path: ["acr", "prune"],
  summary: "Delete a repository's manifests no release ledger references, keeping the last N verified releases of each environment; plan first",
  usage: pruneUsage,
  options: {
    ...identityOptions,
    repository: REPOSITORY_OPTION,
    keep: { type: "string", value: "N", describe: "how many of the newest verified releases of each environment are always kept (required)" },
    "dry-run": { type: "boolean", describe: "print the plan (what is deleted, what is kept and why); delete nothing" },
    "min-age": { type: "string", value: "DURATION", describe: "keep manifests pushed more recently than this (a release may not have recorded them yet); 0 keeps none for their age", defaultText: PRUNE_MIN_AGE },
    repo: { type: "string", value: "URL|DIR", describe: "the GitOps repository holding every environment's ledger (.slipway/ledger/*.json)", defaultText: "gitops.repository and each environment's repository in slipway.yaml" },
    branch: { type: "string", value: "B", describe: "its branch", defaultText: "gitops.branch, each environment's branch in slipway.yaml" },
    "ssh-key": { type: "string" },
    "known-hosts": { type: "string" },
    json: { type: "boolean" },
  },
  examples: [
    "slipway acr prune --registry myacr.azurecr.io --repository shop/api --keep 10 --dry-run",
    "slipway acr prune --registry myacr.azurecr.io --repository shop/api --keep 10 --repo https://github.com/org/gitops.git --branch main --json",
  ],
  async run({ values, io }) {
    if (values.repository === undefined) throw usageError("--repository is required", pruneUsage);
    if (values.keep === undefined) throw usageError("--keep is required: how many verified releases of each environment are always kept", pruneUsage);
    const [m, prune, { readAllLedgers }, { parseDuration }] = await Promise.all([acr(), import("./prune.js"), import("../ledger/git.js"), import("../rollout/duration.js")]);
    const keep = Number(values.keep);
    if (!/^\d+$/.test(values.keep) || keep < 1 || keep > 1000) throw acrPruneKeepInvalid(values.keep);
    const minAgeText = values["min-age"] ?? PRUNE_MIN_AGE;
    const minAgeMs = minAgeText === "0" ? 0 : parseDuration(minAgeText);
    if (minAgeMs === null) throw usageError(`--min-age ${JSON.stringify(minAgeText)} is not a duration such as 30m, 1h or 0`, pruneUsage);
    const { registry, identity, options } = settle(m, values, io, pruneUsage);
    const access = { registry, identity, options, status: io.status };

    // 1. Every ledger, completely, before the registry is even listed: one that cannot be read stops everything.
    const { targets } = await ledgerSources(values, io);
    const ledgers = [];
    for (const target of targets) ledgers.push(...(await readAllLedgers(target)).ledgers);
    if (ledgers.length === 0) throw acrPruneNoLedger(targets.map((t) => `${t.repo}#${t.branch}`));

    // 2. The plan.
    const manifests = await prune.listManifests(access, values.repository);
    const plan = prune.planPrune({ registry, repository: values.repository, ledgers, manifests, keep, minAgeMs, now: new Date() });
    const dryRun = values["dry-run"] === true;
    const result = (deleted: string[], left: string[]) => ({ registry, repository: values.repository, dryRun, complete: left.length === 0, deleted, left, plan });
    if (!values.json) io.stdout(prune.renderPrunePlan(plan, dryRun));
    if (dryRun || plan.delete.length === 0) {
      if (values.json) printJson(io, result([], []));
      return EXIT.ok;
    }

    // 3. The deletes; a failure prints what was done before the coded error.
    try {
      const { deleted } = await prune.applyPrune(access, plan, (line) => {
        if (!values.json) io.stdout(`${line}\n`);
      });
      if (values.json) printJson(io, result(deleted, []));
      else io.stdout(`\nDONE: deleted ${deleted.length} manifest${deleted.length === 1 ? "" : "s"}; kept ${plan.keepList.length}\n`);
    } catch (error) {
      const partial = error as { deleted?: string[]; left?: string[] };
      if (values.json && partial.deleted && partial.left) printJson(io, result(partial.deleted, partial.left));
      throw error;
    }
    return EXIT.ok;
  },
});

const abandonUsage = `slipway acr abandon --repository REPO --digest sha256:... --release ID --policy failed-tag|lock|delete-tags [--keep-tag TAG]... ${IDENTITY_USAGE}`;

export const acrAbandon = defineCommand({
  path: ["acr", "abandon"],
  summary: "After a rollback: tag an abandoned image failed-<id>, lock it, or delete its mutable tags (the rollback registry policy); the digest is never deleted",
  usage: abandonUsage,
  options: {
    ...identityOptions,
    repository: REPOSITORY_OPTION,
    digest: { type: "string", value: "sha256:...", describe: "the abandoned image, by digest (required)" },
    release: { type: "string", value: "ID", describe: "the ledger release that ran it (names the failed-<id> tag) (required)" },
    policy: { type: "string", value: "failed-tag|lock|delete-tags", describe: "what to do: tag it failed-<id>, lock its manifest (ACR writeEnabled/deleteEnabled false), or delete its mutable tags (required)" },
    "keep-tag": { type: "string", multiple: true, value: "TAG", describe: "with delete-tags: a mutable tag to leave" },
  },
  examples: [
    "slipway acr abandon --registry myacr.azurecr.io --repository shop/api --digest sha256:<64 hex> --release 7 --policy lock",
    "slipway acr abandon --registry myacr.azurecr.io --repository shop/api --digest sha256:<64 hex> --release 7 --policy delete-tags --keep-tag canary",
  ],
  async run({ values, io }) {
    if (values.repository === undefined) throw usageError("--repository is required", abandonUsage);
    if (values.digest === undefined) throw usageError("--digest is required", abandonUsage);
    if (values.release === undefined || !/^[1-9][0-9]{0,9}$/.test(values.release)) throw usageError(`--release ${values.release === undefined ? "is required" : `${JSON.stringify(values.release)} is not a release id (1, 2, ...)`}`, abandonUsage);
    if (values.policy === undefined) throw usageError("--policy is required: failed-tag, lock or delete-tags", abandonUsage);
    const [m, abandon] = await Promise.all([acr(), import("./abandon.js")]);
    const policy = abandon.abandonPolicy(values.policy);
    m.checkDigest(values.digest);
    (values["keep-tag"] ?? []).forEach(m.validateTag);
    const { registry, identity, options } = settle(m, values, io, abandonUsage);
    const result = await abandon.abandonImage({ registry, identity, options, status: io.status }, { repository: values.repository, digest: values.digest, release: values.release, policy, keepTags: values["keep-tag"] ?? [] });
    printJson(io, result);
    return EXIT.ok;
  },
});

export const ACR_COMMANDS = [acrLogin, acrTags, acrCheck, acrVerify, acrMark, acrPrune, acrAbandon];
