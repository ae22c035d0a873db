/**
 * `migrate --incremental --detect-changes`: finds every changed document of a collection —
 * also where no `updatedAt` is maintained — in ONE ordered `_id` pass over MongoDB. Each
 * document goes through the one pipeline in upsert mode: its converted rows are hashed and
 * compared with the hash id_map recorded when they were written (`source_hash`), so an
 * unchanged document costs no write and no read of the target tables; a changed one is
 * written under the same rules as the updatedAt sync (rows the application changed or deleted
 * are kept and recorded as conflicts), a new one is inserted.
 *
 * Resumable: the last `_id` of every committed batch is recorded in that batch's transaction;
 * an interrupted pass continues after it. A pass that reaches the end records its start as
 * `changes_checked_at`: every change MongoDB had before that instant is synced.
 */
import type { Document } from 'mongodb';
import type { MappedCollection } from '../../core/mapping.js';
import { readAhead, readBatches } from '../../source/mongo-source.js';
import { ejson, rangeFilter } from '../../source/partitions.js';
import { writePlanFor } from '../../target/batch-writer.js';
import { advanceChangePass, beginChangePass, completeChangePass } from '../../state/sync-cursors.js';
import { processBatch, timedSource, type BatchContext } from '../../pipeline/batch-pipeline.js';

export interface ChangePassReport {
  /** True when the pass reached the end of the collection (false: interrupted, the next run resumes it). */
  completed: boolean;
  /** True when this run continued a pass an earlier run started. */
  resumed: boolean;
  /** The pass's start: once completed, every change before it is synced. */
  startedAt: Date;
}

/** One collection's pass; counts (read, written, unchanged, kept, rejected) go to ctx.stats. */
export async function detectChanges(collection: MappedCollection, ctx: BatchContext): Promise<ChangePassReport> {
  const plan = writePlanFor(collection);
  const pass = await beginChangePass(ctx.pool, collection.name, new Date());
  const report: ChangePassReport = { completed: false, resumed: pass.afterKey !== null, startedAt: pass.startedAt };
  const filter = rangeFilter({ start: null, end: null }, pass.afterKey);
  const write = { mode: 'upsert' as const, onConflict: collection.onConflict };
  // The next batch is read while this one is converted and compared: the pass runs at the slower side's pace.
  for await (const docs of timedSource(readAhead(readBatches(ctx.db, collection.name, filter, ctx.batchSize, ctx.signal)), ctx.stats)) {
    const lastKey = ejson((docs[docs.length - 1] as Document)._id);
    // Every batch records how far the pass got, in its own transaction (also when nothing changed).
    await processBatch({ collection, plan }, ctx, docs, { options: write, progress: (client) => advanceChangePass(client, collection.name, lastKey) });
    if (ctx.signal.aborted) return report;
  }
  if (ctx.signal.aborted) return report;
  await completeChangePass(ctx.pool, collection.name);
  report.completed = true;
  return report;
}
