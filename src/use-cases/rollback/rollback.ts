/**
 * `rollback`: removes exactly what the migration wrote (its id_map says which rows), in
 * reverse foreign-key order and in batches of one transaction each, and nothing the
 * application wrote, changed or still references. Then the collection's migration state
 * (checkpoints, rejects, deferred references) goes, so `migrate` can run it again.
 *
 * Resumable by construction: every batch commits its deletes with their id_map rows, the
 * scope is rebuilt from id_map on every run, so a killed rollback rerun reaches the same end
 * state and a second rollback deletes nothing. Takes the collections' locks as migrate does.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { MappedCollection, MigrationMapping } from '../../core/mapping.js';
import { acquireCollectionLocks } from '../../state/collection-lock.js';
import { ensureStateSchema, stateSchemaExists } from '../../state/schema.js';
import { assertRunExists, markAbandonedRuns, RunRecord } from '../../state/runs.js';
import { forgetCheckpoints } from '../../state/checkpoints.js';
import { forgetRejects } from '../../state/rejects.js';
import { forgetUnmappedDeferred } from '../../state/deferred-refs.js';
import { forgetSyncCursor } from '../../state/sync-cursors.js';
import { forgetUnmappedConflicts } from '../../state/conflicts.js';
import { hasRegisteredRows } from '../../state/registry.js';
import { rollbackBatch } from './rollback-batch.js';
import { blockedReasons, blockForeignChildren, blockReferencedRows, classifyRows, createScope, pendingChildCounts, SCOPE, scopeCounts, scopeSamples, type RollbackSample } from './rollback-scope.js';
import { childTablesOf, rollbackTarget, type RollbackTarget } from './rollback-targets.js';

export interface RollbackOptions {
  /** Collections to roll back, in any order; they are processed in reverse load order. */
  collections: readonly string[];
  /** Only the rows this migrate run wrote (id_map.run_id). */
  runId?: string;
  dryRun: boolean;
  /** Also delete rows the application changed since they were migrated. */
  force: boolean;
  /** Rows per batch (per transaction). */
  batchSize: number;
  /** Samples per category in the report. */
  sampleSize?: number;
  signal: AbortSignal;
}

export interface RollbackEvents {
  batchDone?(collection: string, deleted: number): void;
}

/** One collection's outcome. `deleted` counts this run's deletes (or, dry run, what would be deleted). */
export interface RollbackCollectionResult {
  name: string;
  model: string;
  table: string;
  status: 'rolled-back' | 'partial' | 'nothing-to-do' | 'dry-run' | 'interrupted';
  /** id_map rows in scope when the rollback started. */
  inScope: number;
  deleted: number;
  childRowsDeleted: Record<string, number>;
  skippedModified: number;
  blocked: number;
  /** Migrated rows the application had already deleted: only their id_map rows went. */
  alreadyGone: number;
  /** References cleared on rows rolled back later in the same run (foreign-key cycles). */
  referencesCleared: number;
  blockedReasons: Record<string, number>;
  samples: { deleted: RollbackSample[]; skippedModified: RollbackSample[]; blocked: RollbackSample[] };
  durationMs: number;
}

export interface RollbackResult {
  /** hybrid_migrate.runs id of this rollback (undefined for a dry run, which records nothing). */
  rollbackId: string | undefined;
  runId: string | null;
  dryRun: boolean;
  force: boolean;
  interrupted: boolean;
  collections: RollbackCollectionResult[];
}

export interface RollbackDeps {
  pool: pg.Pool;
  mapping: MigrationMapping;
  /** Every collection of the configuration (not only those rolled back): whose child tables other rows may sit in. */
  configured?: Iterable<MappedCollection>;
  events?: RollbackEvents;
}

export async function rollback(deps: RollbackDeps, opts: RollbackOptions): Promise<RollbackResult> {
  const { pool, mapping } = deps;
  // Children before parents: the reverse of the load order.
  const names = [...mapping.loadOrder].reverse().filter((n) => opts.collections.includes(n));
  const stop = new AbortController();
  const onAbort = () => stop.abort(new Error('interrupted'));
  opts.signal.addEventListener('abort', onAbort, { once: true });
  if (!opts.dryRun) await ensureStateSchema(pool);
  else if (!(await stateSchemaExists(pool))) return emptyResult(names, mapping, opts);
  if (opts.runId) await assertRunExists(pool, opts.runId);
  const locks = opts.dryRun ? undefined : await acquireCollectionLocks(pool, names);
  void locks?.lost.then(() => stop.abort(new Error('lock connection lost')));
  // One session for the whole rollback: the scope is a temporary table of this session.
  const client = await pool.connect();
  const run = opts.dryRun ? undefined : new RunRecord(randomUUID(), 'rollback', { collections: names, run: opts.runId ?? null, force: opts.force, batchSize: opts.batchSize });
  const rollbackId = run?.id;
  try {
    if (run) await markAbandonedRuns(pool, names);
    const targets: RollbackTarget[] = [];
    const childTables = childTablesOf(deps.configured ?? mapping.collections.values());
    for (const name of names) targets.push(await rollbackTarget(client, mapping.collections.get(name) as MappedCollection, childTables));
    await createScope(client, names, opts.runId);
    for (const target of targets) {
      await classifyRows(client, target, opts.force);
      await blockForeignChildren(client, target);
    }
    await blockReferencedRows(client, targets);
    await run?.ensure(client);
    const results: RollbackCollectionResult[] = [];
    for (const target of targets) {
      results.push(opts.dryRun ? await planCollection(client, target, mapping, opts) : await rollbackCollection(client, target, mapping, opts, stop.signal, deps.events));
    }
    const interrupted = stop.signal.aborted;
    await run?.finish(client, interrupted ? 'interrupted' : 'done', { collections: results.map(({ samples: _s, ...r }) => r) });
    return { rollbackId, runId: opts.runId ?? null, dryRun: opts.dryRun, force: opts.force, interrupted, collections: results };
  } catch (e) {
    // Never left 'running': the record says the rollback failed (the database may be the failure: the error below says so).
    await run?.finish(pool, 'failed', { error: e instanceof Error ? e.message : String(e) }).catch(() => undefined);
    throw e;
  } finally {
    // Closing the session discards the temporary scope table: no DROP statement is ever sent.
    client.release(true);
    opts.signal.removeEventListener('abort', onAbort);
    await locks?.release();
  }
}

async function rollbackCollection(
  client: pg.PoolClient,
  target: RollbackTarget,
  mapping: MigrationMapping,
  opts: RollbackOptions,
  signal: AbortSignal,
  events: RollbackEvents | undefined,
): Promise<RollbackCollectionResult> {
  const started = Date.now();
  const before = await scopeCounts(client, target.collection);
  const inScope = Object.values(before).reduce((a, b) => a + b, 0);
  let deleted = 0;
  let cleared = 0;
  const childRowsDeleted: Record<string, number> = Object.fromEntries(target.children.map((c) => [c.label, 0]));
  // Checkpoints go first: a rollback killed part-way leaves the collection "to migrate again", never "done" with rows missing.
  if (before.pending > 0 || before.gone > 0) await forgetProgress(client, target.collection, opts.runId, 'checkpoints');
  let after = '00000000-0000-0000-0000-000000000000';
  while (!signal.aborted) {
    const batch = await client.query<{ uuid: string }>(
      `SELECT uuid::text AS uuid FROM ${SCOPE} WHERE collection = $1 AND status IN ('pending', 'gone') AND uuid > $2::uuid ORDER BY uuid LIMIT $3`,
      [target.collection, after, opts.batchSize],
    );
    const ids = batch.rows.map((r) => r.uuid);
    if (ids.length === 0) break;
    after = ids[ids.length - 1] as string;
    const counts = await rollbackBatch(client, target, ids, opts.force);
    deleted += counts.deleted;
    cleared += counts.nulled;
    for (const [k, n] of Object.entries(counts.children)) childRowsDeleted[k] = (childRowsDeleted[k] ?? 0) + n;
    events?.batchDone?.(target.collection, counts.deleted);
  }
  const interrupted = signal.aborted;
  if (!interrupted && (deleted > 0 || before.gone > 0 || !(await hasRegisteredRows(client, target.collection)))) {
    await forgetProgress(client, target.collection, opts.runId, 'rest');
  }
  const counts = await scopeCounts(client, target.collection);
  const kept = counts.modified + counts.blocked;
  return {
    ...(await describe(client, target, mapping, opts)),
    status: interrupted ? 'interrupted' : inScope === 0 ? 'nothing-to-do' : kept > 0 ? 'partial' : 'rolled-back',
    inScope,
    deleted,
    childRowsDeleted,
    skippedModified: counts.modified,
    blocked: counts.blocked,
    alreadyGone: counts.gone,
    referencesCleared: cleared,
    durationMs: Date.now() - started,
  };
}

/** Dry run: the plan as the scope stands after classification and blocking; nothing is written. */
async function planCollection(client: pg.PoolClient, target: RollbackTarget, mapping: MigrationMapping, opts: RollbackOptions): Promise<RollbackCollectionResult> {
  const started = Date.now();
  const counts = await scopeCounts(client, target.collection);
  return {
    ...(await describe(client, target, mapping, opts)),
    status: 'dry-run',
    inScope: Object.values(counts).reduce((a, b) => a + b, 0),
    deleted: counts.pending,
    childRowsDeleted: await pendingChildCounts(client, target),
    skippedModified: counts.modified,
    blocked: counts.blocked,
    alreadyGone: counts.gone,
    referencesCleared: 0,
    durationMs: Date.now() - started,
  };
}

async function describe(client: pg.PoolClient, target: RollbackTarget, mapping: MigrationMapping, opts: RollbackOptions) {
  const n = opts.sampleSize ?? 5;
  return {
    name: target.collection,
    model: mapping.collections.get(target.collection)?.model.name ?? target.modelName,
    table: target.label,
    blockedReasons: await blockedReasons(client, target.collection),
    samples: {
      deleted: await scopeSamples(client, target.collection, opts.dryRun ? 'pending' : 'deleted', n),
      skippedModified: await scopeSamples(client, target.collection, 'modified', n),
      blocked: await scopeSamples(client, target.collection, 'blocked', n),
    },
  };
}

/**
 * The collection's migration state: checkpoints (so the next migrate starts over: fresh when
 * nothing of it is left, upsert over the kept rows otherwise), then its rejects and the
 * deferred references of rows no longer mapped. With --run, only that run's rejects.
 */
async function forgetProgress(client: pg.PoolClient, collection: string, runId: string | undefined, what: 'checkpoints' | 'rest'): Promise<void> {
  await forgetCheckpoints(client, collection);
  if (what === 'checkpoints') return;
  await forgetRejects(client, collection, runId);
  await forgetUnmappedDeferred(client, collection);
  // Incremental sync's cursor would skip the deleted rows; recorded conflicts of rows no longer mapped mean nothing.
  await forgetSyncCursor(client, collection);
  await forgetUnmappedConflicts(client, collection);
}

function emptyResult(names: readonly string[], mapping: MigrationMapping, opts: RollbackOptions): RollbackResult {
  return {
    rollbackId: undefined,
    runId: opts.runId ?? null,
    dryRun: opts.dryRun,
    force: opts.force,
    interrupted: false,
    collections: names.map((name) => ({
      name,
      model: mapping.collections.get(name)?.model.name ?? name,
      table: mapping.collections.get(name)?.model.table ?? name,
      status: 'nothing-to-do',
      inScope: 0,
      deleted: 0,
      childRowsDeleted: {},
      skippedModified: 0,
      blocked: 0,
      alreadyGone: 0,
      referencesCleared: 0,
      blockedReasons: {},
      samples: { deleted: [], skippedModified: [], blocked: [] },
      durationMs: 0,
    })),
  };
}
