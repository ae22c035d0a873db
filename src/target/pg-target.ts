/**
 * The PostgreSQL side: a pool for batch transactions, plus connection checks that fail
 * fast with a message that names the database and never the password.
 */
import { pgConnectTimeoutMs } from '../config/connection-urls.js';
import pg from 'pg';
import { ConnectionError, TimeoutError, pgTimeoutKind } from '../core/errors.js';
import { MetricsRecorder, sqlOperation } from '../core/metrics.js';
import { passwordsOf, redactText, redactUri } from '../core/redact.js';

export interface PgTarget {
  pool: pg.Pool;
  serverVersion: string;
  /** The connection string, redacted: safe to print. */
  display: string;
  /** Text scrubber for driver errors: removes this target's password in every form. */
  scrub(text: string): string;
  /** The lock_timeout every session of the pool runs with, in milliseconds (0: no limit). */
  lockTimeoutMs: number;
  /** application_name of the pool's sessions (how pg_stat_activity shows them). */
  applicationName: string;
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
  /**
   * lock_timeout of every session, in milliseconds (default 30 s; 0: wait without limit): a
   * table or row locked by an application transaction ends the batch instead of a wait forever.
   */
  lockTimeoutMs?: number;
}

/** How long a statement of the tool waits for a lock another session holds, unless --lock-timeout / lockTimeout say otherwise. */
export const DEFAULT_LOCK_TIMEOUT_MS = 30_000;

/**
 * What to check when the first connection fails. A certificate refused under `sslmode=require`:
 * node-postgres verifies the certificate there, where libpq (psql, most drivers) only encrypts.
 */
export function connectHint(cause: unknown): string {
  const code = String((cause as { code?: unknown } | null)?.code ?? '');
  const message = cause instanceof Error ? cause.message : '';
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|certificate/i.test(`${code} ${message}`)) {
    return 'The server\'s TLS certificate was not accepted: with sslmode=require (or verify-ca / verify-full) node-postgres verifies it, unlike psql. Give the CA (sslrootcert=/path/ca.pem in DATABASE_URL), or add uselibpqcompat=true to DATABASE_URL for libpq\'s meaning of sslmode=require (encrypted, certificate not verified).';
  }
  return 'Check DATABASE_URL: host, port, database name, credentials, and that the server is running.';
}

export async function connectPostgres(opts: ConnectPgOptions): Promise<PgTarget> {
  const secrets = passwordsOf([opts.url]);
  const display = redactUri(opts.url);
  const scrub = (text: string) => redactText(text, secrets);
  const applicationName = (opts.applicationName ?? 'hybrid-migrate').slice(0, 63);
  const lockTimeoutMs = Math.max(0, Math.round(opts.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS));
  const pool = new pg.Pool({
    // Every session waits at most lockTimeoutMs for a lock (a startup option: set before any statement).
    ...withStartupOption(opts.url, `-c lock_timeout=${lockTimeoutMs}`),
    max: opts.max ?? 8,
    // connect_timeout in DATABASE_URL wins over the tool's default.
    connectionTimeoutMillis: pgConnectTimeoutMs(opts.url, opts.timeoutMs ?? 8000),
    application_name: applicationName,
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
    throw new ConnectionError('PostgreSQL', `PostgreSQL (${display}): ${scrub(describePgError(cause))}`, { hint: connectHint(cause) });
  }
  return { pool, serverVersion, display, scrub, metrics, lockTimeoutMs, applicationName, close: () => pool.end() };
}

/**
 * The pool's connection string and startup `options` with `option` added: node-postgres lets
 * an `options` parameter of the URL replace the one given beside it, so one the URL already
 * has is extended in the URL instead.
 */
function withStartupOption(url: string, option: string): { connectionString: string; options?: string } {
  const q = url.indexOf('?');
  const existing = q < 0 ? undefined : /(?:^|&)options=([^&#]*)/.exec(url.slice(q + 1));
  if (!existing || q < 0) return { connectionString: url, options: option };
  let current = existing[1] ?? '';
  try {
    current = decodeURIComponent(current.replace(/\+/g, ' '));
  } catch {
    // kept as written
  }
  const start = q + 1 + (existing.index ?? 0) + (existing[0].startsWith('&') ? 1 : 0);
  const end = q + 1 + (existing.index ?? 0) + existing[0].length;
  return { connectionString: `${url.slice(0, start)}options=${encodeURIComponent(`${current} ${option}`.trim())}${url.slice(end)}` };
}

/** What a timeout diagnosis may know about the run: the collections and their tables. */
export interface TimeoutContext {
  /** PostgreSQL table name → collection it receives (the mapped tables and their child tables). */
  tables?: ReadonlyMap<string, string>;
  /** The flag that sets the lock timeout on this command (`--lock-timeout`), for the fix. */
  lockTimeoutFlag?: string;
  /** Why the wait ended when it was not lock_timeout (`--max-duration (20 s) passed while waiting`). */
  gaveUp?: string;
  /** What the command was doing, for the message: migrate writes (the default), verify reads, rollback deletes. */
  doing?: TimeoutDoing;
}

/** What a command does to a collection's tables, as a timeout's message says it. */
export type TimeoutDoing = 'writing' | 'reading' | 'rolling back';

const STOPPED: Record<TimeoutDoing, string> = {
  writing: 'the batch was not written, what was committed before is kept',
  reading: 'verify stopped there (it changes nothing in the application\'s tables)',
  'rolling back': 'that batch was not deleted, what was committed before is kept',
};

interface Blocker {
  pid: number;
  application_name: string;
  state: string | null;
  query: string | null;
  since: Date | null;
  relations: string[] | null;
}

/**
 * A statement ended by lock_timeout (SQLSTATE 55P03) or statement_timeout (57014) as a
 * TimeoutError (exit 7) naming the database, the collection if known, the setting and the fix;
 * for a lock, also the sessions that held locks on the tool's tables at that moment (pid,
 * application_name, query, since when). Any other error is returned as it is.
 */
export async function diagnoseTimeout(target: PgTarget, err: unknown, ctx: TimeoutContext = {}): Promise<unknown> {
  const kind = pgTimeoutKind(err);
  if (!kind) return err;
  const doing = ctx.doing ?? 'writing';
  const e = err as Error & { where?: string; table?: string };
  const tables = ctx.tables ?? new Map<string, string>();
  const database = target.display;
  const relation = e.table ?? /relation "([^"]+)"/.exec(e.where ?? '')?.[1] ?? /COPY "?([A-Za-z0-9_]+)"?/.exec(e.where ?? '')?.[1];
  // The collection of the table the statement named, else the run's only collection.
  const only = new Set(tables.values()).size === 1 ? [...tables.values()][0] : undefined;
  const collectionOf = (rel: string | undefined) => (rel !== undefined ? tables.get(rel) : undefined) ?? only;
  if (kind === 'statement_timeout') {
    const setting = await target.pool
      .query<{ setting: string; unit: string | null; source: string }>(`SELECT setting, unit, source FROM pg_settings WHERE name = 'statement_timeout'`)
      .then((r) => r.rows[0])
      .catch(() => undefined);
    const value = setting ? `${setting.setting}${setting.unit ?? ''}` : 'unknown';
    const collection = collectionOf(relation);
    return new TimeoutError(
      `PostgreSQL (${database}) canceled a statement of the tool after statement_timeout (${value}, set by the ${setting?.source ?? 'server'} configuration)${collection ? ` while ${doing} collection "${collection}"` : relation ? ` on table "${relation}"` : ''}: ${e.message}. What was committed before is kept.`,
      {
        entity: collection ?? 'PostgreSQL',
        hint: "Raise statement_timeout for the role the tool connects as (ALTER ROLE <role> IN DATABASE <db> SET statement_timeout = '10min', or 0 for no limit), or use a smaller --batch-size so each batch is one shorter statement; then rerun the same command: it resumes after the last committed batch.",
        cause: err,
      },
    );
  }
  const blockers = await lockHolders(target, [...tables.keys()]).catch(() => [] as Blocker[]);
  const held = blockers.flatMap((b) => b.relations ?? []);
  const collection = collectionOf(relation) ?? collectionOf(held.find((r) => tables.has(r)));
  const described = blockers.map(
    (b) =>
      `pid ${b.pid} (application_name "${b.application_name || '?'}", ${b.state ?? 'unknown state'}${b.since ? ` since ${b.since.toISOString()}` : ''}${b.relations && b.relations.length > 0 ? `, holding locks on ${b.relations.join(', ')}` : ''}): ${oneLineQuery(b.query)}`,
  );
  const seconds = target.lockTimeoutMs > 0 ? `${target.lockTimeoutMs / 1000} s` : "the server's setting";
  const why = ctx.gaveUp ?? `gave up waiting ${seconds} (lock_timeout)`;
  return new TimeoutError(
    `PostgreSQL (${database}): ${why} for a lock${collection ? ` while ${doing} collection "${collection}"` : relation ? ` on table "${relation}"` : ''}; ${STOPPED[doing]}.` +
      (described.length > 0 ? `\nBlocked by:\n${described.map((d) => `  - ${target.scrub(d)}`).join('\n')}` : '\nNo other session held a lock on the tool\'s tables any more when it gave up.'),
    {
      entity: collection ?? 'PostgreSQL',
      hint: `End or commit the blocking transaction (SELECT pg_cancel_backend(<pid>) cancels its statement, pg_terminate_backend(<pid>) ends its session), or wait longer with ${ctx.lockTimeoutFlag ?? '--lock-timeout'} <duration> (or lockTimeout in the configuration); then rerun the same command: it resumes after the last committed batch.`,
      cause: err,
    },
  );
}

/** Sessions of other processes that are in a transaction and hold locks on the given tables (or any transaction id), longest first. */
async function lockHolders(target: PgTarget, tables: readonly string[]): Promise<Blocker[]> {
  const r = await target.pool.query<Blocker>(
    `SELECT a.pid, a.application_name, a.state, a.query, coalesce(a.xact_start, a.query_start) AS since,
            array_remove(array_agg(DISTINCT c.relname::text), NULL) AS relations
       FROM pg_stat_activity a
       JOIN pg_locks l ON l.pid = a.pid AND l.granted
       LEFT JOIN pg_class c ON c.oid = l.relation AND l.locktype = 'relation'
      WHERE a.datname = current_database() AND a.pid <> pg_backend_pid() AND a.application_name <> $1
        AND a.xact_start IS NOT NULL
        AND ((l.locktype = 'relation' AND (c.relname = ANY($2::text[]) OR c.relnamespace = to_regnamespace('hybrid_migrate')::oid)) OR l.locktype = 'transactionid')
      GROUP BY a.pid, a.application_name, a.state, a.query, a.xact_start, a.query_start
      ORDER BY count(c.relname) FILTER (WHERE c.relname = ANY($2::text[])) DESC, since ASC NULLS LAST
      LIMIT 5`,
    [target.applicationName, tables],
  );
  return r.rows;
}

function oneLineQuery(q: string | null): string {
  if (!q) return '(no query)';
  const line = q.replace(/\s+/g, ' ').trim();
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
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
