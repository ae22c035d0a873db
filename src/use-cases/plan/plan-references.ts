/**
 * Which referenced documents exist, for a plan: nothing is written yet, so a reference
 * resolves when its document exists in the SOURCE collection (the UUID → ObjectId mapping
 * is reversible) and the plan does not predict that document to be rejected (migrate checks
 * the target table, where a rejected document never arrives). One `$in` query per target
 * collection and batch, for the ids not already known.
 */
import type { Db, Document, Filter } from 'mongodb';
import { ObjectId } from 'mongodb';
import type { ConvertedDocument } from '../../core/transform.js';
import { uuidToObjectId } from '../../core/ids.js';

/** Ids per `$in` query: keeps each query well under the 16 MB command limit and FerretDB fast. */
const IN_CHUNK = 1000;

export class SourceReferenceIndex {
  /** Per target collection: uuid → exists in the source. Bounded: cleared when it grows past maxKnown. */
  private readonly known = new Map<string, Map<string, boolean>>();
  /** Per collection: UUIDs of documents the plan predicts migrate would reject (bounded by maxRejected). */
  private readonly rejected = new Map<string, Set<string>>();
  /** True once a rejected set hit its bound: references to later rejected documents count as resolved. */
  rejectedIncomplete = false;

  constructor(
    private readonly db: Db,
    private readonly maxKnown = 500_000,
    private readonly maxRejected = 1_000_000,
  ) {}

  /** Records that a document of `collection` would be rejected: references to it will not resolve. */
  markRejected(collection: string, uuid: string | undefined): void {
    if (uuid === undefined) return;
    let set = this.rejected.get(collection);
    if (!set) this.rejected.set(collection, (set = new Set()));
    if (set.size >= this.maxRejected) {
      this.rejectedIncomplete = true;
      return;
    }
    set.add(uuid);
  }

  async load(docs: readonly ConvertedDocument[]): Promise<void> {
    const wanted = new Map<string, Map<string, string>>();
    for (const d of docs) {
      for (const ref of d.references) {
        if (this.known.get(ref.targetCollection)?.has(ref.uuid)) continue;
        let m = wanted.get(ref.targetCollection);
        if (!m) wanted.set(ref.targetCollection, (m = new Map()));
        m.set(ref.uuid, ref.sourceText);
      }
    }
    for (const [collection, refs] of wanted) {
      let cache = this.known.get(collection);
      if (!cache || cache.size + refs.size > this.maxKnown) this.known.set(collection, (cache = new Map()));
      const byId = new Map<string, string>();
      const ids: unknown[] = [];
      for (const [uuid, sourceText] of refs) {
        cache.set(uuid, false);
        const hex = uuidToObjectId(uuid);
        if (hex) {
          ids.push(new ObjectId(hex));
          byId.set(`oid:${hex}`, uuid);
        } else if (sourceText.startsWith('str:')) {
          ids.push(sourceText.slice(4));
          byId.set(sourceText, uuid);
        }
        // Other id types (numbers, objects) are not looked up: they count as missing, and say so in the orphan report.
      }
      for (let i = 0; i < ids.length; i += IN_CHUNK) {
        const found = await this.db
          .collection(collection)
          .find({ _id: { $in: ids.slice(i, i + IN_CHUNK) } } as Filter<Document>, { projection: { _id: 1 } })
          .toArray();
        for (const f of found) {
          const id = f._id as unknown;
          const key = typeof id === 'string' ? `str:${id}` : id instanceof ObjectId || (id as { _bsontype?: string })?._bsontype === 'ObjectId' ? `oid:${(id as ObjectId).toHexString()}` : undefined;
          const uuid = key ? byId.get(key) : undefined;
          if (uuid) cache.set(uuid, true);
        }
      }
    }
  }

  exists(collection: string, uuid: string): boolean {
    return this.known.get(collection)?.get(uuid) === true && !this.rejected.get(collection)?.has(uuid);
  }
}
