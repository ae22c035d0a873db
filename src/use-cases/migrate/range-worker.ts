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
import { stateTable } from '../../state/state-store.js';
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
      progress: async (client, done) => {
        await client.query(
          `UPDATE ${stateTable('checkpoints')}
              SET last_key = $3, docs_read = docs_read + $4, docs_written = docs_written + $5, docs_rejected = docs_rejected + $6,
                  status = 'running', run_id = $7, updated_at = now()
            WHERE collection = $1 AND partition = $2`,
          [task.collection.name, task.partition, ejson(last._id), docs.length, done.written, done.rejected, ctx.runId],
        );
      },
    });
    if (ctx.signal.aborted) break;
  }
}

