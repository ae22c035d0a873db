/**
 * What `status` reads from the registry (`id_map`) beyond its counts: the rows the application
 * deleted since the migration wrote them, and when the migration last wrote a collection.
 * Read-only. (Kept apart from registry.ts, which the write path owns; the owned-rows rule is
 * the same as ownership.ts's: a main row is the migration's iff id_map registers it, a child
 * row the migration wrote is recorded in the parent's `child_rows` digest by table and position.)
 */
import { childUuid } from '../core/ids.js';
import type { ChildTableRef } from './ownership.js';
import { readStateOr, stateTable, type Queryable } from './schema.js';

/** A row the migration wrote that is no longer there. */
export interface DeletedRow {
  /** The source document (`oid:…`). */
  sourceKey: string;
  table: string;
  row: string;
}

export interface ApplicationDeletes {
  /** Main rows deleted plus child rows deleted under a main row still present. */
  count: number;
  samples: DeletedRow[];
}

/**
 * Rows of a collection the migration registered and that are gone: main rows (registry entry,
 * no row), and child rows recorded in `child_rows` whose (parent, position) holds no row any
 * more while the parent is still there. One pass over the collection's registry per table.
 */
export async function applicationDeletedRows(
  q: Queryable,
  main: { collection: string; table: string; tableName: string; idColumn: string },
  children: readonly ChildTableRef[],
  maxSamples: number,
): Promise<ApplicationDeletes> {
  const out: ApplicationDeletes = { count: 0, samples: [] };
  const m = stateTable('id_map');
  const r = await q.query<{ n: string; k: string; u: string }>(
    `SELECT count(*) OVER () AS n, m.source_key AS k, m.uuid::text AS u FROM ${m} m
      WHERE m.collection = $1 AND NOT EXISTS (SELECT 1 FROM ${main.table} t WHERE t.${main.idColumn} = m.uuid)
      ORDER BY m.uuid LIMIT $2`,
    [main.collection, Math.max(1, maxSamples)],
  );
  out.count += Number(r.rows[0]?.n ?? 0);
  out.samples.push(...r.rows.map((row) => ({ sourceKey: row.k, table: main.tableName, row: row.u })));
  for (const [i, child] of children.entries()) {
    const c = await q.query<{ n: string; k: string; parent: string; pos: number }>(
      `SELECT count(*) OVER () AS n, m.source_key AS k, m.uuid::text AS parent, split_part(e, '.', 2)::int AS pos
         FROM ${m} m JOIN ${main.table} t ON t.${main.idColumn} = m.uuid
        CROSS JOIN LATERAL unnest(string_to_array(m.child_rows, ' ')) AS e
        WHERE m.collection = $1 AND m.child_rows <> '' AND split_part(e, '.', 1) = $2
          AND NOT EXISTS (SELECT 1 FROM ${child.table} c WHERE c.${child.parentColumn} = m.uuid AND c.${child.positionColumn} = split_part(e, '.', 2)::int)
        ORDER BY 3, 4 LIMIT $3`,
      [main.collection, String(i), Math.max(1, maxSamples)],
    );
    out.count += Number(c.rows[0]?.n ?? 0);
    out.samples.push(...c.rows.map((row) => ({ sourceKey: row.k, table: child.tableName, row: childUuid(row.parent, child.modelName, row.pos) })));
  }
  out.samples = out.samples.slice(0, maxSamples);
  return out;
}

/** When the migration last wrote (inserted or replaced) a row of the collection; null: never, or no state. */
export async function lastMigrationWrite(q: Queryable, collection: string): Promise<Date | null> {
  return readStateOr(null, async () => {
    const r = await q.query<{ at: Date | null }>(`SELECT max(migrated_at) AS at FROM ${stateTable('id_map')} WHERE collection = $1`, [collection]);
    return r.rows[0]?.at ?? null;
  });
}

/** What the registry recorded when the migration last wrote each of `keys`: the conversion hash and the time (absent: never migrated). */
export async function recordedWrites(q: Queryable, collection: string, keys: readonly string[]): Promise<Map<string, { sourceHash: string | null; migratedAt: Date }>> {
  if (keys.length === 0) return new Map();
  return readStateOr(new Map(), async () => {
    const r = await q.query<{ k: string; h: string | null; at: Date }>(
      `SELECT source_key AS k, source_hash AS h, migrated_at AS at FROM ${stateTable('id_map')} WHERE collection = $1 AND source_key = ANY($2::text[])`,
      [collection, keys],
    );
    return new Map(r.rows.map((row) => [row.k, { sourceHash: row.h, migratedAt: row.at }]));
  });
}
