import type { SlipwayConfig } from "../config/schema.js";
import type { EnvironmentSettings } from "../config/environments.js";
import { envIncomplete, envPathOutside, envUnknown } from "../errors.js";
import { ledgerPath } from "../ledger/path.js";

/** One environment with every default of slipway.yaml applied: what each release step of it uses. */
export interface ResolvedEnvironment {
  name: string;
  gitops: { repository: string; branch: string; path: string };
  /** `.slipway/ledger/<name>.json` in the GitOps repository. */
  ledger: string;
  registry: string | null;
  identity: NonNullable<EnvironmentSettings["identity"]>;
  kubernetes: {
    namespace: string;
    selector: string | null;
    deployments: string[];
    fluxKustomization: string | null;
    fluxHelmRelease: string | null;
    reconcile: boolean;
    argocdApplication: string | null;
    /** Request a sync of the commit (rollout verify --argocd-sync): an Application without automated sync. */
    argocdSync: boolean;
    timeout: string | null;
  };
  /** Services that migrate here, each with its DataSource (null: the default dist/data-source.js). */
  migrate: Array<{ service: string; dataSource: string | null }>;
  promoteFrom: string | null;
}

function folder(path: string): string {
  return path
    .split(/[\\/]+/)
    .filter((part) => part !== "" && part !== ".")
    .join("/");
}

/** The environment `name` of slipway.yaml, or a coded error naming the environments there are. */
export function resolveEnvironment(config: SlipwayConfig, name: string, configFile: string | null): ResolvedEnvironment {
  const environments = config.environments ?? {};
  const settings = environments[name];
  if (!settings) throw envUnknown(name, Object.keys(environments), configFile);
  const repository = settings.gitops.repository ?? config.gitops?.repository;
  const registry = settings.registry ?? config.publish?.registry ?? null;
  const missing = [
    ...(repository === undefined ? [`environments.${name}.gitops.repository (or gitops.repository)`] : []),
  ];
  if (missing.length > 0) throw envIncomplete(name, missing);
  const k = settings.kubernetes;
  return {
    name,
    gitops: { repository: repository as string, branch: settings.gitops.branch ?? config.gitops?.branch ?? "main", path: folder(settings.gitops.path) },
    ledger: ledgerPath(name),
    registry,
    identity: settings.identity ?? config.publish?.identity ?? {},
    kubernetes: {
      namespace: k.namespace,
      selector: k.selector ?? null,
      deployments: k.deployments ?? [],
      fluxKustomization: k.flux?.kustomization ?? config.rollout?.flux?.kustomization ?? null,
      fluxHelmRelease: k.flux?.helmRelease ?? null,
      // Flux: reconcile.fluxcd.io/requestedAt; Argo CD: the refresh annotation (rollout verify --reconcile).
      reconcile:
        k.argocd || (!k.flux && config.rollout?.argocd)
          ? (k.argocd?.refresh ?? config.rollout?.argocd?.refresh ?? false)
          : (k.flux?.reconcile ?? config.rollout?.flux?.reconcile ?? false),
      argocdApplication: k.argocd?.application ?? (k.flux ? null : (config.rollout?.argocd?.application ?? null)),
      argocdSync: k.argocd || (!k.flux && config.rollout?.argocd) ? (k.argocd?.sync ?? config.rollout?.argocd?.sync ?? false) : false,
      timeout: k.timeout ?? config.rollout?.timeout ?? null,
    },
    migrate: (settings.migrate ?? []).map((service) => ({ service, dataSource: config.migrate?.services?.[service]?.dataSource ?? null })),
    promoteFrom: settings.promoteFrom ?? null,
  };
}

/**
 * The environment when slipway.yaml declares environments (every name must then be one of them), or null
 * for a repository that does not use them (flags and `gitops:` alone, as before environments existed).
 */
export function environmentIfDeclared(config: SlipwayConfig, name: string | undefined, configFile: string | null): ResolvedEnvironment | null {
  if (name === undefined || config.environments === undefined) return null;
  return resolveEnvironment(config, name, configFile);
}

/**
 * The folder a command may edit for an environment: its own, or a folder inside it. A `--path` elsewhere
 * (another environment's folder, the repository root) is refused: a prod rollback must never rewrite dev.
 */
export function folderWithin(env: ResolvedEnvironment, path: string | undefined): string {
  if (path === undefined) return env.gitops.path;
  const wanted = folder(path);
  const own = env.gitops.path;
  if (own === "" || wanted === own || wanted.startsWith(`${own}/`)) return wanted;
  throw envPathOutside(env.name, path, own);
}
