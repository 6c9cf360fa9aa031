/**
 * Compensation: undoing, newest first, what a failed migration did outside a transaction (PostgreSQL).
 *
 * Written by hand on the scanner of destructive.ts, for the reason given there and one more: the SQL
 * parsers on npm reject valid PostgreSQL DDL they do not know, and here a misread statement would not
 * just miss a warning, it could drop the wrong object. So we recognise a short list of statement
 * shapes whose inverse is certain because the statement itself created the object, and everything
 * else, anything we cannot read included, counts as "cannot be undone":
 *
 *   CREATE [TEMP | UNLOGGED] TABLE name            DROP TABLE name
 *   CREATE [UNIQUE] INDEX [CONCURRENTLY] name ON t DROP INDEX [CONCURRENTLY] name   (in t's schema)
 *   CREATE SEQUENCE | TYPE | [MATERIALIZED] VIEW   DROP of the same
 *   CREATE SCHEMA name                             DROP SCHEMA name
 *   ALTER TABLE t ADD [COLUMN] c ..., ADD CONSTRAINT n ...   ALTER TABLE t DROP CONSTRAINT n, DROP COLUMN c
 *
 * A statement that succeeded without IF NOT EXISTS proves the object is new (PostgreSQL refuses to
 * create one that exists). With IF NOT EXISTS (or CREATE OR REPLACE VIEW) it proves nothing, so the
 * catalog is asked just before the statement runs (`probe`); when it could not be asked, we do not drop.
 * Every DROP is RESTRICT (the default): it fails rather than take anything that depends on the object.
 *
 * Names are resolved when the inverse runs. Since we undo newest first and stop at the first statement
 * we cannot undo, the session (search_path, objects) is then as it was right after the statement, so
 * an unqualified name means what it meant then; we still qualify created objects with the schema they
 * were created in (current_schema(), or the table's schema for an index), because a lookup also searches
 * pg_temp first where creation does not.
 */
import { Cursor, splitStatements, splitTopLevel, tokenize, type Token } from "./destructive.js";

export type ObjectKind = "table" | "index" | "sequence" | "type" | "view" | "materialized view" | "schema";

export interface SqlName {
  /** As written, possibly qualified: `"public"."t"`, `t`. */
  raw: string;
  /** The qualifier as written, when there is one. */
  schema?: string;
  /** The last part as written (with its quotes, if any). */
  last: string;
  /** The last part as PostgreSQL stores it: unquoted names fold to lower case. */
  folded: string;
}

export interface TablePart {
  what: "column" | "constraint";
  name: SqlName;
  ifNotExists: boolean;
}

export type Undo =
  /** SELECT / SHOW: nothing to undo. */
  | { kind: "read" }
  | {
      kind: "drop";
      object: ObjectKind;
      name: SqlName;
      temp: boolean;
      /** The indexed table (indexes only). */
      table?: SqlName;
      concurrently: boolean;
      guard: "none" | "if-not-exists" | "or-replace";
    }
  | { kind: "drop-parts"; table: SqlName; only: boolean; ifExists: boolean; parts: TablePart[] }
  | { kind: "stop"; reason: string };

const KEYWORD: Record<ObjectKind, string> = {
  table: "TABLE",
  index: "INDEX",
  sequence: "SEQUENCE",
  type: "TYPE",
  view: "VIEW",
  "materialized view": "MATERIALIZED VIEW",
  schema: "SCHEMA",
};

const ROW_CHANGES = new Set(["INSERT", "UPDATE", "DELETE", "MERGE", "COPY", "TRUNCATE"]);
/** Built-ins that change state from inside a SELECT; a user function that writes cannot be seen. */
const WRITING_CALLS = /^(NEXTVAL|SETVAL|SET_CONFIG|LO_\w+|DBLINK\w*)$/;

function fold(t: Token): string {
  const ident = t.ident as string;
  return t.word === undefined ? ident : ident.toLowerCase();
}

function sqlName(c: Cursor): SqlName | undefined {
  const parts: Token[] = [];
  const first = c.peek();
  if (first?.ident === undefined) return undefined;
  parts.push(first);
  c.i++;
  while (c.peek()?.text === "." && c.peek(1)?.ident !== undefined) {
    parts.push(c.peek(1) as Token);
    c.i += 2;
  }
  const last = parts[parts.length - 1] as Token;
  const name: SqlName = { raw: parts.map((p) => p.text).join("."), last: last.text, folded: fold(last) };
  if (parts.length > 1) name.schema = parts.slice(0, -1).map((p) => p.text).join(".");
  return name;
}

/** One unqualified identifier (index, column and constraint names cannot be qualified). */
function simpleName(c: Cursor): SqlName | undefined {
  const t = c.peek();
  if (t?.ident === undefined || c.peek(1)?.text === ".") return undefined;
  c.i++;
  return { raw: t.text, last: t.text, folded: fold(t) };
}

/** The first words of a statement, as written, to name it in a message. */
function head(tokens: Token[], max = 3): string {
  const words: string[] = [];
  for (const t of tokens) {
    if (t.word === undefined || words.length === max) break;
    words.push(t.text);
  }
  return words.join(" ") || (tokens[0]?.text ?? "");
}

const stop = (reason: string): Undo => ({ kind: "stop", reason });

function create(c: Cursor, tokens: Token[]): Undo {
  const orReplace = c.accept("OR", "REPLACE");
  if (!c.accept("GLOBAL")) c.accept("LOCAL");
  const temp = c.accept("TEMPORARY") || c.accept("TEMP");
  c.accept("UNLOGGED");
  const unique = c.accept("UNIQUE");
  let object: ObjectKind | undefined;
  if (c.accept("TABLE")) object = "table";
  else if (c.accept("INDEX")) object = "index";
  else if (c.accept("SEQUENCE")) object = "sequence";
  else if (c.accept("TYPE")) object = "type";
  else if (c.accept("RECURSIVE", "VIEW") || c.accept("VIEW")) object = "view";
  else if (c.accept("MATERIALIZED", "VIEW")) object = "materialized view";
  else if (c.accept("SCHEMA")) object = "schema";
  if (object === undefined || (orReplace && object !== "view") || (unique && object !== "index")) {
    return stop(`Slipway does not know how to undo ${head(tokens, orReplace ? 4 : 3)}`);
  }
  const concurrently = object === "index" && c.accept("CONCURRENTLY");
  const ifNotExists = c.accept("IF", "NOT", "EXISTS");
  const guard = ifNotExists ? "if-not-exists" : orReplace ? "or-replace" : "none";
  if (object === "index") {
    if (c.peek()?.word === "ON") return stop("the index has no name in the statement, so it cannot be identified for sure");
    const name = simpleName(c);
    if (name === undefined || !c.accept("ON")) return stop("the statement could not be read");
    c.accept("ONLY");
    const table = sqlName(c);
    if (table === undefined) return stop("the statement could not be read");
    return { kind: "drop", object, name, temp, table, concurrently, guard };
  }
  if (object === "schema") {
    if (c.peek()?.word === "AUTHORIZATION") return stop("the schema is named after its owner, not in the statement");
    const name = simpleName(c);
    if (name === undefined) return stop("the statement could not be read");
    if (c.accept("AUTHORIZATION")) c.i++;
    if (c.rest().length > 0) return stop("it also creates objects inside the new schema");
    return { kind: "drop", object, name, temp, concurrently, guard };
  }
  const name = sqlName(c);
  if (name === undefined) return stop("the statement could not be read");
  return { kind: "drop", object, name, temp, concurrently, guard };
}

function alterTable(c: Cursor): Undo {
  const ifExists = c.accept("IF", "EXISTS");
  const only = c.accept("ONLY");
  const table = sqlName(c);
  if (table === undefined) return stop("the statement could not be read");
  if (c.peek()?.text === "*") c.i++;
  const parts: TablePart[] = [];
  for (const action of splitTopLevel(c.rest())) {
    const a = new Cursor(action);
    if (!a.accept("ADD")) return stop(`ALTER TABLE … ${head(action, 2)} cannot be undone from the statement alone`);
    if (a.accept("CONSTRAINT")) {
      const name = simpleName(a);
      if (name === undefined) return stop("the statement could not be read");
      const rest = a.rest();
      if (rest.some((t, k) => t.word === "USING" && rest[k + 1]?.word === "INDEX")) {
        return stop("it made an existing index into a constraint; dropping the constraint would drop that index");
      }
      parts.push({ what: "constraint", name, ifNotExists: false });
      continue;
    }
    if (["PRIMARY", "UNIQUE", "CHECK", "FOREIGN", "EXCLUDE"].includes(a.peek()?.word ?? "")) {
      return stop("the constraint has no name in the statement, so it cannot be identified for sure");
    }
    a.accept("COLUMN");
    const ifNotExists = a.accept("IF", "NOT", "EXISTS");
    const name = simpleName(a);
    if (name === undefined) return stop("the statement could not be read");
    parts.push({ what: "column", name, ifNotExists });
  }
  if (parts.length === 0) return stop("the statement could not be read");
  return { kind: "drop-parts", table, only, ifExists, parts };
}

/** What undoes one statement (tokens of one statement, as split by `splitStatements`). */
export function undoOf(tokens: Token[]): Undo {
  const c = new Cursor(tokens);
  const first = tokens[0]?.word ?? "";
  if (first === "SELECT" || first === "SHOW") {
    const writer = tokens.find((t) => t.word === "INTO" || WRITING_CALLS.test(t.word ?? ""));
    return writer ? stop(`${writer.word === "INTO" ? "SELECT … INTO" : `a call of ${writer.text}()`} changes the database`) : { kind: "read" };
  }
  if (c.accept("CREATE")) return create(c, tokens);
  if (c.accept("ALTER", "TABLE")) return alterTable(c);
  if (ROW_CHANGES.has(first)) return stop(`${first} changes rows; which rows, and what they held before, is not known`);
  if (first === "DROP") return stop("DROP removed an object whose definition and data are not known");
  return stop(`Slipway does not know how to undo ${head(tokens)}`);
}

/** Each statement of a captured SQL text, with its text as written and what undoes it. */
export function statementsOf(sql: string): { text: string; undo: Undo }[] {
  const parts = splitStatements(tokenize(sql));
  return parts.map((tokens) => ({
    // A text with one statement is shown as the migration sent it.
    text: parts.length === 1 ? sql.trim() : sql.slice((tokens[0] as Token).at, (tokens[tokens.length - 1] as Token).end),
    undo: undoOf(tokens),
  }));
}

// ---- against the database --------------------------------------------------------------------------

export type Query = (sql: string, parameters?: unknown[]) => Promise<unknown>;

/** Per statement of a text: undefined (nothing to ask), null (the catalog could not be asked), or per object whether it existed. */
export type Existed = (boolean[] | null | undefined)[];

function needsProbe(undo: Undo): boolean {
  if (undo.kind === "drop") return undo.guard !== "none" || undo.concurrently;
  if (undo.kind === "drop-parts") return undo.ifExists || undo.parts.some((p) => p.ifNotExists);
  return false;
}

async function one(query: Query, sql: string, parameters: unknown[]): Promise<Record<string, unknown> | undefined> {
  const rows = await query(sql, parameters);
  return Array.isArray(rows) ? (rows[0] as Record<string, unknown> | undefined) : undefined;
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** The object's name qualified with the schema it is (or would be) created in. */
async function qualified(undo: Extract<Undo, { kind: "drop" }>, query: Query): Promise<string> {
  if (undo.object === "schema") return undo.name.raw;
  if (undo.object === "index") {
    const table = undo.table as SqlName;
    if (table.schema !== undefined) return `${table.schema}.${undo.name.last}`;
    const row = await one(query, "SELECT n.nspname AS s FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass($1)", [table.raw]);
    if (typeof row?.s === "string") return `${quoteIdent(row.s)}.${undo.name.last}`;
  } else if (undo.name.schema !== undefined) {
    return undo.name.raw;
  } else if (undo.temp) {
    return `pg_temp.${undo.name.last}`;
  }
  const row = await one(query, "SELECT current_schema() AS s", []);
  if (typeof row?.s !== "string") throw new Error("no schema of the search_path exists");
  return `${quoteIdent(row.s)}.${undo.name.last}`;
}

async function exists(undo: Undo, query: Query): Promise<boolean[]> {
  if (undo.kind === "drop") {
    if (undo.object === "schema") return [(await one(query, "SELECT 1 AS x FROM pg_namespace WHERE nspname = $1", [undo.name.folded])) !== undefined];
    const name = await qualified(undo, query);
    const lookup = undo.object === "type" ? "to_regtype" : "to_regclass";
    return [(await one(query, `SELECT ${lookup}($1) IS NOT NULL AS found`, [name]))?.found === true];
  }
  if (undo.kind === "drop-parts") {
    const row = await one(
      query,
      `SELECT to_regclass($1) IS NOT NULL AS found,
              ARRAY(SELECT attname::text FROM pg_attribute WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped) AS columns`,
      [undo.table.raw],
    );
    // ALTER TABLE IF EXISTS on a missing table does nothing: as if every part existed. Without IF
    // EXISTS, the table comes from an earlier statement of the same text: every part will be new.
    if (row?.found !== true) return undo.parts.map(() => undo.ifExists);
    const columns = new Set(Array.isArray(row.columns) ? (row.columns as string[]) : []);
    return undo.parts.map((p) => p.what === "column" && p.ifNotExists && columns.has(p.name.folded));
  }
  return [];
}

/**
 * Asks the catalog, just before `sql` runs, whether what its IF NOT EXISTS / OR REPLACE / CONCURRENTLY
 * statements create is already there. Never throws: a probe failure is recorded as null (we then do
 * not drop) rather than failing the migration.
 */
export async function probe(sql: string, query: Query): Promise<Existed | undefined> {
  const undos = statementsOf(sql).map((s) => s.undo);
  if (!undos.some(needsProbe)) return undefined;
  const out: Existed = [];
  for (const undo of undos) {
    if (!needsProbe(undo)) out.push(undefined);
    else out.push(await exists(undo, query).catch(() => null));
  }
  return out;
}

export interface Executed {
  /** The SQL as sent (unmasked: inverses are built from it; only masked text is ever reported). */
  sql: string;
  ok: boolean;
  existed?: Existed;
}

export interface Compensation {
  /** Inverse statements run, in order (newest first). */
  compensated: string[];
  /** IF NOT EXISTS statements that found their object already there: nothing of theirs to undo. */
  preexisting: string[];
  /** Statements that stay applied, oldest first. */
  residue: string[];
  /** Why compensation stopped before undoing everything. */
  stopped: { statement: string; reason: string } | null;
}

interface Unit {
  text: string;
  undo: Undo;
  existed: boolean[] | null | undefined;
  /** The failed CREATE INDEX CONCURRENTLY: PostgreSQL leaves an invalid index behind. */
  leftover: boolean;
}

type Plan = { sql: string } | { nothing: true } | { stop: string };

async function plan(unit: Unit, query: Query): Promise<Plan> {
  const { undo, existed } = unit;
  if (undo.kind === "drop") {
    if (undo.guard !== "none" || unit.leftover) {
      if (!existed) return { stop: `whether the ${undo.object} existed before the statement could not be checked, so it is not dropped` };
      if (existed[0] === true) {
        if (undo.guard === "or-replace") return { stop: "it replaced an existing view, whose previous definition is not known" };
        // A failed CREATE INDEX CONCURRENTLY of a name already taken left nothing new either.
        return { nothing: true };
      }
    }
    const name = await qualified(undo, query);
    if (unit.leftover) {
      const now = await one(query, "SELECT to_regclass($1) IS NOT NULL AS found", [name]);
      if (now?.found !== true) return { nothing: true };
    }
    return { sql: `DROP ${KEYWORD[undo.object]}${undo.concurrently ? " CONCURRENTLY" : ""} ${name}` };
  }
  if (undo.kind === "drop-parts") {
    const probed = undo.ifExists || undo.parts.some((p) => p.ifNotExists);
    if (probed && !existed) return { stop: "whether its columns existed before the statement could not be checked, so they are not dropped" };
    const made = undo.parts.filter((_, k) => !(existed?.[k] ?? false));
    if (made.length === 0) return { nothing: true };
    const drops = made.reverse().map((p) => `DROP ${p.what === "column" ? "COLUMN" : "CONSTRAINT"} ${p.name.last}`);
    return { sql: `ALTER TABLE ${undo.only ? "ONLY " : ""}${undo.table.raw} ${drops.join(", ")}` };
  }
  return undo.kind === "read" ? { nothing: true } : { stop: undo.reason };
}

/**
 * Undoes, newest first, the statements of `executed` (one failed migration's captured SQL) and stops
 * at the first it cannot undo: undoing past it could be wrong (a later CREATE may have been filled
 * from, or be needed by, what that statement did). Returns what ran and exactly what stays.
 */
export async function compensate(
  executed: Executed[],
  query: Query,
  report: { mask: (text: string) => string; error: (error: unknown) => string },
): Promise<Compensation> {
  const units: Unit[] = [];
  for (const entry of executed) {
    const statements = statementsOf(entry.sql);
    for (const [k, s] of statements.entries()) {
      if (entry.ok) units.push({ ...s, existed: entry.existed?.[k], leftover: false });
      else if (s.undo.kind === "drop" && s.undo.concurrently && statements.length === 1) units.push({ ...s, existed: entry.existed?.[k], leftover: true });
    }
  }
  const result: Compensation = { compensated: [], preexisting: [], residue: [], stopped: null };
  const nothing = new Set<Unit>();
  let stopAt = -1;
  for (let k = units.length - 1; k >= 0; k--) {
    const unit = units[k] as Unit;
    let step: Plan;
    try {
      step = await plan(unit, query);
    } catch (error) {
      step = { stop: `the catalog could not be read: ${report.error(error)}` };
    }
    if ("nothing" in step) {
      nothing.add(unit);
      continue;
    }
    if ("stop" in step) {
      result.stopped = { statement: report.mask(unit.text), reason: step.stop };
      stopAt = k;
      break;
    }
    try {
      await query(step.sql);
      result.compensated.push(report.mask(step.sql));
    } catch (error) {
      result.stopped = { statement: report.mask(unit.text), reason: `undoing it with ${report.mask(step.sql)} failed: ${report.error(error)}` };
      stopAt = k;
      break;
    }
  }
  // Older than the stop, the probes still tell which IF NOT EXISTS statements created nothing.
  const idle = (u: Unit, k: number) => u.undo.kind !== "read" && !u.leftover && (nothing.has(u) || (k < stopAt && createdNothing(u)));
  result.preexisting = units.filter(idle).map((u) => report.mask(u.text));
  result.residue = units
    .slice(0, stopAt + 1)
    .filter((u, k) => k === stopAt || (u.undo.kind !== "read" && !idle(u, k)))
    .map((u) => report.mask(u.text));
  return result;
}

/** An IF NOT EXISTS statement whose probe saw every object already there (not reached by the undo loop). */
function createdNothing(unit: Unit): boolean {
  const { undo, existed } = unit;
  if (undo.kind === "drop") return undo.guard === "if-not-exists" && existed?.[0] === true;
  if (undo.kind === "drop-parts") return Array.isArray(existed) && existed.every(Boolean);
  return false;
}
