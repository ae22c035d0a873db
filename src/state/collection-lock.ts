/**
 * One PostgreSQL advisory lock per collection, held by a dedicated session for the whole
 * run (as Flyway and Prisma Migrate do). A second process fails at once and is told who
 * holds the lock; a killed holder's lock dies with its connection, so nothing stays stuck.
 */
import type pg from 'pg';
import { LockHeldError } from '../core/errors.js';
import { STATE_LOCK_CLASS } from './schema.js';

/** 32-bit FNV-1a of the collection name: the advisory lock's second key. */
export function lockKey(collection: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(collection, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}

export interface CollectionLocks {
  /** Fires when the session holding the locks is lost: the run must stop, the locks are gone. */
  lost: Promise<Error>;
  release(): Promise<void>;
}

/** Takes the locks of all `collections` or none; throws LockHeldError (exit 5) naming the holder. */
export async function acquireCollectionLocks(pool: pg.Pool, collections: readonly string[]): Promise<CollectionLocks> {
  const client = await pool.connect();
  let onLost: (e: Error) => void = () => undefined;
  const lost = new Promise<Error>((resolve) => (onLost = resolve));
  client.on('error', (e) => onLost(e));
  const held: string[] = [];
  try {
    for (const name of [...collections].sort()) {
      const r = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1::int, $2::int) AS ok', [STATE_LOCK_CLASS, lockKey(name)]);
      if (!r.rows[0]?.ok) throw new LockHeldError(await describeHolder(client, name), { entity: name, hint: 'Wait for the other run to finish, or stop it: a stopped or killed process releases its lock at once.' });
      held.push(name);
    }
  } catch (e) {
    await unlockAndRelease(client, held);
    throw e;
  }
  return { lost, release: () => unlockAndRelease(client, held) };
}

/**
 * Unlocks and hands the session back to the pool. When unlocking fails (the connection lost, a
 * statement cancelled), the session is destroyed instead: its advisory locks end with it, so
 * no lock outlives this call and no pooled session keeps one. A lost connection is not hidden
 * either: the client's 'error' event settles `lost`, which the run watches.
 */
async function unlockAndRelease(client: pg.PoolClient, names: readonly string[]): Promise<void> {
  try {
    await unlock(client, names);
  } catch {
    client.release(true);
    return;
  }
  client.release();
}

async function unlock(client: pg.PoolClient, names: readonly string[]): Promise<void> {
  for (const name of names) await client.query('SELECT pg_advisory_unlock($1::int, $2::int)', [STATE_LOCK_CLASS, lockKey(name)]);
}

async function describeHolder(client: pg.PoolClient, collection: string): Promise<string> {
  const r = await client.query<{ pid: number; application_name: string; backend_start: Date | null; client_addr: string | null }>(
    `SELECT a.pid, a.application_name, a.backend_start, a.client_addr::text AS client_addr
       FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted AND l.pid <> pg_backend_pid()
        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND l.classid = $1::int::oid AND l.objid = $2::int::oid AND l.objsubid = 2`,
    [STATE_LOCK_CLASS, lockKey(collection)],
  );
  const h = r.rows[0];
  const who = h ? `${h.application_name || 'another session'} (PostgreSQL backend ${h.pid}${h.client_addr ? ` from ${h.client_addr}` : ''}, since ${h.backend_start?.toISOString() ?? '?'})` : 'another session';
  return `Collection "${collection}" is locked by ${who}.`;
}
