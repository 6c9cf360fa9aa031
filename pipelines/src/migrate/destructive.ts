/**
 * Finds destructive statements in the SQL a migration's up() issued.
 *
 * Written by hand, on purpose: the SQL parsers on npm each cover one dialect partly (node-sql-parser,
 * pgsql-ast-parser) and reject valid DDL they do not know, and a safety check must never skip a
 * statement because a parser gave up. We only need to recognise a handful of statement shapes, so a
 * tokenizer that understands comments, quoted identifiers and string literals is enough, and anything
 * it does not recognise is simply not destructive by these rules.
 */

export type DestructiveKind =
  | "drop-table"
  | "drop-column"
  | "type-change"
  | "rename-table"
  | "rename-column"
  | "not-null-on-filled-table"
  /** Only with `rowChanges` (a down() about to be reverted): TRUNCATE, DELETE FROM. */
  | "truncate"
  | "delete-rows";

export interface StatementFinding {
  kind: DestructiveKind;
  table: string;
  column?: string;
  /** Only for NOT NULL without default: the finding holds only when the table has rows. */
  needsRows?: true;
}

export interface Token {
  text: string;
  /** Upper-cased keyword or unquoted identifier; quoted identifiers keep their case and are never keywords. */
  word?: string;
  ident?: string;
  /** Offsets in the SQL text: `sql.slice(at, end)` is the token as written. */
  at: number;
  end: number;
}

/** Splits SQL into tokens, dropping comments; string literals become one opaque token. */
export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i] as string;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "-" && sql[i + 1] === "-") {
      const end = sql.indexOf("\n", i);
      i = end < 0 ? sql.length : end + 1;
    } else if (c === "/" && sql[i + 1] === "*") {
      const end = sql.indexOf("*/", i + 2);
      i = end < 0 ? sql.length : end + 2;
    } else if (c === '"' || c === "`" || c === "'") {
      let j = i + 1;
      let value = "";
      for (; j < sql.length; j++) {
        if (sql[j] === c) {
          if (sql[j + 1] === c) {
            value += c;
            j++;
            continue;
          }
          break;
        }
        value += sql[j];
      }
      tokens.push(c === "'" ? { text: "'…'", at: i, end: j + 1 } : { text: sql.slice(i, j + 1), ident: value, at: i, end: j + 1 });
      i = j + 1;
    } else if (c === "$" && /^\$[A-Za-z_]*\$/.test(sql.slice(i))) {
      // PostgreSQL dollar-quoted string ($$...$$ or $tag$...$tag$): one opaque token.
      const tag = /^\$[A-Za-z_]*\$/.exec(sql.slice(i))?.[0] as string;
      const end = sql.indexOf(tag, i + tag.length);
      const stop = end < 0 ? sql.length : end + tag.length;
      tokens.push({ text: "$…$", at: i, end: stop });
      i = stop;
    } else if (/[A-Za-z_0-9]/.test(c)) {
      let j = i;
      while (j < sql.length && /[A-Za-z_0-9$]/.test(sql[j] as string)) j++;
      const text = sql.slice(i, j);
      tokens.push({ text, word: text.toUpperCase(), ident: text, at: i, end: j });
      i = j;
    } else {
      tokens.push({ text: c, at: i, end: i + 1 });
      i++;
    }
  }
  return tokens;
}

/** Statements separated by `;` outside quotes and comments. */
export function splitStatements(tokens: Token[]): Token[][] {
  const out: Token[][] = [[]];
  for (const t of tokens) {
    if (t.text === ";") out.push([]);
    else (out[out.length - 1] as Token[]).push(t);
  }
  return out.filter((s) => s.length > 0);
}

/** Splits at commas at parenthesis depth 0 (the actions of one ALTER TABLE). */
export function splitTopLevel(tokens: Token[]): Token[][] {
  const out: Token[][] = [[]];
  let depth = 0;
  for (const t of tokens) {
    if (t.text === "(") depth++;
    if (t.text === ")") depth--;
    if (t.text === "," && depth === 0) out.push([]);
    else (out[out.length - 1] as Token[]).push(t);
  }
  return out.filter((s) => s.length > 0);
}

export class Cursor {
  i = 0;
  constructor(readonly tokens: Token[]) {}
  peek(offset = 0): Token | undefined {
    return this.tokens[this.i + offset];
  }
  /** Consumes the keywords if they come next (all of them), e.g. accept("IF", "EXISTS"). */
  accept(...words: string[]): boolean {
    if (words.every((w, k) => this.peek(k)?.word === w)) {
      this.i += words.length;
      return true;
    }
    return false;
  }
  /** A possibly qualified name: a, "a", schema.a, `db`.`a`. Returns the last part as written. */
  name(): string | undefined {
    const first = this.peek();
    if (first?.ident === undefined) return undefined;
    this.i++;
    let name = first.ident;
    while (this.peek()?.text === "." && this.peek(1)?.ident !== undefined) {
      name = (this.peek(1) as Token).ident as string;
      this.i += 2;
    }
    return name;
  }
  /** The qualified name exactly as written (for querying the table), e.g. `"public"."users"`. */
  rawName(): string | undefined {
    const start = this.i;
    if (this.name() === undefined) return undefined;
    return this.tokens
      .slice(start, this.i)
      .map((t) => t.text)
      .join("");
  }
  rest(): Token[] {
    return this.tokens.slice(this.i);
  }
}

const hasWord = (tokens: Token[], word: string): boolean => tokens.some((t) => t.word === word);
const hasWords = (tokens: Token[], a: string, b: string): boolean => tokens.some((t, k) => t.word === a && tokens[k + 1]?.word === b);

function alterTableAction(table: string, action: Token[]): StatementFinding[] {
  const c = new Cursor(action);
  if (c.accept("DROP")) {
    // DROP CONSTRAINT / INDEX / KEY / PRIMARY KEY / FOREIGN KEY / CHECK / DEFAULT remove no data.
    if (["CONSTRAINT", "INDEX", "KEY", "PRIMARY", "FOREIGN", "CHECK", "DEFAULT", "PARTITION"].includes(c.peek()?.word ?? "")) return [];
    c.accept("COLUMN");
    c.accept("IF", "EXISTS");
    const column = c.name();
    return column === undefined ? [] : [{ kind: "drop-column", table, column }];
  }
  if (c.accept("RENAME")) {
    if (c.accept("TO") || c.accept("AS")) return [{ kind: "rename-table", table }];
    if (c.peek()?.word === "CONSTRAINT" || c.peek()?.word === "INDEX" || c.peek()?.word === "KEY") return [];
    c.accept("COLUMN");
    const column = c.name();
    return column === undefined ? [] : [{ kind: "rename-column", table, column }];
  }
  if (c.accept("ALTER")) {
    c.accept("COLUMN");
    const column = c.name();
    if (column === undefined) return [];
    const rest = c.rest();
    if (hasWord(rest, "TYPE")) return [{ kind: "type-change", table, column }];
    if (hasWords(rest, "SET", "NOT")) return [{ kind: "not-null-on-filled-table", table, column, needsRows: true }];
    return [];
  }
  if (c.accept("MODIFY")) {
    // MySQL: MODIFY [COLUMN] col definition. It restates the type; treat it as a type change.
    c.accept("COLUMN");
    const column = c.name();
    return column === undefined ? [] : [{ kind: "type-change", table, column }];
  }
  if (c.accept("CHANGE")) {
    // MySQL: CHANGE [COLUMN] old new definition: a rename when the names differ, and a type restatement.
    c.accept("COLUMN");
    const from = c.name();
    const to = c.name();
    if (from === undefined) return [];
    const findings: StatementFinding[] = [{ kind: "type-change", table, column: from }];
    if (to !== undefined && to !== from) findings.unshift({ kind: "rename-column", table, column: from });
    return findings;
  }
  if (c.accept("ADD")) {
    if (["CONSTRAINT", "INDEX", "KEY", "PRIMARY", "FOREIGN", "UNIQUE", "CHECK", "PARTITION", "FULLTEXT", "SPATIAL"].includes(c.peek()?.word ?? "")) return [];
    c.accept("COLUMN");
    c.accept("IF", "NOT", "EXISTS");
    const column = c.name();
    if (column === undefined) return [];
    const rest = c.rest();
    const notNull = hasWords(rest, "NOT", "NULL");
    // A default, a generated value or a serial type fills existing rows, so NOT NULL is then safe.
    const filled = hasWord(rest, "DEFAULT") || hasWord(rest, "GENERATED") || hasWord(rest, "AUTO_INCREMENT") || rest.some((t) => /^(SMALL|BIG)?SERIAL[248]?$/.test(t.word ?? ""));
    return notNull && !filled ? [{ kind: "not-null-on-filled-table", table, column, needsRows: true }] : [];
  }
  return [];
}

export interface ClassifiedStatement extends StatementFinding {
  /** The table as written in the statement, usable in `SELECT 1 FROM <rawTable>`. */
  rawTable: string;
}

/**
 * Destructive operations in one SQL text (which may hold several statements). `rowChanges` also reports
 * TRUNCATE and DELETE FROM: for a down() about to be reverted (issue 12), where removing rows is what the
 * on-call engineer must decide on; an up() that deletes rows is a data migration and stays unreported.
 */
export function classifySql(sql: string, options: { rowChanges?: boolean } = {}): ClassifiedStatement[] {
  const findings: ClassifiedStatement[] = [];
  for (const statement of splitStatements(tokenize(sql))) {
    const c = new Cursor(statement);
    if (options.rowChanges && c.accept("TRUNCATE")) {
      // PostgreSQL: TRUNCATE [TABLE] [ONLY] name [*] [, ...]; MySQL: TRUNCATE [TABLE] name.
      c.accept("TABLE");
      for (const part of splitTopLevel(c.rest())) {
        const p = new Cursor(part);
        p.accept("ONLY");
        const start = p.i;
        const raw = p.rawName();
        const table = new Cursor(part.slice(start)).name();
        if (table !== undefined && raw !== undefined && !["RESTART", "CONTINUE", "CASCADE", "RESTRICT"].includes(part[start]?.word ?? "")) {
          findings.push({ kind: "truncate", table, rawTable: raw });
        }
      }
      continue;
    }
    if (options.rowChanges && c.accept("DELETE", "FROM")) {
      c.accept("ONLY");
      const start = c.i;
      const table = c.name();
      if (table !== undefined) {
        const rawTable = statement
          .slice(start, c.i)
          .map((t) => t.text)
          .join("");
        findings.push({ kind: "delete-rows", table, rawTable });
      }
      continue;
    }
    if (c.accept("DROP", "TABLE")) {
      c.accept("IF", "EXISTS");
      for (const part of splitTopLevel(c.rest())) {
        const p = new Cursor(part);
        const raw = p.rawName();
        const table = new Cursor(part).name();
        if (table !== undefined && raw !== undefined && !["CASCADE", "RESTRICT"].includes(part[0]?.word ?? "")) {
          findings.push({ kind: "drop-table", table, rawTable: raw });
        }
      }
      continue;
    }
    if (c.accept("RENAME", "TABLE")) {
      // MySQL: RENAME TABLE a TO b [, c TO d]
      for (const part of splitTopLevel(c.rest())) {
        const p = new Cursor(part);
        const raw = p.rawName();
        const table = new Cursor(part).name();
        if (table !== undefined && raw !== undefined) findings.push({ kind: "rename-table", table, rawTable: raw });
      }
      continue;
    }
    if (c.accept("ALTER", "TABLE")) {
      c.accept("IF", "EXISTS");
      c.accept("ONLY");
      const start = c.i;
      const table = c.name();
      if (table === undefined) continue;
      const rawTable = statement
        .slice(start, c.i)
        .map((t) => t.text)
        .join("");
      for (const action of splitTopLevel(c.rest())) {
        for (const f of alterTableAction(table, action)) findings.push({ ...f, rawTable });
      }
    }
  }
  return findings;
}

/** Is `raw` a plain (possibly quoted, possibly qualified) identifier? Guards the row probe we build from it. */
export function isPlainIdentifier(raw: string): boolean {
  return /^(?:"(?:[^"]|"")+"|`[^`]+`|[A-Za-z_][A-Za-z_0-9$]*)(?:\.(?:"(?:[^"]|"")+"|`[^`]+`|[A-Za-z_][A-Za-z_0-9$]*))*$/.test(raw);
}

export const KIND_LABEL: Record<DestructiveKind, string> = {
  "drop-table": "drops table",
  "drop-column": "drops column",
  "type-change": "changes the type of column",
  "rename-table": "renames table",
  "rename-column": "renames column",
  "not-null-on-filled-table": "adds NOT NULL without a default on a table with rows, column",
  truncate: "truncates table",
  "delete-rows": "deletes rows of table",
};
