import { AppsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig } from "@kubernetes/client-node";
import type { SlipwayError } from "../errors.js";
import { registerKubeUsers } from "../cli/secrets.js";
import { kubeconfigInvalid, kubeconfigNotFound, kubeContextNotFound, kubeForbidden, kubeServerError, kubeUnreachable } from "../errors.js";
import { checkInputFile } from "../cli/paths.js";

/** Loads a kubeconfig file and selects the context; every problem is bad input (exit 2). */
export function loadKubeConfig(file: string, context?: string): KubeConfig {
  checkInputFile("--kubeconfig", file, file, () => kubeconfigNotFound(file));
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(file);
  } catch (error) {
    // client-node's parse errors quote YAML positions, not values; keep only the first line.
    throw kubeconfigInvalid(file, (error instanceof Error ? error.message : String(error)).split("\n")[0] ?? "unreadable");
  }
  // Every user's token, password and client key is masked in all output, whatever the server echoes back.
  registerKubeUsers(kc.getUsers());
  if (context !== undefined) {
    if (!kc.getContextObject(context)) throw kubeContextNotFound(context, kc.getContexts().map((c) => c.name));
    kc.setCurrentContext(context);
  }
  if (!kc.getCurrentContext() || !kc.getContextObject(kc.getCurrentContext())) {
    throw kubeconfigInvalid(file, "it has no current-context (pass --context)");
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster?.server) throw kubeconfigInvalid(file, `context ${JSON.stringify(kc.getCurrentContext())} names no cluster with a server URL`);
  return kc;
}

export interface KubeClients {
  kc: KubeConfig;
  server: string;
  core: CoreV1Api;
  apps: AppsV1Api;
  custom: CustomObjectsApi;
}

export function kubeClients(kc: KubeConfig): KubeClients {
  return {
    kc,
    server: kc.getCurrentCluster()?.server ?? "",
    core: kc.makeApiClient(CoreV1Api),
    apps: kc.makeApiClient(AppsV1Api),
    custom: kc.makeApiClient(CustomObjectsApi),
  };
}

/** The HTTP status of a client-node error: ApiException has `code`, Watch errors `statusCode`. */
export function httpStatus(error: unknown): number | undefined {
  const e = error as { code?: unknown; statusCode?: unknown } | null;
  if (typeof e?.code === "number") return e.code;
  if (typeof e?.statusCode === "number") return e.statusCode;
  return undefined;
}

function serverMessage(error: unknown): string {
  const body = (error as { body?: unknown } | null)?.body;
  if (typeof body === "string") {
    try {
      const parsed = JSON.parse(body) as { message?: string };
      if (parsed.message) return parsed.message;
    } catch {
      // not a Status object
    }
  }
  const message = error instanceof Error ? error.message : String(error);
  const cause = (error as { cause?: { code?: string; message?: string } } | null)?.cause;
  return cause?.code ? `${message} (${cause.code})` : (message.split("\n")[0] ?? message);
}

/**
 * Turns a client-node failure into a catalog error when it is one a user can act on: refused
 * (401/403: RBAC), unreachable (no HTTP answer) or failing (429, 5xx). Returns null for anything else.
 */
export function classifyKubeError(error: unknown, verb: string, resource: string, namespace: string, server: string): SlipwayError | null {
  const status = httpStatus(error);
  if (status === 401 || status === 403) return kubeForbidden(verb, resource, namespace, `HTTP ${status}: ${serverMessage(error)}`);
  if (status === undefined) return kubeUnreachable(server, serverMessage(error), error);
  if (status === 429 || status >= 500) return kubeServerError(verb, resource, namespace, status, serverMessage(error));
  return null;
}

/**
 * "Could not check", not "failed": no HTTP answer, refused (401/403: a token not yet valid, an RBAC role
 * assignment still propagating on AKS), throttled (429) or the server failing (5xx). Retried with backoff.
 */
export function isUnavailable(error: unknown): boolean {
  const status = httpStatus(error);
  return status === undefined || status === 401 || status === 403 || status === 429 || status >= 500;
}
