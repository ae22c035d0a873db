/**
 * Rows that would break a unique constraint, found while scanning: the converted values of
 * each constraint's columns are hashed and remembered with the first document's id, so the
 * second document with the same key is the one PostgreSQL would refuse (migrate writes in
 * `_id` order and the first row wins). Pure.
 *
 * Memory bound: one Map entry per distinct key (a 16-character hash and the first document's
 * source key, about 150 bytes with the Map's overhead); `cap` keys per collection (default
 * 2,000,000, about 300 MB) — beyond it new keys are no longer remembered and the result says
 * the duplicate count is a lower bound.
 */
import { createHash } from 'node:crypto';
import type { MappedCollection, MappedColumn } from './mapping.js';
import { writtenColumns, type ConvertedDocument } from './transform.js';

/** One unique constraint of the model or of a child model, with the positions of its values in the written row. */
export interface UniqueCheck {
  model: string;
  /** Prisma field names, in the constraint's order (migrate reports a refusal as `fields.join(',')`). */
  fields: string[];
  /** null: the collection's own rows; otherwise the child mapping index. */
  child: number | null;
  indexes: number[];
}

export function uniqueChecks(mapped: MappedCollection): UniqueCheck[] {
  const out: UniqueCheck[] = [];
  const add = (model: MappedCollection['model'], columns: readonly MappedColumn[], child: number | null) => {
    const written = writtenColumns(columns).map((c) => c.column.field);
    for (const fields of model.uniques) {
      const indexes = fields.map((f) => written.indexOf(f));
      // A column the migration does not write gets the database default: not checkable here.
      if (indexes.some((i) => i < 0)) continue;
      out.push({ model: model.name, fields: [...fields], child, indexes });
    }
  };
  add(mapped.model, mapped.columns, null);
  mapped.children.forEach((c, i) => add(c.model, c.columns, i));
  return out;
}

export interface UniqueViolation {
  model: string;
  fields: string;
  /** Source key of the document that holds the key first. */
  firstId: string;
}

export const DEFAULT_UNIQUE_CAP = 2_000_000;

export class UniqueTracker {
  private readonly seen = new Map<string, string>();
  /** True once the cap was reached: later duplicates may be missed. */
  incomplete = false;

  constructor(
    private readonly checks: readonly UniqueCheck[],
    private readonly cap = DEFAULT_UNIQUE_CAP,
  ) {}

  get keys(): number {
    return this.seen.size;
  }

  /**
   * The first constraint this document's rows would break, or undefined — in which case its
   * keys are remembered (a refused document writes nothing, so its keys are not).
   */
  check(doc: ConvertedDocument): UniqueViolation | undefined {
    if (this.checks.length === 0) return undefined;
    const keys: string[] = [];
    for (let ci = 0; ci < this.checks.length; ci++) {
      const check = this.checks[ci] as UniqueCheck;
      for (const row of doc.rows) {
        if (row.child !== check.child) continue;
        const values = check.indexes.map((i) => row.values[i] ?? null);
        // PostgreSQL unique constraints treat NULLs as distinct.
        if (values.some((v) => v === null)) continue;
        const key = hashKey(ci, values as string[]);
        const first = this.seen.get(key);
        if (first !== undefined) return { model: check.model, fields: check.fields.join(','), firstId: first };
        if (keys.includes(key)) return { model: check.model, fields: check.fields.join(','), firstId: doc.sourceKey };
        keys.push(key);
      }
    }
    for (const key of keys) {
      if (this.seen.size >= this.cap) {
        this.incomplete = true;
        break;
      }
      this.seen.set(key, doc.sourceKey);
    }
    return undefined;
  }
}

function hashKey(check: number, values: readonly string[]): string {
  // 96 bits of SHA-1: a collision among millions of keys has a probability around 2^-50.
  return createHash('sha1').update(`${check}\u0000${values.join('\u0000')}`).digest('base64').slice(0, 16);
}
