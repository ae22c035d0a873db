/**
 * Source fields that no column maps, per document, as paths: what `remainder` (the exact
 * rule migrate uses to fill the extra JSON column) leaves over. Pure.
 */
import type { MappedChild, MappedCollection } from './mapping.js';
import { remainder, valueAt } from './transform.js';
import { isObjectIdLike } from './values/conversion.js';
import type { SourceDocument } from '../config/define-config.js';

/** Paths of a remainder: descends only into objects that columns partly consume (`address.zip`), else the field itself. */
function remainderPaths(rest: Readonly<Record<string, unknown>> | undefined, consumed: readonly (readonly string[])[], prefix: string, depth: number, out: string[]): void {
  if (!rest) return;
  for (const key of Object.keys(rest)) {
    const value = rest[key];
    const path = prefix === '' ? key : `${prefix}.${key}`;
    const deeper = consumed.filter((p) => p[depth] === key && p.length > depth + 1);
    if (deeper.length > 0 && value !== null && typeof value === 'object' && !Array.isArray(value)) remainderPaths(value as Record<string, unknown>, deeper, path, depth + 1, out);
    else out.push(path);
  }
}

/** Unmapped paths of a prepared document: its own fields and its child arrays' element fields (`items[].sku`). */
export function unmappedPaths(mapped: MappedCollection, prepared: SourceDocument): { path: string; destination: string }[] {
  const out: { path: string; destination: string }[] = [];
  const own: string[] = [];
  remainderPaths(remainder(prepared, mapped.consumedPaths, mapped.ignored), mapped.consumedPaths, '', 0, own);
  const dest = mapped.extraColumn ? mapped.extraColumn.field : 'lost';
  for (const p of own) out.push({ path: p, destination: dest });
  for (const key of Object.keys(prepared)) if (mapped.ignored.has(key) && prepared[key] !== undefined) out.push({ path: key, destination: 'ignored' });
  for (const p of mapped.ignored) if (p.includes('.') && valueAt(prepared, p.split('.')) !== undefined) out.push({ path: p, destination: 'ignored' });
  for (const child of mapped.children) out.push(...childUnmapped(child, prepared));
  return out;
}

function childUnmapped(child: MappedChild, prepared: SourceDocument): { path: string; destination: string }[] {
  let value: unknown;
  try {
    value = typeof child.from === 'function' ? child.from(prepared) : valueAt(prepared, child.from);
  } catch {
    // Pure (a synchronous `from` function of the configuration): the same throw rejects the document in
    // convertDocument, which reports it; this plan finding only lists unmapped paths, and has none to list.
    return [];
  }
  if (!Array.isArray(value)) return [];
  const dest = child.extraColumn ? child.extraColumn.field : 'lost';
  const seen = new Set<string>();
  for (const element of value) {
    // Only records have fields of their own: an ObjectId, a date or another BSON value is one value
    // (an ObjectId even has enumerable keys, `i0`…`i3`, that are no source field).
    if (!isRecord(element)) continue;
    const paths: string[] = [];
    remainderPaths(remainder(element as SourceDocument, child.consumedPaths, new Set()), child.consumedPaths, '', 0, paths);
    for (const p of paths) seen.add(`${child.label}[].${p}`);
  }
  // Counted once per document, like the top-level fields.
  return [...seen].map((path) => ({ path, destination: dest }));
}

function isRecord(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date) && (v as { _bsontype?: unknown })._bsontype === undefined && !isObjectIdLike(v);
}
