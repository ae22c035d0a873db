/**
 * Which referenced rows exist, for every use of the batch pipeline, by one rule:
 *
 * - a referenced row exists when the TARGET table has it (written by this or an earlier run);
 * - in a prediction (migrate --dry-run, plan), where nothing is written, it also exists when
 *   its document is in the SOURCE collection (it would be migrated first, references being
 *   loaded in order) and the prediction does not set that document aside (markRejected): a
 *   rejected document never arrives in the target table, so references to it dangle.
 *
 * Which source values are references, and the UUID each stands for, is transform's rule
 * (ObjectIds, hex strings and string or numeric ids alike); the referenced `_id` is read back
 * by idOfReference, and a document found in the source is matched by its own UUID. Looked up
 * once per batch and target, for the UUIDs not already known; bounded so memory stays flat.
 */
import type { Db, Document, Filter } from 'mongodb';
import type pg from 'pg';
import type { MigrationMapping } from '../core/mapping.js';
import type { ConvertedDocument } from '../core/transform.js';
import { idToUuid } from '../core/ids.js';
import { EXACT_READ_OPTIONS } from '../source/mongo-source.js';
import { qualifiedTable, quoteIdent, type SchemaModel } from '../schema/prisma-schema.js';
import { idOfReference } from './source-keys.js';

/** Where the index looks for referenced rows. */
export interface ReferenceSources {
  /** The target database: rows already written. Absent for `plan`, which reads only the source. */
  target?: pg.Pool;
  /** A prediction: the source database, whose documents would be migrated first. */
  source?: Db;
  /** Known ids kept per target collection before the cache starts over. */
  maxKnown?: number;
  /** Documents remembered as predicted rejects per collection. */
  maxRejected?: number;
}

/** Ids per `$in` query: keeps each query well under the 16 MB command limit and FerretDB fast. */
const IN_CHUNK = 1000;

/** What is known of a referenced UUID: a target row, a source document only, or nothing. */
type Found = 'target' | 'source' | 'missing';

/** PostgreSQL's "no such table / schema": a prediction against a database the schema was never applied to. */
const NO_TABLE = new Set(['42P01', '3F000']);

export class ReferenceIndex {
  private readonly known = new Map<string, Map<string, Found>>();
  private readonly models = new Map<string, SchemaModel>();
  private readonly rejected = new Map<string, Set<string>>();
  private readonly maxKnown: number;
  private readonly maxRejected: number;
  /** True once a rejected set hit its bound: references to later rejected documents count as resolved. */
  rejectedIncomplete = false;

  constructor(
    mapping: MigrationMapping,
    private readonly sources: ReferenceSources,
  ) {
    this.maxKnown = sources.maxKnown ?? 500_000;
    this.maxRejected = sources.maxRejected ?? 1_000_000;
    for (const c of mapping.collections.values()) {
      for (const col of [...c.columns, ...c.children.flatMap((ch) => ch.columns)]) {
        if (col.source.kind === 'reference') this.models.set(col.source.targetCollection, col.source.targetModel);
      }
    }
  }

  /** Whether this index predicts (reads the source) rather than reports what was written. */
  get predicts(): boolean {
    return this.sources.source !== undefined;
  }

  /** Looks up every referenced UUID of `docs` not yet known: one query per target table, then the source. */
  async load(docs: readonly ConvertedDocument[]): Promise<void> {
    for (const [collection, refs] of this.unknownReferences(docs)) {
      const found = new Map<string, Found>();
      for (const uuid of await this.inTarget(collection, [...refs.keys()])) found.set(uuid, 'target');
      const rest = [...refs].filter(([uuid]) => !found.has(uuid));
      for (const uuid of await this.inSource(collection, rest)) found.set(uuid, 'source');
      this.remember(collection, refs.keys(), found);
    }
  }

  /** A prediction sets the referenced document aside: it exists in the source, but its row never will. */
  isRejected(collection: string, uuid: string): boolean {
    return this.known.get(collection)?.get(uuid) === 'source' && this.rejected.get(collection)?.has(uuid) === true;
  }

  exists(collection: string, uuid: string): boolean {
    const found = this.known.get(collection)?.get(uuid);
    return found === 'target' || (found === 'source' && !this.rejected.get(collection)?.has(uuid));
  }

  /** A prediction sets this document aside: references to it will not resolve through the source. */
  markRejected(collection: string, uuid: string | undefined): void {
    if (uuid === undefined || !this.predicts) return;
    let set = this.rejected.get(collection);
    if (!set) this.rejected.set(collection, (set = new Set()));
    if (set.size >= this.maxRejected) {
      this.rejectedIncomplete = true;
      return;
    }
    set.add(uuid);
  }

  /** Per target collection: the referenced UUIDs not known yet, with the source text of each. */
  private unknownReferences(docs: readonly ConvertedDocument[]): Map<string, Map<string, string>> {
    const wanted = new Map<string, Map<string, string>>();
    for (const d of docs) {
      for (const ref of d.references) {
        let m = wanted.get(ref.targetCollection);
        if (!this.known.get(ref.targetCollection)?.has(ref.uuid)) {
          if (!m) wanted.set(ref.targetCollection, (m = new Map()));
          m.set(ref.uuid, ref.sourceText);
        }
        // A hex string may be a string `_id`: looked up too (settleReferences uses it when the ObjectId's row is missing).
        const alt = ref.alternative;
        if (alt && !this.known.get(ref.targetCollection)?.has(alt.uuid)) {
          if (!m) wanted.set(ref.targetCollection, (m = new Map()));
          m.set(alt.uuid, alt.sourceText);
        }
      }
    }
    return wanted;
  }

  /**
   * Caches what was found. A miss is kept only in a prediction (nothing is written during it);
   * when writing, a row missing now may be written by a later batch of the same collection.
   */
  private remember(collection: string, asked: Iterable<string>, found: ReadonlyMap<string, Found>): void {
    let cache = this.known.get(collection);
    if (!cache || cache.size > this.maxKnown) this.known.set(collection, (cache = new Map()));
    for (const uuid of asked) {
      const f = found.get(uuid);
      if (f !== undefined) cache.set(uuid, f);
      else if (this.predicts) cache.set(uuid, 'missing');
    }
  }

  private async inTarget(collection: string, uuids: readonly string[]): Promise<string[]> {
    const model = this.models.get(collection);
    const pool = this.sources.target;
    if (!model || !pool || uuids.length === 0) return [];
    const idColumn = quoteIdent(model.columnsByField.get(model.idField)?.column ?? 'id');
    try {
      const r = await pool.query<{ id: string }>(`SELECT ${idColumn}::text AS id FROM ${qualifiedTable(model)} WHERE ${idColumn} = ANY($1::uuid[])`, [uuids]);
      return r.rows.map((row) => row.id);
    } catch (e) {
      // A prediction against a database without the application's tables yet: no row exists. Anything else is an error.
      if (this.predicts && NO_TABLE.has(String((e as { code?: unknown }).code))) return [];
      throw e;
    }
  }

  /** The UUIDs among `refs` whose documents exist in the source collection. */
  private async inSource(collection: string, refs: readonly [string, string][]): Promise<string[]> {
    const db = this.sources.source;
    if (!db || refs.length === 0) return [];
    const ids: unknown[] = [];
    const wanted = new Set<string>();
    for (const [uuid, sourceText] of refs) {
      const id = idOfReference({ uuid, sourceText });
      if (!id) continue; // dates, objects…: no exact `_id` query; they count as missing and say so in the orphan report
      ids.push(id.id);
      wanted.add(uuid);
    }
    const out: string[] = [];
    for (let i = 0; i < ids.length; i += IN_CHUNK) {
      const docs = await db
        .collection(collection)
        .find({ _id: { $in: ids.slice(i, i + IN_CHUNK) } } as Filter<Document>, { projection: { _id: 1 }, ...EXACT_READ_OPTIONS })
        .toArray();
      for (const d of docs) {
        const uuid = idToUuid(collection, d._id);
        if (wanted.has(uuid)) out.push(uuid);
      }
    }
    return out;
  }
}
