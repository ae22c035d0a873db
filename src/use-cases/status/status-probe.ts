/**
 * Both connections, opened independently: status reports what it can reach and says which
 * database is down instead of failing on the first one (the customer's extended health
 * check, plus server version and round-trip latency).
 */
import { ConnectionError } from '../../core/errors.js';
import { redactUri } from '../../core/redact.js';
import { connectMongo, type MongoSource } from '../../source/mongo-source.js';
import { connectPostgres, type PgTarget } from '../../target/pg-target.js';

/** One database as status sees it. `state` uses the customer's health-check words. */
export interface DatabaseProbe {
  state: 'connected' | 'disconnected' | 'error';
  /** Where it points, password removed. */
  target: string;
  serverVersion: string | null;
  /** Median of three round trips (`ping` / `SELECT 1`), in ms. */
  latencyMs: number | null;
  /** Why it could not be reached (no password in it). */
  error: string | null;
}

export interface ProbeOptions {
  mongoUri: string;
  databaseUrl: string;
  mongoDb?: string;
  timeoutMs?: number;
}

export interface ProbeResult {
  mongodb: DatabaseProbe;
  postgresql: DatabaseProbe;
  /** Open connections, for the rest of status; the caller closes them. */
  mongo: MongoSource | undefined;
  pg: PgTarget | undefined;
}

export async function probeDatabases(opts: ProbeOptions): Promise<ProbeResult> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const [mongo, pg] = await Promise.allSettled([
    connectMongo({ uri: opts.mongoUri, dbName: opts.mongoDb, timeoutMs, appName: 'hybrid-migrate status' }),
    connectPostgres({ url: opts.databaseUrl, max: 4, timeoutMs, applicationName: `hybrid-migrate status pid=${process.pid}` }),
  ]);
  const mongoTarget = redactUri(opts.mongoUri);
  const pgTarget = redactUri(opts.databaseUrl);
  const mongodb: DatabaseProbe =
    mongo.status === 'fulfilled'
      ? { state: 'connected', target: mongoTarget, serverVersion: mongo.value.serverVersion, latencyMs: await medianMs(() => mongo.value.db.command({ ping: 1 })), error: null }
      : { state: 'disconnected', target: mongoTarget, serverVersion: null, latencyMs: null, error: messageOf(mongo.reason) };
  const postgresql: DatabaseProbe =
    pg.status === 'fulfilled'
      ? { state: 'connected', target: pg.value.display, serverVersion: pg.value.serverVersion, latencyMs: await medianMs(() => pg.value.pool.query('SELECT 1')), error: null }
      : { state: 'error', target: pgTarget, serverVersion: null, latencyMs: null, error: messageOf(pg.reason) };
  return {
    mongodb,
    postgresql,
    mongo: mongo.status === 'fulfilled' ? mongo.value : undefined,
    pg: pg.status === 'fulfilled' ? pg.value : undefined,
  };
}

/** Median round trip of three calls; null if one fails (the connection is then reported as it is). */
export async function medianMs(call: () => Promise<unknown>): Promise<number | null> {
  const times: number[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      await call();
      times.push(performance.now() - t);
    }
  } catch {
    return null;
  }
  times.sort((a, b) => a - b);
  return Math.round((times[1] ?? 0) * 100) / 100;
}

function messageOf(e: unknown): string {
  // connectMongo/connectPostgres already redact their messages; anything else is summarised.
  if (e instanceof ConnectionError) return e.message;
  return e instanceof Error ? e.name : 'unreachable';
}
