/**
 * Verification of one batch of source documents: registry state of each (migrated,
 * rejected, not yet migrated), then every migrated one converted again with the migration's
 * own rules and compared with the rows PostgreSQL holds for it.
 */
import type { Document } from 'mongodb';
import type pg from 'pg';
import type { MappedCollection } from '../../core/mapping.js';
import { idToUuid, sourceIdKey } from '../../core/ids.js';
import { convertDocument, settleReferences } from '../../core/transform.js';
import { diffDocument, ROW_PRESENT } from '../../core/verify-diff.js';
import type { ReferenceIndex } from '../../pipeline/reference-index.js';
import type { CollectionVerification, VerifyMismatch } from './verify-result.js';
import { foldPositions } from './verify-result.js';
import { classifyKeys, readTargetRows, type KeyClassification } from './verify-target.js';

/** Counters and samples of one collection, shared by its parallel batches. */
export class CollectionTally {
  source = 0;
  migrated = 0;
  rejected = 0;
  notMigrated = 0;
  mismatched = 0;
  checked = 0;
  readonly fields = new Map<string, number>();
  readonly mismatches: VerifyMismatch[] = [];
  readonly missingRows: CollectionVerification['missingRows'] = [];

  constructor(readonly maxSamples: number) {}

  addMismatches(list: readonly VerifyMismatch[]): void {
    this.mismatched++;
    for (const m of list) {
      const f = foldPositions(m.field);
      this.fields.set(f, (this.fields.get(f) ?? 0) + 1);
      if (this.mismatches.length < this.maxSamples) this.mismatches.push(m);
    }
  }
}

/** The `_id` as people read it: an ObjectId's hex, otherwise the registry key. */
export function displayId(sourceKey: string): string {
  return sourceKey.startsWith('oid:') ? sourceKey.slice(4) : sourceKey;
}

export interface BatchContext {
  pool: pg.Pool;
  mapped: MappedCollection;
  references: ReferenceIndex;
  tally: CollectionTally;
}

/**
 * Classifies `docs` (counts) and, when `compare` is set, compares the migrated ones with
 * their rows. `classify: false` (sample mode's second pass) only compares.
 */
export async function verifyBatch(ctx: BatchContext, docs: readonly Document[], opts: { classify: boolean; compare: boolean }): Promise<KeyClassification> {
  const { mapped, tally } = ctx;
  const keys = docs.map((d) => sourceIdKey(d._id));
  const state = await classifyKeys(ctx.pool, mapped.name, keys);
  const toCompare: { doc: Document; key: string; uuid: string }[] = [];
  docs.forEach((doc, i) => {
    const key = keys[i] as string;
    const uuid = state.migrated.get(key);
    if (opts.classify) {
      tally.source++;
      if (uuid !== undefined) tally.migrated++;
      else if (state.rejected.has(key)) tally.rejected++;
      else {
        tally.notMigrated++;
        if (tally.missingRows.length < tally.maxSamples) tally.missingRows.push({ sourceKey: key, sourceId: displayId(key), uuid: safeUuid(mapped.name, doc._id), reason: 'not-migrated' });
      }
    }
    if (opts.compare && uuid !== undefined) toCompare.push({ doc, key, uuid });
  });
  if (toCompare.length > 0) await compareDocuments(ctx, toCompare);
  return state;
}

async function compareDocuments(ctx: BatchContext, items: readonly { doc: Document; key: string; uuid: string }[]): Promise<void> {
  const { mapped, tally } = ctx;
  const converted = items.map((it) => ({ ...it, result: convertDocument(mapped, it.doc) }));
  await ctx.references.load(converted.flatMap((c) => (c.result.ok ? [c.result.doc] : [])));
  const rows = await readTargetRows(ctx.pool, mapped, items.map((it) => it.uuid));
  for (const c of converted) {
    const target = rows.get(c.uuid);
    // A registered row that is gone is counted by the registry scan (verify.ts), in full and sample mode alike.
    if (!target) continue;
    tally.checked++;
    const base = { collection: mapped.name, sourceKey: c.key, sourceId: displayId(c.key), uuid: c.uuid };
    const r = c.result;
    if (!r.ok) {
      // The document converted when it was migrated; it does not any more (changed in MongoDB since).
      tally.addMismatches([{ ...base, field: r.path || '(document)', column: mapped.model.table, source: `(rejected: ${r.reason})`, target: ROW_PRESENT }]);
      continue;
    }
    // The second pass of a foreign-key cycle has completed these references by now: settle them like any other.
    const settled = settleReferences(
      r.doc,
      (collection, uuid) => ctx.references.exists(collection, uuid),
      () => false,
      () => undefined,
    );
    if (!settled.ok) {
      tally.addMismatches([{ ...base, field: settled.path || '(document)', column: mapped.model.table, source: `(rejected: ${settled.reason})`, target: ROW_PRESENT }]);
      continue;
    }
    const diffs = diffDocument(mapped, r.doc, target);
    if (r.doc.uuid !== c.uuid) diffs.unshift({ field: '(id)', column: mapped.model.table, source: r.doc.uuid, target: c.uuid });
    if (diffs.length > 0) tally.addMismatches(diffs.map((d) => ({ ...base, ...d })));
  }
}

function safeUuid(collection: string, id: unknown): string | undefined {
  try {
    return idToUuid(collection, id);
  } catch {
    return undefined;
  }
}
