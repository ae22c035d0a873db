/**
 * The PostgreSQL side: a pool for batch transactions, plus connection checks that fail
 * fast with a message that names the database and never the password.
 */
import { pgConnectTimeoutMs } from '../config/connection-urls.js';
import pg from 'pg';
import { ConnectionError } from '../core/errors.js';
import { MetricsRecorder, sqlOperation } from '../core/metrics.js';
import { passwordsOf, redactText, redactUri } from '../core/redact.js';

export interface PgTarget {
  pool: pg.Pool;
  serverVersion: string;
  /** The connection string, redacted: safe to print. */
  display: string;
  /** Text scrubber for driver errors: removes this target's password in every form. */
  scrub(text: string): string;
  /** Requests, durations, errors and rows of every statement sent through the pool (COPY included). */
  metrics: MetricsRecorder;
  close(): Promise<void>;
}

export interface ConnectPgOptions {
  url: string;
  /** Connections in the pool: one per concurrent batch, plus the lock holder. */
  max?: number;
  timeoutMs?: number;
  /** Shown in pg_stat_activity: lets a blocked operator see who holds a lock. */
  applicationName?: string;
  /** Where statement metrics go; default: a new recorder, exposed as `PgTarget.metrics`. */
  metrics?: MetricsRecorder;
}

export async function connectPostgres(opts: ConnectPgOptions): Promise<PgTarget> {
  const secrets = passwordsOf([opts.url]);
  const display = redactUri(opts.url);
  const scrub = (text: string) => redactText(text, secrets);
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: opts.max ?? 8,
    // connect_timeout in DATABASE_URL wins over the tool's default.
    connectionTimeoutMillis: pgConnectTimeoutMs(opts.url, opts.timeoutMs ?? 8000),
    application_name: (opts.applicationName ?? 'hybrid-migrate').slice(0, 63),
    // Idle connections of a long run are kept; a dead one is replaced by the pool.
    idleTimeoutMillis: 60_000,
  });
  // An idle client that dies (server restart, pg_terminate_backend) must not crash the process.
  pool.on('error', () => undefined);
  const metrics = opts.metrics ?? new MetricsRecorder();
  // pool.query() runs on a pooled client too: instrumenting each client as it connects covers both paths.
  pool.on('connect', (client) => {
    instrumentClient(client, metrics);
    // A connection killed while checked out (pg_terminate_backend, a server restart) reports
    // through the query that was using it; without a listener the event would crash the process.
    client.on('error', () => undefined);
  });
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
  return { pool, serverVersion, display, scrub, metrics, close: () => pool.end() };
}

const INSTRUMENTED = Symbol('hybrid-migrate.metrics');

type QueryArgs = unknown[];

/**
 * Wraps a client's `query` so each statement's duration, outcome and row count reach the
 * recorder, in every calling form pg supports: promise, callback, and submittables (the COPY
 * streams of pg-copy-streams, cursors), which are timed until they end or fail.
 */
export function instrumentClient(client: pg.ClientBase, metrics: MetricsRecorder): void {
  const target = client as unknown as { [INSTRUMENTED]?: true; query: (...args: QueryArgs) => unknown };
  if (target[INSTRUMENTED]) return;
  target[INSTRUMENTED] = true;
  const original = target.query.bind(client) as (...args: QueryArgs) => unknown;
  target.query = (...args: QueryArgs): unknown => {
    const started = performance.now();
    const first = args[0] as { text?: unknown; submit?: unknown; on?: unknown } | string | undefined;
    const text = typeof first === 'string' ? first : typeof first?.text === 'string' ? first.text : '';
    const operation = typeof first === 'object' && first !== null && typeof first.submit === 'function' && !text ? submittableOperation(first) : sqlOperation(text);
    let done = false;
    const finish = (ok: boolean, result?: unknown) => {
      if (done) return;
      done = true;
      const rows = (result as { rowCount?: unknown } | undefined)?.rowCount;
      metrics.record({ operation, durationMs: performance.now() - started, ok, items: typeof rows === 'number' ? rows : undefined });
    };
    if (typeof first === 'object' && first !== null && typeof first.submit === 'function') {
      const stream = first as { once?: (event: string, cb: (arg?: unknown) => void) => void };
      if (typeof stream.once === 'function') {
        stream.once('error', () => finish(false));
        stream.once('finish', () => finish(true, first));
        stream.once('end', () => finish(true, first));
      }
      return original(...args);
    }
    const cbIndex = args.findIndex((a) => typeof a === 'function');
    if (cbIndex >= 0) {
      const cb = args[cbIndex] as (err: unknown, res: unknown) => void;
      args[cbIndex] = (err: unknown, res: unknown) => {
        finish(!err, res);
        cb(err, res);
      };
      return original(...args);
    }
    const result = original(...args);
    if (result && typeof (result as Promise<unknown>).then === 'function') {
      (result as Promise<unknown>).then(
        (res) => finish(true, res),
        () => finish(false),
      );
    }
    return result;
  };
}

function submittableOperation(s: object): string {
  const name = s.constructor?.name ?? '';
  return /copy/i.test(name) ? 'COPY' : name || 'SUBMITTABLE';
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
