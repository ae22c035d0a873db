/**
 * Which referenced rows exist: asked of the target tables once per batch for the UUIDs not
 * already known, so references resolve without a lookup per document.
 */
import type pg from 'pg';
import type { MigrationMapping } from '../core/mapping.js';
import type { ConvertedDocument } from '../core/transform.js';
import { qualifiedTable, quoteIdent, type SchemaModel } from '../schema/prisma-schema.js';

/** Known-existing ids per target collection; bounded so a long run's memory stays flat. */
export class ReferenceIndex {
  private readonly known = new Map<string, Set<string>>();
  private readonly models = new Map<string, SchemaModel>();

  constructor(
    private readonly pool: pg.Pool,
    mapping: MigrationMapping,
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
      const r = await this.pool.query<{ id: string }>(`SELECT ${idColumn}::text AS id FROM ${qualifiedTable(model)} WHERE ${idColumn} = ANY($1::uuid[])`, [[...ids]]);
      let set = this.known.get(collection);
      if (!set || set.size + r.rows.length > this.maxKnown) this.known.set(collection, (set = new Set()));
      for (const row of r.rows) set.add(row.id);
    }
  }

  exists(collection: string, uuid: string): boolean {
    return this.known.get(collection)?.has(uuid) ?? false;
  }
}
