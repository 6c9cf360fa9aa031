import { z } from "zod";
import { PublishIdentity } from "../acr/schema.js";
import { NotifySettings } from "../notify/schema.js";
import { DURATION_PATTERN, MAX_DURATION_TEXT, parseDuration } from "../rollout/duration.js";
import { OBJECT_REF_PATTERN } from "../rollout/schema.js";

/**
 * `environments:` in slipway.yaml: where each environment's release goes (GitOps folder, registry,
 * identity ids, Kubernetes target), which services migrate there, and which environment it promotes from.
 * No secret is ever configured here: tokens, database URLs and kubeconfigs are Secret arguments.
 */

/** What a rollback does to an abandoned image (pipelines/src/acr/abandon.ts ABANDON_POLICIES, same values). */
export const ROLLBACK_REGISTRY_POLICIES = ["failed-tag", "lock", "delete-tags"] as const;

/** An environment names a ledger file and a Dagger argument: DNS-label rules, like service names. */
export const ENVIRONMENT_NAME_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

const RelativeFolder = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith("/") && !p.split(/[\\/]/).includes(".."), { message: "must be a path relative to the repository root, without '..'" });

const Duration = z
  .string()
  .regex(DURATION_PATTERN, "a duration such as `90s`, `10m` or `1h30m`")
  .refine((d) => !DURATION_PATTERN.test(d) || parseDuration(d) !== null, { message: `must be longer than zero and at most ${MAX_DURATION_TEXT}` });

const ObjectRef = z.string().regex(OBJECT_REF_PATTERN, "`namespace/name`, e.g. `flux-system/apps`");
const ServiceName = z.string().regex(ENVIRONMENT_NAME_PATTERN, "a service name: lowercase letters, digits and '-'");

export const EnvironmentGitops = z.strictObject({
  repository: z.string().min(1).optional().meta({ description: "Clone URL of the GitOps repository, without credentials. Default: gitops.repository." }),
  branch: z.string().min(1).optional().meta({ description: "Branch Flux or Argo CD reconciles. Default: gitops.branch, else main." }),
  path: RelativeFolder.meta({ description: "The environment's folder in the GitOps repository, e.g. `clusters/prod`. Only this folder is ever edited for the environment." }),
});

export const EnvironmentKubernetes = z
  .strictObject({
    namespace: z.string().regex(ENVIRONMENT_NAME_PATTERN, "a namespace name").meta({ description: "Namespace of the workloads." }),
    selector: z.string().min(1).optional().meta({ description: "Label selector of the workloads, e.g. `app.kubernetes.io/part-of=shop`." }),
    deployments: z.array(ServiceName).optional().meta({ description: "Deployments to verify by name (instead of, or besides, `selector`)." }),
    flux: z
      .strictObject({
        kustomization: ObjectRef.meta({ description: "Flux Kustomization that applies the environment's folder, `namespace/name`." }),
        helmRelease: ObjectRef.optional().meta({ description: "Flux HelmRelease (applied by that Kustomization) whose values the bump changes, `namespace/name`." }),
        reconcile: z.boolean().optional().meta({ description: "Ask Flux to reconcile at once (reconcile.fluxcd.io/requestedAt). Default false." }),
      })
      .optional(),
    argocd: z
      .strictObject({
        application: ObjectRef.meta({ description: "Argo CD Application that syncs the environment's folder, `namespace/name`." }),
        refresh: z
          .boolean()
          .optional()
          .meta({ description: "Ask Argo CD to refresh the Application at once after the commit (argocd.argoproj.io/refresh: normal). Default: rollout.argocd.refresh, else false. A rollback always asks." }),
        sync: z
          .boolean()
          .optional()
          .meta({
            description:
              "Request a sync of the commit (the Application's `operation`, as `argocd app sync --revision SHA`), for an Application without automated sync; release and rollback alike. Default: rollout.argocd.sync, else false.",
          }),
      })
      .optional(),
    timeout: Duration.optional().meta({ description: "How long verification waits. Default: rollout.timeout, else 10m." }),
  })
  .refine((k) => k.selector !== undefined || (k.deployments?.length ?? 0) > 0, { message: "give `selector` or `deployments`: which workloads prove the release" })
  .refine((k) => !(k.flux && k.argocd), { message: "set either `flux` or `argocd`, not both" });

export const EnvironmentSettings = z
  .strictObject({
    gitops: EnvironmentGitops,
    registry: z.string().min(1).optional().meta({ description: "Registry login server for this environment. Default: publish.registry." }),
    identity: PublishIdentity.optional().meta({ description: "Identity ids (mode, tenant, client; never secrets). Default: publish.identity." }),
    kubernetes: EnvironmentKubernetes.meta({ description: "Where the release is verified: a release is `verified` only after its rollout is." }),
    migrate: z
      .array(ServiceName)
      .optional()
      .meta({ description: "Services whose TypeORM migrations run in this environment (their DataSource: migrate.services.<name>.dataSource). Default: none." }),
    promoteFrom: z
      .string()
      .regex(ENVIRONMENT_NAME_PATTERN, "an environment name")
      .optional()
      .meta({ description: "`promote` takes only releases verified in this environment, e.g. prod promotes from staging." }),
    notify: NotifySettings.optional(),
    rollback: z
      .strictObject({
        registry: z
          .enum(ROLLBACK_REGISTRY_POLICIES)
          .optional()
          .meta({
            description:
              "What a rollback does to the images it abandons: `failed-tag` (default) tags them failed-<release>; `lock` sets writeEnabled/deleteEnabled false on their manifests (ACR only); `delete-tags` deletes their mutable tags (latest, branch-*, extra), keeping sha-<12>, semver and failed-<id>, the digest still pullable. An image the restored release runs is never touched.",
          }),
      })
      .optional()
      .meta({ description: "How a rollback of this environment treats the registry." }),
  })
  .meta({ description: "One environment: GitOps folder, registry, identity ids, Kubernetes target, migrations, promotion source." });
export type EnvironmentSettings = z.infer<typeof EnvironmentSettings>;

function normalizedFolder(path: string): string {
  return path
    .split(/[\\/]+/)
    .filter((part) => part !== "" && part !== ".")
    .join("/");
}

/** Same repository and branch (after defaults), and one folder equal to or inside the other. */
function overlap(a: string, b: string): boolean {
  return a === "" || b === "" || a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);
}

const ENVIRONMENT_NAME_RULE = "an environment name: lowercase letters, digits and '-', at most 63 characters";

export const EnvironmentsSettings = z
  .record(z.string().regex(ENVIRONMENT_NAME_PATTERN, ENVIRONMENT_NAME_RULE), EnvironmentSettings, {
    error: (issue) => (issue.code === "invalid_key" ? ENVIRONMENT_NAME_RULE : undefined),
  })
  .superRefine(
    (environments, ctx) => {
    // Runs even when an environment has problems of its own (`when` below), so that every problem is
    // reported at once: the values are not validated yet and are read defensively.
    const names = Object.keys(environments);
    const seen: Array<{ name: string; where: string; folder: string }> = [];
    for (const name of names) {
      const env = environments[name] as Partial<EnvironmentSettings> | undefined;
      if (!env?.gitops || typeof env.gitops.path !== "string") continue;
      // Repository and branch defaults are applied later; here two environments that leave them out share them.
      const where = `${env.gitops.repository ?? "(gitops.repository)"}#${env.gitops.branch ?? "(gitops.branch)"}`;
      const folder = normalizedFolder(env.gitops.path);
      for (const other of seen) {
        if (other.where === where && overlap(other.folder, folder)) {
          ctx.addIssue({
            code: "custom",
            path: [name, "gitops", "path"],
            message: `${JSON.stringify(env.gitops.path)} overlaps environment ${JSON.stringify(other.name)}'s folder ${JSON.stringify(other.folder || ".")}: a bump of one would edit the other's manifests; give each environment its own folder`,
          });
        }
      }
      seen.push({ name, where, folder });
      if (typeof env.promoteFrom === "string") {
        if (env.promoteFrom === name) ctx.addIssue({ code: "custom", path: [name, "promoteFrom"], message: "an environment cannot promote from itself" });
        else if (!names.includes(env.promoteFrom)) {
          ctx.addIssue({ code: "custom", path: [name, "promoteFrom"], message: `names no environment (known: ${names.join(", ")})` });
        }
      }
    }
    // A cycle (a promotes from b, b from a) would leave no environment a release can enter first.
    for (const name of names) {
      const chain = [name];
      const from = (n: string): string | undefined => {
        const value = (environments[n] as { promoteFrom?: unknown } | undefined)?.promoteFrom;
        return typeof value === "string" ? value : undefined;
      };
      let next = from(name);
      while (next !== undefined && environments[next] && !chain.includes(next)) {
        chain.push(next);
        next = from(next);
      }
      if (next !== undefined && next === name && chain.length > 1) {
        ctx.addIssue({ code: "custom", path: [name, "promoteFrom"], message: `promotion goes round in a circle: ${[...chain, name].join(" <- ")}` });
      }
    }
    },
    { when: () => true },
  )
  .meta({ description: "Environments a release goes through, by name (e.g. dev, staging, prod)." });
export type EnvironmentsSettings = z.infer<typeof EnvironmentsSettings>;
