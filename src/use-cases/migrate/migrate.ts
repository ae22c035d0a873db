/**
 * `migrate`: every requested collection in foreign-key order (independent ones in
 * parallel), each split into `_id` ranges with their own checkpoints; then the references
 * deferred to break cycles. Takes the collections' locks first and gives them back last.
 */
import { randomUUID } from 'node:crypto';
import type { Db } from 'mongodb';
import type pg from 'pg';
import pLimit from 'p-limit';
import { collectionColumns, type MappedCollection, type MigrationMapping } from '../../core/mapping.js';
import { ConfigError, ConnectionError, HybridMigrateError, ExitCode } from '../../core/errors.js';
import type { CollectionLocks } from '../../state/collection-lock.js';
import { checkRanges, computeRanges, MAX_RANGES } from '../../source/partitions.js';
import { approximateCount } from '../../source/mongo-source.js';
import { writePlanFor } from '../../target/batch-writer.js';
import { acquireCollectionLocks } from '../../state/collection-lock.js';
import { ensureStateSchema } from '../../state/schema.js';
import { checkSourceDatabase } from '../../state/source-identity.js';
import { analyzeStaleTables } from '../../target/table-stats.js';
import { modelsOfCollections } from '../../target/preflight.js';
import { markRangeDone, readCheckpoints, replaceCheckpoints, type CheckpointRow } from '../../state/checkpoints.js';
import { hasRegisteredRows } from '../../state/registry.js';
import { markAbandonedRuns, RunRecord, type RunStatus } from '../../state/runs.js';
import { migratePartition, type PartitionTask } from './range-worker.js';
import { CollectionStats, type BatchContext } from '../../pipeline/batch-pipeline.js';
import { detectDeletes } from '../incremental/detect-deletes.js';
import { syncCollection } from '../incremental/sync-changes.js';
import { createDriftDetector } from '../../pipeline/drift-check.js';
import type { PrismaSchema } from '../../schema/prisma-schema.js';
import { ReferenceIndex } from '../../pipeline/reference-index.js';
import { UniqueKeyPrediction } from '../../pipeline/batch-sinks.js';
import { countDeferred, resolveDeferredReferences } from '../../state/deferred-refs.js';
import { completeHeldChildRows } from './held-child-rows.js';
import { referencesToUnmigrated, unmigratedReferenceLine } from './reference-order.js';
import { mappingFingerprint } from '../../pipeline/fingerprint.js';

export interface MigrateOptions {
  /** Collections to migrate, in any order; the mapping's load order applies. */
  collections: readonly string[];
  dryRun: boolean;
  /** Start the collections over: checkpoints reset; rows are upserted, never deleted. */
  restart: boolean;
  /** After the initial load, sync what changed in MongoDB since the last run (cron). */
  incremental?: boolean;
  /** With incremental: compare id sets to find documents deleted in MongoDB (and unknown ones). */
  detectDeletes?: boolean;
  /** MONGO_URI's database becomes the one this target is migrated from (the source moved). */
  acceptSource?: boolean;
  /**
   * Refuse (exit 3, nothing written) a collection whose required references point to a
   * collection with documents that is neither migrated nor in the run: each of its documents
   * would be rejected, and no later run writes them again (reference-order.ts).
   */
  refuseUnmigratedReferences?: boolean;
  /** With incremental: how far before the saved cursor changed documents are read again. Default 5 min. */
  overlapMs?: number;
  /** Stop cleanly at the next batch boundary after this long; the next run continues. */
  maxDurationMs?: number;
  batchSize?: number;
  concurrency?: number;
  maxRejects?: number;
  /** Between batches, collect garbage once the resident set is over this many bytes (0 or absent: never). */
  memoryBudgetBytes?: number;
  /** Documents per `_id` range (a range is read and written by one worker). */
  partitionSize: number;
  /** At most this many `_id` ranges per collection (default 64; the CLI's default: defaultRangeCount()). */
  maxRanges?: number;
  signal: AbortSignal;
}

export interface MigrateEvents {
  collectionStarted?(name: string, total: number, alreadyRead: number): void;
  batchDone?(name: string, read: number): void;
  collectionFinished?(summary: CollectionSummary): void;
}

export interface CollectionSummary {
  name: string;
  model: string;
  status: 'migrated' | 'synced' | 'already-done' | 'interrupted' | 'dry-run';
  read: number;
  migrated: number;
  rejected: number;
  skippedModified: number;
  /** Documents the application had changed or deleted, replaced because the collection says onConflict 'overwrite' (conflicts record them, resolution 'overwritten'). */
  overwritten: number;
  /** Incremental: documents read again whose rows were already up to date. */
  unchanged: number;
  /** Incremental --detect-deletes: rows removed or marked because their document was deleted in MongoDB. */
  deletedInSource: number;
  /** Incremental --detect-deletes: rows kept although their document was deleted (changed by, or referenced from, the application). */
  deleteBlocked: number;
  orphans: Record<string, number>;
  coercions: Record<string, number>;
  /** Rejected documents per field path. */
  rejectsByField: Record<string, number>;
  rejectSamples: { sourceKey: string; fieldPath: string; reason: string }[];
  /** Fields or BSON types the latest plan never saw (empty when no plan was found). */
  driftWarnings: string[];
  /** Incremental: documents whose updatedAt lies after this run's start (clock skew, bad data): synced when they change, never moving the cursor past the run's start. */
  futureUpdatedAt: { count: number; sampleIds: string[] };
  durationMs: number;
  /** Where the time went, summed over the collection's workers (so it can exceed durationMs): what limits the speed. */
  timings: CollectionTimings;
}

export interface CollectionTimings {
  /** Waiting for MongoDB's next batch (read-ahead included: time not hidden behind the writes). */
  sourceWaitMs: number;
  /** Decoding BSON and converting documents to rows, in this process. */
  convertMs: number;
  /** Reference checks and the batch transactions in PostgreSQL. */
  writeMs: number;
}

export interface MigrateResult {
  runId: string;
  dryRun: boolean;
  incremental: boolean;
  /** True when anything was written (a run with nothing to do leaves no trace, not even a run record). */
  wrote: boolean;
  collections: CollectionSummary[];
  deferredResolved: number;
  interrupted: boolean;
  stoppedByMaxDuration: boolean;
  maxRejectsExceeded: boolean;
}

export interface MigrateDeps {
  db: Db;
  pool: pg.Pool;
  mapping: MigrationMapping;
  /** The Prisma schema, to find rows referencing a row before it is removed (--detect-deletes). */
  schema?: PrismaSchema;
  /** The latest plan file (JSON): documents are compared with its histogram, drift is reported. */
  plan?: unknown;
  events?: MigrateEvents;
}

/**
 * What stops a run between batches — Ctrl-C or SIGTERM (the caller's signal), --max-duration,
 * --max-rejects, a lost lock session — and why it stopped.
 */
class RunControl {
  private readonly stop = new AbortController();
  private readonly deadline: NodeJS.Timeout | undefined;
  private readonly onOuterAbort = () => this.stop.abort(new Error('interrupted'));
  maxRejectsExceeded = false;
  stoppedByMaxDuration = false;
  lockLost = false;

  constructor(private readonly outer: AbortSignal, maxDurationMs: number | undefined) {
    outer.addEventListener('abort', this.onOuterAbort, { once: true });
    if (maxDurationMs) {
      this.deadline = setTimeout(() => {
        this.stoppedByMaxDuration = true;
        this.stop.abort(new Error('max duration'));
      }, maxDurationMs);
    }
  }

  get signal(): AbortSignal {
    return this.stop.signal;
  }

  get aborted(): boolean {
    return this.stop.signal.aborted;
  }

  /** Interrupted by the operator (not by a limit the run was given). */
  get interrupted(): boolean {
    return this.aborted && !this.maxRejectsExceeded && !this.stoppedByMaxDuration;
  }

  tooManyRejects(): void {
    this.maxRejectsExceeded = true;
    this.stop.abort(new Error('max rejects'));
  }

  watchLocks(locks: CollectionLocks | undefined): void {
    void locks?.lost.then(() => {
      this.lockLost = true;
      this.stop.abort(new Error('lock connection lost'));
    });
  }

  /** The run's status once it ended without an error. */
  status(): Exclude<RunStatus, 'running' | 'abandoned' | 'failed'> {
    return this.interrupted ? 'interrupted' : this.maxRejectsExceeded ? 'max-rejects' : this.stoppedByMaxDuration ? 'max-duration' : 'done';
  }

  dispose(): void {
    if (this.deadline) clearTimeout(this.deadline);
    this.outer.removeEventListener('abort', this.onOuterAbort);
  }
}

export async function migrate(deps: MigrateDeps, opts: MigrateOptions): Promise<MigrateResult> {
  const names = deps.mapping.loadOrder.filter((n) => opts.collections.includes(n));
  const run = new RunRecord(randomUUID(), 'migrate', {
    collections: names,
    restart: opts.restart,
    incremental: Boolean(opts.incremental),
    detectDeletes: Boolean(opts.detectDeletes),
    batchSize: opts.batchSize ?? null,
  });
  const control = new RunControl(opts.signal, opts.maxDurationMs);
  if (!opts.dryRun) await ensureStateSchema(deps.pool);
  // The source must be the database this target was migrated from (recorded by the first run that writes).
  await checkSourceDatabase(deps.pool, deps.db.databaseName, { record: !opts.dryRun, accept: opts.acceptSource });
  const locks = opts.dryRun ? undefined : await acquireCollectionLocks(deps.pool, names);
  control.watchLocks(locks);
  const summaries: CollectionSummary[] = [];
  try {
    if (opts.refuseUnmigratedReferences) await refuseUnmigratedReferences(deps, names);
    if (!opts.dryRun) await markAbandonedRuns(deps.pool, names);
    const deferredResolved = await runCollections(deps, opts, { names, run, control, summaries });
    if (control.lockLost) {
      // Another run could take the collections now: stop here, with what was committed kept.
      throw new ConnectionError('PostgreSQL', 'lost the PostgreSQL connection that held the collection locks; stopped at a batch boundary. What was committed is kept: rerun to resume.');
    }
    const ordered = inLoadOrder(names, summaries);
    await run.finish(deps.pool, control.status(), { collections: ordered.map(({ rejectSamples: _r, ...c }) => c) });
    return {
      runId: run.id,
      dryRun: opts.dryRun,
      incremental: Boolean(opts.incremental),
      wrote: run.exists,
      collections: ordered,
      deferredResolved,
      interrupted: control.interrupted,
      stoppedByMaxDuration: control.stoppedByMaxDuration,
      maxRejectsExceeded: control.maxRejectsExceeded,
    };
  } catch (e) {
    // The run's record says it failed, with what each collection did before: never left 'running'.
    const summary = { collections: inLoadOrder(names, summaries).map(({ rejectSamples: _r, ...c }) => c), error: e instanceof Error ? e.message : String(e) };
    await run.finish(deps.pool, 'failed', summary).catch(() => undefined); // the database may be the failure: the error below says so
    throw e;
  } finally {
    control.dispose();
    await locks?.release();
  }
}

/** See MigrateOptions.refuseUnmigratedReferences: checked once the collections are locked (a run holding them says so first, exit 5). */
async function refuseUnmigratedReferences(deps: MigrateDeps, names: readonly string[]): Promise<void> {
  const refused = (await referencesToUnmigrated(deps.mapping, names, deps.pool, deps.db)).filter((r) => r.rejects && !r.empty);
  if (refused.length === 0) return;
  throw new ConfigError(refused.map((r) => ({ path: `collections.${r.collection}`, message: unmigratedReferenceLine(r) })), {
    hint: 'Migrate the referenced collections first (or name them in the same run, which loads them first); nothing was written.',
  });
}

function inLoadOrder(names: readonly string[], summaries: readonly CollectionSummary[]): CollectionSummary[] {
  return names.map((n) => summaries.find((s) => s.name === n)).filter((s): s is CollectionSummary => s !== undefined);
}

interface RunScope {
  names: readonly string[];
  run: RunRecord;
  control: RunControl;
  /** Filled as collections finish (also when another one fails). */
  summaries: CollectionSummary[];
}

/**
 * Every collection in foreign-key order (a collection waits for those it references; the others
 * run in parallel), then the references deferred to break cycles. Returns how many deferred
 * references were resolved. Every collection runs to its end even when another fails; the first
 * failure is then thrown, after the summaries of all the others were collected.
 */
async function runCollections(deps: MigrateDeps, opts: MigrateOptions, scope: RunScope): Promise<number> {
  const { pool, mapping } = deps;
  const { names, run, control } = scope;
  // Work out what is left before writing anything: a run with nothing to do writes nothing.
  const planned = new Map<string, PlannedCollection>();
  for (const name of names) planned.set(name, await planTasks(deps, mapping.collections.get(name) as MappedCollection, opts));
  if (!opts.dryRun) {
    for (const p of planned.values()) if (p.newCheckpoints) await replaceCheckpoints(pool, p.newCheckpoints, run.id, (q) => run.ensure(q));
    if ((await countDeferred(pool, names)) > 0) await run.ensure(pool);
  }
  // A dry run predicts: a reference also resolves when its document is in the source and not predicted rejected.
  const references = new ReferenceIndex(mapping, { target: pool, ...(opts.dryRun ? { source: deps.db, earlierRejects: pool } : {}) });
  const workers = pLimit(opts.concurrency ?? mapping.concurrency);
  const done = new Map<string, Promise<void>>();
  for (const name of names) {
    const collection = mapping.collections.get(name) as MappedCollection;
    const tasks = (planned.get(name) as PlannedCollection).tasks;
    done.set(
      name,
      (async () => {
        await Promise.all(dependenciesOf(collection, names).map((d) => done.get(d)));
        if (control.aborted) return;
        scope.summaries.push(await runCollection(deps, opts, scope, { collection, tasks, references, workers }));
      })(),
    );
  }
  const results = await Promise.allSettled(names.map((n) => done.get(n)));
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) throw failure.reason;
  if (opts.dryRun || !run.exists || control.aborted) return 0;
  return resolveDeferredReferences(pool, mapping, names);
}

interface CollectionJob {
  collection: MappedCollection;
  tasks: PartitionTask[];
  references: ReferenceIndex;
  workers: ReturnType<typeof pLimit>;
}

/** One collection: its remaining ranges (in parallel), then the incremental sync and --detect-deletes. */
async function runCollection(deps: MigrateDeps, opts: MigrateOptions, scope: RunScope, job: CollectionJob): Promise<CollectionSummary> {
  const { collection, tasks, workers } = job;
  const name = collection.name;
  const started = Date.now();
  const stats = new CollectionStats();
  deps.events?.collectionStarted?.(name, await approximateCount(deps.db, name), 0);
  const drift = deps.plan !== undefined ? createDriftDetector(deps.plan, name) : undefined;
  // A failed range stops the collection's other ranges at their next batch (not other collections: they run to their end).
  const rangeFailed = new AbortController();
  const ctx = { ...batchContext(deps, opts, scope, { collection, stats, drift, references: job.references }), signal: AbortSignal.any([scope.control.signal, rangeFailed.signal]) };
  // Every range settles before the collection's failure is thrown: a range still reading or
  // writing after the command closed its connections failed on a closed cursor instead (exit 1,
  // MongoCursorExhaustedError). The first failure stops the others at their next batch; a range
  // stopped so is not done.
  const ranges = await Promise.allSettled(
    tasks.map((task) =>
      workers(async () => {
        if (ctx.signal.aborted) return;
        try {
          await migratePartition(task, ctx);
        } catch (e) {
          rangeFailed.abort(e);
          throw e;
        }
        if (!opts.dryRun && !ctx.signal.aborted) await markRangeDone(deps.pool, name, task.partition);
      }),
    ),
  );
  const failedRange = ranges.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failedRange) throw failedRange.reason;
  const synced = Boolean(opts.incremental) && !opts.dryRun && !scope.control.aborted;
  let futureUpdatedAt = { count: 0, sampleIds: [] as string[] };
  if (synced) {
    ({ futureUpdatedAt } = await workers(() => syncCollection(collection, ctx, { overlapMs: opts.overlapMs ?? DEFAULT_OVERLAP_MS, detectDeletesFollows: Boolean(opts.detectDeletes) })));
    if (opts.detectDeletes && !scope.control.aborted) {
      if (!deps.schema) throw new HybridMigrateError('DETECT_DELETES_NEEDS_SCHEMA', ExitCode.Config, 'detect-deletes needs the Prisma schema (to find rows that reference a deleted document).');
      await workers(() => detectDeletes(collection, deps.schema as PrismaSchema, ctx));
    }
  }
  // Child rows held back because they referred to documents of the collection not written yet: all are now.
  if (!opts.dryRun && !scope.control.aborted) await workers(() => completeHeldChildRows(collection, writePlanFor(collection), ctx));
  // Tables just loaded have no planner statistics yet: every later lookup of a batch's rows (verify,
  // the next sync, the application's own queries) would be planned as if they were empty.
  if (!opts.dryRun && !scope.control.aborted && stats.migrated + stats.deletedInSource > 0) await analyzeStaleTables(deps.pool, modelsOfCollections(deps.mapping, [collection.name]));
  const status = scope.control.aborted ? 'interrupted' : opts.dryRun ? 'dry-run' : tasks.length > 0 ? 'migrated' : synced ? 'synced' : 'already-done';
  const summary = { ...summarize(collection, status, stats, started, drift?.warnings() ?? []), futureUpdatedAt };
  deps.events?.collectionFinished?.(summary);
  return summary;
}

/** The context the batch pipeline runs in, for one collection of this run. */
function batchContext(
  deps: MigrateDeps,
  opts: MigrateOptions,
  scope: RunScope,
  c: { collection: MappedCollection; stats: CollectionStats; drift: BatchContext['drift']; references: ReferenceIndex },
): BatchContext {
  const maxRejects = opts.maxRejects ?? deps.mapping.maxRejects;
  return {
    drift: c.drift,
    db: deps.db,
    pool: deps.pool,
    runId: scope.run.id,
    batchSize: opts.batchSize ?? c.collection.batchSize,
    memoryBudgetBytes: opts.memoryBudgetBytes ?? 0,
    dryRun: opts.dryRun,
    references: c.references,
    // The dry run's unique keys, one memory per collection shared by its ranges: refused as PostgreSQL would.
    uniques: opts.dryRun ? new UniqueKeyPrediction(c.collection) : undefined,
    stats: c.stats,
    signal: scope.control.signal,
    beforeWrite: (client) => scope.run.ensure(client),
    onBatch: (read) => {
      deps.events?.batchDone?.(c.collection.name, read);
      const totalRejected = scope.summaries.reduce((n, s) => n + s.rejected, 0) + c.stats.rejected;
      if (maxRejects !== undefined && totalRejected > maxRejects) scope.control.tooManyRejects();
    },
  };
}

function summarize(collection: MappedCollection, status: CollectionSummary['status'], stats: CollectionStats, started: number, driftWarnings: string[]): Omit<CollectionSummary, 'futureUpdatedAt'> {
  return {
    name: collection.name,
    model: collection.model.name,
    status,
    read: stats.read,
    migrated: stats.migrated,
    rejected: stats.rejected,
    skippedModified: stats.skippedModified,
    overwritten: stats.overwritten,
    unchanged: stats.unchanged,
    deletedInSource: stats.deletedInSource,
    deleteBlocked: stats.deleteBlocked,
    orphans: Object.fromEntries(stats.orphans),
    coercions: Object.fromEntries(stats.coercions),
    rejectsByField: Object.fromEntries(stats.rejectsByField),
    rejectSamples: stats.rejectSamples.map(({ sourceKey, fieldPath, reason }) => ({ sourceKey, fieldPath, reason })),
    driftWarnings,
    durationMs: Date.now() - started,
    timings: { sourceWaitMs: Math.round(stats.sourceWaitMs), convertMs: Math.round(stats.convertMs), writeMs: Math.round(stats.writeMs) },
  };
}

/** Changed documents are read again from this long before the saved cursor: clock skew between app servers, slow writers. */
export const DEFAULT_OVERLAP_MS = 5 * 60_000;

/** Collections this one must wait for: the targets of its non-deferred references within the run. */
function dependenciesOf(collection: MappedCollection, names: readonly string[]): string[] {
  const out = new Set<string>();
  for (const col of collectionColumns(collection)) {
    const s = col.source;
    if (s.kind === 'reference' && !s.deferred && s.targetCollection !== collection.name && names.includes(s.targetCollection)) out.add(s.targetCollection);
  }
  return [...out];
}

interface PlannedCollection {
  tasks: PartitionTask[];
  /** Checkpoints to record before the work starts (first run or --restart). */
  newCheckpoints: CheckpointRow[] | undefined;
}

/**
 * The ranges still to do, read-only. First run: ranges computed (mode 'fresh' when the
 * migration never wrote this collection, so COPY goes straight into the table). --restart:
 * checkpoints replaced and every range upserts.
 */
async function planTasks(deps: MigrateDeps, collection: MappedCollection, opts: MigrateOptions): Promise<PlannedCollection> {
  const { pool, db } = deps;
  const plan = writePlanFor(collection);
  const fingerprint = mappingFingerprint(collection);
  let rows = await readCheckpoints(pool, collection.name);
  let newCheckpoints: CheckpointRow[] | undefined;
  if (rows.length > 0 && !opts.restart && rows.some((r) => r.mapping_fingerprint !== fingerprint)) {
    throw new HybridMigrateError(
      'CHECKPOINT_MAPPING_CHANGED',
      ExitCode.Config,
      `Collection "${collection.name}": its checkpoints were written with a different mapping (configuration or Prisma schema changed since).`,
      { entity: collection.name, hint: 'Pass --restart to migrate it again with the new mapping (rows are upserted, never deleted), or restore the previous configuration.' },
    );
  }
  if (rows.length === 0 || opts.restart) {
    const ranges = await computeRanges(db, collection.name, { partitionSize: opts.partitionSize, maxPartitions: Math.min(MAX_RANGES, opts.maxRanges ?? MAX_RANGES) });
    const mode = opts.restart || (await hasRegisteredRows(pool, collection.name)) ? 'upsert' : 'fresh';
    rows = ranges.map((range, i) => ({
      collection: collection.name,
      partition: i,
      range_start: range.start,
      range_end: range.end,
      last_key: null,
      docs_read: '0',
      docs_written: '0',
      docs_rejected: '0',
      status: 'pending',
      mode,
      mapping_fingerprint: fingerprint,
    }));
    newCheckpoints = rows;
  }
  assertStoredRangesSound(rows, collection.name);
  const tasks = rows
    .filter((r) => r.status !== 'done')
    .map((r) => ({ collection, plan, partition: r.partition, range: { start: r.range_start, end: r.range_end }, lastKey: r.last_key, mode: r.mode }));
  return { tasks, newCheckpoints };
}

/**
 * Ranges saved by an earlier version could overlap (split points taken in the order a server
 * returned them): a resume must not reuse such ranges, it would migrate and reject documents twice.
 */
function assertStoredRangesSound(rows: readonly CheckpointRow[], collection: string): void {
  try {
    checkRanges([...rows].sort((a, b) => a.partition - b.partition).map((r) => ({ start: r.range_start, end: r.range_end })), collection);
  } catch (e) {
    throw new HybridMigrateError('CHECKPOINT_RANGES_INVALID', ExitCode.Config, `Collection "${collection}": its saved _id ranges are not sorted, disjoint and covering (written by an earlier version).`, {
      entity: collection,
      hint: 'Pass --restart to compute the ranges again (rows are upserted, never deleted).',
      cause: e,
    });
  }
}
