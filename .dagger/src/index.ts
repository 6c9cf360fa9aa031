/**
 * Slipway: CI/CD pipeline-as-code for Node.js microservices, from git push to a verified rollout on AKS.
 *
 * This module only composes containers: the services' build containers, the images from their own
 * Dockerfiles, and a toolkit container (pipelines/Dockerfile) that runs the `slipway` CLI, where every
 * decision is made.
 */
import { argument, dag, ExecError, func, GraphQLRequestError, object } from "@dagger.io/dagger";
import type { Container, Directory, File } from "@dagger.io/dagger";

import { dockerfileInContext, ociLabels, parsePlan, selectServices, serviceBuildArgs } from "./plan.js";
import type { Plan, PlannedService, Selection } from "./plan.js";
import {
  describeFailure,
  IMAGE,
  renderReport,
  renderSummary,
  runPassed,
  servicePassed,
  STEP,
} from "./report.js";
import type { RunData, ServiceRow } from "./report.js";

/** Where a source directory is mounted in every container. */
const SRC = "/src";
/**
 * The build container of the services. Same default as `ARG NODE_IMAGE` in the Dockerfiles, so the
 * checks run on the runtime the images ship.
 */
const BUILD_IMAGE = "node:20-bookworm-slim";
/** One npm cache per Node major: the cache format follows npm, which follows Node. */
const NPM_CACHE = "slipway-npm-node20";
const NPM_CI = ["npm", "ci", "--no-audit", "--no-fund"];

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
    if (error instanceof ExecError) {
      return { status: STEP.failed, failure: describeFailure(step, command, error.exitCode, error.stdout, error.stderr) };
    }
    throw error;
  }
}

/**
 * The build container after `npm ci` at the source root (npm workspaces: one install serves every
 * service, and identical execs are shared by the engine). Runs as the image's unprivileged `node` user:
 * test suites that start PostgreSQL refuse to run as root.
 */
function installed(source: Directory): Container {
  return dag
    .container()
    .from(BUILD_IMAGE)
    .withMountedCache("/home/node/.npm", dag.cacheVolume(NPM_CACHE), { owner: "node" })
    .withDirectory(SRC, source, { exclude: [".git"], owner: "node" })
    .withWorkdir(SRC)
    .withUser("node")
    .withEnvVariable("CI", "true")
    .withExec(NPM_CI);
}

/** The image of one service from its own Dockerfile, labelled. Shared by `build` and `ci`. */
function serviceImage(source: Directory, plan: Plan, service: PlannedService): Container {
  const context = service.context === "." ? source : source.directory(service.context);
  const image = context.dockerBuild({ dockerfile: dockerfileInContext(service), buildArgs: serviceBuildArgs(service) });
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

  /** `npm run lint`: passed, failed, skipped (no such script), blocked (npm ci failed) or not run. */
  @func()
  lint!: string;

  /** `npm test`: passed, failed, skipped (no such script), blocked (npm ci failed) or not run. */
  @func()
  test!: string;

  /** `npm run build`: passed, failed, skipped (no such script), blocked (npm ci failed) or not run. */
  @func()
  build!: string;

  /** Image from the service's Dockerfile: built, failed or not run. */
  @func()
  image!: string;

  /** One explanation per failed step: command, exit code and its meaning, end of the output. */
  @func()
  failures!: string[];
}

/** The outcome of `ci`: per-service results, a summary, a JSON report and the images that passed. */
@object()
export class CiRun {
  /** Git ref the affected services were computed against; empty when none was given. */
  @func()
  base!: string;

  /** `npm ci` at the source root, shared by all services: passed or failed. */
  @func()
  install!: string;

  /** Why `npm ci` failed; empty when it passed. */
  @func()
  installFailure!: string;

  /** True when npm ci and every step of every checked service passed. */
  @func()
  passed!: boolean;

  /** Results of the checked services, in plan order. */
  @func()
  services!: ServiceResult[];

  /** Planned services left out because the plan says they are not affected since base. */
  @func()
  unaffected!: string[];

  /** Images of the services whose every step passed (private state behind images()). */
  passedImages!: Container[];

  /** A human-readable table (service | lint | test | build | image), every failure, and the verdict. */
  @func()
  summary(): string {
    return renderSummary(this.data());
  }

  /** The run as JSON (ci-report.json): verdict, per-service statuses and failures. */
  @func()
  report(): File {
    return dag.directory().withNewFile("ci-report.json", renderReport(this.data())).file("ci-report.json");
  }

  /** The images of the services whose every step passed, labelled with OCI annotations. */
  @func()
  images(): Container[] {
    return this.passedImages;
  }

  private data(): RunData {
    return {
      base: this.base,
      install: this.install,
      installFailure: this.installFailure,
      passed: this.passed,
      services: this.services.map((s): ServiceRow => ({ ...s, failures: [...s.failures] })),
      unaffected: this.unaffected,
    };
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
  ) {
    this.toolkitSource = toolkitSource;
  }

  /**
   * The toolkit container: the `slipway` CLI on PATH and git, built from Slipway's pipelines/Dockerfile.
   */
  @func()
  toolkit(): Container {
    return this.toolkitSource.dockerBuild({ dockerfile: "pipelines/Dockerfile" });
  }

  /**
   * Plan, then for every affected service in parallel: lint, test and build it in a Node container after
   * `npm ci` (npm cache in a cache volume), and build its image from its Dockerfile with OCI labels.
   * A failing step is recorded for its service and the run still reports every service; inspect
   * `passed`, `summary` or `report`. Cached for the session only, so a re-run retries failed steps.
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
  ): Promise<CiRun> {
    const plan = await this.plan(source, base, services);
    return checkServices(source, plan, selectServices(plan, "affected", services), { build: true, image: true });
  }

  /**
   * The image of one service, built from its Dockerfile with OCI labels (the same code path as ci).
   */
  @func()
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
   */
  @func()
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
      if (error instanceof ExecError) {
        // The CLI prints its SLIPWAY_* error on stderr; pass it on as the reason.
        throw new Error(describeFailure("plan", command, error.exitCode, "", error.stderr));
      }
      throw error;
    }
    return parsePlan(stdout);
  }
}

/** Lint, test and (when asked) build and image the selected services, all in parallel. */
async function checkServices(
  source: Directory,
  plan: Plan,
  selection: Selection,
  want: { build: boolean; image: boolean },
): Promise<CiRun> {
  const ready = installed(source);
  const install: Promise<Outcome> =
    selection.selected.length > 0 ? settle("npm ci", NPM_CI, ready) : Promise.resolve({ status: STEP.notRun });

  const script = async (service: PlannedService, name: "lint" | "test" | "build", wanted: boolean): Promise<Outcome> => {
    if (!wanted) return { status: STEP.notRun };
    if (!service.scripts[name]) return { status: STEP.skipped };
    if ((await install).status !== STEP.passed) return { status: STEP.blocked };
    const command = ["npm", "run", name, "-w", service.path];
    return settle(name, command, ready.withExec(command));
  };

  const image = async (service: PlannedService): Promise<Outcome & { container?: Container }> => {
    if (!want.image) return { status: IMAGE.notRun };
    const container = serviceImage(source, plan, service);
    const command = ["docker", "build", "-f", service.dockerfile, service.context];
    try {
      await container.sync();
      return { status: IMAGE.built, container };
    } catch (error) {
      if (error instanceof ExecError) {
        return { status: IMAGE.failed, failure: describeFailure("image", command, error.exitCode, error.stdout, error.stderr) };
      }
      if (error instanceof GraphQLRequestError) {
        // A Dockerfile error (bad syntax, missing COPY source, failed RUN) may come back as a plain API error.
        return { status: IMAGE.failed, failure: `image: \`${command.join(" ")}\` failed: ${error.message}` };
      }
      throw error;
    }
  };

  const results = await Promise.all(
    selection.selected.map(async (service) => {
      const [lint, test, build, img] = await Promise.all([
        script(service, "lint", true),
        script(service, "test", true),
        script(service, "build", want.build),
        image(service),
      ]);
      const row: ServiceRow = {
        name: service.name,
        path: service.path,
        lint: lint.status,
        test: test.status,
        build: build.status,
        image: img.status,
        failures: [lint, test, build, img].flatMap((o) => (o.failure ? [o.failure] : [])),
      };
      return { row, container: img.container };
    }),
  );

  const installOutcome = await install;
  const rows = results.map((r) => r.row);
  const run = new CiRun();
  run.base = plan.base ?? "";
  run.install = installOutcome.status;
  run.installFailure = installOutcome.failure ?? "";
  run.passed = runPassed(run.install, rows);
  run.services = rows.map((row) => Object.assign(new ServiceResult(), row));
  run.unaffected = selection.unaffected;
  run.passedImages = results.flatMap((r) => (r.container && servicePassed(r.row) && run.install !== STEP.failed ? [r.container] : []));
  return run;
}
