/**
 * The PostgreSQL side: a pool for batch transactions, plus connection checks that fail
 * fast with a message that names the database and never the password.
 */
import pg from 'pg';
import { ConnectionError } from '../core/errors.js';
import { passwordsOf, redactText, redactUri } from '../core/redact.js';

export interface PgTarget {
  pool: pg.Pool;
  serverVersion: string;
  /** The connection string, redacted: safe to print. */
  display: string;
  /** Text scrubber for driver errors: removes this target's password in every form. */
  scrub(text: string): string;
  close(): Promise<void>;
}

export interface ConnectPgOptions {
  url: string;
  /** Connections in the pool: one per concurrent batch, plus the lock holder. */
  max?: number;
  timeoutMs?: number;
  /** Shown in pg_stat_activity: lets a blocked operator see who holds a lock. */
  applicationName?: string;
}

export async function connectPostgres(opts: ConnectPgOptions): Promise<PgTarget> {
  const secrets = passwordsOf([opts.url]);
  const display = redactUri(opts.url);
  const scrub = (text: string) => redactText(text, secrets);
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: opts.max ?? 8,
    connectionTimeoutMillis: opts.timeoutMs ?? 8000,
    application_name: (opts.applicationName ?? 'hybrid-migrate').slice(0, 63),
    // Idle connections of a long run are kept; a dead one is replaced by the pool.
    idleTimeoutMillis: 60_000,
  });
  // An idle client that dies (server restart, pg_terminate_backend) must not crash the process.
  pool.on('error', () => undefined);
  let serverVersion: string;
  try {
    const r = await pool.query<{ v: string }>('SELECT current_setting(\'server_version\') AS v');
    serverVersion = `PostgreSQL ${r.rows[0]?.v ?? '?'}`;
  } catch (cause) {
    await pool.end().catch(() => undefined);
    throw new ConnectionError('PostgreSQL', `PostgreSQL (${display}): ${scrub(describePgError(cause))}`, {
      hint: 'Check DATABASE_URL: host, port, database name, credentials, and that the server is running.',
    });
  }
  return { pool, serverVersion, display, scrub, close: () => pool.end() };
}

export function describePgError(e: unknown): string {
  if (e instanceof AggregateError && e.errors.length > 0) return describePgError(e.errors[0]);
  if (e instanceof Error) {
    const code = (e as { code?: string }).code;
    const msg = e.message || e.name || code || 'unknown error';
    return (code && !msg.includes(code) ? `${msg} (${code})` : msg).replace(/\s+/g, ' ').trim();
  }
  return String(e);
}
