import { randomUUID } from "node:crypto";

/** A Kubernetes object as the stand-in keeps it: plain JSON, the way the API server serialises it. */
export interface KObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
  };
  [key: string]: unknown;
}

export type EventType = "ADDED" | "MODIFIED" | "DELETED";

export interface StoredEvent {
  rv: number;
  plural: string;
  type: EventType;
  object: KObject;
}

export interface Watcher {
  plural: string;
  namespace?: string;
  matches: (obj: KObject) => boolean;
  send: (type: EventType | "BOOKMARK" | "ERROR", object: unknown) => void;
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

/**
 * The stand-in's etcd: objects per resource with one global resourceVersion counter and the full
 * event history, so a watch from any resourceVersion replays exactly what happened after it (the
 * API server's watch cache, without compaction).
 */
export class Store {
  private rv = 100;
  private readonly objects = new Map<string, Map<string, KObject>>();
  readonly history: StoredEvent[] = [];
  readonly watchers = new Set<Watcher>();

  get resourceVersion(): string {
    return String(this.rv);
  }

  list(plural: string, namespace?: string): KObject[] {
    const all = [...(this.objects.get(plural)?.values() ?? [])];
    return clone(namespace === undefined ? all : all.filter((o) => o.metadata.namespace === namespace));
  }

  get(plural: string, namespace: string | undefined, name: string): KObject | undefined {
    const found = this.objects.get(plural)?.get(`${namespace ?? ""}/${name}`);
    return found ? clone(found) : undefined;
  }

  /** Creates or replaces an object; stamps uid, creationTimestamp and a new resourceVersion; notifies watchers. */
  put(plural: string, input: KObject): KObject {
    const obj = clone(input);
    const key = `${obj.metadata.namespace ?? ""}/${obj.metadata.name}`;
    let bucket = this.objects.get(plural);
    if (!bucket) this.objects.set(plural, (bucket = new Map()));
    const old = bucket.get(key);
    obj.metadata.uid = old?.metadata.uid ?? obj.metadata.uid ?? randomUUID();
    obj.metadata.creationTimestamp = old?.metadata.creationTimestamp ?? obj.metadata.creationTimestamp ?? new Date().toISOString().replace(/\.\d+Z$/, "Z");
    obj.metadata.generation ??= 1;
    obj.metadata.resourceVersion = String(++this.rv);
    bucket.set(key, obj);
    this.emit(plural, old ? "MODIFIED" : "ADDED", obj);
    return clone(obj);
  }

  /** Read-modify-write of one object (what a controller's update does). */
  update(plural: string, namespace: string | undefined, name: string, mutate: (obj: KObject) => void): KObject {
    const obj = this.get(plural, namespace, name);
    if (!obj) throw new Error(`stand-in: ${plural} ${namespace}/${name} does not exist`);
    mutate(obj);
    return this.put(plural, obj);
  }

  delete(plural: string, namespace: string | undefined, name: string): void {
    const bucket = this.objects.get(plural);
    const key = `${namespace ?? ""}/${name}`;
    const old = bucket?.get(key);
    if (!bucket || !old) return;
    bucket.delete(key);
    old.metadata.resourceVersion = String(++this.rv);
    this.emit(plural, "DELETED", old);
  }

  /** Events after `rv` for one resource, oldest first. */
  since(plural: string, rv: number): StoredEvent[] {
    return this.history.filter((e) => e.plural === plural && e.rv > rv).map(clone);
  }

  private emit(plural: string, type: EventType, obj: KObject): void {
    const event = { rv: this.rv, plural, type, object: clone(obj) };
    this.history.push(event);
    for (const w of this.watchers) {
      if (w.plural !== plural) continue;
      if (w.namespace !== undefined && obj.metadata.namespace !== w.namespace) continue;
      if (w.matches(obj)) w.send(type, clone(obj));
    }
  }
}

/**
 * Label selectors as the API documents them: `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`,
 * `k`, `!k`, comma-separated (all must hold). Throws on syntax the API server would reject (400).
 */
export function labelSelectorMatcher(selector: string | null): (labels: Record<string, string> | undefined) => boolean {
  if (!selector) return () => true;
  const terms = selector.split(/,(?![^(]*\))/).map((t) => t.trim()).filter(Boolean);
  const tests = terms.map((term) => {
    let m: RegExpExecArray | null;
    if ((m = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term))) {
      const [, key = "", op, list = ""] = m;
      const values = new Set(list.split(",").map((v) => v.trim()));
      return (l: Record<string, string>) => (op === "in" ? key in l && values.has(l[key] ?? "") : !(key in l) || !values.has(l[key] ?? ""));
    }
    if ((m = /^([\w./-]+)\s*(==|=|!=)\s*([\w.-]*)$/.exec(term))) {
      const [, key = "", op, value] = m;
      return (l: Record<string, string>) => (op === "!=" ? l[key] !== value : l[key] === value);
    }
    if ((m = /^(!?)([\w./-]+)$/.exec(term))) {
      const [, not, key = ""] = m;
      return (l: Record<string, string>) => (not ? !(key in l) : key in l);
    }
    throw new Error(`unable to parse requirement: ${JSON.stringify(term)}`);
  });
  return (labels) => tests.every((t) => t(labels ?? {}));
}

/** Field selectors: the two every resource supports, metadata.name and metadata.namespace (=, ==, !=). */
export function fieldSelectorMatcher(selector: string | null): (obj: KObject) => boolean {
  if (!selector) return () => true;
  const tests = selector.split(",").map((term) => {
    const m = /^(metadata\.name|metadata\.namespace)\s*(==|=|!=)\s*(.*)$/.exec(term.trim());
    if (!m) throw new Error(`field label not supported: ${JSON.stringify(term)}`);
    const [, field, op, value] = m;
    return (o: KObject) => {
      const actual = field === "metadata.name" ? o.metadata.name : o.metadata.namespace;
      return op === "!=" ? actual !== value : actual === value;
    };
  });
  return (o) => tests.every((t) => t(o));
}

/** RFC 7386 JSON merge patch (what `Content-Type: application/merge-patch+json` means to the API server). */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== "object" || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = target !== null && typeof target === "object" && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}
