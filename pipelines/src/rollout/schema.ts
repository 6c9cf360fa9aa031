import { z } from "zod";
import { DURATION_PATTERN, MAX_DURATION_TEXT, parseDuration } from "./duration.js";
import { OBJECT_REF_PATTERN } from "./gitops.js";

export { OBJECT_REF_PATTERN };

const Duration = z
  .string()
  .regex(DURATION_PATTERN, "a duration such as `90s`, `10m` or `1h30m`")
  // Only the zero case: a malformed value is already reported by the pattern, once.
  .refine((d) => !DURATION_PATTERN.test(d) || parseDuration(d) !== null, { message: `must be longer than zero and at most ${MAX_DURATION_TEXT}` });

const ObjectRef = z.string().regex(OBJECT_REF_PATTERN, "`namespace/name`, e.g. `flux-system/apps`");

export const RolloutSettings = z
  .strictObject({
    timeout: Duration.optional().meta({ description: "How long `rollout verify` waits in all (GitOps applied + Deployments healthy). Default 10m." }),
    failOn: z
      .strictObject({
        oomKilledRestarts: z
          .int()
          .min(1)
          .optional()
          .meta({ description: "A container OOMKilled this many times (restartCount) fails the rollout at once. Default 2." }),
        crashLoopRestarts: z
          .int()
          .min(1)
          .optional()
          .meta({ description: "A container in CrashLoopBackOff, or terminated with an error and restarting before the kubelet says so, with at least this many restarts fails the rollout at once. Default 1 (the first back-off)." }),
        unschedulableGrace: Duration.optional().meta({
          description:
            "A pod unschedulable this long (PodScheduled=False, reason Unschedulable), or a ReplicaSet unable to create pods this long (ReplicaFailure, e.g. a ResourceQuota), fails the rollout with the scheduler's (controller's) message. Default 5m (room for a cluster autoscaler scale-up).",
        }),
      })
      .optional()
      .meta({ description: "Fail-fast thresholds. ImagePullBackOff, ErrImagePull, CreateContainerConfigError and ProgressDeadlineExceeded always fail at once." }),
    flux: z
      .strictObject({
        kustomization: ObjectRef.meta({ description: "The Flux Kustomization that applies the GitOps commit, `namespace/name`." }),
        helmRelease: ObjectRef.optional().meta({
          description:
            "A Flux HelmRelease (helm.toolkit.fluxcd.io/v2) that the Kustomization applies and whose values the commit changes, `namespace/name`: after the Kustomization applied the commit, helm-controller must release that generation (Ready and Released); a failed install, upgrade or test, or a remediation, fails the rollout.",
        }),
        reconcile: z.boolean().optional().meta({ description: "Ask Flux to reconcile now (reconcile.fluxcd.io/requestedAt); needs `patch` on kustomizations. Default false." }),
      })
      .optional(),
    argocd: z
      .strictObject({
        application: ObjectRef.meta({ description: "The Argo CD Application that syncs the GitOps commit, `namespace/name`." }),
        refresh: z
          .boolean()
          .optional()
          .meta({ description: "Ask Argo CD to refresh now (annotation argocd.argoproj.io/refresh: normal, as `argocd app get --refresh`); needs `patch` on applications. Default false." }),
        sync: z
          .boolean()
          .optional()
          .meta({
            description:
              "Request a sync of the commit (the Application's `operation`, as `argocd app sync --revision SHA`) for an Application without automated sync; an operation in progress is never overwritten. Needs `get` and `patch` on applications. Default false.",
          }),
      })
      .optional(),
    logLines: z.int().min(1).max(10_000).optional().meta({ description: "Log lines kept per failing container in the diagnostics. Default 100." }),
  })
  .refine((r) => !(r.flux && r.argocd), { message: "set either `flux` or `argocd`, not both" })
  .meta({ description: "`slipway rollout verify`: how long to wait, when to fail fast, which GitOps object applies the commit." });
export type RolloutSettings = z.infer<typeof RolloutSettings>;
