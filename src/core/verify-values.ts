/**
 * Type-aware equality of one converted value (the COPY text the migration writes) and the
 * value PostgreSQL gives back, per column kind. Pure, no I/O.
 *
 * The two sides are brought to one canonical text each and compared as strings:
 * - decimal, int, bigint: exact decimal digits ('12.5' = '12.5000', never through a float);
 * - float: the double both texts denote (-0 kept distinct from 0);
 * - timestamp: epoch milliseconds (the target side is read as epoch ms by `targetSelect`);
 * - json: parsed, object keys sorted, numbers as exact decimals, strings re-escaped;
 * - uuid, bytes: lowercase; boolean: t/f; text and enums: exact;
 * - lists: element by element with the element kind's rule (the expected side is a
 *   PostgreSQL array literal, the target side is read back as a JSON array).
 */
import type { ColumnKind, SchemaColumn } from '../schema/prisma-schema.js';
import { formatDecimal, parseDecimalLiteral } from './values/decimal-text.js';

/** Canonical decimal text ('-0012.50e1' → '-125'), or the input unchanged when it is not a decimal literal. */
export function canonicalDecimal(text: string): string {
  const r = parseDecimalLiteral(text.trim());
  return typeof r === 'object' ? formatDecimal(r.parts) : text;
}

const TS_RE = /^(-?\d{4,})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * Epoch milliseconds of an instant as text: ISO-8601 ('2020-01-01T00:00:00.123Z'), PostgreSQL's
 * output ('2020-01-01 00:00:00.123+00'), or epoch digits. Sub-millisecond digits are kept
 * as a decimal fraction so that they are not rounded away. Undefined when unreadable.
 */
export function instantMillis(text: string): string | undefined {
  const s = text.trim();
  if (/^-?\d+(\.\d+)?$/.test(s)) return canonicalDecimal(s);
  const m = TS_RE.exec(s);
  if (!m) return undefined;
  const [, y, mo, d, h = '0', mi = '0', sec = '0', frac = '', zone = 'Z'] = m;
  // Date.UTC reads years 0-99 as 1900-1999: shift by 400 years (exactly 146097 days in the Gregorian calendar).
  let ms = Date.UTC(Number(y) + 400, Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec)) - 146_097 * 86_400_000;
  if (Number.isNaN(ms)) return undefined;
  if (zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    ms -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || '0')) * 60_000;
  }
  const fracMs = `${frac}000`.slice(0, 3);
  const rest = frac.length > 3 ? frac.slice(3) : '';
  return canonicalDecimal(`${ms + Number(fracMs)}${rest === '' ? '' : `.${rest}`}`);
}

/** JSON text → canonical JSON text: keys sorted, numbers as exact decimals, no whitespace. Undefined when not JSON. */
export function canonicalJson(text: string): string | undefined {
  try {
    const p = new JsonCanon(text);
    const out = p.value();
    p.ws();
    return p.i === text.length ? out : undefined;
  } catch {
    // Pure parse of a string in hand (no I/O): any failure means "not JSON", and the caller compares the text as is.
    return undefined;
  }
}

class JsonCanon {
  i = 0;
  constructor(private readonly s: string) {}

  ws(): void {
    while (this.i < this.s.length && ' \t\n\r'.includes(this.s.charAt(this.i))) this.i++;
  }

  value(): string {
    this.ws();
    const c = this.s.charAt(this.i);
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"') return JSON.stringify(this.string());
    for (const lit of ['true', 'false', 'null']) {
      if (this.s.startsWith(lit, this.i)) {
        this.i += lit.length;
        return lit;
      }
    }
    const m = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(this.s.slice(this.i, this.i + 400));
    if (!m) throw new Error('bad json');
    this.i += m[0].length;
    return canonicalDecimal(m[0]);
  }

  string(): string {
    const start = this.i;
    this.i++;
    while (this.i < this.s.length) {
      const c = this.s.charAt(this.i);
      if (c === '\\') this.i += 2;
      else if (c === '"') break;
      else this.i++;
    }
    this.i++;
    return JSON.parse(this.s.slice(start, this.i)) as string;
  }

  object(): string {
    this.i++;
    const entries = new Map<string, string>();
    this.ws();
    if (this.s.charAt(this.i) === '}') {
      this.i++;
      return '{}';
    }
    for (;;) {
      this.ws();
      const key = this.string();
      this.ws();
      if (this.s.charAt(this.i++) !== ':') throw new Error('bad json');
      entries.set(key, this.value()); // jsonb keeps the last of duplicate keys, as does this
      this.ws();
      const c = this.s.charAt(this.i++);
      if (c === '}') break;
      if (c !== ',') throw new Error('bad json');
    }
    const keys = [...entries.keys()].sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${entries.get(k) as string}`).join(',')}}`;
  }

  array(): string {
    this.i++;
    const items: string[] = [];
    this.ws();
    if (this.s.charAt(this.i) === ']') {
      this.i++;
      return '[]';
    }
    for (;;) {
      items.push(this.value());
      this.ws();
      const c = this.s.charAt(this.i++);
      if (c === ']') break;
      if (c !== ',') throw new Error('bad json');
    }
    return `[${items.join(',')}]`;
  }
}

/**
 * Elements of a one-dimensional PostgreSQL array literal as written by the conversion
 * (`{"a","b",NULL}`, also unquoted elements); undefined when it is not one.
 */
export function parseArrayLiteral(text: string): (string | null)[] | undefined {
  const s = text.trim();
  if (!s.startsWith('{') || !s.endsWith('}')) return undefined;
  const out: (string | null)[] = [];
  let i = 1;
  const end = s.length - 1;
  if (i === end) return out;
  while (i <= end) {
    if (s.charAt(i) === '"') {
      let v = '';
      i++;
      while (i < end && s.charAt(i) !== '"') {
        if (s.charAt(i) === '\\') i++;
        v += s.charAt(i);
        i++;
      }
      out.push(v);
      i++; // closing quote
    } else {
      let j = i;
      while (j < end && s.charAt(j) !== ',') j++;
      const raw = s.slice(i, j).trim();
      out.push(raw.toUpperCase() === 'NULL' ? null : raw);
      i = j;
    }
    if (i < end && s.charAt(i) !== ',') return undefined;
    i++;
  }
  return out;
}

/** The canonical text of one scalar value of `kind`, from either side. */
export function canonicalScalar(kind: ColumnKind, text: string): string {
  switch (kind.type) {
    case 'decimal':
    case 'int':
    case 'bigint':
      return canonicalDecimal(text);
    case 'float': {
      const n = Number(text.trim());
      if (Number.isNaN(n) && text.trim() !== 'NaN') return text;
      return Object.is(n, -0) ? '-0' : String(n);
    }
    case 'timestamp':
      return instantMillis(text) ?? text;
    case 'json':
      return canonicalJson(text) ?? text;
    case 'uuid':
    case 'bytes':
      return text.toLowerCase();
    case 'boolean': {
      const t = text.trim().toLowerCase();
      return t === 't' || t === 'true' ? 't' : t === 'f' || t === 'false' ? 'f' : text;
    }
    case 'text':
    case 'enum':
      return text;
  }
}

/**
 * Canonical text of a column value. `side` says where it comes from: the conversion writes
 * list columns as array literals, while `targetSelect` reads them back as JSON arrays.
 */
export function canonicalValue(column: Pick<SchemaColumn, 'kind' | 'isList'>, text: string | null, side: 'source' | 'target'): string | null {
  if (text === null) return null;
  if (!column.isList) return canonicalScalar(column.kind, text);
  let items: (string | null)[] | undefined;
  if (side === 'source') items = parseArrayLiteral(text);
  else {
    // Re-read from the canonical JSON text so that numbers stay exact.
    const canon = canonicalJson(text);
    if (canon !== undefined && canon.startsWith('[')) {
      items = splitTopLevel(canon.slice(1, -1)).map((v) => (v === 'null' ? null : v.startsWith('"') ? (JSON.parse(v) as string) : v));
    }
  }
  if (!items) return text;
  return JSON.stringify(items.map((v) => (v === null ? null : canonicalScalar(column.kind, v))));
}

function splitTopLevel(s: string): string[] {
  if (s === '') return [];
  const out: string[] = [];
  let depth = 0;
  let inString = false;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charAt(i);
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
    else if (c === ',' && depth === 0) {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  out.push(s.slice(start));
  return out;
}

/** Whether the converted value and the stored value are the same value for this column. */
export function sameValue(column: Pick<SchemaColumn, 'kind' | 'isList'>, source: string | null, target: string | null): boolean {
  return canonicalValue(column, source, 'source') === canonicalValue(column, target, 'target');
}

/** A stored value as people read it: instants read as epoch milliseconds are shown in ISO-8601 again. */
export function displayTarget(column: Pick<SchemaColumn, 'kind' | 'isList'>, text: string | null): string | null {
  if (text === null || column.isList || column.kind.type !== 'timestamp') return text;
  const ms = Number(text);
  if (!Number.isSafeInteger(ms)) return text;
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? text : d.toISOString();
}
