/**
 * init's read of MongoDB: every document of every collection (or the first N of each, with
 * `--sample`), as raw BSON decoded twice like plan does — unpromoted for the type histogram,
 * as migrate decodes for the value profiles. Read-only.
 */
import { BSON } from '../../core/bson.js';
import type { Db } from 'mongodb';
import { InterruptedError } from '../../core/errors.js';
import { HISTOGRAM_READ_OPTIONS, TypeHistogram, type HistogramJson } from '../../core/type-histogram.js';
import { EXACT_READ_OPTIONS, wireBatchSize } from '../../source/mongo-source.js';
import { ValueProfiler, referenceKey, type ValueProfile } from './value-profile.js';

export interface CollectionProfile {
  name: string;
  documents: number;
  histogram: HistogramJson;
  values: ReadonlyMap<string, ValueProfile>;
  /** Reference keys of every `_id` of the collection (all of them, even with a sample). */
  ids: ReadonlySet<string>;
  /** Whether only a sample was read. */
  sampled: boolean;
}

export interface InitScanOptions {
  /** Read only the first N documents of each collection (in `_id` order). */
  sample?: number;
  signal: AbortSignal;
  onDocuments?: (collection: string, read: number) => void;
}

/** The collections of the database init drafts from: the named ones, or every one but system collections. */
export async function listSourceCollections(db: Db, named: readonly string[]): Promise<string[]> {
  const all = (await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).filter((n) => !n.startsWith('system.'));
  if (named.length === 0) return all.sort();
  return [...named];
}

export async function scanForInit(db: Db, name: string, opts: InitScanOptions): Promise<CollectionProfile> {
  const histogram = new TypeHistogram();
  const profiler = new ValueProfiler();
  const wire = await wireBatchSize(db, name, 1000);
  const cursor = db.collection(name).find({}, { sort: { _id: 1 }, raw: true, batchSize: wire, ...(opts.sample ? { limit: opts.sample } : {}) });
  let read = 0;
  try {
    for await (const doc of cursor) {
      if (opts.signal.aborted) throw new InterruptedError('Interrupted: init stopped before writing anything.');
      const raw = doc as unknown as Uint8Array;
      histogram.observe(BSON.deserialize(raw, HISTOGRAM_READ_OPTIONS));
      profiler.observe(BSON.deserialize(raw, EXACT_READ_OPTIONS));
      if (++read % 5000 === 0) opts.onDocuments?.(name, read);
    }
  } finally {
    await cursor.close().catch(() => undefined);
  }
  const ids = opts.sample ? await allIds(db, name) : new Set(profiler.paths.get('_id')?.distinct?.keys() ?? []);
  return { name, documents: read, histogram: histogram.toJSON(), values: profiler.paths, ids, sampled: opts.sample !== undefined };
}

/** Every `_id` of a collection (a sample's references are judged against all of them). */
async function allIds(db: Db, name: string): Promise<Set<string>> {
  const ids = new Set<string>();
  for await (const doc of db.collection(name).find({}, { projection: { _id: 1 } })) ids.add(referenceKey(doc._id));
  return ids;
}
