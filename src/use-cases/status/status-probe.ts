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
  /** lock_timeout of status's sessions, in milliseconds (default: the tool's, 30 s). */
  lockTimeoutMs?: number;
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
    connectPostgres({ url: opts.databaseUrl, max: 4, timeoutMs, lockTimeoutMs: opts.lockTimeoutMs, applicationName: `hybrid-migrate status pid=${process.pid}` }),
  ]);
  const mongoTarget = redactUri(opts.mongoUri);
  const pgTarget = redactUri(opts.databaseUrl);
  const mongodb: DatabaseProbe =
    mongo.status === 'fulfilled'
      ? await roundTrips('disconnected', mongoTarget, mongo.value.serverVersion, () => mongo.value.db.command({ ping: 1 }))
      : { state: 'disconnected', target: mongoTarget, serverVersion: null, latencyMs: null, error: messageOf(mongo.reason) };
  const postgresql: DatabaseProbe =
    pg.status === 'fulfilled'
      ? await roundTrips('error', pg.value.display, pg.value.serverVersion, () => pg.value.pool.query('SELECT 1'))
      : { state: 'error', target: pgTarget, serverVersion: null, latencyMs: null, error: messageOf(pg.reason) };
  return {
    mongodb,
    postgresql,
    mongo: await keepIfConnected(mongo, mongodb),
    pg: await keepIfConnected(pg, postgresql),
  };
}

/** The open connection for the rest of status; none when its round trips failed (it is closed here, and status reads it as unreachable). */
async function keepIfConnected<T extends { close(): Promise<void> }>(opened: PromiseSettledResult<T>, probe: DatabaseProbe): Promise<T | undefined> {
  if (opened.status !== 'fulfilled') return undefined;
  if (probe.state === 'connected') return opened.value;
  await Promise.allSettled([opened.value.close()]); // already reported as down: a failing close adds nothing
  return undefined;
}

/**
 * A database that accepted the connection: connected, with its latency. When a round trip then
 * fails (the connection lost since), it is reported in the `down` state with why, like a
 * database that could not be reached, never as connected.
 */
async function roundTrips(down: 'disconnected' | 'error', target: string, serverVersion: string | null, call: () => Promise<unknown>): Promise<DatabaseProbe> {
  try {
    return { state: 'connected', target, serverVersion, latencyMs: await medianMs(call), error: null };
  } catch (e) {
    return { state: down, target, serverVersion, latencyMs: null, error: `connected, then a round trip failed: ${messageOf(e)}` };
  }
}

/** Median round trip of three calls; throws the first call's failure. */
export async function medianMs(call: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    await call();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return Math.round((times[1] ?? 0) * 100) / 100;
}

function messageOf(e: unknown): string {
  // connectMongo/connectPostgres already redact their messages; anything else is summarised.
  if (e instanceof ConnectionError) return e.message;
  return e instanceof Error ? e.name : 'unreachable';
}
