/**
 * Metrics of the tool's runs, kept in PostgreSQL with the run (`runs.summary.metrics`), and
 * the data volume per database that status shows next to them.
 */
import { MongoServerError, type Db } from 'mongodb';
import type pg from 'pg';
import { qualifiedTable, type SchemaModel } from '../../schema/prisma-schema.js';
import { STATE_SCHEMA } from '../../state/schema.js';

/** Data volume of the MongoDB database (dbStats); null when the server refuses (not permitted, or not supported). A lost connection is thrown. */
export async function mongoVolume(db: Db): Promise<{ dataBytes: number; storageBytes: number; indexBytes: number; collections: number } | null> {
  try {
    const s = await db.command({ dbStats: 1 });
    return { dataBytes: Number(s.dataSize ?? 0), storageBytes: Number(s.storageSize ?? 0), indexBytes: Number(s.indexSize ?? 0), collections: Number(s.collections ?? 0) };
  } catch (e) {
    if (e instanceof MongoServerError) return null;
    throw e;
  }
}

/** Data volume of the PostgreSQL database and of the tool's own schema. */
export async function postgresVolume(pool: pg.Pool): Promise<{ databaseBytes: number; stateBytes: number }> {
  const r = await pool.query<{ db: string; state: string }>(
    `SELECT pg_database_size(current_database())::bigint AS db,
            COALESCE((SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                       WHERE n.nspname = $1 AND c.relkind = 'r'), 0)::bigint AS state`,
    [STATE_SCHEMA],
  );
  return { databaseBytes: Number(r.rows[0]?.db ?? 0), stateBytes: Number(r.rows[0]?.state ?? 0) };
}

/** Total size (table, indexes, TOAST) of a model's table and of its child tables. */
export async function tableBytes(pool: pg.Pool, models: readonly SchemaModel[]): Promise<number | null> {
  if (models.length === 0) return 0;
  const r = await pool.query<{ n: string | null }>(
    `SELECT sum(pg_total_relation_size(to_regclass(t)))::bigint AS n FROM unnest($1::text[]) AS t`,
    [models.map((m) => qualifiedTable(m))],
  );
  const n = r.rows[0]?.n;
  return n === null || n === undefined ? null : Number(n);
}
