import type { Document, Node, Pair, YAMLMap } from "yaml";
import { isAlias, isMap, isPair, isScalar, isSeq, parse, parseAllDocuments, Scalar } from "yaml";
import { gitopsUnsupported, gitopsYamlInvalid } from "../errors.js";

/**
 * In-place YAML editing, byte for byte outside the changed scalar (argocd-image-updater, Renovate
 * auto-replace): the `yaml` library gives each node its source range, we splice new text there and
 * never re-serialise a document. Comments, anchors, blank lines, key order and CRLF stay as they were.
 */

export type Doc = Document.Parsed;

// extract() then update() of every format parse the same text: keep the last few parses (read-only use).
const recent = new Map<string, Doc[]>();
const RECENT_MAX = 8;

/** Every document of a file; throws SLIPWAY_GITOPS_YAML naming the file and line on any error. */
export function parseYamlFile(content: string, path: string): Doc[] {
  const cached = recent.get(content);
  if (cached) return cached;
  const docs = parseDocs(content, path);
  recent.set(content, docs);
  if (recent.size > RECENT_MAX) recent.delete(recent.keys().next().value as string);
  return docs;
}

function parseDocs(content: string, path: string): Doc[] {
  // Duplicate keys are refused (the library's default): a YAML 1.2 reader must reject them, and the
  // readers that accept them disagree with us. Kubernetes (sigs.k8s.io/yaml) and Helm keep the LAST
  // `image:`, while an edit by position would land on the first, so the bump would pass and change nothing.
  const docs = parseAllDocuments(content, { prettyErrors: true, uniqueKeys: true });
  // A file that is only comments yields an EmptyStream (not an array).
  if (!Array.isArray(docs)) return [];
  for (const doc of docs) {
    const error = doc.errors[0];
    if (error) {
      const pos = error.linePos?.[0];
      let text = (error.message.split("\n")[0] ?? "").replace(/ at line \d+, column \d+:?$/, "");
      if (error.code === "DUPLICATE_KEY") text = duplicateKeyText(content, pos);
      throw gitopsYamlInvalid(path, `${pos ? `line ${pos.line}, column ${pos.col}: ` : ""}${text}`);
    }
  }
  return docs;
}

/** `duplicate key "image"`, the key read from the source line the parser points at. */
function duplicateKeyText(content: string, pos: { line: number; col: number } | undefined): string {
  const line = pos ? (content.split(/\r?\n/)[pos.line - 1] ?? "") : "";
  const key = /^\s*(?:-\s+)?("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^:#\s][^:#]*?)\s*:(?:\s|$)/.exec(line.slice(pos ? pos.col - 1 : 0))?.[1];
  const shown = key === undefined ? "a key" : `key ${key.startsWith('"') || key.startsWith("'") ? key : JSON.stringify(key)}`;
  return `duplicate ${shown} in one mapping (Kubernetes and Helm read the last one; remove the other)`;
}

/** Follows an alias to its anchored node, so an edit lands where the value is written. */
export function resolve(doc: Doc, node: unknown): unknown {
  return isAlias(node) ? node.resolve(doc) : node;
}

/** The value of a scalar as text, as a user reads it (plain `1.20` stays "1.20", not 1.2). */
export function scalarText(content: string, node: unknown): string | null {
  if (!isScalar(node) || !node.range) return null;
  if (node.value === null && node.range[0] === node.range[1]) return "";
  if (node.type === Scalar.PLAIN) return content.slice(node.range[0], node.range[1]);
  return typeof node.value === "string" ? node.value : String(node.value);
}

/** Gets a child node by key from a map (following aliases). */
export function child(doc: Doc, node: unknown, key: string): unknown {
  const map = resolve(doc, node);
  if (!isMap(map)) return undefined;
  const pair = map.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
  return pair ? resolve(doc, pair.value) : undefined;
}

export function childPair(doc: Doc, node: unknown, key: string): Pair | undefined {
  const map = resolve(doc, node);
  if (!isMap(map)) return undefined;
  return map.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
}

export function getPath(doc: Doc, node: unknown, keys: string[]): unknown {
  let current: unknown = node;
  for (const key of keys) {
    current = child(doc, current, key);
    if (current === undefined) return undefined;
  }
  return current;
}

/** `Deployment/prod/api`, `Kustomization`, or `document 2` for objects without kind/name. */
export function objectId(doc: Doc, content: string, index: number): string {
  const root = doc.contents;
  const kind = scalarText(content, child(doc, root, "kind"));
  const meta = child(doc, root, "metadata");
  const name = scalarText(content, child(doc, meta, "name"));
  const ns = scalarText(content, child(doc, meta, "namespace"));
  if (!kind) return `document ${index + 1}`;
  return [kind, ns, name].filter((p) => p).join("/");
}

/** Walks every pair value and sequence item below `node`, with its key path (`a.b[0].c`). */
export function walk(
  doc: Doc,
  node: unknown,
  path: string,
  visit: (value: unknown, path: string, key: string | number) => void,
  seen = new Set<unknown>(),
): void {
  const target = resolve(doc, node);
  if (seen.has(target)) return;
  seen.add(target);
  if (isMap(target)) {
    for (const pair of target.items) {
      if (!isScalar(pair.key)) continue;
      const key = String(pair.key.value);
      const childPath = path ? `${path}.${key}` : key;
      visit(pair.value, childPath, key);
      walk(doc, pair.value, childPath, visit, seen);
    }
  } else if (isSeq(target)) {
    target.items.forEach((item, i) => {
      const childPath = `${path}[${i}]`;
      visit(item, childPath, i);
      walk(doc, item, childPath, visit, seen);
    });
  }
}

/**
 * True when `value` written as a plain scalar would read back as the same string under both
 * YAML 1.2 (our parser, Helm v3) and YAML 1.1 (Kubernetes' Go YAML: `on`, `yes`, `0755`, `1.20`).
 */
export function plainIsSafe(value: string): boolean {
  if (value === "" || value !== value.trim() || /[#,[\]{}]/.test(value)) return false;
  for (const version of ["1.1", "1.2"] as const) {
    try {
      if (parse(value, { version }) !== value) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/**
 * The source text for `value` in place of `node`: keeps the node's quoting style; a plain scalar that
 * would be re-typed gets double quotes, as Flux's setters do (kyaml FormatNonStringStyle).
 */
export function renderLike(node: Scalar | null, value: string): string {
  const type = node?.type ?? Scalar.PLAIN;
  if (type === Scalar.QUOTE_SINGLE) return `'${value.replace(/'/g, "''")}'`;
  if (type === Scalar.QUOTE_DOUBLE) return JSON.stringify(value);
  return plainIsSafe(value) ? value : JSON.stringify(value);
}

interface Splice {
  start: number;
  end: number;
  text: string;
}

/** Collects splices and applies them from the end, so earlier offsets stay valid. */
export class TextEdits {
  private readonly splices: Splice[] = [];

  constructor(
    readonly content: string,
    readonly path: string,
  ) {}

  get size(): number {
    return this.splices.length;
  }

  /** Replaces a scalar's value text (anchor, tag and trailing comment untouched). */
  setScalar(node: unknown, value: string, field: string): void {
    if (!isScalar(node) || !node.range) throw gitopsUnsupported(this.path, field, "is not a scalar value");
    if (node.type === Scalar.BLOCK_LITERAL || node.type === Scalar.BLOCK_FOLDED) {
      throw gitopsUnsupported(this.path, field, "is a block scalar (| or >)");
    }
    const [start, end] = node.range;
    if (this.content.slice(start, end).includes("\n")) throw gitopsUnsupported(this.path, field, "spans several lines");
    // An empty value (`tag:`) has a zero-length range at the key's colon; write after one space.
    const text = renderLike(node, value);
    this.add({ start, end, text: start === end && !/\s$/.test(this.content.slice(0, start)) ? ` ${text}` : text });
  }

  /** Adds `key: value` as the last pair of a block mapping, indented like its first key. */
  insertPair(map: YAMLMap, key: string, value: string, field: string): void {
    const first = map.items[0];
    const last = map.items[map.items.length - 1];
    if (map.flow || !first || !last || !isScalar(first.key) || !first.key.range) {
      throw gitopsUnsupported(this.path, field, `cannot add ${JSON.stringify(key)} to a flow or empty mapping`);
    }
    const lastEnd = rangeEnd(last);
    if (lastEnd === undefined || (!isScalar(last.value) && last.value !== null)) {
      throw gitopsUnsupported(this.path, field, `cannot add ${JSON.stringify(key)} after a nested value`);
    }
    const keyStart = first.key.range[0];
    const lineStart = this.content.lastIndexOf("\n", keyStart - 1) + 1;
    const indent = " ".repeat(keyStart - lineStart);
    const newline = this.content.indexOf("\n", lastEnd);
    const at = newline < 0 ? this.content.length : this.content[newline - 1] === "\r" ? newline - 1 : newline;
    this.add({ start: at, end: at, text: `${eolOf(this.content)}${indent}${key}: ${renderLike(null, value)}` });
  }

  /** Removes a `key: value` line from a block mapping. */
  deletePair(map: YAMLMap, key: string, field: string): void {
    const pair = map.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
    if (!pair || !isScalar(pair.key) || !pair.key.range) return;
    const keyStart = pair.key.range[0];
    const lineStart = this.content.lastIndexOf("\n", keyStart - 1) + 1;
    const end = rangeEnd(pair);
    if (map.flow || end === undefined || this.content.slice(lineStart, keyStart).trim() !== "") {
      throw gitopsUnsupported(this.path, field, `cannot remove ${JSON.stringify(key)} (it shares its line with other syntax)`);
    }
    const newline = this.content.indexOf("\n", end);
    this.add({ start: lineStart, end: newline < 0 ? this.content.length : newline + 1, text: "" });
  }

  apply(): string {
    const ordered = [...this.splices].sort((a, b) => b.start - a.start);
    let out = this.content;
    for (const s of ordered) out = out.slice(0, s.start) + s.text + out.slice(s.end);
    return out;
  }

  private add(splice: Splice): void {
    // Two formats or two targets on one scalar: keep the first identical edit, refuse different ones.
    const same = this.splices.find((s) => s.start === splice.start && s.end === splice.end);
    if (same && splice.start === splice.end) {
      // Two insertions at one point (e.g. newTag then digest): keep both, in call order.
      same.text += splice.text;
      return;
    }
    if (same) {
      if (same.text !== splice.text) throw gitopsUnsupported(this.path, `offset ${splice.start}`, "two changes target the same value");
      return;
    }
    this.splices.push(splice);
  }
}

function rangeEnd(pair: Pair): number | undefined {
  const value = pair.value as Node | null;
  if (value && value.range) return value.range[1];
  const key = pair.key as Node | null;
  return key?.range ? key.range[1] : undefined;
}

export function eolOf(content: string): string {
  const i = content.indexOf("\n");
  return i > 0 && content[i - 1] === "\r" ? "\r\n" : "\n";
}

export { isMap, isPair, isScalar, isSeq };
