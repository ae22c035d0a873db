/**
 * `plan`: what migrate would do, before anything is written. Reads the source (counts and
 * sizes, then a full scan or a sample of every requested collection in load order, through
 * the migration's own conversion) and, read-only, the tool's state in PostgreSQL when it
 * exists. Writes nothing to either database; the caller writes the plan file.
 */
import type { Db } from 'mongodb';
import type pg from 'pg';
import { unindexedParents, type UnindexedParent } from '../../target/table-stats.js';
import type { MappedCollection, MigrationMapping } from '../../core/mapping.js';
import { mongoConnectionLost } from '../../core/errors.js';
import { describeFields, type FieldPlan } from '../../core/plan-fields.js';
import type { FindingsJson } from '../../core/plan-findings.js';
import type { HistogramJson } from '../../core/type-histogram.js';
import { mappingFingerprint } from '../../pipeline/fingerprint.js';
import { readEarlierRuns, type CollectionHistory, type EarlierRuns } from './plan-history.js';
import { ReferenceIndex } from '../../pipeline/reference-index.js';
import { scanCollection, type CollectionScan, type DuplicateFinding, type ScanMode } from './plan-scan.js';
import { UpdatedAtCheck, type UpdatedAtFinding } from './plan-updated-at.js';
import { checkBusinessKeys, type BusinessKeyFinding } from './plan-business-keys.js';

/** Bumped when the plan file changes shape (the drift check reads it). */
export const PLAN_FORMAT_VERSION = 1;

/**
 * Rows per second assumed for migrate's writes. environment.md measured COPY at 240,000
 * rows/s on these machines; migrate also writes the id_map entry of every document (an
 * INSERT … SELECT per batch) and a checkpoint per transaction, which roughly halves it:
 * 100,000 rows/s (child rows included) is the assumption, stated in the plan.
 */
export const ASSUMED_WRITE_ROWS_PER_SECOND = 100_000;

/**
 * Fixed cost of one batch transaction (BEGIN, a COPY per table, the id_map INSERT … SELECT,
 * the checkpoint UPDATE, COMMIT with its fsync): about 25 ms on these machines, which is what
 * dominates small collections.
 */
export const ASSUMED_BATCH_OVERHEAD_MS = 25;

export interface PlanOptions {
  collections: readonly string[];
  /** Documents per collection to sample; undefined: full scan. */
  sample?: number;
  batchSize?: number;
  /** Unmapped fields kept in the extra JSON column count as violations too. */
  strict: boolean;
  signal: AbortSignal;
}

export interface PlanEvents {
  collectionStarted?(name: string, total: number): void;
  batchDone?(name: string, read: number): void;
  collectionFinished?(name: string, scanned: number, ms: number): void;
}

export interface PlanDeps {
  db: Db;
  /** Read only: the tool's state of earlier runs, when the hybrid_migrate schema exists. */
  pool: pg.Pool;
  mapping: MigrationMapping;
  source: { server: string; isFerretDb: boolean; database: string };
  events?: PlanEvents;
}

export interface CollectionPlan {
  name: string;
  model: string;
  table: string;
  /** Source statistics (collStats). */
  documents: number;
  sizeBytes: number | null;
  avgDocumentBytes: number | null;
  storageBytes: number | null;
  scanned: number;
  wouldWrite: number;
  rows: number;
  fields: FieldPlan[];
  children: { model: string; from: string; fields: FieldPlan[] }[];
  histogram: HistogramJson;
  rejects: FindingsJson['rejected'];
  coercions: FindingsJson['coercions'];
  orphans: FindingsJson['orphans'];
  duplicates: DuplicateFinding[];
  duplicatesIncomplete: boolean;
  unmapped: FindingsJson['unmapped'];
  /** Unmapped paths with no extra column to keep them. */
  lostFields: string[];
  findingsOverflow: number;
  timing: CollectionScan['timing'];
  estimate: { readConvertMs: number; writeMs: number; totalMs: number };
  history: CollectionHistory | null;
  /** Whether the incremental sync can see every change by the updatedAt field; when not, --detect-changes is recommended. */
  updatedAt: UpdatedAtFinding;
  /** Child tables whose parent column leads no index: every read of child rows by parent scans the table. */
  unindexedChildParents: UnindexedParent[];
}

export interface PlanReport {
  format: number;
  createdAt: string;
  /** The MongoDB server and database (never its URI), with dbStats sizes when the server gives them. */
  source: { server: string; database: string } & DatabaseStats;
  scan: { kind: 'full' } | { kind: 'sample'; size: number; method: '$sample' | 'first-by-id'; note: string };
  strict: boolean;
  loadOrder: string[];
  deferred: { collection: string; field: string; targetCollection: string }[];
  collections: CollectionPlan[];
  estimate: { totalMs: number; assumption: string };
  earlierRuns: EarlierRuns;
  /** `by` keys (references by a business key) that several documents of the referenced collection hold. */
  businessKeys: BusinessKeyFinding[];
  summary: { documents: number; scanned: number; wouldWrite: number; wouldReject: number; orphans: number; duplicates: number; lostFields: number; extraFields: number; exitCode: 0 | 1 | 3; problems: string[] };
}

/**
 * Full scan, or a sample: `$sample` when the server runs it (probed once: FerretDB and some
 * MongoDB-compatible servers do not), else the first N documents in `_id` order.
 */
export async function scanModeFor(db: Db, sample: number | undefined, isFerretDb: boolean, probeCollection: string | undefined): Promise<ScanMode> {
  if (sample === undefined) return { kind: 'full' };
  let hasSample = !isFerretDb;
  if (hasSample && probeCollection) {
    hasSample = await db
      .collection(probeCollection)
      .aggregate([{ $sample: { size: 1 } }])
      .toArray()
      .then(
        () => true,
        (e: unknown) => refusedUnlessLost(e, false),
      );
  }
  return { kind: 'sample', size: sample, method: hasSample ? '$sample' : 'first-by-id' };
}

export async function buildPlan(deps: PlanDeps, opts: PlanOptions): Promise<PlanReport> {
  const { mapping, db } = deps;
  const names = mapping.loadOrder.filter((n) => opts.collections.includes(n));
  const mode = await scanModeFor(db, opts.sample, deps.source.isFerretDb, names[0]);
  const database = await databaseStats(db);
  const earlierRuns = await readEarlierRuns(deps.pool, names);
  // Nothing is written yet: a reference resolves when its document is in the source and not
  // predicted rejected, by this scan or by an earlier run (its reject stays: migrate never writes it).
  const references = new ReferenceIndex(mapping, { source: db, earlierRejects: deps.pool });
  const collections: CollectionPlan[] = [];
  // Load order matters: a document rejected in a parent collection makes references to it dangle.
  for (const name of names) {
    const collection = mapping.collections.get(name) as MappedCollection;
    const stats = await collectionStats(db, name);
    deps.events?.collectionStarted?.(name, mode.kind === 'sample' ? Math.min(mode.size, stats.documents) : stats.documents);
    const batchSize = opts.batchSize ?? collection.batchSize;
    const history = earlierRuns.collections[name] ?? null;
    if (history) history.mappingChanged = history.fingerprints.length > 0 && history.fingerprints.some((f) => f !== mappingFingerprint(collection));
    // Compared with what the migration recorded only while the mapping is the one it wrote with.
    const updatedAt = new UpdatedAtCheck(collection, history && history.registered > 0 && !history.mappingChanged ? deps.pool : undefined);
    const scan = await scanCollection(collection, {
      updatedAt,
      db,
      references,
      mode,
      batchSize,
      signal: opts.signal,
      onBatch: (n) => deps.events?.batchDone?.(name, n),
    });
    deps.events?.collectionFinished?.(name, scan.scanned, scan.timing.totalMs);
    const unindexedChildParents = await childParentsWithoutIndex(deps.pool, collection);
    collections.push({ ...collectionPlan(collection, stats, scan, history, batchSize), updatedAt: updatedAt.toJSON(), unindexedChildParents });
  }
  const businessKeys = await checkBusinessKeys(db, mapping, names, opts.signal);
  return assemble(deps, opts, mode, names, collections, earlierRuns, database, businessKeys);
}

/** The collection's child tables without an index on their parent column (none when the target cannot say: no tables yet, no access). */
async function childParentsWithoutIndex(pool: pg.Pool, collection: MappedCollection): Promise<UnindexedParent[]> {
  const children = collection.children.flatMap((child) => {
    const parent = child.columns.find((c) => c.source.kind === 'parent');
    return parent ? [{ model: child.model, parentColumn: parent.column.column }] : [];
  });
  return unindexedParents(pool, children).catch(() => []);
}

function collectionPlan(collection: MappedCollection, stats: SourceStats, scan: CollectionScan, history: CollectionHistory | null, batchSize: number): Omit<CollectionPlan, 'updatedAt' | 'unindexedChildParents'> {
  const { fields, children } = describeFields(collection, scan.presence);
  // Scale the measured read+convert time from the scanned documents to the whole collection.
  const scale = scan.scanned > 0 ? Math.max(1, stats.documents / scan.scanned) : 1;
  // migrate decodes each document once; the plan decodes twice (histogram + conversion).
  const readConvertMs = Math.round((scan.timing.readMs + scan.timing.decodeMs / 2 + scan.timing.convertMs + scan.timing.referenceMs) * scale);
  const batches = Math.ceil((scan.scanned * scale) / batchSize);
  const writeMs = Math.round(((scan.rows * scale) / ASSUMED_WRITE_ROWS_PER_SECOND) * 1000 + batches * ASSUMED_BATCH_OVERHEAD_MS);
  return {
    name: collection.name,
    model: collection.model.name,
    table: collection.model.table,
    ...stats,
    scanned: scan.scanned,
    wouldWrite: scan.wouldWrite,
    rows: scan.rows,
    fields,
    children,
    histogram: scan.histogram,
    rejects: scan.findings.rejected,
    coercions: scan.findings.coercions,
    orphans: scan.findings.orphans,
    duplicates: scan.duplicates,
    duplicatesIncomplete: scan.duplicatesIncomplete,
    unmapped: scan.findings.unmapped,
    lostFields: scan.findings.unmapped.filter((u) => u.destination === 'lost').map((u) => u.path),
    findingsOverflow: scan.findings.overflow,
    timing: scan.timing,
    // Reading and writing overlap in migrate (read-ahead): the slower side sets the pace.
    estimate: { readConvertMs, writeMs, totalMs: Math.max(readConvertMs, writeMs) },
    history,
  };
}

function assemble(
  deps: PlanDeps,
  opts: PlanOptions,
  mode: ScanMode,
  names: string[],
  collections: CollectionPlan[],
  earlierRuns: EarlierRuns,
  database: DatabaseStats,
  businessKeys: BusinessKeyFinding[],
): PlanReport {
  const sum = (f: (c: CollectionPlan) => number) => collections.reduce((n, c) => n + f(c), 0);
  const wouldReject = sum((c) => c.rejects.documents);
  const lostFields = sum((c) => c.lostFields.length);
  const extraFields = sum((c) => c.unmapped.filter((u) => u.destination !== 'lost' && u.destination !== 'ignored').length);
  const problems: string[] = [];
  if (wouldReject > 0) problems.push(`${wouldReject} document(s) would be rejected`);
  if (lostFields > 0) problems.push(`${lostFields} source field(s) would be lost (no extra JSON column keeps them)`);
  const keyErrors = businessKeys.filter((k) => k.policy === 'error');
  for (const k of keyErrors) problems.push(`configuration: "by: '${k.by}'" is not unique in ${k.target} (${k.duplicateValues} value(s) held by ${k.documents} documents), referenced by ${k.fields.join(', ')}`);
  if (opts.strict && extraFields > 0) problems.push(`--strict: ${extraFields} source field(s) are mapped to no column (kept only in the extra JSON column)`);
  const scan: PlanReport['scan'] =
    mode.kind === 'full'
      ? { kind: 'full' }
      : {
          ...mode,
          note:
            mode.method === '$sample'
              ? `random sample of ${mode.size} documents per collection ($sample): counts are for the sample; rare values, duplicates and dangling references may be missed`
              : `the first ${mode.size} documents per collection in _id order (the server has no $sample): biased towards the oldest documents; counts are for the sample`,
        };
  const totalMs = sum((c) => c.estimate.totalMs);
  return {
    format: PLAN_FORMAT_VERSION,
    createdAt: new Date().toISOString(),
    source: { server: deps.source.server, database: deps.source.database, ...database },
    scan,
    strict: opts.strict,
    loadOrder: names,
    deferred: deps.mapping.deferred.filter((d) => names.includes(d.collection)).map((d) => ({ ...d })),
    collections,
    estimate: {
      totalMs,
      assumption: `collections migrated one after the other; per collection the slower of read+convert (measured by this scan, scaled to the collection's size) and writing at ${ASSUMED_WRITE_ROWS_PER_SECOND.toLocaleString('en-US')} rows/s (COPY measured at 240,000 rows/s here, halved for the id_map and checkpoint writes) plus ${ASSUMED_BATCH_OVERHEAD_MS} ms per batch transaction; --concurrency runs independent collections in parallel and can shorten it`,
    },
    earlierRuns,
    businessKeys,
    summary: {
      documents: sum((c) => c.documents),
      scanned: sum((c) => c.scanned),
      wouldWrite: sum((c) => c.wouldWrite),
      wouldReject,
      orphans: sum((c) => c.orphans.reduce((n, o) => n + o.count, 0)),
      duplicates: sum((c) => c.duplicates.reduce((n, d) => n + d.count, 0)),
      lostFields,
      extraFields,
      // A business key that is not unique is the configuration's problem (exit 3) until a policy is chosen.
      exitCode: keyErrors.length > 0 ? 3 : problems.length > 0 ? 1 : 0,
      problems,
    },
  };
}

interface DatabaseStats {
  dataBytes: number | null;
  storageBytes: number | null;
}

async function databaseStats(db: Db): Promise<DatabaseStats> {
  try {
    const s = await db.command({ dbStats: 1 });
    return { dataBytes: toNumber(s.dataSize), storageBytes: toNumber(s.storageSize) };
  } catch (e) {
    return refusedUnlessLost(e, { dataBytes: null, storageBytes: null });
  }
}

function toNumber(v: unknown): number | null {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v && typeof v === 'object' && typeof (v as { valueOf(): unknown }).valueOf() === 'number') return (v as { valueOf(): number }).valueOf();
  return null;
}

interface SourceStats {
  documents: number;
  sizeBytes: number | null;
  avgDocumentBytes: number | null;
  storageBytes: number | null;
}

/** collStats (FerretDB and MongoDB have it); the exact count from countDocuments when it is not available. */
async function collectionStats(db: Db, name: string): Promise<SourceStats> {
  try {
    const s = await db.command({ collStats: name });
    const num = toNumber;
    const documents = num(s.count) ?? (await db.collection(name).countDocuments());
    return { documents, sizeBytes: num(s.size), avgDocumentBytes: num(s.avgObjSize), storageBytes: num(s.storageSize) };
  } catch (e) {
    refusedUnlessLost(e, undefined);
    return { documents: await db.collection(name).countDocuments(), sizeBytes: null, avgDocumentBytes: null, storageBytes: null };
  }
}

/**
 * A command the server may refuse (dbStats, collStats, $sample: views, permissions, servers
 * that lack it) gives `fallback`; a lost connection is no refusal: it is thrown as the
 * ConnectionError naming MongoDB (exit 4), not turned into "no statistics".
 */
function refusedUnlessLost<T>(e: unknown, fallback: T): T {
  const lost = mongoConnectionLost(e);
  if (lost) throw lost;
  return fallback;
}
