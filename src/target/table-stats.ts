/**
 * Planner statistics of the tables the migration loads. A table bulk-loaded a moment ago has
 * none until autovacuum gets to it, and until then PostgreSQL plans every lookup of a batch's
 * rows as if the table were empty: verify's child-row query by parent (`order_id = ANY(…)`)
 * then scanned the whole table per batch (measured on 1M orders: 0.75 s per batch of 1,000,
 * verify 6x slower than migrate). ANALYZE reads a sample, blocks no reader or writer, and
 * takes a fraction of a second.
 */
import type pg from 'pg';
import type { SchemaModel } from '../schema/prisma-schema.js';
import { qualifiedTable } from '../schema/prisma-schema.js';

/**
 * ANALYZEs those of `models`' tables that were never analyzed or changed by more than a tenth
 * (and 1,000 rows) since; returns the tables analyzed. Best effort: a table another session
 * holds (lock_timeout) or that cannot be read is left to autovacuum, never an error.
 */
export async function analyzeStaleTables(pool: pg.Pool, models: readonly SchemaModel[]): Promise<string[]> {
  const unique = [...new Map(models.map((m) => [qualifiedTable(m), m])).values()];
  if (unique.length === 0) return [];
  let stale: { schema: string; table: string }[];
  try {
    const r = await pool.query<{ schema: string; table: string }>(
      `SELECT s.schemaname AS schema, s.relname AS table
         FROM pg_stat_user_tables s
         JOIN unnest($1::text[], $2::text[]) AS t(schema, name) ON s.schemaname = t.schema AND s.relname = t.name
        WHERE coalesce(s.last_analyze, s.last_autoanalyze) IS NULL
           OR s.n_mod_since_analyze > greatest(1000, s.n_live_tup / 10)`,
      [unique.map((m) => m.dbSchema), unique.map((m) => m.table)],
    );
    stale = r.rows;
  } catch {
    return [];
  }
  const analyzed: string[] = [];
  for (const { schema, table } of stale) {
    const model = unique.find((m) => m.dbSchema === schema && m.table === table) as SchemaModel;
    try {
      await pool.query(`ANALYZE ${qualifiedTable(model)}`);
      analyzed.push(`${schema}.${table}`);
    } catch {
      // Held by another session past lock_timeout, or no privilege: autovacuum will do it.
    }
  }
  return analyzed;
}

/** A child table whose parent column leads no index. */
export interface UnindexedParent {
  model: string;
  table: string;
  column: string;
}

/**
 * The child tables of `children` (that exist) with no index whose first column is the parent
 * column: verify, the incremental sync, --detect-changes and rollback read child rows by parent
 * a batch at a time, and without such an index every read scans the whole table (the cost per
 * document then grows with the table). Prisma creates no index for a foreign key on PostgreSQL;
 * `@@unique([orderId, position])` or `@@index([orderId])` is one.
 */
export async function unindexedParents(pool: pg.Pool, children: readonly { model: SchemaModel; parentColumn: string }[]): Promise<UnindexedParent[]> {
  if (children.length === 0) return [];
  const r = await pool.query<{ i: number }>(
    `SELECT t.i FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS t(schema, name, col, i)
       JOIN pg_namespace n ON n.nspname = t.schema
       JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = t.name AND c.relkind IN ('r', 'p')
      WHERE NOT EXISTS (
        SELECT 1 FROM pg_index x JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[0]
         WHERE x.indrelid = c.oid AND a.attname = t.col)`,
    [children.map((c) => c.model.dbSchema), children.map((c) => c.model.table), children.map((c) => c.parentColumn)],
  );
  return r.rows.map((row) => {
    const c = children[Number(row.i) - 1] as (typeof children)[number];
    return { model: c.model.name, table: c.model.table, column: c.parentColumn };
  });
}
