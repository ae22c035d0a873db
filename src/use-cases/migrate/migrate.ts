/**
 * `migrate`: every requested collection in foreign-key order (independent ones in
 * parallel), each split into `_id` ranges with their own checkpoints; then the references
 * deferred to break cycles. Takes the collections' locks first and gives them back last.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Db } from 'mongodb';
import type pg from 'pg';
import pLimit from 'p-limit';
import type { MappedCollection, MigrationMapping } from '../../core/mapping.js';
import { HybridMigrateError, ExitCode, RunFailedError } from '../../core/errors.js';
import { computeRanges } from '../../source/partitions.js';
import { approximateCount } from '../../source/mongo-source.js';
import { writePlanFor } from '../../target/batch-writer.js';
import { acquireCollectionLocks } from '../../state/collection-lock.js';
import { ensureStateSchema, readCheckpoints, stateTable, type CheckpointRow } from '../../state/state-store.js';
import { migratePartition, type PartitionTask } from './range-worker.js';
import { CollectionStats, type BatchContext } from '../../pipeline/batch-pipeline.js';
import { detectDeletes } from '../incremental/detect-deletes.js';
import { startSyncState, syncCollection } from '../incremental/sync-changes.js';
import { createDriftDetector } from '../../pipeline/drift-check.js';
import type { PrismaSchema } from '../../schema/prisma-schema.js';
import { ReferenceIndex } from '../../pipeline/reference-index.js';
import { UniqueKeyPrediction } from '../../pipeline/batch-sinks.js';
import { resolveDeferredReferences } from './deferred-references.js';
import { mappingFingerprint } from '../../pipeline/fingerprint.js';
import { withTransaction } from '../../target/transaction.js';

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

/** The run's record in hybrid_migrate.runs, written with the first batch that writes anything. */
class RunRecord {
  private created = false;
  constructor(
    readonly id: string,
    private readonly options: unknown,
  ) {}

  get exists(): boolean {
    return this.created;
  }

  async ensure(client: pg.PoolClient | pg.Pool): Promise<void> {
    if (this.created) return;
    await client.query(
      `INSERT INTO ${stateTable('runs')} (id, command, options, host, pid) VALUES ($1, 'migrate', $2, $3, $4) ON CONFLICT (id) DO NOTHING`,
      [this.id, JSON.stringify(this.options), hostname(), process.pid],
    );
    this.created = true;
  }
}

export async function migrate(deps: MigrateDeps, opts: MigrateOptions): Promise<MigrateResult> {
  const { mapping, pool } = deps;
  const names = mapping.loadOrder.filter((n) => opts.collections.includes(n));
  const run = new RunRecord(randomUUID(), {
    collections: names,
    restart: opts.restart,
    incremental: Boolean(opts.incremental),
    detectDeletes: Boolean(opts.detectDeletes),
    batchSize: opts.batchSize ?? null,
  });
  const runId = run.id;
  const concurrency = opts.concurrency ?? mapping.concurrency;
  const maxRejects = opts.maxRejects ?? mapping.maxRejects;
  const stop = new AbortController();
  const onOuterAbort = () => stop.abort(new Error('interrupted'));
  opts.signal.addEventListener('abort', onOuterAbort, { once: true });
  let maxRejectsExceeded = false;
  let stoppedByMaxDuration = false;
  const deadline = opts.maxDurationMs
    ? setTimeout(() => {
        stoppedByMaxDuration = true;
        stop.abort(new Error('max duration'));
      }, opts.maxDurationMs)
    : undefined;

  if (!opts.dryRun) await ensureStateSchema(pool);
  const locks = opts.dryRun ? undefined : await acquireCollectionLocks(pool, names);
  let lockLost = false;
  locks?.lost.then(() => {
    lockLost = true;
    stop.abort(new Error('lock connection lost'));
  });
  try {
    // Work out what is left before writing anything: a run with nothing to do writes nothing.
    const planned = new Map<string, PlannedCollection>();
    for (const name of names) planned.set(name, await planTasks(deps, mapping.collections.get(name) as MappedCollection, opts));
    const pendingDeferred = opts.dryRun ? 0 : await countDeferred(pool, names);
    if (!opts.dryRun) {
      for (const p of planned.values()) {
        if (!p.newCheckpoints) continue;
        await run.ensure(pool);
        await recordCheckpoints(pool, p.newCheckpoints, runId);
      }
      if (pendingDeferred > 0) await run.ensure(pool);
    }
    // A dry run predicts: a reference also resolves when its document is in the source and not predicted rejected.
    const references = new ReferenceIndex(mapping, { target: pool, source: opts.dryRun ? deps.db : undefined });
    const workers = pLimit(concurrency);
    const done = new Map<string, Promise<void>>();
    const summaries: CollectionSummary[] = [];

    const runCollection = async (name: string): Promise<void> => {
      const collection = mapping.collections.get(name) as MappedCollection;
      const waitFor = dependenciesOf(collection, names);
      await Promise.all(waitFor.map((d) => done.get(d)));
      if (stop.signal.aborted) return;
      const started = Date.now();
      const stats = new CollectionStats();
      const tasks = (planned.get(name) as PlannedCollection).tasks;
      const batchSize = opts.batchSize ?? collection.batchSize;
      const total = await approximateCount(deps.db, name);
      deps.events?.collectionStarted?.(name, total, 0);
      const drift = deps.plan !== undefined ? createDriftDetector(deps.plan, name) : undefined;
      const ctx: BatchContext = {
        drift,
        db: deps.db,
        pool,
        runId,
        batchSize,
        memoryBudgetBytes: opts.memoryBudgetBytes ?? 0,
        dryRun: opts.dryRun,
        references,
        // The dry run's unique keys, one memory per collection shared by its ranges: refused as PostgreSQL would.
        uniques: opts.dryRun ? new UniqueKeyPrediction(collection) : undefined,
        stats,
        signal: stop.signal,
        beforeWrite: (client) => run.ensure(client),
        onBatch: (read) => {
          deps.events?.batchDone?.(name, read);
          const totalRejected = summaries.reduce((n, s) => n + s.rejected, 0) + stats.rejected;
          if (maxRejects !== undefined && totalRejected > maxRejects) {
            maxRejectsExceeded = true;
            stop.abort(new Error('max rejects'));
          }
        },
      };
      await Promise.all(
        tasks.map((task) =>
          workers(async () => {
            if (stop.signal.aborted) return;
            await migratePartition(task, ctx);
            if (!opts.dryRun && !stop.signal.aborted) {
              await pool.query(`UPDATE ${stateTable('checkpoints')} SET status = 'done', updated_at = now() WHERE collection = $1 AND partition = $2`, [name, task.partition]);
            }
          }),
        ),
      );
      const synced = Boolean(opts.incremental) && !opts.dryRun && !stop.signal.aborted;
      if (synced) {
        await workers(() => syncCollection(collection, ctx, { overlapMs: opts.overlapMs ?? DEFAULT_OVERLAP_MS }));
        if (opts.detectDeletes && !stop.signal.aborted) {
          if (!deps.schema) throw new Error('detect-deletes needs the Prisma schema');
          await workers(() => detectDeletes(collection, deps.schema as PrismaSchema, ctx));
        }
      }
      const status: CollectionSummary['status'] = stop.signal.aborted
        ? 'interrupted'
        : opts.dryRun
          ? 'dry-run'
          : tasks.length > 0
            ? 'migrated'
            : synced
              ? 'synced'
              : 'already-done';
      const summary: CollectionSummary = {
        name,
        model: collection.model.name,
        status,
        read: stats.read,
        migrated: stats.migrated,
        rejected: stats.rejected,
        skippedModified: stats.skippedModified,
        unchanged: stats.unchanged,
        deletedInSource: stats.deletedInSource,
        deleteBlocked: stats.deleteBlocked,
        orphans: Object.fromEntries(stats.orphans),
        coercions: Object.fromEntries(stats.coercions),
        rejectsByField: Object.fromEntries(stats.rejectsByField),
        rejectSamples: stats.rejectSamples.map(({ sourceKey, fieldPath, reason }) => ({ sourceKey, fieldPath, reason })),
        driftWarnings: drift?.warnings() ?? [],
        durationMs: Date.now() - started,
        timings: { sourceWaitMs: Math.round(stats.sourceWaitMs), convertMs: Math.round(stats.convertMs), writeMs: Math.round(stats.writeMs) },
      };
      summaries.push(summary);
      deps.events?.collectionFinished?.(summary);
    };

    for (const name of names) done.set(name, runCollection(name));
    const results = await Promise.allSettled(names.map((n) => done.get(n)));
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) throw failure.reason;

    let deferredResolved = 0;
    if (!opts.dryRun && run.exists && !stop.signal.aborted) deferredResolved = await resolveDeferredReferences(pool, mapping, names);

    if (lockLost) {
      // Another run could take the collections now: stop here, with what was committed kept.
      throw new RunFailedError('Lost the PostgreSQL connection that held the collection locks; stopped at a batch boundary. What was committed is kept: rerun to resume.');
    }
    const interrupted = stop.signal.aborted && !maxRejectsExceeded && !stoppedByMaxDuration;
    const ordered = names.map((n) => summaries.find((s) => s.name === n)).filter((s): s is CollectionSummary => s !== undefined);
    if (!opts.dryRun && run.exists) {
      await pool.query(`UPDATE ${stateTable('runs')} SET finished_at = now(), status = $2, summary = $3 WHERE id = $1`, [
        runId,
        interrupted ? 'interrupted' : maxRejectsExceeded ? 'max-rejects' : stoppedByMaxDuration ? 'max-duration' : 'done',
        JSON.stringify({ collections: ordered.map(({ rejectSamples: _r, ...s }) => s) }),
      ]);
    }
    return {
      runId,
      dryRun: opts.dryRun,
      incremental: Boolean(opts.incremental),
      wrote: run.exists,
      collections: ordered,
      deferredResolved,
      interrupted,
      stoppedByMaxDuration,
      maxRejectsExceeded,
    };
  } finally {
    if (deadline) clearTimeout(deadline);
    opts.signal.removeEventListener('abort', onOuterAbort);
    await locks?.release();
  }
}

/** Changed documents are read again from this long before the saved cursor: clock skew between app servers, slow writers. */
export const DEFAULT_OVERLAP_MS = 5 * 60_000;

/** Collections this one must wait for: the targets of its non-deferred references within the run. */
function dependenciesOf(collection: MappedCollection, names: readonly string[]): string[] {
  const out = new Set<string>();
  for (const col of [...collection.columns, ...collection.children.flatMap((c) => c.columns)]) {
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
  let rows = await readCheckpointsIfAny(pool, collection.name);
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
    const ranges = await computeRanges(db, collection.name, { partitionSize: opts.partitionSize, maxPartitions: 64 });
    const mode = opts.restart || (await hasMappedRows(pool, collection.name)) ? 'upsert' : 'fresh';
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
  const tasks = rows
    .filter((r) => r.status !== 'done')
    .map((r) => ({ collection, plan, partition: r.partition, range: { start: r.range_start, end: r.range_end }, lastKey: r.last_key, mode: r.mode }));
  return { tasks, newCheckpoints };
}

async function hasMappedRows(pool: pg.Pool, collection: string): Promise<boolean> {
  try {
    const r = await pool.query(`SELECT 1 FROM ${stateTable('id_map')} WHERE collection = $1 LIMIT 1`, [collection]);
    return r.rows.length > 0;
  } catch {
    return false; // no state schema yet (dry run on a fresh database)
  }
}

async function countDeferred(pool: pg.Pool, collections: readonly string[]): Promise<number> {
  const r = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${stateTable('deferred_refs')} WHERE collection = ANY($1::text[])`, [collections]);
  return Number(r.rows[0]?.n ?? 0);
}

/** Replaces a collection's checkpoints in one transaction (first run, or --restart). */
async function recordCheckpoints(pool: pg.Pool, rows: readonly CheckpointRow[], runId: string): Promise<void> {
  const first = rows[0];
  if (!first) return;
  await withTransaction(pool, async (client) => {
    await client.query(`DELETE FROM ${stateTable('checkpoints')} WHERE collection = $1`, [first.collection]);
    for (const row of rows) {
      await client.query(
        `INSERT INTO ${stateTable('checkpoints')} (collection, partition, range_start, range_end, mode, mapping_fingerprint, run_id) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [row.collection, row.partition, row.range_start, row.range_end, row.mode, row.mapping_fingerprint, runId],
      );
    }
    // Whatever changes from now on is for the incremental sync to pick up.
    await startSyncState(client, first.collection, new Date(), runId);
  });
}

async function readCheckpointsIfAny(pool: pg.Pool, collection: string): Promise<CheckpointRow[]> {
  try {
    return await readCheckpoints(pool, collection);
  } catch {
    return []; // dry run against a database the tool never wrote to: no state schema yet
  }
}
