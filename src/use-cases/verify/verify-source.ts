/**
 * What verify reads from MongoDB: documents by id, a uniform sample of
 * ids (reservoir over an `_id`-only scan, because FerretDB has no `$sample`), and which
 * registered documents still exist. Read-only.
 */
import type { Db, Document, Filter } from 'mongodb';
import { EXACT_READ_OPTIONS, readBatches } from '../../source/mongo-source.js';

/** Streams `_id`s only, in `_id` order, in batches. */
export async function* readIdBatches(db: Db, collection: string, batchSize: number, signal?: AbortSignal): AsyncGenerator<unknown[]> {
  for await (const docs of readBatches(db, collection, {}, batchSize, signal, { _id: 1 })) yield docs.map((d) => d._id as unknown);
}

/** Keeps a uniform random sample of `size` items of a stream (Vitter's algorithm R). */
export class Reservoir<T> {
  readonly items: T[] = [];
  private seen = 0;
  constructor(
    private readonly size: number,
    private readonly random: () => number = Math.random,
  ) {}

  offer(item: T): void {
    this.seen++;
    if (this.items.length < this.size) this.items.push(item);
    else {
      const j = Math.floor(this.random() * this.seen);
      if (j < this.size) this.items[j] = item;
    }
  }
}

/** Full documents for `ids` (exact BSON types kept), in `_id` order. */
export async function readDocumentsByIds(db: Db, collection: string, ids: readonly unknown[]): Promise<Document[]> {
  if (ids.length === 0) return [];
  return db
    .collection(collection)
    .find({ _id: { $in: [...ids] } } as Filter<Document>, { sort: { _id: 1 }, ...EXACT_READ_OPTIONS })
    .toArray();
}

/** Which of `ids` exist in the collection, as the keys given with them. */
export async function existingIds(db: Db, collection: string, ids: readonly { key: string; id: unknown }[], keyOf: (id: unknown) => string): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const docs = await db
    .collection(collection)
    .find({ _id: { $in: ids.map((i) => i.id) } } as Filter<Document>, { projection: { _id: 1 }, ...EXACT_READ_OPTIONS })
    .toArray();
  return new Set(docs.map((d) => keyOf(d._id)));
}
