/**
 * A collection migrated before the collections it refers to: migrate looks references up in
 * the target, so every one of them is an orphan (NULL, kept in legacyExtra.$orphans) or, when
 * required, the document is rejected — and the plain incremental sync never writes them again.
 * Said before anything is written, for the referenced collections that have documents, are not
 * in this run and of which the migration has not registered a row yet.
 */
import type { Db } from 'mongodb';
import type pg from 'pg';
import { collectionColumns, type MigrationMapping } from '../../core/mapping.js';
import { hasRegisteredRows } from '../../state/registry.js';

export interface UnmigratedReference {
  /** The collection being migrated and its reference fields (labels) into `target`. */
  collection: string;
  fields: string[];
  target: string;
  /** Some of those fields reject their document when the reference is missing (required, or `onMissing: 'reject'`). */
  rejects: boolean;
  /** `target` has no document in MongoDB (a misspelt `references`, an empty collection): warned about, never refused. */
  empty?: boolean;
}

export async function referencesToUnmigrated(mapping: MigrationMapping, names: readonly string[], pool: pg.Pool, db: Db): Promise<UnmigratedReference[]> {
  const wanted = new Map<string, UnmigratedReference>();
  for (const name of names) {
    const collection = mapping.collections.get(name);
    if (!collection) continue;
    for (const col of collectionColumns(collection)) {
      const s = col.source;
      if (s.kind !== 'reference' || s.targetCollection === name || names.includes(s.targetCollection)) continue;
      const key = `${name}\u0000${s.targetCollection}`;
      const found = wanted.get(key) ?? { collection: name, fields: [], target: s.targetCollection, rejects: false };
      found.fields.push(col.label);
      // A deferred reference (a cycle's optional side) is written later, by the second pass.
      if (!s.deferred && (col.column.isRequired || s.onMissing === 'reject')) found.rejects = true;
      wanted.set(key, found);
    }
  }
  const out: UnmigratedReference[] = [];
  const checked = new Map<string, 'unmigrated' | 'empty' | 'ok'>();
  for (const ref of wanted.values()) {
    let state = checked.get(ref.target);
    if (state === undefined) {
      state = (await hasRegisteredRows(pool, ref.target)) ? 'ok' : (await db.collection(ref.target).findOne({}, { projection: { _id: 1 } })) !== null ? 'unmigrated' : 'empty';
      checked.set(ref.target, state);
    }
    if (state === 'unmigrated') out.push(ref);
    else if (state === 'empty') out.push({ ...ref, empty: true });
  }
  return out;
}

/** The warning (or refusal) line, with the fix. */
export function unmigratedReferenceLine(r: UnmigratedReference): string {
  if (r.empty) {
    return `${r.collection} refers to ${r.target} (${r.fields.join(', ')}), which has no document in MongoDB and no row migrated: each such reference would be an orphan${r.rejects ? ' (its document rejected, the reference being required)' : ''}; check the name in the configuration (references: '${r.target}')`;
  }
  const outcome = r.rejects ? 'every document holding such a reference would be rejected' : 'each such reference would be an orphan (NULL, kept in legacyExtra.$orphans)';
  return `${r.collection} refers to ${r.target} (${r.fields.join(', ')}), which is neither migrated yet nor in this run: ${outcome}; migrate ${r.target} first, or both together (hybrid-migrate migrate ${r.target} ${r.collection})`;
}
