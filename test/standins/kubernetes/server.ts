import { writeFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { KObject, Watcher } from "./store.js";
import { fieldSelectorMatcher, labelSelectorMatcher, mergePatch, Store } from "./store.js";

/**
 * A Kubernetes API server stand-in on node:http (or node:https with `tls`), written from the API conventions
 * (https://kubernetes.io/docs/reference/using-api/api-concepts/): legacy discovery (/api, /apis,
 * /api/v1, /apis/<group>/<version>), list with resourceVersion, watch (?watch=true) as a chunked
 * stream of JSON events, label and field selectors, get, merge-patch, pods/log, Status errors.
 * It serves what `kubectl rollout status` and @kubernetes/client-node use, nothing more.
 */

interface ResourceDef {
  group: string;
  version: string;
  plural: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  shortNames?: string[];
  verbs: string[];
  subresources?: string[];
}

const READ = ["get", "list", "watch"];
export const RESOURCES: ResourceDef[] = [
  { group: "", version: "v1", plural: "namespaces", singular: "namespace", kind: "Namespace", namespaced: false, shortNames: ["ns"], verbs: READ },
  { group: "", version: "v1", plural: "pods", singular: "pod", kind: "Pod", namespaced: true, shortNames: ["po"], verbs: READ, subresources: ["log"] },
  { group: "", version: "v1", plural: "events", singular: "event", kind: "Event", namespaced: true, shortNames: ["ev"], verbs: READ },
  // patch: `kubectl set image` and `rollout verify --set-images` (a rollback's --kubectl-undo).
  { group: "apps", version: "v1", plural: "deployments", singular: "deployment", kind: "Deployment", namespaced: true, shortNames: ["deploy"], verbs: [...READ, "patch"], subresources: ["status"] },
  { group: "apps", version: "v1", plural: "replicasets", singular: "replicaset", kind: "ReplicaSet", namespaced: true, shortNames: ["rs"], verbs: READ, subresources: ["status"] },
  { group: "apps", version: "v1", plural: "statefulsets", singular: "statefulset", kind: "StatefulSet", namespaced: true, shortNames: ["sts"], verbs: READ, subresources: ["status"] },
  { group: "apps", version: "v1", plural: "daemonsets", singular: "daemonset", kind: "DaemonSet", namespaced: true, shortNames: ["ds"], verbs: READ, subresources: ["status"] },
  {
    group: "kustomize.toolkit.fluxcd.io",
    version: "v1",
    plural: "kustomizations",
    singular: "kustomization",
    kind: "Kustomization",
    namespaced: true,
    shortNames: ["ks"],
    verbs: [...READ, "patch"],
    subresources: ["status"],
  },
  { group: "helm.toolkit.fluxcd.io", version: "v2", plural: "helmreleases", singular: "helmrelease", kind: "HelmRelease", namespaced: true, shortNames: ["hr"], verbs: READ, subresources: ["status"] },
  // patch: `argocd app get --refresh` and `kubectl annotate` set argocd.argoproj.io/refresh; `rollout verify --argocd-sync` sets .operation (argoController reacts to both).
  { group: "argoproj.io", version: "v1alpha1", plural: "applications", singular: "application", kind: "Application", namespaced: true, shortNames: ["app", "apps"], verbs: [...READ, "patch"] },
];

function groupVersion(r: ResourceDef): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

export interface StandinOptions {
  /** Bearer token every request must carry; unset = no authentication. */
  token?: string;
  /** Resources (plural) whose every request is refused with 403, to exercise RBAC errors. */
  forbid?: string[];
  /**
   * Serve HTTPS with this certificate (PEM) instead of plain http; the kubeconfig then trusts `ca` through
   * `certificate-authority-data`, as the kubeconfig of a real cluster (AKS included) does.
   */
  tls?: { cert: string; key: string; ca: string };
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  authorization?: string;
}

export interface KubeStandin {
  url: string;
  store: Store;
  requests: RecordedRequest[];
  /** Pod logs: `ns/pod/container` (current) or `ns/pod/container/previous` → lines. */
  logs: Map<string, string[]>;
  /**
   * An outage, set and cleared while clients run: every request (discovery included) answers `status`
   * (500 InternalError, 503 ServiceUnavailable, 401, 403, 429) as the API server or a proxy in front of it
   * would, `remaining` times (unset = until cleared).
   */
  outage?: { status: number; remaining?: number };
  /** Ends every open watch, as an API server restart or a load balancer idle timeout does. */
  dropWatches: () => number;
  writeKubeconfig: (file: string, opts?: { token?: string; namespace?: string; extraUser?: Record<string, unknown> }) => string;
  close: () => Promise<void>;
}

function status(res: ServerResponse, code: number, reason: string, message: string, details?: Record<string, unknown>): void {
  res.writeHead(code, { "Content-Type": "application/json" });
  res.end(JSON.stringify({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, details, code }));
}

function json(res: ServerResponse, body: unknown): void {
  res.writeHead(200, { "Content-Type": "application/json" });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export async function startKubeStandin(options: StandinOptions = {}): Promise<KubeStandin> {
  const store = new Store();
  const requests: RecordedRequest[] = [];
  const logs = new Map<string, string[]>();
  const open = new Set<ServerResponse>();

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) status(res, 500, "InternalError", String(error));
      else res.end();
    });
  };
  const server = options.tls ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, listener) : createServer(listener);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://standin");
    const query = Object.fromEntries(url.searchParams);
    requests.push({ method: req.method ?? "GET", path: url.pathname, query, authorization: req.headers.authorization });
    const outage = standin.outage;
    if (outage && (outage.remaining === undefined || outage.remaining > 0)) {
      if (outage.remaining !== undefined) outage.remaining -= 1;
      const reason = OUTAGE_REASONS[outage.status] ?? "InternalError";
      const message = outage.status === 500 ? "Internal error occurred: etcdserver: request timed out" : reason;
      return status(res, outage.status, reason, message);
    }
    if (options.token !== undefined && req.headers.authorization !== `Bearer ${options.token}`) {
      return status(res, 401, "Unauthorized", "Unauthorized");
    }
    const parts = url.pathname.split("/").filter(Boolean);
    if (url.pathname === "/version") return json(res, { major: "1", minor: "32", gitVersion: "v1.32.0-slipway-standin", platform: "linux/amd64" });
    // Legacy discovery. Clients that ask for aggregated discovery (Accept: ...apidiscovery.k8s.io) fall
    // back to it when the response is plain application/json (client-go discovery_client.go).
    if (url.pathname === "/api") return json(res, { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: req.headers.host }] });
    if (url.pathname === "/apis") {
      const groups = [...new Set(RESOURCES.filter((r) => r.group).map((r) => r.group))].map((name) => {
        const version = RESOURCES.find((r) => r.group === name)?.version ?? "v1";
        const gv = { groupVersion: `${name}/${version}`, version };
        return { name, versions: [gv], preferredVersion: gv };
      });
      return json(res, { kind: "APIGroupList", apiVersion: "v1", groups });
    }
    const core = parts[0] === "api";
    const gv = core ? parts[1] : `${parts[1]}/${parts[2]}`;
    const rest = parts.slice(core ? 2 : 3);
    const defs = RESOURCES.filter((r) => groupVersion(r) === gv);
    if (defs.length === 0) return status(res, 404, "NotFound", "the server could not find the requested resource");
    if (rest.length === 0) {
      const resources = defs.flatMap((r) => [
        { name: r.plural, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: r.verbs, shortNames: r.shortNames },
        ...(r.subresources ?? []).map((s) => ({ name: `${r.plural}/${s}`, singularName: "", namespaced: r.namespaced, kind: s === "log" ? "Pod" : r.kind, verbs: ["get"] })),
      ]);
      return json(res, { kind: "APIResourceList", apiVersion: "v1", groupVersion: gv, resources });
    }
    // /namespaces/NS/PLURAL[/NAME[/SUB]] or /PLURAL[/NAME] (cluster scope, or all namespaces)
    let namespace: string | undefined;
    let tail = rest;
    if (rest[0] === "namespaces" && rest.length >= 3) {
      namespace = rest[1];
      tail = rest.slice(2);
    }
    const [plural, name, sub] = tail;
    const def = defs.find((r) => r.plural === plural);
    if (!def) return status(res, 404, "NotFound", "the server could not find the requested resource");
    const resourceName = def.group ? `${def.plural}.${def.group}` : def.plural;
    if (options.forbid?.includes(def.plural)) {
      const verb = req.method === "PATCH" ? "patch" : name ? "get" : query.watch ? "watch" : "list";
      return status(res, 403, "Forbidden", `${resourceName}${name ? ` "${name}"` : ""} is forbidden: User "slipway-test" cannot ${verb} resource "${def.plural}" in API group "${def.group}" in the namespace "${namespace}"`, {
        kind: def.plural,
        group: def.group,
      });
    }
    if (name === undefined) {
      if (req.method !== "GET") return status(res, 405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
      return listOrWatch(req, res, def, namespace, query);
    }
    const obj = store.get(def.plural, def.namespaced ? namespace : undefined, name);
    if (sub === "log" && def.plural === "pods") return podLog(res, namespace ?? "", name, obj, query);
    if (sub !== undefined && sub !== "status") return status(res, 404, "NotFound", "the server could not find the requested resource");
    if (!obj) return status(res, 404, "NotFound", `${resourceName} "${name}" not found`, { name, group: def.group, kind: def.plural });
    if (req.method === "GET") return json(res, obj);
    if (req.method === "PATCH") {
      const type = req.headers["content-type"] ?? "";
      if (!type.startsWith("application/merge-patch+json")) return status(res, 415, "UnsupportedMediaType", `the stand-in accepts merge patches only, got ${type}`);
      const body = JSON.parse(await readBody(req)) as { metadata?: { resourceVersion?: string } };
      // A resourceVersion in the patch is a precondition: the API server answers 409 Conflict when the
      // object changed since (apimachinery registry/rest/update.go, "the object has been modified").
      const expected = body.metadata?.resourceVersion;
      if (expected !== undefined && expected !== obj.metadata.resourceVersion) {
        return status(res, 409, "Conflict", `Operation cannot be fulfilled on ${resourceName} "${name}": the object has been modified; please apply your changes to the latest version and try again`);
      }
      const patched = mergePatch(obj, body) as KObject;
      // metadata.generation goes up when the spec changes (the API server's generation rule for workloads and CRDs).
      if (JSON.stringify(patched.spec) !== JSON.stringify(obj.spec)) patched.metadata.generation = (obj.metadata.generation ?? 1) + 1;
      return json(res, store.put(def.plural, patched));
    }
    return status(res, 405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
  }

  function listOrWatch(req: IncomingMessage, res: ServerResponse, def: ResourceDef, namespace: string | undefined, query: Record<string, string>): void {
    let byLabels: ReturnType<typeof labelSelectorMatcher>;
    let byFields: ReturnType<typeof fieldSelectorMatcher>;
    try {
      byLabels = labelSelectorMatcher(query.labelSelector ?? null);
      byFields = fieldSelectorMatcher(query.fieldSelector ?? null);
    } catch (error) {
      return status(res, 400, "BadRequest", (error as Error).message);
    }
    const matches = (o: KObject): boolean => byLabels(o.metadata.labels) && byFields(o);
    const items = store.list(def.plural, namespace).filter(matches);
    const apiVersion = groupVersion(def);
    if (query.watch !== "true" && query.watch !== "1") {
      return json(res, { kind: `${def.kind}List`, apiVersion, metadata: { resourceVersion: store.resourceVersion }, items });
    }
    res.writeHead(200, { "Content-Type": "application/json", "Transfer-Encoding": "chunked" });
    res.flushHeaders();
    open.add(res);
    const send: Watcher["send"] = (type, object) => {
      if (!res.writableEnded) res.write(`${JSON.stringify({ type, object })}\n`);
    };
    const rv = query.resourceVersion;
    if (query.sendInitialEvents === "true") {
      for (const o of items) send("ADDED", o);
      send("BOOKMARK", { kind: def.kind, apiVersion, metadata: { resourceVersion: store.resourceVersion, annotations: { "k8s.io/initial-events-end": "true" } } });
    } else if (rv === undefined || rv === "" || rv === "0") {
      // "Start at most recent": synthetic ADDED for every current object, then changes.
      for (const o of items) send("ADDED", o);
    } else {
      const from = Number(rv);
      if (!Number.isInteger(from)) {
        res.end();
        return;
      }
      for (const e of store.since(def.plural, from)) {
        if ((namespace === undefined || e.object.metadata.namespace === namespace) && matches(e.object)) send(e.type, e.object);
      }
    }
    const watcher: Watcher = { plural: def.plural, namespace, matches, send };
    store.watchers.add(watcher);
    const stop = (): void => {
      store.watchers.delete(watcher);
      open.delete(res);
    };
    const timeoutSeconds = Number(query.timeoutSeconds ?? 0);
    if (timeoutSeconds > 0) {
      const timer = setTimeout(() => {
        stop();
        res.end();
      }, timeoutSeconds * 1000);
      timer.unref();
    }
    req.on("close", stop);
    res.on("finish", stop);
  }

  function podLog(res: ServerResponse, namespace: string, name: string, pod: KObject | undefined, query: Record<string, string>): void {
    if (!pod) return status(res, 404, "NotFound", `pods "${name}" not found`);
    const containers = ((pod.spec as { containers?: { name: string }[] } | undefined)?.containers ?? []).map((c) => c.name);
    const container = query.container ?? (containers.length === 1 ? containers[0] : undefined);
    if (!container) return status(res, 400, "BadRequest", `a container name must be specified for pod ${name}, choose one of: [${containers.join(" ")}]`);
    if (!containers.includes(container)) return status(res, 400, "BadRequest", `container ${container} is not valid for pod ${name}`);
    const previous = query.previous === "true";
    const lines = logs.get(`${namespace}/${name}/${container}${previous ? "/previous" : ""}`);
    if (!lines) {
      return status(res, 400, "BadRequest", previous ? `previous terminated container "${container}" in pod "${name}" not found` : `container "${container}" in pod "${name}" is waiting to start`);
    }
    const tail = query.tailLines ? lines.slice(-Number(query.tailLines)) : lines;
    res.writeHead(200, { "Content-Type": "text/plain" });
    res.end(tail.map((l) => `${l}\n`).join(""));
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `${options.tls ? "https" : "http"}://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const standin: KubeStandin = {
    url,
    store,
    requests,
    logs,
    dropWatches() {
      const n = open.size;
      for (const res of [...open]) res.end();
      return n;
    },
    writeKubeconfig(file, opts = {}) {
      const user = opts.extraUser ?? (opts.token ? { token: opts.token } : {});
      const config = {
        apiVersion: "v1",
        kind: "Config",
        // Plain http on loopback: client-node only speaks http to a cluster marked insecure-skip-tls-verify.
        clusters: [
          {
            name: "standin",
            cluster: options.tls
              ? { server: url, "certificate-authority-data": Buffer.from(options.tls.ca).toString("base64") }
              : { server: url, "insecure-skip-tls-verify": true },
          },
        ],
        users: [{ name: "standin-user", user }],
        contexts: [{ name: "standin", context: { cluster: "standin", user: "standin-user", namespace: opts.namespace } }],
        "current-context": "standin",
      };
      writeFileSync(file, JSON.stringify(config, null, 2));
      return file;
    },
    async close() {
      for (const res of open) res.end();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return standin;
}

/** The `reason` of the Status object each outage status comes with (apimachinery metav1.StatusReason). */
const OUTAGE_REASONS: Record<number, string> = { 401: "Unauthorized", 403: "Forbidden", 429: "TooManyRequests", 500: "InternalError", 503: "ServiceUnavailable" };
