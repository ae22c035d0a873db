/**
 * Where each Prisma field of a model gets its value, said in words, with how often the
 * source actually has it (from the scan). Pure.
 */
import type { MappedCollection, MappedColumn } from './mapping.js';

/** One Prisma field in the plan. */
export interface FieldPlan {
  field: string;
  column: string;
  /** Column type as the schema declares it (`text`, `decimal(19,4)`, `enum OrderStatus`, `uuid[]`…). */
  type: string;
  required: boolean;
  /** Where the value comes from, or why there is none. */
  source: string;
  /** Source documents (or elements) with a value / with null / without the field; absent for computed fields. */
  present?: number;
  nulls?: number;
  missing?: number;
  /** What happens when the value is absent, when that matters. */
  note?: string;
}

export function describeSource(c: MappedColumn): string {
  const s = c.source;
  switch (s.kind) {
    case 'id':
      return '_id → deterministic UUID';
    case 'value':
      return `${s.path.join('.')}${s.transform ? ' (transform)' : ''}`;
    case 'reference':
      return `${s.path.join('.')} → ${s.targetCollection}${s.by ? ` by ${s.by.join('.')}` : ''}${s.toField ? `.${s.toField} (value written as is)` : ''}${s.deferred ? ' (second pass: foreign-key cycle)' : ''}, missing: ${s.onMissing}`;
    case 'extra':
      return 'every unmapped source field (JSON)';
    case 'parent':
      return 'parent id';
    case 'position':
      return 'array position';
    case 'none':
      return c.column.hasDefault ? 'no source (configured false): database default' : 'no source (configured false): NULL';
  }
}

export function columnType(c: MappedColumn): string {
  const k = c.column.kind;
  let t: string;
  switch (k.type) {
    case 'text':
      t = k.maxLength === undefined ? 'text' : `varchar(${k.maxLength})`;
      break;
    case 'decimal':
      t = `decimal(${k.precision},${k.scale})`;
      break;
    case 'enum':
      t = `enum ${k.enumName}`;
      break;
    default:
      t = k.type;
  }
  return c.column.isList ? `${t}[]` : t;
}

/** What an absent value becomes, for a required column (mirrors transform.ts's nullFor, in words). */
function absentNote(c: MappedColumn): string | undefined {
  const col = c.column;
  if (!col.isRequired) return undefined;
  if (col.isList) return 'absent → empty list';
  if (col.defaultLiteral !== undefined) return `absent → default ${String(col.defaultLiteral)} (coercion default-applied)`;
  if (col.kind.type === 'timestamp' && col.defaultFunction === 'now') return "absent → the ObjectId's time (coercion date-from-objectid-time); other ids are rejected";
  if (c.source.kind === 'reference') return 'absent or dangling → document rejected';
  return 'absent → document rejected';
}

export function describeFields(collection: MappedCollection, presence: readonly { field: string; present: number; nulls: number; missing: number }[]): { fields: FieldPlan[]; children: { model: string; from: string; fields: FieldPlan[] }[] } {
  const byField = new Map(presence.map((p) => [p.field, p]));
  const one = (c: MappedColumn, prefix: string): FieldPlan => {
    const p = byField.get(`${prefix}${c.column.field}`);
    const out: FieldPlan = { field: c.column.field, column: c.column.column, type: columnType(c), required: c.column.isRequired, source: describeSource(c) };
    if (p) {
      out.present = p.present;
      out.nulls = p.nulls;
      out.missing = p.missing;
      if (p.present === 0 && p.nulls + p.missing > 0) out.note = `the source never has a value here${c.column.isRequired ? '' : ': always NULL'}`;
    }
    const absent = p && p.nulls + p.missing > 0 ? absentNote(c) : undefined;
    if (absent) out.note = out.note ? `${out.note}; ${absent}` : absent;
    return out;
  };
  return {
    fields: collection.columns.map((c) => one(c, '')),
    children: collection.children.map((ch) => ({ model: ch.model.name, from: ch.label, fields: ch.columns.map((c) => one(c, `${ch.label}[].`)) })),
  };
}
