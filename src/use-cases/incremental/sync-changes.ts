/**
 * `migrate --incremental`: brings a migrated collection up to date with what changed in
 * MongoDB since the last run, safely under cron.
 *
 * - New documents: `_id` above the highest migrated ObjectId (found even without updatedAt);
 *   in a collection that also holds other `_id` types (strings, numbers), every `_id` is
 *   compared with the registry, since nothing orders those against the migrated ones.
 * - Changed documents: `updatedAt` from the saved cursor minus an overlap window, read in
 *   (updatedAt, _id) order, so documents sharing a timestamp or written late with a slightly
 *   older timestamp are never skipped. Documents whose rows are exactly as written before
 *   are not written again (source hash in id_map), so a run with nothing new writes nothing.
 * - Rows the application changed since they were migrated are left alone and reported.
 * The cursor moves in the same transaction as the rows it covers.
 */
import type { Document, Filter } from 'mongodb';
import type pg from 'pg';
import type { MappedCollection } from '../../core/mapping.js';
import { sourceIdKey } from '../../core/ids.js';
import { EXACT_READ_OPTIONS, readBatches } from '../../source/mongo-source.js';
import { ejson, unejson } from '../../source/partitions.js';
import { writePlanFor, type BatchInput } from '../../target/batch-writer.js';
import { advanceSyncCursor, readSyncCursor } from '../../state/sync-cursors.js';
import { highestRegisteredObjectId } from '../../state/registry.js';
import { processBatch, timedSource, type BatchContext } from '../../pipeline/batch-pipeline.js';
import { hasOtherIdTypes, migrateUnknownIds } from './detect-deletes.js';

export interface SyncOptions {
  /** How far before the saved cursor changed documents are read again (clock skew, slow writers). */
  overlapMs: number;
  /** --detect-deletes follows: its pass over every `_id` finds the new documents of any `_id` type. */
  detectDeletesFollows?: boolean;
}

/** What a sync found besides its counts. */
export interface SyncReport {
  /** Documents read whose updatedAt lies after the run's start (clock skew, bad data): synced, but they never move the cursor. */
  futureUpdatedAt: { count: number; sampleIds: string[] };
}

/** Sample `_id`s listed per finding. */
const SAMPLES = 5;

/**
 * Syncs one collection; counts go to ctx.stats. Stops between batches when ctx.signal aborts.
 * The cursor never moves past the run's start: documents stamped in the future are read again
 * by every run (written only when they changed) and reported.
 */
export async function syncCollection(collection: MappedCollection, ctx: BatchContext, opts: SyncOptions): Promise<SyncReport> {
  const startedAt = new Date();
  const report: SyncReport = { futureUpdatedAt: { count: 0, sampleIds: [] } };
  const plan = writePlanFor(collection);
  const state = (await readSyncCursor(ctx.pool, collection.name)) ?? { cursorUpdatedAt: null, cursorKey: null, highWaterKey: null };
  const write = { options: { mode: 'upsert' as const, onConflict: collection.onConflict } };

  // 1. New documents, by _id, above the high-water mark.
  const highWater = state.highWaterKey ?? (await highestRegisteredObjectId(ctx.pool, collection.name));
  if (highWater !== null) {
    const filter = { _id: { $gt: unejson(highWater) } } as Filter<Document>;
    for await (const docs of timedSource(readBatches(ctx.db, collection.name, filter, ctx.batchSize, ctx.signal), ctx.stats)) {
      const lastKey = ejson((docs[docs.length - 1] as Document)._id);
      await processBatch({ collection, plan }, ctx, docs, { ...write, progress: saveState(collection.name, ctx.runId, { highWaterKey: lastKey }) });
      if (ctx.signal.aborted) return report;
    }
  }

  // 1b. New documents whose _id is no ObjectId (strings, numbers, dates): no high-water mark orders
  // them against the migrated ones, so every _id is compared with the registry (one pass over the
  // _id index, ids only). Without it, a cron sync of such a collection without updatedAt found nothing.
  if (!opts.detectDeletesFollows && (await hasOtherIdTypes(ctx.db, collection.name))) {
    await migrateUnknownIds(collection, ctx);
    if (ctx.signal.aborted) return report;
  }

  // 2. Changed documents, by (updatedAt, _id), from the cursor minus the overlap window.
  const field = collection.updatedAtField;
  const since = state.cursorUpdatedAt ? new Date(state.cursorUpdatedAt.getTime() - opts.overlapMs) : null;
  const filter = (since ? { [field]: { $gte: since } } : { [field]: { $type: 'date' } }) as Filter<Document>;
  // Without an index on the updated-at field, a real MongoDB sorts in memory: allow it to spill to disk
  // rather than fail on a large window (README recommends the index).
  const cursor = ctx.db
    .collection(collection.name)
    .find(filter, { sort: { [field]: 1, _id: 1 }, batchSize: ctx.batchSize, allowDiskUse: true, ...EXACT_READ_OPTIONS });
  try {
    let batch: Document[] = [];
    const flush = async () => {
      const last = batch[batch.length - 1] as Document;
      const lastUpdated = last[field];
      const progress = saveState(collection.name, ctx.runId, {
        cursorUpdatedAt: lastUpdated instanceof Date ? lastUpdated : undefined,
        cursorKey: ejson(last._id),
        notAfter: startedAt,
      });
      await processBatch({ collection, plan }, ctx, batch, { ...write, progress });
      batch = [];
    };
    for await (const doc of timedSource(cursor, ctx.stats)) {
      const updated = doc[field];
      if (updated instanceof Date && updated.getTime() > startedAt.getTime()) {
        report.futureUpdatedAt.count++;
        if (report.futureUpdatedAt.sampleIds.length < SAMPLES) report.futureUpdatedAt.sampleIds.push(sourceIdKey(doc._id));
      }
      batch.push(doc);
      if (batch.length >= ctx.batchSize) {
        await flush();
        if (ctx.signal.aborted) return report;
      }
    }
    if (batch.length > 0) await flush();
  } finally {
    await cursor.close().catch(() => undefined);
  }
  return report;
}

/**
 * The progress of a sync batch, written in the batch's transaction — but only when the batch
 * wrote something: a run that finds nothing new leaves no trace (the overlap window makes the
 * next run read the same few documents again, which costs nothing).
 */
function saveState(collection: string, runId: string, next: { highWaterKey?: string; cursorUpdatedAt?: Date; cursorKey?: string; notAfter?: Date }): BatchInput['progress'] {
  return async (client, done) => {
    if (done.written === 0 && done.rejected === 0) return;
    await advanceSyncCursor(client, collection, runId, next);
  };
}
