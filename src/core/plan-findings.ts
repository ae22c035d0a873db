/**
 * What a plan finds in one collection, accumulated document by document with bounded memory:
 * rejects per field path and kind of reason, coercions per field and kind, references to
 * missing documents per field, unmapped source fields, each with a few sample `_id`s. Pure.
 */
import { EPOCH_SECONDS_SUSPECT } from './values/timestamp.js';

/** Sample `_id`s kept per finding. */
export const SAMPLE_IDS = 5;
/** Distinct entries kept per kind of finding (paths × reason kinds); beyond, counted in `overflow`. */
export const MAX_ENTRIES = 1000;

/** `items[3].unitPrice` → `items[].unitPrice`: findings are counted per field, not per array position. */
export function normalizePath(path: string): string {
  return path.replace(/\[\d+\]/g, '[]');
}

/** Why a document would be set aside, in families an operator acts on. */
export type RejectCategory =
  | 'required-missing'
  | 'enum'
  | 'too-long'
  | 'number-does-not-fit'
  | 'not-a-number'
  | 'invalid-date'
  | 'missing-reference'
  | 'duplicate'
  | 'invalid-text'
  | 'wrong-type'
  | 'other';

export function rejectCategory(reason: string): RejectCategory {
  if (/is missing, and .* is required/.test(reason)) return 'required-missing';
  if (/expected one of:/.test(reason)) return 'enum';
  if (/characters long, column allows/.test(reason)) return 'too-long';
  if (/which does not exist/.test(reason)) return 'missing-reference';
  if (/unique constraint|already exists|duplicate/i.test(reason)) return 'duplicate';
  if (/NUL character|lone surrogate/.test(reason)) return 'invalid-text';
  if (/out of range|decimal places|digits|precision|beyond ±2\^53|not exactly representable|not an integer|cannot be stored as an exact decimal|not a finite number/.test(reason)) return 'number-does-not-fit';
  if (/not a number|is not a number|empty string is not a number|blank string is not a number/.test(reason)) return 'not-a-number';
  if (/date|time of day|millisecond/i.test(reason)) return 'invalid-date';
  if (/expected /.test(reason)) return 'wrong-type';
  return 'other';
}

/**
 * The reason without its field path and the document's own values, so that rejects of one
 * field group together: `items[3].unitPrice "12.34567" has more than 4 decimal places` →
 * `<value> has more than 4 decimal places`.
 */
export function reasonKind(reason: string, path: string): string {
  let r = reason;
  if (path !== '' && r.startsWith(`${path} `)) r = r.slice(path.length + 1);
  return r
    .replace(/\[\d+\]/g, '[]')
    .replace(/"(?:[^"\\]|\\.)*"…?/g, '<value>')
    .replace(/\b[A-Z][A-Za-z0-9]*\([^)]*\)/g, '<value>')
    .replace(/\b[0-9a-f]{24}\b/g, '<id>')
    .replace(/\b(str|int|oid|double|decimal|date|bin):\S+/g, '<id>')
    .replace(/^-?\d[\d.e+-]*n? /, '<value> ')
    .replace(/offset \d+/g, 'offset N')
    .replace(/is \d+ characters long/g, 'is N characters long')
    .replace(/\d{4}-\d{2}-\d{2}T[\d:.]+Z/g, '<date>');
}

interface Entry {
  count: number;
  sampleIds: string[];
}

function bump<E extends Entry>(map: Map<string, E>, key: string, id: string, create: () => Omit<E, 'count' | 'sampleIds'>, overflow: { n: number }): void {
  let e = map.get(key);
  if (!e) {
    if (map.size >= MAX_ENTRIES) {
      overflow.n++;
      return;
    }
    e = { ...create(), count: 0, sampleIds: [] } as unknown as E;
    map.set(key, e);
  }
  e.count++;
  if (e.sampleIds.length < SAMPLE_IDS && !e.sampleIds.includes(id)) e.sampleIds.push(id);
}

export interface RejectFinding extends Entry {
  /** Field path, array positions as `[]` (`items[].unitPrice`; `workspaceId,phone` for a unique constraint). */
  path: string;
  category: RejectCategory;
  /** The reason without the document's values. */
  kind: string;
  /** One full reason, as migrate would record it. */
  example: string;
}

export interface CoercionFinding extends Entry {
  field: string;
  /** e.g. number-from-string, date-from-iso-string, default-applied; `looks-like-epoch-seconds` is a warning, not a conversion. */
  coercion: string;
  /** What the operator should know or do (epoch numbers that look like seconds). */
  note?: string;
}

export interface OrphanFinding extends Entry {
  /** `orders.clientId` (the migrate summary's key). */
  field: string;
  target: string;
  policy: string;
  /** Written in a second pass (foreign-key cycle): not counted by migrate's orphan report at write time. */
  deferred: boolean;
}

export interface UnmappedFinding extends Entry {
  /** Source path no column maps (`legacyCode`, `items[].sku`). */
  path: string;
  /** legacyExtra column (kept as JSON), `lost` (no extra column), or `ignored` (configuration). */
  destination: string;
}

export interface FindingsJson {
  rejected: { documents: number; byPath: RejectFinding[] };
  coercions: CoercionFinding[];
  orphans: OrphanFinding[];
  unmapped: UnmappedFinding[];
  /** Distinct entries dropped because a list hit MAX_ENTRIES (their counts are in the totals only). */
  overflow: number;
}

/** The finding for epoch numbers read as milliseconds that look like seconds. */
export function epochSecondsNote(c: { field: string; count: number }): string {
  return `looks like epoch seconds: ${c.count} value(s) of ${c.field} are read as epoch milliseconds (dates between 1966 and 1973); if they count seconds, set epoch: 'seconds' in the mapping of this field`;
}

/** Accumulates one collection's findings. */
export class PlanFindings {
  private readonly rejects = new Map<string, RejectFinding>();
  private readonly coercions = new Map<string, CoercionFinding>();
  private readonly orphans = new Map<string, OrphanFinding>();
  private readonly unmapped = new Map<string, UnmappedFinding>();
  private readonly overflow = { n: 0 };
  rejectedDocuments = 0;

  /** One rejected document (each document is rejected once, for its first problem, as migrate does). */
  reject(id: string, rawPath: string, reason: string): void {
    this.rejectedDocuments++;
    const path = normalizePath(rawPath);
    const kind = reasonKind(reason, rawPath);
    bump(this.rejects, `${path}\u0000${kind}`, id, () => ({ path, kind, category: rejectCategory(reason), example: reason }), this.overflow);
  }

  /** A `field:coercion` entry of a converted document. */
  coercion(id: string, entry: string): void {
    const at = entry.lastIndexOf(':');
    const field = at < 0 ? entry : entry.slice(0, at);
    const coercion = at < 0 ? '' : entry.slice(at + 1);
    bump(this.coercions, entry, id, () => ({ field, coercion }), this.overflow);
  }

  orphan(id: string, field: string, target: string, policy: string, deferred: boolean): void {
    bump(this.orphans, `${field}\u0000${deferred}`, id, () => ({ field, target, policy, deferred }), this.overflow);
  }

  unmappedField(id: string, path: string, destination: string): void {
    bump(this.unmapped, path, id, () => ({ path, destination }), this.overflow);
  }

  toJSON(): FindingsJson {
    const byCount = <T extends Entry>(m: Map<string, T>) => [...m.values()].sort((a, b) => b.count - a.count);
    return {
      rejected: { documents: this.rejectedDocuments, byPath: byCount(this.rejects) },
      coercions: byCount(this.coercions).map((c) => (c.coercion === EPOCH_SECONDS_SUSPECT ? { ...c, note: epochSecondsNote(c) } : c)),
      orphans: byCount(this.orphans),
      unmapped: byCount(this.unmapped),
      overflow: this.overflow.n,
    };
  }
}
