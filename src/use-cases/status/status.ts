/**
 * `status`: both databases (state, version, latency, data volume, the last run's request
 * metrics) and, per collection, who wrote what (migration vs application), what is left,
 * the last run and verification, and whether the collection is ready for Phase 3.
 * Read-only: it never creates the state schema nor writes a row. A database that is down
 * is reported and the other one is still read.
 */
import { pgTimeoutKind } from '../../core/errors.js';
import type pg from 'pg';
import type { Db } from 'mongodb';
import type { MappedCollection, MigrationMapping } from '../../core/mapping.js';
import type { DatabaseMetrics } from '../../core/metrics.js';
import type { ProbeResult, DatabaseProbe } from './status-probe.js';
import { assessReadiness, type Readiness } from './status-readiness.js';
import { changedSince, collectionSize, exactProgress, futureUpdatedAt } from './status-source.js';
import { mongoVolume, postgresVolume, tableBytes } from './status-metrics.js';
import { stateTables, type StateTables } from '../../state/schema.js';
import { latestRunMetrics, lastRuns, type LatestRunMetrics, type RunInfo } from '../../state/runs.js';
import { checkpointSummary, type CheckpointSummary } from '../../state/checkpoints.js';
import { targetCounts, type TargetCounts } from '../../state/registry.js';
import { changePassForStatus, syncCursorForStatus } from '../../state/sync-cursors.js';
import { applicationDeletedRows, lastMigrationWrite, type ApplicationDeletes } from '../../state/registry-status.js';
import { writePlanFor } from '../../target/batch-writer.js';
import { lastVerification, type VerificationInfo } from './status-verification.js';

/** The customer's extended health check, as their application returns it. */
export interface HealthReport {
  /** `ok`: both connected; `degraded`: one down; `down`: both. */
  status: 'ok' | 'degraded' | 'down';
  databases: { mongodb: 'connected' | 'disconnected'; postgresql: 'connected' | 'error' };
  timestamp: string;
}

export interface DatabaseStatus extends DatabaseProbe {
  /** Data volume: MongoDB dbStats, PostgreSQL database size and the tool's own schema. */
  volume: Record<string, number> | null;
  /** Request metrics of the latest run that stored some (see `StatusReport.metricsRun`). */
  lastRunMetrics: DatabaseMetrics | null;
}

export interface CollectionStatus {
  name: string;
  model: string;
  table: string;
  /** Documents in MongoDB (null: MongoDB not reachable). */
  documents: number | null;
  /** Registry entries: documents the migration wrote. */
  migrated: number | null;
  /** Source documents neither migrated, left to the application, nor rejected. */
  pending: number | null;
  /** True when `pending` comes from comparing every `_id` with the registry, false when estimated from counts. */
  pendingExact: boolean;
  rejected: number | null;
  /**
   * Documents the migration left to the application, never written by it: the application had
   * written their row itself, under the document's UUID (each recorded as a conflict).
   */
  leftToApplication: number | null;
  /** Exact mode only: migrated documents no longer in MongoDB (deleted there since). */
  deletedInSource: number | null;
  /** Rows of the model's table: all, written by the migration, written by the application. */
  rows: { total: number; migration: number; application: number } | null;
  /** Sizes: collStats of the collection, pg_total_relation_size of the table and its child tables. */
  volume: { mongodbBytes: number | null; postgresqlBytes: number | null };
  checkpoints: CheckpointSummary | null;
  lastRun: RunInfo | null;
  /** null: never verified. */
  lastVerification: VerificationInfo | null;
  /** Incremental sync cursor, when the collection has one. */
  sync: { cursorUpdatedAt: string | null; lastSyncedAt: string | null } | null;
  /** Source documents whose updatedAt is after the start of the last complete migrate run (and not in the future). */
  changedSinceLastRun: number | null;
  /** Documents whose updatedAt lies in the future: synced by every run when they change, reported as a warning (null: MongoDB not reachable). */
  futureUpdatedAt: { count: number; sampleIds: string[] } | null;
  /** Changes no updatedAt shows: documents without a date in the updatedAt field, and the change-detecting passes (--detect-changes). */
  changeDetection: ChangeDetectionStatus | null;
  /** Rows the migration wrote that the application deleted since (main rows, and child rows under a main row still there). */
  deletedByApplication: ApplicationDeletes | null;
  readyForPhase3: Readiness;
  /** What could not be read for this collection (no password in it). */
  problems: string[];
}

export interface ChangeDetectionStatus {
  /** The field the incremental sync reads changes by. */
  updatedAtField: string;
  /** Documents without a date in it: changes to them are invisible to the updatedAt sync (null: MongoDB not reachable). */
  withoutUpdatedAt: number | null;
  /** The start of the last completed change-detecting pass: every change before it is synced (ISO). */
  checkedUpTo: string | null;
  /** When that pass completed (ISO). */
  passCompletedAt: string | null;
  /** A pass interrupted or running since (ISO): the next --detect-changes run resumes it. */
  passUnderWaySince: string | null;
  /** When the migration last wrote a row of this collection (ISO). */
  lastMigrationWrite: string | null;
}

export interface StatusReport {
  health: HealthReport;
  databases: { mongodb: DatabaseStatus; postgresql: DatabaseStatus };
  /** Whether the tool's state schema exists (false before the first migrate). */
  stateSchema: boolean | null;
  /** Which run the databases' `lastRunMetrics` come from. */
  metricsRun: { runId: string; command: string; startedAt: string } | null;
  collections: CollectionStatus[];
}

export interface StatusOptions {
  collections: readonly string[];
  /** Compare every `_id` with the registry whatever the collection's size. */
  exact: boolean;
  /** Below this many documents, pending is computed exactly anyway. */
  exactLimit: number;
  signal?: AbortSignal;
  /** Makes driver errors safe to print. */
  scrub: (text: string) => string;
  now?: () => Date;
}

export async function collectStatus(probe: ProbeResult, mapping: MigrationMapping, opts: StatusOptions): Promise<StatusReport> {
  const { mongo, pg } = probe;
  const tables = pg ? await stateTables(pg.pool) : undefined;
  const metrics = pg && tables?.runs ? await latestRunMetrics(pg.pool) : null;
  const [mongoVol, pgVol] = await Promise.all([mongo ? mongoVolume(mongo.db) : null, pg ? postgresVolume(pg.pool) : null]);
  const collections: CollectionStatus[] = [];
  for (const name of opts.collections) {
    if (opts.signal?.aborted) break;
    collections.push(await collectionStatus(probe, tables, mapping.collections.get(name) as MappedCollection, opts));
  }
  const mongodb = probe.mongodb.state === 'connected' ? 'connected' : 'disconnected';
  const postgresql = probe.postgresql.state === 'connected' ? 'connected' : 'error';
  const up = Number(mongodb === 'connected') + Number(postgresql === 'connected');
  return {
    health: { status: up === 2 ? 'ok' : up === 1 ? 'degraded' : 'down', databases: { mongodb, postgresql }, timestamp: (opts.now?.() ?? new Date()).toISOString() },
    databases: {
      mongodb: { ...probe.mongodb, volume: mongoVol, lastRunMetrics: metrics?.metrics.mongodb ?? null },
      postgresql: { ...probe.postgresql, volume: pgVol, lastRunMetrics: metrics?.metrics.postgresql ?? null },
    },
    stateSchema: tables ? tables.idMap : null,
    metricsRun: metricsRunOf(metrics),
    collections,
  };
}

function metricsRunOf(m: LatestRunMetrics | null): StatusReport['metricsRun'] {
  return m ? { runId: m.runId, command: m.command, startedAt: m.startedAt } : null;
}

/**
 * Runs one read of a collection's status; a failure (a database down, a missing table) becomes
 * a line of the collection's `problems` and a null fact, so the other reads still happen.
 */
type Attempt = <T>(what: string, f: () => Promise<T>) => Promise<T | null>;

function problemRecorder(problems: string[], scrub: (text: string) => string): Attempt {
  return async (what, f) => {
    try {
      return await f();
    } catch (e) {
      problems.push(`${what}: ${scrub(e instanceof Error ? e.message : String(e))}`);
      return null;
    }
  };
}

/** What the state schema and the model's tables say about one collection (all null without PostgreSQL). */
interface TargetFacts {
  counts: TargetCounts | null;
  checkpoints: CheckpointSummary | null;
  runs: Awaited<ReturnType<typeof lastRuns>> | null;
  /** undefined: could not be read; null: never verified. */
  verification: VerificationInfo | null | undefined;
  sync: CollectionStatus['sync'];
  pgBytes: number | null;
  passes: Awaited<ReturnType<typeof changePassForStatus>>;
  lastWrite: Date | null;
  deleted: ApplicationDeletes | null;
}

const NO_TARGET_FACTS: TargetFacts = { counts: null, checkpoints: null, runs: null, verification: undefined, sync: null, pgBytes: null, passes: null, lastWrite: null, deleted: null };

/** Sample rows listed per collection (rows deleted by the application). */
const SAMPLES = 5;

async function readTargetFacts(pool: pg.Pool, tables: StateTables, c: MappedCollection, attempt: Attempt): Promise<TargetFacts> {
  // A table another session holds locked (an application's ALTER TABLE) would make every later
  // read of it wait lock_timeout again: status then took twice the timeout and said it twice.
  let locked = false;
  const counts = await attempt(`table ${c.model.table}`, () =>
    targetCounts(pool, tables, c.name, c.model).catch((e: unknown) => {
      if (pgTimeoutKind(e) === 'lock_timeout') locked = true;
      throw e;
    }),
  );
  const checkpoints = await attempt('checkpoints', async () => (tables.checkpoints ? checkpointSummary(pool, c.name) : { ranges: 0, done: 0, running: 0, pending: 0 }));
  const runs = await attempt('runs', async () => (tables.runs ? lastRuns(pool, c.name) : { last: null, lastCompleteMigrate: null }));
  const v = await attempt('verifications', async () => ({ v: tables.verifications ? await lastVerification(pool, c.name) : null }));
  const sync = await attempt('sync_state', async () => (tables.syncState ? syncCursorForStatus(pool, c.name) : null));
  const pgBytes = await attempt('table size', () =>
    locked ? Promise.reject(new Error(`not read: table "${c.model.table}" is locked by another session (above)`)) : tableBytes(pool, [c.model, ...c.children.map((ch) => ch.model)]),
  );
  const passes = await attempt('change-detecting passes', async () => (tables.syncState ? changePassForStatus(pool, c.name) : null));
  const lastWrite = await attempt('last migration write', async () => (tables.idMap ? lastMigrationWrite(pool, c.name) : null));
  const deleted = await attempt('rows deleted by the application', async () => (tables.idMap && counts ? deletedRowsOf(pool, c) : { count: 0, samples: [] }));
  return { counts, checkpoints, runs, verification: v ? v.v : undefined, sync, pgBytes, passes, lastWrite, deleted };
}

function deletedRowsOf(pool: pg.Pool, c: MappedCollection): Promise<ApplicationDeletes> {
  const plan = writePlanFor(c);
  return applicationDeletedRows(pool, { collection: c.name, table: plan.main.table, tableName: c.model.table, idColumn: plan.main.idColumn }, plan.childRefs, SAMPLES);
}

/** What status says about changes no updatedAt shows (null without PostgreSQL). */
async function readChangeDetection(db: Db | undefined, c: MappedCollection, documents: number | null, target: TargetFacts, attempt: Attempt): Promise<ChangeDetectionStatus | null> {
  if (!target.counts) return null;
  const dated = db && documents !== null ? await attempt('documents with an updatedAt date', () => db.collection(c.name).countDocuments({ [c.updatedAtField]: { $type: 'date' } })) : null;
  const iso = (d: Date | null | undefined) => d?.toISOString() ?? null;
  return {
    updatedAtField: c.updatedAtField,
    withoutUpdatedAt: dated === null || documents === null ? null : Math.max(0, documents - dated),
    checkedUpTo: iso(target.passes?.checkedUpTo),
    passCompletedAt: iso(target.passes?.completedAt),
    passUnderWaySince: iso(target.passes?.underWaySince),
    lastMigrationWrite: iso(target.lastWrite),
  };
}

interface PendingFacts {
  pending: number | null;
  pendingExact: boolean;
  deletedInSource: number | null;
  /** Rejected documents still in MongoDB (exact comparison only; a reject whose document is gone no longer counts). */
  rejectedPresent?: number;
}

/** Exact pending when cheap (or asked): compare every _id with the registry; else estimated from counts. */
async function readPending(
  probe: ProbeResult,
  tables: StateTables | undefined,
  c: MappedCollection,
  documents: number | null,
  counts: TargetCounts | null,
  opts: StatusOptions,
  attempt: Attempt,
): Promise<PendingFacts> {
  if (documents === null || !counts) return { pending: null, pendingExact: false, deletedInSource: null };
  const exact =
    opts.exact || documents <= opts.exactLimit
      ? await attempt('id comparison', () => exactProgress(probe.mongo!.db, probe.pg!.pool, tables!, c.name, opts.signal))
      : null;
  if (exact) return { pending: exact.pending, pendingExact: true, deletedInSource: Math.max(0, counts.migrated - exact.migratedPresent), rejectedPresent: exact.rejectedPresent };
  return { pending: Math.max(0, documents - counts.migrated - counts.leftToApplication - counts.rejected), pendingExact: false, deletedInSource: null };
}

async function collectionStatus(probe: ProbeResult, tables: StateTables | undefined, c: MappedCollection, opts: StatusOptions): Promise<CollectionStatus> {
  const problems: string[] = [];
  const attempt = problemRecorder(problems, opts.scrub);
  const db = probe.mongo?.db;
  const pool = probe.pg?.pool;
  const [documents, mongoBytes] = db ? await Promise.all([attempt('MongoDB count', () => db.collection(c.name).countDocuments()), attempt('collStats', () => collectionSize(db, c.name))]) : [null, null];
  const target = pool && tables ? await readTargetFacts(pool, tables, c, attempt) : NO_TARGET_FACTS;
  const { counts, checkpoints, runs, verification } = target;
  const { pending, pendingExact, deletedInSource, rejectedPresent } = await readPending(probe, tables, c, documents, counts, opts, attempt);
  // Compared exactly, a reject counts only while its document is still in MongoDB (one deleted since is nothing left to migrate).
  const rejected = rejectedPresent ?? counts?.rejected ?? null;
  const lastCompleteRunStart = runs?.lastCompleteMigrate?.startedAt ?? null;
  const now = opts.now?.() ?? new Date();
  const changed = db && lastCompleteRunStart ? await attempt('changed documents', () => changedSince(db, c.name, c.updatedAtField, new Date(lastCompleteRunStart), now)) : null;
  const future = db ? await attempt('documents stamped in the future', () => futureUpdatedAt(db, c.name, c.updatedAtField, now)) : null;
  const changeDetection = await readChangeDetection(db, c, documents, target, attempt);
  const readyForPhase3 = assessReadiness({
    name: c.name,
    documents,
    pending,
    pendingExact,
    rejected,
    checkpoints,
    lastCompleteRunStart,
    changedSinceLastRun: changed,
    verification,
    changeDetection,
    deletedInSource,
    deletedButKept: counts?.deletedButKept ?? null,
  });
  return {
    name: c.name,
    model: c.model.name,
    table: c.model.table,
    documents,
    migrated: counts?.migrated ?? null,
    pending,
    pendingExact,
    rejected,
    leftToApplication: counts?.leftToApplication ?? null,
    deletedInSource,
    rows: counts ? { total: counts.rows, migration: counts.migrationRows, application: counts.applicationRows } : null,
    volume: { mongodbBytes: mongoBytes?.storageBytes ?? mongoBytes?.dataBytes ?? null, postgresqlBytes: target.pgBytes },
    checkpoints,
    lastRun: runs?.last ?? null,
    lastVerification: verification ?? null,
    sync: target.sync,
    changedSinceLastRun: changed,
    futureUpdatedAt: future,
    changeDetection,
    deletedByApplication: target.deleted,
    readyForPhase3,
    problems,
  };
}
