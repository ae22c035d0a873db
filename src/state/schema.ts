/**
 * The shape of the migration's own state: the `hybrid_migrate` schema's DDL, applied once per
 * DDL text, and the one test of "is the state there yet?". Only modules of src/state/ use
 * this; everything else goes through their functions (see ./index.ts).
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
ALTER TABLE ${S}.id_map ADD COLUMN IF NOT EXISTS child_rows text;
ALTER TABLE ${S}.conflicts ADD COLUMN IF NOT EXISTS row_table text;
ALTER TABLE ${S}.conflicts ADD COLUMN IF NOT EXISTS row_uuid uuid;
ALTER TABLE ${S}.conflicts ADD COLUMN IF NOT EXISTS resolution text NOT NULL DEFAULT 'kept';
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
ALTER TABLE ${S}.sync_state ADD COLUMN IF NOT EXISTS change_pass_started_at timestamptz;
ALTER TABLE ${S}.sync_state ADD COLUMN IF NOT EXISTS change_pass_key text;
ALTER TABLE ${S}.sync_state ADD COLUMN IF NOT EXISTS changes_checked_at timestamptz;
ALTER TABLE ${S}.sync_state ADD COLUMN IF NOT EXISTS changes_pass_completed_at timestamptz;
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

/** First key of every advisory lock the tool takes ('HM' in ASCII): never collides with other tools' 64-bit keys. */
export const STATE_LOCK_CLASS = 0x484d;

/**
 * The SQL expression of a row's hash, as the registry records it now: 'x' and the row's xmin,
 * the id of the transaction that wrote this version of the row. Any UPDATE of the row, even
 * one that writes the same values back, makes a new version with another xmin; a row lock
 * (FOR UPDATE, FOR KEY SHARE) does not, nor do VACUUM (FULL), CLUSTER or freezing. Reading it
 * costs PostgreSQL nothing: the rows just written need no read back (every row a batch writes
 * carries the same xmin, so the registry records it from one row per document).
 * What rewrites rows into new versions without the application (pg_dump and restore, a
 * logical copy, pg_repack, ALTER TABLE … TYPE) makes them read as changed: the safe side.
 */
export function rowHashSql(alias: string): string {
  return `('x' || ${alias}.xmin::text)`;
}

/**
 * The hash of registry entries written in the format before the current one: 'r' and the md5
 * of the row's text (record output: every column as PostgreSQL prints it).
 */
export function textRowHashSql(alias: string): string {
  return `('r' || md5((${alias}.*)::text))`;
}

/**
 * The hash of registry entries written in the first format (32 hex digits), as it was
 * computed then for the whole row (then written `to_jsonb(alias)`, which a column named like
 * the alias shadowed: such an entry reads as a change now, which keeps the row).
 */
export function legacyRowHashSql(alias: string): string {
  return `md5(to_jsonb(${alias}.*)::text)`;
}

/** The formats a recorded row hash can be in: current (xmin), text md5, first (jsonb md5). */
export type RowHashFormat = 'xmin' | 'text' | 'legacy';

/** The format a recorded hash was written in. */
export function rowHashFormat(hash: string): RowHashFormat {
  if (hash.startsWith('x')) return 'xmin';
  return hash.length === 32 ? 'legacy' : 'text';
}

/** A row's hash in the format `recorded` (an SQL expression: a recorded hash) was written in. */
export function rowHashLikeSql(alias: string, recorded: string): string {
  return `(CASE WHEN left(${recorded}, 1) = 'x' THEN ${rowHashSql(alias)} WHEN length(${recorded}) = 32 THEN ${legacyRowHashSql(alias)} ELSE ${textRowHashSql(alias)} END)`;
}

/** The SQL expression of a row's hash in `format`. */
export function rowHashInSql(alias: string, format: RowHashFormat): string {
  return format === 'xmin' ? rowHashSql(alias) : format === 'text' ? textRowHashSql(alias) : legacyRowHashSql(alias);
}

export const stateTable = (name: 'runs' | 'id_map' | 'checkpoints' | 'rejects' | 'deferred_refs' | 'meta' | 'sync_state' | 'conflicts' | 'verifications') => `${S}.${quoteIdent(name)}`;

/**
 * SQLSTATEs that mean "the state schema or one of its tables does not exist yet" (nothing was
 * ever migrated into this database): undefined_table, invalid_schema_name. Every other
 * failure — a lost connection, a permission problem, a timeout — is not "missing state" and
 * must be reported, never read as "nothing yet".
 */
const MISSING_STATE = new Set(['42P01', '3F000']);

export function isStateMissing(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && MISSING_STATE.has(code);
}

/** Runs a read of the state; "state missing" gives `fallback`, any other failure is thrown. */
export async function readStateOr<T>(fallback: T, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (e) {
    if (isStateMissing(e)) return fallback;
    throw e;
  }
}

/** Whether the state schema exists (its registry table: created first, never dropped). */
export async function stateSchemaExists(q: Queryable): Promise<boolean> {
  const r = await q.query<{ t: string | null }>(`SELECT to_regclass($1)::text AS t`, [stateTable('id_map')]);
  return r.rows[0]?.t != null;
}

/** A pool or a client inside a transaction: state functions run on either. */
export type Queryable = pg.Pool | pg.PoolClient | pg.ClientBase;

/** Which state tables exist (status reads only those, so a fresh database costs no failed statement). */
export interface StateTables {
  idMap: boolean;
  rejects: boolean;
  checkpoints: boolean;
  runs: boolean;
  syncState: boolean;
  verifications: boolean;
  conflicts: boolean;
}

export async function stateTables(pool: pg.Pool): Promise<StateTables> {
  const names = ['id_map', 'rejects', 'checkpoints', 'runs', 'sync_state', 'verifications', 'conflicts'] as const;
  const r = await pool.query<Record<string, boolean>>(
    `SELECT ${names.map((n) => `to_regclass('${STATE_SCHEMA}.${n}') IS NOT NULL AS ${n}`).join(', ')}`,
  );
  const row = r.rows[0] ?? {};
  return {
    idMap: Boolean(row.id_map),
    rejects: Boolean(row.rejects),
    checkpoints: Boolean(row.checkpoints),
    runs: Boolean(row.runs),
    syncState: Boolean(row.sync_state),
    verifications: Boolean(row.verifications),
    conflicts: Boolean(row.conflicts),
  };
}

/** Rows of one collection's table, split by who wrote them, and the registry's counts. */
