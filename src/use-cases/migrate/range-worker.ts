/**
 * One `_id` range of one collection: read a batch, convert it, check its references,
 * write it with its checkpoint in one transaction, and go on — reading the next batch, and
 * decoding and converting it a slice at a time, while the current one is written: Node
 * converts batch n+1 while PostgreSQL works on batch n. Batches still commit one after
 * another, in `_id` order, each with its checkpoint.
 */
import type { MappedCollection } from '../../core/mapping.js';
import { readAhead, readRawBatches, type RawBatch } from '../../source/mongo-source.js';
import { ejson, rangeFilter, type IdRange } from '../../source/partitions.js';
import type { WritePlan } from '../../target/batch-writer.js';
import { advanceCheckpoint } from '../../state/checkpoints.js';
import { keepWithinBudget } from '../../runtime/memory-budget.js';
import { prepareBatch, refersToItself, timedSource, writePrepared, type BatchContext } from '../../pipeline/batch-pipeline.js';

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
  await migrateBatches(task, ctx, timedSource(readAhead(readRawBatches(ctx.db, task.collection.name, filter, { batchSize: ctx.batchSize, signal: ctx.signal })), ctx.stats));
}

/**
 * The range's batches, in order, through the pipeline, each written with its checkpoint; the
 * benchmark's synthetic source (Ts) drives the same loop.
 */
export async function migrateBatches(task: PartitionTask, ctx: BatchContext, batches: AsyncIterable<RawBatch>): Promise<void> {
  // The batch being written while the next one is decoded and converted. A dry run predicts
  // batch after batch (its unique-key prediction follows source order, like a write).
  let writing: Promise<void> | undefined;
  // The next batch's references are checked while the batch before is written too, unless one
  // may point into that batch: then only once it has committed (or PostgreSQL refused some of it).
  const settleEarly = !ctx.dryRun && !refersToItself(task.collection);
  try {
    for await (const raw of batches) {
      if (ctx.signal.aborted) break;
      if (raw.count === 0) continue;
      // The checkpoint's key, not the document: the closures below live until the batch commits,
      // and a batch ends at 8 MB of BSON, so its last document is the one near 16 MB when there
      // is one (held, its decoded text kept tens of MB alive through the write).
      const lastKey = ejson(raw.decodeAt(raw.count - 1)._id);
      const read = raw.count;
      // Decoded a document at a time as it is converted (decoding counts as converting).
      const prepared = await prepareBatch(task.collection, ctx, raw, { settle: settleEarly });
      if (writing) await writing;
      writing = undefined;
      if (ctx.signal.aborted) break;
      // The batch before is committed and garbage now. A write gives memory back while
      // PostgreSQL registers this batch (between two batches, PostgreSQL would wait for it); a
      // prediction, which keeps PostgreSQL waiting for nothing, here.
      const giveMemoryBack = () => keepWithinBudget(ctx.memoryBudgetBytes ?? 0);
      if (ctx.dryRun) giveMemoryBack();
      const write = writePrepared(task, ctx, prepared, {
        options: { mode: task.mode, onConflict: task.collection.onConflict },
        whilePostgresWorks: giveMemoryBack,
        progress: (client, done) =>
          advanceCheckpoint(client, { collection: task.collection.name, partition: task.partition, runId: ctx.runId }, { lastKey, read, ...done }),
      });
      if (ctx.dryRun) await write;
      else {
        // Awaited at the next batch or below; a failure meanwhile must not count as unhandled.
        write.catch(() => undefined);
        writing = write;
      }
    }
    if (writing) await writing;
  } finally {
    // Leaving early (the source failed, a stop): the batch in flight commits or fails first,
    // never left running on its connection behind the caller's back.
    if (writing) await writing.catch(() => undefined);
  }
}
