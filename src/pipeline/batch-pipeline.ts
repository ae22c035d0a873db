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
import { collectionColumns, type MappedCollection } from '../core/mapping.js';
import type { RejectRecord, WritePlan } from '../target/batch-writer.js';
import type { ReferenceIndex } from './reference-index.js';
import type { DriftDetector } from './drift-check.js';
import { convertBatchYielding, documentsAt, newTiming, settleConverted, type ConvertedBatch, type DocumentsAt, type PipelineObserver, type PipelineTiming, type SettledBatch } from './settle-batch.js';
import { prepareRows } from '../target/batch-writer.js';
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
  /** Writing documents whose child rows were held back (completeHeldChildRows): nothing is held back again. */
  completing?: boolean;
}

/** Documents left alone for the application whose keys a run keeps to count each once (about 10 MB of keys). */
const SKIPPED_KEYS_KEPT = 100_000;

/** Counters of one collection, shared by its partitions. */
export class CollectionStats {
  read = 0;
  migrated = 0;
  rejected = 0;
  /**
   * Documents left alone for the application, each counted once per run however often it was
   * read (the sync reads a new dated document twice); past SKIPPED_KEYS_KEPT, counted without
   * that check, so memory stays bounded.
   */
  private readonly skippedKeys = new Set<string>();
  private skippedBeyond = 0;
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

  /** Documents left alone for the application. */
  get skippedModified(): number {
    return this.skippedKeys.size + this.skippedBeyond;
  }

  leftAlone(keys: Iterable<string>): void {
    for (const key of keys) {
      if (this.skippedKeys.has(key)) continue;
      if (this.skippedKeys.size < SKIPPED_KEYS_KEPT) this.skippedKeys.add(key);
      else this.skippedBeyond++;
    }
  }

  /** Adds what another CollectionStats left alone (the completion of held-back child rows). */
  leftAloneBy(other: CollectionStats): void {
    this.leftAlone(other.skippedKeys);
    this.skippedBeyond += other.skippedBeyond;
  }

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
  /** See SettleSteps.holdLaterChildRows. */
  holdLaterChildRows?: boolean;
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
  return runConverted(collection, await convertBatchYielding(collection, docs, stages), stages);
}

/** runBatch for a batch already converted (and maybe settled): its references checked, then written or predicted. */
async function runConverted(collection: MappedCollection, converted: ConvertedBatch | SettledBatch, stages: BatchStages): Promise<BatchResult> {
  const settled = 'converted' in converted ? await settleConverted(collection, converted, { ...stages, deferred: 'second-pass' }) : converted;
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
  await writePrepared(target, ctx, await prepareBatch(target.collection, ctx, docs), write);
}

/** A batch converted ahead of its write (prepareBatch), with the time its conversion took. */
export interface PreparedBatch {
  read: number;
  /** Converted; settled too (references checked, rows final) when prepareBatch was asked to. */
  converted: ConvertedBatch | SettledBatch;
  timing: PipelineTiming;
}

/**
 * processBatch's first half: the conversion, a slice at a time. A range worker runs it for
 * batch n+1 while batch n is being written, so that PostgreSQL works on n while Node converts
 * n+1. With `settle` (only for a collection none of whose references point into itself: a
 * reference from n+1 to a document of n must wait until n has committed, or been refused),
 * the references are checked here too and the rows' COPY text and hashes made, so that the
 * write of n+1 is left with PostgreSQL's work alone.
 */
export async function prepareBatch(collection: MappedCollection, ctx: BatchContext, docs: readonly Document[] | DocumentsAt, opts: { settle?: boolean } = {}): Promise<PreparedBatch> {
  const timing = newTiming();
  const steps = { references: ctx.references, observer: statsObserver(collection, ctx), timing, keys: ctx.db, holdLaterChildRows: holdsLaterChildRows(ctx) };
  const list = documentsAt(docs);
  const converted = await convertBatchYielding(collection, list, steps);
  const read = list.count;
  if (!opts.settle) return { read, converted, timing };
  const settled = await settleConverted(collection, converted, { ...steps, deferred: 'second-pass' });
  const started = performance.now();
  await prepareRows(settled.docs);
  timing.convertMs += performance.now() - started;
  return { read, converted: settled, timing };
}

/** A write (a prediction finds later documents in the source) that is not itself the completion of held-back child rows. */
const holdsLaterChildRows = (ctx: BatchContext): boolean => !ctx.dryRun && !ctx.completing;

/** Whether a reference of the collection (its rows' or its child rows') points into the collection itself. */
export function refersToItself(collection: MappedCollection): boolean {
  return collectionColumns(collection).some((c) => c.source.kind === 'reference' && c.source.targetCollection === collection.name);
}

/** processBatch's second half: references, then the write (or prediction) with its progress, counted into ctx.stats. */
export async function writePrepared(target: { collection: MappedCollection; plan: WritePlan }, ctx: BatchContext, batch: PreparedBatch, write: BatchWrite): Promise<void> {
  const { collection } = target;
  const stats = ctx.stats;
  const timing = batch.timing;
  const sink = ctx.dryRun ? (ctx.uniques ??= new UniqueKeyPrediction(collection)) : writeSink(ctx.pool, target.plan, ctx.runId, write, ctx.beforeWrite);
  const { settled, outcome } = await runConverted(collection, batch.converted, { references: ctx.references, sink, observer: statsObserver(collection, ctx), timing, keys: ctx.db, holdLaterChildRows: holdsLaterChildRows(ctx) });
  stats.convertMs += timing.convertMs;
  stats.writeMs += timing.referenceMs + timing.writeMs;
  stats.leftAlone(outcome.skippedModified);
  stats.overwritten += outcome.overwritten;
  stats.unchanged += outcome.unchanged;
  stats.read += batch.read;
  stats.migrated += outcome.written;
  stats.rejected += settled.rejects.length + outcome.refused.length;
  ctx.onBatch?.(batch.read);
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
