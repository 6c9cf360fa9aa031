/**
 * Splits the JSON text of an object around the array under one of its top-level keys: the object's
 * text with that array emptied (`envelope`), and where each of the array's elements starts and ends.
 *
 * Why: a big Trivy report is one object whose `Results` hold every target. JSON.parse of the whole
 * text builds one tree of it, which the garbage collector copies and marks over and over while it is
 * built and kept (on 50,000 vulnerabilities, more time than parsing itself, and the tree's memory on
 * top of the text's). Parsed element by element, each element's tree is dropped as soon as its
 * findings are read. No JSON library does this without being many times slower than JSON.parse.
 *
 * This is not a JSON parser and validates nothing itself beyond the separators it steps over: the
 * caller JSON.parses the envelope and each element, and those pieces plus the whitespace and commas
 * checked here are the whole text, so the pieces all parse exactly when the whole text does, and to
 * the same values. Anything unusual (the key missing, repeated, spelled with escapes, not an array)
 * gives `undefined`, and the caller parses the whole text as usual.
 */
export interface SplitArray {
  envelope: string;
  /** [start, end) of each element in the text. */
  items: [number, number][];
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/** JSON's whitespace (RFC 8259 section 2): space, tab, line feed, carriage return. */
function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function skipSpace(text: string, at: number): number {
  while (at < text.length && isSpace(text.charCodeAt(at))) at++;
  return at;
}

/** Just past the string that starts at `at` (a quote), or -1: the next quote not escaped by an odd run of backslashes. */
function stringEnd(text: string, at: number): number {
  for (let from = at + 1; ; ) {
    const quote = text.indexOf('"', from);
    if (quote < 0) return -1;
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote + 1;
    from = quote + 1;
  }
}

/** Just past the value that starts at `at`, or -1. Objects and arrays end where brackets outside strings balance. */
function valueEnd(text: string, at: number): number {
  const first = text.charCodeAt(at);
  if (first === QUOTE) return stringEnd(text, at);
  if (first === OPEN_BRACE || first === OPEN_BRACKET) {
    let depth = 0;
    for (let i = at; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === QUOTE) {
        const end = stringEnd(text, i);
        if (end < 0) return -1;
        i = end - 1;
      } else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
      else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        depth--;
        if (depth === 0) return i + 1;
      }
    }
    return -1;
  }
  // A number, true, false or null: up to the next separator (JSON.parse judges what it is).
  let i = at;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === COMMA || c === CLOSE_BRACE || c === CLOSE_BRACKET || isSpace(c)) break;
    i++;
  }
  return i > at ? i : -1;
}

export function splitArray(text: string, key: string): SplitArray | undefined {
  let at = skipSpace(text, 0);
  if (text.charCodeAt(at) !== OPEN_BRACE) return undefined;
  at = skipSpace(text, at + 1);
  let items: [number, number][] | undefined;
  let open = -1;
  let close = -1;
  while (text.charCodeAt(at) !== CLOSE_BRACE) {
    if (text.charCodeAt(at) !== QUOTE) return undefined;
    const nameEnd = stringEnd(text, at);
    if (nameEnd < 0) return undefined;
    const name = text.slice(at + 1, nameEnd - 1);
    // "Re\u0073ults" is "Results" to JSON.parse: leave escaped keys to it.
    if (name.includes("\\")) return undefined;
    at = skipSpace(text, nameEnd);
    if (text.charCodeAt(at) !== COLON) return undefined;
    at = skipSpace(text, at + 1);
    if (name === key) {
      // A repeated key: JSON.parse keeps the last one; do not guess.
      if (items !== undefined || text.charCodeAt(at) !== OPEN_BRACKET) return undefined;
      items = [];
      open = at;
      at = skipSpace(text, at + 1);
      while (text.charCodeAt(at) !== CLOSE_BRACKET) {
        if (items.length > 0) {
          if (text.charCodeAt(at) !== COMMA) return undefined;
          at = skipSpace(text, at + 1);
        }
        const end = valueEnd(text, at);
        if (end < 0) return undefined;
        items.push([at, end]);
        at = skipSpace(text, end);
      }
      close = at;
      at++;
    } else {
      const end = valueEnd(text, at);
      if (end < 0) return undefined;
      at = end;
    }
    at = skipSpace(text, at);
    if (text.charCodeAt(at) === COMMA) at = skipSpace(text, at + 1);
    else if (text.charCodeAt(at) !== CLOSE_BRACE) return undefined;
  }
  if (items === undefined) return undefined;
  // The envelope keeps everything but the elements, trailing text included: JSON.parse judges it.
  return { envelope: text.slice(0, open + 1) + text.slice(close), items };
}

/**
 * Where each top-level JSON value of a stream of them starts and ends: JSON lines, but also objects
 * written one after the other, pretty-printed over many lines or not separated at all (what wrappers
 * that collect `trufflehog --json` output save). Like `splitArray` it only finds the boundaries; the
 * caller JSON.parses each piece, and the pieces plus the whitespace between them are the whole text.
 * `rest` is where a value starts that does not end (a truncated file): the caller reports it.
 */
export function splitValues(text: string): { items: [number, number][]; rest?: number } {
  const items: [number, number][] = [];
  for (let at = skipSpace(text, 0); at < text.length; at = skipSpace(text, at)) {
    const end = valueEnd(text, at);
    // A bare word (`not json`) ends at the next space or bracket; at least one character, so it moves on.
    if (end < 0) return { items, rest: at };
    const stop = Math.max(end, at + 1);
    items.push([at, stop]);
    at = stop;
  }
  return { items };
}
