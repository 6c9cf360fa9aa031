// The release steps (issues 4-7) as container compositions: publish to ACR, migrate, GitOps bump,
// rollout verify. Every decision is the CLI's; this file wires identities (as Secrets), mounts and execs.
import { dag } from "@dagger.io/dagger";
import type { Container, Directory, Platform, Secret } from "@dagger.io/dagger";

import { cliFailure, repeat, runId } from "./cli.js";
import { cliStdout, fresh, runCommand, SRC, TOOLKIT_USER } from "./exec.js";
import type { PlannedService } from "./plan.js";
import {
  bumpCommand,
  DIAGNOSTICS,
  digestOf,
  FEDERATED_TOKEN_FILE,
  identityEnv,
  KUBECONFIG,
  markCommand,
  migrateCommand,
  parseAcrCheck,
  parseAcrLogin,
  parseAcrTags,
  parseAcrVerify,
  parseBump,
  parseLedgerChange,
  parseRollback,
  parseRollout,
  recordCommand,
  rollbackCommand,
  ROLLOUT_VERDICT_CODES,
  rolloutRollsBack,
  rolloutVerdictLine,
  rolloutCommand,
  SECRET_ENV,
} from "./release-cli.js";
import { DATABASE_URLS_FILE } from "./release-flow.js";
import type { BumpInput, IdentityValues, MarkInput, MigrateInput, RecordInput, RollbackInput, RolloutInput } from "./release-cli.js";

/** Secret identity inputs (see release-cli.ts SECRET_ENV). */
export type IdentitySecrets = Partial<Record<keyof typeof SECRET_ENV, Secret>> & { federatedToken?: Secret };

/**
 * The toolkit container with the identity inputs: plain ids as env, secrets only as secret env or a
 * secret file readable by the toolkit's unprivileged user.
 */
export function withIdentity(ctr: Container, values: IdentityValues, secrets: IdentitySecrets): Container {
  let out = identityEnv(values).reduce((c, [name, value]) => c.withEnvVariable(name, value), ctr);
  for (const [key, name] of Object.entries(SECRET_ENV) as Array<[keyof typeof SECRET_ENV, string]>) {
    const secret = secrets[key];
    if (secret) out = out.withSecretVariable(name, secret);
  }
  if (secrets.federatedToken) {
    out = out.withMountedSecret(FEDERATED_TOKEN_FILE, secrets.federatedToken, { owner: TOOLKIT_USER }).withEnvVariable("AZURE_FEDERATED_TOKEN_FILE", FEDERATED_TOKEN_FILE);
  }
  return out;
}

export type PublishOptions = {
  registry?: string;
  mode?: string;
  platforms?: string[];
  branchTag?: boolean;
  latest?: boolean;
  lock?: boolean;
};

/** One published service, as `publish` reports it. */
export type Published = { service: string; refs: string[]; digest: string; reused: boolean; locked: boolean };

function registryFlags(options: Pick<PublishOptions, "registry" | "mode">): string[] {
  return [...(options.registry ? ["--registry", options.registry] : []), ...(options.mode ? ["--mode", options.mode] : []), "--source", SRC];
}

/**
 * `slipway acr login` with the identity (ACR: Entra ID token → ACR refresh token; static: the password):
 * the registry, its user name, and the token as a Secret, for `withRegistryAuth` (push or pull).
 */
export async function registryLogin(
  identity: Container,
  source: Directory,
  options: Pick<PublishOptions, "registry" | "mode">,
): Promise<{ login: ReturnType<typeof parseAcrLogin>; password: Secret }> {
  const token = "/tmp/slipway-registry.token";
  const loginCommand = ["slipway", "acr", "login", ...registryFlags(options), "--out", token];
  const { run, container } = await runCommand(fresh(identity).withMountedDirectory(SRC, source).withWorkdir(SRC), loginCommand);
  if (run.exitCode !== 0) throw cliFailure(loginCommand, run);
  const login = parseAcrLogin(loginCommand, run.stdout);
  // The refresh token only ever lives in a Secret from here on (the engine scrubs it from logs).
  const password = dag.setSecret(`slipway-registry-${runId()}`, (await container.file(token).contents()).trim());
  return { login, password };
}

/**
 * Publish the selected services: `acr login` (token file → Secret), then per service `acr tags`,
 * `acr check` (skip a commit already published), `withRegistryAuth` + `publish` of every ref, and
 * `acr verify` (every tag at the pushed digest, lock on request).
 */
export async function publishServices(
  toolkit: Container,
  source: Directory,
  services: PlannedService[],
  image: (service: PlannedService, platform?: Platform) => Container,
  identity: Container,
  options: PublishOptions,
): Promise<Published[]> {
  const common = registryFlags(options);
  // Registry answers and tokens change: every exec of this run is fresh.
  const cli = fresh(identity).withMountedDirectory(SRC, source).withWorkdir(SRC);
  const { login, password } = await registryLogin(identity, source, options);

  // Each service's tags, check, push and verify are independent of the others': they run at once, so a
  // shared engine pushes the services side by side (they waited in line before). Every service is tried;
  // the results keep the plan's order.
  const publishOne = async (service: PlannedService): Promise<Published> => {
    const tagsCommand = ["slipway", "acr", "tags", "--service", service.name, ...common, ...(options.branchTag ? ["--branch-tag"] : []), ...(options.latest ? ["--latest"] : [])];
    const tagged = parseAcrTags(tagsCommand, await cliStdout(cli, tagsCommand));
    const checkCommand = ["slipway", "acr", "check", ...common, "--repository", tagged.repository, ...repeat("--tag", tagged.immutable)];
    const checked = parseAcrCheck(checkCommand, await cliStdout(cli, checkCommand));
    if (!checked.publish && checked.digest) {
      // Already published (a re-run): nothing is pushed, but the same proof and lock as after a push, so a
      // run that died between push and lock is completed, and `locked` is what the registry says.
      const reuseLock = options.lock ?? tagged.lock;
      const reuseCommand = [
        "slipway", "acr", "verify", ...common, "--repository", tagged.repository, "--digest", checked.digest, ...repeat("--tag", tagged.immutable),
        ...(reuseLock ? ["--lock", ...tagged.immutable.flatMap((t) => ["--lock-tag", t])] : []),
      ];
      const reverified = parseAcrVerify(reuseCommand, await cliStdout(cli, reuseCommand));
      return { service: service.name, refs: tagged.refs, digest: checked.digest, reused: true, locked: reverified.locked.manifest };
    }
    const variants = (options.platforms?.length ? options.platforms : [undefined]).map((platform) =>
      Object.entries(tagged.annotations).reduce(
        (ctr, [name, value]) => ctr.withLabel(name, value).withAnnotation(name, value),
        image(service, platform as Platform | undefined),
      ),
    );
    const [first, ...others] = variants as [Container, ...Container[]];
    const authed = first.withRegistryAuth(login.registry, login.username, password);
    const digests = new Set<string>();
    for (const ref of tagged.refs) digests.add(digestOf(await authed.publish(ref, { platformVariants: others })));
    if (digests.size !== 1) throw new Error(`SLIPWAY_ACR_DIGEST_MISMATCH: ${service.name}: its tags were pushed with different digests ${[...digests].join(", ")}`);
    const digest = [...digests][0] as string;
    const lock = options.lock ?? tagged.lock;
    const verifyCommand = [
      "slipway", "acr", "verify", ...common, "--repository", tagged.repository, "--digest", digest, ...repeat("--tag", tagged.tags),
      ...(lock ? ["--lock", ...tagged.immutable.flatMap((t) => ["--lock-tag", t])] : []),
    ];
    const verified = parseAcrVerify(verifyCommand, await cliStdout(cli, verifyCommand));
    return { service: service.name, refs: tagged.refs, digest, reused: false, locked: verified.locked.manifest };
  };
  const settled = await Promise.allSettled(services.map(publishOne));
  const failed = settled.flatMap((r, i) => (r.status === "rejected" ? [{ service: services[i]?.name ?? "", error: r.reason as unknown }] : []));
  if (failed.length === 1) throw failed[0]?.error;
  if (failed.length > 1) {
    const done = settled.flatMap((r) => (r.status === "fulfilled" ? [r.value.service] : []));
    const lines = failed.map((f) => `${f.service}: ${f.error instanceof Error ? f.error.message : String(f.error)}`);
    throw new Error(`${failed.length} services could not be published${done.length ? ` (published: ${done.join(", ")})` : ""}:\n${lines.join("\n")}`);
  }
  return settled.map((r) => (r as PromiseFulfilledResult<Published>).value);
}

/**
 * The service's build container (npm ci, npm run build when it has a build script) with the toolkit's
 * CLI added, so `slipway migrate` loads the service's own TypeORM and driver from its node_modules.
 */
/** How the database URL reaches `slipway migrate`: one URL (DATABASE_URL), or the per-service file of a release. */
export type DatabaseSecret = { url: Secret } | { urls: Secret };

export async function migrateService(
  toolkit: Container,
  installed: Container,
  service: PlannedService,
  database: Secret | DatabaseSecret,
  input: Omit<MigrateInput, "service">,
  /** The service's build command as the plan gives it (its toolchain: npm -w, pnpm --filter, yarn workspace, or in its folder). */
  build: string[] = ["npm", "run", "build", "-w", service.path],
): Promise<string> {
  const secret: DatabaseSecret = "url" in database || "urls" in database ? (database as DatabaseSecret) : { url: database as Secret };
  const command = migrateCommand(SRC, {
    ...input,
    service: service.name,
    ...(input.dataSource ? { dataSource: `${SRC}/${service.path}/${input.dataSource}` } : {}),
  });
  const built = service.scripts.build ? installed.withExec(build) : installed;
  const ctr = fresh(
    built
      // Mounted, not copied: the CLI is only read, and a copy of its node_modules into the service's
      // container is a layer of its own for every migrate (the slowest part of it).
      .withMountedDirectory("/opt/slipway", toolkit.directory("/opt/slipway"), { readOnly: true })
      .withMountedFile("/usr/local/bin/slipway", toolkit.file("/usr/local/bin/slipway"))
      .with((ctr) =>
        "url" in secret
          ? ctr.withSecretVariable("DATABASE_URL", secret.url)
          : ctr.withMountedSecret(DATABASE_URLS_FILE, secret.urls, { owner: "node" }).withEnvVariable("SLIPWAY_DATABASE_URLS_FILE", DATABASE_URLS_FILE),
      ),
  );
  const { run } = await runCommand(ctr, command);
  // The report is on stdout also when the run failed (what was applied and reverted): keep it in the error.
  if (run.exitCode !== 0) throw cliFailure(command, run, true);
  return run.stdout;
}

/** `slipway gitops commit-push` in the toolkit, the token only as SLIPWAY_GIT_TOKEN (the CLI hands it to git via GIT_ASKPASS). */
export async function bump(toolkit: Container, token: Secret, input: BumpInput, source?: Directory): Promise<string> {
  const command = bumpCommand(input);
  let ctr = fresh(toolkit).withSecretVariable("SLIPWAY_GIT_TOKEN", token);
  // slipway.yaml `gitops:` (formats, path, author) is read from the working directory.
  if (source) ctr = ctr.withMountedDirectory(SRC, source).withWorkdir(SRC);
  else ctr = ctr.withWorkdir("/tmp");
  const stdout = await cliStdout(ctr, command);
  return parseBump(command, stdout).commit;
}

/**
 * `slipway rollback` in the toolkit: the ledger in the GitOps repository picks the release, the CLI bumps
 * the manifests back and records it in one commit. Returns the branch tip (the existing one when already there).
 */
export async function rollback(toolkit: Container, token: Secret, input: RollbackInput, source?: Directory): Promise<string> {
  const command = rollbackCommand(input);
  let ctr = fresh(toolkit).withSecretVariable("SLIPWAY_GIT_TOKEN", token);
  // slipway.yaml `gitops:` (formats, path, author) and `ledger:` are read from the working directory.
  if (source) ctr = ctr.withMountedDirectory(SRC, source).withWorkdir(SRC);
  else ctr = ctr.withWorkdir("/tmp");
  const stdout = await cliStdout(ctr, command);
  return input.dryRun ? stdout : parseRollback(command, stdout).commit;
}

/**
 * `slipway ledger record` or `mark` in the toolkit: one commit to the environment's ledger in the GitOps
 * repository, pushed with fetch/retry. Returns the entry's id (record) or status (mark).
 */
export async function ledgerChange(toolkit: Container, token: Secret, command: string[]): Promise<{ id: string; status: string }> {
  const ctr = fresh(toolkit).withSecretVariable("SLIPWAY_GIT_TOKEN", token).withWorkdir("/tmp");
  return parseLedgerChange(command, await cliStdout(ctr, command)).entry;
}

export function recordRelease(toolkit: Container, token: Secret, input: RecordInput): Promise<{ id: string; status: string }> {
  return ledgerChange(toolkit, token, recordCommand(input));
}

export function markRelease(toolkit: Container, token: Secret, input: MarkInput): Promise<{ id: string; status: string }> {
  return ledgerChange(toolkit, token, markCommand(input));
}

/**
 * `slipway rollout verify` against the cluster of the kubeconfig. Returns the JSON verdict when healthy;
 * otherwise throws with the verdict, the CLI's log and the diagnostics text.
 */
/** How a rollout check ended: the verdict, whether it calls for a rollback, and the evidence. */
export type RolloutOutcome = {
  healthy: boolean;
  verdict: string;
  rollsBack: boolean;
  /** The JSON report (healthy) or the error text with the verdict line and the diagnostics (otherwise). */
  text: string;
  /** The diagnostics bundle the CLI wrote (events, pod logs); empty when healthy. */
  diagnostics: Directory;
};

/**
 * `slipway rollout verify` against the cluster of the kubeconfig, answering with the verdict instead of
 * throwing on an unhealthy one; an error before any verdict (bad input, the CLI's own failure) throws.
 */
export async function verifyOutcome(
  toolkit: Container,
  kubeconfig: Secret,
  identity: (ctr: Container) => Container,
  input: RolloutInput,
  source?: Directory,
): Promise<RolloutOutcome> {
  const command = rolloutCommand(input);
  let ctr = identity(fresh(toolkit).withMountedSecret(KUBECONFIG, kubeconfig, { owner: TOOLKIT_USER }));
  if (source) ctr = ctr.withMountedDirectory(SRC, source).withWorkdir(SRC);
  else ctr = ctr.withWorkdir("/tmp");
  const { run, container } = await runCommand(ctr, command);
  // Exit 1 is also how the CLI ends on an error before any verdict (SLIPWAY_INTERNAL with its stack, any
  // coded error of exit 1): it prints no report then, and its own error is the answer, not "did not print JSON".
  if (!ROLLOUT_VERDICT_CODES.includes(run.exitCode) || run.stdout.trim() === "") throw cliFailure(command, run);
  const report = parseRollout(command, run.exitCode, run.stdout);
  if (run.exitCode === 0) return { healthy: true, verdict: report.verdict, rollsBack: false, text: run.stdout, diagnostics: dag.directory() };
  let diagnostics = "";
  let bundle = dag.directory();
  try {
    bundle = container.directory(DIAGNOSTICS);
    diagnostics = await bundle.file("rollout-diagnostics.txt").contents();
  } catch {
    diagnostics = "(no diagnostics bundle was written)";
    bundle = dag.directory();
  }
  const rollsBack = rolloutRollsBack(run.exitCode, report.verdict);
  return {
    healthy: false,
    verdict: report.verdict,
    rollsBack,
    text: `rollout ${report.verdict}: ${cliFailure(command, run, true).message}\n${rolloutVerdictLine(report.verdict)} (${rollsBack ? "roll back" : "do not roll back"})\n--- diagnostics ---\n${diagnostics}`,
    diagnostics: bundle,
  };
}

/**
 * `slipway rollout verify` against the cluster of the kubeconfig. Returns the JSON verdict when healthy;
 * otherwise throws with the verdict, the CLI's log and the diagnostics text.
 */
export async function verify(toolkit: Container, kubeconfig: Secret, identity: (ctr: Container) => Container, input: RolloutInput, source?: Directory): Promise<string> {
  const outcome = await verifyOutcome(toolkit, kubeconfig, identity, input, source);
  if (outcome.healthy) return outcome.text;
  throw new Error(outcome.text);
}

