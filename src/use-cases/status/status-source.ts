/**
 * What `status` reads from MongoDB per collection: the document count, the documents not
 * migrated nor rejected (exact by comparing `_id`s with the registry when the collection is
 * small enough, else estimated from counts), and the documents changed since a given instant.
 */
import { MongoServerError, type Db } from 'mongodb';
import type pg from 'pg';
import { sourceIdKey } from '../../core/ids.js';
import type { StateTables } from '../../state/schema.js';
import { classifySourceKeys } from '../../state/registry.js';

const SCAN_BATCH = 5000;

/** Exact comparison of the source's ids with the registry. */
export interface ExactProgress {
  /** Source documents neither migrated, left to the application, nor rejected. */
  pending: number;
  /** Source documents present in the registry. */
  migratedPresent: number;
  /** Source documents rejected (and not migrated since). */
  rejectedPresent: number;
}

/**
 * Reads every `_id` of the collection (ids only, in batches) and classifies them against the
 * registry and the rejects. Costs one pass over the `_id` index: status does it only below a
 * size limit or when asked (--exact).
 */
export async function exactProgress(db: Db, pool: pg.Pool, tables: StateTables, collection: string, signal?: AbortSignal): Promise<ExactProgress> {
  const out: ExactProgress = { pending: 0, migratedPresent: 0, rejectedPresent: 0 };
  const cursor = db.collection(collection).find({}, { projection: { _id: 1 }, batchSize: SCAN_BATCH, useBigInt64: true, promoteBuffers: false });
  let keys: string[] = [];
  const flush = async () => {
    if (keys.length === 0) return;
    const n = await classifySourceKeys(pool, tables, collection, keys);
    out.migratedPresent += n.migrated;
    out.rejectedPresent += n.rejected;
    out.pending += n.pending;
    keys = [];
  };
  try {
    for await (const doc of cursor) {
      keys.push(sourceIdKey(doc._id));
      if (keys.length >= SCAN_BATCH) {
        await flush();
        if (signal?.aborted) break;
      }
    }
    await flush();
  } finally {
    await cursor.close().catch(() => undefined);
  }
  return out;
}

/**
 * Documents whose `updatedAt` field is after `since` and not after `now`: changes an
 * incremental sync has not picked up. Those stamped in the future are not counted here (every
 * sync reads them again and writes them when they changed): futureUpdatedAt reports them.
 */
export async function changedSince(db: Db, collection: string, updatedAtField: string, since: Date, now: Date): Promise<number> {
  return db.collection(collection).countDocuments({ [updatedAtField]: { $gt: since, $lte: now } });
}

/** Sample `_id`s listed for documents stamped in the future. */
const FUTURE_SAMPLES = 5;

/** Documents whose `updatedAt` lies after `now` (a wrong clock, bad data): their count and the first `_id`s. */
export async function futureUpdatedAt(db: Db, collection: string, updatedAtField: string, now: Date): Promise<{ count: number; sampleIds: string[] }> {
  const filter = { [updatedAtField]: { $gt: now } };
  const count = await db.collection(collection).countDocuments(filter);
  if (count === 0) return { count, sampleIds: [] };
  const docs = await db.collection(collection).find(filter, { projection: { _id: 1 }, sort: { _id: 1 }, limit: FUTURE_SAMPLES }).toArray();
  // The registry's key form (`oid:<hex>`), as migrate's summary lists them.
  return { count, sampleIds: docs.map((d) => sourceIdKey(d._id)) };
}

/** Size of a collection as the server reports it (collStats); null when the server refuses (not permitted, not supported, no such collection). A lost connection is thrown. */
export async function collectionSize(db: Db, collection: string): Promise<{ dataBytes: number; storageBytes: number; indexBytes: number } | null> {
  try {
    const s = await db.command({ collStats: collection });
    return { dataBytes: Number(s.size ?? 0), storageBytes: Number(s.storageSize ?? 0), indexBytes: Number(s.totalIndexSize ?? 0) };
  } catch (e) {
    if (e instanceof MongoServerError) return null;
    throw e;
  }
}
