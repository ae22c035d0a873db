/**
 * One `_id` range of one collection: read a batch, convert it, check its references,
 * write it with its checkpoint in one transaction, and go on — reading the next batch
 * and converting it while the current one is written, so reading, converting and writing
 * overlap (the next batch's references are looked up only after the current one committed).
 */
import type { Document } from 'mongodb';
import type { MappedCollection } from '../../core/mapping.js';
import { readAhead, readRawBatches } from '../../source/mongo-source.js';
import { ejson, rangeFilter, type IdRange } from '../../source/partitions.js';
import type { WritePlan } from '../../target/batch-writer.js';
import { advanceCheckpoint } from '../../state/checkpoints.js';
import { keepWithinBudget } from '../../runtime/memory-budget.js';
import { prepareBatch, timedSource, writePrepared, type BatchContext } from '../../pipeline/batch-pipeline.js';

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
  // The batch being written while the next one is decoded and converted (a dry run predicts
  // batch after batch, so its predictions stay exactly those of a write in source order).
  let writing: Promise<void> | undefined;
  try {
    for await (const raw of batches) {
      if (ctx.signal.aborted) break;
      const decoding = performance.now();
      const docs = raw.decode();
      ctx.stats.convertMs += performance.now() - decoding;
      const last = docs[docs.length - 1] as Document;
      const prepared = prepareBatch(task.collection, ctx, docs);
      if (writing) await writing;
      writing = undefined;
      if (ctx.signal.aborted) break;
      // The batch before is committed and garbage now: the cheapest moment to give memory back.
      keepWithinBudget(ctx.memoryBudgetBytes ?? 0);
      const write = writePrepared(task, ctx, prepared, {
        options: { mode: task.mode, onConflict: task.collection.onConflict },
        progress: (client, done) =>
          advanceCheckpoint(client, { collection: task.collection.name, partition: task.partition, runId: ctx.runId }, { lastKey: ejson(last._id), read: docs.length, ...done }),
      });
      if (ctx.dryRun) await write;
      else {
        // Awaited at the next batch or below; a failure meanwhile must not count as unhandled.
        write.catch(() => undefined);
        writing = write;
      }
    }
  } finally {
    if (writing) await writing;
  }
}

