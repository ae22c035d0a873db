/**
 * The migration's own state, in PostgreSQL next to the data so that it commits in the same
 * transaction: runs, the ObjectId→UUID registry (id_map), per-range checkpoints, rejects and
 * references deferred to break foreign-key cycles. It lives in a schema of the tool's own,
 * never in the application's, and is created when missing.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { quoteIdent } from '../schema/prisma-schema.js';
import { withTransaction } from '../target/transaction.js';

export const STATE_SCHEMA = 'hybrid_migrate';
const S = quoteIdent(STATE_SCHEMA);

/** Bumped when the state tables change shape. */
export const STATE_VERSION = 1;

const DDL = `
CREATE SCHEMA IF NOT EXISTS ${S};
CREATE TABLE IF NOT EXISTS ${S}.meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE IF NOT EXISTS ${S}.runs (
  id uuid PRIMARY KEY,
  command text NOT NULL,
  options jsonb NOT NULL DEFAULT '{}',
  started_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  status text NOT NULL DEFAULT 'running',
  summary jsonb,
  host text,
  pid integer
);
CREATE TABLE IF NOT EXISTS ${S}.id_map (
  collection text NOT NULL,
  source_key text NOT NULL,
  uuid uuid NOT NULL,
  target_table text NOT NULL,
  run_id uuid NOT NULL,
  migrated_at timestamptz NOT NULL DEFAULT now(),
  row_hash text NOT NULL,
  PRIMARY KEY (collection, source_key)
);
CREATE UNIQUE INDEX IF NOT EXISTS id_map_uuid ON ${S}.id_map (uuid);
CREATE INDEX IF NOT EXISTS id_map_run ON ${S}.id_map (run_id);
CREATE TABLE IF NOT EXISTS ${S}.checkpoints (
  collection text NOT NULL,
  partition integer NOT NULL,
  range_start text,
  range_end text,
  last_key text,
  docs_read bigint NOT NULL DEFAULT 0,
  docs_written bigint NOT NULL DEFAULT 0,
  docs_rejected bigint NOT NULL DEFAULT 0,
  status text NOT NULL DEFAULT 'pending',
  mode text NOT NULL DEFAULT 'fresh',
  mapping_fingerprint text NOT NULL,
  run_id uuid,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (collection, partition)
);
CREATE TABLE IF NOT EXISTS ${S}.rejects (
  id bigserial PRIMARY KEY,
  collection text NOT NULL,
  source_key text NOT NULL,
  run_id uuid NOT NULL,
  field_path text NOT NULL,
  reason text NOT NULL,
  document text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX IF NOT EXISTS rejects_doc ON ${S}.rejects (collection, source_key);
ALTER TABLE ${S}.id_map ADD COLUMN IF NOT EXISTS source_hash text;
CREATE TABLE IF NOT EXISTS ${S}.sync_state (
  collection text PRIMARY KEY,
  cursor_updated_at timestamptz,
  cursor_key text,
  high_water_key text,
  last_run_id uuid,
  last_synced_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS ${S}.conflicts (
  collection text NOT NULL,
  source_key text NOT NULL,
  uuid uuid NOT NULL,
  kind text NOT NULL,
  run_id uuid NOT NULL,
  detected_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (collection, source_key, kind)
);
CREATE TABLE IF NOT EXISTS ${S}.deferred_refs (
  collection text NOT NULL,
  row_uuid uuid NOT NULL,
  field text NOT NULL,
  target_collection text NOT NULL,
  target_uuid uuid NOT NULL,
  source_text text NOT NULL,
  run_id uuid NOT NULL,
  PRIMARY KEY (collection, row_uuid, field)
);
`;

/** Creates the state schema when missing. Concurrent callers serialise on a transaction lock. */
export async function ensureStateSchema(pool: pg.Pool): Promise<void> {
  await applyStateDdl(pool, 'state', DDL, async (client) => {
    await client.query(`INSERT INTO ${S}.meta (key, value) VALUES ('version', $1) ON CONFLICT (key) DO NOTHING`, [String(STATE_VERSION)]);
  });
}

/**
 * Runs idempotent DDL of the state schema once per DDL text: a digest recorded in `meta` says it
 * ran. Checked first with a plain read, because the DDL itself is not free even when everything
 * exists: `ALTER TABLE … ADD COLUMN IF NOT EXISTS` and `CREATE INDEX IF NOT EXISTS` lock their
 * table before they look, so a run starting while another run's batch transaction is open
 * would wait for that batch (and every later batch would queue behind it), instead of
 * reporting a held collection at once.
 */
export async function applyStateDdl(pool: pg.Pool, name: string, ddl: string, after?: (client: pg.PoolClient) => Promise<void>): Promise<void> {
  const key = `ddl:${name}`;
  const digest = createHash('sha256').update(ddl).digest('hex').slice(0, 32);
  if ((await recordedDigest(pool, key)) === digest) return;
  await withTransaction(pool, async (client) => {
    // Concurrent CREATE … IF NOT EXISTS of one object can otherwise collide.
    await client.query(`SELECT pg_advisory_xact_lock(${STATE_LOCK_CLASS}, 0)`);
    await client.query(ddl);
    await after?.(client);
    await client.query(`INSERT INTO ${S}.meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`, [key, digest]);
  });
}

/** The digest recorded for a DDL text, or undefined when the schema (or its meta table) is missing or unreadable. */
async function recordedDigest(pool: pg.Pool, key: string): Promise<string | undefined> {
  try {
    // Asked first, so a fresh database costs no failed statement (status counts them as errors).
    const present = await pool.query<{ ok: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS ok`, [`${S}.meta`]);
    if (!present.rows[0]?.ok) return undefined;
    const r = await pool.query<{ value: string }>(`SELECT value FROM ${S}.meta WHERE key = $1`, [key]);
    return r.rows[0]?.value;
  } catch (e) {
    // insufficient_privilege: the DDL path names the problem.
    if ((e as { code?: string }).code === '42501') return undefined;
    throw e;
  }
}

/**
 * Refreshes the planner's statistics of the registry before it is read page by page in UUID
 * order. Right after a bulk load, autovacuum has often not analyzed it yet: measured on 1M
 * orders, PostgreSQL then expected 4,933 rows for the collection instead of 967,128 and sorted
 * all of them for every page of 1,000 (2.1 s a page, verify at a standstill); after ANALYZE the
 * uuid index serves each page in 17 ms. ANALYZE reads a sample and blocks no reader or writer.
 */
export async function analyzeRegistry(pool: pg.Pool): Promise<void> {
  await pool.query(`ANALYZE ${S}.id_map`);
}

/** First key of every advisory lock the tool takes ('HM' in ASCII): never collides with other tools' 64-bit keys. */
export const STATE_LOCK_CLASS = 0x484d;

/** The SQL expression of a row's hash, computed by PostgreSQL from what it actually stores. */
export function rowHashSql(alias: string): string {
  return `md5(to_jsonb(${alias})::text)`;
}

export interface CheckpointRow {
  collection: string;
  partition: number;
  range_start: string | null;
  range_end: string | null;
  last_key: string | null;
  docs_read: string;
  docs_written: string;
  docs_rejected: string;
  status: 'pending' | 'running' | 'done';
  mode: 'fresh' | 'upsert';
  mapping_fingerprint: string;
}

export async function readCheckpoints(pool: pg.Pool, collection: string): Promise<CheckpointRow[]> {
  const r = await pool.query<CheckpointRow>(`SELECT * FROM ${S}.checkpoints WHERE collection = $1 ORDER BY partition`, [collection]);
  return r.rows;
}

export const stateTable = (name: 'runs' | 'id_map' | 'checkpoints' | 'rejects' | 'deferred_refs' | 'meta' | 'sync_state' | 'conflicts') => `${S}.${quoteIdent(name)}`;
