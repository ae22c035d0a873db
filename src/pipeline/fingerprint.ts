/**
 * A fingerprint of how a collection is mapped. Checkpoints record it: resuming with a
 * different mapping would mix rows converted two ways, so it is refused unless --restart.
 */
import { createHash } from 'node:crypto';
import type { MappedCollection, MappedColumn } from '../core/mapping.js';

function columnShape(c: MappedColumn): unknown {
  const s = c.source;
  return [
    c.column.field,
    c.column.column,
    c.column.kind,
    c.column.isList,
    s.kind,
    'path' in s ? s.path : null,
    'transform' in s && s.transform ? String(s.transform) : null,
    // toField and by only when set, so the fingerprints of `_id` references stay as they were.
    s.kind === 'reference' ? [s.targetCollection, s.onMissing, ...(s.toField !== undefined ? [`to:${s.toField}`] : []), ...(s.by !== undefined ? [`by:${s.by.join('.')}`] : [])] : null,
    c.options,
  ];
}

export function mappingFingerprint(collection: MappedCollection): string {
  const shape = {
    model: collection.model.name,
    table: collection.model.table,
    prepare: collection.prepare ? String(collection.prepare) : null,
    columns: collection.columns.map(columnShape),
    children: collection.children.map((c) => ({
      model: c.model.name,
      from: typeof c.from === 'function' ? String(c.from) : c.from,
      columns: c.columns.map(columnShape),
      // Only when set, so mappings without arrays of plain values keep their fingerprint.
      ...(c.valueColumn !== undefined ? { valueColumn: c.valueColumn } : {}),
    })),
    extra: collection.extraColumn?.field ?? null,
    consumed: collection.consumedPaths,
    ignored: [...collection.ignored].sort(),
  };
  return createHash('sha256').update(JSON.stringify(shape)).digest('hex').slice(0, 16);
}
