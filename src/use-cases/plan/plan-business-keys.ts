/**
 * References by a business key (`by`) need the key to be unique in the WHOLE referenced
 * collection, not only among the values referenced today: a document inserted tomorrow with
 * a referenced e-mail would silently make older references ambiguous. Plan reads the key of
 * every referenced document once (projection on the field) and reports the values several
 * documents hold, with samples. Unless the reference says `duplicateKeys: 'unresolved'`,
 * that is a configuration error.
 */
import type { Db, Document } from 'mongodb';
import { collectionColumns, type MappedCollection, type MappedColumn, type MigrationMapping } from '../../core/mapping.js';
import { sourceIdKey } from '../../core/ids.js';
import { valueAt } from '../../core/transform.js';
import { SAMPLE_IDS } from '../../core/plan-findings.js';

export interface BusinessKeyFinding {
  /** The referencing fields (`comments.userId`), all using this key. */
  fields: string[];
  /** The referenced collection and its key field. */
  target: string;
  by: string;
  /** Distinct values held by more than one document. */
  duplicateValues: number;
  /** Documents holding one of those values. */
  documents: number;
  /** A few values with the `_id`s holding them. */
  samples: { value: string; ids: string[] }[];
  /** 'error': a configuration error (no policy chosen); 'unresolved': accepted by `duplicateKeys: 'unresolved'`. */
  policy: 'error' | 'unresolved';
  /** False when the collection has more distinct keys than plan keeps in memory: the finding is a lower bound. */
  complete: boolean;
}

/** Most distinct keys remembered per check (about 100 bytes each). */
const MAX_KEYS = 2_000_000;

/** Every `by` key of the requested collections' references (main and child columns), checked once per (target, field). */
export async function checkBusinessKeys(db: Db, mapping: MigrationMapping, names: readonly string[], signal?: AbortSignal): Promise<BusinessKeyFinding[]> {
  const checks = new Map<string, { target: string; by: readonly string[]; fields: string[]; accepted: boolean }>();
  for (const name of names) {
    const c = mapping.collections.get(name) as MappedCollection;
    for (const col of referenceColumns(c)) {
      const s = col.source;
      if (s.kind !== 'reference' || s.by === undefined) continue;
      const key = `${s.targetCollection}\u0000${s.by.join('.')}`;
      let check = checks.get(key);
      if (!check) checks.set(key, (check = { target: s.targetCollection, by: s.by, fields: [], accepted: true }));
      check.fields.push(`${name}.${col.label}`);
      if (s.duplicateKeys !== 'unresolved') check.accepted = false;
    }
  }
  const out: BusinessKeyFinding[] = [];
  for (const check of checks.values()) {
    if (signal?.aborted) break;
    const finding = await duplicatesOf(db, check.target, check.by);
    if (finding.duplicateValues === 0) continue;
    out.push({ fields: check.fields, target: check.target, by: check.by.join('.'), ...finding, policy: check.accepted ? 'unresolved' : 'error' });
  }
  return out;
}

function referenceColumns(c: MappedCollection): MappedColumn[] {
  // Child columns' labels already name their array (`accounts[].accountId`).
  return collectionColumns(c);
}

/** One read of the key field of every document; the values several documents hold. */
async function duplicatesOf(db: Db, collection: string, by: readonly string[]): Promise<Pick<BusinessKeyFinding, 'duplicateValues' | 'documents' | 'samples' | 'complete'>> {
  const first = new Map<string, string>();
  const dupes = new Map<string, { value: string; ids: string[]; count: number }>();
  let complete = true;
  const cursor = db.collection(collection).find({}, { projection: { _id: 1, [by.join('.')]: 1 }, batchSize: 5000, useBigInt64: true, promoteBuffers: false });
  try {
    for await (const d of cursor as AsyncIterable<Document>) {
      const v = valueAt(d, by);
      // Like the lookup at migrate time: absent, null and array values are no key.
      if (v === undefined || v === null || Array.isArray(v)) continue;
      const key = sourceIdKey(v);
      const id = sourceIdKey(d._id);
      const held = first.get(key);
      if (held === undefined) {
        if (first.size < MAX_KEYS) first.set(key, id);
        else complete = false;
        continue;
      }
      let dup = dupes.get(key);
      if (!dup) dupes.set(key, (dup = { value: display(v), ids: [held], count: 1 }));
      dup.count++;
      if (dup.ids.length < SAMPLE_IDS) dup.ids.push(id);
    }
  } finally {
    await cursor.close().catch(() => undefined);
  }
  const all = [...dupes.values()];
  return {
    duplicateValues: all.length,
    documents: all.reduce((n, d) => n + d.count, 0),
    samples: all.slice(0, SAMPLE_IDS).map(({ value, ids }) => ({ value, ids })),
    complete,
  };
}

/** A key as the operator reads it, never longer than 80 characters. */
function display(v: unknown): string {
  const text = typeof v === 'string' ? JSON.stringify(v) : v instanceof Date ? v.toISOString() : String(v);
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}
