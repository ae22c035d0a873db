/**
 * One `_id` range of one collection: read a batch, convert it, check its references,
 * write it with its checkpoint in one transaction, and go on — reading the next batch
 * while the current one is written, so reading and writing overlap.
 */
import type { Document } from 'mongodb';
import type { MappedCollection } from '../../core/mapping.js';
import { readAhead, readRawBatches } from '../../source/mongo-source.js';
import { ejson, rangeFilter, type IdRange } from '../../source/partitions.js';
import type { WritePlan } from '../../target/batch-writer.js';
import { advanceCheckpoint } from '../../state/checkpoints.js';
import { keepWithinBudget } from '../../runtime/memory-budget.js';
import { processBatch, timedSource, type BatchContext } from '../../pipeline/batch-pipeline.js';

export interface PartitionTask {
  collection: MappedCollection;
  plan: WritePlan;
  partition: number;
  range: IdRange;
  lastKey: string | null;
  mode: 'fresh' | 'upsert';
}

export async function migratePartition(task: PartitionTask, ctx: BatchContext): Promise<void> {
  const filter = rangeFilter(task.range, task.lastKey);
  // Read-ahead: the next batch is fetched (as compact BSON) while this one is decoded, converted
  // and written. (Two batches ahead measured no faster on FerretDB: the source's CPU share, not
  // the pipeline, limits it.) Leaving the loop closes the cursor, after the batch in flight.
  const batches = timedSource(readAhead(readRawBatches(ctx.db, task.collection.name, filter, { batchSize: ctx.batchSize, signal: ctx.signal })), ctx.stats);
  for await (const raw of batches) {
    if (ctx.signal.aborted) break;
    // The previous batch is garbage now: the cheapest moment to give memory back.
    keepWithinBudget(ctx.memoryBudgetBytes ?? 0);
    const decoding = performance.now();
    const docs = raw.decode();
    ctx.stats.convertMs += performance.now() - decoding;
    const last = docs[docs.length - 1] as Document;
    await processBatch(task, ctx, docs, {
      options: { mode: task.mode, onConflict: task.collection.onConflict },
      progress: (client, done) =>
        advanceCheckpoint(client, { collection: task.collection.name, partition: task.partition, runId: ctx.runId }, { lastKey: ejson(last._id), read: docs.length, ...done }),
    });
    if (ctx.signal.aborted) break;
  }
}

