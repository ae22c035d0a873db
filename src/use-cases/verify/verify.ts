/**
 * `verify`: proves MongoDB and PostgreSQL agree, document by document. Each collection is
 * read once in `_id` order, batch by batch, collections in parallel (memory bounded by
 * concurrency × batch size); every migrated document goes through the migration's batch
 * pipeline again (convert, check references) and is compared with its rows. Then the
 * registry is scanned for rows whose document is gone, and the table for copies in the
 * migration's id space. Reads only; the one write is the verification's own record in
 * hybrid_migrate.verifications.
 */
import type { Db, Document } from 'mongodb';
import type pg from 'pg';
import pLimit from 'p-limit';
import type { MappedCollection, MigrationMapping } from '../../core/mapping.js';
import { idToUuid, objectIdToUuid, sourceIdKey } from '../../core/ids.js';
import { isObjectIdLike } from '../../core/values/conversion.js';
import { readAhead, readBatches } from '../../source/mongo-source.js';
import { ensureStateSchema } from '../../state/schema.js';
import { analyzeRegistry } from '../../state/registry.js';
import { keepWithinBudget } from '../../runtime/memory-budget.js';
import { analyzeStaleTables } from '../../target/table-stats.js';
import { modelsOfCollections } from '../../target/preflight.js';
import { rejectSamples } from '../../state/rejects.js';
import { checkSourceDatabase } from '../../state/source-identity.js';
import { ReferenceIndex } from '../../pipeline/reference-index.js';
import { CollectionTally, displayId, verifyBatch, type BatchContext } from './verify-collection.js';
import type { CollectionVerification, VerifyExtraRow, VerifyResult } from './verify-result.js';
import { collectionAgrees } from './verify-result.js';
import { existingIds, readDocumentsByIds, readIdBatches, Reservoir } from './verify-source.js';
import { idOfSourceKey } from '../../pipeline/source-keys.js';
import { readRegistryPage, registeredRowCount, unregisteredRows, type RegistryEntry } from './verify-target.js';
import { ensureVerificationsTable } from '../../state/verifications.js';

export interface VerifyOptions {
  /** Collections to verify (load order applies). */
  collections: readonly string[];
  /** Compare only a uniform random sample of this many migrated documents per collection (counts stay exact). */
  sample?: number;
  /** Batches worked on in parallel (across collections and `_id` ranges). */
  concurrency: number;
  /** Source documents per batch. */
  batchSize: number;
  /** Mismatches, missing and extra rows listed per collection (all are counted). */
  maxSamples: number;
  /** Rejected documents make the result not ok. */
  failOnRejects: boolean;
  /** Between batches, collect garbage once the resident set is over this many bytes (0 or absent: never), as migrate does. */
  memoryBudgetBytes?: number;
  /** Not used by the comparison, which reads each collection once in `_id` order (accepted for the CLI's hidden --partition-size). */
  partitionSize?: number;
  signal: AbortSignal;
}

export interface VerifyEvents {
  collectionStarted?(name: string): void;
  collectionFinished?(c: CollectionVerification): void;
}

export interface VerifyDeps {
  db: Db;
  pool: pg.Pool;
  mapping: MigrationMapping;
  events?: VerifyEvents;
}

export async function verify(deps: VerifyDeps, opts: VerifyOptions): Promise<VerifyResult> {
  const started = Date.now();
  const startedAt = new Date(started).toISOString();
  await ensureStateSchema(deps.pool);
  // Compared with another database than the one migrated from, every row would look extra.
  await checkSourceDatabase(deps.pool, deps.db.databaseName, { record: false });
  await ensureVerificationsTable(deps.pool);
  await analyzeRegistry(deps.pool);
  const names = deps.mapping.loadOrder.filter((n) => opts.collections.includes(n));
  // Rows are read back by id and by parent, a batch at a time: on tables loaded and never analyzed, each read was a scan.
  await analyzeStaleTables(deps.pool, modelsOfCollections(deps.mapping, names));
  // What was written: referenced rows are looked up in the target tables only.
  const references = new ReferenceIndex(deps.mapping, { target: deps.pool, keys: deps.db });
  const limit = pLimit(opts.concurrency);
  const collections = await Promise.all(
    names.map((name) => verifyCollection(deps, opts, deps.mapping.collections.get(name) as MappedCollection, references, limit)),
  );
  const interrupted = opts.signal.aborted;
  return {
    ok: !interrupted && collections.every((c) => collectionAgrees(c, opts.failOnRejects)),
    startedAt,
    durationMs: Date.now() - started,
    sample: opts.sample ?? null,
    interrupted,
    failOnRejects: opts.failOnRejects,
    collections,
  };
}

type Limit = ReturnType<typeof pLimit>;

async function verifyCollection(deps: VerifyDeps, opts: VerifyOptions, mapped: MappedCollection, references: ReferenceIndex, limit: Limit): Promise<CollectionVerification> {
  const started = Date.now();
  deps.events?.collectionStarted?.(mapped.name);
  const tally = new CollectionTally(opts.maxSamples);
  const ctx: BatchContext = { pool: deps.pool, mapped, references, tally };
  if (opts.sample === undefined) await scanFull(deps, opts, ctx, limit);
  else await scanSample(deps, opts, ctx, limit, opts.sample);
  const registry = await limit(() => scanRegistry(deps, opts, mapped, tally.maxSamples));
  const copies = await unregisteredRows(deps.pool, mapped, Math.max(1, opts.maxSamples));
  const extraRows: VerifyExtraRow[] = [...registry.extraRows, ...copies.uuids.map((uuid) => ({ uuid, sourceKey: null, reason: 'unregistered-copy' as const }))].slice(0, opts.maxSamples);
  const missingRows = tally.missingRows.slice(0, opts.maxSamples);
  const rejectSamples = await readRejectSamples(deps.pool, mapped.name, Math.min(20, opts.maxSamples));
  const result: CollectionVerification = {
    name: mapped.name,
    model: mapped.model.name,
    table: mapped.model.table,
    source: tally.source,
    target: (await registeredRowCount(deps.pool, mapped)) + copies.count,
    migrated: tally.migrated,
    rejected: tally.rejected,
    notMigrated: tally.notMigrated,
    missing: tally.notMigrated,
    extra: registry.extra + copies.count,
    mismatched: tally.mismatched,
    changedByApplication: tally.changedByApplication,
    deletedByApplication: registry.rowDeleted,
    applicationChanges: [
      ...tally.applicationChanges,
      ...registry.deletedRows.map((m) => ({ ...m, kind: 'deleted-by-application' as const, table: mapped.model.table, row: m.uuid })),
    ].slice(0, opts.maxSamples),
    checked: tally.checked,
    uncheckedRegistry: registry.unchecked,
    keptDeletedInSource: registry.keptDeleted,
    fields: Object.fromEntries([...tally.fields].sort((a, b) => b[1] - a[1])),
    mismatches: tally.mismatches,
    missingRows,
    extraRows,
    rejectSamples,
    durationMs: Date.now() - started,
  };
  deps.events?.collectionFinished?.(result);
  return result;
}

/**
 * Every document exactly once: ONE read of the collection in `_id` order, the next batch read
 * while this one is compared (collections run in parallel). Not `_id` ranges: how a range's
 * filter matches is the server's business (type bracketing, `$bucketAuto`'s bucket order), and
 * where ranges overlapped a document was counted once per range that matched it.
 */
async function scanFull(deps: VerifyDeps, opts: VerifyOptions, ctx: BatchContext, limit: Limit): Promise<void> {
  await limit(async () => {
    for await (const docs of readAhead(readBatches(deps.db, ctx.mapped.name, {}, opts.batchSize, opts.signal))) {
      await verifyBatch(ctx, docs, { classify: true, compare: true });
      if (opts.signal.aborted) break;
      keepWithinBudget(opts.memoryBudgetBytes ?? 0);
    }
  });
}

/** Counts from an `_id`-only scan; content compared for a uniform sample of the migrated documents. */
async function scanSample(deps: VerifyDeps, opts: VerifyOptions, ctx: BatchContext, limit: Limit, size: number): Promise<void> {
  const reservoir = new Reservoir<unknown>(size);
  await limit(async () => {
    for await (const ids of readIdBatches(deps.db, ctx.mapped.name, opts.batchSize, opts.signal)) {
      const docs: Document[] = ids.map((id) => ({ _id: id }));
      const state = await verifyBatch(ctx, docs, { classify: true, compare: false });
      for (const id of ids) if (state.migrated.has(sourceIdKey(id))) reservoir.offer(id);
      if (opts.signal.aborted) break;
      keepWithinBudget(opts.memoryBudgetBytes ?? 0);
    }
  });
  const chosen = reservoir.items;
  const batches: unknown[][] = [];
  for (let i = 0; i < chosen.length; i += opts.batchSize) batches.push(chosen.slice(i, i + opts.batchSize));
  await Promise.all(
    batches.map((ids) =>
      limit(async () => {
        if (opts.signal.aborted) return;
        await verifyBatch(ctx, await readDocumentsByIds(deps.db, ctx.mapped.name, ids), { classify: false, compare: true });
      }),
    ),
  );
}

interface RegistryScan {
  extra: number;
  /** Registered documents still in MongoDB whose row is gone: only the application deletes a registered row without its entry. */
  rowDeleted: number;
  keptDeleted: number;
  unchecked: number;
  extraRows: VerifyExtraRow[];
  deletedRows: { sourceKey: string; sourceId: string; uuid: string }[];
}

/**
 * The registry, page by page in UUID order: a registered row whose document is gone from MongoDB is extra;
 * a registered document that still exists but whose row is gone was deleted by the application; an entry whose
 * uuid is not the one its `_id` gives is a row registered under another id (extra).
 */
async function scanRegistry(deps: VerifyDeps, opts: VerifyOptions, mapped: MappedCollection, maxSamples: number): Promise<RegistryScan> {
  const out: RegistryScan = { extra: 0, rowDeleted: 0, unchecked: 0, keptDeleted: 0, extraRows: [], deletedRows: [] };
  const source = new OrderedObjectIds(deps.db, mapped.name);
  let after = '00000000-0000-0000-0000-000000000000';
  try {
    for (;;) {
      if (opts.signal.aborted) break;
      const page = await readRegistryPage(deps.pool, mapped, after, 1000);
      if (page.length === 0) break;
      after = (page[page.length - 1] as (typeof page)[number]).uuid;
      const decodedIds: { key: string; id: unknown }[] = [];
      const lookups: { key: string; id: unknown }[] = [];
      const exists = new Set<string>();
      for (const e of page) {
        const decoded = idOfSourceKey(e.sourceKey);
        if (!decoded) {
          out.unchecked++;
          continue;
        }
        decodedIds.push({ key: e.sourceKey, id: decoded.id });
        // An ObjectId registered under its own UUID comes in ObjectId order: merged with the
        // source's ids read once in order. Anything else (rare) is looked up with $in, which a
        // server without $in pushdown (FerretDB) answers with a scan per page.
        if (isObjectIdLike(decoded.id) && objectIdToUuid(decoded.id) === e.uuid) {
          if (await source.has(e.uuid)) exists.add(e.sourceKey);
        } else lookups.push({ key: e.sourceKey, id: decoded.id });
      }
      for (const k of await existingIds(deps.db, mapped.name, lookups, sourceIdKey)) exists.add(k);
      scanRegistryPage(out, mapped, page, decodedIds, exists, maxSamples);
      if (page.length < 1000) break;
    }
  } finally {
    await source.close();
  }
  return out;
}

function scanRegistryPage(
  out: RegistryScan,
  mapped: MappedCollection,
  page: readonly RegistryEntry[],
  decodedIds: readonly { key: string; id: unknown }[],
  exists: ReadonlySet<string>,
  maxSamples: number,
): void {
  const byKey = new Map(decodedIds.map((l) => [l.key, l.id]));
  for (const e of page) {
    if (!byKey.has(e.sourceKey)) continue;
    const inSource = exists.has(e.sourceKey);
    if (!inSource) {
      // Deleted in MongoDB: the row is extra; if the row is gone too, both sides agree. A row
      // --detect-deletes kept on purpose (still referenced, or changed by the application) is no difference.
      if (e.present && e.keptDeleted) out.keptDeleted++;
      else if (e.present) addExtra(out, { uuid: e.uuid, sourceKey: e.sourceKey, reason: 'source-deleted' }, maxSamples);
      continue;
    }
    const expected = idToUuid(mapped.name, byKey.get(e.sourceKey));
    if (expected !== e.uuid && e.present) addExtra(out, { uuid: e.uuid, sourceKey: e.sourceKey, reason: 'registered-under-other-id' }, maxSamples);
    else if (!e.present) {
      out.rowDeleted++;
      if (out.deletedRows.length < maxSamples) out.deletedRows.push({ sourceKey: e.sourceKey, sourceId: displayId(e.sourceKey), uuid: e.uuid });
    }
  }
}

/** A collection's ObjectIds read once in `_id` order, asked about in increasing UUID (= ObjectId) order. */
class OrderedObjectIds {
  private readonly cursor;
  private current: string | undefined;
  private done = false;

  constructor(db: Db, collection: string) {
    this.cursor = db.collection(collection).find({}, { projection: { _id: 1 }, sort: { _id: 1 }, batchSize: 5000 });
  }

  /** Whether the ObjectId whose UUID is `uuid` exists; successive calls must not go down in UUID order. */
  async has(uuid: string): Promise<boolean> {
    while (!this.done && (this.current === undefined || this.current < uuid)) {
      const d = await this.cursor.next();
      if (!d) this.done = true;
      else if (isObjectIdLike(d._id)) this.current = objectIdToUuid(d._id);
      // Types that sort after ObjectIds (dates…): no ObjectId follows.
      else if (this.current !== undefined) this.done = true;
    }
    return this.current === uuid;
  }

  async close(): Promise<void> {
    await this.cursor.close().catch(() => undefined);
  }
}

function addExtra(out: RegistryScan, row: VerifyExtraRow, maxSamples: number): void {
  out.extra++;
  if (out.extraRows.length < maxSamples) out.extraRows.push(row);
}

async function readRejectSamples(pool: pg.Pool, collection: string, limit: number): Promise<CollectionVerification['rejectSamples']> {
  return rejectSamples(pool, collection, limit);
}
