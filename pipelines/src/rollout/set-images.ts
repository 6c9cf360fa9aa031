// `rollout verify --set-images` (issue 12, the `--kubectl-undo` fallback of a rollback): when the GitOps
// controller itself is down, the restored images are written straight into the Deployments, as
// `kubectl set image deployment/NAME CONTAINER=IMAGE` would, then verified. Git is restored by the rollback
// anyway, so the controller agrees with the cluster when it comes back.
import { PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { splitImageRef } from "../image/reference.js";
import type { ImageExpectation } from "./images.js";
import { sameRepository } from "./images.js";
import type { KubeClients } from "./kube.js";

export interface ImageChange {
  deployment: string;
  container: string;
  old: string;
  new: string;
}

/** The reference a container is set to: by digest when the expectation is one (the exact bytes), else by tag. */
export function targetRef(expected: ImageExpectation): string {
  return expected.tag.startsWith("sha256:") ? `${expected.image}@${expected.tag}` : `${expected.image}:${expected.tag}`;
}

type Container = { name: string; image?: string };
type DeploymentLike = { metadata?: { name?: string; resourceVersion?: string }; spec?: { template?: { spec?: { containers?: Container[]; initContainers?: Container[] } } } };

/** The containers of one Deployment with the expected images put in; the changes it makes (none: already so). */
export function withImages(deployment: DeploymentLike, expected: ImageExpectation[]): { containers: Container[]; changes: ImageChange[] } {
  const name = deployment.metadata?.name ?? "";
  const changes: ImageChange[] = [];
  const containers = (deployment.spec?.template?.spec?.containers ?? []).map((c) => {
    if (!c.image) return c;
    const ref = splitImageRef(c.image);
    const match = expected.find((e) => sameRepository(ref, e.image));
    if (!match) return c;
    const wanted = targetRef(match);
    if (c.image === wanted) return c;
    changes.push({ deployment: name, container: c.name, old: c.image, new: wanted });
    return { ...c, image: wanted };
  });
  return { containers, changes };
}

/**
 * Sets each Deployment's containers of the expected repositories to the expected images. A JSON merge
 * patch replaces the whole containers list, so it carries the list just read and its resourceVersion:
 * the API server refuses it (409 Conflict) if the Deployment changed in between, instead of losing that
 * change (`kubectl set image` sends a strategic merge patch keyed by container name; the stand-in and the
 * API server both accept this one).
 */
export async function setImages(clients: KubeClients, namespace: string, target: { deployments?: string[]; selector?: string }, expected: ImageExpectation[]): Promise<ImageChange[]> {
  const deployments: DeploymentLike[] = target.deployments?.length
    ? await Promise.all(target.deployments.map((name) => clients.apps.readNamespacedDeployment({ name, namespace })))
    : (await clients.apps.listNamespacedDeployment({ namespace, ...(target.selector ? { labelSelector: target.selector } : {}) })).items;
  const all: ImageChange[] = [];
  for (const d of deployments) {
    const { containers, changes } = withImages(d, expected);
    if (changes.length === 0) continue;
    await clients.apps.patchNamespacedDeployment(
      {
        name: d.metadata?.name ?? "",
        namespace,
        body: { metadata: { resourceVersion: d.metadata?.resourceVersion }, spec: { template: { spec: { containers } } } },
      },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    all.push(...changes);
  }
  return all;
}
