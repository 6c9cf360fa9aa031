/**
 * Slipway: CI/CD pipeline-as-code for Node.js microservices, from git push to a verified rollout on AKS.
 *
 * This module only composes containers: the services' build containers, the images from their own
 * Dockerfiles, and a toolkit container (pipelines/Dockerfile) that runs the `slipway` CLI, where every
 * decision is made.
 */
import { argument, check, dag, func, object } from "@dagger.io/dagger";
import type { Container, Directory, File, Platform, Secret } from "@dagger.io/dagger";

import { isApiError, isExecError } from "./errors.js";
import { cliStdout, fresh, runCommand, SRC, TOOLKIT_USER } from "./exec.js";
import { bump, markRelease, migrateService, publishServices, recordRelease, registryLogin, rollback, verify, withIdentity } from "./release.js";
import type { IdentitySecrets } from "./release.js";
import { runRelease } from "./release-run.js";
import { runPrune } from "./prune.js";
import { postEvent, notifier } from "./notify.js";
import type { NotifyContext } from "./notify.js";
import { checkRunUrl, notifyCommand, rollbackEvent, rollbackNotifyReport, thrownReleaseReport, triggerEnv, withNotifySteps } from "./notify-cli.js";
import type { NotifyEvent, NotifyKind, NotifyResult, Posted } from "./notify-cli.js";
import { runRollback } from "./rollback-run.js";
import type { RollbackOutcome, RollbackRequest } from "./rollback-run.js";
import type { ReleaseOutcome } from "./release-run.js";
import { candidateCommand, envShowCommand, missingSecrets, parseCandidate, parseEnvironment, renderReleaseReport, renderReleaseSummary } from "./release-flow.js";
import type { ReleaseData, ResolvedEnvironment, StepRow } from "./release-flow.js";
import { dependenciesGate, imageGate, ScanReport, secretsGate } from "./scan.js";

import { dockerfileInContext, ociLabels, parsePlan, selectServices, serviceBuildArgs, toolchainOf } from "./plan.js";
import type { Plan, PlannedService, Selection } from "./plan.js";
import { installDir, installFailure, installGroups, installNotStarted } from "./toolchain.js";
import type { PlannedToolchain } from "./toolchain.js";
import {
  describeFailure,
  IMAGE,
  renderReport,
  renderSummary,
  runPassed,
  SCAN,
  servicePassed,
  STEP,
} from "./report.js";
import type { GateRow, RunData, ServiceRow } from "./report.js";
import { ciRunReport, findingsFromSarif, notifyEventOf, releaseRunReport, renderCommand, RENDERINGS, REPORT_IN, rollbackRunReport, stopwatch, withCiPart } from "./run-report.js";
import type { MigrationRow, Timing, Timings } from "./run-report.js";

export { ScanReport };

/** A step's outcome: its status and, when it failed, why. */
type Outcome = { status: string; failure?: string };

/**
 * Run a command and record how it ended.
 *
 * Why catch ExecError rather than `withExec(..., { expect: ReturnType.Any })` + `exitCode()`:
 * the engine does not cache a failed exec, so a re-run retries exactly the steps that failed (a flaky
 * test gets a second chance), whereas an exec that is *expected* to fail is cached like a success and
 * would replay the old failure; and `ReturnType.Any` does not cover 128-191 (killed, e.g. 137 OOM)
 * anyway. Anything that is not a failed command (engine or API error) is not a verdict and propagates.
 */
async function settle(step: string, command: string[], ctr: Container): Promise<Outcome> {
  try {
    await ctr.sync();
    return { status: STEP.passed };
  } catch (error) {
    if (isExecError(error)) {
      return { status: STEP.failed, failure: describeFailure(step, command, error.exitCode, error.stdout, error.stderr) };
    }
    throw error;
  }
}

/**
 * The build container after the frozen install the plan decided for a toolchain: on the service's
 * `node:<major>-bookworm-slim`, in its install root (the workspace root for members, its own folder for a
 * standalone project), with the manager the repository pins (pnpm and Yarn through corepack), the caches
 * of that manager and Node major mounted. The services of one workspace on one Node major share the same
 * toolchain key, so the same container and one install. Runs as the image's unprivileged `node` user: test
 * suites that start PostgreSQL refuse to run as root.
 */
function installed(source: Directory, toolchain: PlannedToolchain): Container {
  const base = toolchain.caches.reduce(
    (ctr, cache) => ctr.withMountedCache(cache.path, dag.cacheVolume(cache.volume), { owner: "node" }),
    dag.container().from(toolchain.image),
  );
  return Object.entries(toolchain.env)
    .reduce(
      (ctr, [name, value]) => ctr.withEnvVariable(name, value),
      base.withDirectory(SRC, source, { exclude: [".git"], owner: "node" }).withWorkdir(installDir(SRC, toolchain)).withUser("node"),
    )
    .withExec(toolchain.install);
}

/** Run an install and record how it ended, worded with where it ran, the manager and Node, and a stale lockfile by name. */
async function settleInstall(toolchain: PlannedToolchain, ctr: Container): Promise<Outcome> {
  try {
    await ctr.sync();
    return { status: STEP.passed };
  } catch (error) {
    if (isExecError(error)) return { status: STEP.failed, failure: installFailure(toolchain, error.exitCode, error.stdout, error.stderr) };
    throw error;
  }
}

/**
 * A build context without git metadata. dockerBuild filters the context only by the repository's own
 * .dockerignore (core/schema/directory.go), so without one `.git`, and the token actions/checkout keeps in
 * .git/config, would reach `COPY . .` and the image. The build never needs history: OCI labels come from the plan.
 */
function withoutGit(context: Directory): Directory {
  return dag.directory().withDirectory(".", context, { exclude: [".git", "**/.git"] });
}

/** Where the extra CA certificates go (where Debian's update-ca-certificates would look for them). */
const EXTRA_CA = "/usr/local/share/ca-certificates/slipway-extra.crt";
/** The system bundle git (libcurl) and OpenSSL read. */
const CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";

/**
 * The toolkit trusting extra CAs as well as the public ones. git reads the system bundle, to which the
 * extra certificates are appended (GIT_SSL_CAINFO would replace the public roots instead); Node keeps its
 * own roots and takes additions from NODE_EXTRA_CA_CERTS (and SLIPWAY_CA_FILE for the ACR client,
 * pipelines/src/acr/commands.ts). Appended rather than `update-ca-certificates`, which rebuilds the whole
 * bundle and the hashed links one process per certificate (seconds per toolkit) for the same bundle: the
 * toolkit has no reader of the hashed directory. The script is fixed; the paths are its arguments.
 */
function withCaCertificates(toolkit: Container, ca: File | undefined): Container {
  if (!ca) return toolkit;
  return toolkit
    .withUser("root")
    .withFile(EXTRA_CA, ca, { permissions: 0o644 })
    .withExec(["sh", "-c", 'printf "\\n" >> "$2" && cat "$1" >> "$2"', "sh", EXTRA_CA, CA_BUNDLE])
    .withUser(TOOLKIT_USER)
    .withEnvVariable("NODE_EXTRA_CA_CERTS", EXTRA_CA)
    .withEnvVariable("SLIPWAY_CA_FILE", EXTRA_CA);
}

/** The image of one service from its own Dockerfile, labelled. Shared by `build` and `ci`. */
function serviceImage(source: Directory, plan: Plan, service: PlannedService, platform?: Platform): Container {
  const context = withoutGit(service.context === "." ? source : source.directory(service.context));
  const image = context.dockerBuild({
    dockerfile: dockerfileInContext(service),
    buildArgs: serviceBuildArgs(service),
    ...(platform ? { platform } : {}),
  });
  return ociLabels(plan, service).reduce((ctr, label) => ctr.withLabel(label.name, label.value), image);
}

/** One service's results in a CI run. */
@object()
export class ServiceResult {
  /** Service name, as in the plan. */
  @func()
  name!: string;

  /** Path of the service, relative to the source root. */
  @func()
  path!: string;

  /** The lint script (with the service's package manager): passed, failed, skipped (no such script), blocked (its install failed) or not run. */
  @func()
  lint!: string;

  /** The test script: passed, failed, skipped (no such script), blocked (its install failed) or not run. */
  @func()
  test!: string;

  /** The build script: passed, failed, skipped (no such script), blocked (its install failed) or not run. */
  @func()
  build!: string;

  /** Image from the service's Dockerfile: built, failed or not run. */
  @func()
  image!: string;

  /** The image's security gate: passed, failed, error (could not decide), blocked (no image) or not run. */
  @func()
  scan!: string;

  /** One explanation per failed step: command, exit code and its meaning, end of the output. */
  @func()
  failures!: string[];
}

/** A repository-wide security gate of a CI run. */
@object()
export class GateResult {
  /** The gate: secrets or dependencies. */
  @func()
  name!: string;

  /** passed, failed, or error (the gate could not decide, which fails the run too). */
  @func()
  status!: string;

  /** Why it failed or could not decide; empty when it passed. */
  @func()
  failure!: string;
}

/** The outcome of `ci`: per-service results, a summary, a JSON report and the images that passed. */
@object()
export class CiRun {
  /** Git ref the affected services were computed against; empty when none was given. */
  @func()
  base!: string;

  /** The installs (one per install root, package manager and Node major, shared by the services that have them): passed, failed (any of them) or not run. */
  @func()
  install!: string;

  /** Why each failed install failed (where, with which manager and Node, the command and its output); empty when all passed. */
  @func()
  installFailure!: string;

  /** True when every install, every step of every checked service and every security gate passed. */
  @func()
  passed!: boolean;

  /** The repository-wide security gates (secrets, dependencies); empty when ci ran without scans. */
  @func()
  gates!: GateResult[];

  /** The reports of every security gate that decided (secrets, dependencies, image <service>): SARIF, JUnit, Markdown. */
  @func()
  scans!: ScanReport[];

  /** Results of the checked services, in plan order. */
  @func()
  services!: ServiceResult[];

  /** Planned services left out because the plan says they are not affected since base. */
  @func()
  unaffected!: string[];

  /** The plan's warnings, e.g. a Dockerfile that copies a path its build context lacks; empty when none. */
  @func()
  warnings!: string[];

  /** Images of the services whose every step passed (private state behind images()). */
  passedImages!: Container[];

  /** When the run and each step started and how long they took, as JSON (private state behind runReport()). */
  timing!: string;

  /** The source commit (the plan's revision; private state behind runReport()). */
  sourceSha!: string;

  /** The toolkit that renders the reports (private state behind markdown() and html()). */
  toolkitCtr?: Container;

  /** A human-readable table (service | toolchain | lint | test | build | image | image scan), the gates, every failure, and the verdict. */
  @func()
  summary(): string {
    return renderSummary(this.data());
  }

  /**
   * The summary, or an error carrying it when the run did not pass: the call for CI, where a failed
   * run must fail the job (`dagger call ci --source . verdict`).
   */
  @func()
  verdict(): string {
    const text = renderSummary(this.data());
    if (!this.passed) throw new Error(text);
    return text;
  }

  /** The run as JSON (ci-report.json): verdict, per-service statuses, gates and failures. */
  @func()
  report(): File {
    return dag.directory().withNewFile("ci-report.json", renderReport(this.data())).file("ci-report.json");
  }

  /** The images of the services whose every step passed, labelled with OCI annotations. */
  @func()
  images(): Container[] {
    return this.passedImages;
  }

  /**
   * The run report (run-report.json, schemaVersion 1; README "Run reports"): the steps per service with
   * start, duration and outcome, the gates, the failing gate and every gate's findings (from its SARIF).
   */
  @func()
  async runReport(): Promise<File> {
    return dag.directory().withNewFile("run-report.json", await this.runReportJson()).file("run-report.json");
  }

  /** The run report as Markdown (`slipway report --format md`): what failed first; for job summaries. */
  @func()
  async markdown(): Promise<File> {
    return renderedReport(this.toolkitCtr, await this.runReportJson(), "md");
  }

  /** The run report as one self-contained HTML page (`slipway report --format html`): no network needed to view it. */
  @func()
  async html(): Promise<File> {
    return renderedReport(this.toolkitCtr, await this.runReportJson(), "html");
  }

  /** run-report.json with its renderings report.md, report.html, junit.xml and report.sarif, in one directory: what the CI wrappers export. */
  @func()
  async reports(): Promise<Directory> {
    return renderedReports(this.toolkitCtr, await this.runReportJson());
  }

  private async runReportJson(): Promise<string> {
    return `${JSON.stringify(await this.runReportData(), null, 2)}\n`;
  }

  /** The run report as an object (a release includes its ci part: services, gates, findings). */
  async runReportData(): Promise<Record<string, unknown>> {
    const timing = JSON.parse(this.timing || "{}") as { startedAt?: string; durationMs?: number; steps?: Timings; installs?: Array<{ label: string; status: string; failure: string; timing?: Timing }> };
    const findings = await Promise.all(this.scans.map(async (scan) => ({ gate: scan.name, ...findingsFromSarif(scan.name, await scan.sarif().contents()) })));
    const report = ciRunReport({
      run: this.data(),
      timings: timing.steps ?? {},
      installs: timing.installs ?? [],
      startedAt: timing.startedAt ?? new Date().toISOString(),
      durationMs: timing.durationMs ?? 0,
      sourceSha: this.sourceSha,
      findings,
    });
    return report as Record<string, unknown>;
  }

  private data(): RunData {
    return {
      base: this.base,
      install: this.install,
      installFailure: this.installFailure,
      passed: this.passed,
      services: this.services.map((s): ServiceRow => ({ ...s, failures: [...s.failures] })),
      unaffected: this.unaffected,
      warnings: this.warnings,
      gates: this.gates.map((g): GateRow => ({ name: g.name, status: g.status, failure: g.failure })),
    };
  }
}

/** One step of a release: publish, migrate, bump + ledger, verify, mark, rollback. */
@object()
export class ReleaseStep {
  /** The step's name. */
  @func()
  step!: string;

  /** passed, failed or skipped. */
  @func()
  status!: string;

  /** What it did, or why it failed. */
  @func()
  detail!: string;
}

/** The outcome of `release` or `promote`: what reached the environment, the ledger entry, and what was rolled back. */
@object()
export class Release {
  /** release or promote. */
  @func()
  kind!: string;

  /** The environment, as named in slipway.yaml. */
  @func()
  environment!: string;

  /** verified (the only success), rolled-back (it failed and the previous release is back and verified), failed, or unknown (the rollout could not be proven either way; nothing rolled back). */
  @func()
  status!: string;

  /** The source commit the images were built from. */
  @func()
  sourceSha!: string;

  /** The release's id in the environment's ledger; empty when it failed before the GitOps commit. */
  @func()
  ledgerId!: string;

  /** The GitOps commit that rolled it out; empty when it failed before. */
  @func()
  gitopsCommit!: string;

  /** The images released, each IMAGE=TAG@sha256:DIGEST. */
  @func()
  images!: string[];

  /** promote: ENV:ID of the verified release whose images were promoted. */
  @func()
  promotedFrom!: string;

  /** The steps in order, with what each did. */
  @func()
  steps!: ReleaseStep[];

  /** Why it did not verify: the failed step's error, or the rollout verdict with its diagnostics. */
  @func()
  failure!: string;

  /** What the automatic rollback did (Git, ledger, migrations, the restored release's verification). */
  @func()
  rollback!: string;

  /** Images pushed to the registry that no GitOps commit references (the release failed before the bump). */
  @func()
  unreleasedImages!: string[];

  /** The rollout diagnostics bundle (events, pod logs, conditions) when verification failed (private state behind diagnostics()). */
  diagnosticsDir!: Directory;

  /** When the release and each step ran, and the migrations applied and reverted, as JSON (private state behind runReport()). */
  timing!: string;

  /** The toolkit that renders the reports (private state behind markdown() and html()). */
  toolkitCtr?: Container;

  /** release: the checks before publishing (private state: their services, gates and findings go in the run report). */
  ciRun?: CiRun;

  /** What a person reads: the verdict, the steps, the failure and the rollback. */
  @func()
  summary(): string {
    return renderReleaseSummary(this.data());
  }

  /** The summary, or an error carrying it unless the release was verified: the call for CI (`dagger call release ... verdict`). */
  @func()
  verdict(): string {
    const text = renderReleaseSummary(this.data());
    if (this.status !== "verified") throw new Error(text);
    return text;
  }

  /** The release as JSON (release-report.json). */
  @func()
  report(): File {
    return dag.directory().withNewFile("release-report.json", renderReleaseReport(this.data())).file("release-report.json");
  }

  /** The rollout diagnostics bundle when verification failed; an empty directory otherwise. */
  @func()
  diagnostics(): Directory {
    return this.diagnosticsDir;
  }

  /**
   * The run report (run-report.json, schemaVersion 1; README "Run reports"): the steps with start, duration
   * and outcome, images (tag and digest), migrations, the GitOps commit and the rollback's steps.
   */
  @func()
  async runReport(): Promise<File> {
    return dag.directory().withNewFile("run-report.json", await this.runReportJson()).file("run-report.json");
  }

  /** The run report as Markdown (`slipway report --format md`): the verdict and what failed first; for job summaries. */
  @func()
  async markdown(): Promise<File> {
    return renderedReport(this.toolkitCtr, await this.runReportJson(), "md");
  }

  /** The run report as one self-contained HTML page (`slipway report --format html`): no network needed to view it. */
  @func()
  async html(): Promise<File> {
    return renderedReport(this.toolkitCtr, await this.runReportJson(), "html");
  }

  /**
   * run-report.json with its renderings report.md, report.html, junit.xml and report.sarif, and the Release
   * report release-report.json (what `notify` reads), in one directory: what the CI wrappers export.
   */
  @func()
  async reports(): Promise<Directory> {
    return renderedReports(this.toolkitCtr, await this.runReportJson()).withNewFile("release-report.json", renderReleaseReport(this.data()));
  }

  private async runReportJson(): Promise<string> {
    const timing = JSON.parse(this.timing || "{}") as { startedAt?: string; durationMs?: number; steps?: Array<Partial<Timing>>; migrations?: MigrationRow[] };
    const report = releaseRunReport({
      data: this.data(),
      steps: this.steps.map((s, i) => ({ step: s.step, status: s.status as StepRow["status"], detail: s.detail, ...(timing.steps?.[i] ?? {}) })),
      migrations: timing.migrations ?? [],
      startedAt: timing.startedAt ?? new Date().toISOString(),
      durationMs: timing.durationMs ?? 0,
    });
    return `${JSON.stringify(this.ciRun ? withCiPart(report, await this.ciRun.runReportData()) : report, null, 2)}\n`;
  }

  private data(): ReleaseData {
    return {
      kind: this.kind as ReleaseData["kind"],
      environment: this.environment,
      status: this.status as ReleaseData["status"],
      sourceSha: this.sourceSha,
      ledgerId: this.ledgerId,
      gitopsCommit: this.gitopsCommit,
      images: [...this.images],
      promotedFrom: this.promotedFrom,
      steps: this.steps.map((s) => ({ step: s.step, status: s.status as StepRow["status"], detail: s.detail })),
      failure: this.failure,
      rollback: this.rollback,
      unreleasedImages: [...this.unreleasedImages],
    };
  }
}

function toRelease(outcome: ReleaseOutcome, toolkit?: Container, startedAt?: () => Timing, ciRun?: CiRun): Release {
  const release = new Release();
  const { diagnostics, steps, timings, migrations, ...rest } = outcome;
  Object.assign(release, rest);
  release.steps = steps.map((s) => Object.assign(new ReleaseStep(), { step: s.step, status: s.status, detail: s.detail }));
  release.diagnosticsDir = diagnostics;
  const whole = startedAt?.();
  release.timing = JSON.stringify({ startedAt: whole?.startedAt, durationMs: whole?.durationMs, steps: timings ?? [], migrations: migrations ?? [] });
  release.toolkitCtr = toolkit;
  release.ciRun = ciRun;
  return release;
}

/** The run report rendered by `slipway report` in the toolkit (the CLI owns the schema and every format). */
function renderedReport(toolkit: Container | undefined, json: string, format: keyof typeof RENDERINGS): File {
  if (!toolkit) throw new Error("SLIPWAY_REPORT_UNAVAILABLE: this run has no toolkit to render its report; export run-report and run `slipway report` on it");
  return toolkit.withNewFile(REPORT_IN, json, { permissions: 0o644 }).withExec(renderCommand(format)).file(`/tmp/${RENDERINGS[format]}`);
}

function renderedReports(toolkit: Container | undefined, json: string): Directory {
  if (!toolkit) throw new Error("SLIPWAY_REPORT_UNAVAILABLE: this run has no toolkit to render its report; export run-report and run `slipway report` on it");
  const rendered = (["md", "html", "junit", "sarif"] as const).reduce((ctr, format) => ctr.withExec(renderCommand(format)), toolkit.withNewFile(REPORT_IN, json, { permissions: 0o644 }));
  return (Object.values(RENDERINGS) as string[]).reduce((dir, name) => dir.withFile(name, rendered.file(`/tmp/${name}`)), dag.directory().withNewFile("run-report.json", json));
}

/** The report of a rollback's outcome, or SLIPWAY_ROLLBACK_INCOMPLETE with it when a step failed or was left undone. */
function rollbackReportOf(outcome: RollbackOutcome): string {
  if (!outcome.ok) throw new Error(`SLIPWAY_ROLLBACK_INCOMPLETE: ${outcome.report}`);
  return outcome.report;
}

/**
 * The outcome of an on-demand rollback (`rollbackRun`): its report, whether every step was done, the failed
 * verification's diagnostics and the run reports, so a CI job can export them even when the rollback failed.
 */
@object()
export class RollbackRun {
  /** The environment rolled back. */
  @func()
  environment!: string;

  /** done (every step done), incomplete (a step failed or was left undone, e.g. by gitOnly) or nothing-to-do. */
  @func()
  status!: string;

  /** What was done, one line per step (git, database, verify, registry). */
  @func()
  report!: string;

  /** The rollout diagnostics bundle when the restored release was not healthy (private state behind diagnostics()). */
  diagnosticsDir!: Directory;

  /** When it started and how long it took, as JSON (private state behind runReport()). */
  timing!: string;

  /** The toolkit that renders the reports (private state behind markdown(), html() and reports()). */
  toolkitCtr?: Container;

  /** The report, or an error carrying it unless every step was done: the call for CI (`dagger call rollback-run ... verdict`). */
  @func()
  verdict(): string {
    if (this.status === "incomplete") throw new Error(`SLIPWAY_ROLLBACK_INCOMPLETE: ${this.report}`);
    return this.report;
  }

  /**
   * What failed, as files: rollback-report.txt (the report) and, when the restored release was not healthy,
   * the rollout diagnostics (events, pod logs, conditions: rollout-diagnostics.txt).
   */
  @func()
  diagnostics(): Directory {
    return this.diagnosticsDir.withNewFile("rollback-report.txt", this.report);
  }

  /** The run report (run-report.json, kind rollback, schemaVersion 1; README "Run reports"). */
  @func()
  runReport(): File {
    return dag.directory().withNewFile("run-report.json", this.runReportJson()).file("run-report.json");
  }

  /** The run report as Markdown (`slipway report --format md`), for job summaries. */
  @func()
  markdown(): File {
    return renderedReport(this.toolkitCtr, this.runReportJson(), "md");
  }

  /** The run report as one self-contained HTML page (`slipway report --format html`). */
  @func()
  html(): File {
    return renderedReport(this.toolkitCtr, this.runReportJson(), "html");
  }

  /** run-report.json with report.md, report.html, junit.xml and report.sarif, and the diagnostics under diagnostics/: what the CI wrappers export. */
  @func()
  reports(): Directory {
    return renderedReports(this.toolkitCtr, this.runReportJson()).withDirectory("diagnostics", this.diagnostics());
  }

  private runReportJson(): string {
    const timing = JSON.parse(this.timing || "{}") as { startedAt?: string; durationMs?: number };
    const report = rollbackRunReport({
      environment: this.environment,
      ok: this.status !== "incomplete",
      report: this.report,
      startedAt: timing.startedAt ?? new Date().toISOString(),
      durationMs: timing.durationMs ?? 0,
    });
    return `${JSON.stringify(report, null, 2)}\n`;
  }
}

/**
 * Slipway's pipeline: plan which services changed, then lint, test, build and image them in parallel.
 */
@object()
export class Slipway {
  /** Slipway's own repository, the build context of the toolkit image. */
  toolkitSource: Directory;

  constructor(
    /**
     * Slipway's own repository, from which the toolkit image is built (pipelines/Dockerfile). Defaults to
     * the repository that holds this module, also when the module is called remotely.
     */
    @argument({
      defaultPath: "/",
      ignore: ["**/node_modules", "**/.git", "**/dist", "**/coverage", "**/*.log", ".tmp", ".dagger", "test", "services", "ci"],
    })
    toolkitSource: Directory,
    /**
     * PEM bundle of extra CA certificates that every toolkit step trusts besides the public ones: a GitOps
     * server, registry, identity provider or proxy behind a private CA.
     */
    caCertificates?: File,
  ) {
    this.toolkitSource = toolkitSource;
    this.caCertificates = caCertificates;
  }

  /** Extra CA certificates for the toolkit (see the constructor). */
  caCertificates?: File;

  /**
   * The toolkit container: the `slipway` CLI on PATH and git, built from Slipway's pipelines/Dockerfile.
   * Cached for the session only: its base image tag is resolved when it runs and is not part of the cache key.
   */
  @func({ cache: "session" })
  toolkit(): Container {
    return withCaCertificates(this.toolkitSource.dockerBuild({ dockerfile: "pipelines/Dockerfile" }), this.caCertificates);
  }

  /**
   * Plan, then for every affected service in parallel: lint, test and build it in a container on its
   * `node:<major>-bookworm-slim` after a frozen install with its package manager (npm ci, pnpm install
   * --frozen-lockfile, yarn --frozen-lockfile / --immutable) in its install root, one install per workspace
   * and Node major, caches per manager and Node major; build its image from its Dockerfile with OCI labels, and
   * scan the image (Trivy). Alongside, the repository-wide gates: secrets (TruffleHog since base) and
   * dependencies (npm audit, OSV-Scanner, Trivy fs). A failing step or gate, or a gate that could not
   * decide, is recorded and the run still reports everything; inspect `passed`, `summary` or `report`.
   * Cached for the session only, so a re-run retries failed steps.
   */
  @func({ cache: "session" })
  async ci(
    /** The repository to check, including .git: the plan compares it with base. */
    @argument({ ignore: ["**/node_modules", "**/dist", "**/coverage", ".dagger/sdk"] })
    source: Directory,
    /** Git ref to compute the affected services against (e.g. origin/main); without it every service is affected. */
    base?: string,
    /** Check only these services (names as in the plan); an unknown name is an error. */
    services?: string[],
    /** Run the security gates; false skips them (e.g. offline) and the summary shows them as not run. */
    scan = true,
  ): Promise<CiRun> {
    const plan = await this.plan(source, base, services);
    const run = await checkServices(source, plan, selectServices(plan, "affected", services), {
      build: true,
      image: true,
      ...(scan ? { scan: { toolkit: this.toolkit(), ...(base ? { since: base } : {}) } } : {}),
    });
    run.toolkitCtr = this.toolkit();
    return run;
  }

  /**
   * Secrets gate: TruffleHog over the git history (verified, unknown and unverified results), decided by
   * `slipway scan gate` under the policy and exceptions in slipway.yaml. Fails only when the gate cannot
   * decide; a failed gate is `passed: false` with its reports.
   */
  @func({ cache: "never" })
  async scanSecrets(
    /** The repository to scan, with its .git folder and slipway.yaml. */
    @argument({ ignore: ["**/node_modules", "**/dist", "**/coverage", ".dagger/sdk"] })
    source: Directory,
    /** Only scan commits after this ref (e.g. the pull request base); the whole history when omitted. */
    since?: string,
  ): Promise<ScanReport> {
    return secretsGate(this.toolkit(), source, since);
  }

  /**
   * Dependency gate: npm audit (lockfile only), OSV-Scanner and a Trivy filesystem scan under one policy,
   * findings deduplicated across tools. Fails only when the gate cannot decide.
   */
  @func({ cache: "never" })
  async scanDependencies(
    /** The repository to scan: its lockfiles, manifests and slipway.yaml. */
    @argument({ ignore: ["**/node_modules", "**/dist", "**/coverage", ".dagger/sdk", ".git"] })
    source: Directory,
  ): Promise<ScanReport> {
    return dependenciesGate(this.toolkit(), source);
  }

  /**
   * Image gate: Trivy on the image exported as a tarball (vulnerabilities, secrets, misconfigurations),
   * its database in a cache volume. Fails only when the gate cannot decide.
   */
  @func({ cache: "never" })
  async scanImage(
    /** The image to scan, e.g. the result of `build`. */
    image: Container,
    /** A repository whose slipway.yaml holds the policy, exceptions and scanner pins; built-in defaults when omitted. */
    @argument({ ignore: ["**/node_modules", "**/dist", "**/coverage", ".dagger/sdk", ".git"] })
    source?: Directory,
  ): Promise<ScanReport> {
    return imageGate(this.toolkit(), image, source ?? dag.directory());
  }

  /**
   * Check (`dagger check`): the secrets gate over the whole history of the repository holding the
   * module. Fails with the gate's Markdown summary.
   */
  @func({ cache: "never" })
  @check()
  async secretsCheck(
    /** The repository to scan; defaults to the one holding the module. */
    @argument({ defaultPath: "/", ignore: ["**/node_modules", "**/dist", "**/coverage", ".dagger/sdk"] })
    source: Directory,
  ): Promise<void> {
    const report = await secretsGate(this.toolkit(), source);
    if (!report.passed) throw new Error(await report.summary());
  }

  /**
   * Check (`dagger check`): the dependency gate of the repository holding the module. Fails with the
   * gate's Markdown summary.
   */
  @func({ cache: "never" })
  @check()
  async dependenciesCheck(
    /** The repository to scan; defaults to the one holding the module. */
    @argument({ defaultPath: "/", ignore: ["**/node_modules", "**/dist", "**/coverage", ".dagger/sdk", ".git"] })
    source: Directory,
  ): Promise<void> {
    const report = await dependenciesGate(this.toolkit(), source);
    if (!report.passed) throw new Error(await report.summary());
  }

  /**
   * The image of one service, built from its Dockerfile with OCI labels (the same code path as ci).
   * Cached for the session only, so a later call builds on the base image its tag names then.
   */
  @func({ cache: "session" })
  async build(
    /** The repository holding the service. */
    @argument({ ignore: ["**/node_modules", "**/dist", "**/coverage", ".dagger/sdk"] })
    source: Directory,
    /** Name of the service, as in the plan. */
    service: string,
  ): Promise<Container> {
    const plan = await this.plan(source, undefined, [service]);
    const [planned] = selectServices(plan, "all", [service]).selected;
    if (!planned) throw new Error(`SLIPWAY_UNKNOWN_SERVICE: no service named "${service}" in the plan`);
    return serviceImage(source, plan, planned);
  }

  /**
   * Lint and test one service, or all of them, and return the summary; fails when any lint or test fails.
   * Cached for the session only: a verdict is never replayed from an earlier day or base image.
   */
  @func({ cache: "session" })
  async test(
    /** The repository holding the services. */
    @argument({ ignore: ["**/node_modules", "**/dist", "**/coverage", ".dagger/sdk"] })
    source: Directory,
    /** Name of the service to test (as in the plan); all services when omitted. */
    service?: string,
  ): Promise<string> {
    const plan = await this.plan(source, undefined, service ? [service] : undefined);
    const run = await checkServices(source, plan, selectServices(plan, "all", service ? [service] : undefined), {
      build: false,
      image: false,
    });
    const summary = run.summary();
    if (!run.passed) throw new Error(summary);
    return summary;
  }

  /**
   * Publish the affected services' images to Azure Container Registry (or another OCI registry) without
   * a stored credential: `slipway acr login` exchanges a federated identity for an ACR refresh token, each
   * image gets immutable tags (`sha-<12>`, X.Y.Z/X.Y/X at a release) and OCI annotations, is pushed with
   * `withRegistryAuth`, then `slipway acr verify` checks every tag resolves to the pushed digest and locks
   * it on request. A commit already published is not pushed again. Returns JSON:
   * `[{ service, refs, digest, reused, locked }]`.
   */
  @func({ cache: "never" })
  async publish(
    /** The repository to publish, including .git (tags and labels come from its HEAD). */
    @argument({ ignore: ["**/node_modules", "**/dist", "**/coverage", ".dagger/sdk"] })
    source: Directory,
    /** Registry login server, e.g. myregistry.azurecr.io. Defaults to publish.registry in slipway.yaml. */
    registry?: string,
    /** Identity mode: github-oidc, azure-pipelines, workload-identity, managed-identity, client-secret or static (azure-cli needs `az` and cannot work in the toolkit container). Defaults to publish.identity.mode, else detected. */
    mode?: string,
    /** Entra ID tenant id (not a secret). Defaults to publish.identity.tenantId. */
    tenantId?: string,
    /** Client id of the app registration or user-assigned managed identity (not a secret). Defaults to publish.identity.clientId. */
    clientId?: string,
    /** github-oidc: the job's ACTIONS_ID_TOKEN_REQUEST_URL (needs `permissions: id-token: write`). */
    oidcRequestUrl?: string,
    /** github-oidc: the job's ACTIONS_ID_TOKEN_REQUEST_TOKEN. */
    oidcRequestToken?: Secret,
    /** azure-pipelines: the `idToken` that AzureCLI@2 exposes with addSpnToEnvironment: true. */
    idToken?: Secret,
    /** azure-pipelines: id of the Azure Resource Manager service connection (workload identity federation). */
    serviceConnectionId?: string,
    /** azure-pipelines: $(System.OidcRequestUri). */
    oidcRequestUri?: string,
    /** azure-pipelines: $(System.AccessToken), used to request the service connection's OIDC token. */
    systemAccessToken?: Secret,
    /** workload-identity: the projected service-account token (the file AZURE_FEDERATED_TOKEN_FILE names). */
    federatedToken?: Secret,
    /** Entra ID authority host for sovereign clouds, e.g. https://login.microsoftonline.us. */
    authorityHost?: string,
    /** static: registry username (for registries other than ACR). */
    username?: string,
    /** static: registry password or token. */
    password?: Secret,
    /** Git ref to compute the affected services against; without it every service is published. */
    base?: string,
    /** Publish only these services (names as in the plan). */
    services?: string[],
    /** Target platforms, e.g. ["linux/amd64", "linux/arm64"]; the engine's platform when omitted. */
    platforms?: string[],
    /** Also tag with the (sanitised) branch name. */
    branchTag?: boolean,
    /** Also tag `latest`. Never done unless asked. */
    latest?: boolean,
    /** Lock pushed images (ACR canDelete/canWrite false); overrides publish.lock in slipway.yaml (none, release, all). */
    lock?: boolean,
  ): Promise<string> {
    const plan = await this.plan(source, base, services);
    const selected = selectServices(plan, "affected", services).selected;
    const toolkit = this.toolkit();
    const identity = withIdentity(
      toolkit,
      { tenantId, clientId, authorityHost, oidcRequestUrl, serviceConnectionId, oidcRequestUri, username },
      { oidcRequestToken, idToken, systemAccessToken, password, federatedToken },
    );
    const published = await publishServices(toolkit, source, selected, (service, platform) => serviceImage(source, plan, service, platform), identity, {
      ...(registry ? { registry } : {}),
      ...(mode ? { mode } : {}),
      ...(platforms ? { platforms } : {}),
      ...(branchTag !== undefined ? { branchTag } : {}),
      ...(latest !== undefined ? { latest } : {}),
      ...(lock !== undefined ? { lock } : {}),
    });
    return JSON.stringify(published, null, 2);
  }

  /**
   * Run one service's TypeORM migrations with the service's own TypeORM, in its build container (its
   * install, then its build script) with the slipway CLI added. A database lock keeps two pipelines from migrating at once;
   * a failed `run` reverts exactly what it applied. Returns the JSON report the release ledger stores;
   * fails with the CLI's SLIPWAY_* error and that report when the CLI exits non-zero.
   */
  @func({ cache: "never" })
  async migrate(
    /** The repository holding the service (slipway.yaml `migrate:` settings are read from its root). */
    @argument({ ignore: ["**/node_modules", "**/dist", "**/coverage", ".dagger/sdk"] })
    source: Directory,
    /** Name of the service, as in the plan. */
    service: string,
    /** Database URL, e.g. postgres://user:password@host:5432/db. Passed as DATABASE_URL; never in argv, logs or the cache key. */
    databaseUrl: Secret,
    /** status, run or revert. */
    action = "run",
    /** run: apply up to and including this migration. revert: revert every migration after it (it stays applied). */
    to?: string,
    /** run: apply only the next N pending migrations. revert: revert the last N. */
    count?: number,
    /** Report what would be done without changing the database. */
    dryRun = false,
    /** The compiled DataSource module, relative to the service's path. Default: slipway.yaml migrate.services.<service>.dataSource, else dist/data-source.js. */
    dataSource?: string,
  ): Promise<string> {
    const plan = await this.plan(source, undefined, [service]);
    const [planned] = selectServices(plan, "all", [service]).selected;
    if (!planned) throw new Error(`SLIPWAY_UNKNOWN_SERVICE: no service named "${service}" in the plan`);
    const toolchain = toolchainOf(plan, planned);
    return migrateService(
      this.toolkit(),
      installed(source, toolchain),
      planned,
      databaseUrl,
      { action, ...(dataSource ? { dataSource } : {}), ...(to ? { to } : {}), ...(count ? { count } : {}), dryRun },
      toolchain.scripts.build,
    );
  }

  /**
   * Bump images in the GitOps repository: clone, edit every manifest format in place (Kustomize images,
   * Helm values, plain manifests, HelmRelease values, Flux $imagepolicy markers), make ONE commit for all
   * images and push it over HTTPS, fetching/rebasing/retrying when other pipelines push at the same time.
   * Returns the SHA of the branch tip that carries the change (the existing tip when nothing had to change).
   */
  @func({ cache: "never" })
  async gitopsBump(
    /** HTTPS clone URL of the GitOps repository, without credentials. */
    repository: string,
    /** Branch that Flux or Argo CD reconciles, e.g. main. */
    branch: string,
    /** Token with write access (GitHub: contents: write; Azure Repos: Code read & write); reaches git only through GIT_ASKPASS. */
    token: Secret,
    /** Images to set, each IMAGE=TAG or IMAGE=TAG@sha256:DIGEST, e.g. myacr.azurecr.io/shop/api=sha-1a2b3c4d5e6f. */
    set: string[] = [],
    /** Folder inside the GitOps repository to edit, e.g. clusters/prod. Defaults to gitops.path in slipway.yaml, else the whole repository. */
    path?: string,
    /** Source commit recorded as the Slipway-Source-Commit trailer of the bump commit. */
    sourceSha?: string,
    /** Flux image policies to set, each NS:NAME=IMAGE:TAG[@sha256:DIGEST], for `$imagepolicy` markers. */
    policy: string[] = [],
    /** Succeed when an image is not found in the repository (default: that is an error). */
    allowMissing = false,
    /** A repository whose slipway.yaml `gitops:` section configures formats, path and commit author. */
    @argument({ ignore: ["**/node_modules", "**/dist", "**/coverage", ".dagger/sdk", ".git"] })
    source?: Directory,
  ): Promise<string> {
    return bump(
      this.toolkit(),
      token,
      { repository, branch, set, policy, allowMissing, ...(path ? { path } : {}), ...(sourceSha ? { sourceSha } : {}) },
      source,
    );
  }

  /**
   * Record a release in the environment's ledger in the GitOps repository (.slipway/ledger/<environment>.json):
   * source commit, image tags and digests, GitOps commit and status, in one commit pushed with fetch/retry.
   * Record it `pending` after the GitOps bump, then mark it `verified` or `failed` after the rollout check:
   * `rollback` returns to the newest verified release. Returns the entry id.
   */
  @func({ cache: "never" })
  async recordRelease(
    /** HTTPS clone URL of the GitOps repository, without credentials. */
    repository: string,
    /** Branch that Flux or Argo CD reconciles, e.g. main. */
    branch: string,
    /** Token with write access to the GitOps repository; reaches git only through GIT_ASKPASS. */
    token: Secret,
    /** Environment whose ledger records the release, e.g. prod. */
    environment: string,
    /** Source commit the images were built from. */
    sourceSha: string,
    /** The released images, each IMAGE=TAG@sha256:DIGEST (as publish printed them); digests are required. */
    set: string[],
    /** The GitOps commit that rolled the release out (what gitopsBump returned). */
    gitopsCommit?: string,
    /** pending (default), verified or failed. */
    status = "pending",
  ): Promise<string> {
    const entry = await recordRelease(this.toolkit(), token, {
      repository, branch, environment, sourceSha, set, status, ...(gitopsCommit ? { gitopsCommit } : {}),
    });
    return entry.id;
  }

  /**
   * Mark a recorded release verified (the rollout check passed) or failed, in one commit to the
   * environment's ledger. Returns the new status.
   */
  @func({ cache: "never" })
  async markRelease(
    /** HTTPS clone URL of the GitOps repository, without credentials. */
    repository: string,
    /** Branch that Flux or Argo CD reconciles, e.g. main. */
    branch: string,
    /** Token with write access to the GitOps repository; reaches git only through GIT_ASKPASS. */
    token: Secret,
    /** Environment of the ledger, e.g. prod. */
    environment: string,
    /** Ledger id of the release, as recordRelease returned it. */
    id: string,
    /** verified or failed. */
    status: string,
  ): Promise<string> {
    return (await markRelease(this.toolkit(), token, { repository, branch, environment, id, status })).status;
  }

  /**
   * Roll an environment back to its previous verified release, from the release ledger in the GitOps
   * repository (.slipway/ledger/<environment>.json), across Git, the database and the cluster. Plan first
   * (target, abandoned releases, manifest lines, migrations to revert, registry tags), then ONE new commit
   * writing the target's tags and digests back to the environment's folder and marking every newer release
   * rolled-back (fetch/retry, never a force-push). With `source` (a repository whose slipway.yaml declares
   * the environment) repository, branch and folder come from there, and no other folder is ever edited.
   * With `databaseUrls`, the migrations the abandoned releases applied are then reverted with the newest
   * abandoned image's own code (it carries their down()); with `kubeconfig`, the restored release is then
   * verified and marked verified (or failed). A rollback whose abandoned releases applied migrations is
   * refused, nothing written, unless `databaseUrls` or `gitOnly` is given. Returns the report (with `dryRun`
   * the plan, nothing pushed); fails with the report when a step failed or was left undone by `gitOnly`.
   */
  @func({ cache: "never" })
  async rollback(
    /** Token with write access to the GitOps repository; reaches git only through GIT_ASKPASS. */
    token: Secret,
    /** Environment whose ledger picks the release, e.g. prod. */
    environment: string,
    /** HTTPS clone URL of the GitOps repository, without credentials. Default: environments.<environment>.gitops.repository (or gitops.repository) in the source's slipway.yaml. */
    repository?: string,
    /** Branch that Flux or Argo CD reconciles. Default: from slipway.yaml, else main. */
    branch?: string,
    /** Ledger id of the verified release to return to. Default: the newest verified release before the newest one. */
    to?: string,
    /** Folder inside the GitOps repository holding the environment's manifests. Default: the environment's folder in slipway.yaml (a folder outside it is refused), else gitops.path, else the whole repository. */
    path?: string,
    /** A repository whose slipway.yaml declares the environment (environments:, gitops:, ledger:). Required with kubeconfig or databaseUrls. */
    @argument({ ignore: ["**/node_modules", "**/dist", "**/coverage", ".dagger/sdk", ".git"] })
    source?: Directory,
    /** Print the plan and stop: nothing is pushed. */
    dryRun = false,
    /** With `to`: allow a release that was never verified (the plan and the commit say so). */
    force = false,
    /** Kubeconfig of the environment's cluster: verify the restored release (asking Flux to reconcile now) and mark it. */
    kubeconfig?: Secret,
    /** Database URLs of the services whose migrations are reverted: one line SERVICE=URL each. */
    databaseUrls?: Secret,
    /** Restore Git and the ledger only, leaving the abandoned releases' migrations applied (the call then fails, saying which). */
    gitOnly = false,
    /** github-oidc: the job's ACTIONS_ID_TOKEN_REQUEST_URL (pulls the abandoned image from the registry). */
    oidcRequestUrl?: string,
    /** github-oidc: the job's ACTIONS_ID_TOKEN_REQUEST_TOKEN. */
    oidcRequestToken?: Secret,
    /** azure-pipelines: $(System.OidcRequestUri). */
    oidcRequestUri?: string,
    /** azure-pipelines: $(System.AccessToken). */
    systemAccessToken?: Secret,
    /** workload-identity: the projected service-account token. */
    federatedToken?: Secret,
    /** client-secret: the app registration's secret. */
    clientSecret?: Secret,
    /** static: the registry password (registries other than ACR). */
    registryPassword?: Secret,
    /** Revert migrations whose down() would destroy data (drop a table or column holding data, truncate, delete rows) or cannot be checked (missing, empty, failing). Default: such a revert stops the rollback before anything is written; slipway.yaml migrate.services.<name>.allowDestructiveRevert allows it per service or per migration. */
    allowDestructiveRevert = false,
    /** The GitOps controller is down: with kubeconfig, set the restored images in the Deployments directly and verify them (Git is restored all the same, so the controller agrees when it returns). */
    kubectlUndo = false,
    /** Slack incoming webhook URL: with source, the environment's notify: targets get `started` before anything is written and rolled-back (or failed when incomplete) with what was restored (README "Notifications"); reaches the CLI as SLACK_WEBHOOK_URL. */
    slackWebhook?: Secret,
    /** Teams Workflows webhook URL (as slackWebhook); reaches the CLI as TEAMS_WEBHOOK_URL. */
    teamsWebhook?: Secret,
    /** Link to the CI run, shown in the notifications. */
    runUrl?: string,
    /** Who and what triggered the run, for the notifications, as NAME=VALUE: GITHUB_ACTOR, GITHUB_RUN_ID, BUILD_REQUESTEDFOR, BUILD_BUILDID (and GITHUB_WORKFLOW, BUILD_DEFINITIONNAME without commas; better workflow). */
    trigger: string[] = [],
    /** The workflow or pipeline name for the notifications, as one string (a list flag would split it on commas). */
    workflow?: string,
  ): Promise<string> {
    const request = { environment, ...(to ? { to } : {}), force };
    if (kubectlUndo && !kubeconfig) throw new Error("SLIPWAY_USAGE: kubectlUndo needs kubeconfig (and source): it sets the restored images in the cluster's Deployments");
    const notifying = notifyContextOf(slackWebhook, teamsWebhook, runUrl, trigger, workflow);
    if ((slackWebhook || teamsWebhook) && !source) throw new Error("SLIPWAY_USAGE: slackWebhook and teamsWebhook need source: its slipway.yaml names the environment's notify: targets");
    if (dryRun || (!kubeconfig && !databaseUrls && !gitOnly)) {
      if (!dryRun && source) {
        // Git alone is only right when nothing else is to be undone: the plan says whether migrations are.
        const { env, cli, toolkit } = await this.environmentOf(source, environment, token, true); // the plan decides whether databaseUrls is needed
        return rollbackReportOf(await rollbackNotified(environment, toolkit, source, notifying, () => this.rollbackOutcome(env, cli, toolkit, source, request, {}, { oidcRequestUrl, oidcRequestUri }, false)));
      }
      return rollback(
        this.toolkit(),
        token,
        { environment, ...(repository ? { repository } : {}), ...(branch ? { branch } : {}), ...(to ? { to } : {}), ...(path ? { path } : {}), force, dryRun },
        source,
      );
    }
    if (!source) throw new Error("SLIPWAY_USAGE: kubeconfig, databaseUrls and gitOnly need source (a repository whose slipway.yaml declares the environment)");
    if (repository || branch || path) throw new Error("SLIPWAY_USAGE: with kubeconfig, databaseUrls or gitOnly the environment's repository, branch and folder come from slipway.yaml; drop repository, branch and path");
    const { env, cli, toolkit } = await this.environmentOf(source, environment, token, true); // the plan decides whether databaseUrls is needed
    const secrets: IdentitySecrets = { oidcRequestToken, systemAccessToken, federatedToken, clientSecret, password: registryPassword };
    return rollbackReportOf(
      await rollbackNotified(environment, toolkit, source, notifying, () =>
        this.rollbackOutcome(env, cli, toolkit, source, request, { kubeconfig, databaseUrls, secrets }, { oidcRequestUrl, oidcRequestUri }, gitOnly, allowDestructiveRevert, kubectlUndo),
      ),
    );
  }

  /**
   * The on-demand rollback of `rollback` with a source, as an object a CI job exports from: it does not fail
   * when a step failed or was left undone (`status` incomplete; `verdict` then fails with the report), so
   * `reports export` still writes the run reports (kind rollback) and the diagnostics of a restored release
   * that is not healthy. Refusals before anything is written (SLIPWAY_ROLLBACK_DATABASE,
   * SLIPWAY_ROLLBACK_DESTRUCTIVE, a bad flag) still fail the call. e.g. `dagger call rollback-run --source .
   * --environment prod --token env:GITOPS_TOKEN --kubeconfig file:kubeconfig --database-urls env:DATABASE_URLS
   * reports export --path slipway-report`.
   */
  @func({ cache: "never" })
  async rollbackRun(
    /** Token with write access to the GitOps repository; reaches git only through GIT_ASKPASS. */
    token: Secret,
    /** Environment whose ledger picks the release, e.g. prod. */
    environment: string,
    /** A repository whose slipway.yaml declares the environment (environments:, gitops:, ledger:, migrate:). */
    @argument({ ignore: ["**/node_modules", "**/dist", "**/coverage", ".dagger/sdk", ".git"] })
    source: Directory,
    /** Ledger id of the verified release to return to. Default: the newest verified release before the newest one. */
    to?: string,
    /** With `to`: allow a release that was never verified (the plan and the commit say so). */
    force = false,
    /** Kubeconfig of the environment's cluster: verify the restored release (asking Flux to reconcile now) and mark it. */
    kubeconfig?: Secret,
    /** Database URLs of the services whose migrations are reverted: one line SERVICE=URL each. */
    databaseUrls?: Secret,
    /** Restore Git and the ledger only, leaving the abandoned releases' migrations applied (status incomplete, saying which). */
    gitOnly = false,
    /** github-oidc: the job's ACTIONS_ID_TOKEN_REQUEST_URL (pulls the abandoned image from the registry). */
    oidcRequestUrl?: string,
    /** github-oidc: the job's ACTIONS_ID_TOKEN_REQUEST_TOKEN. */
    oidcRequestToken?: Secret,
    /** azure-pipelines: $(System.OidcRequestUri). */
    oidcRequestUri?: string,
    /** azure-pipelines: $(System.AccessToken). */
    systemAccessToken?: Secret,
    /** workload-identity: the projected service-account token. */
    federatedToken?: Secret,
    /** client-secret: the app registration's secret. */
    clientSecret?: Secret,
    /** static: the registry password (registries other than ACR). */
    registryPassword?: Secret,
    /** Revert migrations whose down() would destroy data or cannot be checked (see `rollback`). */
    allowDestructiveRevert = false,
    /** The GitOps controller is down: with kubeconfig, set the restored images in the Deployments directly and verify them. */
    kubectlUndo = false,
    /** Slack incoming webhook URL: with source, the environment's notify: targets get `started` before anything is written and rolled-back (or failed when incomplete) with what was restored (README "Notifications"); reaches the CLI as SLACK_WEBHOOK_URL. */
    slackWebhook?: Secret,
    /** Teams Workflows webhook URL (as slackWebhook); reaches the CLI as TEAMS_WEBHOOK_URL. */
    teamsWebhook?: Secret,
    /** Link to the CI run, shown in the notifications. */
    runUrl?: string,
    /** Who and what triggered the run, for the notifications, as NAME=VALUE: GITHUB_ACTOR, GITHUB_RUN_ID, BUILD_REQUESTEDFOR, BUILD_BUILDID (and GITHUB_WORKFLOW, BUILD_DEFINITIONNAME without commas; better workflow). */
    trigger: string[] = [],
    /** The workflow or pipeline name for the notifications, as one string (a list flag would split it on commas). */
    workflow?: string,
  ): Promise<RollbackRun> {
    if (kubectlUndo && !kubeconfig) throw new Error("SLIPWAY_USAGE: kubectlUndo needs kubeconfig: it sets the restored images in the cluster's Deployments");
    const notifying = notifyContextOf(slackWebhook, teamsWebhook, runUrl, trigger, workflow);
    const done = stopwatch();
    const request = { environment, ...(to ? { to } : {}), force };
    const { env, cli, toolkit } = await this.environmentOf(source, environment, token, true);
    const secrets: IdentitySecrets = { oidcRequestToken, systemAccessToken, federatedToken, clientSecret, password: registryPassword };
    const outcome = await rollbackNotified(environment, toolkit, source, notifying, () =>
      this.rollbackOutcome(env, cli, toolkit, source, request, { kubeconfig, databaseUrls, secrets }, { oidcRequestUrl, oidcRequestUri }, gitOnly, allowDestructiveRevert, kubectlUndo),
    );
    const run = new RollbackRun();
    run.environment = environment;
    run.status = !outcome.ok ? "incomplete" : /nothing to do, already at release/.test(outcome.report) ? "nothing-to-do" : "done";
    run.report = outcome.report;
    run.diagnosticsDir = outcome.diagnostics;
    run.timing = JSON.stringify(done());
    run.toolkitCtr = this.toolkit();
    return run;
  }

  private async rollbackOutcome(
    env: ResolvedEnvironment,
    cli: Container,
    toolkit: Container,
    source: Directory,
    request: RollbackRequest,
    given: { kubeconfig?: Secret; databaseUrls?: Secret; secrets?: IdentitySecrets },
    urls: { oidcRequestUrl?: string; oidcRequestUri?: string },
    gitOnly: boolean,
    allowDestructiveRevert = false,
    kubectlUndo = false,
  ): Promise<RollbackOutcome> {
    const ids = { ...identityValues(env), ...urls };
    const identity = (ctr: Container) => withIdentity(ctr, ids, given.secrets ?? {});
    const options = { ...(env.registry ? { registry: env.registry } : {}), ...(env.identity.mode ? { mode: env.identity.mode } : {}) };
    let auth: { login: { registry: string; username: string }; password: Secret } | undefined;
    return runRollback({
      env,
      request,
      cli,
      toolkit,
      source,
      ...(given.kubeconfig ? { kubeconfig: given.kubeconfig } : {}),
      ...(given.databaseUrls ? { databaseUrls: given.databaseUrls } : {}),
      kubeIdentity: identity,
      pullAuth: async (ctr) => {
        if (!env.registry) return ctr;
        auth ??= await registryLogin(identity(toolkit), source, options);
        return ctr.withRegistryAuth(auth.login.registry, auth.login.username, auth.password);
      },
      gitOnly,
      registryCli: identity(toolkit).withMountedDirectory(SRC, source).withWorkdir(SRC),
      allowDestructiveRevert,
      kubectlUndo,
    });
  }


  /**
   * Delete the manifests of one registry repository that no release ledger references (registry hygiene):
   * every environment's ledger is read first (.slipway/ledger/*.json in the GitOps repository of slipway.yaml,
   * or `gitopsRepository`); the newest `keep` verified releases of each environment, every digest any ledger
   * entry names (failed and rolled-back ones too, and digests promote shares between environments), the
   * current and pending releases, manifests younger than `minAge` and locked ones are kept. Prints the plan
   * (what is deleted, what is kept and why) and, unless `dryRun`, deletes oldest first. A ledger that cannot
   * be read deletes nothing; a registry failure mid-way fails naming what was deleted and what is left.
   * Returns the plan and what was done.
   */
  @func({ cache: "never" })
  async prune(
    /** Token with read access to the GitOps repository holding the ledgers; reaches git only through GIT_ASKPASS. */
    token: Secret,
    /** The repository in the registry, e.g. shop/api. */
    repository: string,
    /** How many of the newest verified releases of each environment are always kept. */
    keep: number,
    /** A repository whose slipway.yaml names the registry and identity ids (publish:) and the GitOps repositories (gitops:, environments:). */
    @argument({ ignore: ["**/node_modules", "**/dist", "**/coverage", ".dagger/sdk", ".git"] })
    source: Directory,
    /** Print the plan and stop: nothing is deleted. */
    dryRun = false,
    /** Registry login server, e.g. myacr.azurecr.io. Default: publish.registry in slipway.yaml. */
    registry?: string,
    /** Keep manifests pushed more recently than this (a release may not have recorded them yet), e.g. 1h (the default); 0 keeps none for their age. */
    minAge?: string,
    /** HTTPS clone URL of the GitOps repository holding every environment's ledger. Default: gitops.repository and each environment's repository in slipway.yaml. */
    gitopsRepository?: string,
    /** Its branch. Default: from slipway.yaml, else main. */
    branch?: string,
    /** Identity mode (github-oidc, azure-pipelines, workload-identity, managed-identity, client-secret, azure-cli, static). Default: publish.identity.mode in slipway.yaml, else detected. */
    mode?: string,
    /** github-oidc: the job's ACTIONS_ID_TOKEN_REQUEST_URL. */
    oidcRequestUrl?: string,
    /** github-oidc: the job's ACTIONS_ID_TOKEN_REQUEST_TOKEN. */
    oidcRequestToken?: Secret,
    /** azure-pipelines: $(System.OidcRequestUri). */
    oidcRequestUri?: string,
    /** azure-pipelines: $(System.AccessToken). */
    systemAccessToken?: Secret,
    /** workload-identity: the projected service-account token. */
    federatedToken?: Secret,
    /** client-secret: the app registration's secret. */
    clientSecret?: Secret,
    /** static: the registry password (registries other than ACR cannot be pruned: the command says so). */
    registryPassword?: Secret,
  ): Promise<string> {
    const secrets: IdentitySecrets = { oidcRequestToken, systemAccessToken, federatedToken, clientSecret, password: registryPassword };
    const ctr = withIdentity(this.toolkit(), { oidcRequestUrl, oidcRequestUri }, secrets)
      .withMountedDirectory(SRC, source)
      .withWorkdir(SRC)
      .withSecretVariable("SLIPWAY_GIT_TOKEN", token);
    return runPrune(ctr, { repository, keep, dryRun, registry, mode, minAge, gitopsRepository, branch }, SRC);
  }

  /**
   * Verify a rollout on Kubernetes (AKS): wait until Flux or Argo CD has applied the GitOps commit, then
   * prove the Deployments healthy with the expected images, failing fast on CrashLoopBackOff,
   * ImagePullBackOff, OOMKilled and config errors. Returns the JSON verdict when healthy; otherwise fails
   * with the verdict, the CLI's log and the diagnostics bundle.
   */
  @func({ cache: "never" })
  async verifyRollout(
    /** Kubeconfig of the cluster; mounted as a secret file. */
    kubeconfig: Secret,
    /** Namespace of the Deployments. */
    namespace: string,
    /** Deployments to verify (or give selector). */
    deployments: string[] = [],
    /** Label selector of the workloads to verify (Deployments, StatefulSets and DaemonSets), e.g. app.kubernetes.io/part-of=shop. */
    selector?: string,
    /** Images the Deployments must run, each IMAGE=TAG (or IMAGE=TAG@sha256:DIGEST). */
    images: string[] = [],
    /** Flux Kustomization NS/NAME that applies the GitOps commit. */
    fluxKustomization?: string,
    /** Argo CD Application NS/NAME that applies the GitOps commit. */
    argocdApp?: string,
    /** The GitOps commit SHA that must be applied first (from gitopsBump). */
    revision?: string,
    /** Ask Flux to reconcile the Kustomization now instead of waiting for its interval. */
    reconcile = false,
    /** How long to wait, e.g. 10m. Defaults to rollout.timeout in slipway.yaml. */
    timeout?: string,
    /** Kubeconfig context to use; its current context when omitted. */
    context?: string,
    /** AKS Entra ID token: auto, workload-identity, managed-identity, client-secret, github-oidc, azure-pipelines or none. */
    azureIdentity?: string,
    /** Entra ID tenant id (not a secret). */
    tenantId?: string,
    /** Client id of the app registration or managed identity (not a secret). */
    clientId?: string,
    /** client-secret: the app registration's secret. */
    clientSecret?: Secret,
    /** workload-identity: the projected service-account token. */
    federatedToken?: Secret,
    /** github-oidc: the job's ACTIONS_ID_TOKEN_REQUEST_URL. */
    oidcRequestUrl?: string,
    /** github-oidc: the job's ACTIONS_ID_TOKEN_REQUEST_TOKEN. */
    oidcRequestToken?: Secret,
    /** azure-pipelines: id of the Azure Resource Manager service connection. */
    serviceConnectionId?: string,
    /** azure-pipelines: $(System.OidcRequestUri). */
    oidcRequestUri?: string,
    /** azure-pipelines: $(System.AccessToken). */
    systemAccessToken?: Secret,
    /** azure-pipelines: the `idToken` that AzureCLI@2 exposes with addSpnToEnvironment: true (instead of a service connection id). */
    idToken?: Secret,
    /** A repository whose slipway.yaml `rollout:` section sets timeout and fail-fast thresholds. */
    @argument({ ignore: ["**/node_modules", "**/dist", "**/coverage", ".dagger/sdk", ".git"] })
    source?: Directory,
    /** StatefulSets to verify, by name (kubectl's rollout rules; OnDelete cannot be verified). */
    statefulsets: string[] = [],
    /** DaemonSets to verify, by name (kubectl's rollout rules; OnDelete cannot be verified). */
    daemonsets: string[] = [],
    /** Flux HelmRelease NS/NAME whose values the GitOps commit changes; checked after fluxKustomization applied the commit. */
    fluxHelmRelease?: string,
    /** With argocdApp: request the sync of revision (a full SHA), as `argocd app sync --revision`, for an Application without automated sync; an operation in progress is never overwritten. */
    argocdSync = false,
  ): Promise<string> {
    const identity = (ctr: Container) =>
      withIdentity(
        ctr,
        { tenantId, clientId, oidcRequestUrl, serviceConnectionId, oidcRequestUri },
        { clientSecret, federatedToken, oidcRequestToken, systemAccessToken, idToken },
      );
    const input = {
      namespace,
      deployments,
      statefulsets,
      daemonsets,
      images,
      reconcile,
      ...(selector ? { selector } : {}),
      ...(fluxKustomization ? { fluxKustomization } : {}),
      ...(fluxHelmRelease ? { fluxHelmRelease } : {}),
      ...(argocdApp ? { argocdApp } : {}),
      ...(argocdSync ? { argocdSync } : {}),
      ...(revision ? { revision } : {}),
      ...(timeout ? { timeout } : {}),
      ...(context ? { context } : {}),
      ...(azureIdentity ? { azureIdentity } : {}),
    };
    return verify(this.toolkit(), kubeconfig, identity, input, source);
  }

  /**
   * Release a commit to an environment of slipway.yaml, the whole path as one call: plan → lint, test, build,
   * image and the security gates → publish to the environment's registry → the environment's migrations →
   * ONE GitOps commit bumping its folder and recording the release pending in its ledger → verify the
   * rollout → mark it verified. When the rollout fails it rolls back by itself (previous verified release
   * in Git and ledger, this release's migrations reverted, the restored release verified) and says so.
   * A second release of the same environment waits for the first (bounded) or fails. Returns the Release:
   * `verdict` fails unless it was verified.
   */
  @func({ cache: "never" })
  async release(
    /** The repository to release, including .git (its HEAD is released; slipway.yaml describes the environments). */
    @argument({ ignore: ["**/node_modules", "**/dist", "**/coverage", ".dagger/sdk"] })
    source: Directory,
    /** The environment, as named under `environments:` in slipway.yaml, e.g. dev. */
    environment: string,
    /** Token with write access to the environment's GitOps repository; reaches git only through GIT_ASKPASS. */
    gitToken: Secret,
    /** Kubeconfig of the environment's cluster; mounted as a secret file. */
    kubeconfig: Secret,
    /** Database URLs of the services that migrate here: one line SERVICE=postgres://... each. Needed when the environment migrates a service. */
    databaseUrls?: Secret,
    /** Git ref to compute the affected services against; without it every service is released. */
    base?: string,
    /** Release only these services (names as in the plan). */
    services?: string[],
    /** Run the security gates (secrets, dependencies, image scan) before publishing. Default true. */
    scan = true,
    /** github-oidc: the job's ACTIONS_ID_TOKEN_REQUEST_URL (identity ids come from slipway.yaml). */
    oidcRequestUrl?: string,
    /** github-oidc: the job's ACTIONS_ID_TOKEN_REQUEST_TOKEN. */
    oidcRequestToken?: Secret,
    /** azure-pipelines: $(System.OidcRequestUri). */
    oidcRequestUri?: string,
    /** azure-pipelines: $(System.AccessToken). */
    systemAccessToken?: Secret,
    /** workload-identity: the projected service-account token. */
    federatedToken?: Secret,
    /** client-secret: the app registration's secret. */
    clientSecret?: Secret,
    /** static: the registry password (registries other than ACR). */
    registryPassword?: Secret,
    /** Slack incoming webhook URL: the environment's notify: targets get `started` before anything is written and the outcome at the end (README "Notifications"); reaches the CLI as SLACK_WEBHOOK_URL. */
    slackWebhook?: Secret,
    /** Teams Workflows webhook URL (as slackWebhook); reaches the CLI as TEAMS_WEBHOOK_URL. */
    teamsWebhook?: Secret,
    /** Link to the CI run, shown in the notifications. */
    runUrl?: string,
    /** Who and what triggered the run, for the notifications, as NAME=VALUE: GITHUB_ACTOR, GITHUB_RUN_ID, BUILD_REQUESTEDFOR, BUILD_BUILDID (and GITHUB_WORKFLOW, BUILD_DEFINITIONNAME without commas; better workflow). */
    trigger: string[] = [],
    /** The workflow or pipeline name for the notifications, as one string (a list flag would split it on commas). */
    workflow?: string,
  ): Promise<Release> {
    const notifying = notifyContextOf(slackWebhook, teamsWebhook, runUrl, trigger, workflow);
    // No idToken: AzureCLI@2's lasts about 10 minutes, less than a release; the service connection's OIDC token is requested when needed.
    const secrets: IdentitySecrets = { oidcRequestToken, systemAccessToken, federatedToken, clientSecret, password: registryPassword };
    const { env, cli, toolkit } = await this.environmentOf(source, environment, gitToken, databaseUrls !== undefined);
    const plan = await this.plan(source, base, services);
    const selection = selectServices(plan, "affected", services);
    const steps: StepRow[] = [];
    const started = stopwatch();
    // `started` goes out while the checks run (they write nothing) and has been answered before anything is published.
    const startedPost = timedPost(notifying, () => postEvent(toolkit, source, notifying, { environment, event: "started", kind: "release" }));
    const ciTime = stopwatch();
    const sourceSha = plan.revision?.sha ?? "";
    const checked = await failedNotified("release", environment, sourceSha, toolkit, source, notifying, () => checkServices(source, plan, selection, { build: true, image: true, ...(scan ? { scan: { toolkit, ...(base ? { since: base } : {}) } } : {}) }), startedPost);
    const timings = [ciTime()];
    const startedResult = await startedPost;
    if (!checked.passed) {
      const failed: ReleaseOutcome = {
        kind: "release", environment, status: "failed", sourceSha, ledgerId: "", gitopsCommit: "", images: [], promotedFrom: "",
        steps: [{ step: "ci", status: "failed", detail: "lint, test, build, image or a security gate failed" }],
        failure: checked.summary(), rollback: "", unreleasedImages: [], diagnostics: dag.directory(), timings,
      };
      return toRelease(await withOutcomeNotified(failed, startedResult, toolkit, source, notifying), toolkit, started, checked);
    }
    steps.push({ step: "ci", status: "passed", detail: `${selection.selected.map((s) => s.name).join(", ")}: lint, test, build, image${scan ? ", gates" : ""}` });
    const ids = { ...identityValues(env), oidcRequestUrl, oidcRequestUri };
    const outcome = await failedNotified("release", environment, sourceSha, toolkit, source, notifying, () =>
      runRelease({
        kind: "release",
        env,
        sourceSha,
        cli,
        toolkit,
        source,
        installedOf: (service) => installed(source, toolchainOf(plan, service)),
        buildOf: (service) => toolchainOf(plan, service).scripts.build,
        services: selection.selected,
        publish: {
          identity: withIdentity(toolkit, ids, secrets),
          image: (service, platform) => serviceImage(source, plan, service, platform),
          options: { ...(env.registry ? { registry: env.registry } : {}), ...(env.identity.mode ? { mode: env.identity.mode } : {}) },
        },
        kubeconfig,
        kubeIdentity: (ctr) => withIdentity(ctr, ids, secrets),
        ...(databaseUrls ? { databaseUrls } : {}),
        steps,
        timings,
      }),
    );
    return toRelease(await withOutcomeNotified(outcome, startedResult, toolkit, source, notifying), toolkit, started, checked);
  }

  /**
   * The verdict of a run from its run report (what `ci ... reports`, `release ... reports` or `promote ...
   * reports` exported): the report as Markdown when the run passed or was verified, otherwise an error
   * carrying it, so a CI job that exported the reports first still fails on the run's outcome.
   */
  @func()
  async reportVerdict(
    /** run-report.json (schemaVersion 1). */
    run: File,
  ): Promise<string> {
    const json = await run.contents();
    const text = await renderedReport(this.toolkit(), json, "md").contents();
    const outcome = (JSON.parse(json) as { outcome?: unknown }).outcome;
    if (outcome !== "passed" && outcome !== "verified") throw new Error(text);
    return text;
  }

  /**
   * Post a release's outcome to the Slack and Teams webhooks of its environment (`slipway notify`, the
   * environment's `notify:` in slipway.yaml): verified, rolled-back, or failed (also for unknown). The
   * webhooks reach the CLI as SLACK_WEBHOOK_URL and TEAMS_WEBHOOK_URL: name those in `webhookEnv`. A post
   * that fails is a warning in the returned text, never an error: a notification never fails a release.
   */
  @func({ cache: "never" })
  async notify(
    /** The repository whose slipway.yaml names the environment's notify targets. */
    @argument({ ignore: ["**/node_modules", "**/dist", "**/coverage", ".dagger/sdk", ".git"] })
    source: Directory,
    /** The Release report (release-report.json from `release ... reports` or `promote ... reports`). */
    report: File,
    /** The Slack incoming webhook URL. */
    slackWebhook?: Secret,
    /** The Teams Workflows webhook URL. */
    teamsWebhook?: Secret,
    /** Link to the CI run, shown in the message. */
    runUrl?: string,
    /** Who and what triggered the run, as NAME=VALUE: GITHUB_ACTOR, GITHUB_WORKFLOW, GITHUB_RUN_ID, BUILD_REQUESTEDFOR, BUILD_DEFINITIONNAME, BUILD_BUILDID (other names are refused). A workflow name with a comma goes in workflow. */
    trigger: string[] = [],
    /** started, verified, failed or rolled-back; default from the report's status. */
    event?: string,
    /** The workflow or pipeline name (GITHUB_WORKFLOW, BUILD_DEFINITIONNAME) as one string: a list flag (trigger) would split it on commas. */
    workflow?: string,
  ): Promise<string> {
    const json = await report.contents();
    const release = JSON.parse(json) as { environment?: unknown; status?: unknown };
    if (typeof release.environment !== "string" || typeof release.status !== "string") {
      throw new Error("SLIPWAY_NOTIFY_REPORT_INVALID: report is not a Release report (release-report.json): it names no environment and status");
    }
    const ctx: NotifyContext = { trigger: triggerEnv(trigger, workflow), slackWebhook, teamsWebhook, ...(runUrl ? { runUrl } : {}) };
    const file = "/tmp/slipway-release-report.json";
    const command = notifyCommand({ environment: release.environment, event: (event ?? notifyEventOf(release.status)) as NotifyEvent, report: file, ...(runUrl ? { runUrl } : {}), json: false });
    const ctr = notifier(this.toolkit(), source, ctx).withNewFile(file, json, { permissions: 0o644 });
    const { run } = await runCommand(fresh(ctr), command);
    if (run.exitCode === 2) throw new Error(run.stderr || `\`${command.join(" ")}\` refused its input`);
    return `${run.stdout}${run.stderr}`;
  }

  /**
   * Promote to an environment exactly what was verified in its `promoteFrom` environment (or `from`): the
   * images of the newest verified release there, by digest, never rebuilt; then the environment's
   * migrations, ONE GitOps commit with the pending ledger entry, verify and mark, with the same automatic
   * rollback as `release`. Refuses a release that was not verified. `source` must be the released commit
   * when the environment migrates (its migrations run from it).
   */
  @func({ cache: "never" })
  async promote(
    /** The repository at the promoted release's commit, including .git (slipway.yaml describes the environments). */
    @argument({ ignore: ["**/node_modules", "**/dist", "**/coverage", ".dagger/sdk"] })
    source: Directory,
    /** The environment to promote to, e.g. prod. */
    environment: string,
    /** Token with write access to the GitOps repositories; reaches git only through GIT_ASKPASS. */
    gitToken: Secret,
    /** Kubeconfig of the environment's cluster; mounted as a secret file. */
    kubeconfig: Secret,
    /** The environment to promote from. Default: environments.<environment>.promoteFrom. */
    from?: string,
    /** The ledger id of the release to promote. Default: the newest verified one (of sourceSha when given). */
    id?: string,
    /** Promote the newest verified release built from this commit (e.g. the commit this pipeline run released), not just the newest. */
    sourceSha?: string,
    /** Database URLs of the services that migrate here: one line SERVICE=postgres://... each. */
    databaseUrls?: Secret,
    /** github-oidc: the job's ACTIONS_ID_TOKEN_REQUEST_URL (AKS identity ids come from slipway.yaml). */
    oidcRequestUrl?: string,
    /** github-oidc: the job's ACTIONS_ID_TOKEN_REQUEST_TOKEN. */
    oidcRequestToken?: Secret,
    /** azure-pipelines: $(System.OidcRequestUri). */
    oidcRequestUri?: string,
    /** azure-pipelines: $(System.AccessToken). */
    systemAccessToken?: Secret,
    /** workload-identity: the projected service-account token. */
    federatedToken?: Secret,
    /** client-secret: the app registration's secret. */
    clientSecret?: Secret,
    /** Slack incoming webhook URL: the environment's notify: targets get `started` before anything is written and the outcome at the end (README "Notifications"); reaches the CLI as SLACK_WEBHOOK_URL. */
    slackWebhook?: Secret,
    /** Teams Workflows webhook URL (as slackWebhook); reaches the CLI as TEAMS_WEBHOOK_URL. */
    teamsWebhook?: Secret,
    /** Link to the CI run, shown in the notifications. */
    runUrl?: string,
    /** Who and what triggered the run, for the notifications, as NAME=VALUE: GITHUB_ACTOR, GITHUB_RUN_ID, BUILD_REQUESTEDFOR, BUILD_BUILDID (and GITHUB_WORKFLOW, BUILD_DEFINITIONNAME without commas; better workflow). */
    trigger: string[] = [],
    /** The workflow or pipeline name for the notifications, as one string (a list flag would split it on commas). */
    workflow?: string,
  ): Promise<Release> {
    const notifying = notifyContextOf(slackWebhook, teamsWebhook, runUrl, trigger, workflow);
    const secrets: IdentitySecrets = { oidcRequestToken, systemAccessToken, federatedToken, clientSecret };
    const { env, cli, toolkit } = await this.environmentOf(source, environment, gitToken, databaseUrls !== undefined);
    const command = candidateCommand(environment, from, id, sourceSha);
    const candidate = parseCandidate(command, await cliStdout(fresh(cli), command));
    const plan = await this.plan(source);
    const head = plan.revision?.sha ?? "";
    if (env.migrate.length > 0 && head !== candidate.entry.sourceSha) {
      throw new Error(
        `SLIPWAY_PROMOTE_SOURCE_MISMATCH: ${env.name} migrates ${env.migrate.map((m) => m.service).join(", ")}, whose migrations run from the source, but the source is at ${head.slice(0, 12) || "(no commit)"} and ${candidate.from} release ${candidate.entry.id} was built from ${candidate.entry.sourceSha.slice(0, 12)}: check out that commit. Nothing was changed.`,
      );
    }
    const ids = { ...identityValues(env), oidcRequestUrl, oidcRequestUri };
    const started = stopwatch();
    const startedResult = await timedPost(notifying, () => postEvent(toolkit, source, notifying, { environment, event: "started", kind: "promote" }));
    const outcome = await failedNotified("promote", environment, candidate.entry.sourceSha, toolkit, source, notifying, () =>
      runRelease({
        kind: "promote",
        env,
        sourceSha: candidate.entry.sourceSha,
        cli,
        toolkit,
        source,
        installedOf: (service) => installed(source, toolchainOf(plan, service)),
        buildOf: (service) => toolchainOf(plan, service).scripts.build,
        services: plan.services,
        promoted: { sets: candidate.sets, from: `${candidate.from}:${candidate.entry.id}` },
        kubeconfig,
        kubeIdentity: (ctr) => withIdentity(ctr, ids, secrets),
        ...(databaseUrls ? { databaseUrls } : {}),
        steps: [],
      }),
    );
    return toRelease(await withOutcomeNotified(outcome, startedResult, toolkit, source, notifying), toolkit, started);
  }

  /** The environment from slipway.yaml, and the toolkit that runs the release commands with the GitOps token; refuses a missing Secret before anything starts. */
  private async environmentOf(
    source: Directory,
    environment: string,
    gitToken: Secret,
    hasDatabaseUrls: boolean,
  ): Promise<{ env: ResolvedEnvironment; cli: Container; toolkit: Container }> {
    const toolkit = this.toolkit();
    const cli = toolkit.withMountedDirectory(SRC, source).withWorkdir(SRC).withSecretVariable("SLIPWAY_GIT_TOKEN", gitToken);
    const command = envShowCommand(environment);
    const env = parseEnvironment(command, await cliStdout(fresh(cli), command));
    const missing = missingSecrets(env, { databaseUrls: hasDatabaseUrls });
    if (missing.length > 0) throw new Error(`SLIPWAY_RELEASE_SECRET_MISSING: ${missing.join("; ")}. Nothing was changed.`);
    return { env, cli, toolkit };
  }

  /**
   * Run `slipway plan --json` in the toolkit container on the whole source (.git included). The CLI
   * decides what is affected and rejects unknown service names (`--service`).
   */
  private async plan(source: Directory, base?: string, services?: string[]): Promise<Plan> {
    const command = [
      "slipway",
      "plan",
      "--source",
      SRC,
      ...(base ? ["--base", base] : []),
      ...(services ?? []).flatMap((name) => ["--service", name]),
      "--json",
    ];
    let stdout: string;
    try {
      stdout = await this.toolkit().withMountedDirectory(SRC, source).withWorkdir(SRC).withExec(command).stdout();
    } catch (error) {
      if (isExecError(error)) {
        // The CLI prints its SLIPWAY_* error on stderr; pass it on as the reason.
        throw new Error(describeFailure("plan", command, error.exitCode, "", error.stderr));
      }
      throw error;
    }
    return parsePlan(stdout);
  }
}

/** What a run does besides lint and test: build, image, and the security gates (with the toolkit that decides them). */
type Wanted = { build: boolean; image: boolean; scan?: { toolkit: Container; since?: string } };

/** A security gate's outcome in a run: its report when it decided, else why it could not. */
type GateOutcome = { status: string; failure: string; report?: ScanReport };

/**
 * Run a gate and record how it ended. Every error is recorded, not only SLIPWAY_SCAN_ERROR: a scanner
 * image that cannot be pulled must show in the summary as a gate that could not decide, not vanish.
 */
async function settleGate(start: () => Promise<ScanReport>): Promise<GateOutcome> {
  try {
    const report = await start();
    return { status: report.passed ? SCAN.passed : SCAN.failed, failure: report.failure, report };
  } catch (error) {
    return { status: SCAN.error, failure: error instanceof Error ? error.message : String(error) };
  }
}

/** Lint, test and (when asked) build, image and scan the selected services, all in parallel. */
async function checkServices(source: Directory, plan: Plan, selection: Selection, want: Wanted): Promise<CiRun> {
  // One install per toolchain key (install root, manager, version, Node major), shared by its services.
  const installs = new Map(
    installGroups(selection.selected, (s) => toolchainOf(plan, s)).map(({ toolchain }) => {
      const ready = installed(source, toolchain);
      const done = stopwatch();
      const outcome: Promise<Outcome> = (
        toolchain.problem ? Promise.resolve({ status: STEP.failed, failure: installNotStarted(toolchain) }) : settleInstall(toolchain, ready)
      ).then((o) => ({ ...o, timing: done() }));
      return [toolchain.key, { ready, outcome, label: toolchain.label }] as const;
    }),
  );
  const installOf = (service: PlannedService) => installs.get(toolchainOf(plan, service).key) as { ready: Container; outcome: Promise<Outcome> };
  const scanWith = want.scan;
  const startedAt = stopwatch();
  // When each step ran, for the run report's timeline: measured around the step's own execution.
  const timings: Timings = {};
  const timed = async <T>(key: string, run: () => Promise<T>): Promise<T> => {
    const done = stopwatch();
    try {
      return await run();
    } finally {
      timings[key] = done();
    }
  };

  // Repository-wide gates start at once, alongside the services.
  const gates: Promise<Array<GateOutcome & { name: string }>> = scanWith
    ? Promise.all([
        timed("gate/secrets", () => settleGate(() => secretsGate(scanWith.toolkit, source, scanWith.since))).then((o) => ({ ...o, name: "secrets" })),
        timed("gate/dependencies", () => settleGate(() => dependenciesGate(scanWith.toolkit, source))).then((o) => ({ ...o, name: "dependencies" })),
      ])
    : Promise.resolve([]);

  const script = async (service: PlannedService, name: "lint" | "test" | "build", wanted: boolean): Promise<Outcome> => {
    if (!wanted) return { status: STEP.notRun };
    if (!service.scripts[name]) return { status: STEP.skipped };
    const { ready, outcome } = installOf(service);
    if ((await outcome).status !== STEP.passed) return { status: STEP.blocked };
    const command = toolchainOf(plan, service).scripts[name];
    return timed(`${service.name}/${name}`, () => settle(name, command, ready.withExec(command)));
  };

  const image = async (service: PlannedService): Promise<Outcome & { container?: Container }> => {
    if (!want.image) return { status: IMAGE.notRun };
    const container = serviceImage(source, plan, service);
    const command = ["docker", "build", "-f", service.dockerfile, service.context];
    try {
      await timed(`${service.name}/image`, () => container.sync());
      return { status: IMAGE.built, container };
    } catch (error) {
      if (isExecError(error)) {
        return { status: IMAGE.failed, failure: describeFailure("image", command, error.exitCode, error.stdout, error.stderr) };
      }
      if (isApiError(error)) {
        // A Dockerfile error (bad syntax, missing COPY source, failed RUN) may come back as a plain API error.
        return { status: IMAGE.failed, failure: `image: \`${command.join(" ")}\` failed: ${error.message}` };
      }
      throw error;
    }
  };

  const imageScan = async (service: PlannedService, built: Promise<Outcome & { container?: Container }>): Promise<GateOutcome> => {
    if (!scanWith) return { status: SCAN.notRun, failure: "" };
    const { container } = await built;
    if (!container) return { status: SCAN.blocked, failure: "" };
    const outcome = await timed(`${service.name}/image scan`, () => settleGate(() => imageGate(scanWith.toolkit, container, source, `image ${service.name}`)));
    return { ...outcome, failure: outcome.failure && `image scan: ${outcome.failure}` };
  };

  const results = await Promise.all(
    selection.selected.map(async (service) => {
      const built = image(service);
      const [lint, test, build, img, scanned] = await Promise.all([
        script(service, "lint", true),
        script(service, "test", true),
        script(service, "build", want.build),
        built,
        imageScan(service, built),
      ]);
      const row: ServiceRow = {
        name: service.name,
        path: service.path,
        lint: lint.status,
        test: test.status,
        build: build.status,
        image: img.status,
        scan: scanned.status,
        failures: [lint, test, build, img, scanned].flatMap((o) => (o.failure ? [o.failure] : [])),
        toolchain: toolchainOf(plan, service).label,
      };
      const installPassed = (await installOf(service).outcome).status === STEP.passed;
      return { row, container: installPassed ? img.container : undefined, report: scanned.report };
    }),
  );

  const installOutcomes = await Promise.all([...installs.values()].map((i) => i.outcome));
  const failedInstalls = installOutcomes.filter((o) => o.status === STEP.failed);
  const gateOutcomes = await gates;
  const rows = results.map((r) => r.row);
  const gateRows: GateRow[] = gateOutcomes.map((g) => ({ name: g.name, status: g.status, failure: g.failure }));
  const run = new CiRun();
  run.base = plan.base ?? "";
  run.install = installOutcomes.length === 0 ? STEP.notRun : failedInstalls.length > 0 ? STEP.failed : STEP.passed;
  run.installFailure = failedInstalls.map((o) => o.failure ?? "").join("\n\n");
  run.passed = runPassed(run.install, rows, gateRows);
  run.services = rows.map((row) => Object.assign(new ServiceResult(), row));
  run.unaffected = selection.unaffected;
  run.warnings = plan.warnings;
  run.gates = gateRows.map((g) => Object.assign(new GateResult(), g));
  run.scans = [...gateOutcomes, ...results].flatMap((r) => (r.report ? [r.report] : []));
  run.passedImages = results.flatMap((r) => (r.container && servicePassed(r.row) ? [r.container] : []));
  const whole = startedAt();
  run.timing = JSON.stringify({
    startedAt: whole.startedAt,
    durationMs: whole.durationMs,
    steps: timings,
    installs: [...installs.values()].map((i, n) => ({ label: i.label, status: installOutcomes[n]?.status ?? STEP.notRun, failure: installOutcomes[n]?.failure ?? "", timing: (installOutcomes[n] as { timing?: Timing } | undefined)?.timing })),
  });
  run.sourceSha = plan.revision?.sha ?? "";
  return run;
}

/** The webhooks and trigger of a release-path call, checked before anything starts (a bad trigger or runUrl is refused: SLIPWAY_USAGE). */
function notifyContextOf(slackWebhook: Secret | undefined, teamsWebhook: Secret | undefined, runUrl: string | undefined, trigger: string[], workflow: string | undefined): NotifyContext {
  checkRunUrl(runUrl);
  return { trigger: triggerEnv(trigger, workflow), ...(slackWebhook ? { slackWebhook } : {}), ...(teamsWebhook ? { teamsWebhook } : {}), ...(runUrl ? { runUrl } : {}) };
}

/** Whether a call notifies at all: only with a webhook given (without one nothing runs and nothing is said). */
function notifies(ctx: NotifyContext): boolean {
  return Boolean(ctx.slackWebhook || ctx.teamsWebhook);
}

async function timedPost(ctx: NotifyContext, post: () => Promise<NotifyResult>): Promise<Posted | undefined> {
  if (!notifies(ctx)) return undefined;
  const done = stopwatch();
  const result = await post();
  return { ...result, timing: done() };
}

/** The Release report's fields of an outcome (what `slipway notify --in` and release-report.json carry). */
function releaseDataOf(outcome: ReleaseOutcome): ReleaseData {
  const { kind, environment, status, sourceSha, ledgerId, gitopsCommit, images, promotedFrom, steps, failure, rollback: rolledBack, unreleasedImages } = outcome;
  return { kind, environment, status, sourceSha, ledgerId, gitopsCommit, images, promotedFrom, steps, failure, rollback: rolledBack, unreleasedImages };
}

/**
 * The outcome posted (verified, rolled-back or failed) and both posts added as `notify` steps at the end, with
 * when they ran: a post that failed is a failed step in the summary and the run report, never a failed release.
 */
async function withOutcomeNotified(outcome: ReleaseOutcome, started: Posted | undefined, toolkit: Container, source: Directory, ctx: NotifyContext): Promise<ReleaseOutcome> {
  const kind: NotifyKind = outcome.kind;
  const done = await timedPost(ctx, () => postEvent(toolkit, source, ctx, { environment: outcome.environment, event: notifyEventOf(outcome.status), kind, report: renderReleaseReport(releaseDataOf(outcome)) }));
  return started && done ? withNotifySteps(outcome, [started, done]) : outcome;
}

/**
 * A release or promotion that throws after `started` went out (an engine error, two services failing to
 * publish): `failed` is posted with the error (after `started` was answered, so they arrive in order), then the
 * error goes on.
 */
async function failedNotified<T>(kind: "release" | "promote", environment: string, sourceSha: string, toolkit: Container, source: Directory, ctx: NotifyContext, run: () => Promise<T>, started?: Promise<unknown>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    await started;
    if (notifies(ctx)) await postEvent(toolkit, source, ctx, { environment, event: "failed", kind, report: thrownReleaseReport(kind, environment, sourceSha, error) });
    throw error;
  }
}

/**
 * An on-demand rollback with its notifications: `started` before anything is written, then rolled-back (or
 * failed when a step failed or was left undone) with the restored release; each post's outcome is a `notify:`
 * line of the report. A refusal (thrown before anything was written) posts failed with its reason.
 */
async function rollbackNotified(environment: string, toolkit: Container, source: Directory, ctx: NotifyContext, run: () => Promise<RollbackOutcome>): Promise<RollbackOutcome> {
  if (!notifies(ctx)) return run();
  const started = await postEvent(toolkit, source, ctx, { environment, event: "started", kind: "rollback" });
  let outcome: RollbackOutcome;
  try {
    outcome = await run();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    await postEvent(toolkit, source, ctx, { environment, event: "failed", kind: "rollback", report: rollbackNotifyReport(environment, { ok: false, report: `rollback of ${environment}: NOT done: ${reason}\n` }) });
    throw error;
  }
  const event: NotifyEvent = rollbackEvent(outcome.ok);
  const done = await postEvent(toolkit, source, ctx, { environment, event, kind: "rollback", report: rollbackNotifyReport(environment, outcome) });
  return { ...outcome, report: `${outcome.report}notify: ${started.detail}\nnotify: ${done.detail}\n` };
}

/** The identity ids of an environment (never secrets) as the toolkit's env variables. */
function identityValues(env: ResolvedEnvironment): { tenantId?: string; clientId?: string; authorityHost?: string; serviceConnectionId?: string; username?: string } {
  const i = env.identity;
  return {
    ...(i.tenantId ? { tenantId: i.tenantId } : {}),
    ...(i.clientId ? { clientId: i.clientId } : {}),
    ...(i.authorityHost ? { authorityHost: i.authorityHost } : {}),
    ...(i.serviceConnectionId ? { serviceConnectionId: i.serviceConnectionId } : {}),
    ...(i.username ? { username: i.username } : {}),
  };
}
