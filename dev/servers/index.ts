/**
 * Local servers for the tests and the demo: the operator's MONGO_URI / DATABASE_URL when set,
 * otherwise FerretDB (for MongoDB) and PostgreSQL (the machine's, or a private cluster) started
 * here and stopped by `stop()`.
 */
import { MongoClient } from 'mongodb';
import { redactUri } from '../../src/core/redact.js';
import { DevServerError, oneLine } from './errors.js';
import { startFerretdb } from './ferretdb.js';
import { ensurePostgres } from './postgres.js';
import type { LogLine } from './process.js';

export { applyPrismaMigrations, readMigrations, repoRoot, type ApplyMigrationsResult, type MigrationFile } from './apply-migrations.js';
export { DevServerError, type DevServerName } from './errors.js';
export { ensureFerretdbBinary, ferretdbCachePath, FERRETDB_VERSION, startFerretdb, type RunningFerretdb } from './ferretdb.js';
export { ensurePostgres, LOCAL_POSTGRES_URL, type RunningPostgres } from './postgres.js';
export type { LogLine } from './process.js';

export interface StartLocalServersOptions {
  /** Defaults to process.env; MONGO_URI and DATABASE_URL select the operator's servers. */
  env?: NodeJS.ProcessEnv;
  /** Progress lines (stderr material). URLs in them are redacted. */
  log?: LogLine;
  /** Start a private PostgreSQL cluster even if one answers (see ensurePostgres). */
  forcePrivatePostgres?: boolean;
}

export interface LocalServers {
  /** MongoDB server URI, without a database name. */
  mongoUri: string;
  /** PostgreSQL URL of a database usable for administration (CREATE DATABASE ...). */
  databaseUrl: string;
  startedMongo: boolean;
  startedPostgres: boolean;
  /** Stops what this call started; idempotent. */
  stop(): Promise<void>;
}

/** Starts (or finds) both servers; if one fails, the other is stopped again before throwing. */
export async function startLocalServers(opts: StartLocalServersOptions = {}): Promise<LocalServers> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? (() => {});
  const [mongo, postgres] = await Promise.allSettled([
    ensureMongo(env, log),
    ensurePostgres({ env, log, forcePrivate: opts.forcePrivatePostgres }),
  ]);
  if (mongo.status === 'rejected' || postgres.status === 'rejected') {
    if (mongo.status === 'fulfilled') await mongo.value.stop();
    if (postgres.status === 'fulfilled') await postgres.value.stop();
    throw mongo.status === 'rejected' ? mongo.reason : (postgres as PromiseRejectedResult).reason;
  }
  let stopping: Promise<void> | undefined;
  return {
    mongoUri: mongo.value.uri,
    databaseUrl: postgres.value.url,
    startedMongo: mongo.value.started,
    startedPostgres: postgres.value.started,
    stop: () => (stopping ??= Promise.all([mongo.value.stop(), postgres.value.stop()]).then(() => undefined)),
  };
}

async function ensureMongo(env: NodeJS.ProcessEnv, log: LogLine): Promise<{ uri: string; started: boolean; stop(): Promise<void> }> {
  if (env.MONGO_URI) {
    // The operator's own serverSelectionTimeoutMS (in the URI) wins over our 10 s default.
    const timeout = /[?&]serverSelectionTimeoutMS=/i.test(env.MONGO_URI) ? {} : { serverSelectionTimeoutMS: 10_000 };
    const client = new MongoClient(env.MONGO_URI, timeout);
    try {
      await client.connect();
      await client.db('admin').command({ ping: 1 });
    } catch (err) {
      throw new DevServerError('MongoDB', `cannot reach MONGO_URI=${redactUri(env.MONGO_URI)}: ${oneLine(err)}`, {
        hint: 'Fix MONGO_URI, or unset it to start FerretDB locally.',
      });
    } finally {
      await client.close().catch(() => {});
    }
    log(`MongoDB: using MONGO_URI=${redactUri(env.MONGO_URI)}`);
    return { uri: env.MONGO_URI, started: false, stop: async () => {} };
  }
  const ferret = await startFerretdb({ env, log });
  return { uri: ferret.uri, started: true, stop: ferret.stop };
}
