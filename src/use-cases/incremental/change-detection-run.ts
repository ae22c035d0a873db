/**
 * The run of `--detect-changes` after migrate's incremental sync: the collections' locks, a
 * run record (created only when something is written), each collection's change-detecting
 * pass in foreign-key order (parents first, so references resolve), then the references
 * deferred to break cycles.
 *
 * It runs as its own run because the migrate use case does not take it yet; moving the call
 * of detectChanges() into migrate's runCollection (after syncCollection) would make it part
 * of the same run and lock session.
 */
import { randomUUID } from 'node:crypto';
import type { Db } from 'mongodb';
import type pg from 'pg';
import type { MappedCollection, MigrationMapping } from '../../core/mapping.js';
import { ConnectionError } from '../../core/errors.js';
import { acquireCollectionLocks } from '../../state/collection-lock.js';
import { ensureStateSchema } from '../../state/schema.js';
import { markAbandonedRuns, RunRecord } from '../../state/runs.js';
import { resolveDeferredReferences } from '../../state/deferred-refs.js';
import { ReferenceIndex } from '../../pipeline/reference-index.js';
import { CollectionStats, type BatchContext } from '../../pipeline/batch-pipeline.js';
import { detectChanges } from './detect-changes.js';
import { completeHeldChildRows } from '../migrate/held-child-rows.js';
import { writePlanFor } from '../../target/batch-writer.js';

export interface ChangeDetectionOptions {
  collections: readonly string[];
  batchSize?: number;
  signal: AbortSignal;
  onBatch?: (collection: string, read: number) => void;
}

/** One collection's pass, as migrate's summary and --json show it. */
export interface ChangePassSummary {
  name: string;
  /** 'checked': the pass reached the end; 'interrupted': the next run resumes it. */
  status: 'checked' | 'interrupted';
  /** Documents read by this run's part of the pass. */
  read: number;
  /** Documents written: changed since they were migrated, or new. */
  written: number;
  /** Documents whose rows are exactly as written before (fingerprint equal): nothing written. */
  unchanged: number;
  /** Changed documents whose rows the application changed or deleted: kept, recorded in hybrid_migrate.conflicts. */
  skippedModified: number;
  rejected: number;
  /** This run continued a pass an earlier run had started. */
  resumed: boolean;
  /** The pass's start (ISO): once checked, every change MongoDB had before it is synced. */
  checkedUpTo: string | null;
  durationMs: number;
}

export interface ChangeDetectionResult {
  runId: string;
  /** True when anything was written (the run then has a record in hybrid_migrate.runs). */
  wrote: boolean;
  interrupted: boolean;
  collections: ChangePassSummary[];
  deferredResolved: number;
}

export interface ChangeDetectionDeps {
  db: Db;
  pool: pg.Pool;
  mapping: MigrationMapping;
}

export async function runChangeDetection(deps: ChangeDetectionDeps, opts: ChangeDetectionOptions): Promise<ChangeDetectionResult> {
  const names = deps.mapping.loadOrder.filter((n) => opts.collections.includes(n));
  const run = new RunRecord(randomUUID(), 'migrate', { collections: names, incremental: true, detectChanges: true, batchSize: opts.batchSize ?? null });
  await ensureStateSchema(deps.pool);
  const locks = await acquireCollectionLocks(deps.pool, names);
  const stop = new AbortController();
  const onAbort = () => stop.abort(new Error('interrupted'));
  opts.signal.addEventListener('abort', onAbort, { once: true });
  let lockLost = false;
  void locks.lost.then(() => {
    lockLost = true;
    stop.abort(new Error('lock connection lost'));
  });
  const collections: ChangePassSummary[] = [];
  try {
    await markAbandonedRuns(deps.pool, names);
    const references = new ReferenceIndex(deps.mapping, { target: deps.pool });
    for (const name of names) {
      if (stop.signal.aborted) break;
      collections.push(await passOf(deps, deps.mapping.collections.get(name) as MappedCollection, { run, references, signal: stop.signal, opts }));
    }
    if (lockLost) throw new ConnectionError('PostgreSQL', 'lost the PostgreSQL connection that held the collection locks; stopped at a batch boundary. What was committed is kept: rerun to resume the pass.');
    const deferredResolved = run.exists && !stop.signal.aborted ? await resolveDeferredReferences(deps.pool, deps.mapping, names) : 0;
    await run.finish(deps.pool, stop.signal.aborted ? 'interrupted' : 'done', { changeDetection: collections });
    return { runId: run.id, wrote: run.exists, interrupted: stop.signal.aborted, collections, deferredResolved };
  } catch (e) {
    await run.finish(deps.pool, 'failed', { changeDetection: collections, error: e instanceof Error ? e.message : String(e) }).catch(() => undefined);
    throw e;
  } finally {
    opts.signal.removeEventListener('abort', onAbort);
    await locks.release();
  }
}

async function passOf(
  deps: ChangeDetectionDeps,
  collection: MappedCollection,
  scope: { run: RunRecord; references: ReferenceIndex; signal: AbortSignal; opts: ChangeDetectionOptions },
): Promise<ChangePassSummary> {
  const started = Date.now();
  const stats = new CollectionStats();
  const ctx: BatchContext = {
    db: deps.db,
    pool: deps.pool,
    runId: scope.run.id,
    batchSize: scope.opts.batchSize ?? collection.batchSize,
    dryRun: false,
    references: scope.references,
    stats,
    signal: scope.signal,
    beforeWrite: (client) => scope.run.ensure(client),
    onBatch: (read) => scope.opts.onBatch?.(collection.name, read),
  };
  const report = await detectChanges(collection, ctx);
  if (report.completed && !scope.signal.aborted) await completeHeldChildRows(collection, writePlanFor(collection), ctx);
  return {
    name: collection.name,
    status: report.completed ? 'checked' : 'interrupted',
    read: stats.read,
    written: stats.migrated,
    unchanged: stats.unchanged,
    skippedModified: stats.skippedModified,
    rejected: stats.rejected,
    resumed: report.resumed,
    checkedUpTo: report.completed ? report.startedAt.toISOString() : null,
    durationMs: Date.now() - started,
  };
}
