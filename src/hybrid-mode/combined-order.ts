/**
 * The order of a combined read and its page cursor. Records are ordered by (sort value, id),
 * where the id of a MongoDB document is its deterministic UUID: a record keeps its place
 * whether it is still in MongoDB or already migrated, so pages stay consistent while the
 * migration runs. Pure, no I/O.
 *
 * Sort values compare as MongoDB compares them for the types a sort key holds:
 * null/missing < numbers < strings < dates.
 */
import { objectIdToUuid } from '../core/ids.js';

/** A sort value reduced to what ordering needs; JSON-safe (it travels in the cursor). */
export type SortValue = null | { t: 'n'; v: number } | { t: 's'; v: string } | { t: 'd'; v: number };

/** A record's position in the combined order. */
export interface SortKey {
  value: SortValue;
  /** Lowercase canonical UUID text: comparing the text compares the bytes, as PostgreSQL does. */
  id: string;
}

export type SortDirection = 'asc' | 'desc';

const TYPE_RANK = { n: 1, s: 2, d: 3 } as const;

export function sortValueOf(v: unknown): SortValue {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : { t: 'd', v: v.getTime() };
  if (typeof v === 'number') return Number.isFinite(v) ? { t: 'n', v } : null;
  if (typeof v === 'bigint') return { t: 'n', v: Number(v) };
  if (typeof v === 'string') return { t: 's', v };
  // Decimal128, Prisma Decimal, Long…: their text form is their value.
  const n = Number(String(v));
  return Number.isFinite(n) ? { t: 'n', v: n } : { t: 's', v: String(v) };
}

/** The value to put in a query: a Date for dates. */
export function sortValueForQuery(v: SortValue): Date | number | string | null {
  if (v === null) return null;
  return v.t === 'd' ? new Date(v.v) : v.v;
}

function compareValues(a: SortValue, b: SortValue): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? -1 : 1;
  if (a.t !== b.t) return TYPE_RANK[a.t] - TYPE_RANK[b.t];
  return a.v < b.v ? -1 : a.v > b.v ? 1 : 0;
}

/** Ascending comparison of keys: value, then id. */
export function compareKeys(a: SortKey, b: SortKey): number {
  return compareValues(a.value, b.value) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Negative when `a` comes before `b` in the requested direction. */
export function orderOf(direction: SortDirection): (a: SortKey, b: SortKey) => number {
  return direction === 'asc' ? compareKeys : (a, b) => compareKeys(b, a);
}

/** A cursor was not produced by this library (or by another sort). */
export class InvalidCursorError extends Error {
  constructor(message = 'invalid pagination cursor') {
    super(message);
    this.name = 'InvalidCursorError';
  }
}

interface CursorBody {
  k: SortValue;
  i: string;
  /** The sort it was made for: a cursor of another sort is refused rather than misread. */
  s: string;
}

export function encodeCursor(key: SortKey, sortSignature: string): string {
  const body: CursorBody = { k: key.value, i: key.id, s: sortSignature };
  return Buffer.from(JSON.stringify(body), 'utf8').toString('base64url');
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function decodeCursor(cursor: string, sortSignature: string): SortKey {
  let body: CursorBody;
  try {
    body = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as CursorBody;
  } catch (e) {
    // Pure decode of the caller's string (base64url, then JSON): any failure means a bad cursor; the parse error rides along.
    throw Object.assign(new InvalidCursorError(), { cause: e });
  }
  if (!body || typeof body.i !== 'string' || !UUID.test(body.i)) throw new InvalidCursorError();
  if (body.s !== sortSignature) throw new InvalidCursorError('pagination cursor made for another sort order');
  const k = body.k;
  const validValue =
    k === null ||
    (typeof k === 'object' && ((k.t === 's' && typeof k.v === 'string') || ((k.t === 'n' || k.t === 'd') && typeof k.v === 'number' && Number.isFinite(k.v))));
  if (!validValue) throw new InvalidCursorError();
  return { value: k, id: body.i };
}

const OID_SPACE = 1n << 96n;

function oidHex(n: bigint): string {
  return n.toString(16).padStart(24, '0');
}

/**
 * The smallest ObjectId (as a 96-bit integer) whose UUID is ≥ `uuid` (or > when `strict`);
 * 2^96 when there is none. objectIdToUuid is strictly increasing, so a binary search over
 * the ObjectId space turns any UUID bound (the application's v4/v7 ids included) into an
 * `_id` bound MongoDB can use with its index.
 */
export function objectIdBound(uuid: string, strict: boolean): bigint {
  let lo = 0n;
  let hi = OID_SPACE;
  while (lo < hi) {
    const mid = (lo + hi) >> 1n;
    const u = objectIdToUuid(oidHex(mid));
    if (strict ? u > uuid : u >= uuid) hi = mid;
    else lo = mid + 1n;
  }
  return lo;
}

/** The bound as 24 hex digits, or null when it is 2^96 (beyond every ObjectId). */
export function objectIdBoundHex(uuid: string, strict: boolean): string | null {
  const b = objectIdBound(uuid, strict);
  return b >= OID_SPACE ? null : oidHex(b);
}
