/**
 * Which referenced rows exist: asked of the target tables once per batch for the UUIDs not
 * already known, so references resolve without a lookup per document. In a dry run nothing
 * has been written, so a reference also counts as resolved when its document exists in the
 * source collection (it would be migrated first, references being loaded in order).
 */
import type { Db } from 'mongodb';
import { ObjectId } from 'mongodb';
import type pg from 'pg';
import type { MigrationMapping } from '../core/mapping.js';
import type { ConvertedDocument } from '../core/transform.js';
import { uuidToObjectId } from '../core/ids.js';
import { qualifiedTable, quoteIdent, type SchemaModel } from '../schema/prisma-schema.js';

/** Known-existing ids per target collection; bounded so a long run's memory stays flat. */
export class ReferenceIndex {
  private readonly known = new Map<string, Set<string>>();
  private readonly models = new Map<string, SchemaModel>();

  constructor(
    private readonly pool: pg.Pool,
    mapping: MigrationMapping,
    /** Dry run: the source database, to count a reference as resolved when its document exists there. */
    private readonly source?: Db,
    private readonly maxKnown = 500_000,
  ) {
    for (const c of mapping.collections.values()) {
      for (const col of [...c.columns, ...c.children.flatMap((ch) => ch.columns)]) {
        if (col.source.kind === 'reference') this.models.set(col.source.targetCollection, col.source.targetModel);
      }
    }
  }

  /** Looks up, in one query per target table, every referenced UUID of `docs` not yet known. */
  async load(docs: readonly ConvertedDocument[]): Promise<void> {
    const wanted = new Map<string, Set<string>>();
    for (const d of docs) {
      for (const ref of d.references) {
        if (this.known.get(ref.targetCollection)?.has(ref.uuid)) continue;
        let set = wanted.get(ref.targetCollection);
        if (!set) wanted.set(ref.targetCollection, (set = new Set()));
        set.add(ref.uuid);
      }
    }
    for (const [collection, ids] of wanted) {
      const model = this.models.get(collection);
      if (!model) continue;
      const idColumn = quoteIdent(model.columnsByField.get(model.idField)?.column ?? 'id');
      const found = new Set<string>();
      const r = await this.pool
        .query<{ id: string }>(`SELECT ${idColumn}::text AS id FROM ${qualifiedTable(model)} WHERE ${idColumn} = ANY($1::uuid[])`, [[...ids]])
        .catch((e: unknown) => {
          if (this.source) return { rows: [] as { id: string }[] }; // dry run against a database without the table
          throw e;
        });
      for (const row of r.rows) found.add(row.id);
      if (this.source) for (const id of await this.inSource(collection, [...ids].filter((i) => !found.has(i)))) found.add(id);
      let set = this.known.get(collection);
      if (!set || set.size + found.size > this.maxKnown) this.known.set(collection, (set = new Set()));
      for (const id of found) set.add(id);
    }
  }

  exists(collection: string, uuid: string): boolean {
    return this.known.get(collection)?.has(uuid) ?? false;
  }

  /** The UUIDs among `uuids` whose documents exist in the source collection (ObjectId ids only: the mapping is reversible). */
  private async inSource(collection: string, uuids: readonly string[]): Promise<string[]> {
    const byHex = new Map<string, string>();
    for (const u of uuids) {
      const hex = uuidToObjectId(u);
      if (hex) byHex.set(hex, u);
    }
    if (byHex.size === 0 || !this.source) return [];
    const docs = await this.source
      .collection(collection)
      .find({ _id: { $in: [...byHex.keys()].map((h) => new ObjectId(h)) } }, { projection: { _id: 1 } })
      .toArray();
    return docs.map((d) => byHex.get((d._id as ObjectId).toHexString())).filter((u): u is string => u !== undefined);
  }
}
