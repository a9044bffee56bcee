/**
 * A small TOML reader, enough to pull `requires-python`, dependency lists and table keys out of pyproject.toml,
 * Pipfile and lock files without adding a dependency. It parses the whole grammar that matters for skipping
 * correctly (multi-line strings, multi-line arrays, inline tables, comments, dotted and quoted keys), so a line
 * inside a description string is never mistaken for a table header. Dates and other exotic scalars are kept as
 * their raw text. Input is tenant-controlled: nesting depth is bounded and tables have no prototype, so a key
 * named "__proto__" is just a key.
 */

export type TomlValue = string | number | boolean | TomlValue[] | TomlTable;
export type TomlTable = { [key: string]: TomlValue };

export class TomlError extends Error {
  readonly line: number;
  constructor(message: string, line: number) {
    super(`line ${line}: ${message}`);
    this.name = "TomlError";
    this.line = line;
  }
}

const MAX_DEPTH = 32;
const BARE_KEY = /[A-Za-z0-9_-]/;
const BARE_SCALAR = /[A-Za-z0-9_+\-.:]/;

function newTable(): TomlTable {
  return Object.create(null) as TomlTable;
}

export function isTomlTable(value: TomlValue | undefined): value is TomlTable {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

class Cursor {
  pos = 0;
  constructor(readonly text: string) {}

  get done(): boolean {
    return this.pos >= this.text.length;
  }

  peek(offset = 0): string {
    return this.text.charAt(this.pos + offset);
  }

  startsWith(token: string): boolean {
    return this.text.startsWith(token, this.pos);
  }

  line(): number {
    let line = 1;
    for (let i = 0; i < this.pos && i < this.text.length; i++) if (this.text.charCodeAt(i) === 10) line++;
    return line;
  }

  fail(message: string): never {
    throw new TomlError(message, this.line());
  }

  skipSpaces(): void {
    while (this.peek() === " " || this.peek() === "\t") this.pos++;
  }

  skipComment(): void {
    if (this.peek() !== "#") return;
    while (!this.done && this.peek() !== "\n") this.pos++;
  }

  /** Whitespace, newlines and comments: what may separate array elements or top-level statements. */
  skipBlank(): void {
    for (;;) {
      const c = this.peek();
      if (c === " " || c === "\t" || c === "\r" || c === "\n") this.pos++;
      else if (c === "#") this.skipComment();
      else return;
    }
  }

  expectLineEnd(): void {
    this.skipSpaces();
    this.skipComment();
    if (this.done) return;
    if (this.startsWith("\r\n")) this.pos += 2;
    else if (this.peek() === "\n") this.pos++;
    else this.fail(`unexpected ${JSON.stringify(this.peek())} after value`);
  }
}

function readBasicString(cursor: Cursor, multiline: boolean): string {
  cursor.pos += multiline ? 3 : 1;
  if (multiline) {
    if (cursor.startsWith("\r\n")) cursor.pos += 2;
    else if (cursor.peek() === "\n") cursor.pos++;
  }
  let out = "";
  for (;;) {
    if (cursor.done) cursor.fail("unterminated string");
    if (!multiline && cursor.peek() === '"') {
      cursor.pos++;
      return out;
    }
    if (multiline && cursor.startsWith('"""')) {
      // Up to two quotes may sit right before the closing delimiter: `""""` is a quote and then the delimiter.
      let quotes = 0;
      while (cursor.peek(quotes) === '"') quotes++;
      if (quotes > 5) cursor.fail("too many quotes at the end of a string");
      cursor.pos += quotes;
      return out + '"'.repeat(quotes - 3);
    }
    const c = cursor.peek();
    if (c === "\n" && !multiline) cursor.fail("newline in single-line string");
    if (c !== "\\") {
      out += c;
      cursor.pos++;
      continue;
    }
    const escaped = cursor.peek(1);
    cursor.pos += 2;
    const simple: Record<string, string> = { b: "\b", t: "\t", n: "\n", f: "\f", r: "\r", e: "\u001b", '"': '"' };
    simple["\\"] = "\\";
    const mapped = simple[escaped];
    if (mapped !== undefined) {
      out += mapped;
    } else if (escaped === "u" || escaped === "U") {
      const length = escaped === "u" ? 4 : 8;
      const hex = cursor.text.slice(cursor.pos, cursor.pos + length);
      const codePoint = /^[0-9A-Fa-f]+$/.test(hex) && hex.length === length ? Number.parseInt(hex, 16) : Number.NaN;
      if (!Number.isInteger(codePoint) || codePoint > 0x10ffff) cursor.fail("invalid unicode escape");
      out += String.fromCodePoint(codePoint);
      cursor.pos += length;
    } else if (multiline && (escaped === "\n" || escaped === " " || escaped === "\t" || escaped === "\r")) {
      // A line-ending backslash swallows the newline and the indentation that follows it.
      cursor.pos--;
      while (/[ \t\r\n]/.test(cursor.peek())) cursor.pos++;
    } else {
      cursor.fail("invalid escape sequence");
    }
  }
}

function readLiteralString(cursor: Cursor, multiline: boolean): string {
  const delimiter = multiline ? "'''" : "'";
  cursor.pos += delimiter.length;
  if (multiline) {
    if (cursor.startsWith("\r\n")) cursor.pos += 2;
    else if (cursor.peek() === "\n") cursor.pos++;
  }
  const end = cursor.text.indexOf(delimiter, cursor.pos);
  if (end < 0) cursor.fail("unterminated string");
  let value = cursor.text.slice(cursor.pos, end);
  if (!multiline && value.includes("\n")) cursor.fail("newline in single-line string");
  cursor.pos = end + delimiter.length;
  // Same rule as for basic strings: quotes right before the closing delimiter belong to the value.
  for (let extra = 0; multiline && extra < 2 && cursor.peek() === "'"; extra++) {
    value += "'";
    cursor.pos++;
  }
  return value;
}

function readKey(cursor: Cursor): string[] {
  const parts: string[] = [];
  for (;;) {
    cursor.skipSpaces();
    const c = cursor.peek();
    if (c === '"') parts.push(readBasicString(cursor, false));
    else if (c === "'") parts.push(readLiteralString(cursor, false));
    else {
      const start = cursor.pos;
      while (BARE_KEY.test(cursor.peek()) && !cursor.done) cursor.pos++;
      if (cursor.pos === start) cursor.fail("expected a key");
      parts.push(cursor.text.slice(start, cursor.pos));
    }
    cursor.skipSpaces();
    if (cursor.peek() !== ".") return parts;
    cursor.pos++;
  }
}

function readScalar(cursor: Cursor): TomlValue {
  const start = cursor.pos;
  while (!cursor.done && BARE_SCALAR.test(cursor.peek())) cursor.pos++;
  // Offset date-times may contain one space between date and time ("1979-05-27 07:32:00Z").
  if (
    /^\d{4}-\d{2}-\d{2}$/.test(cursor.text.slice(start, cursor.pos)) &&
    /^ \d{2}:/.test(cursor.text.slice(cursor.pos))
  ) {
    cursor.pos++;
    while (!cursor.done && BARE_SCALAR.test(cursor.peek())) cursor.pos++;
  }
  const raw = cursor.text.slice(start, cursor.pos);
  if (raw === "") cursor.fail(`unexpected ${cursor.done ? "end of input" : JSON.stringify(cursor.peek())}`);
  if (raw === "true") return true;
  if (raw === "false") return false;
  const plain = raw.replaceAll("_", "");
  if (/^[+-]?(\d+|0x[0-9A-Fa-f]+|0o[0-7]+|0b[01]+)$/.test(plain)) return Number(plain.replace(/^\+/, ""));
  if (/^[+-]?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(plain)) return Number(plain);
  return raw;
}

function setPath(root: TomlTable, keys: string[], value: TomlValue, cursor: Cursor): void {
  let table = root;
  for (const key of keys.slice(0, -1)) {
    const next = table[key];
    if (next === undefined) {
      const created = newTable();
      table[key] = created;
      table = created;
    } else if (isTomlTable(next)) {
      table = next;
    } else {
      cursor.fail(`key ${JSON.stringify(key)} is not a table`);
    }
  }
  const last = keys[keys.length - 1];
  if (last === undefined) cursor.fail("empty key");
  table[last] = value;
}

function readValue(cursor: Cursor, depth: number): TomlValue {
  if (depth > MAX_DEPTH) cursor.fail("values nested too deeply");
  if (cursor.startsWith('"""')) return readBasicString(cursor, true);
  if (cursor.startsWith("'''")) return readLiteralString(cursor, true);
  const c = cursor.peek();
  if (c === '"') return readBasicString(cursor, false);
  if (c === "'") return readLiteralString(cursor, false);
  if (c === "[") {
    cursor.pos++;
    const items: TomlValue[] = [];
    for (;;) {
      cursor.skipBlank();
      if (cursor.peek() === "]") {
        cursor.pos++;
        return items;
      }
      items.push(readValue(cursor, depth + 1));
      cursor.skipBlank();
      if (cursor.peek() === ",") cursor.pos++;
      else if (cursor.peek() !== "]") cursor.fail("expected , or ] in array");
    }
  }
  if (c === "{") {
    cursor.pos++;
    const table = newTable();
    for (;;) {
      cursor.skipBlank();
      if (cursor.peek() === "}") {
        cursor.pos++;
        return table;
      }
      const keys = readKey(cursor);
      if (cursor.peek() !== "=") cursor.fail("expected = in inline table");
      cursor.pos++;
      cursor.skipSpaces();
      setPath(table, keys, readValue(cursor, depth + 1), cursor);
      cursor.skipBlank();
      if (cursor.peek() === ",") cursor.pos++;
      else if (cursor.peek() !== "}") cursor.fail("expected , or } in inline table");
    }
  }
  return readScalar(cursor);
}

/** Finds (creating as needed) the table a `[a.b]` or `[[a.b]]` header designates. */
function openTable(root: TomlTable, keys: string[], arrayOfTables: boolean, cursor: Cursor): TomlTable {
  let table = root;
  keys.forEach((key, index) => {
    const isLast = index === keys.length - 1;
    const existing = table[key];
    if (isLast && arrayOfTables) {
      const entry = newTable();
      if (existing === undefined) table[key] = [entry];
      else if (Array.isArray(existing)) existing.push(entry);
      else cursor.fail(`key ${JSON.stringify(key)} is not an array of tables`);
      table = entry;
      return;
    }
    if (existing === undefined) {
      const created = newTable();
      table[key] = created;
      table = created;
    } else if (isTomlTable(existing)) {
      table = existing;
    } else if (Array.isArray(existing) && isTomlTable(existing[existing.length - 1])) {
      // `[a.b]` after `[[a]]` extends the latest element of the array of tables.
      table = existing[existing.length - 1] as TomlTable;
    } else {
      cursor.fail(`key ${JSON.stringify(key)} is not a table`);
    }
  });
  return table;
}

export function parseToml(text: string): TomlTable {
  const cursor = new Cursor(text.startsWith("\uFEFF") ? text.slice(1) : text);
  const root = newTable();
  let current = root;
  for (;;) {
    cursor.skipBlank();
    if (cursor.done) return root;
    if (cursor.peek() === "[") {
      const arrayOfTables = cursor.startsWith("[[");
      cursor.pos += arrayOfTables ? 2 : 1;
      const keys = readKey(cursor);
      const close = arrayOfTables ? "]]" : "]";
      if (!cursor.startsWith(close)) cursor.fail(`expected ${close} after table name`);
      cursor.pos += close.length;
      current = openTable(root, keys, arrayOfTables, cursor);
    } else {
      const keys = readKey(cursor);
      if (cursor.peek() !== "=") cursor.fail("expected = after key");
      cursor.pos++;
      cursor.skipSpaces();
      setPath(current, keys, readValue(cursor, 0), cursor);
    }
    cursor.expectLineEnd();
  }
}

/** Walks a key path; answers undefined when any step is missing or not a table. */
export function tomlGet(root: TomlTable, keys: string[]): TomlValue | undefined {
  let value: TomlValue | undefined = root;
  for (const key of keys) {
    if (!isTomlTable(value)) return undefined;
    value = value[key];
  }
  return value;
}
