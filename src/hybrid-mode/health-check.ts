/**
 * The extended health check of the hybrid application, as a function:
 * `{ status, databases: { mongodb: 'connected'|'disconnected', postgresql: 'connected'|'error' }, timestamp }`
 * plus each database's round-trip time. Each probe has a deadline, so a database that hangs
 * makes the check answer "disconnected" in time instead of hanging the route.
 */
import type { PgQueryable, PrismaRawQueryable } from './registry.js';

/** Anything that can run a MongoDB command: a driver `Db`, a `MongoClient`, a mongoose Connection or the mongoose module. */
export type MongoPingable =
  | { command(cmd: Record<string, unknown>): Promise<unknown> }
  | { db(name?: string): { command(cmd: Record<string, unknown>): Promise<unknown> } }
  | { db?: { command(cmd: Record<string, unknown>): Promise<unknown> } | undefined }
  | { connection: { db?: { command(cmd: Record<string, unknown>): Promise<unknown> } | undefined } };

export interface HealthCheckOptions {
  mongo: MongoPingable;
  /** A `pg` Pool/Client or a Prisma client. */
  pg: PgQueryable | PrismaRawQueryable;
  /** Per-database deadline in ms (default 2000). */
  timeoutMs?: number;
}

/** The customer's health-check shape, extended with latencies. */
export interface HealthCheckResult {
  /** `ok` when both answer, `degraded` when one does, `down` when none does. */
  status: 'ok' | 'degraded' | 'down';
  databases: { mongodb: 'connected' | 'disconnected'; postgresql: 'connected' | 'error' };
  /** Round trip of the probe, null when it failed. */
  latencyMs: { mongodb: number | null; postgresql: number | null };
  timestamp: string;
}

export async function healthCheck(opts: HealthCheckOptions): Promise<HealthCheckResult> {
  const timeoutMs = opts.timeoutMs ?? 2000;
  const [mongo, pg] = await Promise.all([
    timed(() => mongoCommand(opts.mongo, { ping: 1 }), timeoutMs),
    timed(() => ('$queryRawUnsafe' in opts.pg ? opts.pg.$queryRawUnsafe('SELECT 1') : opts.pg.query('SELECT 1')), timeoutMs),
  ]);
  const up = Number(mongo !== null) + Number(pg !== null);
  return {
    status: up === 2 ? 'ok' : up === 1 ? 'degraded' : 'down',
    databases: { mongodb: mongo !== null ? 'connected' : 'disconnected', postgresql: pg !== null ? 'connected' : 'error' },
    latencyMs: { mongodb: mongo, postgresql: pg },
    timestamp: new Date().toISOString(),
  };
}

function mongoCommand(m: MongoPingable, cmd: Record<string, unknown>): Promise<unknown> {
  const any = m as Record<string, unknown>;
  if (typeof any.command === 'function') return (m as { command(c: object): Promise<unknown> }).command(cmd);
  if (typeof any.db === 'function') return (m as { db(): { command(c: object): Promise<unknown> } }).db().command(cmd);
  const db = (any.db ?? (any.connection as { db?: unknown } | undefined)?.db) as { command?: (c: object) => Promise<unknown> } | undefined;
  if (db && typeof db.command === 'function') return db.command(cmd);
  return Promise.reject(new Error('MongoDB connection is not open'));
}

/** Milliseconds the call took, or null when it failed or missed the deadline. */
async function timed(call: () => Promise<unknown>, timeoutMs: number): Promise<number | null> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timeout')), timeoutMs);
    });
    await Promise.race([Promise.resolve().then(call), deadline]);
    return Math.round((performance.now() - started) * 100) / 100;
  } catch {
    // Not hidden: a failed or late probe is this function's answer, reported as 'disconnected' / 'error'.
    return null;
  } finally {
    clearTimeout(timer);
  }
}
