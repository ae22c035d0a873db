/**
 * The one batch pipeline: a batch of source documents is decoded, converted, its references
 * checked (settle-batch.ts), and then written (with the progress it makes, in one
 * transaction) or predicted — unique keys PostgreSQL would refuse refused here, nothing
 * written (batch-sinks.ts). So what a prediction says is by construction what a write does.
 * Used by migrate's range workers, the incremental sync, --detect-deletes, migrate --dry-run
 * (processBatch), plan (runBatch with its analysis as an observer) and verify (settleBatch,
 * then a comparison with the rows written).
 */
import type { Db, Document } from 'mongodb';
import type pg from 'pg';
import type { MappedCollection } from '../core/mapping.js';
import type { RejectRecord, WritePlan } from '../target/batch-writer.js';
import type { ReferenceIndex } from './reference-index.js';
import type { DriftDetector } from './drift-check.js';
import { newTiming, settleBatch, type PipelineObserver, type PipelineTiming, type SettledBatch } from './settle-batch.js';
import { UniqueKeyPrediction, writeSink, type BatchSink, type BatchWrite, type SinkOutcome } from './batch-sinks.js';

export type { BatchWrite } from './batch-sinks.js';

export interface BatchContext {
  db: Db;
  pool: pg.Pool;
  runId: string;
  batchSize: number;
  /** Bulk load: between batches, collect garbage once the resident set is over this many bytes (0 or absent: never). */
  memoryBudgetBytes?: number;
  /** Predict instead of writing: nothing is written, unique keys PostgreSQL would refuse are refused. */
  dryRun: boolean;
  references: ReferenceIndex;
  /** Dry run: the collection's unique keys, shared by its ranges (created with the first batch when absent). */
  uniques?: UniqueKeyPrediction;
  stats: CollectionStats;
  /** Stop between batches (Ctrl-C, --max-rejects, --max-duration, a lost lock). */
  signal: AbortSignal;
  /** Compares what migrate reads with the latest plan (warnings when the source drifted). */
  drift?: DriftDetector;
  /** Runs inside a batch's transaction before it records progress, when the batch wrote anything (creates the run record). */
  beforeWrite?: (client: pg.PoolClient) => Promise<void>;
  onBatch?: (read: number) => void;
}

/** Counters of one collection, shared by its partitions. */
export class CollectionStats {
  read = 0;
  migrated = 0;
  rejected = 0;
  skippedModified = 0;
  /** Documents the application had changed or deleted, overwritten because the collection says onConflict 'overwrite'. */
  overwritten = 0;
  /** Incremental: documents read again whose rows are exactly as written before (nothing written). */
  unchanged = 0;
  /** Incremental --detect-deletes: rows removed (or marked) because their document was deleted in MongoDB. */
  deletedInSource = 0;
  /** Incremental --detect-deletes: rows kept although their document was deleted (changed by, or referenced from, the application). */
  deleteBlocked = 0;
  /** Where the time went, summed over the collection's workers: waiting for MongoDB's next batch, decoding and converting, writing to PostgreSQL (reference checks included). */
  sourceWaitMs = 0;
  convertMs = 0;
  writeMs = 0;
  readonly orphans = new Map<string, number>();
  /** Rejected documents per field path (all of them, not only the samples). */
  readonly rejectsByField = new Map<string, number>();
  readonly coercions = new Map<string, number>();
  readonly rejectSamples: RejectRecord[] = [];

  count(map: Map<string, number>, key: string): void {
    map.set(key, (map.get(key) ?? 0) + 1);
  }
}

/** The pipeline's steps for one batch: where references are looked up, what receives the settled batch, who is told. */
export interface BatchStages {
  references: ReferenceIndex;
  sink: BatchSink;
  observer?: PipelineObserver;
  timing: PipelineTiming;
  /** The source database, for references by a business key (`by`). */
  keys?: Db;
}

export interface BatchResult {
  settled: SettledBatch;
  outcome: SinkOutcome;
}

/**
 * One batch through the one pipeline: convert → check references → write or predict. The
 * documents the sink refuses (PostgreSQL, or the unique-key prediction) are set aside like
 * any other reject: observed, and in a prediction references to them dangle from now on.
 */
export async function runBatch(collection: MappedCollection, docs: readonly Document[], stages: BatchStages): Promise<BatchResult> {
  const settled = await settleBatch(collection, docs, { ...stages, deferred: 'second-pass' });
  const started = performance.now();
  const outcome = await stages.sink.put(settled);
  stages.timing.writeMs += performance.now() - started;
  if (outcome.refused.length > 0) {
    const uuidOf = new Map(settled.docs.map((d) => [d.converted.sourceKey, d.converted.uuid]));
    for (const r of outcome.refused) {
      stages.references.markRejected(collection.name, uuidOf.get(r.sourceKey));
      stages.observer?.rejected?.(r);
    }
  }
  return { settled, outcome };
}

/**
 * migrate's, the incremental sync's and --detect-deletes' use of the pipeline: written with
 * `write`'s progress in one transaction, or in a dry run predicted (nothing written), counted
 * into ctx.stats either way — so what a dry run predicts is by construction what a write does.
 */
export async function processBatch(target: { collection: MappedCollection; plan: WritePlan }, ctx: BatchContext, docs: Document[], write: BatchWrite): Promise<void> {
  const { collection } = target;
  const stats = ctx.stats;
  const timing = newTiming();
  const sink = ctx.dryRun ? (ctx.uniques ??= new UniqueKeyPrediction(collection)) : writeSink(ctx.pool, target.plan, ctx.runId, write, ctx.beforeWrite);
  const { settled, outcome } = await runBatch(collection, docs, { references: ctx.references, sink, observer: statsObserver(collection, ctx), timing, keys: ctx.db });
  stats.convertMs += timing.convertMs;
  stats.writeMs += timing.referenceMs + timing.writeMs;
  stats.skippedModified += outcome.skippedModified;
  stats.overwritten += outcome.overwritten;
  stats.unchanged += outcome.unchanged;
  stats.read += docs.length;
  stats.migrated += outcome.written;
  stats.rejected += settled.rejects.length + outcome.refused.length;
  ctx.onBatch?.(docs.length);
}

/** Counts what the pipeline tells into the collection's stats (orphans at write time, coercions, rejects per field), and feeds the drift check. */
function statsObserver(collection: MappedCollection, ctx: BatchContext): PipelineObserver {
  const stats = ctx.stats;
  return {
    source: ctx.drift ? (doc) => ctx.drift?.observe(doc) : undefined,
    orphan: (_doc, ref, deferred) => {
      if (!deferred) stats.count(stats.orphans, `${collection.name}.${ref.mapped.label}`);
    },
    settled: (doc) => {
      for (const c of doc.coercions) stats.count(stats.coercions, c);
    },
    rejected: (r) => {
      stats.count(stats.rejectsByField, r.fieldPath || '(document)');
      if (stats.rejectSamples.length < 20) stats.rejectSamples.push(r);
    },
  };
}

/** Yields what `source` yields, adding the time spent waiting for each item to `stats.sourceWaitMs`. */
export async function* timedSource<T>(source: AsyncIterable<T>, stats: CollectionStats): AsyncGenerator<T> {
  const it = source[Symbol.asyncIterator]();
  try {
    for (;;) {
      const waited = performance.now();
      const next = await it.next();
      stats.sourceWaitMs += performance.now() - waited;
      if (next.done) return;
      yield next.value;
    }
  } finally {
    if (it.return) await it.return(undefined).catch(() => undefined);
  }
}
