/**
 * The one batch pipeline: a batch of source documents is decoded, converted, its references
 * checked, and then written (with the progress it makes, in one transaction) or, in a dry
 * run, only counted — so what a dry run predicts is by construction what a write does.
 * Used by migrate's range workers, the incremental sync and --detect-deletes.
 */
import type { Db, Document } from 'mongodb';
import type pg from 'pg';
import type { MappedCollection } from '../core/mapping.js';
import { convertDocument, settleReferences, type ConvertedDocument, type PendingReference } from '../core/transform.js';
import { canonicalExtendedJson } from '../core/canonical.js';
import { writeBatch, type BatchDocument, type BatchInput, type RejectRecord, type WritePlan, type WriteOptions } from '../target/batch-writer.js';
import type { ReferenceIndex } from './reference-index.js';
import type { DriftDetector } from './drift-check.js';

export interface BatchContext {
  db: Db;
  pool: pg.Pool;
  runId: string;
  batchSize: number;
  /** Bulk load: between batches, collect garbage once the resident set is over this many bytes (0 or absent: never). */
  memoryBudgetBytes?: number;
  dryRun: boolean;
  references: ReferenceIndex;
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

/** How a batch is written, and the progress it records in its transaction. */
export interface BatchWrite {
  options: WriteOptions;
  progress: BatchInput['progress'];
}

/** Converts, checks references and writes one batch of source documents; counts into ctx.stats. */
export async function processBatch(target: { collection: MappedCollection; plan: WritePlan }, ctx: BatchContext, docs: Document[], write: BatchWrite): Promise<void> {
  const { collection } = target;
  const stats = ctx.stats;
  const rejects: RejectRecord[] = [];
  const converted: { doc: ConvertedDocument; source: Document }[] = [];
  let started = performance.now();
  for (const source of docs) {
    ctx.drift?.observe(source);
    const r = convertDocument(collection, source);
    if (r.ok) converted.push({ doc: r.doc, source });
    else rejects.push({ sourceKey: r.sourceKey, fieldPath: r.path, reason: r.reason, document: canonicalExtendedJson(source) });
  }
  stats.convertMs += performance.now() - started;
  started = performance.now();
  await ctx.references.load(converted.map((c) => c.doc));
  stats.writeMs += performance.now() - started;
  started = performance.now();
  const batch: BatchDocument[] = [];
  for (const { doc, source } of converted) {
    const deferredRefs: BatchDocument['deferred'] = [];
    const isDeferred = (ref: PendingReference) => {
      const src = ref.mapped.source;
      if (src.kind !== 'reference' || !src.deferred || ref.row !== 0) return false;
      deferredRefs.push({ rowUuid: doc.uuid, field: ref.mapped.column.field, targetCollection: ref.targetCollection, targetUuid: ref.uuid, sourceText: ref.sourceText });
      return true;
    };
    const settled = settleReferences(
      doc,
      (target, uuid) => ctx.references.exists(target, uuid),
      isDeferred,
      (ref) => stats.count(stats.orphans, `${collection.name}.${ref.mapped.label}`),
    );
    if (!settled.ok) {
      rejects.push({ sourceKey: doc.sourceKey, fieldPath: settled.path, reason: settled.reason, document: canonicalExtendedJson(source) });
      continue;
    }
    for (const c of doc.coercions) stats.count(stats.coercions, c);
    batch.push({ converted: doc, sourceJson: () => canonicalExtendedJson(source), deferred: deferredRefs });
  }
  stats.convertMs += performance.now() - started;
  let written = batch.length;
  let refused: RejectRecord[] = [];
  if (!ctx.dryRun) {
    started = performance.now();
    const progress: BatchInput['progress'] = async (client, done) => {
      if (ctx.beforeWrite && (done.written > 0 || done.rejected > 0)) await ctx.beforeWrite(client);
      await write.progress(client, done);
    };
    const outcome = await writeBatch(ctx.pool, target.plan, ctx.runId, { docs: batch, rejects, progress }, write.options);
    written = outcome.written;
    refused = outcome.refused;
    stats.skippedModified += outcome.skippedModified.length;
    stats.unchanged += outcome.unchanged;
    stats.writeMs += performance.now() - started;
  }
  stats.read += docs.length;
  stats.migrated += written;
  stats.rejected += rejects.length + refused.length;
  for (const r of [...rejects, ...refused]) {
    stats.count(stats.rejectsByField, r.fieldPath || '(document)');
    if (stats.rejectSamples.length < 20) stats.rejectSamples.push(r);
  }
  ctx.onBatch?.(docs.length);
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
