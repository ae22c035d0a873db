/**
 * One source value → the text PostgreSQL receives for one column (COPY text form, before
 * escaping), by the column's kind. The per-kind rules live in ./values; this module only
 * dispatches and handles lists and absent values.
 */
import type { SchemaColumn } from '../schema/prisma-schema.js';
import type { ValueOptions } from './mapping.js';
import {
  toBigInt,
  toBoolean,
  toDecimal,
  toEnum,
  toFloat8,
  toInt32,
  toJson,
  toText,
  toTimestamp,
  type Conversion,
} from './values/index.js';
import { isObjectIdLike } from './values/conversion.js';
import { objectIdToUuid } from './ids.js';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Converts a present (non-null) scalar value for a column. */
export function convertScalar(column: SchemaColumn, value: unknown, options: ValueOptions): Conversion<string> {
  const kind = column.kind;
  switch (kind.type) {
    case 'text':
      return toText(value, { maxLength: kind.maxLength, nul: options.nul });
    case 'int':
      return toInt32(value);
    case 'bigint':
      return toBigInt(value);
    case 'float':
      return toFloat8(value);
    case 'decimal':
      return toDecimal(value, { precision: kind.precision, scale: kind.scale });
    case 'boolean': {
      const r = toBoolean(value);
      return r.ok ? { ...r, value: r.value ? 't' : 'f' } : r;
    }
    case 'timestamp':
      return toTimestamp(value, { assumeTimeZone: options.assumeTimeZone, epoch: options.epoch });
    case 'json':
      return toJson(value);
    case 'enum':
      return toEnum(value, kind.values);
    case 'uuid':
      if (isObjectIdLike(value)) return { ok: true, value: objectIdToUuid(value), coercion: 'uuid-from-objectid' };
      if (typeof value === 'string' && UUID_RE.test(value)) return { ok: true, value: value.toLowerCase() };
      return { ok: false, reason: 'is not a UUID' };
    case 'bytes': {
      const bytes = bytesOf(value);
      return bytes ? { ok: true, value: `\\x${Buffer.from(bytes).toString('hex')}` } : { ok: false, reason: 'is not binary data' };
    }
  }
}

function bytesOf(value: unknown): Uint8Array | undefined {
  if (value instanceof Uint8Array) return value;
  // A bson Binary's `buffer` may be longer than its data: `position` is the data's length.
  const binary = value as { _bsontype?: string; buffer?: unknown; position?: unknown } | null;
  if (binary?._bsontype === 'Binary' && binary.buffer instanceof Uint8Array) {
    return typeof binary.position === 'number' ? binary.buffer.subarray(0, binary.position) : binary.buffer;
  }
  return undefined;
}

const NULL_ELEMENT_FIX = 'Prisma lists cannot hold null elements (its client fails on such a row); drop them with a transform, e.g. (v) => Array.isArray(v) ? v.filter((x) => x != null) : v';

/** Converts a value for a list column (`String[]`): a PostgreSQL array literal, without null elements (Prisma cannot read them). */
export function convertList(column: SchemaColumn, value: unknown, options: ValueOptions): Conversion<string> {
  let coercion: string | undefined;
  let items: readonly unknown[];
  if (Array.isArray(value)) items = value;
  else {
    items = [value];
    coercion = 'array-from-scalar';
  }
  const parts: string[] = [];
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    // PostgreSQL would store it, but Prisma's client fails on a list holding NULL ("expected
    // non-nullable type", prisma/prisma#26335): the application could no longer read the row.
    if (item === null || item === undefined) return { ok: false, reason: `element [${i}] is null: ${NULL_ELEMENT_FIX}` };
    const r = convertScalar(column, item, options);
    if (!r.ok) return { ok: false, reason: `element [${i}] ${r.reason}` };
    if (r.coercion) coercion = coercion ? `${coercion},${r.coercion}` : r.coercion;
    parts.push(`"${r.value.replace(/[\\"]/g, (c: string) => `\\${c}`)}"`);
  }
  const literal = `{${parts.join(',')}}`;
  return coercion ? { ok: true, value: literal, coercion } : { ok: true, value: literal };
}
