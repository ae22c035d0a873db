/**
 * The second pass of child rows that refer to their own collection (`products.related[]` →
 * products, `users.friends[]` → users): while the collection is written, such a row whose
 * referenced document is not written yet (a later batch, another range) cannot be inserted —
 * its foreign key would refuse it — so the batch writes the document without it and records the
 * document (settle-batch's holdChildRow). Once every range of the collection is done, each
 * recorded document is read again from the source and written whole, through the same batch
 * pipeline as an incremental update (upsert: the migration's own unchanged rows are replaced,
 * rows the application changed are left and reported), and its record is dropped in that
 * batch's transaction: an interrupted run completes them when it resumes.
 */
import type { Document, Filter } from 'mongodb';
import type { MappedCollection } from '../../core/mapping.js';
import type { WritePlan } from '../../target/batch-writer.js';
import { CollectionStats, processBatch, type BatchContext } from '../../pipeline/batch-pipeline.js';
import { childRowsReferToItself } from '../../pipeline/settle-batch.js';
import { idOfSourceKey } from '../../pipeline/source-keys.js';
import { EXACT_READ_OPTIONS } from '../../source/mongo-source.js';
import { forgetHeldChildRows, heldChildRowDocuments } from '../../state/deferred-refs.js';

/** Documents per page: one `$in` query each, well under the command size limit. */
const PAGE = 1000;

/** Writes whole the documents whose child rows were held back; returns how many were written. */
export async function completeHeldChildRows(collection: MappedCollection, plan: WritePlan, ctx: BatchContext): Promise<number> {
  if (ctx.dryRun || !childRowsReferToItself(collection)) return 0;
  // Their own counters: these documents were read and counted as migrated already.
  const stats = new CollectionStats();
  const completing: BatchContext = { ...ctx, stats, completing: true, drift: undefined, onBatch: undefined };
  while (!ctx.signal.aborted) {
    const page = await heldChildRowDocuments(ctx.pool, collection.name, Math.min(ctx.batchSize, PAGE));
    if (page.length === 0) break;
    const ids: unknown[] = [];
    for (const p of page) {
      const id = p.sourceKey === null ? undefined : idOfSourceKey(p.sourceKey);
      if (id) ids.push(id.id);
    }
    // A document deleted from the source meanwhile is not found: its record goes all the same.
    const docs = ids.length === 0 ? [] : await ctx.db.collection(collection.name).find({ _id: { $in: ids } } as unknown as Filter<Document>, { sort: { _id: 1 }, ...EXACT_READ_OPTIONS }).toArray();
    await processBatch({ collection, plan }, completing, docs, {
      options: { mode: 'upsert', onConflict: collection.onConflict },
      progress: (client) => forgetHeldChildRows(client, collection.name, page.map((p) => p.uuid)),
    });
  }
  mergeCompletion(collection, ctx.stats, stats);
  return stats.migrated;
}

/**
 * What the completion adds to the collection's counters: documents it set aside or left to the
 * application, and the orphans of the held-back fields (the other references were counted when
 * the document was first written).
 */
function mergeCompletion(collection: MappedCollection, into: CollectionStats, from: CollectionStats): void {
  into.rejected += from.rejected;
  into.leftAloneBy(from);
  into.overwritten += from.overwritten;
  into.writeMs += from.writeMs;
  into.convertMs += from.convertMs;
  for (const [k, n] of from.rejectsByField) into.rejectsByField.set(k, (into.rejectsByField.get(k) ?? 0) + n);
  for (const r of from.rejectSamples) if (into.rejectSamples.length < 20) into.rejectSamples.push(r);
  const held = new Set(collection.children.flatMap((child) => child.columns.filter((c) => c.source.kind === 'reference' && c.source.targetCollection === collection.name).map((c) => `${collection.name}.${c.label}`)));
  for (const [k, n] of from.orphans) if (held.has(k)) into.orphans.set(k, (into.orphans.get(k) ?? 0) + n);
}
